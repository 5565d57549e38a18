//! `fleksim report`: one self-contained HTML page from an output folder,
//! each chart beside the table of its numbers, plus every chart as SVG and
//! PNG, compare.csv as an Excel workbook, and (with `--locale da`) the CSV
//! files for Danish Excel.
//!
//! The folder's kind is read from the files it holds (a folder may hold
//! several: `check` writes beside a run): stocks.csv (run), compare.csv,
//! sweep.csv, sensitivity.csv, uncertainty-summary.csv, check.csv. The
//! header shows what the folder's manifests hold (every field, whatever the
//! version that wrote them) and what the scenario assumes: the folder's
//! `explain.txt`, or `fleksim explain` of the scenario files the manifests
//! name, when they can still be read.
//!
//! The page makes no network request: no script, styles inline, the
//! system's sans-serif font, a Content-Security-Policy that forbids any
//! load. Everything here is formatting: the numbers are the folder's.
//!
//! **Architecture invariant:** formats what the folder holds; computes no
//! statistic (P(Δ < 0), quantiles and correlations are read from the files).

mod chart;
mod raster;
mod sections;
mod table;
mod xlsx;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

pub use chart::{Chart, Kind, Point, Row, Series};
pub use table::{Csv, Locale, danish_csv, fmt, fmt_dec, val};

use crate::error::{Error, Result};
use crate::scenario;

/// What to write.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub locale: Locale,
}

/// The report's files (name, bytes) and what it holds.
#[derive(Debug, Clone)]
pub struct Report {
    pub files: Vec<(String, Vec<u8>)>,
    /// The kinds of output found (`run`, `compare`, ...), in page order.
    pub kinds: Vec<&'static str>,
    /// The number of charts.
    pub charts: usize,
}

/// The report of the output folder `dir`.
pub fn build(dir: &Path, opts: Options) -> Result<Report> {
    if !dir.is_dir() {
        return Err(Error::Invalid(format!(
            "{}: no such output folder",
            dir.display()
        )));
    }
    let mut page = Page::new(opts.locale);
    let manifests = manifests(dir)?;
    let kinds = sections::all(dir, &mut page, &manifests)?;
    if kinds.is_empty() {
        return Err(Error::Invalid(format!(
            "{}: no output of fleksim here (looked for stocks.csv, compare.csv, sweep.csv, \
             sensitivity.csv, uncertainty-summary.csv, check.csv)",
            dir.display()
        )));
    }
    let explain = explanation(dir, &manifests);
    let html = page.html(dir, &kinds, &manifests, explain.as_deref());
    let mut files = vec![("report.html".to_string(), html.into_bytes())];
    let charts = page.charts.len();
    files.append(&mut page.files);
    Ok(Report {
        files,
        kinds,
        charts,
    })
}

/// The manifests of the folder: `manifest.json` and `<kind>.json`, each as
/// its file name and JSON value (unreadable ones are skipped with a note).
fn manifests(dir: &Path) -> Result<Vec<(String, serde_json::Value)>> {
    let mut out = Vec::new();
    for name in [
        "manifest.json",
        "compare.json",
        "sweep.json",
        "sensitivity.json",
        "uncertainty.json",
        "check.json",
    ] {
        let p = dir.join(name);
        let Ok(text) = std::fs::read_to_string(&p) else {
            continue;
        };
        match serde_json::from_str(&text) {
            Ok(v) => out.push((name.to_string(), v)),
            Err(e) => {
                return Err(Error::Invalid(format!("{}: not JSON: {e}", p.display())));
            }
        }
    }
    Ok(out)
}

/// The scenario files the manifests name (proposals first), that exist.
fn scenario_paths(manifests: &[(String, serde_json::Value)]) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = Vec::new();
    let mut push = |s: &str| {
        let p = PathBuf::from(s);
        if s.ends_with(".toml")
            && !s.starts_with("<embedded>")
            && p.is_file()
            && !found.contains(&p)
        {
            found.push(p);
        }
    };
    for (_, m) in manifests {
        for key in ["proposals", "proposal", "scenario_path", "scenario_sources"] {
            match m.get(key) {
                Some(serde_json::Value::String(s)) => push(s),
                Some(serde_json::Value::Array(a)) => {
                    // scenario_sources lists the chain, the file itself first.
                    let take = if key == "scenario_sources" {
                        1
                    } else {
                        a.len()
                    };
                    for s in a.iter().take(take).filter_map(|v| v.as_str()) {
                        push(s);
                    }
                }
                _ => {}
            }
        }
    }
    found
}

/// What the scenario assumes: `explain.txt` of the folder, else `explain`
/// of the scenario files its manifests name.
fn explanation(dir: &Path, manifests: &[(String, serde_json::Value)]) -> Option<String> {
    if let Ok(t) = std::fs::read_to_string(dir.join("explain.txt")) {
        return Some(t);
    }
    let paths = scenario_paths(manifests);
    if paths.is_empty() {
        return None;
    }
    explain_text(&paths).ok()
}

/// `fleksim explain` of the files, as text (the explain.txt that commands
/// write beside their results).
pub fn explain_text(paths: &[PathBuf]) -> Result<String> {
    let mut s = String::new();
    for (i, f) in paths.iter().enumerate() {
        if i > 0 {
            s.push('\n');
        }
        let e = scenario::explain(f)?;
        let _ = writeln!(s, "{} ({})", e.name, f.display());
        if !e.description.is_empty() {
            let _ = writeln!(s, "  {}", e.description);
        }
        if !e.header.is_empty() {
            s.push('\n');
            for l in &e.header {
                let _ = writeln!(s, "  {l}");
            }
        }
        s.push('\n');
        if !e.extends {
            s.push_str("  extends nothing: a complete scenario, not a change to another\n");
            continue;
        }
        let changes: Vec<_> = e
            .changes
            .iter()
            .filter(|c| c.path != "name" && c.path != "description")
            .collect();
        if !e.dated.is_empty() {
            let _ = writeln!(s, "  dated changes ({}):", e.dated.len());
            for c in &e.dated {
                let _ = writeln!(s, "  - {}: {}", c.path, c.new.as_deref().unwrap_or(""));
                if let Some(why) = &c.comment {
                    let _ = writeln!(s, "      {why}");
                }
            }
        }
        if changes.is_empty() {
            if e.dated.is_empty() {
                s.push_str("  changes no parameter or rule of the scenario it extends\n");
            }
            continue;
        }
        let _ = writeln!(s, "  changes {} setting(s):", changes.len());
        for c in changes {
            let old = c.old.as_deref().unwrap_or("(not set)");
            let new = c.new.as_deref().unwrap_or("(removed)");
            let _ = writeln!(s, "  - {}: {old} -> {new}", c.path);
            for l in &c.chain {
                let _ = writeln!(s, "      {}", l.what);
                if let Some(why) = &l.comment {
                    let _ = writeln!(s, "          {why}");
                }
            }
            if let Some(why) = &c.comment {
                let _ = writeln!(s, "      {why}");
            }
        }
    }
    Ok(s)
}

/// HTML text with `&`, `<`, `>` and quotes escaped.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

/// A table: header and rows of text; numeric columns are right-aligned.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&str]) -> Table {
        Table {
            header: header.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    fn html(&self) -> String {
        let mut s = String::from("<table><thead><tr>");
        for h in &self.header {
            let _ = write!(s, "<th scope=\"col\">{}</th>", esc(h));
        }
        s.push_str("</tr></thead><tbody>");
        for r in &self.rows {
            s.push_str("<tr>");
            for (j, c) in r.iter().enumerate() {
                let numeric = j > 0
                    && c.chars().next().is_some_and(|ch| {
                        ch.is_ascii_digit() || ch == '−' || ch == '-' || ch == '+'
                    });
                if j == 0 {
                    let _ = write!(s, "<th scope=\"row\">{}</th>", esc(c));
                } else if numeric || c == "NA" {
                    let _ = write!(s, "<td class=\"n\">{}</td>", esc(c));
                } else {
                    let _ = write!(s, "<td>{}</td>", esc(c));
                }
            }
            s.push_str("</tr>");
        }
        s.push_str("</tbody></table>");
        s
    }
}

/// The page being built: its body, its charts and their files.
pub struct Page {
    pub loc: Locale,
    body: String,
    toc: Vec<(String, String)>,
    charts: Vec<String>,
    files: Vec<(String, Vec<u8>)>,
}

impl Page {
    fn new(loc: Locale) -> Page {
        Page {
            loc,
            body: String::new(),
            toc: Vec::new(),
            charts: Vec::new(),
            files: Vec::new(),
        }
    }

    /// A section heading (in the table of contents).
    pub fn section(&mut self, id: &str, title: &str) {
        self.toc.push((id.to_string(), title.to_string()));
        let _ = writeln!(self.body, "<h2 id=\"{}\">{}</h2>", esc(id), esc(title));
    }

    /// A sub-heading.
    pub fn heading(&mut self, title: &str) {
        let _ = writeln!(self.body, "<h3>{}</h3>", esc(title));
    }

    /// A paragraph of plain text.
    pub fn para(&mut self, text: &str) {
        let _ = writeln!(self.body, "<p>{}</p>", esc(text));
    }

    /// A table on its own.
    pub fn table(&mut self, t: &Table) {
        let _ = writeln!(self.body, "<div class=\"tbl solo\">{}</div>", t.html());
    }

    /// A chart beside the table of its numbers; the chart is also written
    /// as `<id>.svg` and `<id>.png`.
    pub fn figure(&mut self, c: &Chart, t: &Table) -> Result<()> {
        let id = c.id.clone();
        if self.charts.contains(&id) {
            return Err(Error::Internal(format!("two charts named {id}")));
        }
        let svg = c.svg(self.loc)?;
        let png = raster::png(&svg)?;
        let legend = c.legend();
        let colours: Vec<String> = legend.iter().map(|l| chart::hex(l.1)).collect();
        let names: Vec<String> = legend.iter().map(|l| l.0.clone()).collect();
        let inline = svg.replacen(
            "<svg ",
            &format!(
                "<svg role=\"img\" aria-label=\"{}\" preserveAspectRatio=\"xMidYMid meet\" ",
                esc(&c.title)
            ),
            1,
        );
        let _ = writeln!(
            self.body,
            "<div class=\"pair\"><figure class=\"chart\" id=\"fig-{id}\" data-series=\"{}\" \
             data-colors=\"{}\" data-names=\"{}\">{inline}<figcaption>{} \
             <a href=\"{id}.svg\">SVG</a> <a href=\"{id}.png\">PNG</a></figcaption></figure>\
             <div class=\"tbl\">{}</div></div>",
            legend.len(),
            esc(&colours.join(",")),
            esc(&names.join("|")),
            esc(&c.title),
            t.html()
        );
        self.files.push((format!("{id}.svg"), svg.into_bytes()));
        self.files.push((format!("{id}.png"), png));
        self.charts.push(id);
        Ok(())
    }

    /// An extra file of the report folder.
    pub fn file(&mut self, name: &str, bytes: Vec<u8>) {
        self.files.push((name.to_string(), bytes));
    }

    fn html(
        &self,
        dir: &Path,
        kinds: &[&str],
        manifests: &[(String, serde_json::Value)],
        explain: Option<&str>,
    ) -> String {
        let mut h = String::new();
        let title = format!("fleksim report: {}", kinds.join(", "));
        let _ = write!(
            h,
            "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
             style-src 'unsafe-inline'; img-src data:\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<header>\n<h1>{}</h1>\n",
            self.loc.lang(),
            esc(&title),
            esc(&title)
        );
        let folder = dir
            .file_name()
            .map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into());
        let _ = writeln!(
            h,
            "<p>From the output folder <code>{}</code>. Every number below is read from its \
             files; intervals are 95 % confidence intervals over replications (Student t), \
             differences are paired replication by replication (common random numbers).</p>",
            esc(&folder)
        );
        h.push_str("<h2 id=\"provenance\">What was run</h2>\n");
        if manifests.is_empty() {
            h.push_str("<p>The folder has no manifest.</p>\n");
        }
        for (name, m) in manifests {
            // The summary line: what, when, how many; the rest folded.
            let pick = |k: &str| {
                m.get(k)
                    .map(|v| v.as_str().map_or(v.to_string(), str::to_string))
            };
            let mut line: Vec<String> = Vec::new();
            for (k, label) in [
                ("scenario", ""),
                ("proposal", ""),
                ("seed", "seed "),
                ("replications", "replications "),
                ("scale", "scale "),
                ("end_time", ""),
                ("fleksim_version", "fleksim "),
            ] {
                if let Some(v) = pick(k) {
                    line.push(format!("{label}{v}"));
                }
            }
            let _ = write!(
                h,
                "<details><summary>{}: {}</summary><dl>",
                esc(name),
                esc(&line.join(", "))
            );
            if let Some(obj) = m.as_object() {
                for (k, v) in obj {
                    let text = match v {
                        serde_json::Value::String(s) => s.clone(),
                        serde_json::Value::Array(a)
                            if a.iter().all(serde_json::Value::is_string) =>
                        {
                            a.iter()
                                .filter_map(|x| x.as_str())
                                .collect::<Vec<_>>()
                                .join(" ")
                        }
                        other => other.to_string(),
                    };
                    let _ = write!(h, "<dt>{}</dt><dd>{}</dd>", esc(k), esc(&text));
                }
            }
            h.push_str("</dl></details>\n");
        }
        h.push_str("<h2 id=\"assumptions\">What the scenario assumes</h2>\n");
        match explain {
            Some(t) => {
                let _ = writeln!(h, "<pre class=\"explain\">{}</pre>", esc(t.trim_end()));
            }
            None => h.push_str(
                "<p>The folder has no explain.txt and its manifest names no scenario file \
                 that can be read here; run <code>fleksim explain FILE</code>.</p>\n",
            ),
        }
        h.push_str("<nav><ul>");
        for (id, t) in &self.toc {
            let _ = write!(h, "<li><a href=\"#{}\">{}</a></li>", esc(id), esc(t));
        }
        h.push_str("</ul></nav>\n</header>\n<main>\n");
        h.push_str(&self.body);
        h.push_str(
            "</main>\n<footer><p>Written by <code>fleksim report</code>. Charts are also in this \
             folder as SVG and PNG.</p></footer>\n</body>\n</html>\n",
        );
        h
    }
}

const STYLE: &str = "\
:root{color-scheme:light}\
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;margin:0 auto;\
max-width:1400px;padding:0 1rem 2rem;color:#1a1a1a;background:#fff;line-height:1.4}\
h1{font-size:1.5rem;margin:1rem 0 .5rem}h2{font-size:1.25rem;border-bottom:1px solid #ccc;\
margin-top:2rem}h3{font-size:1.05rem;margin:1.5rem 0 .5rem}\
code{font-size:.9em}pre.explain{white-space:pre-wrap;background:#f6f6f6;padding:.75rem;\
font-size:.85rem;max-height:18rem;overflow:auto}\
dl{display:grid;grid-template-columns:max-content 1fr;gap:.1rem 1rem;font-size:.85rem;margin:.5rem 0}\
dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}\
nav ul{display:flex;flex-wrap:wrap;gap:.25rem 1rem;padding:0;list-style:none}\
.pair{display:flex;flex-wrap:wrap;gap:1rem;align-items:flex-start;margin:1rem 0}\
figure.chart{flex:1 1 560px;min-width:0;margin:0}\
figure.chart svg{width:100%;height:auto;display:block}\
figcaption{font-size:.8rem;color:#555}\
.tbl{flex:1 1 380px;min-width:0;max-height:460px;overflow:auto}.tbl.solo{max-height:none}\
table{border-collapse:collapse;font-size:.8rem;width:100%}\
th,td{padding:.15rem .4rem;border-bottom:1px solid #e2e2e2;text-align:left;white-space:nowrap}\
thead th{position:sticky;top:0;background:#f0f0f0}td.n{text-align:right;\
font-variant-numeric:tabular-nums}\
@media print{.tbl{max-height:none;overflow:visible}.pair{break-inside:avoid}}";
