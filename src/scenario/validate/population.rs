//! `[population]`: share tables, cohorts (stock and inflow), the size a
//! population may have, folkepension age by birth quarter.

use super::*;

/// A share table over integer ranges: ranges inside `lo..=hi`, no overlap,
/// shares in [0, 1] summing to 1.
pub(super) fn shares(
    v: &mut Reporter,
    path: &str,
    table: &BTreeMap<String, f64>,
    lo: u16,
    hi: u16,
    unit: &str,
) -> Vec<Share> {
    let mut out: Vec<Share> = Vec::new();
    let mut total = 0.0;
    for (key, &share) in table {
        let p = format!("{path}.{key}");
        let Some((a, b)) = parse_range(key) else {
            v.key_error(
                &p,
                format!("{key:?} is not a range of {unit}; write \"18-29\" or \"40\""),
                None,
            );
            continue;
        };
        if a < lo || b > hi {
            v.key_error(&p, format!("range {key} is outside {lo}-{hi} {unit}"), None);
            continue;
        }
        if let Some(o) = out.iter().find(|s| a <= s.hi && s.lo <= b) {
            v.key_error(
                &p,
                format!("range {key} overlaps range {}-{}", o.lo, o.hi),
                None,
            );
            continue;
        }
        let share = probability(v, &p, share);
        total += share;
        out.push(Share {
            lo: a,
            hi: b,
            share,
        });
    }
    if !table.is_empty() && (total - 1.0).abs() > SHARE_EPS {
        v.error(path, format!("shares sum to {total}, not 1"));
    }
    out.sort_by_key(|s| s.lo);
    out
}

pub(super) fn cohorts(
    v: &mut Reporter,
    path: &str,
    table: &BTreeMap<String, RawCohort>,
    is_stock: bool,
    entry_phase: Phase,
) -> Vec<Cohort> {
    let mut out = Vec::new();
    for (name, c) in table {
        let p = format!("{path}.{name}");
        let Some(st) = state(v, &p, name, false) else {
            continue;
        };
        let count = match (is_stock, c.count, c.per_quarter) {
            (true, Some(n), None) => non_negative(v, &format!("{p}.count"), n, "stock"),
            (false, None, Some(n)) => non_negative(v, &format!("{p}.per_quarter"), n, "inflow"),
            (true, _, _) => {
                v.error(&p, "an initial stock needs `count` (and no `per_quarter`)");
                0.0
            }
            (false, _, _) => {
                v.error(&p, "an inflow needs `per_quarter` (and no `count`)");
                0.0
            }
        };
        let key = if is_stock { "count" } else { "per_quarter" };
        let count = if count > crate::scenario::limits::MAX_COHORT {
            let max = crate::scenario::limits::thousands(crate::scenario::limits::MAX_COHORT);
            v.error(
                &format!("{p}.{key}"),
                format!("{count} persons is more than the {max} a cohort may have"),
            );
            0.0
        } else {
            count
        };
        let age_years = shares(v, &format!("{p}.age"), &c.age, 15, 80, "years of age");
        if age_years.is_empty() {
            v.error(&format!("{p}.age"), "the age distribution is empty");
        }
        let duration = match (&c.duration, is_stock) {
            (Some(d), true) => shares(v, &format!("{p}.duration"), d, 0, 400, "quarters"),
            (Some(_), false) => {
                v.key_error(
                    &format!("{p}.duration"),
                    "new entrants have no duration in state; remove `duration`",
                    None,
                );
                Vec::new()
            }
            (None, _) => Vec::new(),
        };
        let hours = match &c.hours {
            Some(h) => shares(v, &format!("{p}.hours"), h, 0, 37, "hours a week"),
            None => Vec::new(),
        };
        let mut flag_shares = [0.0; 5];
        for (i, (key, x)) in [
            ("psychiatric", c.psychiatric),
            ("insured", c.insured),
            ("evident", c.evident),
            ("retention", c.retention),
            ("pre2014", c.pre2014),
        ]
        .into_iter()
        .enumerate()
        {
            flag_shares[i] = probability(v, &format!("{p}.{key}"), x);
        }
        if c.pre2014 > 0.0 && (st != State::Foertidspension || !is_stock) {
            v.key_error(
                &format!("{p}.pre2014"),
                "`pre2014` applies only to the førtidspension stock",
                None,
            );
        }
        let mut phase = [0.0; N_PHASES];
        match &c.phase {
            Some(table) if st == State::Ressourceforloeb => {
                let mut total = 0.0;
                for (k, &x) in table {
                    let pp = format!("{p}.phase.{k}");
                    match Phase::from_id(k) {
                        Some(ph) => {
                            phase[ph as usize] = probability(v, &pp, x);
                            total += phase[ph as usize];
                        }
                        None => v.key_error(
                            &pp,
                            format!("unknown phase `{k}`"),
                            did_you_mean(k, Phase::ALL.iter().map(|p| p.id())),
                        ),
                    }
                }
                if (total - 1.0).abs() > SHARE_EPS {
                    v.error(
                        &format!("{p}.phase"),
                        format!("phase shares sum to {total}, not 1"),
                    );
                }
            }
            Some(_) => v.key_error(
                &format!("{p}.phase"),
                "`phase` applies only to ressourceforloeb",
                None,
            ),
            None => phase[entry_phase as usize] = 1.0,
        }
        out.push(Cohort {
            state: st,
            count,
            age_years,
            duration,
            hours,
            flag_shares,
            phase,
        });
    }
    out
}

/// The population at full scale must be representable: persons told apart
/// by 32-bit ids (`limits::ids_fit`).
pub(super) fn population_fits(v: &mut Reporter, stock: &[Cohort], inflow: &[Cohort], horizon: i64) {
    let Ok(horizon) = u16::try_from(horizon) else {
        return;
    };
    let sizes: Vec<f64> = stock.iter().chain(inflow).map(|c| c.count).collect();
    let total = |cs: &[Cohort]| cs.iter().map(|c| c.count.round()).sum::<f64>();
    let groups = stock.len() as u64 + inflow.len() as u64 * u64::from(horizon);
    if let Err(persons) =
        crate::scenario::limits::ids_fit(&sizes, total(stock), total(inflow), groups, horizon)
    {
        v.push_value(
            "population",
            format!(
                "the scenario creates {persons} persons at full scale in {groups} cohorts \
                 over {horizon} quarters, more than 32-bit person ids can tell apart"
            ),
            Some("lower the stock counts, the inflow per quarter or the horizon".into()),
        );
    }
}

pub(super) fn pension(v: &mut Reporter, steps: &[raw::RawPensionStep]) -> Vec<(Quarter, u16)> {
    let mut out: Vec<(Quarter, u16)> = Vec::new();
    if steps.is_empty() {
        v.error(
            "population.pension_age",
            "at least one folkepension age step is needed",
        );
    }
    for (i, s) in steps.iter().enumerate() {
        let p = format!("population.pension_age[{i}]");
        let Some(q) = quarter(v, &format!("{p}.born_from"), &s.born_from) else {
            continue;
        };
        let quarters = s.years * 4.0;
        if !(55.0..=75.0).contains(&s.years) || (quarters - quarters.round()).abs() > 1e-9 {
            v.error(
                &format!("{p}.years"),
                format!(
                    "{} is not a pension age in whole quarters between 55 and 75 years",
                    s.years
                ),
            );
            continue;
        }
        if let Some(last) = out.last() {
            if q <= last.0 {
                let msg = "steps must be in increasing order of `born_from`";
                v.error(&format!("{p}.born_from"), msg);
            }
            // Ages are drawn below the folkepension age of each birth
            // quarter (population::max_age_q), which assumes it never falls.
            if (quarters.round() as u16) < last.1 && q > last.0 {
                let msg = format!("folkepension age {} is below the previous step's", s.years);
                v.error(&format!("{p}.years"), msg);
            }
        }
        out.push((q, quarters.round() as u16));
    }
    out
}
