//! The shipped proposals: every file validates and explains, and the
//! levers move the model in the directions their rules imply. Directions
//! are judged by the paired 95 % confidence interval (common random
//! numbers, fixed seed), which must lie wholly on the expected side of 0.

use std::path::PathBuf;

use fleksim::analysis::compare::{self, Comparison};
use fleksim::engine::results::{Annual, Cell};
use fleksim::engine::runner::{self, Prepared, RunConfig};
use fleksim::scenario::{self, State};

use crate::util::root;

fn proposals_dir() -> PathBuf {
    root().join("scenarios").join("proposals")
}

/// The proposal file whose name starts with `prefix` (e.g. `l12-`).
fn file(prefix: &str) -> PathBuf {
    let mut hits: Vec<PathBuf> = std::fs::read_dir(proposals_dir())
        .expect("scenarios/proposals exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .collect();
    hits.sort();
    assert_eq!(
        hits.len(),
        1,
        "exactly one proposal file starts with {prefix}: {hits:?}"
    );
    hits.pop().unwrap()
}

fn compare(prefix: &str) -> Comparison {
    let mut base = scenario::load_file(&root().join("scenarios/baseline.toml"))
        .unwrap()
        .scenario;
    let mut prop = scenario::load_file(&file(prefix)).unwrap().scenario;
    base.horizon = 16;
    prop.horizon = 16;
    let cfg = RunConfig {
        replications: 8,
        seed: 17,
        scale: 0.05,
    };
    compare::compare(&Prepared::new(&base), &[Prepared::new(&prop)], &cfg, &|| {}).unwrap()
}

/// The paired difference of `cell`: (mean, CI low, CI high).
fn delta(c: &Comparison, cell: Cell) -> (f64, f64, f64) {
    let i = c
        .layout
        .cells
        .iter()
        .position(|x| *x == cell)
        .expect("cell");
    let d = c.proposals[0].delta[i];
    (d.mean, d.ci_low, d.ci_high)
}

fn per_year(metric: Annual) -> Cell {
    Cell::PerYear { metric }
}

/// The yearly cost cells (both payers) of one item over the 4-year test horizon.
fn yearly_item_cost(item: usize) -> Vec<Cell> {
    (2019..2023)
        .map(|year| Cell::AnnualCost {
            year,
            item: item as u8,
            payer: 2,
        })
        .collect()
}

fn up(c: &Comparison, cell: Cell, what: &str) {
    let (m, lo, hi) = delta(c, cell);
    assert!(lo > 0.0, "{what} should rise: delta {m} ({lo} to {hi})");
}

fn down(c: &Comparison, cell: Cell, what: &str) {
    let (m, lo, hi) = delta(c, cell);
    assert!(hi < 0.0, "{what} should fall: delta {m} ({lo} to {hi})");
}

#[test]
fn every_proposal_validates_and_explains() {
    let mut n = 0;
    for e in std::fs::read_dir(proposals_dir()).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "toml") {
            let l = scenario::load_file(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            assert_eq!(
                Some(l.scenario.name.as_str()),
                p.file_stem().and_then(|s| s.to_str()),
                "name = file stem"
            );
            scenario::explain(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            n += 1;
        }
    }
    // 13 union levers, 8 DS levers, 3 packages and the 2026 reform.
    assert_eq!(n, 25);
}

#[test]
fn l12_raises_the_cost_of_ressourceforloebsydelse() {
    let c = compare("l12-");
    // Benefit items are indexed by their state.
    for cell in yearly_item_cost(State::Ressourceforloeb as usize) {
        up(&c, cell, "ressourceforløbsydelse");
    }
}

#[test]
fn d03_moves_cost_to_the_state_and_raises_awards() {
    let c = compare("d03-");
    up(&c, per_year(Annual::CostState), "state expenditure");
    down(
        &c,
        per_year(Annual::CostMunicipality),
        "municipal expenditure",
    );
    up(&c, per_year(Annual::AwardsFp), "førtidspension awards");
}

#[test]
fn l06_raises_ressourceforloeb_starts() {
    let c = compare("l06-");
    up(&c, per_year(Annual::StartsRf), "ressourceforløb starts");
}

#[test]
fn d01_raises_awards_and_lowers_ressourceforloeb_starts() {
    let c = compare("d01-");
    up(&c, per_year(Annual::AwardsFp), "førtidspension awards");
    down(&c, per_year(Annual::StartsRf), "ressourceforløb starts");
}

/// From 2026Q1 nobody starts a ressourceforløb (and, with the baseline's
/// ten-year horizon, the running ones are fewer each quarter).
#[test]
fn reform_2026_has_no_ressourceforloeb_starts_after_2025() {
    let sc = scenario::load_file(&file("reform-2026")).unwrap().scenario;
    let p = Prepared::new(&sc);
    let cfg = RunConfig {
        replications: 3,
        seed: 1,
        scale: 0.05,
    };
    let res = runner::run(&p, &cfg, &|| {}).unwrap();
    let rf = State::Ressourceforloeb as u8;
    let mut before = 0.0;
    for (i, cell) in res.layout.cells.iter().enumerate() {
        if let Cell::Flow { t, to, .. } = *cell
            && to == rf
        {
            let q = sc.start.plus(t);
            if q.year() >= 2026 {
                assert_eq!(res.stats[i].mean, 0.0, "a start in {q}: {cell:?}");
            } else {
                before += res.stats[i].mean;
            }
        }
    }
    assert!(before > 0.0, "starts before 2026 are unchanged");
}
