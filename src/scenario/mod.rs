//! Scenario files: schema, loading with `extends`, validation.
//!
//! **Architecture invariant:** this module knows nothing of random numbers,
//! threads or output files. It turns text into a validated [`Scenario`] or a
//! [`ScenarioError`] that names file, line, key path and the rule broken.

pub mod calendar;
mod compose;
mod diag;
mod explain;
pub mod limits;
mod load;
mod model;
mod raw;
mod read;
mod schedule;
mod validate;

use std::path::Path;

pub use diag::{
    Diagnostic, Location, ScenarioError, SourceFile, Sources, did_you_mean, escape_controls,
};
pub use explain::{Change, Explanation, Link, explain};
pub use model::*;
pub use read::{MAX_INPUT_BYTES, read_input};
pub use validate::{annual_to_quarterly, effective, max_boundary};

/// The baseline scenario compiled into the binary (the same text as
/// `scenarios/baseline.toml`).
pub const BASELINE_TOML: &str = include_str!("../../scenarios/baseline.toml");

/// Name under which the embedded baseline appears in messages.
pub const BASELINE_NAME: &str = "<embedded>/baseline.toml";

/// A validated scenario together with the text it came from.
pub struct Loaded {
    pub scenario: Scenario,
    pub sources: Sources,
    /// The merged document, canonical TOML.
    pub canonical: String,
}

/// Loads and validates a scenario file, following `extends`.
pub fn load_file(path: &Path) -> Result<Loaded, ScenarioError> {
    finish(load::load_file(path)?)
}

pub use load::{Override, lookup, lookup_number, parse_override};

/// Loads a scenario file (or the embedded baseline when `path` is None) and
/// sets `overrides` (parameter path, value) before validating it.
pub fn load_with(path: Option<&Path>, overrides: &[Override]) -> Result<Loaded, ScenarioError> {
    let loaded = match path {
        Some(p) => load::load_file_with(p, overrides)?,
        None => load::load_text_with(BASELINE_NAME, BASELINE_TOML, None, overrides)?,
    };
    finish(loaded).map_err(|mut e| {
        // A value set with --set is not in any file: say where it came from.
        for d in &mut e.diagnostics {
            let key = d.key.clone().unwrap_or_default();
            if let Some((p, v)) = overrides
                .iter()
                .find(|(p, _)| key == *p || key.starts_with(&format!("{p}.")))
            {
                d.location = None;
                d.message = format!("{} (set with --set {p}={v})", d.message);
            }
        }
        e
    })
}

/// Checks that the scenario at `path` stays valid with each uncertain
/// parameter at its low and at its high value (the others as written): the
/// points `sensitivity` runs. One diagnostic per end that breaks a rule.
pub fn check_range_ends(path: &Path, sc: &Scenario) -> Result<(), ScenarioError> {
    let mut diagnostics = Vec::new();
    for u in &sc.uncertain {
        for (end, v) in [("low", u.low), ("high", u.high)] {
            if let Err(e) = load_with(Some(path), &[(u.path.clone(), toml::Value::Float(v))]) {
                let first = e
                    .diagnostics
                    .first()
                    .map_or(String::new(), |d| d.message.clone());
                diagnostics.push(Diagnostic {
                    location: None,
                    key: Some(format!("uncertainty.{}.{end}", u.id)),
                    message: format!(
                        "with `{}` at its {end} value {v} the scenario breaks a rule: {first}",
                        u.path
                    ),
                    hint: Some("narrow the range so that both ends are valid scenarios".into()),
                });
            }
        }
    }
    if diagnostics.is_empty() {
        Ok(())
    } else {
        Err(ScenarioError {
            sources: Sources::default(),
            diagnostics,
        })
    }
}

/// Loads and validates scenario text; `dir` resolves a relative `extends`.
pub fn load_text(name: &str, text: &str, dir: Option<&Path>) -> Result<Loaded, ScenarioError> {
    finish(load::load_text(name, text, dir)?)
}

/// The embedded baseline.
pub fn baseline() -> Loaded {
    load_text(BASELINE_NAME, BASELINE_TOML, None).expect("the embedded baseline is valid (tested)")
}

fn finish(l: load::Loaded) -> Result<Loaded, ScenarioError> {
    let hash = format!("{:016x}", fnv1a(l.canonical.as_bytes()));
    match validated(&l, hash) {
        Ok(scenario) => Ok(Loaded {
            scenario,
            sources: l.sources,
            canonical: l.canonical,
        }),
        Err(mut diagnostics) => {
            for d in &mut diagnostics {
                name_composed(d, &l.chains, &l.sources);
            }
            Err(ScenarioError {
                sources: l.sources,
                diagnostics,
            })
        }
    }
}

/// Validates the merged document: once as in force at the start and, if
/// it has dated changes, once more from every quarter at which they move a
/// number (`schedule`).
fn validated(l: &load::Loaded, hash: String) -> Result<Scenario, Vec<Diagnostic>> {
    let start = calendar::Quarter::parse(&l.raw.start);
    let horizon = u16::try_from(l.raw.horizon).unwrap_or(0);
    let entries = match start {
        Some(start) if !l.raw.schedule.is_empty() => schedule::entries(
            &l.raw.schedule,
            &l.value,
            &l.origins,
            &l.sources,
            start,
            horizon,
        )?,
        // Without a start the ordinary validation says what is wrong.
        _ => Vec::new(),
    };
    let Some(start) = start.filter(|_| !entries.is_empty()) else {
        return validate::validate(&l.raw, &l.value, &l.origins, &l.sources, hash);
    };
    let at = |q: calendar::Quarter| -> Result<Scenario, Vec<Diagnostic>> {
        let doc = schedule::apply(&l.value, &entries, q);
        let raw: raw::RawScenario = doc.clone().try_into().map_err(|e| {
            vec![Diagnostic {
                location: None,
                key: Some("schedule".into()),
                message: format!("the dated changes in force in {q} give no valid scenario: {e}"),
                hint: None,
            }]
        })?;
        validate::validate(&raw, &doc, &l.origins, &l.sources, hash.clone()).map_err(|mut ds| {
            if q != start {
                // Name the dated changes that act then, where they are written.
                let acting: Vec<String> = entries
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| e.weight(q) > 0.0)
                    .map(|(i, e)| {
                        let at = l.origins.value(&format!("schedule[{i}]")).map_or(
                            String::new(),
                            |loc| {
                                let (line, _) = l.sources.line_col(loc.file, loc.span.start);
                                format!(" ({}:{line})", l.sources.files[loc.file].name)
                            },
                        );
                        format!("`{}` from {}{at}", e.path, e.from)
                    })
                    .collect();
                for d in &mut ds {
                    d.message = format!(
                        "{} (from {q}, with the dated changes in force then)",
                        d.message
                    );
                    let more = format!("dated changes acting in {q}: {}", acting.join("; "));
                    d.hint = Some(match d.hint.take() {
                        Some(h) => format!("{h}\n{more}"),
                        None => more,
                    });
                }
            }
            ds
        })
    };
    let mut sc = at(start)?;
    for q in schedule::breakpoints(&entries, start, horizon) {
        let later = at(q)?;
        sc.timeline.push((q, later));
    }
    sc.schedule = entries;
    Ok(sc)
}

/// Adds to a diagnostic how the composed values it is about came about, so
/// that a rule broken by composition names every file that took part.
fn name_composed(d: &mut Diagnostic, chains: &compose::Chains, sources: &Sources) {
    let Some(key) = d.key.as_deref() else {
        return;
    };
    let composed: Vec<String> = chains
        .iter()
        .filter(|(p, c)| (*p == key || p.starts_with(&format!("{key}."))) && c.composed())
        .map(|(p, c)| format!("`{p}` = {}", c.describe(sources)))
        .collect();
    if composed.is_empty() {
        return;
    }
    let shown = composed.len().min(3);
    let mut note = format!("composed: {}", composed[..shown].join("; "));
    if composed.len() > shown {
        note.push_str(&format!("; and {} more", composed.len() - shown));
    }
    d.hint = Some(match d.hint.take() {
        Some(h) => format!("{h}\n{note}"),
        None => note,
    });
}

/// FNV-1a, 64 bit: a stable content hash (not for security).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}
