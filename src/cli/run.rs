//! `fleksim run [SCENARIO]`

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Instant, SystemTime};

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use fleksim::Result;
use fleksim::engine::results::Annual;
use fleksim::engine::runner::{self, Prepared};
use fleksim::engine::stats::CellStats;
use fleksim::output::report::{self, Manifest};

use super::args::RunArgs;

pub fn run(a: RunArgs) -> Result<ExitCode> {
    let loaded = super::load(a.scenario.as_deref(), &a.sim.set)?;
    let mut sc = loaded.scenario;
    let (cfg, pool) = super::setup(&a.sim, std::slice::from_mut(&mut sc))?;
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("outputs").join(&sc.name));
    let threads = pool.current_num_threads();

    let start_time = SystemTime::now();
    let clock = Instant::now();
    let prepared = match a.prices {
        Some(year) => Prepared::new(&sc).in_prices(year)?,
        None => Prepared::new(&sc),
    };
    let mut job = super::shard::Job::new(&a.shard, "run")?;
    let settings = super::shard::settings("run", &[&sc], &cfg, &format!("prices={:?}", a.prices));
    let pb = super::progress::replications(cfg.replications);
    let res = {
        let mut units = job.units(&out, cfg.replications, settings)?;
        pool.install(|| runner::run_units(&prepared, &cfg, &mut units, &|| pb.inc(1)))
    };
    pb.finish_and_clear();
    let res = res?;
    if let Some(code) = job.finish(threads, res.person_quarters)? {
        return Ok(code);
    }
    let elapsed = clock.elapsed().as_secs_f64();

    let manifest = Manifest {
        seed: cfg.seed,
        replications: cfg.replications,
        scale: cfg.scale,
        threads,
        person_quarters: res.person_quarters,
        elapsed_seconds: elapsed,
        checksum: format!("{:016x}", res.checksum),
        prices: a.prices,
        ..Manifest::describe(&sc, &loaded.sources, start_time)
    };
    let files = [
        ("stocks.csv", report::stocks_csv(&sc, &res)?),
        ("flows.csv", report::flows_csv(&sc, &res)?),
        ("costs.csv", report::costs_csv(&sc, &res)?),
        ("annual.csv", report::annual_csv(&sc, &res)?),
        ("outcomes.csv", report::outcomes_csv(&sc, &res)?),
        ("manifest.json", manifest.to_json()?),
    ];
    report::write_all(&out, &files)?;

    if !a.quiet {
        print_summary(&sc, &res, a.prices.unwrap_or(sc.price_year));
    }
    eprintln!(
        "{} replications of `{}` ({} quarters, scale {}) in {:.2} s on {} threads: {:.0} million person-quarters/s",
        cfg.replications,
        sc.name,
        sc.horizon,
        cfg.scale,
        elapsed,
        threads,
        res.person_quarters as f64 / elapsed / 1e6
    );
    eprintln!(
        "wrote {}/{{stocks,flows,costs,annual,outcomes}}.csv and manifest.json",
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn fmt_ci(s: &CellStats, div: f64, decimals: usize) -> String {
    if s.se.is_nan() {
        return format!("{:.*}", decimals, s.mean / div);
    }
    format!(
        "{:.*} ({:.*}–{:.*})",
        decimals,
        s.mean / div,
        decimals,
        s.ci_low / div,
        decimals,
        s.ci_high / div
    )
}

fn print_summary(sc: &fleksim::scenario::Scenario, res: &runner::RunResult, prices: i32) {
    let s = report::summary(res);
    let first = res.layout.stock_quarter(0);
    let last = res.layout.stock_quarter(res.layout.horizon);
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED);
    t.set_header(vec![
        "state".to_string(),
        format!("start (end {first})"),
        format!("end {last}, mean (95 % CI)"),
    ]);
    for (st, a, b) in &s.stocks {
        t.add_row(vec![
            st.clone(),
            format!("{:.0}", a.mean),
            fmt_ci(b, 1.0, 0),
        ]);
    }
    println!(
        "Scenario `{}`: {} replications, persons (full scale)",
        sc.name, res.replications
    );
    println!("{t}");

    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED);
    t.set_header(vec![
        "year",
        "førtidspension awards",
        "of which under 40",
        "ressourceforløb starts",
        "flex-job scheme entries",
        "public expenditure, DKK bn",
    ]);
    for &(year, q) in &res.layout.years {
        let get = |m: Annual| {
            s.annual
                .iter()
                .find(|x| x.0 == year && x.2 == m)
                .map(|x| x.3)
                .expect("metric")
        };
        let label = if q == 4 {
            year.to_string()
        } else {
            format!("{year} ({q} q)")
        };
        t.add_row(vec![
            label,
            fmt_ci(&get(Annual::AwardsFp), 1.0, 0),
            fmt_ci(&get(Annual::AwardsFpUnder40), 1.0, 0),
            fmt_ci(&get(Annual::StartsRf), 1.0, 0),
            fmt_ci(&get(Annual::EntriesFlexScheme), 1.0, 0),
            fmt_ci(&get(Annual::CostAll), 1e9, 2),
        ]);
    }
    println!("Per year, mean (95 % CI), prices of {prices}");
    println!("{t}");
}
