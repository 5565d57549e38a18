//! End-to-end tests of the command line: help, `validate`, `run`, its output
//! files and its argument checks.

use std::collections::BTreeSet;
use std::path::Path;

use crate::util;

/// The five files of a finished run.
const OUTPUTS: [&str; 6] = [
    "stocks.csv",
    "flows.csv",
    "costs.csv",
    "annual.csv",
    "outcomes.csv",
    "manifest.json",
];

/// Exact header row of each CSV.
const HEADERS: [(&str, &str); 5] = [
    (
        "stocks.csv",
        "scenario,year,quarter,state,age_group,is_total,mean,se,ci_low,ci_high",
    ),
    (
        "flows.csv",
        "scenario,year,quarter,from,to,mean,se,ci_low,ci_high",
    ),
    (
        "costs.csv",
        "scenario,year,quarter,item,payer,is_total,mean,se,ci_low,ci_high",
    ),
    (
        "annual.csv",
        "scenario,year,quarters,metric,unit,is_total,mean,se,ci_low,ci_high",
    ),
    (
        "outcomes.csv",
        "scenario,metric,unit,period,is_total,mean,se,ci_low,ci_high",
    ),
];

fn stderr_of(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout_of(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The names of the entries of a folder.
fn names_in(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| {
            e.expect("folder entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

/// Runs tests/data/ok/small.toml (scale 0.1, 2 replications) into `dir`.
fn run_small_into(dir: &Path) -> std::process::Output {
    util::fleksim()
        .current_dir(util::root())
        .args([
            "run",
            "tests/data/ok/small.toml",
            "--scale",
            "0.1",
            "-n",
            "2",
            "--quiet",
            "--out",
        ])
        .arg(dir)
        .output()
        .expect("run fleksim")
}

fn read_manifest(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("manifest.json")).expect("manifest.json");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("manifest.json is not JSON: {e}\n{text}"))
}

#[test]
fn help_shows_examples() {
    let o = util::fleksim().arg("--help").output().expect("run fleksim");
    assert!(o.status.success(), "{}", stderr_of(&o));
    let out = stdout_of(&o);
    for w in [
        "Examples:",
        "fleksim run",
        "fleksim validate",
        "Exit status",
        "run",
        "validate",
    ] {
        assert!(out.contains(w), "`fleksim --help` lacks {w:?}:\n{out}");
    }
}

#[test]
fn run_help_shows_examples_and_options() {
    let o = util::fleksim()
        .args(["run", "--help"])
        .output()
        .expect("run fleksim");
    assert!(o.status.success(), "{}", stderr_of(&o));
    let out = stdout_of(&o);
    for w in [
        "Examples:",
        "fleksim run",
        "--replications",
        "--seed",
        "--threads",
        "--scale",
        "--out",
        "--quarters",
        "manifest.json",
    ] {
        assert!(out.contains(w), "`fleksim run --help` lacks {w:?}:\n{out}");
    }
}

#[test]
fn version_is_printed() {
    let o = util::fleksim()
        .arg("--version")
        .output()
        .expect("run fleksim");
    assert!(o.status.success(), "{}", stderr_of(&o));
    assert!(
        stdout_of(&o).contains(env!("CARGO_PKG_VERSION")),
        "{}",
        stdout_of(&o)
    );
}

#[test]
fn validate_baseline_is_ok() {
    let o = util::fleksim()
        .current_dir(util::root())
        .args(["validate", "scenarios/baseline.toml"])
        .output()
        .expect("run fleksim");
    assert_eq!(o.status.code(), Some(0), "{}", stderr_of(&o));
    let out = stdout_of(&o);
    assert!(
        out.lines()
            .any(|l| l.starts_with("ok") && l.contains("scenarios/baseline.toml")),
        "no `ok  scenarios/baseline.toml` line:\n{out}"
    );
    assert!(
        !stderr_of(&o).contains("error"),
        "stderr: {}",
        stderr_of(&o)
    );
}

#[test]
fn validate_small_and_child_scenarios_are_ok() {
    let o = util::fleksim()
        .current_dir(util::root())
        .args([
            "validate",
            "tests/data/ok/small.toml",
            "tests/data/ok/child.toml",
        ])
        .output()
        .expect("run fleksim");
    assert_eq!(o.status.code(), Some(0), "{}", stderr_of(&o));
    let out = stdout_of(&o);
    for f in ["tests/data/ok/small.toml", "tests/data/ok/child.toml"] {
        assert!(
            out.lines().any(|l| l.starts_with("ok") && l.contains(f)),
            "no ok line for {f}:\n{out}"
        );
    }
}

#[test]
fn validate_several_files_reports_good_and_bad() {
    let o = util::fleksim()
        .current_dir(util::root())
        .args([
            "validate",
            "scenarios/baseline.toml",
            "tests/data/bad/probability_above_one.toml",
            "tests/data/ok/child.toml",
        ])
        .output()
        .expect("run fleksim");
    assert_eq!(o.status.code(), Some(1), "{}", stderr_of(&o));
    let out = stdout_of(&o);
    let err = stderr_of(&o);
    for f in ["scenarios/baseline.toml", "tests/data/ok/child.toml"] {
        assert!(
            out.lines().any(|l| l.starts_with("ok") && l.contains(f)),
            "the good file {f} is not reported ok:\n{out}"
        );
    }
    assert!(
        !out.contains("probability_above_one"),
        "the bad file is reported on stdout:\n{out}"
    );
    assert!(
        err.contains("tests/data/bad/probability_above_one.toml:5:"),
        "{err}"
    );
    assert!(err.contains("outside [0, 1]"), "{err}");
    assert!(err.contains("1 of 3"), "no count of invalid files:\n{err}");
}

#[test]
fn validate_reports_every_bad_file() {
    let o = util::fleksim()
        .current_dir(util::root())
        .args([
            "validate",
            "tests/data/bad/horizon_zero.toml",
            "tests/data/bad/band_gap.toml",
        ])
        .output()
        .expect("run fleksim");
    assert_eq!(o.status.code(), Some(1), "{}", stderr_of(&o));
    let err = stderr_of(&o);
    assert!(err.contains("tests/data/bad/horizon_zero.toml:8:"), "{err}");
    assert!(err.contains("tests/data/bad/band_gap.toml:6:"), "{err}");
    assert!(err.contains("2 of 2"), "{err}");
    assert!(stdout_of(&o).trim().is_empty(), "{}", stdout_of(&o));
}

#[test]
fn validate_needs_a_file() {
    let o = util::fleksim()
        .arg("validate")
        .output()
        .expect("run fleksim");
    assert_eq!(o.status.code(), Some(1), "{}", stderr_of(&o));
    assert!(stderr_of(&o).contains("FILES"), "{}", stderr_of(&o));
}

#[test]
fn validate_missing_file_names_it() {
    let o = util::fleksim()
        .current_dir(util::root())
        .args(["validate", "tests/data/no_such_scenario.toml"])
        .output()
        .expect("run fleksim");
    assert_eq!(o.status.code(), Some(1), "{}", stderr_of(&o));
    let err = stderr_of(&o);
    assert!(err.contains("tests/data/no_such_scenario.toml"), "{err}");
}

#[test]
fn run_writes_every_output_with_exact_headers() {
    let tmp = tempfile::tempdir().expect("temporary folder");
    let dir = tmp.path();
    let o = util::fleksim()
        .args([
            "run",
            "--scale",
            "0.01",
            "-n",
            "3",
            "--quarters",
            "4",
            "--out",
        ])
        .arg(dir)
        .output()
        .expect("run fleksim");
    assert_eq!(o.status.code(), Some(0), "{}", stderr_of(&o));

    // Exactly the five files: nothing else, in particular no `*.partial`.
    let names = names_in(dir);
    let expected: BTreeSet<String> = OUTPUTS.iter().map(|s| s.to_string()).collect();
    assert_eq!(names, expected, "files in the output folder");
    assert!(
        !names.iter().any(|n| n.ends_with(".partial")),
        "temporary files left: {names:?}"
    );

    for (file, header) in HEADERS {
        let text = std::fs::read_to_string(dir.join(file)).expect(file);
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(header), "header of {file}");
        let width = header.split(',').count();
        let mut rows = 0;
        for (i, l) in lines.enumerate() {
            assert_eq!(
                l.split(',').count(),
                width,
                "{file} row {} has the wrong number of fields: {l}",
                i + 2
            );
            assert!(l.starts_with("baseline,"), "{file} row {}: {l}", i + 2);
            rows += 1;
        }
        assert!(rows > 0, "{file} has no rows");
    }

    let m = read_manifest(dir);
    let pq = m["person_quarters"].as_u64().expect("person_quarters");
    assert!(pq > 0, "person_quarters = {pq}");
    let secs = m["elapsed_seconds"].as_f64().expect("elapsed_seconds");
    assert!(secs >= 0.0 && secs.is_finite(), "elapsed_seconds = {secs}");
    assert_eq!(m["seed"].as_u64(), Some(2019), "seed (the default)");
    assert_eq!(m["replications"].as_u64(), Some(3), "replications");
    assert_eq!(m["scale"].as_f64(), Some(0.01), "scale");
    assert!(m["threads"].as_u64().expect("threads") >= 1, "threads");
    let hash = m["scenario_hash"].as_str().expect("scenario_hash");
    assert!(!hash.is_empty(), "empty scenario_hash");
    assert_eq!(m["horizon_quarters"].as_u64(), Some(4), "horizon_quarters");
    assert_eq!(m["scenario"].as_str(), Some("baseline"), "scenario");
}

#[test]
fn run_creates_a_missing_output_folder_and_reads_a_scenario_file() {
    let tmp = tempfile::tempdir().expect("temporary folder");
    let out = tmp.path().join("nested").join("child-out");
    let o = util::fleksim()
        .current_dir(util::root())
        .args([
            "run",
            "tests/data/ok/child.toml",
            "--scale",
            "0.01",
            "-n",
            "2",
            "--seed",
            "7",
            "--quiet",
            "--out",
        ])
        .arg(&out)
        .output()
        .expect("run fleksim");
    assert_eq!(o.status.code(), Some(0), "{}", stderr_of(&o));
    let expected: BTreeSet<String> = OUTPUTS.iter().map(|s| s.to_string()).collect();
    assert_eq!(names_in(&out), expected);
    assert!(
        stdout_of(&o).trim().is_empty(),
        "--quiet printed a summary:\n{}",
        stdout_of(&o)
    );
    let m = read_manifest(&out);
    assert_eq!(m["scenario"].as_str(), Some("child"));
    assert_eq!(m["seed"].as_u64(), Some(7));
    assert_eq!(m["replications"].as_u64(), Some(2));
    assert_eq!(m["horizon_quarters"].as_u64(), Some(8));
    let sources = m["scenario_sources"].as_array().expect("scenario_sources");
    assert_eq!(sources.len(), 2, "the child and the baseline: {sources:?}");
    let stocks = std::fs::read_to_string(out.join("stocks.csv")).expect("stocks.csv");
    assert!(
        stocks.lines().skip(1).all(|l| l.starts_with("child,")),
        "stocks.csv rows must name the scenario `child`"
    );
}

#[test]
fn bad_arguments_exit_1_and_name_the_flag() {
    let cases: &[(&[&str], &str)] = &[
        (&["--scale", "0"], "--scale"),
        (&["--scale", "1.5"], "--scale"),
        (&["--scale=-0.5"], "--scale"),
        (&["--scale", "abc"], "--scale"),
        (&["--replications", "0"], "--replications"),
        (&["-n", "0"], "--replications"),
        (&["--threads", "0"], "--threads"),
        (&["--quarters", "0"], "--quarters"),
        (&["--quarters", "401"], "--quarters"),
        (&["--frobnicate"], "--frobnicate"),
    ];
    let mut problems = Vec::new();
    for (args, flag) in cases {
        let tmp = tempfile::tempdir().expect("temporary folder");
        let out = tmp.path().join("out");
        let o = util::fleksim()
            .arg("run")
            .args(*args)
            .arg("--out")
            .arg(&out)
            .output()
            .expect("run fleksim");
        let err = stderr_of(&o);
        if o.status.code() != Some(1) {
            problems.push(format!(
                "`fleksim run {}` exited with {:?}, expected 1:\n{err}",
                args.join(" "),
                o.status.code()
            ));
        }
        if !err.contains(flag) {
            problems.push(format!(
                "`fleksim run {}`: the message does not name {flag}:\n{err}",
                args.join(" ")
            ));
        }
        if out.exists() {
            problems.push(format!(
                "`fleksim run {}` created the output folder",
                args.join(" ")
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn run_missing_scenario_file_names_it() {
    let tmp = tempfile::tempdir().expect("temporary folder");
    let out = tmp.path().join("out");
    let o = util::fleksim()
        .current_dir(util::root())
        .args(["run", "tests/data/no_such_scenario.toml", "--out"])
        .arg(&out)
        .output()
        .expect("run fleksim");
    assert_eq!(o.status.code(), Some(1), "{}", stderr_of(&o));
    let err = stderr_of(&o);
    assert!(err.contains("tests/data/no_such_scenario.toml"), "{err}");
    assert!(!out.exists(), "the output folder was created");
}

#[test]
fn failed_run_leaves_earlier_outputs_untouched() {
    let tmp = tempfile::tempdir().expect("temporary folder");
    let dir = tmp.path();
    let o = run_small_into(dir);
    assert_eq!(o.status.code(), Some(0), "{}", stderr_of(&o));
    let before: Vec<(String, Vec<u8>)> = OUTPUTS
        .iter()
        .map(|f| (f.to_string(), std::fs::read(dir.join(f)).expect(f)))
        .collect();

    let o = util::fleksim()
        .current_dir(util::root())
        .args([
            "run",
            "tests/data/bad/horizon_zero.toml",
            "--scale",
            "0.1",
            "-n",
            "2",
            "--out",
        ])
        .arg(dir)
        .output()
        .expect("run fleksim");
    assert_eq!(o.status.code(), Some(1), "{}", stderr_of(&o));
    let expected: BTreeSet<String> = OUTPUTS.iter().map(|s| s.to_string()).collect();
    assert_eq!(names_in(dir), expected, "files after the failed run");
    for (f, bytes) in before {
        assert_eq!(
            std::fs::read(dir.join(&f)).expect("output"),
            bytes,
            "{f} changed"
        );
    }
}

/// Output files are ordinary files: the same permissions as any file the
/// user creates in that folder (umask applies), not the private 0600 of a
/// temporary file.
#[cfg(unix)]
#[test]
fn output_files_get_ordinary_permissions() {
    use std::os::unix::fs::PermissionsExt;

    let tmp = tempfile::tempdir().expect("temporary folder");
    let dir = tmp.path();
    let o = run_small_into(dir);
    assert_eq!(o.status.code(), Some(0), "{}", stderr_of(&o));
    let reference = dir.join("reference.txt");
    std::fs::write(&reference, b"x").expect("write a reference file");
    let mode = |p: &Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
    let want = mode(&reference);
    for f in OUTPUTS {
        let got = mode(&dir.join(f));
        assert_eq!(
            got, want,
            "{f} has mode {got:o}; a file created normally here gets {want:o}"
        );
    }
}

/// `--set path=value` changes a parameter before validation: the scenario
/// hash changes, a misspelt path gets a hint, an invalid value names --set.
#[test]
fn set_overrides_a_parameter_by_path() {
    let tmp = tempfile::tempdir().expect("temporary folder");
    let run = |dir: &Path, extra: &[&str]| {
        util::fleksim()
            .current_dir(util::root())
            .args([
                "run",
                "--scale",
                "0.01",
                "-n",
                "2",
                "--quarters",
                "2",
                "--quiet",
                "--out",
            ])
            .arg(dir)
            .args(extra)
            .output()
            .expect("run fleksim")
    };
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    assert_eq!(run(&a, &[]).status.code(), Some(0));
    let o = run(&b, &["--set", "transitions.kontanthjaelp.employed.all=0.2"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr_of(&o));
    assert_ne!(
        read_manifest(&a)["scenario_hash"],
        read_manifest(&b)["scenario_hash"]
    );
    let flows = |d: &Path| std::fs::read_to_string(d.join("flows.csv")).unwrap();
    assert!(flows(&a) != flows(&b), "the changed rate changes the flows");

    let o = run(
        &tmp.path().join("c"),
        &["--set", "transitions.kontanthjaelp.employd.all=0.2"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr_of(&o).contains("did you mean `employed`?"),
        "{}",
        stderr_of(&o)
    );
    let o = run(&tmp.path().join("d"), &["--set", "costs.discount_rate=2"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr_of(&o).contains("(set with --set costs.discount_rate=2)"),
        "{}",
        stderr_of(&o)
    );
    assert!(!tmp.path().join("c").exists() && !tmp.path().join("d").exists());
}

/// A cohort so large that packed 32-bit person ids could not tell every
/// person apart is refused before anything is simulated or written (here
/// valid as written, but not over the 400 quarters asked with --quarters;
/// a cohort above the limit is refused by validate, tests/it/hostile.rs).
#[test]
fn too_many_persons_for_person_ids_is_a_clear_error() {
    let tmp = tempfile::tempdir().expect("temporary folder");
    let out = tmp.path().join("out");
    let o = util::fleksim()
        .current_dir(util::root())
        .args([
            "run",
            "tests/data/ok/small.toml",
            "--set",
            "population.stock.kontanthjaelp.count=1e8",
            "--quarters",
            "400",
            "-n",
            "1",
            "--quiet",
            "--out",
        ])
        .arg(&out)
        .output()
        .expect("run fleksim");
    assert_eq!(o.status.code(), Some(1), "{}", stderr_of(&o));
    let err = stderr_of(&o);
    assert!(
        err.contains("32-bit person ids") && err.contains("lower --scale"),
        "{err}"
    );
    assert!(!out.exists() || names_in(&out).is_empty(), "no outputs");
}
