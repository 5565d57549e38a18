//! `fleksim check [SCENARIO]`

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use fleksim::analysis::check::{self, Checked, Checker, Kind, Role, Target};
use fleksim::engine::results::Layout;
use fleksim::engine::runner::{self, Prepared};
use fleksim::engine::stats::CellStats;
use fleksim::output::report;
use fleksim::{Error, Result};

use super::args::CheckArgs;

/// The heading of each role's table, in the order they are shown.
fn heading(role: Role) -> &'static str {
    match role {
        Role::Fitted => "Fitted: a parameter was calibrated to each, so a match is by construction",
        Role::HeldOut => {
            "Held out: nothing was set from these; the evidence (a miss is reported, and fails the exit status only for money)"
        }
        Role::Input => {
            "Input echoes: these measure what the model was given; shown, never evidence"
        }
        Role::Reference => "Reference figures: shown for comparison, neither pass nor fail",
    }
}

/// A value in the target's unit.
fn show(tg: &Target, x: f64) -> String {
    match tg.kind {
        Kind::Share if tg.published.1 < 0.05 => format!("{:.2} %", x * 100.0),
        Kind::Share => format!("{:.1} %", x * 100.0),
        Kind::Money => format!("{x:.2} bn"),
        Kind::Count => format!("{x:.0}"),
    }
}

fn published(tg: &Target) -> String {
    let (lo, hi) = tg.published;
    if lo == hi {
        show(tg, lo)
    } else {
        format!("{}-{}", show(tg, lo), show(tg, hi))
    }
}

/// The tolerance as shown: relative, or the share rule's allowance at the
/// published value.
fn tolerance(tg: &Target) -> String {
    match tg.kind {
        Kind::Share => format!("±{:.2} pp", tg.allowance(1.0) * 100.0),
        Kind::Count | Kind::Money => format!("±{:.0} %", tg.tolerance * 100.0),
    }
}

/// The simulated value with its CI, and its distance from the figure.
fn simulated(tg: &Target, s: &CellStats) -> (String, String) {
    let d = tg.distance(s.mean);
    let diff = match tg.kind {
        Kind::Share => format!("{:+.2} pp", d * 100.0),
        Kind::Count | Kind::Money => {
            let bound = if d < 0.0 {
                tg.published.0
            } else {
                tg.published.1
            };
            format!("{:+.1} %", d / bound.abs().max(1e-9) * 100.0)
        }
    };
    let sim = format!(
        "{} ({}–{})",
        show(tg, s.mean),
        show(tg, s.ci_low),
        show(tg, s.ci_high)
    );
    (sim, diff)
}

/// The result column: pass, FAIL (fails the exit status), miss (reported
/// only), a reference's reason, or why it is not measured.
fn result(c: &Checked) -> String {
    let tg = &c.target;
    match (&c.simulated, c.pass) {
        (Some(_), Some(true)) => "pass".into(),
        (Some(_), Some(false)) if tg.gates_exit() => "FAIL".into(),
        (Some(_), Some(false)) => "miss".into(),
        (Some(_), None) => format!("reference: {}", tg.reason),
        _ => format!(
            "not measured: {}",
            check::not_measured_reason(tg)
                .unwrap_or("the measure lies outside the simulated period")
        ),
    }
}

pub fn check(a: CheckArgs) -> Result<ExitCode> {
    let loaded = super::load(a.scenario.as_deref(), &a.sim.set)?;
    let mut sc = loaded.scenario;
    let (cfg, pool) = super::setup(&a.sim, std::slice::from_mut(&mut sc))?;
    let targets = match &a.targets {
        Some(p) => check::load_targets(p)?,
        None => check::parse_targets(Path::new("<embedded>/targets.toml"), check::TARGETS_TOML)?,
    };
    let layout = Layout::for_scenario(&sc, sc.horizon);
    let mut checker = Checker::new(targets, &layout);
    let prepared = Prepared::new(&sc);
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("outputs").join(&sc.name));
    let mut job = super::shard::Job::new(&a.shard, "check")?;
    let settings = super::shard::settings("check", &[&sc], &cfg, "");
    let pb = super::progress::replications(cfg.replications);
    let res = {
        let mut units = job.units(&out, cfg.replications, settings)?;
        pool.install(|| {
            runner::run_each_units(
                &prepared,
                &cfg,
                layout.clone(),
                &mut units,
                &|| pb.inc(1),
                &mut |v| checker.add(v),
            )
        })
    };
    pb.finish_and_clear();
    let res = res?;
    if let Some(code) = job.finish(pool.current_num_threads(), res.person_quarters)? {
        return Ok(code);
    }
    let checked = checker.finish();

    println!(
        "`{}` against the published figures ({} replications, scale {})",
        sc.name, cfg.replications, cfg.scale
    );
    let mut summary = Vec::new();
    for role in Role::ALL {
        let group: Vec<&Checked> = checked.iter().filter(|c| c.target.role == role).collect();
        if group.is_empty() {
            continue;
        }
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
        for c in &group {
            let tg = &c.target;
            let (sim, diff) = c
                .simulated
                .as_ref()
                .map_or(("-".into(), "-".into()), |s| simulated(tg, s));
            t.add_row(vec![
                tg.id.clone(),
                tg.description.clone(),
                published(tg),
                sim,
                diff,
                tolerance(tg),
                result(c),
            ]);
        }
        let passed: Vec<&str> = group
            .iter()
            .filter(|c| c.pass == Some(true))
            .map(|c| c.target.id.as_str())
            .collect();
        let missed: Vec<&str> = group
            .iter()
            .filter(|c| c.pass == Some(false))
            .map(|c| c.target.id.as_str())
            .collect();
        println!();
        println!("{}", heading(role));
        println!("{t}");
        let line = if role == Role::Reference {
            format!("{}: {} shown", role.id(), group.len())
        } else {
            let mut line = format!("{}: {} of {} pass", role.id(), passed.len(), group.len());
            if !missed.is_empty() {
                line.push_str(&format!("; missed: {}", missed.join(", ")));
            }
            line
        };
        println!("{line}");
        summary.push(line);
    }

    report::write_all(&out, &[("check.csv", check_csv(&checked)?)])?;
    let all_pass = checked
        .iter()
        .filter(|c| c.target.gates_exit())
        .all(|c| c.pass == Some(true));
    eprintln!(
        "{}; wrote {}",
        summary.join("; "),
        out.join("check.csv").display()
    );
    Ok(if all_pass {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::EXIT_USER)
    })
}

/// check.csv: one row per target.
fn check_csv(checked: &[Checked]) -> Result<Vec<u8>> {
    let internal = |e: csv::Error| Error::Internal(format!("csv encoding: {e}"));
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "id",
        "role",
        "kind",
        "description",
        "source",
        "refers_to",
        "published",
        "published_low",
        "published_high",
        "simulated_mean",
        "ci_low",
        "ci_high",
        "tolerance",
        "abs_tolerance",
        "tolerance_kind",
        "gates_exit",
        "pass",
    ])
    .map_err(internal)?;
    let num = |x: Option<f64>| {
        x.filter(|v| !v.is_nan())
            .map_or("NA".to_string(), |v| format!("{v}"))
    };
    for c in checked {
        let tg = &c.target;
        let (lo, hi) = tg.published;
        let s = c.simulated;
        w.write_record([
            tg.id.clone(),
            tg.role.id().to_string(),
            match tg.kind {
                Kind::Count => "count",
                Kind::Share => "share",
                Kind::Money => "money",
            }
            .to_string(),
            tg.description.clone(),
            tg.source.clone(),
            tg.refers_to.clone(),
            if lo == hi {
                format!("{lo}")
            } else {
                format!("{lo}-{hi}")
            },
            format!("{lo}"),
            format!("{hi}"),
            num(s.map(|s| s.mean)),
            num(s.map(|s| s.ci_low)),
            num(s.map(|s| s.ci_high)),
            format!("{}", tg.tolerance),
            format!("{}", tg.abs_tolerance),
            tg.tolerance_kind().to_string(),
            tg.gates_exit().to_string(),
            match c.pass {
                Some(true) => "pass",
                Some(false) => "fail",
                None if tg.role == Role::Reference && s.is_some() => "reference",
                None => "not_measured",
            }
            .to_string(),
        ])
        .map_err(internal)?;
    }
    w.into_inner()
        .map_err(|e| Error::Internal(format!("csv encoding: {e}")))
}
