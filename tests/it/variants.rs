//! Variants of named states (scenarios/examples/seniorpension.toml): the
//! variant's awards rise among people within 6 years of folkepension age
//! only, its costs appear under its own item, and nobody else's money moves
//! into it. Directions are judged by the paired 95 % confidence interval
//! (common random numbers, fixed seed).

use fleksim::analysis::compare::{self, Comparison};
use fleksim::engine::kernel::{self, Counters, Tables};
use fleksim::engine::population::{Population, scaled};
use fleksim::engine::rng::RepKey;
use fleksim::engine::runner::{Prepared, RunConfig};
use fleksim::scenario::{self, Scenario, State};

use crate::util::root;

fn example() -> Scenario {
    let mut sc = scenario::load_file(&root().join("scenarios/examples/seniorpension.toml"))
        .expect("the example validates")
        .scenario;
    sc.horizon = 16;
    sc
}

fn compared() -> Comparison {
    let mut base = scenario::load_file(&root().join("scenarios/baseline.toml"))
        .unwrap()
        .scenario;
    base.horizon = 16;
    let prop = example();
    let cfg = RunConfig {
        replications: 8,
        seed: 23,
        scale: 0.05,
    };
    compare::compare(&Prepared::new(&base), &[Prepared::new(&prop)], &cfg, &|| {}).unwrap()
}

/// The paired difference of a compare.csv metric and period: (mean, CI low, CI high).
fn delta(c: &Comparison, metric: &str, period: &str) -> (f64, f64, f64) {
    let d = crate::util::paired(c, metric, period);
    (d.mean, d.ci_low, d.ci_high)
}

#[test]
fn seniorpension_is_awarded_counted_and_paid_apart() {
    let c = compared();
    let (_, lo, _) = delta(&c, "awards.seniorpension.total", "per_year");
    assert!(lo > 0.0, "seniorpension awards rise: CI low {lo}");
    // Nobody under 40 is within 6 years of folkepension age.
    assert_eq!(delta(&c, "awards.seniorpension.under40", "per_year").0, 0.0);
    let (_, lo, _) = delta(&c, "stock.seniorpension", "horizon");
    assert!(
        lo > 0.0,
        "a seniorpension stock at the horizon: CI low {lo}"
    );
    for payer in ["state", "municipality"] {
        let (_, lo, _) = delta(&c, &format!("cost.seniorpension.{payer}"), "2021");
        assert!(lo > 0.0, "cost.seniorpension.{payer} is paid: CI low {lo}");
    }
    // Paid at the førtidspension rate (it names no rate of its own): a
    // full-time person costs twelve months of it.
    let fp_rate = example().costs.monthly[State::Foertidspension as usize];
    let (cost, _, _) = delta(&c, "cost.seniorpension.all", "2021");
    let (volume, _, _) = delta(&c, "volume.seniorpension", "2021");
    assert!(
        (cost - volume * 12.0 * fp_rate).abs() <= 1e-6 * cost,
        "{cost} DKK for {volume} full-time persons at {fp_rate} a month"
    );
    // The total is the sum of the items, the variant's included.
    let (total, _, _) = delta(&c, "cost.total.all", "2021");
    let items: f64 = c
        .layout
        .cells
        .iter()
        .enumerate()
        .filter_map(|(i, cell)| {
            let (m, _, p) = cell.metric(&c.layout)?;
            (p == "2021"
                && m.starts_with("cost.")
                && m.ends_with(".all")
                && !m.starts_with("cost.total."))
            .then(|| c.proposals[0].delta[i].mean)
        })
        .sum();
    assert!(
        (total - items).abs() <= 1e-6 * total.abs().max(1.0),
        "{total} vs {items}"
    );
}

/// Every person who enters the variant is within 6 years of their own
/// folkepension age when they enter, and it is entered from 2020Q1 on only.
#[test]
fn seniorpension_is_entered_within_6_years_of_folkepension_age_only() {
    let sc = example();
    let slot = sc
        .state_from_id("seniorpension")
        .expect("the variant's slot");
    assert!(slot.is_variant());
    assert_eq!(sc.base(slot), State::Foertidspension);
    let tables = Tables::compile(&sc);
    let key = RepKey::new(5, 0);
    let scale = 0.05;
    let mut pop = Population::for_scenario(&sc, scale).unwrap();
    for c in &sc.stock {
        pop.add_group(&sc, c, 0, scaled(c.count, scale), sc.start, key);
    }
    let mut counters = Counters::default();
    let mut entered = 0;
    for t in 0..sc.horizon {
        counters.reset_quarter();
        for c in &sc.inflow {
            pop.add_group(&sc, c, t + 1, scaled(c.count, scale), sc.start.plus(t), key);
        }
        kernel::step(&tables, &mut pop, t, key, &mut counters);
        let bin = &pop.bins[slot as usize];
        for i in 0..bin.len() {
            let (birth, since) = (bin.birth[i], bin.entered[i]);
            if since != sc.start.0 + t + 1 {
                continue;
            }
            entered += 1;
            // Decided at the end of quarter `since - 1`.
            let decided = since - 1;
            assert!(decided >= scenario::calendar::Quarter::parse("2020Q1").unwrap().0);
            let to_pension = tables.pension_exit(birth).saturating_sub(decided);
            assert!(
                to_pension <= 24,
                "entered {to_pension} quarters before folkepension age"
            );
        }
    }
    assert!(entered > 50, "only {entered} persons entered the variant");
}
