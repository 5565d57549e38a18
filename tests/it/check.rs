//! `fleksim check`: the targets file, the table and check.csv.

use std::path::Path;

use fleksim::check;

use crate::util::{fleksim, root};

#[test]
fn the_targets_file_lists_every_published_figure() {
    let targets = check::load_targets(&root().join("scenarios/targets.toml")).unwrap();
    let ids: Vec<&str> = targets.iter().map(|t| t.id.as_str()).collect();
    for id in [
        "T1", "T2", "T3", "T4", "T5", "T6", "T7", "T9", "T10", "T12", "T13",
    ] {
        assert!(ids.contains(&id), "{id} missing");
    }
    // Every row of the T8 table, for both age groups, and the four T11 stocks.
    assert_eq!(ids.iter().filter(|i| i.starts_with("T8.")).count(), 22);
    assert_eq!(ids.iter().filter(|i| i.starts_with("T11.")).count(), 4);
    // The embedded copy is the same file.
    assert_eq!(
        check::TARGETS_TOML,
        std::fs::read_to_string(root().join("scenarios/targets.toml")).unwrap()
    );
}

#[test]
fn a_wider_tolerance_needs_a_reason() {
    let text = "schema_version = 1\n[[target]]\nid = \"X\"\ndescription = \"d\"\nsource = \"s\"\nrefers_to = \"2019\"\n\
                published = 10\nkind = \"count\"\ntolerance = 0.5\nmeasure = { type = \"not_measured\", why = \"w\" }\n";
    let err = check::parse_targets(Path::new("t.toml"), text)
        .unwrap_err()
        .to_string();
    assert!(err.contains("needs a `reason`"), "{err}");
}

/// The shipped baseline does not yet pass every target (calibration is
/// still to do), so check exits 1; check.csv has one row per target.
#[test]
fn check_writes_one_row_per_target_and_exits_1_unless_all_pass() {
    let tmp = tempfile::tempdir().unwrap();
    let out = fleksim()
        .current_dir(root())
        .args(["check", "--scale", "0.02", "-n", "3", "--out"])
        .arg(tmp.path())
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let table = String::from_utf8(out).unwrap();
    assert!(table.contains("not measured"), "{table}");
    let csv = std::fs::read_to_string(tmp.path().join("check.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("id,published,simulated_mean,ci_low,ci_high,tolerance,pass")
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 37);
    let t4 = rows.iter().find(|r| r.starts_with("T4,")).unwrap();
    assert!(t4.ends_with(",pass"), "{t4}");
    let t6 = rows.iter().find(|r| r.starts_with("T6,")).unwrap();
    assert!(t6.ends_with(",not_measured"), "{t6}");
}

/// Calibration finds a parameter value that meets a target the start value
/// misses by 30 %, writes it into a copy of the file (comments kept, the fit
/// recorded at the top), and `check` then passes on the written file.
#[test]
fn calibrate_fits_a_rate_to_a_target_and_check_passes_afterwards() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("small-calibrated.toml");
    let targets = root().join("tests/data/targets/small.toml");
    fleksim()
        .current_dir(root())
        .args([
            "calibrate",
            "tests/data/ok/small.toml",
            "--free",
            "transitions.kontanthjaelp.out.all",
            "-n",
            "5",
            "--targets",
        ])
        .arg(&targets)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.starts_with("# Calibrated by fleksim"), "{text}");
    assert!(
        text.contains("transitions.kontanthjaelp.out.all: 0.01 -> "),
        "{text}"
    );
    // The file's own comments survive.
    assert!(
        text.contains("# A small standalone valid scenario"),
        "{text}"
    );
    fleksim()
        .current_dir(root())
        .args(["check", "-n", "5", "--targets"])
        .arg(&targets)
        .arg(&out)
        .arg("--out")
        .arg(tmp.path().join("check"))
        .assert()
        .success();
}
