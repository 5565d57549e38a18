//! Break-even: the value of one parameter at which a metric of a proposal's
//! difference from the baseline equals a target.
//!
//! `f(x)` = mean paired difference of the metric at parameter value `x`,
//! minus the target. Every evaluation uses the same seeds (common random
//! numbers), so `f` is a deterministic function of `x` and bisection on a
//! sign change is safe. The answer's uncertainty is Monte Carlo noise:
//! the paired standard error of `f` at the root divided by the slope of `f`
//! there (a secant over a neighbourhood), by the delta method.
//!
//! **Architecture invariant:** solve only sets one parameter by path and
//! runs points through [`sweep::run_point`](crate::analysis::sweep::run_point).

use crate::analysis::sweep::{Baseline, MetricSel, Plan, run_baseline, run_point};
use crate::engine::runner::Prepared;
use crate::error::{Error, Result};

/// What to solve.
pub struct Problem<'a> {
    /// A plan with one path and no points: the proposal, `--set`, seeds.
    pub plan: &'a Plan,
    pub lo: f64,
    pub hi: f64,
    pub metric: MetricSel,
    pub target: f64,
    /// Stop when the bracket is narrower than this.
    pub tol: f64,
    pub max_iter: usize,
}

/// One evaluation of the metric's difference.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Eval {
    pub x: f64,
    pub mean: f64,
    pub se: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// The root, with its Monte Carlo standard error and the slope used.
    Found {
        x: f64,
        se: f64,
        slope: f64,
        at_root: Eval,
    },
    /// No sign change of f over the range: no value there reaches the target.
    NotInRange { lo: Eval, hi: Eval },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Solution {
    pub answer: Answer,
    /// Every evaluation, in order.
    pub evaluations: Vec<Eval>,
}

struct Evaluator<'a> {
    p: &'a Problem<'a>,
    base: Baseline,
    cell: usize,
    evals: Vec<Eval>,
}

impl Evaluator<'_> {
    fn at(&mut self, x: f64) -> Result<Eval> {
        let mut plan = self.p.plan.clone();
        plan.points = vec![vec![x]];
        let sc = plan.scenario_at(0)?;
        let (stats, _) = run_point(&Prepared::new(&sc), &self.base, &plan.cfg)?;
        let d = stats.delta[self.cell];
        let e = Eval {
            x,
            mean: d.mean - self.p.target,
            se: d.se,
        };
        self.evals.push(e);
        Ok(e)
    }
}

/// Brackets the root in `[lo, hi]` and bisects.
pub fn solve(p: &Problem) -> Result<Solution> {
    if p.plan.paths.len() != 1 {
        return Err(Error::Internal("solve varies exactly one parameter".into()));
    }
    if p.lo >= p.hi || p.lo.is_nan() || p.hi.is_nan() {
        return Err(Error::Invalid(format!(
            "the range {} .. {} is empty; give low < high",
            p.lo, p.hi
        )));
    }
    p.plan.cfg.validate()?;
    let mut base_plan = p.plan.clone();
    base_plan.points = vec![vec![p.lo]];
    // Validate both ends before simulating anything.
    base_plan.scenario_at(0)?;
    base_plan.points = vec![vec![p.hi]];
    base_plan.scenario_at(0)?;
    let base_sc = p.plan.baseline_scenario()?;
    let first = base_plan.scenario_at(0)?;
    let base = run_baseline(&Prepared::new(&base_sc), &p.plan.cfg, &first)?;
    let cell = p.metric.cell(&base.layout)?;
    let mut ev = Evaluator {
        p,
        base,
        cell,
        evals: Vec::new(),
    };
    let (mut a, mut b) = (ev.at(p.lo)?, ev.at(p.hi)?);
    if !(a.mean.is_finite() && b.mean.is_finite()) {
        return Err(Error::Invalid(format!(
            "metric `{}` is undefined at an end of the range",
            p.metric
        )));
    }
    if a.mean.signum() == b.mean.signum() && a.mean != 0.0 && b.mean != 0.0 {
        return Ok(Solution {
            answer: Answer::NotInRange { lo: a, hi: b },
            evaluations: ev.evals,
        });
    }
    let mut iter = 0;
    while (b.x - a.x).abs() > p.tol && iter < p.max_iter && a.mean != 0.0 && b.mean != 0.0 {
        let m = ev.at(0.5 * (a.x + b.x))?;
        if m.mean == 0.0 || m.mean.signum() == a.mean.signum() {
            a = m;
        } else {
            b = m;
        }
        iter += 1;
    }
    // The root by linear interpolation within the final bracket.
    let x = if a.mean == 0.0 {
        a.x
    } else if b.mean == 0.0 || a.mean == b.mean {
        b.x
    } else {
        a.x - a.mean * (b.x - a.x) / (b.mean - a.mean)
    };
    let at_root = ev.at(x)?;
    // Slope from a neighbourhood wide enough to see past the steps that
    // whole persons make in f: 5 % of the range on each side.
    let h = 0.05 * (p.hi - p.lo);
    let (l, r) = ((x - h).max(p.lo), (x + h).min(p.hi));
    let (fl, fr) = (ev.at(l)?, ev.at(r)?);
    let slope = (fr.mean - fl.mean) / (r - l);
    let se = if slope != 0.0 {
        at_root.se / slope.abs()
    } else {
        f64::INFINITY
    };
    Ok(Solution {
        answer: Answer::Found {
            x,
            se,
            slope,
            at_root,
        },
        evaluations: ev.evals,
    })
}
