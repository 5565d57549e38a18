//! Diagnostics for scenario files: which file, which line, which key, what rule.
//!
//! The library never prints. A [`ScenarioError`] carries the text of every
//! file involved so that the CLI can render a report with a source snippet
//! ([`ScenarioError::render`]), and its `Display` is a plain
//! `file:line:column: key: message` list that tests can match.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;

/// One file read while loading a scenario (the file and every parent it extends).
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as the user should see it.
    pub name: String,
    pub text: String,
}

/// Every file of a scenario, in the order they were read.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    pub files: Vec<SourceFile>,
    /// Indices into `files` in the order their keys were merged into the
    /// scenario: a file's keys override those of every file before it (a
    /// parent before its child, the patches of an `extends` list in order,
    /// the file's own keys last).
    pub applied: Vec<usize>,
}

impl Sources {
    pub fn add(&mut self, name: String, text: String) -> usize {
        self.files.push(SourceFile { name, text });
        self.files.len() - 1
    }

    /// Where `file` comes in the merge (`applied`): a later file's keys win.
    /// A file not merged comes first.
    pub fn precedence(&self, file: usize) -> usize {
        self.applied
            .iter()
            .position(|&f| f == file)
            .map_or(0, |i| i + 1)
    }

    /// `name:line` of a location, for a message that names a second place.
    pub fn site(&self, loc: &Location) -> String {
        let (line, _) = self.line_col(loc.file, loc.span.start);
        format!("{}:{line}", self.files[loc.file].name)
    }

    /// 1-based line and column of a byte offset.
    pub fn line_col(&self, file: usize, offset: usize) -> (usize, usize) {
        let text = &self.files[file].text;
        let offset = offset.min(text.len());
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let col = before.rfind('\n').map_or(offset, |nl| offset - nl - 1) + 1;
        (line, col)
    }
}

/// A byte range in one of the [`Sources`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: usize,
    pub span: Range<usize>,
}

/// Where each key path of the merged document came from.
///
/// Paths use the same syntax as `serde_path_to_error`: segments joined by
/// `.`, array elements as `[i]`.
#[derive(Debug, Clone, Default)]
pub struct Origins {
    /// path -> (location of the key, location of the value)
    map: HashMap<String, (Location, Location)>,
    /// location of each file's whole document, for errors about missing keys
    roots: Vec<Location>,
}

impl Origins {
    pub fn insert(&mut self, path: String, key: Location, value: Location) {
        self.map.insert(path, (key, value));
    }

    pub fn set_root(&mut self, root: Location) {
        self.roots.insert(0, root);
    }

    /// The value's location for `path`, or the nearest ancestor that has one,
    /// or the top file.
    pub fn value(&self, path: &str) -> Option<Location> {
        let mut p = path;
        loop {
            if let Some((_, v)) = self.map.get(p) {
                return Some(v.clone());
            }
            match parent_path(p) {
                Some(parent) => p = parent,
                None => return self.roots.first().cloned(),
            }
        }
    }

    /// The key's location for `path` (falls back like [`Origins::value`]).
    pub fn key(&self, path: &str) -> Option<Location> {
        match self.map.get(path) {
            Some((k, _)) => Some(k.clone()),
            None => self.value(path),
        }
    }
}

fn parent_path(p: &str) -> Option<&str> {
    if p.is_empty() {
        return None;
    }
    // Strip a trailing `[i]` or `.segment`, respecting quoted segments loosely.
    if p.ends_with(']') {
        return p.rfind('[').map(|i| &p[..i]);
    }
    Some(p.rfind('.').map_or("", |i| &p[..i]))
}

/// One problem in a scenario.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub location: Option<Location>,
    /// The key path, e.g. `transitions.kontanthjaelp.employed.under40`.
    pub key: Option<String>,
    pub message: String,
    pub hint: Option<String>,
}

/// A scenario that could not be loaded or is invalid: one or more diagnostics.
#[derive(Debug, Clone)]
pub struct ScenarioError {
    pub sources: Sources,
    pub diagnostics: Vec<Diagnostic>,
}

impl ScenarioError {
    /// A single diagnostic that is not tied to a position (missing file, ...).
    pub fn plain(message: impl Into<String>) -> ScenarioError {
        ScenarioError {
            sources: Sources::default(),
            diagnostics: vec![Diagnostic {
                location: None,
                key: None,
                message: message.into(),
                hint: None,
            }],
        }
    }

    /// Renders every diagnostic with a source snippet (ariadne), for a terminal.
    pub fn render(&self, color: bool) -> String {
        use ariadne::{Config, IndexType, Label, Report, ReportKind};
        let mut out = Vec::new();
        let cache_src: Vec<(String, String)> = self
            .sources
            .files
            .iter()
            .map(|f| (escape_controls(&f.name), inert(&f.text)))
            .collect();
        for d in &self.diagnostics {
            let head = match &d.key {
                Some(k) if !k.is_empty() => format!("`{k}`: {}", d.message),
                _ => d.message.clone(),
            };
            let head = escape_controls(&head);
            let message = escape_controls(&d.message);
            let hint = d.hint.as_deref().map(escape_controls);
            let Some(loc) = &d.location else {
                out.extend_from_slice(format!("error: {head}\n").as_bytes());
                if let Some(h) = &hint {
                    out.extend_from_slice(format!("\nhint: {h}\n").as_bytes());
                }
                continue;
            };
            let name = escape_controls(&self.sources.files[loc.file].name);
            let mut report = Report::build(ReportKind::Error, (name.clone(), loc.span.clone()))
                .with_config(
                    Config::default()
                        .with_color(color)
                        .with_index_type(IndexType::Byte),
                )
                .with_message(&head)
                .with_label(Label::new((name, loc.span.clone())).with_message(&message));
            if let Some(h) = &hint {
                report = report.with_help(h);
            }
            let _ = report
                .finish()
                .write(ariadne::sources(cache_src.clone()), &mut out);
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            if let Some(loc) = &d.location {
                let (line, col) = self.sources.line_col(loc.file, loc.span.start);
                write!(f, "{}:{line}:{col}: ", self.sources.files[loc.file].name)?;
            }
            if let Some(k) = &d.key
                && !k.is_empty()
            {
                write!(f, "`{}`: ", escape_controls(k))?;
            }
            write!(f, "{}", escape_controls(&d.message))?;
            if let Some(h) = &d.hint {
                // A hint of several lines stays one indented block.
                let h = escape_controls(h).replace('\n', "\n        ");
                write!(f, "\n  hint: {h}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

/// Collects diagnostics while validating; resolves key paths to locations.
pub struct Reporter<'a> {
    pub origins: &'a Origins,
    pub sources: &'a Sources,
    pub diagnostics: Vec<Diagnostic>,
    /// The scenario's variants `(id, slot)`, which state names may refer to
    /// once `[variants]` is validated.
    pub variants: Vec<(String, crate::scenario::model::State)>,
}

impl<'a> Reporter<'a> {
    pub fn new(origins: &'a Origins, sources: &'a Sources) -> Self {
        Reporter {
            origins,
            sources,
            diagnostics: Vec::new(),
            variants: Vec::new(),
        }
    }

    /// `file:line` where the value at `path` was written (see
    /// [`Origins::value`]), or `?` if no file holds it.
    pub fn site(&self, path: &str) -> String {
        match self.origins.value(path) {
            Some(loc) if loc.file < self.sources.files.len() => self.sources.site(&loc),
            _ => "?".to_string(),
        }
    }

    /// Whether the value at `a` was written by a file merged after the one
    /// that wrote `b` (so `a` is the newer of the two; false within one file).
    pub fn later(&self, a: &str, b: &str) -> bool {
        let rank = |p: &str| {
            self.origins
                .value(p)
                .map_or(0, |l| self.sources.precedence(l.file))
        };
        rank(a) > rank(b)
    }

    /// An error about the value at `path`.
    pub fn error(&mut self, path: &str, message: impl Into<String>) {
        self.push(path, message.into(), None, false);
    }

    /// An error about the key at `path` (e.g. an unknown name), with a hint.
    pub fn key_error(&mut self, path: &str, message: impl Into<String>, hint: Option<String>) {
        self.push(path, message.into(), hint, true);
    }

    /// An error about the value at `path`, with a hint.
    pub fn push_value(&mut self, path: &str, message: impl Into<String>, hint: Option<String>) {
        self.push(path, message.into(), hint, false);
    }

    fn push(&mut self, path: &str, message: String, hint: Option<String>, on_key: bool) {
        let location = if on_key {
            self.origins.key(path)
        } else {
            self.origins.value(path)
        };
        self.diagnostics.push(Diagnostic {
            location,
            key: Some(path.to_string()),
            message,
            hint,
        });
    }
}

/// `text` with control characters (terminal escape sequences among them)
/// written as `\u{1b}`, so that a message quoting user text cannot drive the
/// terminal; newlines and tabs are kept.
pub fn escape_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() && c != '\n' && c != '\t' {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// A file's text for a snippet: control characters replaced by `?` of the
/// same length in bytes, so that spans still point at the right place.
fn inert(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                "?".repeat(c.len_utf8())
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// `hint: did you mean ...` for a misspelt name, if one is close enough.
pub fn did_you_mean<'a>(
    got: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        let score = strsim::jaro_winkler(got, c);
        if score > 0.8 && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one() {
        let mut s = Sources::default();
        let f = s.add("a.toml".into(), "x = 1\nyy = 2\n".into());
        assert_eq!(s.line_col(f, 0), (1, 1));
        assert_eq!(s.line_col(f, 6), (2, 1));
        assert_eq!(s.line_col(f, 11), (2, 6));
    }

    #[test]
    fn parent_paths() {
        assert_eq!(parent_path("a.b.c"), Some("a.b"));
        assert_eq!(parent_path("a.b[2]"), Some("a.b"));
        assert_eq!(parent_path("a"), Some(""));
        assert_eq!(parent_path(""), None);
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            did_you_mean("kontanthjalp", ["kontanthjaelp", "fleksjob"]).as_deref(),
            Some("did you mean `kontanthjaelp`?")
        );
        assert_eq!(did_you_mean("zzz", ["kontanthjaelp"]), None);
    }
}
