//! Dated changes (`[[schedule]]`): a change from a quarter, or phased in
//! over several, acts from then on and never before; every quarter at
//! which it moves a number gets its own compiled rows and cost table.

use fleksim::analysis::compare::{self, Comparison};
use fleksim::analysis::verify::{self, VerifyConfig};
use fleksim::engine::runner::{Prepared, RunConfig};
use fleksim::scenario::{self, Scenario};

use crate::util::{metric_cell, paired, root};

fn load(rel: &str) -> Scenario {
    scenario::load_file(&root().join(rel))
        .unwrap_or_else(|e| panic!("{rel}: {}", e.render(false)))
        .scenario
}

fn against_baseline(rel: &str, quarters: u16) -> Comparison {
    let mut base = load("scenarios/baseline.toml");
    let mut prop = load(rel);
    base.horizon = quarters;
    prop.horizon = quarters;
    let cfg = RunConfig {
        replications: 4,
        seed: 9,
        scale: 0.1,
    };
    compare::compare(&Prepared::new(&base), &[Prepared::new(&prop)], &cfg, &|| {}).unwrap()
}

/// The paired difference of `metric` in `year`: (mean, se).
fn in_year(c: &Comparison, metric: &str, year: &str) -> (f64, f64) {
    let d = paired(c, metric, year);
    (d.mean, d.se)
}

#[test]
fn a_phased_lever_acts_from_its_first_quarter_and_grows_to_full_effect() {
    let c = against_baseline("scenarios/examples/phased-lever.toml", 16);
    for year in ["2019", "2020"] {
        assert_eq!(
            in_year(&c, "starts.ressourceforloeb", year),
            (0.0, 0.0),
            "{year}"
        );
    }
    let (d21, se21) = in_year(&c, "starts.ressourceforloeb", "2021");
    let (d22, se22) = in_year(&c, "starts.ressourceforloeb", "2022");
    assert!(d21 > 4.0 * se21, "2021: {d21} ({se21})");
    // Four steps of a five-step ramp in 2021 against the full change in 2022.
    assert!(
        d22 - d21 > 4.0 * (se21 * se21 + se22 * se22).sqrt(),
        "2021 {d21}, 2022 {d22}"
    );
}

#[test]
fn a_dated_rate_changes_costs_from_its_quarter_and_nothing_else() {
    let c = against_baseline("scenarios/examples/dated-rate.toml", 20);
    for year in ["2019", "2020", "2021", "2022"] {
        assert_eq!(
            in_year(&c, "cost.foertidspension.all", year),
            (0.0, 0.0),
            "{year}"
        );
    }
    let (d, _) = in_year(&c, "cost.foertidspension.all", "2023");
    let base = c.baseline[metric_cell(&c.layout, "cost.foertidspension.all", "2023")].mean;
    // 5 % more for the same persons (the rate, not the stock, changed).
    assert!((d / base - 0.05).abs() < 1e-9, "{d} on {base}");
    assert_eq!(
        in_year(&c, "awards.foertidspension.total", "2023"),
        (0.0, 0.0)
    );
}

/// The rows and cost tables differ by quarter, as the numbers do.
#[test]
fn each_set_of_numbers_is_a_scenario_of_its_own() {
    let sc = load("scenarios/examples/phased-lever.toml");
    // 2021Q1..2022Q1: five steps.
    assert_eq!(sc.n_periods(), 6);
    let rate = |s: &Scenario| {
        s.transitions
            .iter()
            .find(|t| {
                t.from == scenario::State::Kontanthjaelp
                    && t.to == scenario::State::Ressourceforloeb
            })
            .map(|t| t.prob[0].1.at(1))
            .unwrap()
    };
    let q = |s: &str| scenario::calendar::Quarter::parse(s).unwrap();
    assert_eq!(rate(sc.at(q("2020Q4"))), 0.008);
    assert!((rate(sc.at(q("2021Q1"))) - 0.008 * 1.05).abs() < 1e-15);
    assert!((rate(sc.at(q("2021Q3"))) - 0.008 * 1.15).abs() < 1e-15);
    assert!((rate(sc.at(q("2028Q4"))) - 0.008 * 1.25).abs() < 1e-15);
}

#[test]
fn the_engine_follows_the_numbers_of_each_quarter() {
    let mut sc = load("scenarios/examples/phased-lever.toml");
    sc.horizon = 14;
    let cfg = VerifyConfig {
        run: RunConfig {
            replications: 1,
            seed: 3,
            scale: 0.1,
        },
        alpha: verify::DEFAULT_ALPHA,
        min_expected: verify::DEFAULT_MIN_EXPECTED,
    };
    let v = verify::verify(&Prepared::new(&sc), &sc, &cfg, &|| {}).unwrap();
    assert!(v.passed(), "{} failures", v.failures().count());
    assert!(
        v.tests
            .iter()
            .any(|t| t.cell.gates.contains("numbers from 2021Q3")),
        "cells are split by the numbers in force"
    );
}

/// Dated changes of every file of a package apply, parent's first.
#[test]
fn the_schedules_of_a_package_accumulate() {
    let tmp = tempfile::tempdir().unwrap();
    let base = root().join("scenarios/baseline.toml");
    let a = tmp.path().join("a.toml");
    let b = tmp.path().join("b.toml");
    let pkg = tmp.path().join("pkg.toml");
    let entry = |factor: f64, from: &str| {
        format!(
            "[[schedule]]\npath = \"transitions.kontanthjaelp.employed\"\nfactor = {factor}\nfrom = \"{from}\"\n"
        )
    };
    for (file, factor, from) in [(&a, 2.0, "2020Q1"), (&b, 1.5, "2021Q1")] {
        let text = format!(
            "extends = {:?}\n{}",
            base.display().to_string(),
            entry(factor, from)
        );
        std::fs::write(file, text).unwrap();
    }
    std::fs::write(
        &pkg,
        format!(
            "extends = [{:?}, {:?}, {:?}]\nname = \"pkg\"\n",
            base.display().to_string(),
            a.display().to_string(),
            b.display().to_string()
        ),
    )
    .unwrap();
    let sc = scenario::load_file(&pkg)
        .unwrap_or_else(|e| panic!("{}", e.render(false)))
        .scenario;
    assert_eq!(sc.schedule.len(), 2);
    let q = scenario::calendar::Quarter::parse("2021Q1").unwrap();
    let t = sc
        .at(q)
        .transitions
        .iter()
        .find(|t| t.from == scenario::State::Kontanthjaelp && t.to == scenario::State::Employed)
        .unwrap();
    assert!((t.prob[0].1.at(1) - 0.035 * 3.0).abs() < 1e-15);
}
