//! Every example in `--help` runs as written, and every table fits 80
//! columns.
//!
//! Each example is run through `sh` (globs, line continuations, comments
//! and `VAR=value` prefixes as a user's shell would), from the repository
//! root, with options appended that make it tiny (a repeated option takes
//! its last value): `--scale 0.02 -n 2`, fewer draws, points, iterations
//! or quarters, and `--out` into a temporary folder, so nothing is
//! written into the repository.

use std::path::Path;

use crate::util;

/// Every subcommand.
const COMMANDS: [&str; 13] = [
    "run",
    "validate",
    "compare",
    "check",
    "calibrate",
    "sweep",
    "sensitivity",
    "uncertainty",
    "solve",
    "exact",
    "explain",
    "verify",
    "runs",
];

/// Commands that print tables, whose stdout must fit 80 columns.
const TABLES: [&str; 11] = [
    "run",
    "compare",
    "check",
    "calibrate",
    "sweep",
    "sensitivity",
    "uncertainty",
    "solve",
    "exact",
    "verify",
    "runs",
];

fn help(args: &[&str]) -> String {
    let o = util::fleksim().args(args).output().expect("run fleksim");
    assert!(o.status.success(), "{args:?} --help failed");
    String::from_utf8(o.stdout).expect("UTF-8 help")
}

/// The examples under `Examples:`: continuation lines joined, comments
/// (whole lines or after the command) dropped.
fn examples(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut lines = text.lines().skip_while(|l| l.trim() != "Examples:").skip(1);
    let mut cur = String::new();
    for l in lines.by_ref() {
        if !l.starts_with("  ") {
            break;
        }
        let t = l.trim();
        if t.starts_with('#') {
            continue;
        }
        let t = match t.find("  #") {
            Some(i) => t[..i].trim_end(),
            None => t,
        };
        if let Some(head) = t.strip_suffix('\\') {
            cur.push_str(head.trim_end());
            cur.push(' ');
        } else {
            cur.push_str(t);
            out.push(std::mem::take(&mut cur));
        }
    }
    out
}

/// The subcommand of an example line (after any `VAR=value` prefixes).
fn command_of(example: &str) -> Option<&str> {
    let mut words = example.split_whitespace().skip_while(|w| w.contains('='));
    assert_eq!(words.next(), Some("fleksim"), "{example}");
    words.next()
}

/// Options that make an example of `cmd` tiny and write into `out`.
fn tiny(cmd: &str, example: &str, out: &Path) -> String {
    let out = out.display();
    let sim = "--scale 0.02 -n 2";
    match cmd {
        "run" | "compare" => format!("{sim} --quiet --out {out}"),
        "check" | "verify" => format!("{sim} --out {out}"),
        "sweep" if example.contains("--lhs") => format!("{sim} --lhs 3 --out {out}"),
        "sweep" | "sensitivity" | "solve" => format!("{sim} --out {out}"),
        "uncertainty" => format!("{sim} --draws 3 --out {out}"),
        "calibrate" => format!("{sim} --max-iters 1 --out {out}.toml"),
        "exact" => format!("--scale 0.02 --quarters 2 --out {out}"),
        "runs" => format!("--dir {out}"),
        _ => String::new(),
    }
}

#[test]
fn every_help_example_runs_and_every_table_fits_80_columns() {
    let bin = assert_cmd::cargo::cargo_bin("fleksim");
    let path = format!(
        "{}:{}",
        bin.parent().expect("binary folder").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let tmp = tempfile::tempdir().expect("temporary folder");
    let mut all = examples(&help(&["--help"]));
    for c in COMMANDS {
        let ex = examples(&help(&[c, "--help"]));
        assert!(!ex.is_empty(), "`fleksim {c} --help` has no examples");
        all.extend(ex);
    }
    let mut problems = Vec::new();
    for (i, ex) in all.iter().enumerate() {
        let cmd = command_of(ex).expect("a subcommand").to_string();
        let out = tmp.path().join(format!("ex{i}"));
        let line = format!("{ex} {}", tiny(&cmd, ex, &out));
        let o = std::process::Command::new("sh")
            .arg("-c")
            .arg(&line)
            .current_dir(util::root())
            .env("PATH", &path)
            .env("NO_COLOR", "1")
            .output()
            .expect("run sh");
        let code = o.status.code();
        // check, verify and solve may answer no (3) at this tiny scale.
        let ok = code == Some(0)
            || (code == Some(3) && matches!(cmd.as_str(), "check" | "verify" | "solve"));
        if !ok {
            problems.push(format!(
                "`{ex}` (run as `{line}`) exited {code:?}:\n{}",
                String::from_utf8_lossy(&o.stderr)
            ));
        }
        if TABLES.contains(&cmd.as_str()) {
            for l in String::from_utf8_lossy(&o.stdout).lines() {
                let n = l.chars().count();
                if n > 80 {
                    problems.push(format!("`{ex}` printed a line of {n} columns:\n{l}"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}
