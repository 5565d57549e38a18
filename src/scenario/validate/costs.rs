//! `[costs]`: benefit rates, the wage subsidy, refusion, services; every
//! amount within its plausible range.

use super::*;

pub(super) fn costs(v: &mut Reporter, c: &raw::RawCosts, variants: &[Variant]) -> Costs {
    let p = "costs";
    let discount_rate = c.discount_rate;
    if !(0.0..=0.5).contains(&discount_rate) {
        v.error(
            "costs.discount_rate",
            format!("discount rate {discount_rate} is outside 0..=0.5"),
        );
    }
    let mut monthly = [0.0; N_STATES];
    let mut monthly_ages: Vec<(State, Vec<(u16, f64)>)> = Vec::new();
    let variant = |k: &str| variants.iter().find(|x| x.id == k);
    for (k, rate) in &c.monthly {
        let mp = format!("{p}.monthly.{k}");
        // A rate by age band: check the bands and their amounts; the state
        // is paid its youngest band's rate where one number is needed.
        let x = match rate {
            raw::RawRate::Flat(x) => *x,
            raw::RawRate::Ages(bands) => {
                let table = rate_bands(v, &mp, bands);
                let first = table.first().map_or(0.0, |b| b.1);
                let st = variant(k).map(|var| var.slot).or_else(|| State::from_id(k));
                if let Some(st) = st {
                    monthly_ages.push((st, table));
                }
                first
            }
        };
        if let Some(var) = variant(k) {
            match var.of {
                State::Fleksjob => v.key_error(
                    &mp,
                    format!("`{k}` is a variant of `fleksjob`, paid by the flex-job subsidy formula of `[costs.fleksloentilskud]`; remove this rate"),
                    None,
                ),
                b if b.is_benefit() => {
                    monthly[var.slot as usize] = amount(v, &mp, x, "rate", Amount::Monthly)
                }
                b => v.key_error(
                    &mp,
                    format!("`{k}` is a variant of `{}`, which pays no benefit", b.id()),
                    None,
                ),
            }
            continue;
        }
        match State::from_id(k) {
            Some(State::Fleksjob) => {
                let msg = "the flex-job subsidy is computed by `[costs.fleksloentilskud]`; remove this rate";
                v.key_error(&mp, msg, None)
            }
            Some(s) if s.is_benefit() => {
                monthly[s as usize] = amount(v, &mp, x, "rate", Amount::Monthly)
            }
            Some(_) => v.key_error(&mp, format!("`{k}` pays no benefit"), None),
            None => {
                let ids = State::NAMED
                    .iter()
                    .map(|s| s.id())
                    .chain(variants.iter().map(|x| x.id.as_str()));
                let hint = did_you_mean(k, ids);
                v.key_error(&mp, format!("unknown state `{k}`"), hint);
            }
        }
    }
    // A variant without a rate of its own is paid its base state's rate.
    for var in variants {
        if !c.monthly.contains_key(&var.id) {
            monthly[var.slot as usize] = monthly[var.of as usize];
        }
    }
    let mut variant_state_share = [None; N_VARIANTS];
    for (k, f) in &c.financing {
        let fp = format!("{p}.financing.{k}");
        match variant(k) {
            Some(var) if var.of.is_benefit() => {
                variant_state_share[var.slot as usize - N_NAMED] =
                    Some(probability(v, &format!("{fp}.state_share"), f.state_share));
            }
            Some(var) => v.key_error(
                &fp,
                format!(
                    "`{k}` is a variant of `{}`, which pays no benefit",
                    var.of.id()
                ),
                None,
            ),
            None => {
                let hint = did_you_mean(k, variants.iter().map(|x| x.id.as_str())).or_else(|| {
                    Some(String::from(
                        "financing is given for variants (`[variants]`); named states follow `[costs.refusion]`",
                    ))
                });
                v.key_error(&fp, format!("`{k}` is not a variant"), hint);
            }
        }
    }
    let f = &c.fleksloentilskud;
    let fp = "costs.fleksloentilskud";
    let r = &c.refusion;
    let mut state_share = [0.0; 5];
    if r.state_share.len() != 5 {
        v.error(
            "costs.refusion.state_share",
            format!(
                "{} shares given; give 5 (quarters 1, 2, 3, 4, 5 and later)",
                r.state_share.len()
            ),
        );
    }
    for (i, &x) in r.state_share.iter().take(5).enumerate() {
        state_share[i] = probability(v, &format!("costs.refusion.state_share[{i}]"), x);
    }
    let costs = Costs {
        discount_rate,
        monthly,
        monthly_ages,
        flex_max: amount(v, &format!("{fp}.max"), f.max, "amount", Amount::Monthly),
        flex_threshold: amount(
            v,
            &format!("{fp}.threshold"),
            f.threshold,
            "amount",
            Amount::Monthly,
        ),
        flex_rate_below: probability(v, &format!("{fp}.rate_below"), f.rate_below),
        flex_rate_above: probability(v, &format!("{fp}.rate_above"), f.rate_above),
        hourly_wage: amount(
            v,
            &format!("{fp}.hourly_wage"),
            f.hourly_wage,
            "wage",
            Amount::Hourly,
        ),
        weeks_per_month: non_negative(
            v,
            &format!("{fp}.weeks_per_month"),
            f.weeks_per_month,
            "weeks",
        ),
        insurance_payment: amount(
            v,
            "costs.insurance.monthly_payment",
            c.insurance.monthly_payment,
            "amount",
            Amount::Monthly,
        ),
        insurance_offset: probability(v, "costs.insurance.offset", c.insurance.offset),
        state_share,
        reset_after_quarters: int_in(
            v,
            "costs.refusion.reset_after_quarters",
            r.reset_after_quarters,
            1,
            40,
        ) as u8,
        fp_pre2014_state_share: probability(
            v,
            "costs.refusion.foertidspension_pre2014_state_share",
            r.foertidspension_pre2014_state_share,
        ),
        fp_state_share: r
            .foertidspension_state_share
            .map(|x| probability(v, "costs.refusion.foertidspension_state_share", x)),
        variant_state_share,
        services: services(v, &c.services),
    };
    let groups = costs.age_cuts().len() + 1;
    if groups > MAX_COST_AGES {
        v.error(
            "costs.monthly",
            format!("rates by age make {groups} age groups of money; at most {MAX_COST_AGES} are supported (use fewer distinct band limits, 40 years counts as one)"),
        );
    }
    costs
}

pub(super) fn services(v: &mut Reporter, s: &raw::RawServices) -> Services {
    let p = "costs.services";
    let amount = |v: &mut Reporter, key: &str, x: f64, kind: Amount| {
        amount(v, &format!("{p}.{key}"), x, "amount", kind)
    };
    let caseload = s.caseworker_caseload;
    if !(caseload >= 1.0 && caseload.is_finite()) {
        v.error(
            &format!("{p}.caseworker_caseload"),
            format!("caseload {caseload} must be at least 1 case"),
        );
    }
    Services {
        intervention_active: amount(
            v,
            "intervention_active",
            s.intervention_active,
            Amount::Quarterly,
        ),
        intervention_company: amount(
            v,
            "intervention_company",
            s.intervention_company,
            Amount::Quarterly,
        ),
        rehab_team_per_case: amount(
            v,
            "rehab_team_per_case",
            s.rehab_team_per_case,
            Amount::PerCase,
        ),
        caseworker_salary: amount(v, "caseworker_salary", s.caseworker_salary, Amount::Yearly),
        caseworker_caseload: caseload.max(1.0),
        revalidering_education: amount(
            v,
            "revalidering_education",
            s.revalidering_education,
            Amount::Yearly,
        ),
        revalidering_education_state_share: probability(
            v,
            &format!("{p}.revalidering_education_state_share"),
            s.revalidering_education_state_share,
        ),
    }
}

/// Rates by age band in years: contiguous bands, the last open, each amount
/// within the monthly range.
fn rate_bands(
    v: &mut Reporter,
    path: &str,
    bands: &std::collections::BTreeMap<String, f64>,
) -> Vec<(u16, f64)> {
    let mut out: Vec<(AgeBand, f64, String)> = Vec::new();
    for (key, &x) in bands {
        let kp = format!("{path}.{key}");
        match age_band(key) {
            Some(b) => out.push((b, amount(v, &kp, x, "rate", Amount::Monthly), kp)),
            None => v.key_error(
                &kp,
                format!("{key:?} is not an age band; write \"18-29\" or \"30+\" (years)"),
                None,
            ),
        }
    }
    if out.is_empty() {
        v.error(path, "empty table of rates by age; give a number, or bands like { \"18-29\" = 6545, \"30+\" = 12550 }");
        return vec![(0, 0.0)];
    }
    out.sort_by_key(|b| b.0.lo);
    for w in out.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        match a.0.hi {
            Some(h) if b.0.lo == h + 1 => {}
            _ => v.key_error(
                &b.2,
                "age bands of a rate must follow each other with no gap or overlap",
                None,
            ),
        }
    }
    if let Some(last) = out.last()
        && last.0.hi.is_some()
    {
        v.key_error(
            &last.2,
            "the last age band of a rate must be open-ended (\"30+\")",
            None,
        );
    }
    out.into_iter()
        .enumerate()
        .map(|(i, (b, x, _))| (if i == 0 { 0 } else { b.lo }, x))
        .collect()
}
