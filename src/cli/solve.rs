//! `fleksim solve PROPOSAL --vary PATH --target METRIC=VALUE`

use std::process::ExitCode;
use std::time::Instant;

use fleksim::analysis::solve::{self, Answer, Problem};
use fleksim::analysis::sweep::MetricSel;
use fleksim::{Error, Result};

use super::args::SolveArgs;
use super::sweep::setup;

/// Exit status when no value in the range reaches the target.
pub const EXIT_NO_SOLUTION: u8 = 3;

pub fn solve(a: SolveArgs) -> Result<ExitCode> {
    if a.plan.shard.shard.is_some() || a.plan.shard.mpi {
        return Err(Error::Invalid(
            "solve bisects one point after another and cannot be split into shards; run it whole"
                .into(),
        ));
    }
    let mut s = setup(&a.plan, "solve")?;
    let (metric, target) = a
        .target
        .rsplit_once('=')
        .ok_or_else(|| Error::Invalid(format!("--target `{}` is not METRIC=VALUE", a.target)))?;
    let metric: MetricSel = metric.parse().map_err(Error::Invalid)?;
    let target: f64 = target
        .trim()
        .parse()
        .ok()
        .filter(|x: &f64| x.is_finite())
        .ok_or_else(|| Error::Invalid(format!("--target: `{target}` is not a number")))?;
    let (lo, hi) = match &a.range {
        Some(r) => {
            let (_, lo, hi) = fleksim::analysis::sweep::parse_range(&format!("x={r}"))
                .map_err(|e| Error::Invalid(format!("--range: {e}")))?;
            (lo, hi)
        }
        None => {
            let u = s
                .proposal
                .uncertain
                .iter()
                .find(|u| u.path == a.vary)
                .ok_or_else(|| {
                    Error::Invalid(format!(
                        "give --range LOW:HIGH: `{}` has no [uncertainty] range in {}",
                        a.vary,
                        a.plan.proposal.display()
                    ))
                })?;
            (u.low, u.high)
        }
    };
    s.plan.paths = vec![a.vary.clone()];
    let tol = a.tol.unwrap_or((hi - lo) / 1000.0);
    if tol.is_nan() || tol <= 0.0 {
        return Err(Error::Invalid("--tol must be above 0".into()));
    }
    let problem = Problem {
        plan: &s.plan,
        lo,
        hi,
        metric: metric.clone(),
        target,
        tol,
        max_iter: a.max_iter,
    };
    let clock = Instant::now();
    let sol = s.pool.install(|| solve::solve(&problem))?;
    let elapsed = clock.elapsed().as_secs_f64();
    if !a.plan.quiet {
        let mut t = comfy_table::Table::new();
        t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
        t.set_header(vec![
            a.vary.clone(),
            format!("Δ {metric} − target"),
            "paired SE".into(),
        ]);
        for e in &sol.evaluations {
            t.add_row(vec![
                format!("{}", e.x),
                format!("{:.6e}", e.mean),
                format!("{:.3e}", e.se),
            ]);
        }
        println!("{t}");
    }
    let n = sol.evaluations.len();
    match sol.answer {
        Answer::Found { x, se, slope, .. } => {
            let t = statrs_t(s.plan.cfg.replications);
            println!(
                "{} = {x:.6} reaches Δ {metric} = {target} (Monte Carlo SE {se:.2e}, 95 % interval {:.6} to {:.6}; slope {slope:.4e} per unit; {n} evaluations, {elapsed:.1} s)",
                a.vary,
                x - t * se,
                x + t * se
            );
            Ok(ExitCode::SUCCESS)
        }
        Answer::NotInRange { lo, hi } => {
            println!(
                "no value of {} in {} .. {} reaches Δ {metric} = {target}: the difference minus the target is {:.6e} at {} and {:.6e} at {} (same sign)",
                a.vary, lo.x, hi.x, lo.mean, lo.x, hi.mean, hi.x
            );
            Ok(ExitCode::from(EXIT_NO_SOLUTION))
        }
    }
}

/// The two-sided 95 % Student t quantile for the paired SE.
fn statrs_t(replications: u32) -> f64 {
    fleksim::engine::stats::t975(u64::from(replications))
}
