//! Malformed and hostile inputs: files that never end, deep chains, amounts
//! and sizes beyond the documented limits (scenarios/README.md, "Limits").
//! Each must end in a clear error that names the file, key or option, with
//! exit status 1, never a hang, a crash or a wrong number.

use std::path::{Path, PathBuf};
use std::time::Duration;

use fleksim::scenario;

use crate::util;

/// A temporary folder holding a copy of the baseline as `baseline.toml`.
fn with_baseline() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::copy(
        util::root().join("scenarios/baseline.toml"),
        dir.path().join("baseline.toml"),
    )
    .expect("copy baseline");
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p
}

/// Runs fleksim with a time limit; returns (exit code, stderr).
fn fleksim(args: &[&str]) -> (i32, String) {
    let out = util::fleksim()
        .args(args)
        .timeout(Duration::from_secs(60))
        .output()
        .expect("run fleksim");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn load_err(path: &Path) -> String {
    match scenario::load_file(path) {
        Ok(_) => panic!("{} was accepted", path.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn devices_as_scenario_parent_or_patch_are_refused() {
    let (code, err) = fleksim(&["validate", "/dev/zero"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("/dev/zero") && err.contains("not a regular file (a character device)"),
        "{err}"
    );
    let dir = with_baseline();
    let parent = write(dir.path(), "p.toml", "extends = \"/dev/urandom\"\n");
    let err = load_err(&parent);
    assert!(
        err.contains("cannot read parent scenario /dev/urandom: not a regular file"),
        "{err}"
    );
    assert!(
        err.starts_with(&format!("{}:1:11: `extends`", parent.display())),
        "{err}"
    );
    let patch = write(
        dir.path(),
        "q.toml",
        "extends = [\"baseline.toml\", \"/dev/zero\"]\n",
    );
    let err = load_err(&patch);
    assert!(
        err.contains("cannot read patch scenario /dev/zero: not a regular file"),
        "{err}"
    );
    let err = load_err(dir.path());
    assert!(err.contains("not a regular file (a directory)"), "{err}");
    let latin1 = dir.path().join("latin1.toml");
    std::fs::write(&latin1, b"name = \"k\xf8ge\"\n").unwrap();
    let err = load_err(&latin1);
    assert!(
        err.contains("not UTF-8 text (invalid byte at offset 9)"),
        "{err}"
    );
    let (code, err) = fleksim(&["check", "--targets", "/dev/zero", "-n", "1"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("cannot read targets file /dev/zero: not a regular file"),
        "{err}"
    );
}

#[cfg(unix)]
#[test]
fn a_fifo_as_scenario_or_patch_never_blocks() {
    let dir = with_baseline();
    let fifo = dir.path().join("fifo.toml");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo")
            .success()
    );
    // Nobody ever writes to the FIFO: a blocking open would hang (the
    // helper's time limit would then fail the test).
    let (code, err) = fleksim(&["validate", fifo.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("fifo.toml: not a regular file (a FIFO)"),
        "{err}"
    );
    let patch = write(
        dir.path(),
        "p.toml",
        "extends = [\"baseline.toml\", \"fifo.toml\"]\n",
    );
    assert!(load_err(&patch).contains("not a regular file (a FIFO)"));
}

#[test]
fn files_over_the_size_limit_are_refused_with_their_path() {
    let dir = with_baseline();
    let big = dir.path().join("big.toml");
    // A valid scenario padded with a comment to just over 4 MiB.
    let mut text = std::fs::read_to_string(dir.path().join("baseline.toml")).unwrap();
    let pad = scenario::MAX_INPUT_BYTES as usize + 1 - text.len();
    text.push('#');
    text.push_str(&"x".repeat(pad - 1));
    std::fs::write(&big, &text).unwrap();
    let err = load_err(&big);
    assert!(
        err.contains(&format!("cannot read scenario file {}", big.display()))
            && err.contains("larger than the 4 MiB limit"),
        "{err}"
    );
    // One byte less is read and valid.
    text.pop();
    std::fs::write(&big, &text).unwrap();
    assert!(scenario::load_file(&big).is_ok());
    // A parent over the limit is named with the `extends` that points at it.
    text.push('x');
    std::fs::write(&big, &text).unwrap();
    let child = write(dir.path(), "child.toml", "extends = \"big.toml\"\n");
    let err = load_err(&child);
    assert!(
        err.starts_with(&format!("{}:1:11: `extends`", child.display())),
        "{err}"
    );
    assert!(err.contains("larger than the 4 MiB limit"), "{err}");
}

/// Writes `n` files, `level1.toml` extends `baseline.toml` and each
/// `level<k>.toml` extends `level<k-1>.toml`; returns the last.
fn chain(dir: &Path, n: usize) -> PathBuf {
    let mut last = PathBuf::new();
    for k in 1..=n {
        let parent = if k == 1 {
            "baseline.toml".to_string()
        } else {
            format!("level{}.toml", k - 1)
        };
        last = write(
            dir,
            &format!("level{k}.toml"),
            &format!("extends = \"{parent}\"\nname = \"level{k}\"\n"),
        );
    }
    last
}

#[test]
fn extends_chains_are_followed_to_the_limit_and_refused_beyond() {
    let limit = scenario::limits::MAX_EXTENDS_DEPTH;
    let dir = with_baseline();
    // The chain of `limit` files, the last one included, is followed.
    let ok = chain(dir.path(), limit - 1);
    let loaded = scenario::load_file(&ok).expect("a chain at the limit is valid");
    assert_eq!(loaded.scenario.name, format!("level{}", limit - 1));
    // 5,000 files: refused with the chain named, not a stack overflow.
    let dir = with_baseline();
    let deep = chain(dir.path(), 5000);
    let err = load_err(&deep);
    assert!(
        err.contains(&format!("`extends` chain is longer than {limit} files")),
        "{err}"
    );
    let d = dir.path().display();
    assert!(
        err.contains(&format!("level5000.toml -> {d}/level4999.toml")),
        "{err}"
    );
    assert!(
        err.contains("(59 more)") && err.ends_with("level4936.toml"),
        "{err}"
    );
    let (code, err) = fleksim(&["validate", deep.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("longer than 64 files"), "{err}");
}

#[test]
fn every_money_key_is_bounded_by_its_kind() {
    use scenario::limits::Amount;
    let keys = [
        ("costs.monthly.kontanthjaelp", Amount::Monthly),
        ("costs.monthly.foertidspension", Amount::Monthly),
        ("costs.fleksloentilskud.max", Amount::Monthly),
        ("costs.fleksloentilskud.threshold", Amount::Monthly),
        ("costs.fleksloentilskud.hourly_wage", Amount::Hourly),
        ("costs.insurance.monthly_payment", Amount::Monthly),
        ("costs.services.intervention_active", Amount::Quarterly),
        ("costs.services.intervention_company", Amount::Quarterly),
        ("costs.services.rehab_team_per_case", Amount::PerCase),
        ("costs.services.caseworker_salary", Amount::Yearly),
        ("costs.services.revalidering_education", Amount::Yearly),
    ];
    for (key, kind) in keys {
        let at = [(key.to_string(), toml::Value::Float(kind.max()))];
        if let Err(e) = scenario::load_with(None, &at) {
            panic!("{key} at its bound {} is refused: {e}", kind.max());
        }
        let beyond = [(key.to_string(), toml::Value::Float(kind.max() * 1.01))];
        let err = match scenario::load_with(None, &beyond) {
            Ok(_) => panic!("{key} beyond its bound is accepted"),
            Err(e) => e.to_string(),
        };
        assert!(err.starts_with(&format!("`{key}`: ")), "{err}");
        assert!(
            err.contains(&format!(
                "is above the limit of {}",
                scenario::limits::thousands(kind.max())
            )),
            "{err}"
        );
        assert!(err.contains(kind.unit()), "{err}");
    }
}

#[test]
fn a_huge_rate_in_a_file_is_refused_with_file_key_and_line() {
    let dir = with_baseline();
    let p = write(
        dir.path(),
        "rich.toml",
        "extends = \"baseline.toml\"\nname = \"rich\"\n\n[costs.monthly]\nkontanthjaelp = 1e11\n",
    );
    let (code, err) = fleksim(&[
        "run",
        p.to_str().unwrap(),
        "-n",
        "1",
        "--scale",
        "0.01",
        "-q",
        "1",
        "--quiet",
        "--out",
        dir.path().join("o").to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("`costs.monthly.kontanthjaelp`"), "{err}");
    assert!(err.contains("rich.toml:5:17"), "{err}");
    assert!(
        err.contains("rate 100000000000 is above the limit of 1,000,000 DKK a month"),
        "{err}"
    );
    assert!(!dir.path().join("o").exists(), "nothing is written");
}

/// The small fixture with `count` persons in its stock, `per_quarter` a
/// quarter of inflow and `horizon` quarters.
fn small(dir: &Path, count: &str, per_quarter: &str, horizon: u16) -> PathBuf {
    let text = std::fs::read_to_string(util::data("ok/small.toml"))
        .unwrap()
        .replace("count = 1000\n", &format!("count = {count}\n"))
        .replace(
            "per_quarter = 100\n",
            &format!("per_quarter = {per_quarter}\n"),
        )
        .replace("horizon = 8\n", &format!("horizon = {horizon}\n"));
    write(dir, "small.toml", &text)
}

#[test]
fn populations_that_cannot_be_represented_are_refused_by_validate() {
    let dir = tempfile::tempdir().unwrap();
    let p = small(dir.path(), "1e12", "100", 8);
    let (code, err) = fleksim(&["validate", p.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("`population.stock.kontanthjaelp.count`"),
        "{err}"
    );
    assert!(err.contains("small.toml:16:9"), "{err}");
    assert!(
        err.contains("1000000000000 persons is more than the 100,000,000 a cohort may have"),
        "{err}"
    );
    // Each cohort within the limit, but 400 quarters of 20 million: more
    // persons than 32-bit ids tell apart.
    let p = small(dir.path(), "1000", "2e7", 400);
    let err = load_err(&p);
    assert!(
        err.contains("`population`: the scenario creates 8000001000 persons"),
        "{err}"
    );
    // At the cohort limit with a short horizon it is valid.
    let p = small(dir.path(), "1e8", "100", 8);
    scenario::load_file(&p).expect("a cohort of 1e8 is representable");
}

#[test]
fn runs_beyond_the_design_limits_are_refused_naming_the_option() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let out = out.to_str().unwrap();
    let d05 = util::root().join("scenarios/proposals/d05-shorter-waits.toml");
    let d05 = d05.to_str().unwrap();
    let path = "ressourceforloeb.phases.waiting_team.waiting_intervention";
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["run".into(), "-n".into(), "1000000000".into()],
            "--replications 1000000000 is more than the 100000 a run accepts",
        ),
        (
            vec!["run".into(), "--threads".into(), "100000".into()],
            "--threads 100000 is more than the 256 a run accepts",
        ),
        (
            vec!["run".into(), "--scale".into(), "1e-320".into()],
            "--scale 1e-320 is too small",
        ),
        (
            vec!["run".into(), "--scale".into(), "1e-9".into()],
            "--scale 1e-9 leaves no person of `baseline` to simulate",
        ),
        (
            vec!["exact".into(), "--scale".into(), "1e-320".into()],
            "--scale 1e-320 is too small",
        ),
        (
            vec![
                "sweep".into(),
                d05.into(),
                "--vary".into(),
                format!("{path}=0:1:1000000000000"),
            ],
            "--vary <PATH=VALUES>': a grid of 1000000000000 points is more than the 10000",
        ),
        (
            vec![
                "sweep".into(),
                d05.into(),
                "--vary".into(),
                format!("{path}=0:1:200"),
                "--vary".into(),
                "ressourceforloeb.phases.waiting_team.passive=0:0.1:200".into(),
            ],
            "the --vary grid has 40000 design points, more than the 10000",
        ),
        (
            vec![
                "sweep".into(),
                d05.into(),
                "--lhs".into(),
                "1000000000".into(),
                "--range".into(),
                format!("{path}=0:1"),
            ],
            "--lhs 1000000000 has 1000000000 design points",
        ),
        (
            vec![
                "uncertainty".into(),
                d05.into(),
                "--draws".into(),
                "1000000000".into(),
            ],
            "--draws 1000000000 has 1000000000 design points",
        ),
    ];
    for (args, expected) in cases {
        let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
        all.extend(["--out", out, "--quiet"]);
        if all[0] == "exact" {
            all.retain(|a| *a != "--quiet");
            all.push("--quiet");
        }
        let (code, err) = fleksim(&all);
        assert_eq!(code, 1, "{args:?}: {err}");
        assert!(err.contains(expected), "{args:?}: {err}");
        assert!(!err.contains("internal error"), "{args:?}: {err}");
    }
    assert!(!Path::new(out).exists(), "a refused run writes nothing");
}

#[test]
fn a_run_that_cannot_fit_in_memory_is_refused_with_the_estimate() {
    let Some(avail) = fleksim::engine::budget::available_memory() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // 5 million a quarter for 400 quarters: 2e9 persons, 64 GB at 32 bytes.
    let p = small(dir.path(), "1000", "5e6", 400);
    if avail > 60 << 30 {
        return;
    }
    let out = dir.path().join("o");
    let (code, err) = fleksim(&[
        "run",
        p.to_str().unwrap(),
        "-n",
        "1",
        "-j",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(
            "this run needs about 59.7 GiB of memory (2000001000 persons a replication at --scale 1"
        ),
        "{err}"
    );
    assert!(err.contains("lower --scale to"), "{err}");
}

#[test]
fn lenient_inputs_are_errors() {
    let dir = with_baseline();
    let p = write(
        dir.path(),
        "backwards.toml",
        "extends = \"baseline.toml\"\nname = \"backwards\"\n\n[gates.no_foertidspension_under_40]\nactive_from = \"2024Q1\"\nactive_until = \"2020Q4\"\n",
    );
    let err = load_err(&p);
    assert!(
        err.starts_with(&format!("{}:6:16: `gates.no_foertidspension_under_40.active_until`: active_until 2020Q4 is before active_from 2024Q1", p.display())),
        "{err}"
    );
    let (code, err) = fleksim(&[
        "run",
        "--set",
        "costs.refusion.state_share[1=0.5",
        "-n",
        "1",
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("--set"), "{err}");
    assert!(
        err.contains("`state_share[1` is not a key with an array index"),
        "{err}"
    );
}

#[test]
fn messages_name_the_option_and_the_file_and_escape_control_characters() {
    for (args, expected) in [
        (["--scale", "-1"], "--scale must be in (0, 1], got -1"),
        (["--seed", "-1"], "invalid value '-1' for '--seed <SEED>'"),
        (
            ["--quarters", "-3"],
            "invalid value '-3' for '--quarters <QUARTERS>'",
        ),
    ] {
        let (code, err) = fleksim(&["run", args[0], args[1], "-n", "1"]);
        assert_eq!(code, 1, "{err}");
        assert!(err.contains(expected), "{args:?}: {err}");
        assert!(!err.contains("unexpected argument"), "{err}");
    }
    let dir = tempfile::tempdir().unwrap();
    // Nested arrays beyond TOML's recursion limit: the error names the file.
    let deep = write(
        dir.path(),
        "deep.toml",
        &format!("x = {}", "[".repeat(100_000)),
    );
    let err = load_err(&deep);
    assert!(err.starts_with(&format!("{}:1:", deep.display())), "{err}");
    assert!(
        err.contains("TOML syntax error") && err.contains("recursion"),
        "{err}"
    );
    // A dotted key of too many parts: the parser gives no position, and
    // the error still names the file, and the line of the key where one
    // is found.
    let key = vec!["a"; 81].join(".");
    let dotted = write(
        dir.path(),
        "dotted.toml",
        &format!("# a key too long\nname = \"x\"\n{key} = 1\n"),
    );
    let err = load_err(&dotted);
    assert!(
        err.starts_with(&format!("{}:3:1: ", dotted.display())),
        "{err}"
    );
    assert!(
        err.contains("recursion limit") && err.contains("a dotted key may have at most 80 parts"),
        "{err}"
    );
    assert!(!err.contains("no position"), "{err}");
    let fits = write(
        dir.path(),
        "fits.toml",
        &format!("[{}]\n", vec!["a"; 80].join(".")),
    );
    assert!(!load_err(&fits).contains("recursion"), "80 parts parse");
    // In an inline table the line is not found: the file is still named.
    let inline = write(
        dir.path(),
        "inline.toml",
        &format!("x = 1\ny = {{ {key} = 1 }}\n"),
    );
    let err = load_err(&inline);
    assert!(
        err.starts_with(&format!("{}:1:1: ", inline.display())),
        "{err}"
    );
    assert!(err.contains("the parser gives no position"), "{err}");
    // In a parent and in a patch, the error names that file.
    let child = write(
        dir.path(),
        "child.toml",
        "extends = \"dotted.toml\"\nname = \"c\"\n",
    );
    let small = util::data("ok/small.toml");
    let package = write(
        dir.path(),
        "package.toml",
        &format!(
            "extends = [{:?}, \"dotted.toml\"]\nname = \"p\"\n",
            small.display().to_string()
        ),
    );
    for p in [child, package] {
        let err = load_err(&p);
        assert!(
            err.starts_with(&format!("{}:3:1: ", dotted.display())),
            "{err}"
        );
        let (code, cli) = fleksim(&["validate", p.to_str().unwrap()]);
        assert_eq!(code, 1, "{cli}");
        assert!(cli.contains(&format!("{}:3:1", dotted.display())), "{cli}");
    }
    // A terminal escape sequence in a value or a raw one in the file is
    // shown escaped, never raw.
    let text = std::fs::read_to_string(util::data("ok/small.toml"))
        .unwrap()
        .replace("name = \"small\"", "name = \"a\\u001b[2Jb\"");
    let named = write(dir.path(), "esc.toml", &text);
    let raw = write(dir.path(), "raw.toml", "[\"k\u{1b}[2J\"]\n");
    for p in [named, raw] {
        let (code, err) = fleksim(&["validate", p.to_str().unwrap()]);
        assert_eq!(code, 1, "{err}");
        assert!(!err.contains('\u{1b}'), "{err:?}");
    }
    let (_, err) = fleksim(&["validate", dir.path().join("esc.toml").to_str().unwrap()]);
    assert!(err.contains("\\u{1b}[2J"), "{err}");
}
