//! Shared helpers for the integration tests.

#![allow(dead_code)]

use std::path::PathBuf;

/// Path to the repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Path of a file under tests/data.
pub fn data(name: &str) -> PathBuf {
    root().join("tests").join("data").join(name)
}

/// The fleksim binary, ready to run.
pub fn fleksim() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("fleksim").expect("fleksim binary");
    c.env("NO_COLOR", "1");
    c
}

/// The index of the output cell of a compare.csv metric and period.
pub fn metric_cell(layout: &fleksim::engine::results::Layout, metric: &str, period: &str) -> usize {
    layout
        .cells
        .iter()
        .position(|cell| {
            cell.metric(layout)
                .is_some_and(|(m, _, p)| m == metric && p == period)
        })
        .unwrap_or_else(|| panic!("no metric {metric} ({period})"))
}

/// The paired difference of the first proposal in a metric and period.
pub fn paired(
    c: &fleksim::analysis::compare::Comparison,
    metric: &str,
    period: &str,
) -> fleksim::engine::stats::CellStats {
    c.proposals[0].delta[metric_cell(&c.layout, metric, period)]
}
