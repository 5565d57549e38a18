//! Fuzz target: the scenario loader and validator, and the compilation of
//! the tables and prices from whatever they accept. Any input must end in
//! Ok or a clean error: never a panic, an abort, an overflow or unbounded
//! memory.
//!
//! The input is one scenario file, or (when it contains a line `----`) a
//! parent and a child that extends it, so merging is fuzzed too. A first
//! line `set PATH=VALUE` is applied as `--set`.

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use fleksim::engine::costing::CostTable;
use fleksim::engine::kernel::Tables;
use fleksim::scenario::{self, Loaded};
use libfuzzer_sys::fuzz_target;

/// A folder for the parent and child files, made once per process.
fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("fleksim-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("temporary folder");
        d
    })
}

fn compile(l: &Loaded) {
    let _ = Tables::compile(&l.scenario);
    let _ = CostTable::new(&l.scenario);
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (set, text) = match text.strip_prefix("set ") {
        Some(rest) => {
            let (line, rest) = rest.split_once('\n').unwrap_or((rest, ""));
            (scenario::parse_override(line).ok(), rest.to_string())
        }
        None => (None, text.into_owned()),
    };
    let overrides: Vec<_> = set.into_iter().collect();
    let res = match text.split_once("\n----\n") {
        Some((parent, child)) => {
            let d = dir();
            std::fs::write(d.join("parent.toml"), parent).expect("write parent");
            let child_path = d.join("child.toml");
            std::fs::write(&child_path, format!("extends = \"parent.toml\"\n{child}"))
                .expect("write child");
            scenario::load_with(Some(&child_path), &overrides)
        }
        None if overrides.is_empty() => scenario::load_text("fuzz.toml", &text, None),
        None => {
            let path = dir().join("one.toml");
            std::fs::write(&path, &text).expect("write scenario");
            scenario::load_with(Some(&path), &overrides)
        }
    };
    if let Ok(l) = res {
        compile(&l);
    }
});
