//! `fleksim sensitivity PROPOSAL` and `fleksim uncertainty PROPOSAL`.

use std::process::ExitCode;

use fleksim::analysis::sweep::{self, MetricSel};
use fleksim::analysis::uncertainty::{self as unc, Summary, Swing};
use fleksim::output::report::{csv_bytes, num};
use fleksim::{Error, Result};

use super::args::{SensitivityArgs, UncertaintyArgs};
use super::fmt;
use super::sweep::{Setup, execute, setup};

/// The proposal's uncertain parameters, or an error saying how to add some.
fn uncertain(s: &Setup) -> Result<Vec<fleksim::scenario::Uncertain>> {
    if s.proposal.uncertain.is_empty() {
        return Err(Error::Invalid(format!(
            "`{}` marks no parameter as uncertain; add [uncertainty.<id>] tables with path, low, high and why (scenarios/README.md)",
            s.plan.proposal.display()
        )));
    }
    Ok(s.proposal.uncertain.clone())
}

/// Checks the metric against the layout before anything runs.
fn check_metric(s: &Setup, m: &MetricSel) -> Result<MetricSel> {
    let sc = &s.proposal;
    let layout = fleksim::engine::results::Layout::for_scenario(sc, sc.horizon);
    let cell = m.cell(&layout)?;
    let (id, _, period) = layout.cells[cell]
        .metric(&layout)
        .ok_or_else(|| Error::Internal("metric cell without id".into()))?;
    Ok(MetricSel {
        id,
        period: Some(period),
    })
}

pub fn sensitivity(a: SensitivityArgs) -> Result<ExitCode> {
    let mut s = setup(&a.plan, "sensitivity")?;
    let u = uncertain(&s)?;
    let metric = check_metric(&s, &a.metric)?;
    let (points, param, end) = unc::one_way_points(&u);
    s.plan.paths = u.iter().map(|p| p.path.clone()).collect();
    s.plan.points = points;
    s.plan.labels = vec![("parameter".into(), param), ("end".into(), end)];
    s.manifest.set("metric", metric.to_string());
    let tornado = std::cell::RefCell::new(Vec::new());
    let done = execute(&s, "sensitivity-points.csv", &|res| {
        let rows = sweep::parse_rows(&res.csv)?;
        let t = unc::tornado(&u, &rows, &metric);
        let csv = tornado_csv(&t, &metric)?;
        *tornado.borrow_mut() = t;
        Ok(vec![("sensitivity.csv".to_string(), csv)])
    })?;
    if done.is_none() {
        return Ok(ExitCode::SUCCESS);
    }
    if !a.plan.quiet {
        print_tornado(&tornado.borrow(), &metric, &s.proposal.name);
    }
    Ok(ExitCode::SUCCESS)
}

fn tornado_csv(t: &[Swing], metric: &MetricSel) -> Result<Vec<u8>> {
    csv_bytes(
        &[
            "rank",
            "parameter",
            "path",
            "low",
            "central",
            "high",
            "metric",
            "period",
            "delta_at_low",
            "se_at_low",
            "delta_at_central",
            "se_at_central",
            "delta_at_high",
            "se_at_high",
            "swing",
            "why",
        ],
        t.iter().enumerate().map(|(i, w)| {
            vec![
                (i + 1).to_string(),
                w.id.clone(),
                w.path.clone(),
                num(w.low),
                num(w.central),
                num(w.high),
                metric.id.clone(),
                metric.period.clone().unwrap_or_default(),
                num(w.at_low.0),
                num(w.at_low.1),
                num(w.at_central.0),
                num(w.at_central.1),
                num(w.at_high.0),
                num(w.at_high.1),
                num(w.swing),
                w.why.clone(),
            ]
        }),
    )
}

/// Divisor and unit for a metric in tables: money in DKK m.
fn scale_of(metric: &str) -> (f64, &'static str) {
    if metric.starts_with("pv.") || metric.starts_with("cost.") {
        (1e6, "DKK m")
    } else {
        (1.0, "")
    }
}

fn print_tornado(t: &[Swing], metric: &MetricSel, name: &str) {
    let (div, unit) = scale_of(&metric.id);
    let widest = t
        .iter()
        .flat_map(|w| [w.at_low.0 - w.at_central.0, w.at_high.0 - w.at_central.0])
        .filter(|x| x.is_finite())
        .fold(0.0f64, |m, x| m.max(x.abs()));
    let bar = |x: f64| {
        // 10 characters each side of the central value.
        let n = if widest > 0.0 && x.is_finite() {
            (x.abs() / widest * 10.0).round() as usize
        } else {
            0
        };
        if x < 0.0 {
            format!("{:>10}|{:10}", "█".repeat(n), "")
        } else {
            format!("{:>10}|{:<10}", "", "█".repeat(n))
        }
    };
    let unit_sp = if unit.is_empty() {
        String::new()
    } else {
        format!(", {unit}")
    };
    let pm = |(m, se): (f64, f64)| {
        format!(
            "{} ± {}",
            fmt::num(m / div, 1),
            fmt::num(1.96 * se / div, 1)
        )
    };
    let mut tab = fmt::table(
        vec![
            "parameter (low .. high)".to_string(),
            format!("Δ at low{unit_sp}"),
            format!("Δ at high{unit_sp}"),
            "swing".to_string(),
        ],
        &[1, 2, 3],
    );
    for w in t {
        tab.add_row(vec![
            format!(
                "{}\n{} .. {}",
                w.id,
                fmt::param(w.low, 4),
                fmt::param(w.high, 4)
            ),
            pm(w.at_low),
            pm(w.at_high),
            fmt::num(w.swing / div, 1),
        ]);
    }
    let c = t.first().map_or(f64::NAN, |w| w.at_central.0);
    println!(
        "{}",
        fmt::wrap(
            &format!(
                "One-way sensitivity of `{name}`: {metric} against the baseline, {}{} at the central values (± = 95 % Monte Carlo interval)",
                fmt::num(c / div, 1),
                if unit.is_empty() {
                    String::new()
                } else {
                    format!(" {unit}")
                }
            ),
            "",
            fmt::WIDTH as usize
        )
    );
    println!("{tab}");
    let name_w = t
        .iter()
        .map(|w| w.id.chars().count())
        .max()
        .unwrap_or(0)
        .min(34);
    let line = |s: String| println!("{}", s.trim_end());
    line(format!(
        "{:name_w$}  {:^21}  {:^21}",
        "", "low vs central", "high vs central"
    ));
    for w in t {
        let id: String = w.id.chars().take(name_w).collect();
        line(format!(
            "{id:name_w$}  {}  {}",
            bar(w.at_low.0 - w.at_central.0),
            bar(w.at_high.0 - w.at_central.0)
        ));
    }
}

pub fn uncertainty(a: UncertaintyArgs) -> Result<ExitCode> {
    if a.draws < 2 {
        return Err(Error::Invalid("--draws must be at least 2".into()));
    }
    fleksim::engine::budget::check_points(&format!("--draws {}", a.draws), a.draws as u128)?;
    let mut s = setup(&a.plan, "uncertainty")?;
    let u = uncertain(&s)?;
    let metric = check_metric(&s, &a.metric)?;
    s.plan.paths = u.iter().map(|p| p.path.clone()).collect();
    s.plan.points = unc::draw_points(&u, a.draws, s.plan.cfg.seed);
    s.manifest.set("metric", metric.to_string());
    s.manifest.set("draws", a.draws);
    let out = std::cell::RefCell::new((Vec::new(), Vec::new()));
    let points = s.plan.points.clone();
    let done = execute(&s, "uncertainty.csv", &|res| {
        let rows = sweep::parse_rows(&res.csv)?;
        let summaries = unc::summarize(&rows);
        let drivers = unc::drivers(&u, &points, &rows);
        let files = vec![
            (
                "uncertainty-summary.csv".to_string(),
                summary_csv(&summaries)?,
            ),
            (
                "uncertainty-drivers.csv".to_string(),
                drivers_csv(&drivers)?,
            ),
        ];
        *out.borrow_mut() = (summaries, drivers);
        Ok(files)
    })?;
    if done.is_none() {
        return Ok(ExitCode::SUCCESS);
    }
    if !a.plan.quiet {
        let (summaries, drivers) = &*out.borrow();
        print_uncertainty(summaries, drivers, &metric, &s.proposal.name, a.draws);
    }
    Ok(ExitCode::SUCCESS)
}

fn summary_csv(s: &[Summary]) -> Result<Vec<u8>> {
    csv_bytes(
        &[
            "metric",
            "period",
            "draws",
            "delta_mean",
            "delta_p2_5",
            "delta_p50",
            "delta_p97_5",
            "sd_total",
            "sd_parameters",
            "mc_se",
            "prob_below_zero",
            "prob_significantly_below_zero",
        ],
        s.iter().map(|x| {
            vec![
                x.metric.clone(),
                x.period.clone(),
                x.draws.to_string(),
                num(x.mean),
                num(x.p2_5),
                num(x.p50),
                num(x.p97_5),
                num(x.sd_total),
                num(x.sd_parameters),
                num(x.mc_se),
                num(x.prob_below_zero),
                num(x.prob_significantly_below_zero),
            ]
        }),
    )
}

fn drivers_csv(d: &[unc::Driver]) -> Result<Vec<u8>> {
    csv_bytes(
        &["metric", "period", "parameter", "spearman"],
        d.iter().map(|x| {
            vec![
                x.metric.clone(),
                x.period.clone(),
                x.id.clone(),
                num(x.spearman),
            ]
        }),
    )
}

fn print_uncertainty(
    summaries: &[Summary],
    drivers: &[unc::Driver],
    metric: &MetricSel,
    name: &str,
    draws: usize,
) {
    let mut t = fmt::table(
        vec![
            "metric",
            "Δ mean",
            "95 % of draws",
            "sd par.",
            "sd MC",
            "P(Δ<0)",
        ],
        &[1, 2, 3, 4, 5],
    );
    let wanted = [
        metric.clone(),
        MetricSel {
            id: "pv.total.state".into(),
            period: Some("pv".into()),
        },
        MetricSel {
            id: "pv.total.municipality".into(),
            period: Some("pv".into()),
        },
        MetricSel {
            id: "pv.total.all".into(),
            period: Some("pv".into()),
        },
    ];
    let mut shown: Vec<&MetricSel> = Vec::new();
    for m in &wanted {
        if shown.contains(&m) {
            continue;
        }
        shown.push(m);
        if let Some(s) = summaries
            .iter()
            .find(|s| s.metric == m.id && m.period.as_ref().is_none_or(|p| *p == s.period))
        {
            let (div, unit) = scale_of(&s.metric);
            let f = |x: f64| fmt::num(x / div, 1);
            let label = match (s.metric.as_str(), s.period.as_str()) {
                ("pv.total.all", "pv") => "PV, all".to_string(),
                ("pv.total.state", "pv") => "PV, state".to_string(),
                ("pv.total.municipality", "pv") => "PV, municipalities".to_string(),
                (m, p) => format!("{m}@{p}"),
            };
            let label = if unit.is_empty() {
                label
            } else {
                format!("{label}, {unit}")
            };
            t.add_row(vec![
                label,
                f(s.mean),
                format!("[{}; {}]", f(s.p2_5), f(s.p97_5)),
                f(s.sd_parameters),
                f(s.mc_se),
                format!("{:.3}", s.prob_below_zero),
            ]);
        }
    }
    println!(
        "{}",
        fmt::wrap(
            &format!(
                "Uncertainty of `{name}` against the baseline over {draws} parameter draws (sd par.: spread due to the parameters; sd MC: Monte Carlo noise)"
            ),
            "",
            fmt::WIDTH as usize
        )
    );
    println!("{t}");
    if let Some(s) = summaries
        .iter()
        .find(|s| s.metric == "pv.total.all" && s.period == "pv")
    {
        println!(
            "{}",
            fmt::wrap(
                &format!(
                    "Probability that the proposal lowers total public expenditure (present value): {:.3} ({:.3} of draws significantly so)",
                    s.prob_below_zero, s.prob_significantly_below_zero
                ),
                "",
                fmt::WIDTH as usize
            )
        );
    }
    let mut d: Vec<&unc::Driver> = drivers
        .iter()
        .filter(|d| metric.id == d.metric && metric.period.as_ref().is_none_or(|p| *p == d.period))
        .collect();
    d.sort_by(|a, b| b.spearman.abs().total_cmp(&a.spearman.abs()));
    let mut t = fmt::table(vec!["parameter", "Spearman rank correlation"], &[1]);
    for x in d {
        t.add_row(vec![x.id.clone(), fmt::signed(x.spearman, 3)]);
    }
    println!("What drives {metric}:");
    println!("{t}");
}
