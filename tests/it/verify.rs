//! `fleksim verify`: the frequency check passes on correct scenarios and
//! fires on tables compiled from a perturbed scenario.

use fleksim::analysis::verify::{self, Verification, VerifyConfig};
use fleksim::engine::runner::{Prepared, RunConfig};
use fleksim::scenario::{self, Banded, Scenario, State};

use crate::util::{data, fleksim, root};

fn cfg(replications: u32, scale: f64) -> VerifyConfig {
    VerifyConfig {
        run: RunConfig {
            replications,
            seed: 11,
            scale,
        },
        alpha: verify::DEFAULT_ALPHA,
        min_expected: verify::DEFAULT_MIN_EXPECTED,
    }
}

fn check(sim: &Scenario, expect: &Scenario, c: &VerifyConfig) -> Verification {
    verify::verify(&Prepared::new(sim), expect, c, &|| {}).unwrap()
}

fn failures(v: &Verification) -> String {
    v.failures()
        .map(|t| {
            format!(
                "{:?} {} {} of {} (p {})\n",
                t.cell, t.target, t.observed, t.exposure, t.expected_p
            )
        })
        .collect()
}

fn baseline(quarters: u16) -> Scenario {
    let mut sc = scenario::baseline().scenario;
    sc.horizon = quarters;
    sc
}

#[test]
fn the_baseline_passes() {
    let sc = baseline(8);
    let v = check(&sc, &sc, &cfg(1, 0.05));
    assert!(v.tests.len() > 300, "{} tests", v.tests.len());
    assert!(v.passed(), "{}", failures(&v));
}

/// A variant (scenarios/examples/seniorpension.toml): its own state in the
/// cells, routed into by assessments that read hours.
#[test]
fn a_scenario_with_a_variant_passes() {
    let mut sc = scenario::load_file(&root().join("scenarios/examples/seniorpension.toml"))
        .unwrap()
        .scenario;
    sc.horizon = 12;
    let v = check(&sc, &sc, &cfg(1, 0.05));
    assert!(v.passed(), "{}", failures(&v));
    let routed = v
        .tests
        .iter()
        .filter(|t| t.cell.forced.contains("seniorpension_from") && t.target == "seniorpension")
        .count();
    assert!(routed > 0, "the routes into the variant are tested");
}

#[test]
fn a_small_scenario_and_a_proposal_with_assessments_pass() {
    let small = scenario::load_file(&data("ok/small.toml"))
        .unwrap()
        .scenario;
    let v = check(&small, &small, &cfg(4, 1.0));
    assert!(v.tests.len() > 20, "{} tests", v.tests.len());
    assert!(v.passed(), "{}", failures(&v));

    let mut d02 =
        scenario::load_file(&root().join("scenarios/proposals/d02-clarification-guarantee.toml"))
            .unwrap()
            .scenario;
    d02.horizon = 12;
    let v = check(&d02, &d02, &cfg(1, 0.05));
    assert!(v.passed(), "{}", failures(&v));
    // The yearly assessments of cash-benefit recipients are tested, for
    // evident cases (80 % to førtidspension) and the rest.
    let assessed = |id: &str, target: &str| {
        v.tests
            .iter()
            .filter(|t| t.cell.forced.contains(id) && t.target == target)
            .count()
    };
    assert!(assessed("d2_clarification_evident", "foertidspension") > 0);
    assert!(assessed("d2_clarification_other", "ressourceforloeb") > 0);
}

/// The transition with a changed probability in the simulated tables.
fn transition(sc: &mut Scenario, from: State, to: State) -> &mut fleksim::scenario::Transition {
    sc.transitions
        .iter_mut()
        .find(|t| t.from == from && t.to == to)
        .expect("transition")
}

/// Tables compiled from a scenario with one probability 12 % too high
/// (sygedagpenge -> employed, over 40, durations 2-4: 0.28 instead of 0.25
/// before the baseline was fitted; 12 % above the fitted value now) fail on
/// exactly the cells and outcomes that probability governs.
#[test]
fn a_changed_probability_is_flagged_where_it_acts_and_nowhere_else() {
    let expect = baseline(8);
    let mut sim = expect.clone();
    let t = transition(&mut sim, State::Sygedagpenge, State::Employed);
    let (from, to, p) = t.prob[1].1.bands[1];
    assert_eq!((from, to), (2, Some(4)));
    t.prob[1].1.bands[1].2 = p * 1.12;
    let v = check(&sim, &expect, &cfg(1, 0.2));
    let failed: Vec<_> = v.failures().collect();
    let affected = |t: &verify::Test| {
        t.cell.state == "sygedagpenge"
            && t.cell.age_group.starts_with("over40")
            && ["2", "3", "4"].contains(&t.cell.duration.as_str())
            && t.cell.forced == "-"
            && ["employed", "stay"].contains(&t.target.as_str())
    };
    assert!(
        failed.iter().all(|t| affected(t)),
        "unexpected failures:\n{}",
        failures(&v)
    );
    assert!(
        failed
            .iter()
            .any(|t| t.target == "employed" && t.observed_p() > t.expected_p),
        "the changed probability is not flagged:\n{}",
        failures(&v)
    );
    // The same run checked against its own scenario passes.
    let v = check(&sim, &sim, &cfg(1, 0.2));
    assert!(v.passed(), "{}", failures(&v));
}

/// Tables compiled with a duration band shifted by one quarter
/// (sygedagpenge -> employed under 40: "1-2" = 0.50, "3-4" = 0.30 instead
/// of "1" = 0.50, "2-4" = 0.30) fail at the shifted duration only.
#[test]
fn a_shifted_duration_band_is_flagged_at_the_shifted_duration() {
    let expect = baseline(8);
    let mut sim = expect.clone();
    let t = transition(&mut sim, State::Sygedagpenge, State::Employed);
    assert_eq!(
        t.prob[0].1,
        Banded {
            bands: vec![(1, Some(1), 0.50), (2, Some(4), 0.30), (5, None, 0.08)]
        }
    );
    t.prob[0].1.bands = vec![(1, Some(2), 0.50), (3, Some(4), 0.30), (5, None, 0.08)];
    let v = check(&sim, &expect, &cfg(1, 0.2));
    let failed: Vec<_> = v.failures().collect();
    assert!(
        failed.iter().all(|t| t.cell.state == "sygedagpenge"
            && t.cell.age_group.starts_with("under40")
            && t.cell.duration == "2"
            && ["employed", "stay"].contains(&t.target.as_str())),
        "unexpected failures:\n{}",
        failures(&v)
    );
    assert!(
        failed.iter().any(|t| t.target == "employed"),
        "the shifted band is not flagged:\n{}",
        failures(&v)
    );
}

#[test]
fn cli_writes_verify_csv_and_sets_the_exit_status() {
    let tmp = tempfile::tempdir().unwrap();
    let out = fleksim()
        .current_dir(root())
        .args([
            "verify",
            "tests/data/ok/small.toml",
            "-n",
            "2",
            "--scale",
            "1",
            "--all",
            "--out",
        ])
        .arg(tmp.path())
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let stdout = String::from_utf8(out).unwrap();
    assert!(stdout.contains(" 0 failed"), "{stdout}");
    let csv = std::fs::read_to_string(tmp.path().join("verify.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(
            "decision,state,age_group,duration,class,phase,gates,forced,target,exposure,observed,\
             expected_p,observed_p,p_value,adjusted,pass"
        )
    );
    let rows: Vec<&str> = lines.collect();
    assert!(rows.len() > 20, "{csv}");
    assert!(rows.iter().all(|r| r.ends_with(",pass")), "{csv}");
    // kontanthjaelp -> employed at the first duration of the second band.
    assert!(
        rows.iter()
            .any(|r| r.starts_with("move,kontanthjaelp,under40,5,NA,NA,NA,NA,employed,")),
        "{csv}"
    );

    // Bad input: exit 1 with a message.
    fleksim()
        .args(["verify", "--alpha", "1.5", "--out"])
        .arg(tmp.path())
        .assert()
        .code(1)
        .stderr(predicates::str::contains("--alpha must be in (0, 1)"));
    fleksim()
        .args(["verify", "no/such/file.toml"])
        .assert()
        .code(1);
}

/// verify.csv is byte-identical whatever the thread count.
#[test]
fn verify_csv_does_not_depend_on_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let mut csv = Vec::new();
    for threads in ["1", "2"] {
        let out = tmp.path().join(threads);
        fleksim()
            .current_dir(root())
            .args([
                "verify",
                "tests/data/ok/small.toml",
                "-n",
                "3",
                "--scale",
                "1",
                "-j",
                threads,
                "--out",
            ])
            .arg(&out)
            .assert()
            .code(0);
        csv.push(std::fs::read(out.join("verify.csv")).unwrap());
    }
    assert_eq!(csv[0], csv[1]);
}
