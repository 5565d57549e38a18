//! `fleksim run [SCENARIO]`

use std::process::ExitCode;
use std::time::{Instant, SystemTime};

use fleksim::Result;
use fleksim::engine::results::Annual;
use fleksim::engine::runner::{self, Prepared};
use fleksim::output::report::{self, Manifest};

use super::args::RunArgs;
use super::fmt;

pub fn run(a: RunArgs) -> Result<ExitCode> {
    let start_time = SystemTime::now();
    let loaded = super::load(a.scenario.as_deref(), &a.sim.set)?;
    let mut sc = loaded.scenario;
    let (cfg, pool) = super::setup(&a.sim, std::slice::from_mut(&mut sc))?;
    let threads = pool.current_num_threads();

    let clock = Instant::now();
    let prepared = match a.prices {
        Some(year) => Prepared::new(&sc).in_prices(year)?,
        None => Prepared::new(&sc),
    };
    let (mut job, dest, out) = super::shard::launch(
        &a.shard,
        "run",
        a.out.as_deref(),
        a.force,
        &sc.name,
        start_time,
    )?;
    let whole = job.is_whole();
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
    if !whole {
        dest.check()?;
    }
    let elapsed = clock.elapsed().as_secs_f64();

    let mut manifest = Manifest::new("run", start_time).with_scenario(
        "scenario",
        &super::input_path(a.scenario.as_deref()),
        &sc,
        &loaded.sources,
    );
    manifest.seed = cfg.seed;
    manifest.replications = cfg.replications;
    manifest.scale = cfg.scale;
    manifest.threads = threads;
    manifest.person_quarters = res.person_quarters;
    manifest.elapsed_seconds = elapsed;
    manifest.checksum = format!("{:016x}", res.checksum);
    manifest.prices = a.prices;
    let files = [
        ("stocks.csv", report::stocks_csv(&sc, &res)?),
        ("flows.csv", report::flows_csv(&sc, &res)?),
        ("costs.csv", report::costs_csv(&sc, &res)?),
        ("annual.csv", report::annual_csv(&sc, &res)?),
        ("outcomes.csv", report::outcomes_csv(&sc, &res)?),
        ("manifest.json", manifest.to_json()?),
    ];
    let out = dest.publish(&files)?;

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

fn print_summary(sc: &fleksim::scenario::Scenario, res: &runner::RunResult, prices: i32) {
    let s = report::summary(res);
    let first = res.layout.stock_quarter(0);
    let last = res.layout.stock_quarter(res.layout.horizon);
    let mut t = fmt::table(
        vec![
            "state".to_string(),
            format!("start (end {first})"),
            format!("end {last} [95 % CI]"),
        ],
        &[1, 2],
    );
    for (st, a, b) in &s.stocks {
        t.add_row(vec![st.clone(), fmt::num(a.mean, 0), fmt::ci(b, 1.0, 0)]);
    }
    println!(
        "{}",
        fmt::wrap(
            &format!(
                "Scenario `{}`: {} replications, persons (full scale)",
                sc.name, res.replications
            ),
            "",
            fmt::WIDTH as usize
        )
    );
    println!("{t}");

    // At most two intervals per table, so that each fits in 80 columns.
    type Col = (&'static str, Annual, f64);
    let groups: [&[Col]; 3] = [
        &[
            ("førtidspension awards", Annual::AwardsFp, 1.0),
            ("of which under 40", Annual::AwardsFpUnder40, 1.0),
        ],
        &[
            ("ressourceforløb starts", Annual::StartsRf, 1.0),
            ("flex-job scheme entries", Annual::EntriesFlexScheme, 1.0),
        ],
        &[("public expenditure, DKK m", Annual::CostAll, 1e6)],
    ];
    println!("Per year, mean [95 % CI], prices of {prices}");
    for cols in groups {
        let mut header = vec!["year".to_string()];
        header.extend(cols.iter().map(|c| c.0.to_string()));
        let right: Vec<usize> = (1..=cols.len()).collect();
        let mut t = fmt::table(header, &right);
        for &(year, q) in &res.layout.years {
            let get = |m: Annual| {
                s.annual
                    .iter()
                    .find(|x| x.0 == year && x.2 == m)
                    .map(|x| x.3)
                    .expect("metric")
            };
            let mut row = vec![if q == 4 {
                year.to_string()
            } else {
                format!("{year} ({q} q)")
            }];
            row.extend(cols.iter().map(|c| fmt::ci(&get(c.1), c.2, 0)));
            t.add_row(row);
        }
        println!("{t}");
    }
}
