//! One-way sensitivity (tornado) and probabilistic sensitivity analysis of a
//! proposal's effect, over the parameters its file marks as uncertain
//! (`[uncertainty.<id>]`, see scenarios/README.md).
//!
//! Both are [`sweep`](crate::analysis::sweep) plans: sensitivity runs the central point
//! and each parameter at its low and its high value with the others
//! central; uncertainty runs `draws` parameter sets drawn by Latin hypercube
//! sampling from each parameter's distribution (inverse CDF of a stratified
//! uniform). Every point is paired with the baseline by common random
//! numbers, so the Monte Carlo noise of each difference is its paired
//! standard error, reported apart from the spread across draws.
//!
//! **Architecture invariant:** this module only builds plans and summarises
//! their parsed rows; it never runs the engine itself.

use std::collections::BTreeMap;

use statrs::statistics::{Data, OrderStatistics, RankTieBreaker, Statistics};

use crate::analysis::sweep::{MetricSel, Row, unit_lhs};
use crate::scenario::Uncertain;

/// The points of a one-way analysis: the central point, then each
/// parameter low and high. Returns (points, parameter label, end label).
pub fn one_way_points(u: &[Uncertain]) -> (Vec<Vec<f64>>, Vec<String>, Vec<String>) {
    let central: Vec<f64> = u.iter().map(|p| p.central).collect();
    let mut points = vec![central.clone()];
    let mut param = vec!["central".to_string()];
    let mut end = vec!["central".to_string()];
    for (i, p) in u.iter().enumerate() {
        for (label, v) in [("low", p.low), ("high", p.high)] {
            let mut pt = central.clone();
            pt[i] = v;
            points.push(pt);
            param.push(p.id.clone());
            end.push(label.to_string());
        }
    }
    (points, param, end)
}

/// `draws` parameter sets: a Latin hypercube in probability space mapped
/// through each parameter's quantile function.
pub fn draw_points(u: &[Uncertain], draws: usize, seed: u64) -> Vec<Vec<f64>> {
    unit_lhs(draws, u.len(), seed ^ 0x5053_4100)
        .into_iter()
        .map(|p| p.iter().zip(u).map(|(&q, par)| par.quantile(q)).collect())
        .collect()
}

/// One bar of a tornado chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Swing {
    pub id: String,
    pub path: String,
    pub low: f64,
    pub central: f64,
    pub high: f64,
    /// The metric's difference from the baseline (mean, paired SE) with the
    /// parameter at its low value, central, and high value.
    pub at_low: (f64, f64),
    pub at_central: (f64, f64),
    pub at_high: (f64, f64),
    /// |at_high - at_low|.
    pub swing: f64,
    pub why: String,
}

/// The tornado of `metric` from the rows of a one-way plan (as
/// [`one_way_points`] ordered them), largest swing first.
pub fn tornado(u: &[Uncertain], rows: &[Row], metric: &MetricSel) -> Vec<Swing> {
    let at = |point: usize| {
        rows.iter()
            .find(|r| r.point == point && metric.matches(r))
            .map_or((f64::NAN, f64::NAN), |r| (r.delta_mean, r.delta_se))
    };
    let central = at(0);
    let mut out: Vec<Swing> = u
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let (lo, hi) = (at(1 + 2 * i), at(2 + 2 * i));
            Swing {
                id: p.id.clone(),
                path: p.path.clone(),
                low: p.low,
                central: p.central,
                high: p.high,
                at_low: lo,
                at_central: central,
                at_high: hi,
                swing: (hi.0 - lo.0).abs(),
                why: p.why.clone(),
            }
        })
        .collect();
    // Stable: equal swings keep the id order.
    out.sort_by(|a, b| b.swing.total_cmp(&a.swing));
    out
}

/// The distribution over draws of one metric's difference from the baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub metric: String,
    pub period: String,
    /// Draws with a defined value.
    pub draws: usize,
    pub mean: f64,
    pub p2_5: f64,
    pub p50: f64,
    pub p97_5: f64,
    /// Standard deviation of the draw means (parameter uncertainty plus
    /// Monte Carlo noise).
    pub sd_total: f64,
    /// Root mean square of the draws' paired standard errors: the Monte
    /// Carlo noise within one draw.
    pub mc_se: f64,
    /// sqrt(max(0, sd_total² − mc_se²)): the spread due to the parameters.
    pub sd_parameters: f64,
    /// Share of draws whose mean difference is below zero.
    pub prob_below_zero: f64,
    /// Share of draws whose 95 % CI lies wholly below zero.
    pub prob_significantly_below_zero: f64,
}

/// Groups parsed rows by (metric, period), in order of first appearance.
fn by_metric(rows: &[Row]) -> Vec<((String, String), Vec<&Row>)> {
    let mut order: Vec<(String, String)> = Vec::new();
    let mut groups: BTreeMap<(String, String), Vec<&Row>> = BTreeMap::new();
    for r in rows {
        let k = (r.metric.clone(), r.period.clone());
        groups
            .entry(k.clone())
            .or_insert_with(|| {
                order.push(k);
                Vec::new()
            })
            .push(r);
    }
    order
        .into_iter()
        .map(|k| {
            let v = groups.remove(&k).unwrap_or_default();
            (k, v)
        })
        .collect()
}

/// Summaries of every metric in the rows of an uncertainty plan.
pub fn summarize(rows: &[Row]) -> Vec<Summary> {
    by_metric(rows)
        .into_iter()
        .map(|((metric, period), rs)| {
            let ok: Vec<&Row> = rs
                .into_iter()
                .filter(|r| r.delta_mean.is_finite())
                .collect();
            let means: Vec<f64> = ok.iter().map(|r| r.delta_mean).collect();
            let n = means.len();
            let mut data = Data::new(means.clone());
            let q = |data: &mut Data<Vec<f64>>, p: f64| {
                if n == 0 { f64::NAN } else { data.quantile(p) }
            };
            let sd_total = if n > 1 { (&means).std_dev() } else { f64::NAN };
            let mc_se = if n == 0 {
                f64::NAN
            } else {
                let s: Vec<f64> = ok
                    .iter()
                    .map(|r| r.delta_se)
                    .filter(|s| s.is_finite())
                    .collect();
                if s.is_empty() {
                    f64::NAN
                } else {
                    (s.iter().map(|x| x * x).sum::<f64>() / s.len() as f64).sqrt()
                }
            };
            let share = |f: &dyn Fn(&Row) -> bool| {
                if n == 0 {
                    f64::NAN
                } else {
                    ok.iter().filter(|r| f(r)).count() as f64 / n as f64
                }
            };
            Summary {
                metric,
                period,
                draws: n,
                mean: if n == 0 { f64::NAN } else { (&means).mean() },
                p2_5: q(&mut data, 0.025),
                p50: q(&mut data, 0.5),
                p97_5: q(&mut data, 0.975),
                sd_total,
                mc_se,
                sd_parameters: (sd_total * sd_total - mc_se * mc_se).max(0.0).sqrt(),
                prob_below_zero: share(&|r| r.delta_mean < 0.0),
                prob_significantly_below_zero: share(&|r| {
                    r.delta_mean + 1.959_963_984_540_054 * r.delta_se.max(0.0) < 0.0
                }),
            }
        })
        .collect()
}

/// Spearman rank correlation of `x` and `y` (average ranks for ties); NaN
/// when either is constant or there are fewer than 3 pairs.
pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    if x.len() != y.len() || x.len() < 3 {
        return f64::NAN;
    }
    let rx = Data::new(x.to_vec()).ranks(RankTieBreaker::Average);
    let ry = Data::new(y.to_vec()).ranks(RankTieBreaker::Average);
    let (sx, sy) = ((&rx).std_dev(), (&ry).std_dev());
    if !(sx > 0.0 && sy > 0.0) {
        return f64::NAN;
    }
    (&rx).covariance(&ry) / (sx * sy)
}

/// Which parameters drive a metric: the Spearman rank correlation of each
/// parameter's drawn values with the metric's difference, by draw.
#[derive(Debug, Clone, PartialEq)]
pub struct Driver {
    pub metric: String,
    pub period: String,
    pub id: String,
    pub spearman: f64,
}

/// Drivers of every metric; `points[d][k]` is parameter `k` in draw `d`.
pub fn drivers(u: &[Uncertain], points: &[Vec<f64>], rows: &[Row]) -> Vec<Driver> {
    let mut out = Vec::new();
    for ((metric, period), rs) in by_metric(rows) {
        let ok: Vec<&Row> = rs
            .into_iter()
            .filter(|r| r.delta_mean.is_finite())
            .collect();
        let y: Vec<f64> = ok.iter().map(|r| r.delta_mean).collect();
        for (k, p) in u.iter().enumerate() {
            let x: Vec<f64> = ok.iter().map(|r| points[r.point][k]).collect();
            out.push(Driver {
                metric: metric.clone(),
                period: period.clone(),
                id: p.id.clone(),
                spearman: spearman(&x, &y),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Dist;

    fn par(dist: Dist, low: f64, central: f64, high: f64) -> Uncertain {
        Uncertain {
            id: "p".into(),
            path: "a.b".into(),
            central,
            low,
            high,
            dist,
            min: f64::NEG_INFINITY,
            max: f64::INFINITY,
            why: "test".into(),
        }
    }

    #[test]
    fn quantiles_match_the_documented_fits() {
        let u = par(Dist::Uniform, 1.0, 1.5, 3.0);
        assert!((u.quantile(0.25) - 1.5).abs() < 1e-12);
        let t = par(Dist::Triangular, 0.0, 1.0, 1.0);
        // F(x) = x² on [0, 1] when the mode is the top.
        assert!((t.quantile(0.25) - 0.5).abs() < 1e-9);
        let n = par(Dist::Normal, 8.04, 10.0, 11.96);
        assert!((n.quantile(0.5) - 10.0).abs() < 1e-9);
        assert!((n.quantile(0.975) - 11.96).abs() < 1e-6);
        let ln = par(Dist::LogNormal, 0.5, 1.0, 2.0);
        assert!((ln.quantile(0.5) - 1.0).abs() < 1e-6);
        assert!((ln.quantile(0.975) - 2.0).abs() < 1e-4);
        for d in [Dist::Beta, Dist::Gamma] {
            let p = par(d, 0.2, 0.3, 0.4);
            let m: f64 = (0..2000)
                .map(|i| p.quantile((i as f64 + 0.5) / 2000.0))
                .sum::<f64>()
                / 2000.0;
            assert!((m - 0.3).abs() < 1e-3, "{d:?} mean {m}");
        }
        let mut tr = par(Dist::Normal, 0.0, 0.5, 1.0);
        tr.min = 0.45;
        tr.max = 0.55;
        for i in 0..=10 {
            let x = tr.quantile(i as f64 / 10.0);
            assert!((0.45..=0.55).contains(&x));
        }
    }

    #[test]
    fn spearman_sees_monotone_relations() {
        let x: Vec<f64> = (0..20).map(f64::from).collect();
        let y: Vec<f64> = x.iter().map(|v| v.powi(3)).collect();
        assert!((spearman(&x, &y) - 1.0).abs() < 1e-12);
        let z: Vec<f64> = x.iter().map(|v| -v.exp()).collect();
        assert!((spearman(&x, &z) + 1.0).abs() < 1e-12);
        assert!(spearman(&x, &[1.0; 20]).is_nan());
    }

    #[test]
    fn summaries_separate_noise_from_parameters() {
        let rows: Vec<Row> = (0..100)
            .map(|i| Row {
                point: i,
                metric: "m".into(),
                period: "pv".into(),
                delta_mean: i as f64 - 60.0,
                delta_se: 1.0,
                delta_ci_low: f64::NAN,
                delta_ci_high: f64::NAN,
            })
            .collect();
        let s = &summarize(&rows)[0];
        assert_eq!(s.draws, 100);
        assert!((s.mean + 10.5).abs() < 1e-9);
        assert!((s.prob_below_zero - 0.60).abs() < 1e-12);
        // delta + 1.96 < 0 for delta <= -2: 59 of 100.
        assert!((s.prob_significantly_below_zero - 0.59).abs() < 1e-12);
        assert!((s.mc_se - 1.0).abs() < 1e-12);
        assert!(s.sd_parameters < s.sd_total && s.sd_parameters > 0.0);
    }
}
