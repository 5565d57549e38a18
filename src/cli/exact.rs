//! `fleksim exact [SCENARIO]`

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Instant, SystemTime};

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use fleksim::report::{self, Manifest};
use fleksim::runner::Prepared;
use fleksim::{Error, Result, exact};

use super::args::ExactArgs;

pub fn exact(a: ExactArgs) -> Result<ExitCode> {
    let loaded = super::load(a.scenario.as_deref(), &a.set)?;
    let mut sc = loaded.scenario;
    if let Some(q) = a.quarters {
        if !(1..=400).contains(&q) {
            return Err(Error::Invalid(format!(
                "--quarters must be between 1 and 400, got {q}"
            )));
        }
        sc.horizon = q;
    }
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("outputs").join(&sc.name).join("exact"));

    let start_time = SystemTime::now();
    let clock = Instant::now();
    let prepared = Prepared::new(&sc);
    let run = exact::run(&prepared, a.scale)?;
    let elapsed = clock.elapsed().as_secs_f64();
    let res = &run.result;

    let files = [
        ("stocks.csv", report::stocks_csv(&sc, res)?),
        ("flows.csv", report::flows_csv(&sc, res)?),
        ("costs.csv", report::costs_csv(&sc, res)?),
        ("annual.csv", report::annual_csv(&sc, res)?),
    ];
    // The checksum identifies the numbers: FNV-1a of the CSV bytes.
    let mut bytes = Vec::new();
    for (_, b) in &files {
        bytes.extend_from_slice(b);
    }
    let manifest = Manifest {
        fleksim_version: env!("CARGO_PKG_VERSION").to_string(),
        output_format_version: report::OUTPUT_FORMAT_VERSION,
        scenario: sc.name.clone(),
        scenario_hash: sc.hash.clone(),
        scenario_sources: loaded
            .sources
            .files
            .iter()
            .map(|f| f.name.clone())
            .collect(),
        start_quarter: sc.start.to_string(),
        horizon_quarters: sc.horizon,
        seed: 0,
        replications: 0,
        scale: a.scale,
        threads: 1,
        command_line: std::env::args().collect(),
        start_time: humantime::format_rfc3339_seconds(start_time).to_string(),
        end_time: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        person_quarters: res.person_quarters,
        elapsed_seconds: elapsed,
        checksum: format!("{:016x}", fleksim::scenario::fnv1a(&bytes)),
    };
    let mut files = files.to_vec();
    files.push(("manifest.json", manifest.to_json()?));
    report::write_all(&out, &files)?;

    if !a.quiet {
        print_summary(&sc, &run);
    }
    eprintln!(
        "exact expectations of `{}` ({} quarters, scale {}) in {:.2} s; at most {} distinct person records",
        sc.name, sc.horizon, a.scale, elapsed, run.peak_records
    );
    eprintln!(
        "wrote {}/{{stocks,flows,costs,annual}}.csv and manifest.json",
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn print_summary(sc: &fleksim::scenario::Scenario, run: &exact::ExactRun) {
    let s = report::summary(&run.result);
    let first = run.result.layout.stock_quarter(0);
    let last = run.result.layout.stock_quarter(run.result.layout.horizon);
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED);
    t.set_header(vec![
        "state".to_string(),
        format!("start (end {first})"),
        format!("end {last}, expected"),
    ]);
    for (st, a, b) in &s.stocks {
        t.add_row(vec![
            st.id().to_string(),
            format!("{:.0}", a.mean),
            format!("{:.0}", b.mean),
        ]);
    }
    println!(
        "Scenario `{}`: exact expectations, persons (full scale)",
        sc.name
    );
    println!("{t}");
    println!(
        "Expected public expenditure over {} quarters: DKK {:.3} bn (prices of {})",
        sc.horizon,
        exact::total_cost(&run.expected) / 1e9,
        sc.price_year
    );
}
