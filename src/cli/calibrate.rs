//! `fleksim calibrate SCENARIO --free PATH... --out FILE`

use std::path::Path;
use std::process::ExitCode;
use std::time::SystemTime;

use fleksim::analysis::calibrate::{self, Evaluation};
use fleksim::analysis::check;
use fleksim::{Error, Result};

use super::args::CalibrateArgs;
use super::fmt;

pub fn calibrate(a: CalibrateArgs) -> Result<ExitCode> {
    // Validate the options (and --quarters is not meaningful here).
    if a.sim.quarters.is_some() {
        return Err(Error::Invalid(
            "--quarters does not apply to calibrate: the targets need the scenario's own horizon"
                .into(),
        ));
    }
    let mut probe = vec![super::load(Some(&a.scenario), &a.sim.set)?.scenario];
    let (cfg, pool) = super::setup(&a.sim, &mut probe)?;
    let targets = match &a.targets {
        Some(p) => check::load_targets(p)?,
        None => check::parse_targets(Path::new("<embedded>/targets.toml"), check::TARGETS_TOML)?,
    };
    let n_fitted = targets
        .iter()
        .filter(|t| t.role == check::Role::Fitted)
        .count();
    eprintln!(
        "calibrating {} free parameter(s) of {} to {n_fitted} fitted target(s) of {} ({} replications, scale {}, seed {}, at most {} iterations)",
        a.free.len(),
        a.scenario.display(),
        targets.len(),
        cfg.replications,
        cfg.scale,
        cfg.seed,
        a.max_iters
    );
    if a.out.exists() && !a.force {
        return Err(Error::Invalid(format!(
            "--out {}: the file exists; name a new file or add --force to replace it",
            a.out.display()
        )));
    }
    let pb = super::progress::spinner("calibrating");
    let fit = pool.install(|| {
        calibrate::calibrate_with(
            &a.scenario,
            &a.free,
            &targets,
            &cfg,
            &a.sim.set,
            a.max_iters,
            &|n, objective| {
                pb.set_message(format!("{n} evaluations, objective {objective:.4}"));
            },
        )
    });
    pb.finish_and_clear();
    let fit = fit?;

    let mut t = fmt::table(vec!["free parameter", "before", "after"], &[1, 2]);
    for (i, p) in fit.paths.iter().enumerate() {
        t.add_row(vec![
            p.clone(),
            fmt::param(fit.before.values[i], 6),
            fmt::param(fit.after.values[i], 6),
        ]);
    }
    println!("{t}");
    let mut t = fmt::table(vec!["target", "published", "before", "after"], &[1, 2, 3]);
    for (b, f) in fit.before.checked.iter().zip(&fit.after.checked) {
        let (Some(sb), Some(sf)) = (b.simulated, f.simulated) else {
            continue;
        };
        let t_ = &b.target;
        let show = |x: f64| {
            if t_.is_share() {
                format!("{} %", fmt::num(x * 100.0, 1))
            } else {
                fmt::num(x, 0)
            }
        };
        let mark = |p: Option<bool>| match p {
            Some(true) => "pass",
            _ if t_.role == check::Role::Reference => "ref.",
            _ => "FAIL",
        };
        let (lo, hi) = t_.published;
        let published = if lo == hi {
            show(lo)
        } else {
            format!("{} to {}", show(lo), show(hi))
        };
        t.add_row(vec![
            t_.id.clone(),
            published,
            format!("{} {}", show(sb.mean), mark(b.pass)),
            format!("{} {}", show(sf.mean), mark(f.pass)),
        ]);
    }
    println!("{t}");
    let passes = |e: &Evaluation| e.checked.iter().filter(|c| c.pass == Some(true)).count();
    println!(
        "objective {:.4} -> {:.4}; targets passing {} -> {} of {} ({} evaluations)",
        fit.before.objective,
        fit.after.objective,
        passes(&fit.before),
        passes(&fit.after),
        fit.after.checked.len(),
        fit.evaluations
    );

    let text = fleksim::scenario::read_input(&a.scenario).map_err(|source| Error::Io {
        action: "cannot read",
        path: a.scenario.clone(),
        source,
    })?;
    let mut record = format!(
        "Calibrated by fleksim {} `calibrate` on {} from {}:\n",
        env!("CARGO_PKG_VERSION"),
        humantime::format_rfc3339_seconds(SystemTime::now()),
        a.scenario.display()
    );
    for (i, p) in fit.paths.iter().enumerate() {
        let after = calibrate::round(fit.after.values[i]);
        record.push_str(&format!("  {p}: {} -> {after}\n", fit.before.values[i]));
    }
    record.push_str(&format!(
        "objective {:.4} -> {:.4} (squared distance to the targets in tolerance units); seed {}, {} replications, scale {}; {} evaluations",
        fit.before.objective, fit.after.objective, cfg.seed, cfg.replications, cfg.scale, fit.evaluations
    ));
    let fitted = calibrate::write_fitted(&text, &fit, &record)?;
    let dir = a
        .out
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = a
        .out
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| Error::Invalid(format!("--out {}: not a file name", a.out.display())))?;
    fleksim::output::publish::write_file(dir, name, fitted.as_bytes())?;
    eprintln!("wrote {}", a.out.display());
    Ok(ExitCode::SUCCESS)
}
