//! Fitting free parameters to the published figures: `fleksim calibrate`.
//!
//! Only targets with role `fitted` take part: held-out figures, input
//! echoes and references are never evaluated, so a fit cannot be drawn
//! towards the evidence it is later checked against.
//! The objective is the weighted squared distance of every measured fitted
//! target from its published value, each distance divided by the target's
//! tolerance (so a target at the edge of its tolerance contributes 1, and a
//! published range contributes nothing inside it). Every evaluation runs the
//! same replications with the same seed (common random numbers), so the
//! objective is a smooth, deterministic function of the parameters, and
//! Nelder-Mead (argmin) searches it. A parameter set that breaks a scenario
//! rule (a probability above 1, a row summing above 1) gets a large cost.
//!
//! **Architecture invariant:** calibrate only sets parameters by path and
//! runs the ordinary engine; it never reaches into kernel internals.

use std::cell::RefCell;
use std::path::Path;

use argmin::core::{CostFunction, Executor, State};
use argmin::solver::neldermead::NelderMead;

use crate::analysis::check::{Checked, Checker, Role, Target};
use crate::engine::results::Layout;
use crate::engine::runner::{self, Prepared, RunConfig};
use crate::error::{Error, Result};
use crate::scenario::{self, Override};

/// The cost of a parameter set the scenario rules reject.
const INVALID: f64 = 1e12;

/// One evaluation: the parameters and the targets they give.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub values: Vec<f64>,
    pub objective: f64,
    pub checked: Vec<Checked>,
}

/// The result of a fit.
#[derive(Debug, Clone)]
pub struct Fit {
    pub paths: Vec<String>,
    pub before: Evaluation,
    pub after: Evaluation,
    pub evaluations: usize,
}

/// Weighted squared distance of the measured fitted targets from the
/// published figures (other roles contribute nothing).
pub fn objective(checked: &[Checked]) -> f64 {
    checked
        .iter()
        .filter(|c| c.target.role == Role::Fitted)
        .filter_map(|c| {
            let s = c.simulated?;
            let d = c.target.distance(s.mean);
            Some((d / c.target.allowance(d).max(1e-12)).powi(2))
        })
        .sum()
}

struct Problem<'a> {
    path: &'a Path,
    paths: &'a [String],
    targets: &'a [Target],
    cfg: &'a RunConfig,
    extra: &'a [Override],
    evaluations: RefCell<usize>,
    tick: &'a dyn Fn(usize, f64),
}

impl Problem<'_> {
    fn evaluate(&self, values: &[f64]) -> Result<Evaluation> {
        *self.evaluations.borrow_mut() += 1;
        let mut overrides = self.extra.to_vec();
        overrides.extend(
            self.paths
                .iter()
                .zip(values)
                .map(|(p, &v)| (p.clone(), toml::Value::Float(v))),
        );
        let sc = match scenario::load_with(Some(self.path), &overrides) {
            Ok(l) => l.scenario,
            Err(_) => {
                return Ok(Evaluation {
                    values: values.to_vec(),
                    objective: INVALID,
                    checked: Vec::new(),
                });
            }
        };
        let layout = Layout::for_scenario(&sc, sc.horizon);
        let mut checker = Checker::new(self.targets.to_vec(), &layout);
        runner::run_each(&Prepared::new(&sc), self.cfg, &|| {}, &mut |v| {
            checker.add(v)
        })?;
        let checked = checker.finish();
        let objective = objective(&checked);
        (self.tick)(*self.evaluations.borrow(), objective);
        Ok(Evaluation {
            values: values.to_vec(),
            objective,
            checked,
        })
    }
}

impl CostFunction for Problem<'_> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, p: &Vec<f64>) -> std::result::Result<f64, argmin::core::Error> {
        self.evaluate(p)
            .map(|e| e.objective)
            .map_err(|e| argmin::core::Error::msg(e.to_string()))
    }
}

/// The current value of each free parameter in the scenario's merged document.
pub fn initial_values(path: &Path, paths: &[String], extra: &[Override]) -> Result<Vec<f64>> {
    let loaded = scenario::load_with(Some(path), extra)?;
    let doc: toml::Value = toml::from_str(&loaded.canonical)
        .map_err(|e| Error::Internal(format!("canonical scenario: {e}")))?;
    paths
        .iter()
        .map(|p| {
            scenario::lookup_number(&doc, p).ok_or_else(|| {
                Error::Invalid(format!(
                    "--free {p}: no number at that path in {}",
                    path.display()
                ))
            })
        })
        .collect()
}

/// Fits the free parameters at `paths` of the scenario file at `path` to
/// the `fitted` ones among `targets`.
pub fn calibrate(
    path: &Path,
    paths: &[String],
    targets: &[Target],
    cfg: &RunConfig,
    extra: &[Override],
    max_iters: u64,
) -> Result<Fit> {
    calibrate_with(path, paths, targets, cfg, extra, max_iters, &|_, _| {})
}

/// [`calibrate`], calling `tick(evaluations so far, objective)` after each
/// evaluation (progress).
pub fn calibrate_with(
    path: &Path,
    paths: &[String],
    targets: &[Target],
    cfg: &RunConfig,
    extra: &[Override],
    max_iters: u64,
    tick: &dyn Fn(usize, f64),
) -> Result<Fit> {
    if paths.is_empty() {
        return Err(Error::Invalid(
            "give at least one --free parameter path".into(),
        ));
    }
    let fitted: Vec<Target> = targets
        .iter()
        .filter(|t| t.role == Role::Fitted)
        .cloned()
        .collect();
    if fitted.is_empty() {
        return Err(Error::Invalid(
            "the targets file has no target with role `fitted` to calibrate to".into(),
        ));
    }
    let start = initial_values(path, paths, extra)?;
    let problem = Problem {
        path,
        paths,
        targets: &fitted,
        cfg,
        extra,
        evaluations: RefCell::new(0),
        tick,
    };
    let before = problem.evaluate(&start)?;
    // Initial simplex: the start and, for each parameter, a 10 % step.
    let mut simplex = vec![start.clone()];
    for i in 0..start.len() {
        let mut p = start.clone();
        p[i] = if p[i] == 0.0 { 0.01 } else { p[i] * 1.1 };
        simplex.push(p);
    }
    let solver = NelderMead::new(simplex)
        .with_sd_tolerance(1e-6)
        .map_err(|e| Error::Internal(format!("optimiser: {e}")))?;
    let res = Executor::new(problem, solver)
        .configure(|s| s.max_iters(max_iters))
        .run()
        .map_err(|e| Error::Internal(format!("optimiser: {e}")))?;
    let best = res.state().get_best_param().cloned().unwrap_or(start);
    let problem = res.problem.problem.expect("the problem is returned");
    let after = problem.evaluate(&best)?;
    let evaluations = *problem.evaluations.borrow();
    Ok(Fit {
        paths: paths.to_vec(),
        before,
        after,
        evaluations,
    })
}

/// The scenario file's text with the fitted values written in place
/// (comments kept) and a comment at the top recording the fit.
pub fn write_fitted(text: &str, fit: &Fit, record: &str) -> Result<String> {
    let mut doc: toml_edit::DocumentMut = text
        .parse()
        .map_err(|e| Error::Invalid(format!("cannot edit the scenario file: {e}")))?;
    for (p, &v) in fit.paths.iter().zip(&fit.after.values) {
        set_in_place(&mut doc, p, v)?;
    }
    let mut header = String::new();
    for line in record.lines() {
        header.push_str("# ");
        header.push_str(line);
        header.push('\n');
    }
    Ok(format!("{header}\n{doc}"))
}

fn set_in_place(doc: &mut toml_edit::DocumentMut, path: &str, v: f64) -> Result<()> {
    if path.contains('[') {
        return Err(Error::Invalid(format!(
            "--free {path}: array elements cannot be calibrated in place"
        )));
    }
    let missing = || {
        Error::Invalid(format!(
            "--free {path}: the value is not written in this file (it comes from a file it extends); calibrate that file instead"
        ))
    };
    let mut item: &mut toml_edit::Item = doc.as_item_mut();
    for part in path.split('.') {
        item = item.get_mut(part).ok_or_else(missing)?;
    }
    let value = item.as_value_mut().ok_or_else(missing)?;
    let decor = value.decor().clone();
    let mut new = toml_edit::Value::from(round(v));
    *new.decor_mut() = decor;
    *value = new;
    Ok(())
}

/// Six significant digits: enough for any rate, and readable. Fitted values
/// are written (and recorded) at this precision.
pub fn round(v: f64) -> f64 {
    if v == 0.0 {
        return 0.0;
    }
    let digits = 6 - v.abs().log10().ceil() as i32;
    let f = 10f64.powi(digits);
    (v * f).round() / f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fitted_values_are_written_in_place_keeping_comments() {
        let text = "# head\n[a]\nx = 0.5   # why x\n[t.b]\nc = { under40 = 0.1, over40 = { \"2+\" = 0.3 } }  # why c\n";
        let fit = Fit {
            paths: vec!["a.x".into(), "t.b.c.over40.2+".into()],
            before: Evaluation {
                values: vec![0.5, 0.3],
                objective: 2.0,
                checked: vec![],
            },
            after: Evaluation {
                values: vec![0.612345678, 0.25],
                objective: 1.0,
                checked: vec![],
            },
            evaluations: 3,
        };
        let out = write_fitted(text, &fit, "fitted by test").unwrap();
        assert!(out.starts_with("# fitted by test\n"), "{out}");
        assert!(out.contains("x = 0.612346   # why x"), "{out}");
        assert!(out.contains("\"2+\" = 0.25"), "{out}");
        assert!(out.contains("# why c"), "{out}");
    }

    #[test]
    fn rounding_keeps_six_significant_digits() {
        assert_eq!(round(0.0123456789), 0.0123457);
        assert_eq!(round(12345.6789), 12345.7);
    }
}
