//! Reproducibility: the same scenario and seed give byte-identical CSV
//! files whatever the thread count, and random numbers are common across
//! scenarios (the same person gets the same draw for the same decision).

use std::path::Path;

use fleksim::engine::kernel::{self, Counters, Tables};
use fleksim::engine::population::{Population, Snapshot};
use fleksim::engine::rng::RepKey;
use fleksim::scenario;

use crate::util::{fleksim, root};

const FILES: [&str; 4] = ["stocks.csv", "flows.csv", "costs.csv", "annual.csv"];

fn run_cli(dir: &Path, extra: &[&str], env: Option<(&str, &str)>) {
    let mut cmd = fleksim();
    cmd.current_dir(root()).args([
        "run",
        "--scale",
        "0.02",
        "-n",
        "5",
        "--quarters",
        "8",
        "--quiet",
        "--out",
    ]);
    cmd.arg(dir).args(extra);
    if let Some((k, v)) = env {
        cmd.env(k, v);
    }
    cmd.assert().success();
}

#[test]
fn csv_files_are_byte_identical_across_thread_counts() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        tmp.path().join("t1"),
        tmp.path().join("t2"),
        tmp.path().join("env1"),
    );
    run_cli(&a, &["--threads", "1"], None);
    run_cli(&b, &["--threads", "2"], None);
    run_cli(&c, &[], Some(("RAYON_NUM_THREADS", "1")));
    for f in FILES {
        let x = std::fs::read(a.join(f)).unwrap();
        assert!(!x.is_empty());
        assert!(
            x == std::fs::read(b.join(f)).unwrap(),
            "{f} differs between 1 and 2 threads"
        );
        assert!(
            x == std::fs::read(c.join(f)).unwrap(),
            "{f} differs with RAYON_NUM_THREADS=1"
        );
    }
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(b.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["threads"], 2);
}

#[test]
fn the_seed_matters() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("s1"), tmp.path().join("s2"));
    run_cli(&a, &["--seed", "1"], None);
    run_cli(&b, &["--seed", "2"], None);
    let x = std::fs::read(a.join("stocks.csv")).unwrap();
    assert!(x != std::fs::read(b.join("stocks.csv")).unwrap());
}

/// Two scenarios that differ only in one rate (førtidspension -> out): after
/// a quarter, every person who was not on førtidspension is in the same
/// state in both, because each decision draws from the person's own stream.
#[test]
fn random_numbers_are_common_across_scenarios() {
    let base = scenario::baseline().scenario;
    let mut other = base.clone();
    for t in &mut other.transitions {
        if t.from == scenario::State::Foertidspension {
            t.prob = vec![(0, scenario::Banded::flat(0.2))];
        }
    }
    let key = RepKey::new(7, 3);
    let mut pops = Vec::new();
    for sc in [&base, &other] {
        let tables = Tables::compile(sc);
        let mut pop = Population::for_scenario(sc, 0.01).unwrap();
        for c in &sc.stock {
            pop.add_group(sc, c, 0, (c.count * 0.01).round() as u32, sc.start, key);
        }
        let mut before = Snapshot::default();
        pop.snapshot(&mut before);
        let mut counters = Counters::default();
        kernel::step(&tables, &mut pop, 0, key, &mut counters);
        let mut after = Snapshot::default();
        pop.snapshot(&mut after);
        pops.push((before, after));
    }
    let (before, a) = &pops[0];
    let (before_b, b) = &pops[1];
    assert_eq!(
        before.birth, before_b.birth,
        "attributes are drawn from the same streams"
    );
    let before = &before.state;
    assert_eq!(a.class.len(), b.class.len());
    let fp = scenario::State::Foertidspension as u8;
    let (mut same, mut differ_fp) = (0, 0);
    for (i, &was) in before.iter().enumerate() {
        if was == fp {
            differ_fp += usize::from(a.state[i] != b.state[i]);
        } else {
            assert_eq!(a.state[i], b.state[i], "person {i} moved differently");
            same += 1;
        }
    }
    assert!(same > 1000);
    assert!(
        differ_fp > 100,
        "the changed rate must change some førtidspension persons"
    );
}

/// One replication uses every thread given (its persons in blocks, one per
/// thread, counters added every quarter): its values are the same bits for
/// any number of blocks, the population checksum included.
#[test]
fn a_replication_in_blocks_equals_it_whole() {
    let sc = scenario::load_with(None, &[]).unwrap().scenario;
    let p = fleksim::engine::runner::Prepared::new(&sc);
    let cfg = fleksim::engine::runner::RunConfig {
        replications: 1,
        seed: 11,
        scale: 0.02,
    };
    let whole = format!(
        "{:?}",
        fleksim::engine::runner::simulate(&p, &cfg, 0).unwrap()
    );
    for blocks in [2, 3, 5] {
        let split = fleksim::engine::runner::simulate_in_blocks(&p, &cfg, 0, blocks).unwrap();
        assert!(
            format!("{split:?}") == whole,
            "{blocks} blocks differ from one"
        );
    }
}

/// `run -n 1` on 1 and on 2 threads writes the same bytes (the second
/// splits the replication's persons over both threads).
#[test]
fn one_replication_on_one_and_two_threads_is_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for j in ["1", "2"] {
        let out = dir.path().join(j);
        fleksim()
            .current_dir(root())
            .args([
                "run", "--scale", "0.02", "-n", "1", "--quiet", "-j", j, "--out",
            ])
            .arg(&out)
            .assert()
            .success();
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
        files.push((
            FILES.map(|f| std::fs::read(out.join(f)).unwrap()),
            std::fs::read(out.join("outcomes.csv")).unwrap(),
            manifest["checksum"].clone(),
        ));
    }
    assert!(files[0] == files[1], "1 and 2 threads differ");
}
