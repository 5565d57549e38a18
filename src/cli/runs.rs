//! `fleksim runs`: the run folders kept under outputs/, oldest first.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use fleksim::Result;
use serde_json::Value;

use super::args::RunsArgs;
use super::fmt;
use super::outdir::LATEST;

/// One kept run: its folder (relative to the root) and its manifest.
struct Kept {
    folder: String,
    name: String,
    manifest: Value,
    latest: bool,
}

fn subfolders(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.is_dir()
                        && p.file_name()
                            .and_then(|n| n.to_str())
                            .is_some_and(|n| !n.starts_with('.'))
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn manifest(dir: &Path) -> Option<Value> {
    let text = std::fs::read_to_string(dir.join("manifest.json")).ok()?;
    serde_json::from_str(&text).ok()
}

/// Every folder `<root>/<name>/<run id>/` (or `<root>/<name>/`, the layout
/// of earlier versions) with a readable manifest.json.
fn scan(root: &Path) -> Vec<Kept> {
    let mut kept = Vec::new();
    for named in subfolders(root) {
        let name = named
            .file_name()
            .map_or(String::new(), |n| n.to_string_lossy().into_owned());
        let latest = std::fs::read_to_string(named.join(LATEST))
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        if let Some(m) = manifest(&named) {
            kept.push(Kept {
                folder: name.clone(),
                name: name.clone(),
                manifest: m,
                latest: false,
            });
        }
        for run in subfolders(&named) {
            let id = run
                .file_name()
                .map_or(String::new(), |n| n.to_string_lossy().into_owned());
            if let Some(m) = manifest(&run) {
                kept.push(Kept {
                    folder: format!("{name}/{id}"),
                    name: name.clone(),
                    latest: id == latest,
                    manifest: m,
                });
            }
        }
    }
    kept.sort_by(|a, b| {
        let t = |k: &Kept| k.manifest["start_time"].as_str().unwrap_or("").to_string();
        t(a).cmp(&t(b)).then_with(|| a.folder.cmp(&b.folder))
    });
    kept
}

/// `command: scenario names` from a manifest, older ones included.
fn what(m: &Value) -> String {
    let command = m["command"].as_str().unwrap_or("run");
    let mut names: Vec<String> = m["inputs"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|i| i["role"] != "targets")
                .map(|i| {
                    let n = i["name"].as_str().unwrap_or("?");
                    match i["role"].as_str() {
                        Some("baseline") => format!("vs {n}"),
                        _ => n.to_string(),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    if names.is_empty() {
        names.push(m["scenario"].as_str().unwrap_or("?").to_string());
    }
    // The baseline last: `compare: d05 vs baseline`.
    names.sort_by_key(|n| n.starts_with("vs "));
    format!("{command}: {}", names.join(" "))
}

pub fn runs(a: RunsArgs) -> Result<ExitCode> {
    let kept: Vec<Kept> = scan(&a.dir)
        .into_iter()
        .filter(|k| a.name.as_ref().is_none_or(|n| *n == k.name))
        .collect();
    if kept.is_empty() {
        println!("no runs under {}/", a.dir.display());
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = fmt::table(vec!["run", "what", "n", "scale", "seed"], &[2, 3, 4]);
    t.keep_whole(0);
    for k in &kept {
        let m = &k.manifest;
        let scale = m["scale"]
            .as_f64()
            .map_or(String::new(), |s| fmt::param(s, 4));
        let folder = match k.folder.split_once('/') {
            Some((name, id)) => format!("{name}/\n{id}{}", if k.latest { " *" } else { "" }),
            None => format!(
                "{} (started {})",
                k.folder,
                m["start_time"].as_str().unwrap_or("?")
            ),
        };
        t.add_row(vec![
            folder,
            what(m),
            m["replications"]
                .as_u64()
                .map_or(String::new(), |n| n.to_string()),
            scale,
            m["seed"].as_u64().map_or(String::new(), |n| n.to_string()),
        ]);
    }
    println!("Runs under {}/ (* the latest of its name)", a.dir.display());
    println!("{t}");
    Ok(ExitCode::SUCCESS)
}
