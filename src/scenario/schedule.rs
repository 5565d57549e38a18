//! Dated changes (`[[schedule]]`): a number, or every number of a table,
//! changed by a factor, an addition or to a value from a quarter on, or
//! phased in over several quarters.
//!
//! A scenario with dated changes is validated once per set of numbers in
//! force: at the start, and from every quarter of the horizon at which a
//! change moves a number (every quarter of a ramp). Each set is an ordinary
//! scenario, checked by every rule, so a ramped row cannot sum above 1 at
//! any quarter. The engine compiles each set into its own tables; the loop
//! itself reads no dates.

use super::calendar::Quarter;
use super::diag::{Diagnostic, Origins, Reporter, Sources, did_you_mean};
use super::load::{lookup, lookup_mut};
use super::model::{ScheduleOp, Scheduled};
use super::raw::RawSchedule;
use super::validate::quarter;

/// Most sets of numbers (periods) a schedule may create within the horizon.
pub const MAX_PERIODS: usize = 64;

/// Where dated changes may act: the numbers the engine reads per quarter.
const ALLOWED: [&str; 5] = [
    "transitions.",
    "costs.monthly.",
    "costs.services.",
    "costs.fleksloentilskud.",
    "population.inflow.",
];

/// Keys of a transition that are not probabilities: a change of a whole
/// transition (or of a state's transitions) leaves them alone.
const NOT_PROBABILITIES: [&str; 3] = ["per", "multipliers", "phase_multipliers"];

/// Checks the entries against the merged document and returns them.
pub(super) fn entries(
    raw: &[RawSchedule],
    doc: &toml::Value,
    origins: &Origins,
    sources: &Sources,
    start: Quarter,
    horizon: u16,
) -> Result<Vec<Scheduled>, Vec<Diagnostic>> {
    let mut r = Reporter::new(origins, sources);
    let v = &mut r;
    let mut out = Vec::new();
    for (i, e) in raw.iter().enumerate() {
        let p = format!("schedule[{i}]");
        let from = quarter(v, &format!("{p}.from"), &e.from);
        let until = e
            .until
            .as_ref()
            .and_then(|u| quarter(v, &format!("{p}.until"), u));
        if let (Some(f), Some(u)) = (from, until)
            && u <= f
        {
            v.error(
                &format!("{p}.until"),
                format!("the ramp ends in {u}, not after it starts in {f}; `until` must be a later quarter than `from`"),
            );
        }
        let op = match (e.factor, e.add, e.value) {
            (Some(f), None, None) if f.is_finite() && f >= 0.0 => Some(ScheduleOp::Factor(f)),
            (None, Some(a), None) if a.is_finite() => Some(ScheduleOp::Add(a)),
            (None, None, Some(x)) if x.is_finite() => Some(ScheduleOp::Value(x)),
            (Some(f), None, None) => {
                v.error(
                    &format!("{p}.factor"),
                    format!("factor {f} must be finite and at least 0"),
                );
                None
            }
            (None, Some(_), None) | (None, None, Some(_)) => {
                v.error(&p, "the change must be a finite number");
                None
            }
            _ => {
                v.error(&p, "give exactly one of `factor`, `add` and `value`");
                None
            }
        };
        let path = e.path.trim();
        if !ALLOWED.iter().any(|a| path.starts_with(a)) {
            v.error(
                &format!("{p}.path"),
                format!(
                    "`{path}` cannot be dated; dated changes act on transitions, costs (monthly, services, fleksloentilskud) and inflows (paths starting {})",
                    ALLOWED.map(|a| format!("`{a}`")).join(", ")
                ),
            );
        } else {
            match lookup(doc, path) {
                None => {
                    let (parent, last) = path.rsplit_once('.').unwrap_or(("", path));
                    let names: Vec<String> = lookup(doc, parent)
                        .and_then(|t| t.as_table())
                        .map(|t| t.keys().cloned().collect())
                        .unwrap_or_default();
                    v.key_error(
                        &format!("{p}.path"),
                        format!("`{path}` is not a key of the scenario"),
                        did_you_mean(last, names.iter().map(String::as_str)),
                    );
                }
                Some(val) if count_numbers(path, val) == 0 => v.error(
                    &format!("{p}.path"),
                    format!("`{path}` holds no number to change"),
                ),
                Some(_) => {}
            }
            if matches!(op, Some(ScheduleOp::Value(_)))
                && lookup(doc, path).is_some_and(|x| x.is_table())
            {
                v.error(
                    &format!("{p}.value"),
                    format!("`value` sets one number; `{path}` is a table (use `factor` or `add`, or name one number)"),
                );
            }
        }
        if let (Some(op), Some(from)) = (op, from) {
            out.push(Scheduled {
                path: path.to_string(),
                op,
                from,
                until,
            });
        }
    }
    if r.diagnostics.is_empty() {
        let n = breakpoints(&out, start, horizon).len() + 1;
        if n > MAX_PERIODS {
            r.error(
                "schedule",
                format!("the dated changes make {n} sets of numbers within the horizon; at most {MAX_PERIODS} are supported (shorten the ramps or combine dates)"),
            );
        }
    }
    if r.diagnostics.is_empty() {
        Ok(out)
    } else {
        Err(r.diagnostics)
    }
}

/// The quarters after the start, within the horizon, at which some dated
/// change moves a number.
pub(super) fn breakpoints(entries: &[Scheduled], start: Quarter, horizon: u16) -> Vec<Quarter> {
    (1..horizon)
        .map(|t| start.plus(t))
        .filter(|&q| entries.iter().any(|e| e.weight(q) != e.weight(q.prev())))
        .collect()
}

/// The document with every change applied as in force in quarter `q`.
pub(super) fn apply(doc: &toml::Value, entries: &[Scheduled], q: Quarter) -> toml::Value {
    let mut out = doc.clone();
    for e in entries {
        let w = e.weight(q);
        if w == 0.0 {
            continue;
        }
        if let Some(target) = lookup_mut(&mut out, &e.path) {
            let whole_transition =
                e.path.starts_with("transitions.") && e.path.split('.').count() <= 3;
            change(target, whole_transition, &|x| e.apply(x, w));
        }
    }
    out
}

fn change(v: &mut toml::Value, skip_non_probabilities: bool, f: &dyn Fn(f64) -> f64) {
    match v {
        toml::Value::Float(x) => *x = f(*x),
        toml::Value::Integer(i) => *v = toml::Value::Float(f(*i as f64)),
        toml::Value::Array(items) => {
            for it in items {
                change(it, skip_non_probabilities, f);
            }
        }
        toml::Value::Table(t) => {
            for (k, it) in t.iter_mut() {
                if skip_non_probabilities && NOT_PROBABILITIES.contains(&k.as_str()) {
                    continue;
                }
                change(it, skip_non_probabilities, f);
            }
        }
        _ => {}
    }
}

fn count_numbers(path: &str, v: &toml::Value) -> usize {
    let skip = path.starts_with("transitions.") && path.split('.').count() <= 3;
    fn go(v: &toml::Value, skip: bool) -> usize {
        match v {
            toml::Value::Float(_) | toml::Value::Integer(_) => 1,
            toml::Value::Array(items) => items.iter().map(|x| go(x, skip)).sum(),
            toml::Value::Table(t) => t
                .iter()
                .filter(|(k, _)| !(skip && NOT_PROBABILITIES.contains(&k.as_str())))
                .map(|(_, x)| go(x, skip))
                .sum(),
            _ => 0,
        }
    }
    go(v, skip)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(op: ScheduleOp, from: &str, until: Option<&str>) -> Scheduled {
        Scheduled {
            path: "transitions.a.b.all".into(),
            op,
            from: Quarter::parse(from).unwrap(),
            until: until.map(|u| Quarter::parse(u).unwrap()),
        }
    }

    #[test]
    fn a_ramp_rises_in_equal_steps_to_its_end() {
        let e = entry(ScheduleOp::Factor(1.25), "2021Q1", Some("2021Q4"));
        let w = |q: &str| e.weight(Quarter::parse(q).unwrap());
        assert_eq!(w("2020Q4"), 0.0);
        assert_eq!(w("2021Q1"), 0.25);
        assert_eq!(w("2021Q2"), 0.5);
        assert_eq!(w("2021Q4"), 1.0);
        assert_eq!(w("2023Q1"), 1.0);
        assert_eq!(e.apply(0.008, w("2021Q2")), 0.008 * 1.125);
    }

    #[test]
    fn breakpoints_are_the_quarters_a_number_moves() {
        let start = Quarter::parse("2019Q1").unwrap();
        let step = entry(ScheduleOp::Add(0.01), "2020Q1", None);
        let ramp = entry(ScheduleOp::Value(0.3), "2021Q1", Some("2021Q3"));
        let b: Vec<String> = breakpoints(&[step, ramp], start, 40)
            .iter()
            .map(|q| q.to_string())
            .collect();
        assert_eq!(b, ["2020Q1", "2021Q1", "2021Q2", "2021Q3"]);
        // A change dated after the horizon moves nothing within it.
        let late = entry(ScheduleOp::Add(0.01), "2040Q1", None);
        assert!(breakpoints(&[late], start, 40).is_empty());
    }

    #[test]
    fn a_whole_transition_changes_its_probabilities_only() {
        let mut doc: toml::Value = toml::from_str(
            "[transitions.a.b]\nall = { \"1-4\" = 0.1, \"5+\" = 0.2 }\nmultipliers = { insured = 2.0 }\n",
        )
        .unwrap();
        let e = Scheduled {
            path: "transitions.a.b".into(),
            op: ScheduleOp::Factor(2.0),
            from: Quarter::parse("2019Q1").unwrap(),
            until: None,
        };
        doc = apply(&doc, &[e], Quarter::parse("2019Q1").unwrap());
        let t = &doc["transitions"]["a"]["b"];
        assert_eq!(t["all"]["1-4"].as_float(), Some(0.2));
        assert_eq!(t["all"]["5+"].as_float(), Some(0.4));
        assert_eq!(t["multipliers"]["insured"].as_float(), Some(2.0));
    }
}
