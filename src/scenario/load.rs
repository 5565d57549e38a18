//! Reading scenario files: TOML syntax, `extends` chains, merging, origins.
//!
//! A scenario file may name a parent with `extends = "baseline.toml"`
//! (resolved relative to the file). The child is merged over the parent:
//! tables merge key by key, recursively; any other value (number, string,
//! array) replaces the parent's. The merged document keeps, for every key
//! path, the file and byte span it came from, so that a semantic error found
//! later points at the right line of the right file.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::de::{DeTable, DeValue};

use super::compose::{self, Chains, Composer};
use super::diag::{Diagnostic, Location, Origins, ScenarioError, Sources, did_you_mean};
use super::raw::RawScenario;

/// A scenario document after syntax checks and `extends` merging.
pub struct Loaded {
    pub raw: RawScenario,
    /// The merged document.
    pub value: toml::Value,
    pub origins: Origins,
    pub sources: Sources,
    /// The merged document as TOML text (canonical; hashed for the manifest).
    pub canonical: String,
    /// How the values set by the top file's `extends` layers came about.
    pub chains: Chains,
}

#[derive(Debug, Clone)]
pub(super) enum Node {
    Table(BTreeMap<String, Item>),
    Array(Vec<Item>),
    Leaf(toml::Value),
}

#[derive(Debug, Clone)]
pub(super) struct Item {
    pub node: Node,
    pub key: Location,
    pub value: Location,
}

struct Loader {
    sources: Sources,
    stack: Vec<PathBuf>,
    /// Resolve only what the root file extends, without the root's own keys.
    parent_only: bool,
    /// The chains of the last file whose `extends` was applied (the root's,
    /// once loading is done).
    chains: Chains,
}

/// Loads a scenario file from disk, following `extends`.
pub fn load_file(path: &Path) -> Result<Loaded, ScenarioError> {
    let mut loader = Loader {
        sources: Sources::default(),
        stack: Vec::new(),
        parent_only: false,
        chains: Chains::default(),
    };
    let root = loader.file(path, None)?;
    finish(root, loader.sources, loader.chains)
}

/// The merged document a file extends (without the file's own keys), or
/// None if it extends nothing.
pub fn load_parent(path: &Path) -> Result<Option<toml::Value>, ScenarioError> {
    let mut loader = Loader {
        sources: Sources::default(),
        stack: Vec::new(),
        parent_only: true,
        chains: Chains::default(),
    };
    let root = loader.file(path, None)?;
    if loader.sources.files.len() == 1 {
        return Ok(None);
    }
    Ok(Some(to_value(&root.node, "", &mut Origins::default())))
}

/// Loads a scenario from text. `name` is shown in messages; `dir` is where
/// a relative `extends` is resolved (None: `extends` is an error).
pub fn load_text(name: &str, text: &str, dir: Option<&Path>) -> Result<Loaded, ScenarioError> {
    let mut loader = Loader {
        sources: Sources::default(),
        stack: Vec::new(),
        parent_only: false,
        chains: Chains::default(),
    };
    let root = loader.text(name.to_string(), text.to_string(), dir)?;
    finish(root, loader.sources, loader.chains)
}

impl Loader {
    fn failed(&self, diagnostic: Diagnostic) -> ScenarioError {
        ScenarioError {
            sources: self.sources.clone(),
            diagnostics: vec![diagnostic],
        }
    }

    fn fail(
        &self,
        location: Option<Location>,
        key: Option<&str>,
        message: String,
    ) -> ScenarioError {
        ScenarioError {
            sources: self.sources.clone(),
            diagnostics: vec![Diagnostic {
                location,
                key: key.map(str::to_string),
                message,
                hint: None,
            }],
        }
    }

    fn file(&mut self, path: &Path, from: Option<Location>) -> Result<Item, ScenarioError> {
        if self.stack.len() >= super::limits::MAX_EXTENDS_DEPTH {
            let msg = super::limits::chain_too_deep(&self.stack, path);
            return Err(self.fail(from, Some("extends"), msg));
        }
        let text = match super::read::read_input(path) {
            Ok(t) => t,
            Err(e) => {
                let msg = if from.is_some() {
                    format!("cannot read parent scenario {}: {e}", path.display())
                } else {
                    format!("cannot read scenario file {}: {e}", path.display())
                };
                let key = from.as_ref().map(|_| "extends");
                let mut err = self.fail(from, key, msg);
                if e.kind() == std::io::ErrorKind::NotFound {
                    err.diagnostics[0].hint = similar_file(path);
                }
                return Err(err);
            }
        };
        let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        if let Some(pos) = self.stack.iter().position(|p| *p == canonical) {
            let chain: Vec<String> = self.stack[pos..]
                .iter()
                .chain(std::iter::once(&canonical))
                .map(|p| p.display().to_string())
                .collect();
            return Err(self.fail(
                from,
                Some("extends"),
                format!("`extends` forms a cycle: {}", chain.join(" -> ")),
            ));
        }
        self.stack.push(canonical);
        let dir = path.parent().map(Path::to_path_buf);
        let res = self.text(path.display().to_string(), text, dir.as_deref());
        self.stack.pop();
        res
    }

    fn text(
        &mut self,
        name: String,
        text: String,
        dir: Option<&Path>,
    ) -> Result<Item, ScenarioError> {
        let file = self.sources.add(name, text);
        let text = self.sources.files[file].text.clone();
        let doc = match DeTable::parse(&text) {
            Ok(doc) => doc,
            Err(e) => return Err(self.failed(syntax_error(file, &text, &e))),
        };
        let whole = Location {
            file,
            span: 0..text.len(),
        };
        let mut table = convert_table(doc.get_ref(), file);
        // A file loaded as itself without a `name` of its own is named after
        // the file, not after what it extends.
        if self.stack.len() == 1
            && !table.contains_key("name")
            && let Some(stem) = self.stack[0].file_stem().and_then(|s| s.to_str())
        {
            let at = Location { file, span: 0..0 };
            table.insert(
                "name".to_string(),
                Item {
                    node: Node::Leaf(toml::Value::String(name_from_stem(stem))),
                    key: at.clone(),
                    value: at,
                },
            );
        }
        let Some(ext) = table.remove("extends") else {
            compose::reject_relative(&table).map_err(|d| self.failed(d))?;
            self.chains = Chains::default();
            self.sources.applied.push(file);
            return Ok(Item {
                node: Node::Table(table),
                key: whole.clone(),
                value: whole,
            });
        };
        // `extends = "a.toml"`, or a list `["base.toml", "patch1.toml", ...]`:
        // the first file is resolved in full, each later one is applied as a
        // patch with only its own keys (its own `extends` is not followed).
        let names: Vec<(String, Location)> = match &ext.node {
            Node::Leaf(toml::Value::String(s)) => vec![(s.clone(), ext.value.clone())],
            Node::Array(items) if !items.is_empty() => {
                let mut names = Vec::new();
                for it in items {
                    let Node::Leaf(toml::Value::String(s)) = &it.node else {
                        return Err(self.fail(
                            Some(it.value.clone()),
                            Some("extends"),
                            "`extends` must be a file name (a string) or a list of them".into(),
                        ));
                    };
                    names.push((s.clone(), it.value.clone()));
                }
                names
            }
            _ => {
                return Err(self.fail(
                    Some(ext.value.clone()),
                    Some("extends"),
                    "`extends` must be a file name (a string) or a list of them".into(),
                ));
            }
        };
        let Some(dir) = dir else {
            return Err(self.fail(
                Some(ext.value.clone()),
                Some("extends"),
                "`extends` cannot be resolved for a scenario that is not a file".into(),
            ));
        };
        let (first, first_loc) = &names[0];
        let mut parent = self.file(&dir.join(first), Some(first_loc.clone()))?;
        let Node::Table(ptable) = &mut parent.node else {
            unreachable!("a document is a table")
        };
        // Explaining a file compares it with its base: the patches it
        // lists are part of what it changes.
        let root_parent_only = self.parent_only && self.stack.len() == 1;
        // Each patch, then the file's own keys, is one layer: relative
        // values are resolved and conflicts between layers refused.
        let mut cx = Composer::default();
        for (name, loc) in &names[1..] {
            let patch = self.patch(&dir.join(name), loc.clone())?;
            if !root_parent_only {
                cx.next_layer();
                merge(&[], ptable, patch, &mut cx, &self.sources).map_err(|d| self.failed(d))?;
                self.sources.applied.push(self.sources.files.len() - 1);
            }
        }
        if !(self.parent_only && self.stack.len() == 1) {
            cx.next_layer();
            merge(&[], ptable, table, &mut cx, &self.sources).map_err(|d| self.failed(d))?;
            self.sources.applied.push(file);
        }
        self.chains = cx.finish().map_err(|d| self.failed(d))?;
        Ok(Item {
            node: parent.node,
            key: whole.clone(),
            value: whole,
        })
    }
}

impl Loader {
    /// A file's own keys, without following its `extends` (a patch in an
    /// `extends` list).
    fn patch(
        &mut self,
        path: &Path,
        from: Location,
    ) -> Result<BTreeMap<String, Item>, ScenarioError> {
        let text = super::read::read_input(path).map_err(|e| {
            let mut err = self.fail(
                Some(from.clone()),
                Some("extends"),
                format!("cannot read patch scenario {}: {e}", path.display()),
            );
            if e.kind() == std::io::ErrorKind::NotFound {
                err.diagnostics[0].hint = similar_file(path);
            }
            err
        })?;
        let file = self.sources.add(path.display().to_string(), text);
        let text = self.sources.files[file].text.clone();
        let doc = DeTable::parse(&text).map_err(|e| self.failed(syntax_error(file, &text, &e)))?;
        let mut table = convert_table(doc.get_ref(), file);
        table.remove("extends");
        Ok(table)
    }
}

/// A scenario name made from a file stem: the characters a name may hold
/// (ASCII letters, digits, `-`, `_`, `.`), others as `-`, no leading dot.
fn name_from_stem(stem: &str) -> String {
    let name: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let name = name.trim_start_matches('.');
    if name.is_empty() {
        "scenario".to_string()
    } else {
        name.to_string()
    }
}

/// A did-you-mean for a file that does not exist: the closest name among
/// the `.toml` files of its folder.
fn similar_file(path: &Path) -> Option<String> {
    let want = path.file_name()?.to_str()?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let names: Vec<String> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| n.ends_with(".toml"))
        .collect();
    let mut best: Option<(f64, &str)> = None;
    for n in &names {
        let score = strsim::jaro_winkler(want, n);
        if score > 0.7 && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, n));
        }
    }
    best.map(|(_, n)| format!("did you mean {}?", dir.join(n).display()))
}

/// Parts of a dotted key at which the TOML parser gives up (its recursion
/// limit; nesting deeper than it is reported with a position).
const TOML_KEY_PARTS: usize = 81;

/// A TOML syntax error in `file`, at the parser's position. The parser
/// gives none for a dotted key of too many parts (its recursion limit):
/// the error then points at the first such key, or at the start of the
/// file if none is found, and always names the file.
fn syntax_error(file: usize, text: &str, e: &toml::de::Error) -> Diagnostic {
    let message = format!("TOML syntax error: {}", e.message().trim());
    let (span, hint) = match e.span() {
        Some(span) => (span, None),
        None => {
            let line = long_dotted_key(text);
            let hint = format!(
                "a dotted key may have at most {} parts{}",
                TOML_KEY_PARTS - 1,
                if line.is_none() {
                    "; the parser gives no position for this error"
                } else {
                    ""
                }
            );
            (line.unwrap_or(0..0), Some(hint))
        }
    };
    Diagnostic {
        location: Some(Location { file, span }),
        key: None,
        message,
        hint,
    }
}

/// The byte range of the first line whose key (before `=`, or a table
/// header) has at least [`TOML_KEY_PARTS`] dotted parts, counting dots
/// outside quotes.
fn long_dotted_key(text: &str) -> Option<Range<usize>> {
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let (mut dots, mut quote) = (0usize, None);
        for c in line.trim_start().chars() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => quote = Some(c),
                (None, '.') => dots += 1,
                (None, '=' | ']' | '#') => break,
                _ => {}
            }
        }
        if dots + 1 >= TOML_KEY_PARTS {
            return Some(start..start + line.trim_end().len());
        }
        start += line.len();
    }
    None
}

fn convert_table(table: &DeTable<'_>, file: usize) -> BTreeMap<String, Item> {
    table
        .iter()
        .map(|(k, v)| {
            let key = Location {
                file,
                span: k.span(),
            };
            (
                k.get_ref().to_string(),
                convert_value(
                    v.get_ref(),
                    key,
                    Location {
                        file,
                        span: v.span(),
                    },
                    file,
                ),
            )
        })
        .collect()
}

fn convert_value(v: &DeValue<'_>, key: Location, value: Location, file: usize) -> Item {
    let node = match v {
        DeValue::String(s) => Node::Leaf(toml::Value::String(s.to_string())),
        DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) => Node::Leaf(toml::Value::Integer(n)),
            Err(_) => Node::Leaf(toml::Value::Float(f64::NAN)),
        },
        DeValue::Float(f) => Node::Leaf(toml::Value::Float(f.as_str().parse().unwrap_or(f64::NAN))),
        DeValue::Boolean(b) => Node::Leaf(toml::Value::Boolean(*b)),
        DeValue::Datetime(d) => Node::Leaf(toml::Value::Datetime(*d)),
        DeValue::Array(a) => Node::Array(
            a.iter()
                .map(|e| {
                    let loc = Location {
                        file,
                        span: e.span(),
                    };
                    convert_value(e.get_ref(), loc.clone(), loc, file)
                })
                .collect(),
        ),
        DeValue::Table(t) => Node::Table(convert_table(t, file)),
    };
    Item { node, key, value }
}

/// Whether the table at `path` + `key` describes one distribution or one
/// condition as a whole, so that a child's table replaces the parent's
/// instead of merging into it (merging band or share tables would mix two
/// sets of boundaries): transition probabilities, cohort share tables, and
/// an assessment's route or a gate's or assessment's condition, and a
/// rate given by age bands.
fn replaced_whole(path: &[&str], key: &str) -> bool {
    match path {
        ["costs", "monthly"] => true,
        ["transitions", _, _] => matches!(key, "all" | "under40" | "over40" | "ages"),
        ["population", "stock" | "inflow", _] => {
            matches!(key, "age" | "duration" | "hours" | "phase")
        }
        ["assessments", _] => matches!(key, "route" | "when"),
        ["gates", _] => key == "when",
        _ => false,
    }
}

/// Merges `child` over `parent` (both at `path`): tables recursively
/// (except those [`replaced_whole`]), everything else replaced. A child
/// transition that sets `all` also drops the parent's `under40` and `over40`
/// that it does not set itself; one that sets `ages` drops the parent's
/// `all`, `under40` and `over40`, and one that sets any of those drops the
/// parent's `ages` (relative values excepted: they change the parent's).
/// Relative values are resolved against the parent's value; `cx` records
/// each value's chain and refuses a conflict with an earlier layer
/// (`compose`).
pub(super) fn merge(
    path: &[&str],
    parent: &mut BTreeMap<String, Item>,
    child: BTreeMap<String, Item>,
    cx: &mut Composer,
    sources: &Sources,
) -> Result<(), Diagnostic> {
    let sets = |key: &str| {
        child.get(key).is_some_and(|c| {
            let mut sub = path.to_vec();
            sub.push(key);
            !compose::is_relative(&sub, c)
        })
    };
    if matches!(path, ["transitions", _, _]) {
        if sets("all") {
            for age in ["under40", "over40"] {
                if !child.contains_key(age) {
                    parent.remove(age);
                }
            }
        }
        if sets("ages") {
            for key in ["all", "under40", "over40"] {
                parent.remove(key);
            }
        } else if ["all", "under40", "over40"].iter().any(|k| sets(k)) {
            parent.remove("ages");
        }
    }
    for (k, c) in child {
        let mut sub = path.to_vec();
        sub.push(&k);
        if compose::is_relative(&sub, &c) {
            cx.apply(&sub, parent, c, sources)?;
            continue;
        }
        let whole = replaced_whole(path, &k) && !compose::all_relative(&sub, &c);
        match (parent.get_mut(&k), c.node) {
            // Dated changes accumulate: every file's `[[schedule]]` entries
            // apply, parent's first.
            (Some(p), Node::Array(items)) if path.is_empty() && k == "schedule" => {
                if let Node::Array(pa) = &mut p.node {
                    pa.extend(items);
                } else {
                    p.node = Node::Array(items);
                }
            }
            (Some(p), Node::Table(ct)) if matches!(p.node, Node::Table(_)) && !whole => {
                let Node::Table(pt) = &mut p.node else {
                    unreachable!()
                };
                merge(&sub, pt, ct, cx, sources)?;
                p.key = c.key;
                p.value = c.value;
            }
            (_, node) => {
                let item = Item {
                    node,
                    key: c.key,
                    value: c.value,
                };
                cx.set(&sub, parent, &item, false, sources)?;
                parent.insert(k, item);
            }
        }
    }
    Ok(())
}

pub(super) fn to_value(node: &Node, path: &str, origins: &mut Origins) -> toml::Value {
    match node {
        Node::Leaf(v) => v.clone(),
        Node::Array(items) => toml::Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, it)| {
                    let p = format!("{path}[{i}]");
                    origins.insert(p.clone(), it.key.clone(), it.value.clone());
                    to_value(&it.node, &p, origins)
                })
                .collect(),
        ),
        Node::Table(t) => toml::Value::Table(
            t.iter()
                .map(|(k, it)| {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    origins.insert(p.clone(), it.key.clone(), it.value.clone());
                    (k.clone(), to_value(&it.node, &p, origins))
                })
                .collect(),
        ),
    }
}

/// A parameter set from outside the files (`--set path=value`).
pub type Override = (String, toml::Value);

/// Parses `path=value`, the value in TOML syntax (`0.3`, `true`, `"text"`).
pub fn parse_override(s: &str) -> Result<Override, String> {
    let (path, value) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` is not of the form path=value"))?;
    let path = path.trim();
    if path.is_empty() {
        return Err(format!("`{s}` names no parameter"));
    }
    super::limits::check_path(path)?;
    let doc: toml::Table = toml::from_str(&format!("v = {}", value.trim())).map_err(|e| {
        format!(
            "`{}` is not a TOML value: {}",
            value.trim(),
            e.message().trim()
        )
    })?;
    Ok((path.to_string(), doc["v"].clone()))
}

/// One segment of a key path: a key, and the array index written after it
/// (`key[i]`), if any; None if the index is not a number.
fn segment(part: &str) -> Option<(&str, Option<usize>)> {
    match part.split_once('[') {
        Some((k, i)) => Some((k, Some(i.trim_end_matches(']').parse().ok()?))),
        None => Some((part, None)),
    }
}

/// The value at `path` (segments joined by `.`, array elements as `[i]`) in
/// a merged document, if there is one.
pub fn lookup<'v>(doc: &'v toml::Value, path: &str) -> Option<&'v toml::Value> {
    let mut cur = doc;
    for part in path.split('.') {
        let (k, i) = segment(part)?;
        cur = cur.get(k)?;
        if let Some(i) = i {
            cur = cur.get(i)?;
        }
    }
    Some(cur)
}

/// [`lookup`], mutable.
pub(super) fn lookup_mut<'v>(doc: &'v mut toml::Value, path: &str) -> Option<&'v mut toml::Value> {
    let mut cur = doc;
    for part in path.split('.') {
        let (k, i) = segment(part)?;
        cur = cur.get_mut(k)?;
        if let Some(i) = i {
            cur = cur.get_mut(i)?;
        }
    }
    Some(cur)
}

/// The number at `path`, if `path` holds one (an integer counts).
pub fn lookup_number(doc: &toml::Value, path: &str) -> Option<f64> {
    lookup(doc, path).and_then(|v| v.as_float().or_else(|| v.as_integer().map(|i| i as f64)))
}

/// Sets `path` (segments joined by `.`, array elements as `[i]`) in `doc`.
/// The table that holds the last key must exist; the key itself may be new.
fn apply_override(doc: &mut toml::Value, path: &str, value: toml::Value) -> Result<(), String> {
    let mut segs: Vec<(String, Option<usize>)> = Vec::new();
    for part in path.split('.') {
        let (k, i) = segment(part).ok_or_else(|| format!("bad array index in `{path}`"))?;
        segs.push((k.to_string(), i));
    }
    let mut cur = doc;
    let last = segs.len() - 1;
    for (n, (key, idx)) in segs.into_iter().enumerate() {
        let table = cur
            .as_table_mut()
            .ok_or_else(|| format!("`{path}`: `{key}` is not inside a table"))?;
        if n == last && idx.is_none() {
            // As in `extends`: a transition's `all` replaces its per-age values.
            if path.starts_with("transitions.") && path.matches('.').count() == 3 {
                match key.as_str() {
                    "all" => {
                        table.remove("under40");
                        table.remove("over40");
                        table.remove("ages");
                    }
                    "under40" | "over40" => {
                        table.remove("ages");
                    }
                    "ages" => {
                        table.remove("all");
                        table.remove("under40");
                        table.remove("over40");
                    }
                    _ => {}
                }
            }
            table.insert(key, value);
            return Ok(());
        }
        let names: Vec<String> = table.keys().cloned().collect();
        let next = table.get_mut(&key).ok_or_else(|| {
            let hint = did_you_mean(&key, names.iter().map(String::as_str))
                .map(|h| format!("; {h}"))
                .unwrap_or_default();
            format!("unknown parameter path `{path}`: no `{key}` here{hint}")
        })?;
        cur = match idx {
            Some(i) => {
                let arr = next
                    .as_array_mut()
                    .ok_or_else(|| format!("`{path}`: `{key}` is not an array"))?;
                let len = arr.len();
                let el = arr.get_mut(i).ok_or_else(|| {
                    format!("`{path}`: index {i} is past the {len} elements of `{key}`")
                })?;
                if n == last {
                    *el = value;
                    return Ok(());
                }
                el
            }
            None => next,
        };
    }
    Ok(())
}

fn finish(root: Item, sources: Sources, chains: Chains) -> Result<Loaded, ScenarioError> {
    finish_with(root, sources, chains, &[])
}

/// Loads a scenario file and sets `overrides` in its merged document before
/// validation.
pub fn load_file_with(path: &Path, overrides: &[Override]) -> Result<Loaded, ScenarioError> {
    let mut loader = Loader {
        sources: Sources::default(),
        stack: Vec::new(),
        parent_only: false,
        chains: Chains::default(),
    };
    let root = loader.file(path, None)?;
    finish_with(root, loader.sources, loader.chains, overrides)
}

/// [`load_text`] with overrides.
pub fn load_text_with(
    name: &str,
    text: &str,
    dir: Option<&Path>,
    overrides: &[Override],
) -> Result<Loaded, ScenarioError> {
    let mut loader = Loader {
        sources: Sources::default(),
        stack: Vec::new(),
        parent_only: false,
        chains: Chains::default(),
    };
    let root = loader.text(name.to_string(), text.to_string(), dir)?;
    finish_with(root, loader.sources, loader.chains, overrides)
}

fn finish_with(
    root: Item,
    sources: Sources,
    chains: Chains,
    overrides: &[Override],
) -> Result<Loaded, ScenarioError> {
    let mut origins = Origins::default();
    origins.set_root(Location {
        file: 0,
        span: 0..0,
    });
    let mut value = to_value(&root.node, "", &mut origins);
    for (path, v) in overrides {
        if let Err(message) = apply_override(&mut value, path, v.clone()) {
            return Err(ScenarioError {
                sources,
                diagnostics: vec![Diagnostic {
                    location: None,
                    key: Some(path.clone()),
                    message: format!("{message} (set with --set)"),
                    hint: None,
                }],
            });
        }
    }
    // A parameter set from outside has a value, not a range: its
    // uncertainty no longer applies (and may not contain the new value).
    if let Some(u) = value.get_mut("uncertainty").and_then(|u| u.as_table_mut()) {
        u.retain(|_, e| {
            let path = e.get("path").and_then(|p| p.as_str());
            !overrides.iter().any(|(p, _)| path == Some(p.as_str()))
        });
    }
    let canonical = toml::to_string(&value).unwrap_or_default();
    let raw: Result<RawScenario, _> = serde_path_to_error::deserialize(value.clone());
    match raw {
        Ok(raw) => Ok(Loaded {
            raw,
            value,
            origins,
            sources,
            canonical,
            chains,
        }),
        Err(e) => {
            let path = e.path().to_string();
            let path = if path == "." { String::new() } else { path };
            let inner = e.into_inner();
            let message = inner.message().trim().to_string();
            let (message, hint, on_key) = describe_serde_error(&message);
            let location = if on_key {
                origins.key(&unknown_field_path(&path, &message))
            } else {
                origins.value(&path)
            };
            let key = if on_key {
                unknown_field_path(&path, &message)
            } else {
                path
            };
            Err(ScenarioError {
                sources,
                diagnostics: vec![Diagnostic {
                    location,
                    key: Some(key),
                    message,
                    hint,
                }],
            })
        }
    }
}

/// Turns serde's message into ours, with a did-you-mean for unknown fields.
fn describe_serde_error(msg: &str) -> (String, Option<String>, bool) {
    if let Some(rest) = msg.strip_prefix("unknown field `") {
        let (name, tail) = rest.split_once('`').unwrap_or((rest, ""));
        let expected: Vec<&str> = tail.split('`').skip(1).step_by(2).collect();
        let hint = did_you_mean(name, expected.iter().copied()).or_else(|| {
            (!expected.is_empty()).then(|| format!("allowed keys here: {}", expected.join(", ")))
        });
        return (format!("unknown key `{name}`"), hint, true);
    }
    (msg.to_string(), None, false)
}

fn unknown_field_path(path: &str, message: &str) -> String {
    let name = message
        .strip_prefix("unknown key `")
        .and_then(|r| r.strip_suffix('`'))
        .unwrap_or("");
    // serde_path_to_error's path already ends with the unknown key.
    if path == name || path.ends_with(&format!(".{name}")) {
        return path.to_string();
    }
    match (path.is_empty(), name.is_empty()) {
        (_, true) => path.to_string(),
        (true, false) => name.to_string(),
        (false, false) => format!("{path}.{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_set_leaves_array_elements_and_new_keys() {
        let mut v: toml::Value = toml::from_str("[a]\nx = 1\nz = [1, 2]\n[a.b]\ny = 2\n").unwrap();
        apply_override(&mut v, "a.x", toml::Value::Float(0.5)).unwrap();
        apply_override(&mut v, "a.z[1]", toml::Value::Integer(7)).unwrap();
        apply_override(&mut v, "a.b.new", toml::Value::Boolean(false)).unwrap();
        let mut t: toml::Value =
            toml::from_str("[transitions.a.b]\nunder40 = 0.1\nover40 = 0.2\n").unwrap();
        apply_override(&mut t, "transitions.a.b.all", toml::Value::Float(0.3)).unwrap();
        assert!(
            t["transitions"]["a"]["b"].get("under40").is_none(),
            "all replaces the per-age values"
        );
        assert_eq!(v["a"]["x"].as_float(), Some(0.5));
        assert_eq!(v["a"]["z"][1].as_integer(), Some(7));
        assert_eq!(v["a"]["b"]["new"].as_bool(), Some(false));
        let err = apply_override(&mut v, "a.c.y", toml::Value::Integer(1)).unwrap_err();
        assert!(err.contains("unknown parameter path `a.c.y`"), "{err}");
        assert!(
            apply_override(&mut v, "a.z[5]", toml::Value::Integer(1))
                .unwrap_err()
                .contains("past the 2")
        );
        assert_eq!(
            parse_override("a.x = 0.25").unwrap(),
            ("a.x".to_string(), toml::Value::Float(0.25))
        );
        assert!(parse_override("a.x").is_err());
        assert!(parse_override("a.x=not a value").is_err());
    }

    #[test]
    fn merge_overrides_leaves_and_keeps_siblings() {
        let parent = DeTable::parse("[a]\nx = 1\ny = 2\n[b]\nz = [1, 2]\n").unwrap();
        let child = DeTable::parse("[a]\ny = 5\n[b]\nz = [3]\n").unwrap();
        let mut p = convert_table(parent.get_ref(), 0);
        merge(
            &[],
            &mut p,
            convert_table(child.get_ref(), 1),
            &mut Composer::default(),
            &Sources::default(),
        )
        .unwrap();
        let mut o = Origins::default();
        let v = to_value(&Node::Table(p), "", &mut o);
        assert_eq!(v["a"]["x"].as_integer(), Some(1));
        assert_eq!(v["a"]["y"].as_integer(), Some(5));
        assert_eq!(v["b"]["z"].as_array().unwrap().len(), 1);
        assert_eq!(o.value("a.y").unwrap().file, 1);
        assert_eq!(o.value("a.x").unwrap().file, 0);
    }

    #[test]
    fn distributions_replace_and_all_overrides_ages() {
        let parent = DeTable::parse(
            "[transitions.a.b]\nunder40 = { \"1-4\" = 0.1, \"5+\" = 0.2 }\nover40 = 0.3\n\
             [population.stock.a]\nage = { \"18-29\" = 1.0 }\n[gates.route]\nto = [\"x\"]\n",
        )
        .unwrap();
        let child = DeTable::parse(
            "[transitions.a.b]\nall = 0.5\n[population.stock.a]\nage = { \"30-39\" = 1.0 }\n\
             [gates.route]\nenabled = false\n",
        )
        .unwrap();
        let mut p = convert_table(parent.get_ref(), 0);
        merge(
            &[],
            &mut p,
            convert_table(child.get_ref(), 1),
            &mut Composer::default(),
            &Sources::default(),
        )
        .unwrap();
        let mut o = Origins::default();
        let v = to_value(&Node::Table(p), "", &mut o);
        let t = &v["transitions"]["a"]["b"];
        assert!(t.get("under40").is_none() && t.get("over40").is_none());
        assert_eq!(t["all"].as_float(), Some(0.5));
        // A gate whose id happens to be `route` merges key by key.
        assert!(v["gates"]["route"].get("to").is_some());
        let age = v["population"]["stock"]["a"]["age"].as_table().unwrap();
        assert_eq!(age.len(), 1);
        assert!(age.contains_key("30-39"));
    }
}
