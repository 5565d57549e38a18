//! `fleksim exact [SCENARIO]`

use std::process::ExitCode;
use std::time::{Instant, SystemTime};

use fleksim::Result;
use fleksim::analysis::exact;
use fleksim::engine::runner::Prepared;
use fleksim::output::report::{self, Manifest};

use super::args::ExactArgs;
use super::fmt;
use super::outdir::Dest;

pub fn exact(a: ExactArgs) -> Result<ExitCode> {
    let start_time = SystemTime::now();
    let loaded = super::load(a.scenario.as_deref(), &a.set)?;
    let mut sc = loaded.scenario;
    super::set_quarters(a.quarters, std::slice::from_mut(&mut sc))?;
    let dest = Dest::new(a.out.as_deref(), a.force, &sc.name, "exact", start_time)?;

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
    let pb = super::progress::quarters(u64::from(sc.horizon));
    let run = exact::run_with(&prepared, a.scale, &|| pb.inc(1));
    pb.finish_and_clear();
    let run = run?;
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
    let mut manifest = Manifest::new("exact", start_time).with_scenario(
        "scenario",
        &super::input_path(a.scenario.as_deref()),
        &sc,
        &loaded.sources,
    );
    manifest.replications = 1;
    manifest.scale = a.scale;
    manifest.person_quarters = res.person_quarters;
    manifest.elapsed_seconds = elapsed;
    manifest.checksum = format!("{:016x}", fleksim::scenario::fnv1a(&bytes));
    manifest.set("peak_records", run.peak_records);
    let mut files = files.to_vec();
    files.push(("manifest.json", manifest.to_json()?));
    let out = dest.publish(&files)?;

    if !a.quiet {
        print_summary(&sc, &run);
    }
    eprintln!(
        "exact expectations of `{}` ({} quarters, scale {}) in {:.2} s; at most {} distinct person records",
        sc.name,
        sc.horizon,
        a.scale,
        elapsed,
        fmt::num(run.peak_records as f64, 0)
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
    let mut t = fmt::table(
        vec![
            "state".to_string(),
            format!("start (end {first})"),
            format!("end {last}, expected"),
        ],
        &[1, 2],
    );
    for (st, a, b) in &s.stocks {
        t.add_row(vec![st.clone(), fmt::num(a.mean, 0), fmt::num(b.mean, 0)]);
    }
    println!(
        "Scenario `{}`: exact expectations, persons (full scale)",
        sc.name
    );
    println!("{t}");
    println!(
        "Expected public expenditure over {} quarters: DKK {} m (prices of {})",
        sc.horizon,
        fmt::num(exact::total_cost(&run.expected) / 1e6, 1),
        sc.price_year
    );
}
