//! Relative values and composition in `extends` (scenarios/README.md
//! sections 4 and 17): the shipped example composes two factors to their
//! product and moves the model in their direction; the composition rules
//! hold on small packages written for each test; every example validates.

use std::path::{Path, PathBuf};

use fleksim::analysis::compare::{self, Comparison};
use fleksim::engine::results::{Annual, Cell};
use fleksim::engine::runner::{Prepared, RunConfig};
use fleksim::scenario::{self, Phase, Scenario, State};

use crate::util::{fleksim, root};

fn load(p: &Path) -> Scenario {
    scenario::load_file(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .scenario
}

fn example() -> PathBuf {
    root().join("scenarios/examples/compose-factors.toml")
}

fn l06() -> PathBuf {
    root().join("scenarios/proposals/l06-right-to-apply.toml")
}

/// The quarterly probability of `from -> to` for `age` (0 under 40) in the
/// duration band starting at `first`.
fn prob(sc: &Scenario, from: State, to: State, age: usize, first: u16) -> f64 {
    let t = sc
        .transitions
        .iter()
        .find(|t| t.from == from && t.to == to)
        .expect("transition");
    t.prob[age]
        .1
        .bands
        .iter()
        .find(|b| b.0 == first)
        .expect("band")
        .2
}

#[test]
fn example_composes_the_factors_to_their_product() {
    let base = load(&root().join("scenarios/baseline.toml"));
    let lever = load(&l06());
    let ex = load(&example());
    for age in 0..2 {
        for first in [1, 5] {
            let (kh, rf) = (State::Kontanthjaelp, State::Ressourceforloeb);
            let b = prob(&base, kh, rf, age, first);
            assert_eq!(prob(&lever, kh, rf, age, first), b * 1.25);
            // Exactly the product, in the order of the list: L6, then the file.
            assert_eq!(prob(&ex, kh, rf, age, first), b * 1.25 * 1.2);
        }
        // The route the example does not touch keeps L6's factor alone.
        let (sd, rf) = (State::Sygedagpenge, State::Ressourceforloeb);
        assert_eq!(
            prob(&ex, sd, rf, age, 3),
            prob(&base, sd, rf, age, 3) * 1.25
        );
    }
}

fn compare_with(base: &Scenario, prop: &Scenario) -> Comparison {
    let (mut base, mut prop) = (base.clone(), prop.clone());
    base.horizon = 16;
    prop.horizon = 16;
    let cfg = RunConfig {
        replications: 8,
        seed: 17,
        scale: 0.05,
    };
    compare::compare(&Prepared::new(&base), &[Prepared::new(&prop)], &cfg, &|| {}).unwrap()
}

/// The paired 95 % interval of the yearly ressourceforløb starts.
fn starts(c: &Comparison) -> (f64, f64) {
    let cell = Cell::PerYear {
        metric: Annual::StartsRf,
    };
    let i = c
        .layout
        .cells
        .iter()
        .position(|x| *x == cell)
        .expect("cell");
    let d = c.proposals[0].delta[i];
    (d.ci_low, d.ci_high)
}

/// A factor above 1 on the routes into ressourceforløb raises the starts,
/// and the composed factor raises them beyond L6's alone.
#[test]
fn example_raises_ressourceforloeb_starts_beyond_l06_alone() {
    let base = load(&root().join("scenarios/baseline.toml"));
    let lever = load(&l06());
    let ex = load(&example());
    let (lo, hi) = starts(&compare_with(&base, &ex));
    assert!(
        lo > 0.0,
        "starts should rise against the baseline: {lo}..{hi}"
    );
    let (lo, hi) = starts(&compare_with(&lever, &ex));
    assert!(lo > 0.0, "starts should rise against L6 alone: {lo}..{hi}");
}

#[test]
fn explain_shows_the_example_chain() {
    let out = fleksim()
        .current_dir(root())
        .args(["explain", "scenarios/examples/compose-factors.toml"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let expected = "  - transitions.kontanthjaelp.ressourceforloeb.all.1-4: 0.008 -> 0.012
      0.008 (scenarios/examples/../baseline.toml:184)
      x 1.25 (scenarios/examples/../proposals/l06-right-to-apply.toml:22)
          assumption: a third of the 6,000 a year gap (background paper 3), every band (baseline 0.008 / 0.0207245 -> 0.01 / 0.0259056); sweep x 1.0-1.8
      x 1.2 (scenarios/examples/compose-factors.toml:17)
          assumption (example): job centres also refer more cash-benefit recipients; composes with L6's x 1.25
      = 0.012
";
    assert!(text.contains(expected), "explain output:\n{text}");
}

#[test]
fn every_example_validates_and_explains() {
    let mut n = 0;
    for e in std::fs::read_dir(root().join("scenarios/examples")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "toml") {
            load(&p);
            scenario::explain(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            n += 1;
        }
    }
    assert!(n >= 3, "examples found: {n}");
}

/// Writes `files` (name, text) into a temporary folder; `BASE` in a text
/// stands for the path of the baseline.
fn package(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let base = root().join("scenarios/baseline.toml");
    for (name, text) in files {
        let text = text.replace("BASE", &base.display().to_string().replace('\\', "/"));
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

const PKG: &str = "extends = [\"BASE\", \"a.toml\", \"b.toml\"]\nname = \"pkg\"\n";

/// Loads `pkg.toml` (extends the baseline, `a.toml`, `b.toml`) plus `own`
/// keys, with the patches `a` and `b` (each a body under `extends = BASE`).
fn load_package(a: &str, b: &str, own: &str) -> Result<Scenario, String> {
    let dir = package(&[
        ("a.toml", &format!("extends = \"BASE\"\n{a}")),
        ("b.toml", &format!("extends = \"BASE\"\n{b}")),
        ("pkg.toml", &format!("{PKG}{own}")),
    ]);
    scenario::load_file(&dir.path().join("pkg.toml"))
        .map(|l| l.scenario)
        .map_err(|e| e.to_string())
}

fn passive_to_active(sc: &Scenario) -> f64 {
    sc.phase_matrix[Phase::Passive as usize][Phase::Active as usize]
}

const PASSIVE: &str = "[ressourceforloeb.phases.passive]\n";

#[test]
fn steps_apply_in_the_order_of_the_list() {
    let add = format!("{PASSIVE}active = {{ add = 0.1 }}\n");
    let double = format!("{PASSIVE}active = {{ factor = 2.0 }}\n");
    // The baseline's passive -> active is 0.15.
    let sc = load_package(&add, &double, "").unwrap();
    assert_eq!(passive_to_active(&sc), (0.15 + 0.1) * 2.0);
    let sc = load_package(&double, &add, "").unwrap();
    assert_eq!(passive_to_active(&sc), 0.15 * 2.0 + 0.1);
    // Two additions add; a relative value after an absolute one composes.
    let sc = load_package(&add, &add, "").unwrap();
    assert_eq!(passive_to_active(&sc), 0.15 + 0.1 + 0.1);
    let set = format!("{PASSIVE}active = 0.2\n");
    let sc = load_package(&set, &double, "").unwrap();
    assert_eq!(passive_to_active(&sc), 0.2 * 2.0);
}

#[test]
fn conflicts_are_errors_unless_equal_or_overridden() {
    let a = format!("{PASSIVE}active = 0.25\n");
    let b = format!("{PASSIVE}active = 0.3\n");
    let err = load_package(&a, &b, "").unwrap_err();
    assert!(
        err.contains("b.toml:3:") && err.contains("set by two patches"),
        "{err}"
    );
    assert!(err.contains("a.toml:3 (an earlier patch)"), "{err}");
    // Equal values are no conflict.
    let sc = load_package(&a, &a, "").unwrap();
    assert_eq!(passive_to_active(&sc), 0.25);
    // The later patch, or the package itself, may override on purpose.
    let over = format!("{PASSIVE}active = {{ override = 0.3 }}\n");
    let sc = load_package(&a, &over, "").unwrap();
    assert_eq!(passive_to_active(&sc), 0.3);
    let sc = load_package(&a, &b, &format!("{PASSIVE}active = {{ override = 0.2 }}\n")).unwrap();
    assert_eq!(passive_to_active(&sc), 0.2);
    // The package's own plain value is a layer like a patch.
    let err = load_package(&a, "", &format!("{PASSIVE}active = 0.2\n")).unwrap_err();
    assert!(
        err.contains("pkg.toml:4:") && err.contains("set by two patches"),
        "{err}"
    );
    // A transition's `all` after an earlier patch's `under40` replaces it.
    let under = "[transitions.ressourceforloeb]\nfleksjob = { under40 = 0.03 }\n";
    let all = "[transitions.ressourceforloeb]\nfleksjob = { all = 0.02 }\n";
    let err = load_package(under, all, "").unwrap_err();
    assert!(
        err.contains("transitions.ressourceforloeb.fleksjob.all"),
        "{err}"
    );
}

#[test]
fn a_row_factor_scales_the_probabilities_not_the_multipliers() {
    let row = "[transitions.ressourceforloeb.fleksjob]\nfactor = 2.0\n";
    let sc = load_package(row, "", "").unwrap();
    let base = load(&root().join("scenarios/baseline.toml"));
    let (rf, fj) = (State::Ressourceforloeb, State::Fleksjob);
    let find = |s: &Scenario| {
        s.transitions
            .iter()
            .find(|t| t.from == rf && t.to == fj)
            .cloned()
            .unwrap()
    };
    let (t, b) = (find(&sc), find(&base));
    for age in 0..2 {
        assert_eq!(t.prob[age].1.bands[0].2, b.prob[age].1.bands[0].2 * 2.0);
    }
    assert_eq!(t.phase_multipliers, b.phase_multipliers);
    // Band by band, every band relative: merged key by key.
    let bands = "[transitions.kontanthjaelp]\nressourceforloeb = { all = { \"1-4\" = { factor = 2.0 }, \"5+\" = { add = 0.001 } } }\n";
    let sc = load_package(bands, "", "").unwrap();
    let (kh, rf) = (State::Kontanthjaelp, State::Ressourceforloeb);
    assert_eq!(prob(&sc, kh, rf, 0, 1), prob(&base, kh, rf, 0, 1) * 2.0);
    assert_eq!(prob(&sc, kh, rf, 0, 5), prob(&base, kh, rf, 0, 5) + 0.001);
    // Relative and absolute bands in one table that replaces the parent's: an error.
    let mixed = "[transitions.kontanthjaelp]\nressourceforloeb = { all = { \"1-4\" = { factor = 2.0 }, \"5+\" = 0.02 } }\n";
    let err = load_package(mixed, "", "").unwrap_err();
    assert!(
        err.contains("write every entry of the table as a relative value"),
        "{err}"
    );
}
