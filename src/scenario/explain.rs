//! What a scenario changes relative to the file(s) it extends, in plain words.
//!
//! The merged document of the scenario is compared, leaf by leaf, with the
//! merged document of its parent(s). Each change is reported with the old
//! and new value and the comment written next to the changed key in the
//! file that made the change (a trailing `# ...`, or the comment lines just
//! above the key).

use std::path::Path;

use super::compose::{self, Chain};
use super::diag::{Location, ScenarioError, Sources};
use super::load;
use super::model::ScheduleOp;

/// One changed setting.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// Key path, e.g. `gates.ressourceforloeb_minimum_one_year.enabled`.
    pub path: String,
    /// The parent's value (TOML syntax), None if the parent does not set it.
    pub old: Option<String>,
    /// The scenario's value, None if removed.
    pub new: Option<String>,
    /// The comment that justifies the change, if any.
    pub comment: Option<String>,
    /// `file:line` where the change is written.
    pub at: Option<String>,
    /// For a composed value (a factor, an addition, an override, or values
    /// from several files): the value it started from, then each step.
    pub chain: Vec<Link>,
}

/// One step of a composed value.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    /// The value it started from (`0.0234`), or the step (`x 0.95`,
    /// `+ 0.002`, `set 0.3`, `override 0.95`).
    pub what: String,
    /// `file:line` where it is written.
    pub at: Option<String>,
    /// The comment written next to it.
    pub comment: Option<String>,
}

/// The explanation of one scenario file.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    pub name: String,
    pub description: String,
    /// The comment block at the top of the file.
    pub header: Vec<String>,
    /// Whether the file extends anything.
    pub extends: bool,
    pub changes: Vec<Change>,
    /// Dated changes in force in the merged scenario (its own and its
    /// parents'), each described with where it is written and its comment.
    pub dated: Vec<Change>,
}

/// Explains `path` (see the module docs).
pub fn explain(path: &Path) -> Result<Explanation, ScenarioError> {
    let own = load::load_file(path)?;
    // Every set of numbers a schedule puts in force must be valid too.
    let sc = super::validated(&own, String::new()).map_err(|diagnostics| ScenarioError {
        sources: own.sources.clone(),
        diagnostics,
    })?;
    let parent = load::load_parent(path)?;
    let mut changes = Vec::new();
    let empty = toml::Value::Table(toml::Table::new());
    diff(
        "",
        parent.as_ref().unwrap_or(&empty),
        &own.value,
        &mut changes,
    );
    // Uncertainty ranges describe parameters; they change nothing in a run.
    // Dated changes are listed one by one below.
    changes.retain(|c| {
        c.path != "uncertainty"
            && !c.path.starts_with("uncertainty.")
            && c.path != "schedule"
            && !c.path.starts_with("schedule[")
    });
    let dated = sc
        .schedule
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let op = match e.op {
                ScheduleOp::Factor(f) => format!("x {f}"),
                ScheduleOp::Add(a) => format!("+ {a}"),
                ScheduleOp::Value(x) => format!("to {x}"),
            };
            let when = match e.until {
                None => format!("from {}", e.from),
                Some(u) => format!("from {} in equal steps, in full from {u}", e.from),
            };
            let mut c = Change {
                path: e.path.clone(),
                old: None,
                new: Some(format!("{op} {when}")),
                at: None,
                comment: None,
                chain: Vec::new(),
            };
            if let Some(loc) = own.origins.key(&format!("schedule[{i}]")) {
                let (line, _) = own.sources.line_col(loc.file, loc.span.start);
                c.at = Some(format!("{}:{line}", own.sources.files[loc.file].name));
            }
            // The comment written beside the change itself (its `factor`,
            // `add` or `value`).
            let key = ["factor", "add", "value"]
                .iter()
                .find_map(|k| own.origins.key(&format!("schedule[{i}].{k}")));
            if let Some(loc) = key {
                let (line, _) = own.sources.line_col(loc.file, loc.span.start);
                c.comment = comment_at(&own.sources, loc.file, line);
            }
            c
        })
        .collect();
    for c in &mut changes {
        if let Some(loc) = own.origins.key(&c.path) {
            let (line, _) = own.sources.line_col(loc.file, loc.span.start);
            c.at = Some(format!("{}:{line}", own.sources.files[loc.file].name));
            c.comment = comment_at(&own.sources, loc.file, line);
        }
        if let Some(chain) = own.chains.get(&c.path).filter(|ch| ch.composed()) {
            c.chain = links(chain, &own.sources);
            if let Some(last) = chain.steps.last() {
                c.new = Some(compose::show(&last.result));
            }
        }
    }
    let text = &own.sources.files[0].text;
    let header = text
        .lines()
        .take_while(|l| l.trim_start().starts_with('#') || l.trim().is_empty())
        .filter_map(|l| {
            l.trim_start()
                .strip_prefix('#')
                .map(|c| c.trim().to_string())
        })
        .collect();
    Ok(Explanation {
        name: own.raw.name.clone(),
        description: own.raw.description.clone(),
        header,
        extends: parent.is_some(),
        changes,
        dated,
    })
}

/// A chain as links: the value it started from, each step, with place and comment.
fn links(chain: &Chain, sources: &Sources) -> Vec<Link> {
    let link = |what: String, loc: &Location, with_comment: bool| {
        let (line, _) = sources.line_col(loc.file, loc.span.start);
        Link {
            what,
            at: Some(format!("{}:{line}", sources.files[loc.file].name)),
            comment: if with_comment {
                comment_at(sources, loc.file, line)
            } else {
                None
            },
        }
    };
    let mut out = Vec::new();
    match &chain.base {
        Some((v, loc)) => out.push(link(compose::show(v), loc, false)),
        None => out.push(Link {
            what: "(not set)".into(),
            at: None,
            comment: None,
        }),
    }
    for s in &chain.steps {
        out.push(link(s.op.to_string(), &s.at, true));
    }
    out
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Leaf-by-leaf differences; arrays and scalars compare as whole values.
fn diff(path: &str, old: &toml::Value, new: &toml::Value, out: &mut Vec<Change>) {
    match (old, new) {
        (toml::Value::Table(a), toml::Value::Table(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let p = join(path, k);
                match (a.get(k), b.get(k)) {
                    (Some(x), Some(y)) => diff(&p, x, y, out),
                    (None, Some(y)) => added(&p, y, out),
                    (Some(x), None) => out.push(change(&p, Some(x), None)),
                    (None, None) => {}
                }
            }
        }
        _ if old == new => {}
        _ => out.push(change(path, Some(old), Some(new))),
    }
}

fn added(path: &str, v: &toml::Value, out: &mut Vec<Change>) {
    match v {
        toml::Value::Table(t) => {
            for (k, x) in t {
                added(&join(path, k), x, out);
            }
        }
        _ => out.push(change(path, None, Some(v))),
    }
}

fn change(path: &str, old: Option<&toml::Value>, new: Option<&toml::Value>) -> Change {
    Change {
        path: path.to_string(),
        old: old.map(ToString::to_string),
        new: new.map(ToString::to_string),
        comment: None,
        at: None,
        chain: Vec::new(),
    }
}

/// The trailing comment on `line` (1-based), else the comment lines just above it.
fn comment_at(sources: &Sources, file: usize, line: usize) -> Option<String> {
    let lines: Vec<&str> = sources.files[file].text.lines().collect();
    let this = lines.get(line - 1)?;
    if let Some(c) = trailing_comment(this) {
        return Some(c);
    }
    let mut above = Vec::new();
    let mut i = line - 1;
    while i > 0 {
        let l = lines[i - 1].trim();
        match l.strip_prefix('#') {
            Some(c) => above.push(c.trim().to_string()),
            None => break,
        }
        i -= 1;
    }
    above.reverse();
    (!above.is_empty()).then(|| above.join(" "))
}

/// The text after a `#` that is not inside a string.
fn trailing_comment(line: &str) -> Option<String> {
    let mut in_str: Option<char> = None;
    for (i, ch) in line.char_indices() {
        match (in_str, ch) {
            (None, '"' | '\'') => in_str = Some(ch),
            (Some(q), c) if c == q => in_str = None,
            (None, '#') => return Some(line[i + 1..].trim().to_string()).filter(|s| !s.is_empty()),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_comments_ignore_hashes_in_strings() {
        assert_eq!(trailing_comment("x = 1 # why"), Some("why".into()));
        assert_eq!(trailing_comment("x = \"a#b\" # why"), Some("why".into()));
        assert_eq!(trailing_comment("x = \"a#b\""), None);
    }

    #[test]
    fn diff_reports_changed_added_and_removed_leaves() {
        let a: toml::Value = toml::from_str("[t]\nx = 1\ny = 2\nz = [1]\n").unwrap();
        let b: toml::Value = toml::from_str("[t]\nx = 1\ny = 3\nw = 4\n").unwrap();
        let mut out = Vec::new();
        diff("", &a, &b, &mut out);
        let got: Vec<(String, Option<String>, Option<String>)> =
            out.into_iter().map(|c| (c.path, c.old, c.new)).collect();
        assert_eq!(
            got,
            vec![
                ("t.w".into(), None, Some("4".into())),
                ("t.y".into(), Some("2".into()), Some("3".into())),
                ("t.z".into(), Some("[1]".into()), None),
            ]
        );
    }
}
