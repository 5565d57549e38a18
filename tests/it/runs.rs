//! Run folders: every command writes a new `outputs/<name>/<run id>/` with
//! a manifest.json, `latest` names the newest, `--out` must be empty unless
//! `--force`, a file without `name` is named after the file, and
//! `fleksim runs` lists what was kept.

use std::path::{Path, PathBuf};

use crate::util;

const TINY: [&str; 6] = ["--scale", "0.01", "-n", "1", "--quarters", "2"];

fn fleksim_in(dir: &Path, args: &[&str]) -> std::process::Output {
    util::fleksim()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run fleksim")
}

fn err(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The run folders under `outputs/<name>/`, sorted.
fn runs_of(dir: &Path, name: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir.join("outputs").join(name))
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().is_dir() && !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap()
}

fn baseline_file() -> PathBuf {
    util::root().join("scenarios/baseline.toml")
}

#[test]
fn each_run_gets_its_own_folder_and_latest_names_the_newest() {
    let tmp = tempfile::tempdir().unwrap();
    let mut args = vec!["run", "--quiet"];
    args.extend(TINY);
    for _ in 0..2 {
        let o = fleksim_in(tmp.path(), &args);
        assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    }
    let runs = runs_of(tmp.path(), "baseline");
    assert_eq!(runs.len(), 2, "{runs:?}");
    for r in &runs {
        assert!(r.contains("Z-run"), "run id {r}");
    }
    let latest = std::fs::read_to_string(tmp.path().join("outputs/baseline/latest")).unwrap();
    assert_eq!(latest.trim(), runs[1], "latest names the newest");
    let m = manifest(&tmp.path().join("outputs/baseline").join(&runs[1]));
    assert_eq!(m["command"], "run");
    assert_eq!(m["fleksim_version"], env!("CARGO_PKG_VERSION"));
    assert!(!m["git_commit"].as_str().unwrap().is_empty());
    assert_eq!(m["inputs"][0]["role"], "scenario");
    assert_eq!(m["inputs"][0]["path"], "<embedded>/baseline.toml");
    assert_eq!(m["inputs"][0]["hash"], m["scenario_hash"]);
    assert_eq!(m["scale"], 0.01);

    // Other commands keep their own folders beside the runs.
    let mut args = vec!["verify", "--alpha", "0.01"];
    args.extend(TINY);
    let o = fleksim_in(tmp.path(), &args);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let runs = runs_of(tmp.path(), "baseline");
    assert_eq!(runs.len(), 3, "{runs:?}");
    let v = runs.iter().find(|r| r.ends_with("-verify")).unwrap();
    let dir = tmp.path().join("outputs/baseline").join(v);
    assert!(dir.join("verify.csv").is_file());
    let m = manifest(&dir);
    assert_eq!(m["command"], "verify");
    assert_eq!(m["settings"]["alpha"], 0.01);

    // `runs` lists all three in 80 columns, the newest of the name marked.
    let o = fleksim_in(tmp.path(), &["runs"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    for r in &runs {
        assert!(out.contains(r.as_str()), "{r} not listed:\n{out}");
    }
    assert!(out.contains(&format!("{} *", runs[2])), "{out}");
    assert!(out.contains("verify: baseline"), "{out}");
    assert!(out.lines().all(|l| l.chars().count() <= 80), "{out}");
}

#[test]
fn an_explicit_out_folder_must_be_empty_unless_forced() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let run = |extra: &[&str]| {
        let mut c = util::fleksim();
        c.args(["run", "--quiet"]).args(TINY).arg("--out").arg(&out);
        c.args(extra).output().unwrap()
    };
    let o = run(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let before = std::fs::read(out.join("manifest.json")).unwrap();
    let o = run(&["--seed", "5"]);
    assert_eq!(o.status.code(), Some(1));
    let e = err(&o);
    assert!(e.contains("not empty") && e.contains("--force"), "{e}");
    assert_eq!(std::fs::read(out.join("manifest.json")).unwrap(), before);
    let o = run(&["--seed", "5", "--force"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(manifest(&out)["seed"], 5);
    assert!(!tmp.path().join("outputs").exists(), "nothing in outputs/");
}

#[test]
fn a_file_without_a_name_is_named_after_the_file_and_compare_records_both_inputs() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("my-reform.toml");
    std::fs::write(
        &f,
        format!(
            "extends = {:?}\n[costs]\ndiscount_rate = 0.05\n",
            baseline_file().display().to_string()
        ),
    )
    .unwrap();
    let mut args = vec!["run", "my-reform.toml", "--quiet"];
    args.extend(TINY);
    let o = fleksim_in(tmp.path(), &args);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let runs = runs_of(tmp.path(), "my-reform");
    assert_eq!(runs.len(), 1);
    let dir = tmp.path().join("outputs/my-reform").join(&runs[0]);
    let stocks = std::fs::read_to_string(dir.join("stocks.csv")).unwrap();
    assert!(stocks.lines().skip(1).all(|l| l.starts_with("my-reform,")));

    // compare: the embedded baseline by default, the folder of the proposal.
    let mut args = vec!["compare", "my-reform.toml", "--quiet"];
    args.extend(TINY);
    let o = fleksim_in(tmp.path(), &args);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let runs = runs_of(tmp.path(), "my-reform");
    let c = runs.iter().find(|r| r.ends_with("-compare")).unwrap();
    let m = manifest(&tmp.path().join("outputs/my-reform").join(c));
    assert_eq!(m["command"], "compare");
    assert_eq!(m["inputs"][0]["role"], "baseline");
    assert_eq!(m["inputs"][0]["path"], "<embedded>/baseline.toml");
    assert_eq!(m["inputs"][1]["role"], "proposal");
    assert_eq!(m["inputs"][1]["name"], "my-reform");

    // The form of earlier versions: a complete scenario first is the baseline.
    let base = baseline_file().display().to_string();
    let out = tmp.path().join("legacy");
    let o = util::fleksim()
        .current_dir(tmp.path())
        .args(["compare", &base, "my-reform.toml", "--quiet"])
        .args(TINY)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(err(&o).contains("as the baseline"), "{}", err(&o));
    let m = manifest(&out);
    assert_eq!(m["inputs"][0]["path"], base.as_str());
    assert_eq!(m["inputs"].as_array().unwrap().len(), 2);
    let csv = std::fs::read_to_string(out.join("compare.csv")).unwrap();
    assert!(csv.lines().skip(1).all(|l| l.starts_with("my-reform,")));
}

#[test]
fn a_missing_file_gets_the_closest_name_in_its_folder() {
    let o = fleksim_in(
        &util::root(),
        &["validate", "scenarios/proposals/d05-shortr-waits.toml"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains("did you mean scenarios/proposals/d05-shorter-waits.toml?"),
        "{}",
        err(&o)
    );
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("parent.toml"), "").unwrap();
    std::fs::write(tmp.path().join("child.toml"), "extends = \"parnet.toml\"\n").unwrap();
    let o = fleksim_in(tmp.path(), &["validate", "child.toml"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("parent.toml?"), "{}", err(&o));
}
