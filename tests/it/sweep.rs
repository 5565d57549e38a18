//! Sweeps, sensitivity, uncertainty and solve on the small
//! fixtures: tests/data/ok/small.toml as the baseline and
//! tests/data/ok/small-uncertain.toml as the proposal, whose two uncertain
//! parameters have effects of known sign (see the file).

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use fleksim::analysis::compare;
use fleksim::engine::runner::{Prepared, RunConfig};
use fleksim::output::report;
use fleksim::scenario;

use crate::util::{data, fleksim};

const EXIT_LATE: &str = "transitions.kontanthjaelp.employed.all.5+";
const RATE: &str = "costs.monthly.kontanthjaelp";

fn base_args(out: &Path) -> Vec<String> {
    [
        data("ok/small-uncertain.toml").display().to_string(),
        "--baseline".into(),
        data("ok/small.toml").display().to_string(),
        "--out".into(),
        out.display().to_string(),
        "--quiet".into(),
    ]
    .to_vec()
}

fn read_csv(path: &Path) -> Vec<csv::StringRecord> {
    let mut r = csv::Reader::from_path(path).unwrap();
    r.records().map(|x| x.unwrap()).collect()
}

#[test]
fn a_sweep_point_equals_compare_at_that_value() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s");
    fleksim()
        .arg("sweep")
        .args(base_args(&out))
        .args([
            "--vary",
            &format!("{EXIT_LATE}=0.02,0.05"),
            "-n",
            "6",
            "--seed",
            "3",
        ])
        .assert()
        .success();
    let sweep = read_csv(&out.join("sweep.csv"));
    assert!(!out.join(".parts").exists(), "parts are removed when done");
    let cfg = RunConfig {
        replications: 6,
        seed: 3,
        scale: 1.0,
    };
    let base = scenario::load_with(Some(&data("ok/small.toml")), &[])
        .unwrap()
        .scenario;
    for (point, value) in [(0usize, 0.02), (1, 0.05)] {
        let prop = scenario::load_with(
            Some(&data("ok/small-uncertain.toml")),
            &[(EXIT_LATE.to_string(), toml::Value::Float(value))],
        )
        .unwrap()
        .scenario;
        let c =
            compare::compare(&Prepared::new(&base), &[Prepared::new(&prop)], &cfg, &|| {}).unwrap();
        let csv = report::compare_csv(std::slice::from_ref(&prop.name), &c).unwrap();
        let mut r = csv::Reader::from_reader(&csv[..]);
        let expected: Vec<Vec<String>> = r
            .records()
            .map(|x| x.unwrap().iter().map(String::from).collect())
            .collect();
        let got: Vec<Vec<String>> = sweep
            .iter()
            .filter(|rec| rec[0] == *point.to_string())
            .map(|rec| {
                assert_eq!(rec[1].parse::<f64>().unwrap(), value);
                rec.iter().skip(2).map(String::from).collect()
            })
            .collect();
        assert!(expected.len() > 100);
        assert_eq!(got, expected, "point {point}");
    }
    // Point 0 is the baseline's own value and the baseline's rate: no difference at all.
    let pv0 = sweep
        .iter()
        .find(|r| &r[0] == "0" && &r[3] == "pv.total.all")
        .unwrap();
    assert_eq!(&pv0[10], "0", "delta_mean");
}

#[test]
fn an_interrupted_sweep_resumes_to_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let args = |out: &Path| {
        let mut a = vec!["sweep".to_string()];
        a.extend(base_args(out));
        a.extend(
            [
                "--vary",
                &format!("{EXIT_LATE}=0.02:0.06:150"),
                "-n",
                "8",
                "-j",
                "1",
            ]
            .map(String::from),
        );
        a
    };
    let full = dir.path().join("full");
    fleksim().args(args(&full)).assert().success();

    let part = dir.path().join("part");
    let bin = assert_cmd::cargo::cargo_bin("fleksim");
    let mut child = std::process::Command::new(&bin)
        .args(args(&part))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let parts = part.join(".parts").join("sweep");
    let count = || {
        std::fs::read_dir(&parts)
            .ok()
            .and_then(|mut d| d.next())
            .and_then(|e| e.ok())
            .map_or(0, |e| {
                std::fs::read_dir(e.path())
                    .unwrap()
                    .filter(|f| {
                        f.as_ref()
                            .unwrap()
                            .file_name()
                            .to_string_lossy()
                            .starts_with("point-")
                    })
                    .count()
            })
    };
    let t0 = Instant::now();
    while count() < 3 && t0.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let done = count();
    assert!(done >= 3, "some points finished before the kill");
    assert!(
        done < 150 && !part.join("sweep.csv").exists(),
        "the sweep was killed part-way ({done} of 150 points)"
    );

    let assert = fleksim().args(args(&part)).assert().success();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    let resumed: usize = stderr
        .split(" resumed")
        .next()
        .and_then(|s| s.rsplit('(').next())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| panic!("no resume count in: {stderr}"));
    assert!(resumed >= done, "{resumed} resumed, {done} were on disk");
    assert!(resumed < 150);
    assert_eq!(
        std::fs::read(part.join("sweep.csv")).unwrap(),
        std::fs::read(full.join("sweep.csv")).unwrap()
    );
    assert!(!part.join(".parts").exists());
}

#[test]
fn latin_hypercube_points_fill_equal_strata() {
    let dir = tempfile::tempdir().unwrap();
    let n = 12;
    let lhs = |name: &str, threads: &str| {
        let out = dir.path().join(name);
        fleksim()
            .arg("sweep")
            .args(base_args(&out))
            .args([
                "--lhs",
                &n.to_string(),
                "--range",
                &format!("{EXIT_LATE}=0.02:0.06"),
                "--range",
                &format!("{RATE}=11000:13000"),
                "--metric",
                "pv.total.all",
                "-n",
                "2",
                "-j",
                threads,
            ])
            .assert()
            .success();
        out.join("sweep.csv")
    };
    let (two, one) = (lhs("two", "2"), lhs("one", "1"));
    let rows = read_csv(&two);
    assert_eq!(rows.len(), n, "one row per point with --metric");
    // The same bytes whatever the thread count.
    assert_eq!(std::fs::read(one).unwrap(), std::fs::read(two).unwrap());
    for (col, lo, hi) in [(1, 0.02, 0.06), (2, 11000.0, 13000.0)] {
        let mut strata: Vec<usize> = rows
            .iter()
            .map(|r| ((r[col].parse::<f64>().unwrap() - lo) / (hi - lo) * n as f64) as usize)
            .collect();
        strata.sort_unstable();
        assert_eq!(strata, (0..n).collect::<Vec<_>>(), "column {col}");
    }
}

#[test]
fn sensitivity_orders_by_swing_with_the_known_signs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s");
    fleksim()
        .arg("sensitivity")
        .args(base_args(&out))
        .args(["-n", "10"])
        .assert()
        .success();
    let rows = read_csv(&out.join("sensitivity.csv"));
    let f = |r: &csv::StringRecord, i: usize| r[i].parse::<f64>().unwrap();
    // rank, parameter, path, low, central, high, metric, period, d_low, se_low, d_c, se_c, d_high, se_high, swing
    assert_eq!(rows.len(), 2);
    assert_eq!(
        &rows[0][1], "rate",
        "the rate's ±8 % outweighs the exit effect"
    );
    assert_eq!(&rows[1][1], "exit_late");
    assert!(f(&rows[0], 14) > f(&rows[1], 14));
    let rate = &rows[0];
    // Cost rises with the rate: beyond 4 paired SE at each end.
    assert!(f(rate, 8) + 4.0 * f(rate, 9) < f(rate, 10));
    assert!(f(rate, 10) + 4.0 * f(rate, 11) < f(rate, 12));
    let exit = &rows[1];
    // At its low end the proposal equals the baseline exactly.
    assert_eq!(f(exit, 8), 0.0);
    assert_eq!(f(exit, 9), 0.0);
    // More exits to work, less cost.
    assert!(f(exit, 12) + 4.0 * f(exit, 13) < f(exit, 10));
    assert!(f(exit, 10) + 4.0 * f(exit, 11) < 0.0);
}

#[test]
fn uncertainty_finds_the_drivers_and_their_signs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("u");
    fleksim()
        .arg("uncertainty")
        .args(base_args(&out))
        .args(["-n", "4", "--draws", "40"])
        .assert()
        .success();
    let drivers = read_csv(&out.join("uncertainty-drivers.csv"));
    let rho = |id: &str| {
        drivers
            .iter()
            .find(|r| &r[0] == "pv.total.all" && &r[2] == id)
            .unwrap()[3]
            .parse::<f64>()
            .unwrap()
    };
    // Under independence a rank correlation of 40 draws has sd about
    // 1/sqrt(39) = 0.16; these are several times that.
    assert!(rho("rate") > 0.8, "rate {}", rho("rate"));
    assert!(rho("exit_late") < -0.2, "exit_late {}", rho("exit_late"));
    let summary = read_csv(&out.join("uncertainty-summary.csv"));
    let pv = summary
        .iter()
        .find(|r| &r[0] == "pv.total.all" && &r[1] == "pv")
        .unwrap();
    let g = |i: usize| pv[i].parse::<f64>().unwrap();
    assert_eq!(g(2), 40.0);
    assert!(g(4) < g(5) && g(5) < g(6), "2.5 % < median < 97.5 %");
    // The spread over draws is parameter uncertainty, far above the noise.
    assert!(g(8) > 10.0 * g(9));
    let rows = read_csv(&out.join("uncertainty.csv"));
    assert_eq!(rows.iter().filter(|r| &r[4] == "pv.total.all").count(), 40);
}

#[test]
fn solve_finds_the_rate_computed_by_hand() {
    // The cost of cash benefit in 2020 is linear in the monthly rate x, with
    // the same persons at every x (the rate moves nobody):
    // Δ(x) = x · C_p / 12000 − C_b, so Δ = 0 at x* = 12000 · C_b / C_p.
    let cfg = RunConfig {
        replications: 6,
        seed: 2019,
        scale: 1.0,
    };
    let base = scenario::load_with(Some(&data("ok/small.toml")), &[])
        .unwrap()
        .scenario;
    let prop = scenario::load_with(Some(&data("ok/small-uncertain.toml")), &[])
        .unwrap()
        .scenario;
    let c = compare::compare(&Prepared::new(&base), &[Prepared::new(&prop)], &cfg, &|| {}).unwrap();
    let csv = report::compare_csv(std::slice::from_ref(&prop.name), &c).unwrap();
    let mut r = csv::Reader::from_reader(&csv[..]);
    let row = r
        .records()
        .map(|x| x.unwrap())
        .find(|x| &x[1] == "cost.kontanthjaelp.all" && &x[3] == "2020")
        .unwrap();
    // baseline_mean, proposal_mean
    let (cb, cp): (f64, f64) = (row[6].parse().unwrap(), row[7].parse().unwrap());
    let expected = 12000.0 * cb / cp;
    assert!(expected > 12000.0 && expected < 13000.0);

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x");
    let a = fleksim()
        .arg("solve")
        .args(base_args(&out))
        .args([
            "--vary",
            RATE,
            "--target",
            "cost.kontanthjaelp.all@2020=0",
            "-n",
            "6",
            "--tol",
            "0.5",
        ])
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&a.get_output().stdout).to_string();
    let x: f64 = stdout
        .split(&format!("{RATE} = "))
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no answer in: {stdout}"));
    assert!((x - expected).abs() < 1.0, "solved {x}, by hand {expected}");
    // Every evaluation is kept, and the manifest records the answer.
    let rows = read_csv(&out.join("solve.csv"));
    assert!(rows.len() >= 3, "{rows:?}");
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["command"], "solve");
    assert!((m["settings"]["answer"].as_f64().unwrap() - x).abs() < 1e-3 * x);

    // Out of reach: a target no rate in 11000..13000 gives (exit status 3).
    let a = fleksim()
        .arg("solve")
        .args(base_args(&dir.path().join("y")))
        .args([
            "--vary",
            RATE,
            "--target",
            "cost.kontanthjaelp.all@2020=1e9",
            "-n",
            "2",
        ])
        .assert()
        .code(3);
    assert!(String::from_utf8_lossy(&a.get_output().stdout).contains("no value of"));
}

#[test]
fn bad_sweep_requests_are_user_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("b");
    let too_big = format!("{EXIT_LATE}=0.5,1.5");
    for (extra, msg) in [
        (vec!["--vary", "no.such.path=1,2"], "unknown parameter path"),
        (vec!["--vary", too_big.as_str()], "at point 1"),
        (vec!["--vary", "x=1:2"], "start:stop:count"),
        (vec![], "name what to vary"),
    ] {
        let a = fleksim()
            .arg("sweep")
            .args(base_args(&out))
            .args(&extra)
            .assert()
            .code(1);
        let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
        assert!(err.contains(msg), "{extra:?}: {err}");
        assert!(!out.join("sweep.csv").exists());
    }
    // A proposal without uncertainty ranges cannot be analysed.
    let a = fleksim()
        .args([
            "sensitivity",
            &data("ok/small-lever.toml").display().to_string(),
        ])
        .args(["--baseline", &data("ok/small.toml").display().to_string()])
        .args(["--out", &out.display().to_string()])
        .assert()
        .code(1);
    assert!(String::from_utf8_lossy(&a.get_output().stderr).contains("[uncertainty.<id>]"));
}

#[test]
fn validate_rejects_a_range_whose_end_breaks_a_rule() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("wide.toml");
    std::fs::write(
        &f,
        format!(
            "extends = {:?}\nname = \"wide\"\n[uncertainty.exit_late]\nhigh = 0.999\n",
            data("ok/small-uncertain.toml").display().to_string()
        ),
    )
    .unwrap();
    let a = fleksim().arg("validate").arg(&f).assert().code(1);
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(
        err.contains("uncertainty.exit_late.high") && err.contains("at its high value 0.999"),
        "{err}"
    );
}
