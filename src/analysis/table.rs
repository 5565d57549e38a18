//! The tidy table of a comparison: the columns of compare.csv and the rows
//! of one proposal against its baseline, as text. `compare`, every sweep
//! point and the summaries that parse sweep files back share this one
//! representation, so a number reads the same wherever it appears.
//! A missing value (a standard error from a single replication) is `NA`.

use crate::analysis::compare::ProposalStats;
use crate::engine::results::Layout;
use crate::engine::stats::CellStats;
use crate::error::{Error, Result};

/// A number as the CSV files write it (`NA` for not-a-number).
pub fn num(x: f64) -> String {
    if x.is_nan() {
        "NA".to_string()
    } else {
        format!("{x}")
    }
}

/// CSV bytes of `rows` under `header`.
pub fn csv_bytes(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let internal = |e: csv::Error| Error::Internal(format!("csv encoding: {e}"));
    w.write_record(header).map_err(internal)?;
    for r in rows {
        w.write_record(&r).map_err(internal)?;
    }
    w.into_inner()
        .map_err(|e| Error::Internal(format!("csv encoding: {e}")))
}

/// Whether a metric id names a total of other metrics of the same table:
/// a segment `total` (over age groups or cost items) or `all` (over payers).
/// Such rows carry `is_total = true`, so that summing a column over rows
/// does not count anything twice.
pub fn is_total(metric: &str) -> bool {
    metric.split('.').any(|s| s == "total" || s == "all")
}

/// The numeric year of a period label (`2019`), `NA` for the others
/// (`per_year`, `horizon`, `pv`, `2y`, ...).
pub fn period_year(period: &str) -> String {
    match period.parse::<i32>() {
        Ok(y) => y.to_string(),
        Err(_) => "NA".to_string(),
    }
}

/// Columns of compare.csv (sweep.csv and uncertainty.csv add the point first).
/// `year` is the period's year as a number (`NA` for a period that is not a
/// year), `period` the label (`2019`, `per_year`, `horizon`, `pv`, ...) that
/// `METRIC@PERIOD` selectors use.
pub const COMPARE_HEADER: [&str; 12] = [
    "proposal",
    "metric",
    "unit",
    "year",
    "period",
    "is_total",
    "baseline_mean",
    "proposal_mean",
    "delta_mean",
    "delta_se",
    "delta_ci_low",
    "delta_ci_high",
];

/// The compare.csv rows of one proposal, restricted to metrics `keep` accepts.
pub fn compare_rows(
    name: &str,
    layout: &Layout,
    baseline: &[CellStats],
    proposal: &ProposalStats,
    keep: &dyn Fn(&str) -> bool,
) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for (i, cell) in layout.cells.iter().enumerate() {
        let Some((metric, unit, period)) = cell.metric(layout) else {
            continue;
        };
        if !keep(&metric) {
            continue;
        }
        let d = &proposal.delta[i];
        let total = is_total(&metric).to_string();
        rows.push(vec![
            name.to_string(),
            metric,
            unit.to_string(),
            period_year(&period),
            period,
            total,
            num(baseline[i].mean),
            num(proposal.stats[i].mean),
            num(d.mean),
            num(d.se),
            num(d.ci_low),
            num(d.ci_high),
        ]);
    }
    rows
}
