//! From [`RawScenario`] to [`Scenario`]: every semantic rule, every message.
//!
//! Validation collects all problems it finds (not just the first) and ties
//! each to the key path and line where it was written.

use std::collections::BTreeMap;

use super::diag::{Origins, Reporter, did_you_mean};
use super::limits::Amount;
use super::model::*;
use super::raw::{self, RawCohort, RawScenario, RawWhen};
use crate::scenario::calendar::Quarter;

/// Most gates a scenario may enable (the kernel keeps them in a `u64` mask).
pub const MAX_GATES: usize = 64;

/// Tolerance for "sums to 1" and "at most 1" checks.
const EPS: f64 = 1e-9;
/// Tolerance for share tables written by hand with rounded decimals.
const SHARE_EPS: f64 = 1e-6;

/// Converts an annual transition probability into a quarterly one, assuming
/// a constant hazard within the year: `p_q = 1 - (1 - p_y)^(1/4)`.
pub fn annual_to_quarterly(p_year: f64) -> f64 {
    1.0 - (1.0 - p_year).powf(0.25)
}

pub(super) fn validate(
    raw: &RawScenario,
    doc: &toml::Value,
    origins: &Origins,
    hash: String,
) -> Result<Scenario, Vec<super::diag::Diagnostic>> {
    let mut r = Reporter::new(origins);
    let v = &mut r;

    if raw.schema_version != 1 {
        v.error(
            "schema_version",
            format!(
                "schema version {} is not supported; this fleksim reads version 1",
                raw.schema_version
            ),
        );
    }
    if raw.name.is_empty()
        || !raw
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        || raw.name.starts_with('.')
    {
        v.error("name", format!("name {:?} must be non-empty ASCII letters, digits, `-`, `_` or `.` (it names the output folder)", raw.name));
    }
    let start = quarter(v, "start", &raw.start).unwrap_or(Quarter(476));
    let age_line_q = 4 * int_in(v, "age_line", raw.age_line, 18, 66) as u16;
    if !(1..=400).contains(&raw.horizon) {
        v.error(
            "horizon",
            format!(
                "horizon is {} quarters; it must be between 1 and 400",
                raw.horizon
            ),
        );
    }
    if !(1950..=2100).contains(&raw.price_year) {
        v.error(
            "price_year",
            format!("price year {} is outside 1950..=2100", raw.price_year),
        );
    }

    let (entry_phase, phase_matrix) = phases(v, raw.ressourceforloeb.as_ref());
    let stock = cohorts(
        v,
        "population.stock",
        &raw.population.stock,
        true,
        entry_phase,
    );
    let inflow = cohorts(
        v,
        "population.inflow",
        &raw.population.inflow,
        false,
        entry_phase,
    );
    population_fits(v, &stock, &inflow, raw.horizon);
    let pension_age = pension(v, &raw.population.pension_age);
    let transitions = transitions(v, &raw.transitions);
    let flex = flex(v, raw.fleksjob.as_ref());
    let gates = gates(v, &raw.gates, age_line_q);
    if gates.len() > MAX_GATES {
        v.error(
            "gates",
            format!(
                "{} gates are enabled; at most {MAX_GATES} are supported",
                gates.len()
            ),
        );
    }
    let assessments = assessments(v, &raw.assessments, age_line_q);
    if assessments.len() > MAX_ASSESSMENTS {
        let max = MAX_ASSESSMENTS;
        v.error(
            "assessments",
            format!(
                "{} assessments are enabled; at most {max} are supported",
                assessments.len()
            ),
        );
    }
    let costs = costs(v, &raw.costs);
    let uncertain = uncertainties(v, &raw.uncertainty, doc);
    check_row_sums(v, &transitions);

    if !r.diagnostics.is_empty() {
        return Err(r.diagnostics);
    }
    let sc = Scenario {
        name: raw.name.clone(),
        description: raw.description.clone(),
        schema_version: raw.schema_version,
        start,
        horizon: raw.horizon as u16,
        price_year: raw.price_year,
        age_line_q,
        stock,
        inflow,
        pension_age,
        transitions,
        entry_phase,
        phase_matrix,
        flex,
        gates,
        assessments,
        costs,
        uncertain,
        hash,
    };
    let groups = sc.age_groups();
    if groups.len() > MAX_AGE_GROUPS {
        r.error(
            "transitions",
            format!(
                "the rules distinguish {} age groups ({} age bands times {} distances to folkepension age); at most {MAX_AGE_GROUPS} are supported: use fewer age bands in rate tables and conditions",
                groups.len(),
                groups.age_cuts.len() + 1,
                groups.pension_cuts.len() + 1
            ),
        );
        return Err(r.diagnostics);
    }
    Ok(sc)
}

/// `[uncertainty.<id>]`: the path holds a number, the range contains it,
/// and the distribution can be fitted to the range.
fn uncertainties(
    v: &mut Reporter,
    raw: &BTreeMap<String, raw::RawUncertain>,
    doc: &toml::Value,
) -> Vec<Uncertain> {
    let mut out = Vec::new();
    for (id, u) in raw {
        let at = format!("uncertainty.{id}");
        let before = v.diagnostics.len();
        if !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
        {
            v.key_error(
                &at,
                format!("uncertainty id `{id}` must be ASCII letters, digits, `-` or `_` (it names a column)"),
                None,
            );
        }
        let dist = match u.distribution.as_deref() {
            None => Dist::Triangular,
            Some(name) => match Dist::ALL.iter().find(|d| d.id() == name) {
                Some(&d) => d,
                None => {
                    let hint = did_you_mean(name, Dist::ALL.iter().map(|d| d.id()));
                    v.push_value(
                        &format!("{at}.distribution"),
                        format!(
                            "unknown distribution `{name}`; one of: {}",
                            Dist::ALL.map(|d| d.id()).join(", ")
                        ),
                        hint,
                    );
                    Dist::Triangular
                }
            },
        };
        if u.why.trim().is_empty() {
            v.error(
                &format!("{at}.why"),
                "give the reason for the range in `why`",
            );
        }
        let central = match super::load::lookup_number(doc, &u.path) {
            Some(c) => c,
            None => {
                v.error(
                    &format!("{at}.path"),
                    format!(
                        "`{}` holds no number in this scenario; name a numeric parameter as written in the file (the same path as --set)",
                        u.path
                    ),
                );
                continue;
            }
        };
        let (min, max) = (
            u.min.unwrap_or(f64::NEG_INFINITY),
            u.max.unwrap_or(f64::INFINITY),
        );
        if !(u.low.is_finite() && u.high.is_finite() && u.low < u.high) {
            v.error(
                &format!("{at}.high"),
                format!(
                    "the range must have low < high, got {} .. {}",
                    u.low, u.high
                ),
            );
        } else if !(u.low..=u.high).contains(&central) {
            v.error(
                &format!("{at}.path"),
                format!(
                    "the scenario's value {central} of `{}` is outside the range {} .. {}",
                    u.path, u.low, u.high
                ),
            );
        } else if min >= max || central < min || central > max {
            v.error(
                &format!("{at}.min"),
                format!("the truncation min {min} .. max {max} must contain the value {central}"),
            );
        } else {
            let sd = (u.high - u.low) / (2.0 * 1.959_963_984_540_054);
            let problem = match dist {
                Dist::LogNormal if u.low <= 0.0 => Some("a lognormal range needs low > 0"),
                Dist::Gamma if central <= 0.0 => Some("a gamma distribution needs a value above 0"),
                Dist::Beta
                    if !(central > 0.0 && central < 1.0 && sd * sd < central * (1.0 - central)) =>
                {
                    Some(
                        "a beta distribution needs a value in (0, 1) and a range narrower than that allows",
                    )
                }
                _ => None,
            };
            if let Some(p) = problem {
                v.error(&format!("{at}.distribution"), p);
            }
        }
        if let Some(other) = out.iter().find(|o: &&Uncertain| o.path == u.path) {
            v.error(
                &format!("{at}.path"),
                format!(
                    "`{}` already has a range in `uncertainty.{}`",
                    u.path, other.id
                ),
            );
        }
        if v.diagnostics.len() == before {
            out.push(Uncertain {
                id: id.clone(),
                path: u.path.clone(),
                central,
                low: u.low,
                high: u.high,
                dist,
                min,
                max,
                why: u.why.clone(),
            });
        }
    }
    out
}

fn quarter(v: &mut Reporter, path: &str, text: &str) -> Option<Quarter> {
    let q = Quarter::parse(text);
    if q.is_none() {
        v.error(
            path,
            format!("{text:?} is not a quarter; write it like \"2019Q1\""),
        );
    }
    q
}

fn state(v: &mut Reporter, path: &str, name: &str, allow_out: bool) -> Option<State> {
    match State::from_id(name) {
        Some(State::Out) if !allow_out => {
            v.key_error(path, "`out` is absorbing and cannot be used here", None);
            None
        }
        Some(s) => Some(s),
        None => {
            let hint = did_you_mean(name, State::ALL.iter().map(|s| s.id())).or_else(|| {
                Some(format!(
                    "states are: {}",
                    State::ALL.map(|s| s.id()).join(", ")
                ))
            });
            v.key_error(path, format!("unknown state `{name}`"), hint);
            None
        }
    }
}

fn probability(v: &mut Reporter, path: &str, p: f64) -> f64 {
    if !(0.0..=1.0).contains(&p) || p.is_nan() {
        v.error(path, format!("probability {p} is outside [0, 1]"));
        return 0.0;
    }
    p
}

fn non_negative(v: &mut Reporter, path: &str, x: f64, what: &str) -> f64 {
    if !(x >= 0.0 && x.is_finite()) {
        v.error(
            path,
            format!("{what} {x} must be a finite number of at least 0"),
        );
        return 0.0;
    }
    x
}

/// A money amount: finite, at least 0 and at most the bound of its kind
/// (`limits::Amount`).
fn amount(v: &mut Reporter, path: &str, x: f64, what: &str, kind: Amount) -> f64 {
    let x = non_negative(v, path, x, what);
    if let Some(message) = kind.above(what, x) {
        let hint =
            "amounts are DKK at the scenario's price_year; see \"Limits\" in scenarios/README.md";
        v.push_value(path, message, Some(hint.into()));
        return 0.0;
    }
    x
}

fn int_in(v: &mut Reporter, path: &str, x: i64, lo: i64, hi: i64) -> i64 {
    if !(lo..=hi).contains(&x) {
        v.error(
            path,
            format!("{x} is outside the allowed range {lo}..={hi}"),
        );
        return lo;
    }
    x
}

/// Parses `"a-b"` or `"a"` into an inclusive range.
/// An age band in years, `"30-39"` or `"60+"`, as quarters of age.
fn age_band(key: &str) -> Option<AgeBand> {
    let (lo, hi) = match key.strip_suffix('+') {
        Some(a) => (a.trim().parse::<u16>().ok()?, None),
        None => {
            let (a, b) = parse_range(key)?;
            (a, Some(b))
        }
    };
    if lo > 120 || hi.is_some_and(|h| h > 120) {
        return None;
    }
    Some(AgeBand {
        lo: 4 * lo,
        hi: hi.map(|h| 4 * h + 3),
    })
}

fn parse_range(key: &str) -> Option<(u16, u16)> {
    match key.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
            (a <= b).then_some((a, b))
        }
        None => {
            let a = key.trim().parse().ok()?;
            Some((a, a))
        }
    }
}

/// A share table over integer ranges: ranges inside `lo..=hi`, no overlap,
/// shares in [0, 1] summing to 1.
fn shares(
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

fn cohorts(
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
        let count = if count > super::limits::MAX_COHORT {
            let max = super::limits::thousands(super::limits::MAX_COHORT);
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
fn population_fits(v: &mut Reporter, stock: &[Cohort], inflow: &[Cohort], horizon: i64) {
    let Ok(horizon) = u16::try_from(horizon) else {
        return;
    };
    let sizes: Vec<f64> = stock.iter().chain(inflow).map(|c| c.count).collect();
    let total = |cs: &[Cohort]| cs.iter().map(|c| c.count.round()).sum::<f64>();
    let groups = stock.len() as u64 + inflow.len() as u64 * u64::from(horizon);
    if let Err(persons) =
        super::limits::ids_fit(&sizes, total(stock), total(inflow), groups, horizon)
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

fn pension(v: &mut Reporter, steps: &[raw::RawPensionStep]) -> Vec<(Quarter, u16)> {
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

fn banded(v: &mut Reporter, path: &str, b: &raw::Banded, annual: bool) -> Banded {
    let conv = |p: f64| if annual { annual_to_quarterly(p) } else { p };
    match b {
        raw::Banded::Flat(p) => Banded::flat(conv(probability(v, path, *p))),
        raw::Banded::Bands(table) => {
            let mut bands: Vec<(u16, Option<u16>, f64, String)> = Vec::new();
            for (key, &p) in table {
                let kp = format!("{path}.{key}");
                let parsed = if let Some(a) = key.strip_suffix('+') {
                    a.trim().parse::<u16>().ok().map(|a| (a, None))
                } else {
                    parse_range(key).map(|(a, b)| (a, Some(b)))
                };
                let Some((lo, hi)) = parsed else {
                    v.key_error(&kp, format!("{key:?} is not a duration band; write \"1-4\", \"5\" or \"13+\" (quarters)"), None);
                    continue;
                };
                if lo == 0 {
                    v.key_error(
                        &kp,
                        "durations count from 1 (the end of the first quarter in the state)",
                        None,
                    );
                    continue;
                }
                let p = conv(probability(v, &kp, p));
                bands.push((lo, hi, p, kp));
            }
            if table.is_empty() {
                v.error(path, "empty table of duration bands; give a number or bands like { \"1-4\" = 0.1, \"5+\" = 0.05 }");
            }
            bands.sort_by_key(|b| b.0);
            let mut next = 1u16;
            let mut ok = !bands.is_empty();
            for (lo, hi, _, kp) in &bands {
                if *lo > next {
                    v.key_error(
                        kp,
                        format!(
                            "duration bands leave a gap: nothing covers {next}-{}",
                            lo - 1
                        ),
                        None,
                    );
                    ok = false;
                } else if *lo < next {
                    v.key_error(
                        kp,
                        format!("duration band starting at {lo} overlaps the band before it"),
                        None,
                    );
                    ok = false;
                }
                match hi {
                    Some(h) => next = h + 1,
                    None => next = u16::MAX,
                }
            }
            if ok && next != u16::MAX {
                v.error(
                    path,
                    format!("the last duration band must be open-ended (e.g. \"{next}+\")"),
                );
            }
            Banded {
                bands: bands
                    .into_iter()
                    .map(|(lo, hi, p, _)| (lo, hi, p))
                    .collect(),
            }
        }
    }
}

fn transitions(
    v: &mut Reporter,
    table: &BTreeMap<String, BTreeMap<String, raw::RawTransition>>,
) -> Vec<Transition> {
    let mut out = Vec::new();
    for (from_name, targets) in table {
        let fp = format!("transitions.{from_name}");
        let Some(from) = state(v, &fp, from_name, false) else {
            continue;
        };
        for (to_name, t) in targets {
            let p = format!("{fp}.{to_name}");
            let Some(to) = state(v, &p, to_name, true) else {
                continue;
            };
            if to == from {
                v.key_error(
                    &p,
                    "a transition to the same state is implicit (the rest stay); remove it",
                    None,
                );
                continue;
            }
            let annual = match t.per.as_deref() {
                None | Some("quarter") => false,
                Some("year") => true,
                Some(other) => {
                    v.error(
                        &format!("{p}.per"),
                        format!("`per` is {other:?}; it must be \"quarter\" or \"year\""),
                    );
                    false
                }
            };
            let by_group = t.all.is_some() || t.under40.is_some() || t.over40.is_some();
            if !by_group && t.ages.is_none() {
                v.error(
                    &p,
                    "give `all`, or `under40` and/or `over40`, or `ages` (a table of age bands)",
                );
            }
            if by_group && t.ages.is_some() {
                v.error(
                    &p,
                    "give either `ages` or `all` / `under40` / `over40`, not both",
                );
            }
            let base = t
                .all
                .as_ref()
                .map(|b| banded(v, &format!("{p}.all"), b, annual));
            let mut prob = vec![
                (0, base.clone().unwrap_or(Banded::flat(0.0))),
                (AGE40_Q, base.unwrap_or(Banded::flat(0.0))),
            ];
            if let Some(b) = &t.under40 {
                prob[0].1 = banded(v, &format!("{p}.under40"), b, annual);
            }
            if let Some(b) = &t.over40 {
                prob[1].1 = banded(v, &format!("{p}.over40"), b, annual);
            }
            if let Some(ages) = &t.ages {
                prob = age_table(v, &format!("{p}.ages"), ages, annual);
            }
            let mut flag_multipliers = [1.0; N_FLAGS];
            for (k, &m) in &t.multipliers {
                let mp = format!("{p}.multipliers.{k}");
                match flag::NAMES.iter().position(|n| n == k) {
                    Some(i) => flag_multipliers[i] = non_negative(v, &mp, m, "multiplier"),
                    None => v.key_error(
                        &mp,
                        format!("unknown attribute `{k}`"),
                        did_you_mean(k, flag::NAMES),
                    ),
                }
            }
            let mut phase_multipliers = [1.0; N_PHASES];
            if !t.phase_multipliers.is_empty() && from != State::Ressourceforloeb {
                v.key_error(
                    &format!("{p}.phase_multipliers"),
                    "phase multipliers apply only to transitions from ressourceforloeb",
                    None,
                );
            }
            for (k, &m) in &t.phase_multipliers {
                let mp = format!("{p}.phase_multipliers.{k}");
                match Phase::from_id(k) {
                    Some(ph) => {
                        phase_multipliers[ph as usize] = non_negative(v, &mp, m, "multiplier")
                    }
                    None => v.key_error(
                        &mp,
                        format!("unknown phase `{k}`"),
                        did_you_mean(k, Phase::ALL.iter().map(|p| p.id())),
                    ),
                }
            }
            out.push(Transition {
                from,
                to,
                prob,
                flag_multipliers,
                phase_multipliers,
            });
        }
    }
    out
}

/// A rate table by age band in years: contiguous bands, the last open
/// (`"60+"`); the first band also covers younger persons.
fn age_table(
    v: &mut Reporter,
    path: &str,
    ages: &std::collections::BTreeMap<String, raw::Banded>,
    annual: bool,
) -> Vec<(u16, Banded)> {
    let mut bands: Vec<(AgeBand, Banded, String)> = Vec::new();
    for (key, b) in ages {
        let kp = format!("{path}.{key}");
        let Some(band) = age_band(key) else {
            v.key_error(
                &kp,
                format!("{key:?} is not an age band; write \"18-29\" or \"60+\" (years)"),
                None,
            );
            continue;
        };
        bands.push((band, banded(v, &kp, b, annual), kp));
    }
    if ages.is_empty() {
        v.error(
            path,
            "empty table of age bands; give bands like { \"18-39\" = 0.1, \"40+\" = 0.05 }",
        );
        return vec![(0, Banded::flat(0.0))];
    }
    bands.sort_by_key(|b| b.0.lo);
    for w in bands.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        match a.0.hi {
            None => v.key_error(
                &b.2,
                format!(
                    "age band {} overlaps the open band {}",
                    key_of(&b.2),
                    key_of(&a.2)
                ),
                None,
            ),
            Some(h) if b.0.lo <= h => v.key_error(
                &b.2,
                format!("age band {} overlaps {}", key_of(&b.2), key_of(&a.2)),
                None,
            ),
            Some(h) if b.0.lo > h + 1 => v.key_error(
                &b.2,
                format!(
                    "age bands leave a gap: nothing covers {}-{} years",
                    (h + 1) / 4,
                    b.0.lo / 4 - 1
                ),
                None,
            ),
            _ => {}
        }
    }
    if let Some(last) = bands.last()
        && last.0.hi.is_some()
    {
        v.key_error(
            &last.2,
            format!(
                "the last age band {} must be open-ended (for example \"{}+\")",
                key_of(&last.2),
                last.0.lo / 4
            ),
            None,
        );
    }
    bands
        .into_iter()
        .enumerate()
        .map(|(i, (band, b, _))| (if i == 0 { 0 } else { band.lo }, b))
        .collect()
}

/// The last segment of a key path (an age band's key).
fn key_of(path: &str) -> &str {
    path.rsplit('.').next().unwrap_or(path)
}

/// Largest decision duration at which any transition value changes.
pub fn max_boundary(ts: &[Transition], from: State) -> u16 {
    ts.iter()
        .filter(|t| t.from == from)
        .flat_map(|t| t.prob.iter().map(|(_, b)| b.last_boundary()))
        .max()
        .unwrap_or(0)
}

/// The effective quarterly probability of `t` at an age (quarters), duration,
/// flag class and phase, multipliers applied.
pub fn effective(t: &Transition, age_q: u16, d: u16, class: u8, phase: usize) -> f64 {
    let mut p = t.prob_at(age_q).at(d);
    for (bit, m) in t.flag_multipliers.iter().enumerate() {
        if class & (1 << bit) != 0 {
            p *= m;
        }
    }
    p * t.phase_multipliers[phase]
}

fn check_row_sums(v: &mut Reporter, ts: &[Transition]) {
    for from in State::ALL {
        let rows: Vec<&Transition> = ts.iter().filter(|t| t.from == from).collect();
        if rows.is_empty() {
            continue;
        }
        let n_phase = if from == State::Ressourceforloeb {
            N_PHASES
        } else {
            1
        };
        let max_d = max_boundary(ts, from) + 1;
        // Every age at which some rate of the state changes.
        let mut ages: Vec<u16> = rows
            .iter()
            .flat_map(|t| t.prob.iter().map(|&(lo, _)| lo))
            .collect();
        ages.sort_unstable();
        ages.dedup();
        'found: for &age in &ages {
            for d in 1..=max_d {
                for class in 0..16u8 {
                    for phase in 0..n_phase {
                        let sum: f64 = rows
                            .iter()
                            .map(|t| effective(t, age, d, class, phase))
                            .sum();
                        if sum > 1.0 + EPS {
                            let who = describe_class(
                                age,
                                class,
                                if from == State::Ressourceforloeb {
                                    Some(phase)
                                } else {
                                    None
                                },
                            );
                            v.error(
                                &format!("transitions.{}", from.id()),
                                format!("outgoing probabilities from {} sum to {sum:.4} (> 1) for {who} at duration {d}", from.id()),
                            );
                            break 'found;
                        }
                    }
                }
            }
        }
    }
}

fn describe_class(age_q: u16, class: u8, phase: Option<usize>) -> String {
    let mut parts = vec![format!("aged {}+", age_q / 4)];
    for (bit, name) in flag::NAMES.iter().enumerate() {
        if class & (1 << bit) != 0 {
            parts.push((*name).to_string());
        }
    }
    if let Some(p) = phase {
        parts.push(format!("phase {}", Phase::ALL[p].id()));
    }
    format!("persons {}", parts.join(", "))
}

fn phases(
    v: &mut Reporter,
    rf: Option<&raw::RawRessourceforloeb>,
) -> (Phase, [[f64; N_PHASES]; N_PHASES]) {
    let mut m = [[0.0; N_PHASES]; N_PHASES];
    let Some(rf) = rf else {
        return (Phase::WaitingTeam, m);
    };
    let entry = Phase::from_id(&rf.entry_phase).unwrap_or_else(|| {
        let hint = did_you_mean(&rf.entry_phase, Phase::ALL.iter().map(|p| p.id()));
        let msg = format!("unknown phase `{}`", rf.entry_phase);
        v.key_error("ressourceforloeb.entry_phase", msg, hint);
        Phase::WaitingTeam
    });
    for (from, row) in &rf.phases {
        let p = format!("ressourceforloeb.phases.{from}");
        let Some(f) = Phase::from_id(from) else {
            v.key_error(
                &p,
                format!("unknown phase `{from}`"),
                did_you_mean(from, Phase::ALL.iter().map(|p| p.id())),
            );
            continue;
        };
        let mut total = 0.0;
        for (to, &x) in row {
            let tp = format!("{p}.{to}");
            let Some(t) = Phase::from_id(to) else {
                v.key_error(
                    &tp,
                    format!("unknown phase `{to}`"),
                    did_you_mean(to, Phase::ALL.iter().map(|p| p.id())),
                );
                continue;
            };
            if t == f {
                v.key_error(&tp, "staying in a phase is implicit; remove it", None);
                continue;
            }
            m[f as usize][t as usize] = probability(v, &tp, x);
            total += m[f as usize][t as usize];
        }
        if total > 1.0 + EPS {
            v.error(
                &p,
                format!("phase probabilities from {from} sum to {total} (> 1)"),
            );
        }
    }
    (entry, m)
}

fn flex(v: &mut Reporter, f: Option<&raw::RawFleksjob>) -> FlexHours {
    let Some(f) = f else {
        return FlexHours {
            minifleks_max_hours: 10,
            raise_probability: 0.0,
            raise_eligible_max_hours: 10,
            raise_after_quarters: 4,
            raise_step_hours: 1,
            max_hours: 37,
        };
    };
    let p = "fleksjob";
    FlexHours {
        minifleks_max_hours: int_in(
            v,
            &format!("{p}.minifleks_max_hours"),
            f.minifleks_max_hours,
            0,
            37,
        ) as u8,
        raise_probability: probability(v, &format!("{p}.raise_probability"), f.raise_probability),
        raise_eligible_max_hours: int_in(
            v,
            &format!("{p}.raise_eligible_max_hours"),
            f.raise_eligible_max_hours,
            0,
            37,
        ) as u8,
        raise_after_quarters: int_in(
            v,
            &format!("{p}.raise_after_quarters"),
            f.raise_after_quarters,
            0,
            400,
        ) as u16,
        raise_step_hours: int_in(
            v,
            &format!("{p}.raise_step_hours"),
            f.raise_step_hours,
            0,
            37,
        ) as u8,
        max_hours: int_in(v, &format!("{p}.max_hours"), f.max_hours, 0, 37) as u8,
    }
}

fn when(v: &mut Reporter, path: &str, w: &RawWhen, allow_hours: bool, age_line_q: u16) -> When {
    let age = w.age.as_deref().and_then(|a| {
        let band = match a {
            "under40" => Some(AgeBand { lo: 0, hi: Some(AGE40_Q - 1) }),
            "over40" => Some(AgeBand { lo: AGE40_Q, hi: None }),
            "under_line" => Some(AgeBand { lo: 0, hi: Some(age_line_q - 1) }),
            "over_line" => Some(AgeBand { lo: age_line_q, hi: None }),
            band => age_band(band),
        };
        if band.is_none() {
            v.error(
                &format!("{path}.age"),
                format!("age {a:?} must be \"under40\", \"over40\", \"under_line\", \"over_line\" (the scenario's `age_line`) or a band in years such as \"30-39\" or \"60+\""),
            );
        }
        band
    });
    let within_pension_q = w
        .within_years_of_pension
        .map(|y| 4 * int_in(v, &format!("{path}.within_years_of_pension"), y, 0, 50) as u16);
    let mut flags = Vec::new();
    for (i, f) in [w.psychiatric, w.insured, w.evident, w.retention]
        .into_iter()
        .enumerate()
    {
        if let Some(b) = f {
            flags.push((1u8 << i, b));
        }
    }
    let mut hours = |key: &str, h: Option<i64>| {
        h.map(|h| {
            if !allow_hours {
                v.key_error(
                    &format!("{path}.{key}"),
                    "gates cannot depend on hours; use an assessment",
                    None,
                );
            }
            int_in(v, &format!("{path}.{key}"), h, 0, 37) as u8
        })
    };
    let min_hours = hours("min_hours", w.min_hours);
    let max_hours = hours("max_hours", w.max_hours);
    When {
        age,
        within_pension_q,
        flags,
        min_hours,
        max_hours,
    }
}

fn active(v: &mut Reporter, path: &str, from: &Option<String>, until: &Option<String>) -> Active {
    let active = active_quarters(v, path, from, until);
    if let (Some(f), Some(u)) = (active.from, active.until)
        && u < f
    {
        v.error(
            &format!("{path}.active_until"),
            format!("active_until {u} is before active_from {f}: `{path}` would never be in force"),
        );
    }
    active
}

fn active_quarters(
    v: &mut Reporter,
    path: &str,
    from: &Option<String>,
    until: &Option<String>,
) -> Active {
    Active {
        from: from
            .as_ref()
            .and_then(|q| quarter(v, &format!("{path}.active_from"), q)),
        until: until
            .as_ref()
            .and_then(|q| quarter(v, &format!("{path}.active_until"), q)),
    }
}

fn state_mask(v: &mut Reporter, path: &str, names: &[String], allow_out: bool) -> u16 {
    let mut mask = 0u16;
    for (i, n) in names.iter().enumerate() {
        if let Some(s) = state(v, &format!("{path}[{i}]"), n, allow_out) {
            mask |= 1 << s as u16;
        }
    }
    mask
}

fn gates(v: &mut Reporter, table: &BTreeMap<String, raw::RawGate>, age_line_q: u16) -> Vec<Gate> {
    let mut out = Vec::new();
    for (id, g) in table {
        let p = format!("gates.{id}");
        let from = match &g.from {
            Some(names) => state_mask(v, &format!("{p}.from"), names, false),
            None => (1 << N_STATES) - 1,
        };
        let to = state_mask(v, &format!("{p}.to"), &g.to, true);
        if g.to.is_empty() {
            v.error(
                &format!("{p}.to"),
                "a gate must block at least one target state",
            );
        }
        let redirect = g
            .redirect
            .as_ref()
            .and_then(|r| state(v, &format!("{p}.redirect"), r, true));
        if let Some(r) = redirect
            && to & (1 << r as u16) != 0
        {
            v.error(
                &format!("{p}.redirect"),
                "a gate cannot redirect to a state it blocks",
            );
        }
        let before_duration = g
            .before_duration
            .map(|d| int_in(v, &format!("{p}.before_duration"), d, 1, 400) as u16);
        let gate = Gate {
            id: id.clone(),
            from,
            to,
            when: when(v, &format!("{p}.when"), &g.when, false, age_line_q),
            before_duration,
            redirect,
            active: active(v, &p, &g.active_from, &g.active_until),
        };
        // A disabled gate is still checked in full, so a typo in it is not silent.
        if g.enabled {
            out.push(gate);
        }
    }
    out
}

fn assessments(
    v: &mut Reporter,
    table: &BTreeMap<String, raw::RawAssessment>,
    age_line_q: u16,
) -> Vec<Assessment> {
    let mut out = Vec::new();
    for (id, a) in table {
        let p = format!("assessments.{id}");
        let Some(st) = state(v, &format!("{p}.state"), &a.state, false) else {
            continue;
        };
        let clock = match a.clock.as_deref() {
            None | Some("in_state") => Clock::InState,
            Some("cumulative") if st == State::Ressourceforloeb => Clock::Cumulative,
            Some("cumulative") => {
                v.error(
                    &format!("{p}.clock"),
                    "a cumulative clock is kept only for ressourceforloeb",
                );
                Clock::InState
            }
            Some(other) => {
                v.error(
                    &format!("{p}.clock"),
                    format!("clock {other:?} must be \"in_state\" or \"cumulative\""),
                );
                Clock::InState
            }
        };
        let mut route = Vec::new();
        let mut total = 0.0;
        for (to, &x) in &a.route {
            let rp = format!("{p}.route.{to}");
            if let Some(t) = state(v, &rp, to, true) {
                let x = probability(v, &rp, x);
                total += x;
                route.push((t, x));
            }
        }
        if total > 1.0 + EPS {
            v.error(
                &format!("{p}.route"),
                format!("routing shares sum to {total} (> 1)"),
            );
        }
        if clock == Clock::Cumulative && a.at >= i64::from(RF_CLOCK_LIMIT) {
            let max = RF_CLOCK_LIMIT - 1;
            v.error(&format!("{p}.at"), format!("the cumulative ressourceforløb clock counts to {max} quarters; `at` must be below that"));
        }
        let assessment = Assessment {
            id: id.clone(),
            state: st,
            at: int_in(v, &format!("{p}.at"), a.at, 1, 400) as u16,
            every: int_in(v, &format!("{p}.every"), a.every, 0, 400) as u16,
            clock,
            when: when(v, &format!("{p}.when"), &a.when, true, age_line_q),
            route,
            active: active(v, &p, &a.active_from, &a.active_until),
        };
        // A disabled assessment is still checked in full.
        if a.enabled {
            out.push(assessment);
        }
    }
    out
}

fn costs(v: &mut Reporter, c: &raw::RawCosts) -> Costs {
    let p = "costs";
    let discount_rate = c.discount_rate;
    if !(0.0..=0.5).contains(&discount_rate) {
        v.error(
            "costs.discount_rate",
            format!("discount rate {discount_rate} is outside 0..=0.5"),
        );
    }
    let mut monthly = [0.0; N_STATES];
    for (k, &x) in &c.monthly {
        let mp = format!("{p}.monthly.{k}");
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
                let hint = did_you_mean(k, State::ALL.iter().map(|s| s.id()));
                v.key_error(&mp, format!("unknown state `{k}`"), hint);
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
    Costs {
        discount_rate,
        monthly,
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
        services: services(v, &c.services),
    }
}

fn services(v: &mut Reporter, s: &raw::RawServices) -> Services {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annual_conversion_compounds_back() {
        for p in [0.0, 0.01, 0.3, 0.99, 1.0] {
            let q = annual_to_quarterly(p);
            let back = 1.0 - (1.0 - q).powi(4);
            assert!((back - p).abs() < 1e-12, "{p} -> {q} -> {back}");
        }
    }

    #[test]
    fn ranges_parse() {
        assert_eq!(parse_range("18-29"), Some((18, 29)));
        assert_eq!(parse_range("40"), Some((40, 40)));
        assert_eq!(parse_range("29-18"), None);
        assert_eq!(parse_range("x"), None);
    }
}
