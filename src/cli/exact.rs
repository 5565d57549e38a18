//! `fleksim exact [SCENARIO]`

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Instant, SystemTime};

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use fleksim::Result;
use fleksim::analysis::exact;
use fleksim::engine::runner::Prepared;
use fleksim::output::report::{self, Manifest};

use super::args::ExactArgs;

pub fn exact(a: ExactArgs) -> Result<ExitCode> {
    let loaded = super::load(a.scenario.as_deref(), &a.set)?;
    let mut sc = loaded.scenario;
    super::set_quarters(a.quarters, std::slice::from_mut(&mut sc))?;
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("outputs").join(&sc.name).join("exact"));

    let start_time = SystemTime::now();
    let clock = Instant::now();
    let cfg = fleksim::engine::runner::RunConfig {
        replications: 1,
        seed: 0,
        scale: a.scale,
    };
    cfg.validate()?;
    let single = fleksim::engine::budget::Design::SINGLE;
    fleksim::engine::budget::check(&[&sc], &cfg, 1, single, None)?;
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
        scale: a.scale,
        person_quarters: res.person_quarters,
        elapsed_seconds: elapsed,
        checksum: format!("{:016x}", fleksim::scenario::fnv1a(&bytes)),
        ..Manifest::describe(&sc, &loaded.sources, start_time)
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
            st.clone(),
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
