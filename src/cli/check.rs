//! `fleksim check [SCENARIO]`

use std::path::Path;
use std::process::ExitCode;
use std::time::{Instant, SystemTime};

use fleksim::analysis::check::{self, Checked, Checker, Kind, Role, Target};
use fleksim::engine::results::Layout;
use fleksim::engine::runner::{self, Prepared};
use fleksim::engine::stats::CellStats;
use fleksim::output::manifest::{Input, Manifest};
use fleksim::{Error, Result};

use super::args::CheckArgs;
use super::fmt;

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

/// A value in the target's unit, without the unit.
fn bare(tg: &Target, x: f64) -> String {
    match tg.kind {
        Kind::Share if tg.published.1 < 0.05 => fmt::num(x * 100.0, 2),
        Kind::Share => fmt::num(x * 100.0, 1),
        Kind::Money => fmt::num(x, 2),
        Kind::Count => fmt::num(x, 0),
    }
}

/// The unit after a value: ` %`, ` bn` or nothing.
fn unit(tg: &Target) -> &'static str {
    match tg.kind {
        Kind::Share => " %",
        Kind::Money => " bn",
        Kind::Count => "",
    }
}

fn published(tg: &Target) -> String {
    let (lo, hi) = tg.published;
    if lo == hi {
        format!("{}{}", bare(tg, lo), unit(tg))
    } else {
        format!("{}–{}{}", bare(tg, lo), bare(tg, hi), unit(tg))
    }
}

/// The tolerance as shown: relative, or the share rule's allowance at the
/// published value.
fn tolerance(tg: &Target) -> String {
    match tg.kind {
        Kind::Share => format!("±{}", fmt::num(tg.allowance(1.0) * 100.0, 2)),
        Kind::Count | Kind::Money => format!("±{}", fmt::num(tg.tolerance * 100.0, 0)),
    }
}

/// An id broken at its dots into lines of at most 16 characters.
fn id_lines(id: &str) -> String {
    let mut out = String::new();
    let mut line = 0;
    for (i, part) in id.split('.').enumerate() {
        let piece = if i == 0 {
            part.to_string()
        } else {
            format!(".{part}")
        };
        let n = piece.chars().count();
        if line > 0 && line + n > 16 {
            out.push('\n');
            line = 0;
        }
        out.push_str(&piece);
        line += n;
    }
    out
}

/// The simulated value with its CI, and its distance from the figure.
fn simulated(tg: &Target, s: &CellStats) -> (String, String) {
    let d = tg.distance(s.mean);
    let diff = match tg.kind {
        Kind::Share => format!("{} pp ({})", fmt::signed(d * 100.0, 2), tolerance(tg)),
        Kind::Count | Kind::Money => {
            let bound = if d < 0.0 {
                tg.published.0
            } else {
                tg.published.1
            };
            format!(
                "{} % ({})",
                fmt::signed(d / bound.abs().max(1e-9) * 100.0, 1),
                tolerance(tg)
            )
        }
    };
    // Student t intervals are symmetric: mean ± half-width.
    let sim = if s.se.is_nan() {
        format!("{}{}", bare(tg, s.mean), unit(tg))
    } else {
        format!(
            "{} ± {}{}",
            bare(tg, s.mean),
            bare(tg, (s.ci_high - s.ci_low) / 2.0),
            unit(tg)
        )
    };
    (sim, diff)
}

/// The result column: pass, FAIL (fails the exit status), miss (reported
/// only), or `ref.`/`n/m` with the reason as a numbered note below the table.
fn result(c: &Checked, notes: &mut Vec<String>) -> String {
    let tg = &c.target;
    let mut note = |text: String| {
        notes.push(format!("{}: {text}", tg.id));
        format!("[{}]", notes.len())
    };
    match (&c.simulated, c.pass) {
        (Some(_), Some(true)) => "pass".into(),
        (Some(_), Some(false)) if tg.gates_exit() => "FAIL".into(),
        (Some(_), Some(false)) => "miss".into(),
        (Some(_), None) => format!("ref. {}", note(format!("reference: {}", tg.reason))),
        _ => format!(
            "n/m {}",
            note(format!(
                "not measured: {}",
                check::not_measured_reason(tg)
                    .unwrap_or("the measure lies outside the simulated period")
            ))
        ),
    }
}

pub fn check(a: CheckArgs) -> Result<ExitCode> {
    let start_time = SystemTime::now();
    let loaded = super::load(a.scenario.as_deref(), &a.sim.set)?;
    let mut sc = loaded.scenario;
    let (cfg, pool) = super::setup(&a.sim, std::slice::from_mut(&mut sc))?;
    let (targets, targets_input) = match &a.targets {
        Some(p) => {
            // load_targets refuses what is not a regular file; read it
            // again (as safely) only for the manifest's hash.
            let targets = check::load_targets(p)?;
            let text = fleksim::scenario::read_input(p).map_err(|source| Error::Io {
                action: "cannot read",
                path: p.clone(),
                source,
            })?;
            (
                targets,
                Input::text("targets", &p.display().to_string(), &text),
            )
        }
        None => (
            check::parse_targets(Path::new("<embedded>/targets.toml"), check::TARGETS_TOML)?,
            Input::text("targets", "<embedded>/targets.toml", check::TARGETS_TOML),
        ),
    };
    let layout = Layout::for_scenario(&sc, sc.horizon);
    let mut checker = Checker::new(targets, &layout);
    let prepared = Prepared::new(&sc);
    let clock = Instant::now();
    let (mut job, dest, out) = super::shard::launch(
        &a.shard,
        "check",
        a.out.as_deref(),
        a.force,
        &sc.name,
        start_time,
    )?;
    let settings = super::shard::settings("check", &[&sc], &cfg, "");
    let whole = job.is_whole();
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
    let elapsed = clock.elapsed().as_secs_f64();
    if let Some(code) = job.finish(pool.current_num_threads(), res.person_quarters)? {
        return Ok(code);
    }
    if !whole {
        dest.check()?;
    }
    let checked = checker.finish();

    println!(
        "{}",
        fmt::wrap(
            &format!(
                "`{}` against the published figures ({} replications, scale {})",
                sc.name, cfg.replications, cfg.scale
            ),
            "",
            fmt::WIDTH as usize
        )
    );
    let mut summary = Vec::new();
    for role in Role::ALL {
        let group: Vec<&Checked> = checked.iter().filter(|c| c.target.role == role).collect();
        if group.is_empty() {
            continue;
        }
        let mut t = fmt::table(
            vec![
                "id",
                "published",
                "simulated ± 95 % CI",
                "diff. (tolerance)",
                "result",
            ],
            &[1, 2, 3],
        );
        let mut notes = Vec::new();
        for c in &group {
            let tg = &c.target;
            let (sim, diff) = c
                .simulated
                .as_ref()
                .map_or(("-".into(), format!("- ({})", tolerance(tg))), |s| {
                    simulated(tg, s)
                });
            t.add_row(vec![
                id_lines(&tg.id),
                published(tg),
                sim,
                diff,
                result(c, &mut notes),
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
        println!("{}", fmt::wrap(heading(role), "", fmt::WIDTH as usize));
        println!("{t}");
        for (i, n) in notes.iter().enumerate() {
            println!(
                "{}",
                fmt::wrap(n, &format!("[{}] ", i + 1), fmt::WIDTH as usize)
            );
        }
        let line = if role == Role::Reference {
            format!("{}: {} shown", role.id(), group.len())
        } else {
            let mut line = format!("{}: {} of {} pass", role.id(), passed.len(), group.len());
            if !missed.is_empty() {
                line.push_str(&format!("; missed: {}", missed.join(", ")));
            }
            line
        };
        println!("{}", fmt::wrap(&line, "", fmt::WIDTH as usize));
        summary.push(line);
    }
    println!("(descriptions and sources of every target: check.csv)");

    let mut manifest = Manifest::new("check", start_time).with_scenario(
        "scenario",
        &super::input_path(a.scenario.as_deref()),
        &sc,
        &loaded.sources,
    );
    manifest.inputs.push(targets_input);
    manifest.seed = cfg.seed;
    manifest.replications = cfg.replications;
    manifest.scale = cfg.scale;
    manifest.threads = pool.current_num_threads();
    manifest.elapsed_seconds = elapsed;
    let out = dest.publish(&[
        ("check.csv", check_csv(&checked)?),
        ("manifest.json", manifest.to_json()?),
    ])?;
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
        ExitCode::from(super::EXIT_NO)
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
