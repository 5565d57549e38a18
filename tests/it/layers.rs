//! The library's layers import one way only, and only the output layer
//! writes files (ARCHITECTURE.md, "Layers").
//!
//! Every `crate::<module>` path in a source file (in `use` lines, in
//! `use crate::{a, b}` groups and inline) is checked against the layer
//! order; so is every call that creates, writes, renames or removes a file.
//! The check reads the source text, so it also catches paths in code that
//! only a feature or a test compiles.

use std::path::{Path, PathBuf};

use crate::util::root;

/// The library's top-level modules, bottom layer first: a module may
/// import only modules that come before it here (and itself).
const LAYERS: [&str; 5] = ["scenario", "error", "engine", "analysis", "output"];

/// Calls that write, create, rename or remove files or folders.
const WRITES: [&str; 9] = [
    "fs::write",
    "File::create",
    "create_dir",
    "fs::rename",
    "remove_file",
    "remove_dir",
    "OpenOptions",
    "persist(",
    "tempfile",
];

/// Layers below `output` may not write files.
const MAY_WRITE: [&str; 1] = ["output"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("readable source folder") {
        let p = e.expect("folder entry").path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The top-level module names a file refers to through `crate::`.
fn crate_refs(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // `crate::{a, b::c, d}`: the names at depth 1 of the group.
            let mut depth = 1;
            let mut item = String::new();
            let mut at_start = true;
            for ch in group.chars() {
                match ch {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    ',' if depth == 1 => {
                        at_start = true;
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                if depth == 1 && at_start {
                    if ch.is_alphanumeric() || ch == '_' {
                        item.push(ch);
                    } else if !item.is_empty() {
                        found.push(std::mem::take(&mut item));
                        at_start = false;
                    }
                }
            }
            if at_start && !item.is_empty() {
                found.push(item);
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            found.push(name);
        }
    }
    found
}

/// The layer a file under `src/` belongs to (None: the binary or lib.rs).
fn layer_of(src: &Path, file: &Path) -> Option<&'static str> {
    let rel = file.strip_prefix(src).expect("under src");
    let first = rel.components().next()?.as_os_str().to_str()?;
    let first = first.strip_suffix(".rs").unwrap_or(first);
    LAYERS.iter().copied().find(|l| *l == first)
}

#[test]
fn the_reference_parser_finds_grouped_and_inline_paths() {
    let text = "use crate::{engine::kernel, output};\nlet x = crate::analysis::exact::run();\nuse crate::{\n    scenario::{A, B},\n    error::Error,\n};";
    assert_eq!(
        crate_refs(text),
        ["engine", "output", "analysis", "scenario", "error"]
    );
}

#[test]
fn layers_import_downwards_only() {
    let src = root().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut broken = Vec::new();
    let mut seen = 0;
    for f in &files {
        let Some(layer) = layer_of(&src, f) else {
            continue;
        };
        seen += 1;
        let rank = LAYERS.iter().position(|l| *l == layer).expect("a layer");
        let text = std::fs::read_to_string(f).expect("readable source");
        for name in crate_refs(&text) {
            match LAYERS.iter().position(|l| *l == name) {
                Some(r) if r > rank => broken.push(format!(
                    "{}: the {layer} layer imports crate::{name}, a layer above it",
                    f.display()
                )),
                Some(_) => {}
                // Re-exports at the crate root (`crate::Result`) are the error layer's.
                None if name == "Result" || name == "Error" => {
                    if rank < 1 {
                        broken.push(format!("{}: {layer} uses crate::{name}", f.display()));
                    }
                }
                None => broken.push(format!(
                    "{}: crate::{name} is not a known layer (add it to LAYERS in tests/it/layers.rs)",
                    f.display()
                )),
            }
        }
    }
    assert!(seen > 20, "the check saw only {seen} files");
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn only_the_output_layer_writes_files() {
    let src = root().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut broken = Vec::new();
    for f in &files {
        let Some(layer) = layer_of(&src, f) else {
            continue;
        };
        if MAY_WRITE.contains(&layer) {
            continue;
        }
        let text = std::fs::read_to_string(f).expect("readable source");
        // Unit tests may write scratch files.
        let code = text.split("#[cfg(test)]").next().unwrap_or(&text);
        for w in WRITES {
            if code.contains(w) {
                broken.push(format!("{}: {layer} layer calls {w}", f.display()));
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}
