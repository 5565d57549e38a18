//! From [`RawScenario`] to [`Scenario`]: every semantic rule, every message.
//!
//! Validation collects all problems it finds (not just the first) and ties
//! each to the key path and line where it was written.

mod costs;
mod population;
mod rules;
mod transitions;
mod variants;

use std::collections::BTreeMap;

use crate::scenario::calendar::Quarter;
use crate::scenario::diag::{Origins, Reporter, Sources, did_you_mean};
use crate::scenario::limits::Amount;
use crate::scenario::model::*;
use crate::scenario::raw::{self, RawCohort, RawScenario, RawWhen};
use costs::*;
use population::*;
use rules::*;
use transitions::*;
pub use transitions::{effective, max_boundary};
use variants::*;

/// Most gates a scenario may enable (the kernel keeps them in a `u64` mask).
pub const MAX_GATES: usize = 64;

/// Tolerance for "sums to 1" and "at most 1" checks.
pub(super) const EPS: f64 = 1e-9;
/// Tolerance for share tables written by hand with rounded decimals.
pub(super) const SHARE_EPS: f64 = 1e-6;

/// Converts an annual transition probability into a quarterly one, assuming
/// a constant hazard within the year: `p_q = 1 - (1 - p_y)^(1/4)`.
pub fn annual_to_quarterly(p_year: f64) -> f64 {
    1.0 - (1.0 - p_year).powf(0.25)
}

pub(super) fn validate(
    raw: &RawScenario,
    doc: &toml::Value,
    origins: &Origins,
    sources: &Sources,
    hash: String,
) -> Result<Scenario, Vec<super::diag::Diagnostic>> {
    let mut r = Reporter::new(origins, sources);
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

    let variants = variants(v, &raw.variants);
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
    let costs = costs(v, &raw.costs, &variants);
    let uncertain = uncertainties(v, &raw.uncertainty, doc);
    check_row_sums(v, &transitions);

    let price_index = price_index(v, raw);
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
        price_index,
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
        variants,
        uncertain,
        hash,
        schedule: Vec::new(),
        timeline: Vec::new(),
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

/// `[prices.index]`: years with positive levels, the price year among them.
fn price_index(v: &mut Reporter, raw: &RawScenario) -> Vec<(i32, f64)> {
    let Some(p) = &raw.prices else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (year, &level) in &p.index {
        let path = format!("prices.index.{year}");
        match year.parse::<i32>() {
            Ok(y) if (1950..=2100).contains(&y) => {
                if level.is_finite() && level > 0.0 {
                    out.push((y, level));
                } else {
                    v.error(
                        &path,
                        format!("price level {level} must be a positive number"),
                    );
                }
            }
            _ => v.key_error(&path, format!("{year:?} is not a year (1950-2100)"), None),
        }
    }
    out.sort_by_key(|p| p.0);
    if !out.is_empty() && !out.iter().any(|p| p.0 == raw.price_year) {
        v.error(
            "prices.index",
            format!(
                "the price index has no level for the scenario's price_year {}",
                raw.price_year
            ),
        );
    }
    out
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
            // Blame the bound written last (`high` if one file wrote both).
            let (low_at, high_at) = (format!("{at}.low"), format!("{at}.high"));
            let blamed = if v.later(&low_at, &high_at) {
                low_at.clone()
            } else {
                high_at.clone()
            };
            let (ls, hs) = (v.site(&low_at), v.site(&high_at));
            v.error(
                &blamed,
                format!(
                    "the range must have low < high, got low {} (set in {ls}) and high {} (set in {hs})",
                    u.low, u.high
                ),
            );
        } else if !(u.low..=u.high).contains(&central) {
            range_excludes_value(v, &at, u, central);
        } else if min >= max || central < min || central > max {
            // The value written after the truncation bound it breaks is at
            // fault; otherwise the bound (or both bounds, if min >= max).
            let bound = if central < min && u.min.is_some() {
                format!("{at}.min")
            } else {
                format!("{at}.max")
            };
            let message = format!(
                "the truncation min {min} .. max {max} given in {} must contain the value {central} of `{}` set in {}",
                v.site(&bound),
                u.path,
                v.site(&u.path)
            );
            if min < max && v.later(&u.path, &bound) {
                v.error(&u.path, message);
            } else if min < max {
                v.error(&bound, message);
            } else {
                v.error(&format!("{at}.min"), message);
            }
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

/// The error for a range `low .. high` that does not contain the value
/// its `path` names. It points at whichever was written last: the value
/// (a child file that sets it outside an inherited range) or the side of
/// the range it falls beyond, or the `path` (a file that moves the range
/// or names another parameter); the message names the other place too.
fn range_excludes_value(v: &mut Reporter, at: &str, u: &raw::RawUncertain, central: f64) {
    let side = if central < u.low { "low" } else { "high" };
    let bound = format!("{at}.{side}");
    let path_key = format!("{at}.path");
    let range = if v.later(&path_key, &bound) {
        path_key
    } else {
        bound
    };
    let (value_site, range_site) = (v.site(&u.path), v.site(&range));
    let (low, high) = (u.low, u.high);
    if v.later(&u.path, &range) {
        v.push_value(
            &u.path,
            format!(
                "the value {central} set in {value_site} is outside the range {low} .. {high} of `{at}` given in {range_site}"
            ),
            Some(format!(
                "set a value within {low} .. {high}, or give `{at}` a range that contains {central} in the file that sets the value"
            )),
        );
    } else {
        v.push_value(
            &range,
            format!(
                "the range {low} .. {high} given in {range_site} does not contain the value {central} of `{}` set in {value_site}",
                u.path
            ),
            Some(format!("give a range that contains {central}, or set a value within {low} .. {high} in the file that sets the range")),
        );
    }
}

pub(super) fn quarter(v: &mut Reporter, path: &str, text: &str) -> Option<Quarter> {
    let q = Quarter::parse(text);
    if q.is_none() {
        v.error(
            path,
            format!("{text:?} is not a quarter; write it like \"2019Q1\""),
        );
    }
    q
}

pub(super) fn state(v: &mut Reporter, path: &str, name: &str, allow_out: bool) -> Option<State> {
    let variant = v
        .variants
        .iter()
        .find(|(id, _)| id == name)
        .map(|&(_, s)| s);
    match State::from_id(name).or(variant) {
        Some(State::Out) if !allow_out => {
            v.key_error(path, "`out` is absorbing and cannot be used here", None);
            None
        }
        Some(s) => Some(s),
        None => {
            let ids: Vec<String> = State::NAMED
                .iter()
                .map(|s| s.id().to_string())
                .chain(v.variants.iter().map(|(id, _)| id.clone()))
                .collect();
            let hint = did_you_mean(name, ids.iter().map(String::as_str))
                .or_else(|| Some(format!("states are: {}", ids.join(", "))));
            v.key_error(path, format!("unknown state `{name}`"), hint);
            None
        }
    }
}

pub(super) fn probability(v: &mut Reporter, path: &str, p: f64) -> f64 {
    if !(0.0..=1.0).contains(&p) || p.is_nan() {
        v.error(path, format!("probability {p} is outside [0, 1]"));
        return 0.0;
    }
    p
}

pub(super) fn non_negative(v: &mut Reporter, path: &str, x: f64, what: &str) -> f64 {
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
pub(super) fn amount(v: &mut Reporter, path: &str, x: f64, what: &str, kind: Amount) -> f64 {
    let x = non_negative(v, path, x, what);
    if let Some(message) = kind.above(what, x) {
        let hint =
            "amounts are DKK at the scenario's price_year; see \"Limits\" in scenarios/README.md";
        v.push_value(path, message, Some(hint.into()));
        return 0.0;
    }
    x
}

pub(super) fn int_in(v: &mut Reporter, path: &str, x: i64, lo: i64, hi: i64) -> i64 {
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
pub(super) fn age_band(key: &str) -> Option<AgeBand> {
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

pub(super) fn parse_range(key: &str) -> Option<(u16, u16)> {
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

pub(super) fn phases(
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

pub(super) fn flex(v: &mut Reporter, f: Option<&raw::RawFleksjob>) -> FlexHours {
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
