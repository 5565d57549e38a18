//! Relative values and the composition of the patches of a package.
//!
//! A file that extends another may write a number relative to the value it
//! extends: `{ factor = 1.15 }` multiplies it, `{ add = 0.002 }` adds to it.
//! On a table (a band table, a phase row, a transition as a whole) the
//! change applies to every number in it; on a transition it applies to the
//! probabilities (`all`, `under40`, `over40`, `ages`), not to its multipliers.
//! `{ override = VALUE }` is an absolute value that replaces, on purpose,
//! what earlier patches of the same package wrote.
//!
//! The [`Composer`] applies the layers of one `extends` (each patch of a
//! list, then the file's own keys) over the parent, records for every value
//! the chain of steps that produced it (for `fleksim explain` and for
//! validation messages), and refuses a layer that silently replaces the
//! value an earlier layer wrote (scenarios/README.md sections 4 and 17).

use std::collections::BTreeMap;

use super::diag::{Diagnostic, Location, Sources, did_you_mean};
use super::load::{Item, Node, lookup, merge, to_value};

/// Multiplies the value it extends.
const FACTOR: &str = "factor";
/// Adds to the value it extends.
const ADD: &str = "add";
/// An absolute value that replaces earlier patches' values on purpose.
const OVERRIDE: &str = "override";

/// What one file did to one value.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// An absolute value.
    Set(toml::Value),
    /// An absolute value written as `{ override = ... }`.
    Override(toml::Value),
    Factor(f64),
    Add(f64),
}

/// One step of a [`Chain`].
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub op: Op,
    /// Where the step is written (the key).
    pub at: Location,
    /// The value after the step.
    pub result: toml::Value,
}

/// How one value of the merged document came about in one `extends`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Chain {
    /// The value in what the file extends and where it was written; None if
    /// it was not set there.
    pub base: Option<(toml::Value, Location)>,
    pub steps: Vec<Step>,
}

impl Chain {
    /// Whether the value is more than one plain setting: a relative step,
    /// an override, or values from several files.
    pub fn composed(&self) -> bool {
        self.steps.len() > 1 || self.steps.iter().any(|s| !matches!(s.op, Op::Set(_)))
    }

    /// The chain in one line: `0.75 (file:line) + 0.1 (file:line) x 1.2 (file:line) = 1.02`.
    pub fn describe(&self, sources: &Sources) -> String {
        let at = |loc: &Location| {
            let (line, _) = sources.line_col(loc.file, loc.span.start);
            format!("{}:{line}", sources.files[loc.file].name)
        };
        let mut parts = Vec::new();
        if let Some((v, loc)) = &self.base {
            parts.push(format!("{} ({})", show(v), at(loc)));
        }
        for s in &self.steps {
            parts.push(format!("{} ({})", s.op, at(&s.at)));
        }
        if let Some(last) = self.steps.last() {
            parts.push(format!("= {}", show(&last.result)));
        }
        parts.join(" ")
    }
}

impl std::fmt::Display for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Op::Set(v) => write!(f, "set {}", show(v)),
            Op::Override(v) => write!(f, "override {}", show(v)),
            Op::Factor(x) => write!(f, "x {x}"),
            Op::Add(x) if *x < 0.0 => write!(f, "- {}", -x),
            Op::Add(x) => write!(f, "+ {x}"),
        }
    }
}

/// A value for messages: numbers to 10 significant digits, the rest as TOML.
pub fn show(v: &toml::Value) -> String {
    match v {
        toml::Value::Float(x) if x.is_finite() && *x != 0.0 => {
            let digits = (9 - x.abs().log10().floor() as i32).clamp(0, 17) as usize;
            let s = format!("{x:.digits$}");
            let s = if s.contains('.') {
                s.trim_end_matches('0').trim_end_matches('.').to_string()
            } else {
                s
            };
            if s.contains('.') { s } else { format!("{s}.0") }
        }
        _ => v.to_string(),
    }
}

/// Every value's chain, by key path.
pub type Chains = BTreeMap<String, Chain>;

/// What a layer did at a path, for the conflict rules.
#[derive(Debug)]
enum Kind {
    Relative,
    Set(toml::Value),
    Override(toml::Value),
}

#[derive(Debug)]
struct Record {
    layer: usize,
    path: String,
    kind: Kind,
    at: Location,
}

/// Applies the layers of one `extends` over its parent (see the module docs).
#[derive(Default)]
pub(super) struct Composer {
    /// The layer being applied: 1 for the first patch (or the file's own
    /// keys if it has one parent), counting up.
    layer: usize,
    records: Vec<Record>,
    /// Conflicts found so far, with the layer and path of the later value:
    /// a later override of the same value settles them.
    pending: Vec<(usize, String, Diagnostic)>,
    pub chains: Chains,
}

fn join(segs: &[&str]) -> String {
    segs.join(".")
}

fn is_modifier(key: &str) -> bool {
    matches!(key, FACTOR | ADD | OVERRIDE)
}

/// Whether `item`, the value at `segs`, is written as a relative value or an
/// override. The tables whose keys are ids (`[gates]`, `[assessments]`,
/// `[uncertainty]`) never are, nor the dated changes of `[[schedule]]`,
/// whose `factor` and `add` are their own.
pub(super) fn is_relative(segs: &[&str], item: &Item) -> bool {
    let Node::Table(t) = &item.node else {
        return false;
    };
    !matches!(segs, ["gates" | "assessments" | "uncertainty"])
        && !segs.first().is_some_and(|s| s.starts_with("schedule"))
        && t.keys().any(|k| is_modifier(k))
}

/// Whether `item` is a table whose every entry is a relative value: a band
/// or share table changed entry by entry, which merges key by key instead
/// of replacing the parent's table.
pub(super) fn all_relative(segs: &[&str], item: &Item) -> bool {
    let Node::Table(t) = &item.node else {
        return false;
    };
    !t.is_empty()
        && t.iter().all(|(k, it)| {
            let mut sub = segs.to_vec();
            sub.push(k);
            is_relative(&sub, it)
        })
}

/// The first relative value at or inside `item` (at `segs`): its path, the
/// location of its key, and the modifier written.
fn find_relative(segs: &[&str], item: &Item) -> Option<(String, Location, String)> {
    if is_relative(segs, item) {
        let Node::Table(t) = &item.node else {
            unreachable!("a relative value is a table")
        };
        let (k, it) = t.iter().find(|(k, _)| is_modifier(k)).expect("a modifier");
        return Some((join(segs), it.key.clone(), k.clone()));
    }
    match &item.node {
        Node::Table(t) => t.iter().find_map(|(k, it)| {
            let mut sub = segs.to_vec();
            sub.push(k);
            find_relative(&sub, it)
        }),
        Node::Array(items) => items.iter().enumerate().find_map(|(i, it)| {
            let last = format!("{}[{i}]", segs.last().copied().unwrap_or(""));
            let mut sub = segs[..segs.len().saturating_sub(1)].to_vec();
            sub.push(&last);
            find_relative(&sub, it)
        }),
        Node::Leaf(_) => None,
    }
}

/// Refuses a relative value or an override in a file that extends nothing.
pub(super) fn reject_relative(table: &BTreeMap<String, Item>) -> Result<(), Diagnostic> {
    for (k, it) in table {
        if let Some((path, at, modifier)) = find_relative(&[k.as_str()], it) {
            let message = if modifier == OVERRIDE {
                "`override` in a file that extends nothing: there is no value to override".into()
            } else {
                format!(
                    "`{modifier}` in a file that extends nothing: a relative value needs a value to change"
                )
            };
            return Err(Diagnostic {
                location: Some(at),
                key: Some(path),
                message,
                hint: Some(
                    "write the number itself, or add `extends = \"...\"` naming the file it changes"
                        .into(),
                ),
            });
        }
    }
    Ok(())
}

fn error(at: &Location, path: &str, message: String, hint: Option<String>) -> Diagnostic {
    Diagnostic {
        location: Some(at.clone()),
        key: Some(path.to_string()),
        message,
        hint,
    }
}

/// Whether a change of the value at `a` and one at `b` touch the same
/// number: one path contains the other, or one is a transition's `all` and
/// the other its `under40` or `over40` (`all` drops them, they shadow it),
/// or one is a transition's `ages` and the other any of its probabilities.
fn overlap(a: &str, b: &str) -> bool {
    if a == b || b.starts_with(&format!("{a}.")) || a.starts_with(&format!("{b}.")) {
        return true;
    }
    let sa: Vec<&str> = a.split('.').collect();
    let sb: Vec<&str> = b.split('.').collect();
    sa.len() >= 4
        && sb.len() >= 4
        && sa[0] == "transitions"
        && sa[..3] == sb[..3]
        && sa[3] != sb[3]
        && (sa[3] == "all" || sb[3] == "all" || sa[3] == "ages" || sb[3] == "ages")
        && ["all", "under40", "over40", "ages"].contains(&sa[3])
        && ["all", "under40", "over40", "ages"].contains(&sb[3])
}

/// Whether two absolute values written at overlapping paths agree.
fn agree(a: &str, va: &toml::Value, b: &str, vb: &toml::Value) -> bool {
    if a == b {
        return va == vb;
    }
    if let Some(rest) = b.strip_prefix(&format!("{a}.")) {
        return lookup(va, rest) == Some(vb);
    }
    if let Some(rest) = a.strip_prefix(&format!("{b}.")) {
        return lookup(vb, rest) == Some(va);
    }
    false
}

/// Paths whose values patches may write again: the package's `name` and
/// `description`, and `[uncertainty]` entries, which merge field by field
/// (scenarios/README.md section 19).
fn exempt(path: &str) -> bool {
    path == "name"
        || path == "description"
        || path == "schedule"
        || path.starts_with("schedule[")
        || path == "uncertainty"
        || path.starts_with("uncertainty.")
}

fn number(v: &toml::Value) -> Option<f64> {
    v.as_float().or_else(|| v.as_integer().map(|i| i as f64))
}

/// Every leaf (number, string, boolean, array) at or below `item`, with its path.
fn leaves<'a>(path: &str, item: &'a Item, out: &mut Vec<(String, &'a Item)>) {
    match &item.node {
        Node::Table(t) => {
            for (k, it) in t {
                leaves(&format!("{path}.{k}"), it, out);
            }
        }
        _ => out.push((path.to_string(), item)),
    }
}

fn value_of(item: &Item) -> toml::Value {
    to_value(&item.node, "", &mut Default::default())
}

impl Composer {
    /// Starts the next layer (a patch, or the file's own keys).
    pub fn next_layer(&mut self) {
        self.layer += 1;
    }

    /// Records the absolute value `new` written at `segs` over `old` (None:
    /// not set before), after checking the conflict rules.
    pub fn set(
        &mut self,
        segs: &[&str],
        siblings: &BTreeMap<String, Item>,
        new: &Item,
        is_override: bool,
        sources: &Sources,
    ) -> Result<(), Diagnostic> {
        let path = join(segs);
        let key = segs.last().copied().unwrap_or("");
        let old = siblings.get(key);
        if let Some((rel, at, modifier)) = find_relative(segs, new) {
            let message = match old {
                _ if is_override => {
                    format!("`{OVERRIDE}` takes an absolute value, not `{modifier}`")
                }
                Some(_) => format!(
                    "`{modifier}` inside a table that replaces the one it extends whole; write every entry of the table as a relative value, or none"
                ),
                None => format!(
                    "`{modifier}` changes a value that what this file extends does not have: there is no `{key}` here"
                ),
            };
            let hint = match old {
                None => did_you_mean(key, siblings.keys().map(String::as_str)).or_else(|| {
                    (!siblings.is_empty()).then(|| {
                        let names: Vec<&str> = siblings.keys().map(String::as_str).collect();
                        format!("keys here: {}", names.join(", "))
                    })
                }),
                Some(_) => None,
            };
            return Err(error(&at, &rel, message, hint));
        }
        if exempt(&path) {
            return Ok(());
        }
        let value = value_of(new);
        if !is_override && let Err(d) = self.check(&path, &value, &new.key, sources) {
            self.pending.push((self.layer, path.clone(), d));
        }
        self.records.push(Record {
            layer: self.layer,
            path: path.clone(),
            kind: if is_override {
                Kind::Override(value)
            } else {
                Kind::Set(value)
            },
            at: new.key.clone(),
        });
        let mut before = Vec::new();
        if let Some(o) = old {
            leaves(&path, o, &mut before);
        }
        let mut after = Vec::new();
        leaves(&path, new, &mut after);
        for (p, it) in after {
            let v = value_of(it);
            let chain = self.chains.entry(p.clone()).or_insert_with(|| Chain {
                base: before
                    .iter()
                    .find(|(q, _)| *q == p)
                    .map(|(_, o)| (value_of(o), o.key.clone())),
                steps: Vec::new(),
            });
            chain.steps.push(Step {
                op: if is_override {
                    Op::Override(v.clone())
                } else {
                    Op::Set(v.clone())
                },
                at: new.key.clone(),
                result: v,
            });
        }
        Ok(())
    }

    /// The conflict rules: an absolute value may not replace a value that
    /// an earlier layer wrote, unless both are equal (or an override
    /// between them has settled the earlier one).
    fn check(
        &self,
        path: &str,
        value: &toml::Value,
        at: &Location,
        sources: &Sources,
    ) -> Result<(), Diagnostic> {
        let settled = |e: &Record| {
            self.records.iter().any(|o| {
                matches!(o.kind, Kind::Override(_))
                    && o.layer > e.layer
                    && overlap(&o.path, &e.path)
            })
        };
        let clash = self.records.iter().rev().find(|e| {
            e.layer < self.layer
                && overlap(&e.path, path)
                && !settled(e)
                && match &e.kind {
                    Kind::Relative => true,
                    Kind::Set(v) | Kind::Override(v) => !agree(&e.path, v, path, value),
                }
        });
        let Some(e) = clash else {
            return Ok(());
        };
        let (line, _) = sources.line_col(e.at.file, e.at.span.start);
        let other = format!("{}:{line}", sources.files[e.at.file].name);
        let what = if e.path == path {
            "it".to_string()
        } else {
            format!("`{}`", e.path)
        };
        let message = match &e.kind {
            Kind::Relative => format!(
                "an absolute value after a relative one: {other} (an earlier patch) changes {what} relatively, and this value would silently replace that change"
            ),
            Kind::Set(v) | Kind::Override(v) => format!(
                "set by two patches: {other} (an earlier patch) sets {what} to {}, and this value would silently replace it",
                show(v)
            ),
        };
        Err(error(
            at,
            path,
            message,
            Some(format!(
                "to replace it on purpose write `{{ {OVERRIDE} = ... }}` here or in the package file; to combine the two effects write both as `{{ {FACTOR} = ... }}` or `{{ {ADD} = ... }}`"
            )),
        ))
    }

    /// The first conflict that no later override settled, once every layer
    /// is applied.
    pub fn finish(self) -> Result<Chains, Diagnostic> {
        let settled = |layer: usize, path: &str| {
            self.records.iter().any(|o| {
                matches!(o.kind, Kind::Override(_)) && o.layer > layer && overlap(&o.path, path)
            })
        };
        match self
            .pending
            .into_iter()
            .find(|(layer, path, _)| !settled(*layer, path))
        {
            Some((_, _, d)) => Err(d),
            None => Ok(self.chains),
        }
    }

    /// Applies the relative value or override `child` written at `segs`
    /// over the value in `parent` (see the module docs).
    pub fn apply(
        &mut self,
        segs: &[&str],
        parent: &mut BTreeMap<String, Item>,
        child: Item,
        sources: &Sources,
    ) -> Result<(), Diagnostic> {
        let path = join(segs);
        let key = segs.last().copied().unwrap_or("").to_string();
        let Node::Table(t) = child.node else {
            unreachable!("a relative value is a table")
        };
        let mut modifiers = Vec::new();
        let mut rest = BTreeMap::new();
        for (k, v) in t {
            if is_modifier(&k) {
                modifiers.push((k, v));
            } else {
                rest.insert(k, v);
            }
        }
        if modifiers.len() > 1 {
            let names: Vec<String> = modifiers.iter().map(|(k, _)| format!("`{k}`")).collect();
            return Err(error(
                &modifiers[1].1.key,
                &path,
                format!(
                    "{} together: a value takes one of `{FACTOR}`, `{ADD}` or `{OVERRIDE}`",
                    names.join(" and ")
                ),
                Some("to scale and add, write the two changes in two files of the package".into()),
            ));
        }
        let (modifier, given) = modifiers.pop().expect("a relative value has a modifier");
        let row = matches!(segs, ["transitions", _, _]);
        if let Some((k, it)) = rest.iter().next()
            && (!row
                || modifier == OVERRIDE
                || rest
                    .keys()
                    .any(|k| matches!(k.as_str(), "all" | "under40" | "over40" | "ages")))
        {
            return Err(error(
                &it.key,
                &format!("{path}.{k}"),
                format!("`{k}` next to `{modifier}`: a relative value or an override stands alone in its table"),
                Some(
                    "only a transition may hold `factor` or `add` next to its `multipliers` and `phase_multipliers` (the change applies to its probabilities)".into(),
                ),
            ));
        }
        if modifier == OVERRIDE {
            let item = Item {
                node: given.node,
                key: child.key,
                value: given.value,
            };
            self.set(segs, parent, &item, true, sources)?;
            parent.insert(key, item);
            return Ok(());
        }
        let Node::Leaf(v) = &given.node else {
            return Err(error(
                &given.value,
                &path,
                format!("`{modifier}` must be a number"),
                None,
            ));
        };
        let Some(x) = number(v) else {
            return Err(error(
                &given.value,
                &path,
                format!("`{modifier}` must be a number, not {v}"),
                None,
            ));
        };
        let op = if modifier == FACTOR {
            if !x.is_finite() || x < 0.0 {
                return Err(error(
                    &given.value,
                    &path,
                    format!("factor {x} must be a finite number of at least 0"),
                    Some("to lower a value write a factor below 1 (`{ factor = 0.8 }`), or `{ add = -0.01 }`".into()),
                ));
            }
            Op::Factor(x)
        } else {
            if !x.is_finite() {
                return Err(error(
                    &given.value,
                    &path,
                    format!("addition {x} must be a finite number"),
                    None,
                ));
            }
            Op::Add(x)
        };
        let names: Vec<String> = parent.keys().cloned().collect();
        let Some(p) = parent.get_mut(&key) else {
            let hint = did_you_mean(&key, names.iter().map(String::as_str)).or_else(|| {
                (!names.is_empty()).then(|| format!("keys here: {}", names.join(", ")))
            });
            return Err(error(
                &child.key,
                &path,
                format!(
                    "`{modifier}` changes a value that what this file extends does not have: there is no `{key}` here"
                ),
                hint,
            ));
        };
        let owned: Vec<String> = segs.iter().map(|s| s.to_string()).collect();
        let mut touched = Vec::new();
        self.scale(
            &owned,
            &path,
            p,
            &op,
            &child.key,
            &given.value,
            &mut touched,
        );
        if touched.is_empty() {
            let what = match &p.node {
                Node::Leaf(v) => format!("a {}", v.type_str()),
                Node::Array(_) => "an array without numbers".to_string(),
                Node::Table(_) => "a table without numbers".to_string(),
            };
            return Err(error(
                &child.key,
                &path,
                format!(
                    "`{modifier}` on a value that is not a number: what this file extends has {what} here"
                ),
                Some("a relative value changes numbers only; write the new value itself".into()),
            ));
        }
        // Recorded number by number: a relative value on a transition leaves
        // its multipliers to other patches.
        for leaf in touched {
            self.records.push(Record {
                layer: self.layer,
                path: leaf,
                kind: Kind::Relative,
                at: child.key.clone(),
            });
        }
        p.key = child.key;
        p.value = child.value;
        if !rest.is_empty() {
            let Node::Table(pt) = &mut p.node else {
                unreachable!("a transition is a table")
            };
            merge(segs, pt, rest, self, sources)?;
        }
        Ok(())
    }

    /// Applies `op` to every number at or below `item` (at `segs`, path
    /// `path`); in a transition only to its probabilities.
    #[allow(clippy::too_many_arguments)]
    fn scale(
        &mut self,
        segs: &[String],
        path: &str,
        item: &mut Item,
        op: &Op,
        key: &Location,
        value: &Location,
        touched: &mut Vec<String>,
    ) {
        let in_row = segs.len() == 3 && segs[0] == "transitions";
        match &mut item.node {
            Node::Leaf(v) => {
                let Some(x) = number(v) else {
                    return;
                };
                let y = match op {
                    Op::Factor(f) => x * f,
                    Op::Add(a) => x + a,
                    Op::Set(_) | Op::Override(_) => unreachable!("not relative"),
                };
                let new = match v {
                    toml::Value::Integer(_) if y.fract() == 0.0 && y.abs() < 9.0e15 => {
                        toml::Value::Integer(y as i64)
                    }
                    _ => toml::Value::Float(y),
                };
                let chain = self
                    .chains
                    .entry(path.to_string())
                    .or_insert_with(|| Chain {
                        base: Some((v.clone(), item.key.clone())),
                        steps: Vec::new(),
                    });
                chain.steps.push(Step {
                    op: op.clone(),
                    at: key.clone(),
                    result: new.clone(),
                });
                *v = new;
                item.key = key.clone();
                item.value = value.clone();
                touched.push(path.to_string());
            }
            Node::Array(items) => {
                for (i, it) in items.iter_mut().enumerate() {
                    self.scale(segs, &format!("{path}[{i}]"), it, op, key, value, touched);
                }
            }
            Node::Table(t) => {
                for (k, it) in t.iter_mut() {
                    if in_row && !matches!(k.as_str(), "all" | "under40" | "over40" | "ages") {
                        continue;
                    }
                    let mut sub = segs.to_vec();
                    sub.push(k.clone());
                    self.scale(&sub, &format!("{path}.{k}"), it, op, key, value, touched);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_paths() {
        assert!(overlap("a.b", "a.b"));
        assert!(overlap("a.b", "a.b.c"));
        assert!(!overlap("a.b", "a.bc"));
        assert!(overlap(
            "transitions.x.y.all",
            "transitions.x.y.under40.1-4"
        ));
        assert!(!overlap(
            "transitions.x.y.under40",
            "transitions.x.y.over40"
        ));
        assert!(!overlap("transitions.x.y.all", "transitions.x.z.under40"));
    }

    #[test]
    fn values_show_to_ten_digits() {
        assert_eq!(show(&toml::Value::Float(0.0234 * 0.95 * 1.15)), "0.0255645");
        assert_eq!(show(&toml::Value::Float(3.0)), "3.0");
        assert_eq!(show(&toml::Value::Float(1234.5)), "1234.5");
        assert_eq!(show(&toml::Value::Integer(7)), "7");
        assert_eq!(Op::Add(-0.01).to_string(), "- 0.01");
        assert_eq!(Op::Factor(1.15).to_string(), "x 1.15");
    }
}
