//! `fleksim check [SCENARIO]`

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use fleksim::analysis::check::{self, Checker};
use fleksim::engine::results::Layout;
use fleksim::engine::runner::{self, Prepared};
use fleksim::output::report;
use fleksim::{Error, Result};

use super::args::CheckArgs;

pub fn check(a: CheckArgs) -> Result<ExitCode> {
    let loaded = super::load(a.scenario.as_deref(), &a.sim.set)?;
    let mut sc = loaded.scenario;
    let (cfg, pool) = super::setup(&a.sim, std::slice::from_mut(&mut sc))?;
    let targets = match &a.targets {
        Some(p) => check::load_targets(p)?,
        None => check::parse_targets(Path::new("<embedded>/targets.toml"), check::TARGETS_TOML)?,
    };
    let layout = Layout::new(sc.start, sc.horizon, sc.costs.discount_rate);
    let mut checker = Checker::new(targets, &layout);
    let prepared = Prepared::new(&sc);
    let pb = super::progress::replications(cfg.replications);
    let res =
        pool.install(|| runner::run_each(&prepared, &cfg, &|| pb.inc(1), &mut |v| checker.add(v)));
    pb.finish_and_clear();
    res?;
    let checked = checker.finish();

    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED);
    t.set_content_arrangement(ContentArrangement::Dynamic);
    t.set_header(vec![
        "id",
        "description",
        "published",
        "simulated (95 % CI)",
        "difference",
        "tolerance",
        "result",
    ]);
    let mut rows = Vec::new();
    let mut all_pass = true;
    for c in &checked {
        let tg = &c.target;
        let (lo, hi) = tg.published;
        let pct = |x: f64| {
            if tg.share {
                format!("{:.1} %", x * 100.0)
            } else {
                format!("{x:.0}")
            }
        };
        let published = if lo == hi {
            pct(lo)
        } else {
            format!("{}-{}", pct(lo), pct(hi))
        };
        let tolerance = if tg.share {
            format!("±{:.1} pp", tg.tolerance * 100.0)
        } else {
            format!("±{:.0} %", tg.tolerance * 100.0)
        };
        // The simulated value with its CI, and its distance from the figure.
        let shown = |s: &fleksim::engine::stats::CellStats| {
            let d = tg.distance(s.mean);
            let diff = if tg.share {
                format!("{:+.1} pp", d * 100.0)
            } else {
                format!("{:+.1} %", d / lo.max(1e-9) * 100.0)
            };
            let sim = format!("{} ({}–{})", pct(s.mean), pct(s.ci_low), pct(s.ci_high));
            (sim, diff)
        };
        let (sim, diff, result) = match (&c.simulated, c.pass) {
            (Some(s), Some(pass)) => {
                all_pass &= pass;
                let (sim, diff) = shown(s);
                (sim, diff, if pass { "pass" } else { "FAIL" }.to_string())
            }
            (Some(s), None) if tg.reference => {
                let (sim, diff) = shown(s);
                (sim, diff, format!("reference: {}", tg.reason))
            }
            _ => {
                all_pass = false;
                let why = check::not_measured_reason(tg)
                    .unwrap_or("the measure lies outside the simulated period");
                (
                    String::from("-"),
                    String::from("-"),
                    format!("not measured: {why}"),
                )
            }
        };
        t.add_row(vec![
            tg.id.clone(),
            tg.description.clone(),
            published,
            sim,
            diff,
            tolerance,
            result,
        ]);
        let s = c.simulated;
        let num = |x: Option<f64>| {
            x.filter(|v| !v.is_nan())
                .map_or("NA".to_string(), |v| format!("{v}"))
        };
        rows.push(vec![
            tg.id.clone(),
            if lo == hi {
                format!("{lo}")
            } else {
                format!("{lo}-{hi}")
            },
            num(s.map(|s| s.mean)),
            num(s.map(|s| s.ci_low)),
            num(s.map(|s| s.ci_high)),
            format!("{}", tg.tolerance),
            match c.pass {
                Some(true) => "pass",
                Some(false) => "fail",
                None if tg.reference && s.is_some() => "reference",
                None => "not_measured",
            }
            .to_string(),
        ]);
    }
    println!(
        "`{}` against the published figures ({} replications, scale {})",
        sc.name, cfg.replications, cfg.scale
    );
    println!("{t}");
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("outputs").join(&sc.name));
    let mut w = csv::Writer::from_writer(Vec::new());
    let internal = |e: csv::Error| Error::Internal(format!("csv encoding: {e}"));
    w.write_record([
        "id",
        "published",
        "simulated_mean",
        "ci_low",
        "ci_high",
        "tolerance",
        "pass",
    ])
    .map_err(internal)?;
    for r in &rows {
        w.write_record(r).map_err(internal)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| Error::Internal(format!("csv encoding: {e}")))?;
    report::write_all(&out, &[("check.csv", bytes)])?;
    let is_reference = |c: &&check::Checked| c.target.reference && c.simulated.is_some();
    let n_reference = checked.iter().filter(is_reference).count();
    let n_targets = checked.len() - n_reference;
    let passed = checked.iter().filter(|c| c.pass == Some(true)).count();
    eprintln!(
        "{passed} of {n_targets} targets pass ({n_reference} reference figures shown); wrote {}",
        out.join("check.csv").display()
    );
    Ok(if all_pass {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::EXIT_USER)
    })
}
