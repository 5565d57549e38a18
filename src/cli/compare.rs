//! `fleksim compare [--baseline FILE] PROPOSAL...`

use std::process::ExitCode;
use std::time::{Instant, SystemTime};

use fleksim::analysis::compare::{self, Comparison};
use fleksim::engine::results::{Annual, Cell, Citizen};
use fleksim::engine::runner::Prepared;
use fleksim::engine::stats::CellStats;
use fleksim::output::manifest::{Input, Manifest};
use fleksim::output::report;
use fleksim::scenario::State;
use fleksim::{Error, Result};

use super::args::CompareArgs;
use super::fmt;

pub fn compare(a: CompareArgs) -> Result<ExitCode> {
    let start_time = SystemTime::now();
    // The baseline: --baseline, the first file when it is a complete
    // scenario followed by changes (the form of earlier versions), or the
    // embedded one.
    let mut loaded = Vec::new();
    for p in &a.proposals {
        loaded.push(super::load(Some(p), &a.sim.set)?);
    }
    let complete = |l: &fleksim::scenario::Loaded| l.sources.files.len() == 1;
    let mut paths: Vec<Option<&std::path::Path>> =
        a.proposals.iter().map(|p| Some(p.as_path())).collect();
    let base = match &a.baseline {
        Some(b) => {
            paths.insert(0, Some(b.as_path()));
            super::load(Some(b), &a.sim.set)?
        }
        None if loaded.len() >= 2
            && complete(&loaded[0])
            && loaded[1..].iter().all(|l| !complete(l)) =>
        {
            eprintln!(
                "note: taking {} as the baseline (a complete scenario before files that extend one); give --baseline FILE to say so",
                a.proposals[0].display()
            );
            loaded.remove(0)
        }
        None => {
            paths.insert(0, None);
            super::load(None, &a.sim.set)?
        }
    };
    let mut scenarios = vec![base.scenario.clone()];
    scenarios.extend(loaded.iter().map(|l| l.scenario.clone()));
    let (cfg, pool) = super::setup(&a.sim, &mut scenarios)?;
    let mut names: Vec<String> = Vec::new();
    for sc in &scenarios[1..] {
        if names.contains(&sc.name) {
            return Err(Error::Invalid(format!(
                "two proposals are named `{}`; names must differ",
                sc.name
            )));
        }
        names.push(sc.name.clone());
    }
    let folder = if names.len() == 1 {
        names[0].as_str()
    } else {
        "compare"
    };
    let clock = Instant::now();
    let prepared: Vec<Prepared> = match a.prices {
        Some(year) => scenarios
            .iter()
            .map(|sc| Prepared::new(sc).in_prices(year))
            .collect::<Result<_>>()?,
        None => {
            let years: Vec<i32> = scenarios.iter().map(|sc| sc.price_year).collect();
            if years.iter().any(|&y| y != years[0]) {
                eprintln!(
                    "warning: the scenarios state money at different price years ({}); differences mix price levels; give --prices YEAR to put them on one",
                    years
                        .iter()
                        .map(|y| y.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            scenarios.iter().map(Prepared::new).collect()
        }
    };
    let (mut job, dest, out) = super::shard::launch(
        &a.shard,
        "compare",
        a.out.as_deref(),
        a.force,
        folder,
        start_time,
    )?;
    let whole = job.is_whole();
    let all: Vec<&fleksim::scenario::Scenario> = scenarios.iter().collect();
    let settings = super::shard::settings("compare", &all, &cfg, &format!("prices={:?}", a.prices));
    let pb = super::progress::replications(cfg.replications);
    let res = {
        let mut units = job.units(&out, cfg.replications, settings)?;
        pool.install(|| {
            compare::compare_units(&prepared[0], &prepared[1..], &cfg, &mut units, &|| {
                pb.inc(1)
            })
        })
    };
    pb.finish_and_clear();
    let res = res?;
    if let Some(code) = job.finish(pool.current_num_threads(), res.person_quarters)? {
        return Ok(code);
    }
    if !whole {
        dest.check()?;
    }
    let elapsed = clock.elapsed().as_secs_f64();

    let mut manifest = Manifest::new("compare", start_time).with_scenario(
        "baseline",
        &super::input_path(paths[0]),
        &scenarios[0],
        &base.sources,
    );
    for (i, l) in loaded.iter().enumerate() {
        let path = super::input_path(paths[i + 1]);
        manifest.inputs.push(Input::scenario(
            "proposal",
            &path,
            &scenarios[i + 1],
            &l.sources,
        ));
    }
    manifest.seed = cfg.seed;
    manifest.replications = cfg.replications;
    manifest.scale = cfg.scale;
    manifest.threads = pool.current_num_threads();
    manifest.person_quarters = res.person_quarters;
    manifest.elapsed_seconds = elapsed;
    manifest.prices = a.prices;
    // What each proposal assumes, for `fleksim report`.
    let proposal_paths: Vec<std::path::PathBuf> = paths[1..]
        .iter()
        .flatten()
        .map(|p| p.to_path_buf())
        .collect();
    let explain = fleksim::output::report_html::explain_text(&proposal_paths)?;
    let out = dest.publish(&[
        ("compare.csv", report::compare_csv(&names, &res)?),
        ("explain.txt", explain.into_bytes()),
        ("manifest.json", manifest.to_json()?),
    ])?;
    if !a.quiet {
        for (i, name) in names.iter().enumerate() {
            print_table(&scenarios[0].name, name, &res, i);
        }
    }
    eprintln!(
        "{} replications of {} scenarios in {:.1} s ({:.0} million person-quarters/s); wrote {}",
        cfg.replications,
        scenarios.len(),
        elapsed,
        res.person_quarters as f64 / elapsed / 1e6,
        out.join("compare.csv").display()
    );
    Ok(ExitCode::SUCCESS)
}

fn print_table(base: &str, name: &str, c: &Comparison, i: usize) {
    let p = &c.proposals[i];
    let mut t = fmt::table(
        vec!["metric", "baseline", "proposal", "Δ [95 % CI]"],
        &[1, 2, 3],
    );
    let mut add = |label: &str, cell: Cell, div: f64, dec: usize| {
        if let Some(k) = c.layout.cells.iter().position(|x| *x == cell) {
            t.add_row(vec![
                label.to_string(),
                fmt::num(c.baseline[k].mean / div, dec),
                fmt::num(p.stats[k].mean / div, dec),
                delta(&p.delta[k], div, dec),
            ]);
        }
    };
    for (label, m) in [
        ("førtidspension awards <40", Annual::AwardsFpUnder40),
        ("førtidspension awards 40+", Annual::AwardsFpOver40),
        ("ressourceforløb starts", Annual::StartsRf),
        ("flex-job scheme entries", Annual::EntriesFlexScheme),
    ] {
        add(label, Cell::PerYear { metric: m }, 1.0, 0);
    }
    for (label, m) in [
        ("expenditure, state", Annual::CostState),
        ("expenditure, municipalities", Annual::CostMunicipality),
        ("expenditure, all", Annual::CostAll),
    ] {
        add(label, Cell::PerYear { metric: m }, 1e6, 0);
    }
    for (label, payer) in [
        ("present value, state", 0),
        ("present value, municipalities", 1),
        ("present value, all", 2),
    ] {
        add(label, Cell::Pv { payer }, 1e6, 0);
    }
    let end = c.layout.stock_quarter(c.layout.horizon);
    for st in [
        State::Ressourceforloeb,
        State::Fleksjob,
        State::Ledighedsydelse,
        State::Foertidspension,
        State::Kontanthjaelp,
    ] {
        add(
            &format!("end stock, {}", st.id()),
            Cell::Stock {
                t: c.layout.horizon,
                state: st as u8,
                age: 2,
            },
            1.0,
            0,
        );
    }
    for (label, m, dec) in [
        (
            "time to clarification, mean",
            Citizen::MeanToClarification,
            2,
        ),
        (
            "time to clarification, median",
            Citizen::MedianToClarification,
            1,
        ),
        ("share of entrants clarified", Citizen::ShareClarified, 3),
        (
            "rf. quarters w/o intervention",
            Citizen::RfQuartersWithoutIntervention,
            0,
        ),
    ] {
        add(label, Cell::Citizen { metric: m }, 1.0, dec);
    }
    println!(
        "{}",
        fmt::wrap(
            &format!(
                "`{name}` against `{base}` ({} replications, paired): per year unless said, money in DKK m, end stocks at {end}, times in quarters",
                c.replications
            ),
            "",
            fmt::WIDTH as usize
        )
    );
    println!("{t}");
}

/// A difference with its interval: `+12.3 [8.1; 16.5]`.
fn delta(s: &CellStats, div: f64, dec: usize) -> String {
    if s.se.is_nan() {
        return fmt::signed(s.mean / div, dec);
    }
    format!(
        "{} [{}; {}]",
        fmt::signed(s.mean / div, dec),
        fmt::num(s.ci_low / div, dec),
        fmt::num(s.ci_high / div, dec)
    )
}
