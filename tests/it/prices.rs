//! Money over time: the price index turns a scenario's amounts into another
//! year's prices (`--prices`), and the 2024 rates are a one-line package.

use fleksim::engine::results::Cell;
use fleksim::engine::runner::{self, Prepared, RunConfig};
use fleksim::scenario;

use crate::util::{fleksim, root};

fn cfg() -> RunConfig {
    RunConfig {
        replications: 2,
        seed: 4,
        scale: 0.02,
    }
}

#[test]
fn prices_scale_money_and_nothing_else() {
    let mut sc = scenario::baseline().scenario;
    sc.horizon = 8;
    let own = runner::run(&Prepared::new(&sc), &cfg(), &|| {}).unwrap();
    let p2024 = Prepared::new(&sc).in_prices(2024).unwrap();
    let later = runner::run(&p2024, &cfg(), &|| {}).unwrap();
    let mut money = 0;
    for ((cell, a), b) in own.layout.cells.iter().zip(&own.stats).zip(&later.stats) {
        // Money as the outputs label it: every metric in DKK, and the
        // costs that have no metric id of their own (costs.csv, item totals).
        let dkk = match cell.metric(&own.layout) {
            Some((_, unit, _)) => unit == "DKK",
            None => matches!(cell, Cell::Cost { .. } | Cell::AnnualCost { .. }),
        };
        assert_eq!(cell.is_money(), dkk, "{cell:?}");
        if dkk {
            money += 1;
            if a.mean != 0.0 {
                assert!((b.mean / a.mean - 1.079).abs() < 1e-12, "{cell:?}");
            }
        } else if !a.mean.is_nan() {
            assert_eq!(a.mean, b.mean, "{cell:?}");
        }
    }
    assert!(money > 50);
    assert!(Prepared::new(&sc).in_prices(2022).is_err());
}

#[test]
fn a_year_without_an_index_level_is_refused_by_name() {
    fleksim()
        .args(["run", "--prices", "2021", "-n", "1", "--scale", "0.01", "--quiet", "--out"])
        .arg(tempfile::tempdir().unwrap().path())
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "the price index of scenario `baseline` has no level for 2021; it has 2019, 2020, 2023, 2024",
        ));
}

/// The baseline at 2024 levels: the same persons, each benefit at its 2024 rate.
#[test]
fn the_2024_levels_change_rates_only() {
    let load = |rel: &str| {
        let mut sc = scenario::load_file(&root().join(rel)).unwrap().scenario;
        sc.horizon = 4;
        sc
    };
    let base = load("scenarios/baseline.toml");
    let y24 = load("scenarios/examples/baseline-2024-levels.toml");
    assert_eq!(y24.price_year, 2024);
    assert_eq!(
        y24.costs.monthly[scenario::State::Foertidspension as usize],
        18843.0
    );
    let a = runner::run(&Prepared::new(&base), &cfg(), &|| {}).unwrap();
    let b = runner::run(&Prepared::new(&y24), &cfg(), &|| {}).unwrap();
    assert_eq!(
        a.checksum, b.checksum,
        "the same persons in the same states"
    );
}

/// Cash benefit under 25 at the uddannelseshjælp-plus-supplement level (the baseline) against
/// one rate for all (the example): the same persons, and the baseline's
/// cost each year between the two rates times the paid volume.
#[test]
fn rates_by_age_pay_each_age_group_its_rate() {
    let load = |rel: &str| {
        let mut sc = scenario::load_file(&root().join(rel)).unwrap().scenario;
        sc.horizon = 8;
        sc
    };
    let base = load("scenarios/examples/flat-cash-rate.toml");
    let young = load("scenarios/baseline.toml");
    let a = runner::run(&Prepared::new(&base), &cfg(), &|| {}).unwrap();
    let b = runner::run(&Prepared::new(&young), &cfg(), &|| {}).unwrap();
    assert_eq!(a.checksum, b.checksum, "the rate changes no one's path");
    let get = |r: &runner::RunResult, metric: &str, year: &str| {
        r.stats[crate::util::metric_cell(&r.layout, metric, year)].mean
    };
    for year in ["2019", "2020"] {
        let volume = get(&b, "volume.kontanthjaelp", year);
        let cost = get(&b, "cost.kontanthjaelp.all", year);
        let base_cost = get(&a, "cost.kontanthjaelp.all", year);
        assert!((base_cost - 12550.0 * 12.0 * volume).abs() < 1e-6 * base_cost);
        assert!(
            cost > 9041.0 * 12.0 * volume && cost < 12550.0 * 12.0 * volume,
            "{year}: {cost}"
        );
        // Persons aged 18-24 are paid 28 % less and make at least a tenth of
        // the stock (the 18-29 band is 30 % of it).
        assert!(
            cost < 0.97 * base_cost,
            "{year}: {cost} against {base_cost}"
        );
    }
}
