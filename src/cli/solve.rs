//! `fleksim solve PROPOSAL --vary PATH --target METRIC=VALUE`

use std::process::ExitCode;
use std::time::Instant;

use fleksim::analysis::solve::{self, Answer, Problem};
use fleksim::analysis::sweep::MetricSel;
use fleksim::{Error, Result};

use fleksim::output::report::{csv_bytes, num};

use super::args::SolveArgs;
use super::fmt;
use super::sweep::setup;

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
    let pb = super::progress::spinner("solving");
    pb.set_message(format!("bisecting {}", a.vary));
    let sol = s.pool.install(|| solve::solve(&problem));
    pb.finish_and_clear();
    let sol = sol?;
    let elapsed = clock.elapsed().as_secs_f64();
    // Money in DKK m, other metrics as they are.
    let (div, unit) = if metric.id.starts_with("pv.") || metric.id.starts_with("cost.") {
        (1e6, " (DKK m)")
    } else {
        (1.0, "")
    };
    let value = |x: f64| fmt::param(x, 6);
    let diff = |x: f64| fmt::num(x / div, if div > 1.0 { 1 } else { 3 });
    if !a.plan.quiet {
        let mut t = fmt::table(
            vec![
                a.vary.clone(),
                format!("Δ {metric} − target{unit}"),
                format!("paired SE{unit}"),
            ],
            &[0, 1, 2],
        );
        for e in &sol.evaluations {
            t.add_row(vec![value(e.x), diff(e.mean), diff(e.se)]);
        }
        println!("{t}");
    }
    let mut manifest = s.manifest.clone();
    manifest.end_time = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    manifest.elapsed_seconds = elapsed;
    manifest.set("parameter", &a.vary);
    manifest.set("range", [lo, hi]);
    manifest.set("target", &a.target);
    manifest.set("tol", tol);
    manifest.set("max_iter", a.max_iter);
    let rows = sol.evaluations.iter().enumerate().map(|(i, e)| {
        vec![
            i.to_string(),
            a.vary.clone(),
            num(e.x),
            metric.to_string(),
            num(target),
            num(e.mean),
            num(e.se),
        ]
    });
    let csv = csv_bytes(
        &[
            "evaluation",
            "parameter",
            "value",
            "metric",
            "target",
            "delta_minus_target",
            "se",
        ],
        rows,
    )?;
    let n = sol.evaluations.len();
    let (line, code) = match sol.answer {
        Answer::Found { x, se, slope, .. } => {
            let t = statrs_t(s.plan.cfg.replications);
            manifest.set("answer", x);
            manifest.set("answer_se", se);
            (
                format!(
                    "{} = {} reaches Δ {metric} = {} (Monte Carlo SE {}, 95 % interval {} to {}; slope {} per unit; {n} evaluations, {elapsed:.1} s)",
                    a.vary,
                    fmt::param(x, 6),
                    fmt::plain(target, 6),
                    fmt::plain(se, 2),
                    fmt::param(x - t * se, 6),
                    fmt::param(x + t * se, 6),
                    fmt::plain(slope, 4)
                ),
                ExitCode::SUCCESS,
            )
        }
        Answer::NotInRange { lo, hi } => (
            format!(
                "no value of {} in {} .. {} reaches Δ {metric} = {}: the difference minus the target is {}{unit} at {} and {}{unit} at {} (same sign)",
                a.vary,
                value(lo.x),
                value(hi.x),
                fmt::plain(target, 6),
                diff(lo.mean),
                value(lo.x),
                diff(hi.mean),
                value(hi.x)
            ),
            ExitCode::from(super::EXIT_NO),
        ),
    };
    let out = s
        .dest
        .publish(&[("solve.csv", csv), ("manifest.json", manifest.to_json()?)])?;
    println!("{}", fmt::wrap(&line, "", fmt::WIDTH as usize));
    eprintln!("wrote {}", out.join("solve.csv").display());
    Ok(code)
}

/// The two-sided 95 % Student t quantile for the paired SE.
fn statrs_t(replications: u32) -> f64 {
    fleksim::engine::stats::t975(u64::from(replications))
}
