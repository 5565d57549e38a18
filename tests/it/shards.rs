//! Shards (`--shard K/N`) and `merge`: three shards merged equal the whole
//! run byte for byte, for run, compare, check, verify, sweep and
//! uncertainty; parts that are missing, given twice or foreign are refused
//! with a message naming them.

use std::path::{Path, PathBuf};

use crate::util::{data, fleksim};

/// Manifest fields that describe the process that wrote the files (the
/// merge, not the shards), and so may differ between a merge and the
/// whole run.
const PROCESS_FIELDS: &[&str] = &[
    "command_line",
    "start_time",
    "end_time",
    "elapsed_seconds",
    "threads",
    "points_resumed",
    "points_computed",
    "person_quarters",
];

fn small(name: &str) -> String {
    data(name).display().to_string()
}

/// The exit status of `cmd`.
fn status(cmd: &mut assert_cmd::Command) -> Option<i32> {
    cmd.assert().get_output().status.code()
}

/// `fleksim merge PARTS --out OUT`, which must succeed.
fn merge_ok(parts: &Path, out: &Path) {
    fleksim()
        .arg("merge")
        .arg(parts)
        .arg("--out")
        .arg(out)
        .assert()
        .success();
}

/// Runs `args` as shard `shard` (`K/N`), writing its part into `parts`.
fn shard_ok(args: &[&str], shard: &str, parts: &Path) {
    fleksim()
        .args(args)
        .args(["--shard", shard, "--out"])
        .arg(parts)
        .assert()
        .success();
}

/// Runs `args` whole into `<dir>/whole`, as shards 0/3, 1/3, 2/3 into
/// `<dir>/parts` and merges those into `<dir>/merged`; the merge must exit
/// as the whole run did (a command may exit 3 for a failed test). Returns
/// the two output folders and that exit status.
fn whole_and_merged(dir: &Path, args: &[&str]) -> (PathBuf, PathBuf, Option<i32>) {
    let (whole, parts, merged) = (dir.join("whole"), dir.join("parts"), dir.join("merged"));
    let code = status(fleksim().args(args).arg("--out").arg(&whole));
    assert!(whole.is_dir(), "the whole run wrote its outputs");
    for k in 0..3 {
        shard_ok(args, &format!("{k}/3"), &parts);
    }
    let merged_code = status(fleksim().arg("merge").arg(&parts).arg("--out").arg(&merged));
    assert_eq!(code, merged_code, "the merge exits as the whole run did");
    (whole, merged, code)
}

/// `args` run whole and merged from three shards write the same files
/// (see [`assert_same`]); returns their exit status.
fn merged_equals_whole(args: &[&str]) -> Option<i32> {
    let dir = tempfile::tempdir().unwrap();
    let (whole, merged, code) = whole_and_merged(dir.path(), args);
    assert_same(&whole, &merged);
    code
}

/// Every file of `whole` is in `merged` with the same bytes, manifests
/// (*.json) apart from the process's own fields.
fn assert_same(whole: &Path, merged: &Path) {
    let mut names: Vec<String> = std::fs::read_dir(whole)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    assert!(!names.is_empty());
    let mut merged_names: Vec<String> = std::fs::read_dir(merged)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    merged_names.sort();
    assert_eq!(names, merged_names, "the same files");
    for n in &names {
        let (a, b) = (
            std::fs::read(whole.join(n)).unwrap(),
            std::fs::read(merged.join(n)).unwrap(),
        );
        if n.ends_with(".json") {
            let strip = |bytes: &[u8]| {
                let mut v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
                for f in PROCESS_FIELDS {
                    v.as_object_mut().unwrap().remove(*f);
                    // The sweep family records its points in `settings`.
                    if let Some(s) = v.get_mut("settings").and_then(|s| s.as_object_mut()) {
                        s.remove(*f);
                    }
                }
                v
            };
            assert_eq!(strip(&a), strip(&b), "{n} apart from the process's fields");
        } else {
            assert!(a == b, "{n} differs between the whole run and the merge");
        }
    }
}

#[test]
fn merged_run_equals_the_whole_run() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["run", &small("ok/small.toml"), "-n", "5", "--quiet"];
    let (whole, merged, _) = whole_and_merged(dir.path(), &args);
    assert_same(&whole, &merged);
    // The manifest's checksum and person-quarters come from the parts too.
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(merged.join("manifest.json")).unwrap()).unwrap();
    let w: serde_json::Value =
        serde_json::from_slice(&std::fs::read(whole.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["checksum"], w["checksum"]);
    assert_eq!(m["person_quarters"], w["person_quarters"]);
}

#[test]
fn merged_compare_equals_the_whole_compare() {
    merged_equals_whole(&[
        "compare",
        &small("ok/small.toml"),
        &small("ok/small-uncertain.toml"),
        "-n",
        "4",
        "--quiet",
    ]);
}

#[test]
fn merged_sweep_equals_the_whole_sweep() {
    merged_equals_whole(&[
        "sweep",
        &small("ok/small-uncertain.toml"),
        "--baseline",
        &small("ok/small.toml"),
        "--vary",
        "costs.monthly.kontanthjaelp=11000,12000,13000,14000",
        "-n",
        "2",
        "--quiet",
    ]);
}

#[test]
fn merged_uncertainty_equals_the_whole_uncertainty() {
    merged_equals_whole(&[
        "uncertainty",
        &small("ok/small-uncertain.toml"),
        "--baseline",
        &small("ok/small.toml"),
        "--draws",
        "5",
        "-n",
        "2",
        "--scale",
        "1",
        "--quiet",
    ]);
}

/// Shards of `run` on small.toml (seed `seed`) into `parts`.
fn run_shards(parts: &Path, seed: &str, shards: &[&str]) {
    let small = small("ok/small.toml");
    for s in shards {
        shard_ok(
            &["run", &small, "-n", "5", "--seed", seed, "--quiet"],
            s,
            parts,
        );
    }
}

fn merge_fails(parts: &[PathBuf], out: &Path) -> String {
    let mut args: Vec<String> = vec!["merge".into()];
    args.extend(parts.iter().map(|p| p.display().to_string()));
    args.extend(["--out".into(), out.display().to_string()]);
    let a = fleksim().args(&args).assert().code(1);
    assert!(!out.exists(), "a refused merge writes nothing");
    String::from_utf8_lossy(&a.get_output().stderr).into_owned()
}

#[test]
fn merge_refuses_missing_duplicated_and_foreign_parts() {
    let dir = tempfile::tempdir().unwrap();
    let parts = dir.path().join("parts");
    run_shards(&parts, "1", &["0/3", "1/3", "2/3"]);
    let part = |k: u32| parts.join(format!("part-{k}-of-3.fleksim-part"));
    let out = dir.path().join("out");

    // Missing: shard 1's replications (1..3 of 5).
    let err = merge_fails(&[part(0), part(2)], &out);
    assert!(
        err.contains("replications 1..3 are missing") && err.contains("shard 1/3"),
        "{err}"
    );

    // Duplicated: shard 1 twice (a copy under another name).
    let copy = dir.path().join("copy.fleksim-part");
    std::fs::copy(part(1), &copy).unwrap();
    let err = merge_fails(&[part(0), part(1), copy.clone(), part(2)], &out);
    assert!(
        err.contains("both shard 1/3") && err.contains("copy.fleksim-part"),
        "{err}"
    );

    // Overlapping: a block of another split holds some of the same units.
    let other = dir.path().join("other");
    run_shards(&other, "1", &["1/2"]);
    let err = merge_fails(
        &[
            part(0),
            part(1),
            part(2),
            other.join("part-1-of-2.fleksim-part"),
        ],
        &out,
    );
    assert!(err.contains("give each unit once"), "{err}");

    // Foreign: shard 1 of another seed.
    let foreign = dir.path().join("foreign");
    run_shards(&foreign, "2", &["1/3"]);
    let alien = foreign.join("part-1-of-3.fleksim-part");
    let err = merge_fails(&[part(0), alien.clone(), part(2)], &out);
    assert!(
        err.contains(&alien.display().to_string()) && err.contains("other inputs or settings"),
        "{err}"
    );

    // Damaged: a flipped byte in a record is caught by the parts' hash.
    let mut bytes = std::fs::read(part(2)).unwrap();
    bytes[40] ^= 0x10;
    let damaged = dir.path().join("damaged.fleksim-part");
    std::fs::write(&damaged, &bytes).unwrap();
    let err = merge_fails(&[part(0), part(1), damaged], &out);
    assert!(err.contains("damaged"), "{err}");

    // And the good set merges.
    merge_ok(&parts, &out);
    assert!(out.join("stocks.csv").exists());
}

#[test]
fn more_shards_than_units_merge_too() {
    let dir = tempfile::tempdir().unwrap();
    let (whole, parts, merged) = (
        dir.path().join("whole"),
        dir.path().join("parts"),
        dir.path().join("merged"),
    );
    let args = ["run", &small("ok/small.toml"), "-n", "2", "--quiet"];
    fleksim()
        .args(args)
        .arg("--out")
        .arg(&whole)
        .assert()
        .success();
    for k in 0..5 {
        shard_ok(&args, &format!("{k}/5"), &parts);
    }
    merge_ok(&parts, &merged);
    assert_same(&whole, &merged);
}

#[test]
fn a_changed_input_is_refused_at_merge() {
    let dir = tempfile::tempdir().unwrap();
    let sc = dir.path().join("s.toml");
    std::fs::copy(data("ok/small.toml"), &sc).unwrap();
    let parts = dir.path().join("parts");
    for k in ["0/2", "1/2"] {
        shard_ok(
            &["run", sc.to_str().unwrap(), "-n", "2", "--quiet"],
            k,
            &parts,
        );
    }
    let text = std::fs::read_to_string(&sc).unwrap();
    std::fs::write(
        &sc,
        text.replacen("name = \"small\"", "name = \"small-changed\"", 1),
    )
    .unwrap();
    let err = merge_fails(&[parts], &dir.path().join("out"));
    assert!(err.contains("a scenario file changed"), "{err}");
}

#[test]
fn shard_options_are_checked() {
    fleksim()
        .args(["run", "--shard", "3/3", "-n", "2"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("numbered 0 to 2"));
    fleksim()
        .args([
            "solve",
            &small("ok/small-uncertain.toml"),
            "--vary",
            "x",
            "--target",
            "pv.total.all=0",
            "--shard",
            "0/2",
        ])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("cannot be split"));
}

#[test]
fn slurm_script_runs_shards_then_a_dependent_merge() {
    let out = fleksim()
        .args([
            "slurm", "--tasks", "4", "--dir", "/tmp/j", "--", "run", "-n", "8", "--scale", "0.1",
        ])
        .assert()
        .success();
    let s = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(s.contains("#SBATCH --array=0-3"), "{s}");
    assert!(
        s.contains("--shard \"$SLURM_ARRAY_TASK_ID/4\" --out /tmp/j/parts"),
        "{s}"
    );
    assert!(s.contains("--dependency=afterok:\"$shards\""), "{s}");
    assert!(s.contains("merge /tmp/j/parts --out /tmp/j/results"), "{s}");
    let out = fleksim()
        .args(["slurm", "--tasks", "2", "--", "verify", "--alpha", "0.01"])
        .assert()
        .success();
    let s = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(
        s.contains("verify --alpha 0.01 --shard \"$SLURM_ARRAY_TASK_ID/2\""),
        "{s}"
    );
    fleksim()
        .args(["slurm", "--tasks", "2", "--", "run", "--shard", "0/2"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("without --shard"));
    fleksim()
        .args(["slurm", "--tasks", "2", "--", "run", "--replicatons", "3"])
        .assert()
        .code(1);
}

#[test]
fn merged_check_equals_the_whole_check() {
    merged_equals_whole(&["check", "--scale", "0.02", "-n", "3", "--quarters", "8"]);
}

/// verify's replications are integer counts per cell and outcome: the
/// merged counts, tests and exit status equal the whole run's, whether
/// every test passes (0) or one fails (3).
#[test]
fn merged_verify_equals_the_whole_verify() {
    let args = ["verify", "--scale", "0.02", "-n", "6", "--quarters", "8"];
    assert_eq!(merged_equals_whole(&args), Some(0));
    // At a family-wise alpha of 0.99 about every other seed fails a test
    // by chance: find one, and its failure must merge too.
    let failing = (1..=20)
        .map(|seed| seed.to_string())
        .find(|seed| {
            let tmp = tempfile::tempdir().unwrap();
            status(
                fleksim()
                    .args(args)
                    .args(["--alpha", "0.99", "--seed", seed, "--out"])
                    .arg(tmp.path().join("out")),
            ) == Some(3)
        })
        .expect("a seed of 20 fails a test at alpha 0.99");
    let mut failing_args = args.to_vec();
    failing_args.extend(["--alpha", "0.99", "--seed", &failing]);
    assert_eq!(merged_equals_whole(&failing_args), Some(3));
}

#[test]
fn merge_refuses_a_missing_verify_part() {
    let dir = tempfile::tempdir().unwrap();
    let parts = dir.path().join("parts");
    let args = ["verify", "--scale", "0.02", "-n", "6", "--quarters", "8"];
    for k in ["0/3", "2/3"] {
        shard_ok(&args, k, &parts);
    }
    let err = merge_fails(&[parts], &dir.path().join("out"));
    assert!(
        err.contains("replications 2..4 are missing") && err.contains("shard 1/3"),
        "{err}"
    );
}
