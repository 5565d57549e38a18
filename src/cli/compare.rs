//! `fleksim compare BASELINE PROPOSAL...`

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use fleksim::analysis::compare::{self, Comparison};
use fleksim::engine::results::{Annual, Cell, Citizen};
use fleksim::engine::runner::Prepared;
use fleksim::output::report;
use fleksim::scenario::State;
use fleksim::{Error, Result};

use super::args::CompareArgs;
use super::run::fmt_ci;

pub fn compare(a: CompareArgs) -> Result<ExitCode> {
    let mut scenarios = vec![super::load(Some(&a.baseline), &a.sim.set)?.scenario];
    for p in &a.proposals {
        scenarios.push(super::load(Some(p), &a.sim.set)?.scenario);
    }
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
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("outputs").join("compare"));
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
    let mut job = super::shard::Job::new(&a.shard, "compare")?;
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
    let elapsed = clock.elapsed().as_secs_f64();
    report::write_all(&out, &[("compare.csv", report::compare_csv(&names, &res)?)])?;
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
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED);
    t.set_header(vec!["metric", "period", base, name, "difference (95 % CI)"]);
    let mut add = |label: &str, period: &str, cell: Cell, div: f64, dec: usize| {
        if let Some(k) = c.layout.cells.iter().position(|x| *x == cell) {
            t.add_row(vec![
                label.to_string(),
                period.to_string(),
                format!("{:.*}", dec, c.baseline[k].mean / div),
                format!("{:.*}", dec, p.stats[k].mean / div),
                fmt_ci(&p.delta[k], div, dec),
            ]);
        }
    };
    for (label, m) in [
        ("førtidspension awards, under 40", Annual::AwardsFpUnder40),
        ("førtidspension awards, 40 and over", Annual::AwardsFpOver40),
        ("ressourceforløb starts", Annual::StartsRf),
        ("flex-job scheme entries", Annual::EntriesFlexScheme),
    ] {
        add(label, "per year", Cell::PerYear { metric: m }, 1.0, 0);
    }
    for (label, m) in [
        ("expenditure, state, DKK m", Annual::CostState),
        (
            "expenditure, municipalities, DKK m",
            Annual::CostMunicipality,
        ),
        ("expenditure, all, DKK m", Annual::CostAll),
    ] {
        add(label, "per year", Cell::PerYear { metric: m }, 1e6, 1);
    }
    for (label, payer) in [
        ("present value, state, DKK m", 0),
        ("present value, municipalities, DKK m", 1),
        ("present value, all, DKK m", 2),
    ] {
        add(label, "horizon", Cell::Pv { payer }, 1e6, 1);
    }
    for st in [
        State::Ressourceforloeb,
        State::Fleksjob,
        State::Ledighedsydelse,
        State::Foertidspension,
        State::Kontanthjaelp,
    ] {
        add(
            &format!("stock, {}", st.id()),
            "end",
            Cell::Stock {
                t: c.layout.horizon,
                state: st as u8,
                age: 2,
            },
            1.0,
            0,
        );
    }
    for (label, m, div, dec) in [
        (
            "quarters to clarification, mean",
            Citizen::MeanToClarification,
            1.0,
            2,
        ),
        (
            "quarters to clarification, median",
            Citizen::MedianToClarification,
            1.0,
            1,
        ),
        (
            "share of entrants clarified",
            Citizen::ShareClarified,
            1.0,
            3,
        ),
        (
            "ressourceforløb quarters without intervention",
            Citizen::RfQuartersWithoutIntervention,
            1.0,
            0,
        ),
    ] {
        let period = if m == Citizen::RfQuartersWithoutIntervention {
            "per year"
        } else {
            "horizon"
        };
        add(label, period, Cell::Citizen { metric: m }, div, dec);
    }
    println!(
        "`{name}` against `{base}` ({} replications, paired)",
        c.replications
    );
    println!("{t}");
}
