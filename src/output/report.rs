//! Tidy output files: CSV bytes, the run manifest, and writing them so that
//! a failed run leaves nothing half-written.
//!
//! **Architecture invariant:** report formats; it computes no statistic.
//! Every CSV has one header row and one observation per row, UTF-8, `.` as
//! decimal separator; a missing value (a standard error from a single
//! replication) is written `NA`, which R and pandas both read as missing.

use std::path::{Path, PathBuf};

use crate::analysis::compare::Comparison;
pub use crate::analysis::table::{COMPARE_HEADER, compare_rows, csv_bytes, is_total, num};
use crate::engine::costing::PAYERS;
use crate::engine::results::{Annual, Cell};
use crate::engine::runner::RunResult;
use crate::engine::stats::CellStats;
use crate::error::Result;
use crate::scenario::{N_NAMED, N_STATES, Scenario};

/// Version of the CSV column layout; bump when a column changes.
/// 2: `is_total` columns, numeric `year` columns, the all-payers total
/// named `all` in costs.csv (as in metric ids), `NA` in verify.csv.
pub const OUTPUT_FORMAT_VERSION: u32 = 2;

const AGE: [&str; 3] = ["under40", "over40", "total"];

fn stat_cols(s: &CellStats) -> [String; 4] {
    [num(s.mean), num(s.se), num(s.ci_low), num(s.ci_high)]
}

/// stocks.csv: persons by state and age group at the end of each quarter
/// (the first row per state is the initial stock, labelled with the quarter
/// before the start).
pub fn stocks_csv(sc: &Scenario, r: &RunResult) -> Result<Vec<u8>> {
    let rows = r
        .layout
        .cells
        .iter()
        .zip(&r.stats)
        .filter_map(|(c, s)| match *c {
            Cell::Stock { t, state, age } => {
                let q = r.layout.stock_quarter(t);
                let mut row = vec![
                    sc.name.clone(),
                    q.year().to_string(),
                    q.to_string(),
                    r.layout.state_id(state).to_string(),
                    AGE[age as usize].to_string(),
                    (age == 2).to_string(),
                ];
                row.extend(stat_cols(s));
                Some(row)
            }
            _ => None,
        });
    csv_bytes(
        &[
            "scenario",
            "year",
            "quarter",
            "state",
            "age_group",
            "is_total",
            "mean",
            "se",
            "ci_low",
            "ci_high",
        ],
        rows,
    )
}

/// flows.csv: persons moving during each quarter; entrants have `from = entry`.
/// Pairs that never occur in any replication are left out.
pub fn flows_csv(sc: &Scenario, r: &RunResult) -> Result<Vec<u8>> {
    let mut seen = [[false; N_STATES]; N_STATES + 1];
    for (c, s) in r.layout.cells.iter().zip(&r.stats) {
        if let Cell::Flow { from, to, .. } = *c
            && s.mean != 0.0
        {
            seen[from as usize][to as usize] = true;
        }
    }
    let rows = r
        .layout
        .cells
        .iter()
        .zip(&r.stats)
        .filter_map(|(c, s)| match *c {
            Cell::Flow { t, from, to } if seen[from as usize][to as usize] => {
                let q = sc.start.plus(t);
                let mut row = vec![
                    sc.name.clone(),
                    q.year().to_string(),
                    q.to_string(),
                    r.layout.state_id(from).to_string(),
                    r.layout.state_id(to).to_string(),
                ];
                row.extend(stat_cols(s));
                Some(row)
            }
            _ => None,
        });
    csv_bytes(
        &[
            "scenario", "year", "quarter", "from", "to", "mean", "se", "ci_low", "ci_high",
        ],
        rows,
    )
}

/// costs.csv: public expenditure in DKK (the scenario's price level) by
/// quarter, item and payer, with the totals over items (item `total`) and
/// over payers (payer `all`) marked `is_total`.
pub fn costs_csv(sc: &Scenario, r: &RunResult) -> Result<Vec<u8>> {
    let rows = r
        .layout
        .cells
        .iter()
        .zip(&r.stats)
        .filter_map(|(c, s)| match *c {
            Cell::Cost { t, item, payer } => {
                let item = r.layout.item_id(item);
                let payer = PAYERS.get(payer as usize).copied().unwrap_or("all");
                let q = sc.start.plus(t);
                let mut row = vec![
                    sc.name.clone(),
                    q.year().to_string(),
                    q.to_string(),
                    item.to_string(),
                    payer.to_string(),
                    (item == "total" || payer == "all").to_string(),
                ];
                row.extend(stat_cols(s));
                Some(row)
            }
            _ => None,
        });
    csv_bytes(
        &[
            "scenario", "year", "quarter", "item", "payer", "is_total", "mean", "se", "ci_low",
            "ci_high",
        ],
        rows,
    )
}

/// annual.csv: yearly indicators (awards, starts, entries, expenditure),
/// each summed within a replication before averaging. `quarters` says how
/// many simulated quarters the year holds.
pub fn annual_csv(sc: &Scenario, r: &RunResult) -> Result<Vec<u8>> {
    let rows = r.layout.cells.iter().zip(&r.stats).filter_map(|(c, s)| {
        let year = match *c {
            Cell::Annual { year, .. }
            | Cell::AnnualCost { year, .. }
            | Cell::VariantAwards {
                year: Some(year), ..
            } => year,
            _ => return None,
        };
        let (metric, unit, _) = c.metric(&r.layout)?;
        let q = r
            .layout
            .years
            .iter()
            .find(|y| y.0 == year)
            .map_or(0, |y| y.1);
        let total = is_total(&metric).to_string();
        let mut row = vec![
            sc.name.clone(),
            year.to_string(),
            q.to_string(),
            metric,
            unit.to_string(),
            total,
        ];
        row.extend(stat_cols(s));
        Some(row)
    });
    csv_bytes(
        &[
            "scenario", "year", "quarters", "metric", "unit", "is_total", "mean", "se", "ci_low",
            "ci_high",
        ],
        rows,
    )
}

/// outcomes.csv: citizen outcomes, present values and per-year averages over
/// the horizon (the metrics of compare.csv that are not per year or stocks).
pub fn outcomes_csv(sc: &Scenario, r: &RunResult) -> Result<Vec<u8>> {
    let rows = r.layout.cells.iter().zip(&r.stats).filter_map(|(c, s)| {
        if !matches!(
            c,
            Cell::Citizen { .. }
                | Cell::RfExit { .. }
                | Cell::Cohort { .. }
                | Cell::Pv { .. }
                | Cell::PerYear { .. }
                | Cell::VariantAwards { year: None, .. }
        ) {
            return None;
        }
        let (metric, unit, period) = c.metric(&r.layout)?;
        let total = is_total(&metric).to_string();
        let mut row = vec![sc.name.clone(), metric, unit.to_string(), period, total];
        row.extend(stat_cols(s));
        Some(row)
    });
    csv_bytes(
        &[
            "scenario", "metric", "unit", "period", "is_total", "mean", "se", "ci_low", "ci_high",
        ],
        rows,
    )
}

/// compare.csv: every reported metric of every proposal against the
/// baseline, with the paired difference.
pub fn compare_csv(names: &[String], c: &Comparison) -> Result<Vec<u8>> {
    let rows = names
        .iter()
        .zip(&c.proposals)
        .flat_map(|(name, p)| compare_rows(name, &c.layout, &c.baseline, p, &|_| true));
    csv_bytes(&COMPARE_HEADER, rows)
}

/// Looks up the statistics of one cell.
pub fn get(r: &RunResult, cell: Cell) -> Option<CellStats> {
    r.layout
        .cells
        .iter()
        .position(|c| *c == cell)
        .map(|i| r.stats[i])
}

/// The headline figures for a terminal summary.
#[derive(Debug, Clone)]
pub struct Summary {
    /// `(state, initial stock, stock at the horizon)`, totals over age.
    pub stocks: Vec<(String, CellStats, CellStats)>,
    /// `(year, quarters in year, metric, value)`.
    pub annual: Vec<(i32, u8, Annual, CellStats)>,
}

pub fn summary(r: &RunResult) -> Summary {
    let h = r.layout.horizon;
    let nv = r.layout.variants.len() as u8;
    let stocks = (0..N_NAMED as u8)
        .chain(N_NAMED as u8..N_NAMED as u8 + nv)
        .map(|st| {
            let at = |t| {
                get(
                    r,
                    Cell::Stock {
                        t,
                        state: st,
                        age: 2,
                    },
                )
                .expect("stock cell")
            };
            (r.layout.state_id(st).to_string(), at(0), at(h))
        })
        .collect();
    let mut annual = Vec::new();
    for &(year, q) in &r.layout.years {
        for metric in Annual::ALL {
            annual.push((
                year,
                q,
                metric,
                get(r, Cell::Annual { year, metric }).expect("annual cell"),
            ));
        }
    }
    Summary { stocks, annual }
}

pub use crate::output::manifest::Manifest;

/// Writes every file into the folder `dir` all or nothing, keeping the
/// folder's other files: see [`crate::output::publish`].
pub fn write_all(dir: &Path, files: &[(&str, Vec<u8>)]) -> Result<Vec<PathBuf>> {
    crate::output::publish::publish(dir, files)
}
