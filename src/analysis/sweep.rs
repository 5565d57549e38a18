//! Parameter sweeps: many variants of one proposal, each paired with the
//! baseline by common random numbers, resumable after an interruption.
//!
//! A [`Plan`] is a proposal file, parameter paths and a list of points (one
//! value per path). [`run`] simulates the baseline once, keeping every
//! replication's output values, then each point's proposal with the same
//! seeds; the paired differences are exactly those `compare` computes for
//! that point. Each finished point is written at once, atomically, as its
//! own file in a parts folder named by a hash of the plan; a rerun of the
//! same plan skips the points already there, so nothing is computed twice.
//! The final CSV is the header and the point files in point order, which is
//! byte-identical however often the run was interrupted, whatever the thread
//! count and whatever order the points finished in.
//!
//! `sensitivity`, `uncertainty` and `solve` are built on the same points.
//!
//! **Architecture invariant:** a point's result depends only on the plan and
//! the point (seeds are the replication numbers, as in `runner::compare`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rayon::prelude::*;

use crate::analysis::compare::{ProposalStats, layout_for, reported_variants};
use crate::analysis::table::{self, COMPARE_HEADER, csv_bytes, num};
use crate::engine::results::Layout;
use crate::engine::rng;
use crate::engine::runner::{self, Prepared, RunConfig};
use crate::engine::stats::{CellStats, Welford};
use crate::error::{Error, Result};
use crate::scenario::{self, Override, Scenario, fnv1a};

/// A parameter varied over values: `path=start:stop:count` or `path=a,b,c`.
pub fn parse_vary(s: &str) -> std::result::Result<(String, Vec<f64>), String> {
    let (path, spec) = split_path(s)?;
    let values = if spec.contains(':') {
        let parts: Vec<&str> = spec.split(':').collect();
        let [a, b, n] = parts[..] else {
            return Err(format!(
                "`{spec}`: a grid is start:stop:count, e.g. 0.5:1.5:11"
            ));
        };
        let (a, b) = (number(a)?, number(b)?);
        let n: usize = n
            .trim()
            .parse()
            .map_err(|_| format!("`{n}` is not a whole number of points"))?;
        if n > crate::engine::budget::MAX_POINTS {
            return Err(format!(
                "a grid of {n} points is more than the {} a run accepts",
                crate::engine::budget::MAX_POINTS
            ));
        }
        match n {
            0 => return Err("a grid needs at least one point".into()),
            1 => vec![a],
            _ => (0..n)
                .map(|i| tidy(a + (b - a) * i as f64 / (n - 1) as f64))
                .collect(),
        }
    } else {
        spec.split(',')
            .map(number)
            .collect::<std::result::Result<_, _>>()?
    };
    Ok((path, values))
}

/// A range for Latin hypercube sampling: `path=low:high`.
pub fn parse_range(s: &str) -> std::result::Result<(String, f64, f64), String> {
    let (path, spec) = split_path(s)?;
    let Some((a, b)) = spec.split_once(':') else {
        return Err(format!("`{spec}`: a range is low:high, e.g. 0.5:1.5"));
    };
    let (a, b) = (number(a)?, number(b)?);
    if a >= b {
        return Err(format!("`{spec}`: low must be below high"));
    }
    Ok((path, a, b))
}

fn split_path(s: &str) -> std::result::Result<(String, &str), String> {
    let (path, spec) = s
        .rsplit_once('=')
        .ok_or_else(|| format!("`{s}` is not of the form path=values"))?;
    if path.trim().is_empty() {
        return Err(format!("`{s}` names no parameter"));
    }
    Ok((path.trim().to_string(), spec.trim()))
}

fn number(s: &str) -> std::result::Result<f64, String> {
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .ok_or_else(|| format!("`{}` is not a number", s.trim()))
}

/// Rounds away the last bits of grid arithmetic (0.1 * 3 = 0.30000000000000004).
fn tidy(x: f64) -> f64 {
    format!("{x:.12e}").parse().unwrap_or(x)
}

/// Every combination of the values (the last parameter varies fastest).
pub fn grid(values: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let mut points = vec![Vec::new()];
    for vs in values {
        points = points
            .into_iter()
            .flat_map(|p| {
                vs.iter().map(move |&v| {
                    let mut q = p.clone();
                    q.push(v);
                    q
                })
            })
            .collect();
    }
    points
}

/// `n` points of a Latin hypercube in `[0, 1)^k`: for each dimension, the
/// points fall one in each of the `n` equal strata, in an order and at a
/// position within the stratum drawn from `seed`.
pub fn unit_lhs(n: usize, k: usize, seed: u64) -> Vec<Vec<f64>> {
    let u = |dim: usize, i: usize, what: u64| {
        let z = rng::mix(seed ^ rng::mix(0x4c48_5300 ^ what ^ (dim as u64) << 32 ^ i as u64));
        (z >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut points = vec![vec![0.0; k]; n];
    for dim in 0..k {
        let mut perm: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = ((u(dim, i, 1) * (i + 1) as f64) as usize).min(i);
            perm.swap(i, j);
        }
        for (i, p) in points.iter_mut().enumerate() {
            p[dim] = (perm[i] as f64 + u(dim, i, 2)) / n as f64;
        }
    }
    points
}

/// The baseline's output values, replication by replication.
pub struct Baseline {
    pub layout: Layout,
    pub stats: Vec<CellStats>,
    pub person_quarters: u64,
    values: Vec<Vec<f64>>,
}

/// Runs the baseline once for all points, reporting its variants and
/// those of `proposal` (the points' variants).
pub fn run_baseline(p: &Prepared, cfg: &RunConfig, proposal: &Scenario) -> Result<Baseline> {
    let mut values = Vec::with_capacity(cfg.replications as usize);
    let ids = reported_variants(&[p.scenario, proposal])?;
    let layout = layout_for(p.scenario, &ids);
    let res = runner::run_each_in(p, cfg, layout, &|| {}, &mut |v| values.push(v.to_vec()))?;
    Ok(Baseline {
        layout: res.layout,
        stats: res.stats,
        person_quarters: res.person_quarters,
        values,
    })
}

/// One proposal variant paired with the baseline, as `runner::compare`
/// pairs them: the same replications, the differences folded in order.
/// Also returns the person-quarters simulated.
pub fn run_point(p: &Prepared, base: &Baseline, cfg: &RunConfig) -> Result<(ProposalStats, u64)> {
    let sc = p.scenario;
    if (sc.start, sc.horizon) != (base.layout.start, base.layout.horizon) {
        return Err(Error::Invalid(format!(
            "`{}` runs {} quarters from {}, the baseline {} from {}; give both the same start and horizon (or use --quarters)",
            sc.name, sc.horizon, sc.start, base.layout.horizon, base.layout.start
        )));
    }
    let ids: Vec<String> = base.layout.variants.iter().map(|v| v.0.clone()).collect();
    if let Some(v) = sc.variants.iter().find(|v| !ids.contains(&v.id)) {
        return Err(Error::Invalid(format!(
            "`{}` defines variant `{}`, which the baseline's layout does not report; define it in the proposal file itself, not by --set or --vary",
            sc.name, v.id
        )));
    }
    let mut delta = Welford::new(base.layout.cells.len());
    let mut r = 0;
    let res = runner::run_each_in(p, cfg, layout_for(sc, &ids), &|| {}, &mut |v| {
        let d: Vec<f64> = v.iter().zip(&base.values[r]).map(|(a, b)| a - b).collect();
        delta.add(&d);
        r += 1;
    })?;
    Ok((
        ProposalStats {
            stats: res.stats,
            delta: delta.finish(),
        },
        res.person_quarters,
    ))
}

/// What to run: a proposal at each point of a design.
#[derive(Debug, Clone)]
pub struct Plan {
    /// `sweep`, `sensitivity`, `uncertainty`: names the output file.
    pub kind: &'static str,
    /// The baseline file (None: the embedded baseline).
    pub baseline: Option<PathBuf>,
    pub proposal: PathBuf,
    /// Set in the baseline and in every point (`--set`).
    pub set: Vec<Override>,
    /// The first column(s): a label per point (e.g. `draw`), then one per path.
    pub paths: Vec<String>,
    pub points: Vec<Vec<f64>>,
    /// Extra text columns per point (e.g. which parameter is at which end).
    pub labels: Vec<(String, Vec<String>)>,
    /// Metric ids to keep (exact, or a prefix ending in `*`); empty keeps all.
    pub metrics: Vec<String>,
    pub cfg: RunConfig,
    /// `--quarters`, applied to the baseline and every point.
    pub quarters: Option<u16>,
}

impl Plan {
    /// Whether `metric` is written.
    pub fn keeps(&self, metric: &str) -> bool {
        self.metrics.is_empty()
            || self.metrics.iter().any(|m| match m.strip_suffix('*') {
                Some(prefix) => metric.starts_with(prefix),
                None => metric == m,
            })
    }

    /// The CSV header: point, labels, parameter paths, compare.csv columns.
    pub fn header(&self) -> Vec<String> {
        std::iter::once("point".to_string())
            .chain(self.labels.iter().map(|(name, _)| name.clone()))
            .chain(self.paths.iter().cloned())
            .chain(COMPARE_HEADER.iter().map(|s| s.to_string()))
            .collect()
    }

    fn load(&self, path: Option<&Path>, extra: &[Override]) -> Result<scenario::Scenario> {
        let mut set = self.set.clone();
        set.extend_from_slice(extra);
        let mut sc = scenario::load_with(path, &set)?.scenario;
        if let Some(q) = self.quarters {
            sc.horizon = q;
        }
        Ok(sc)
    }

    /// The baseline scenario (with `--set` and `--quarters`).
    pub fn baseline_scenario(&self) -> Result<scenario::Scenario> {
        self.load(self.baseline.as_deref(), &[])
    }

    /// The proposal at point `i`.
    pub fn scenario_at(&self, i: usize) -> Result<scenario::Scenario> {
        let extra: Vec<Override> = self
            .paths
            .iter()
            .zip(&self.points[i])
            .map(|(p, &v)| (p.clone(), toml::Value::Float(v)))
            .collect();
        self.load(Some(&self.proposal), &extra)
            .map_err(|e| match e {
                Error::Scenario(mut se) => {
                    let at: Vec<String> = self
                        .paths
                        .iter()
                        .zip(&self.points[i])
                        .map(|(p, v)| format!("{p}={v}"))
                        .collect();
                    for d in &mut se.diagnostics {
                        d.message = format!("{} (at point {i}: {})", d.message, at.join(", "));
                    }
                    Error::Scenario(se)
                }
                e => e,
            })
    }

    /// A hash of everything that determines the results.
    pub fn fingerprint(&self, baseline_hash: &str, proposal_hash: &str) -> u64 {
        let mut s = format!(
            "fleksim {} {} {} {} seed={} n={} scale={} q={:?}\n",
            env!("CARGO_PKG_VERSION"),
            self.kind,
            baseline_hash,
            proposal_hash,
            self.cfg.seed,
            self.cfg.replications,
            self.cfg.scale,
            self.quarters
        );
        // Points saved under another column layout are not reused.
        s.push_str(&format!("columns {}\n", COMPARE_HEADER.join(",")));
        for (p, v) in &self.set {
            s.push_str(&format!("set {p}={v}\n"));
        }
        s.push_str(&format!(
            "paths {:?}\nmetrics {:?}\n",
            self.paths, self.metrics
        ));
        for (name, l) in &self.labels {
            s.push_str(&format!("label {name} {l:?}\n"));
        }
        for p in &self.points {
            s.push_str(&format!("{p:?}\n"));
        }
        fnv1a(s.as_bytes())
    }
}

/// The finished points of a plan, in point order.
pub struct Outcome {
    /// The whole CSV file (header and every point's rows).
    pub csv: Vec<u8>,
    /// Points found finished by an earlier, interrupted run.
    pub resumed: usize,
    pub computed: usize,
    pub person_quarters: u64,
    pub baseline_name: String,
    pub proposal_name: String,
}

/// Where the finished points of a plan are kept, so that a rerun of the
/// same plan computes only the rest. The plan's fingerprint keys the store,
/// so a changed plan never reuses stale points. The command-line tool keeps
/// them as files (`output::parts`); an implementation must make `save`
/// atomic (a point is either complete or absent).
pub trait PointStore: Sync {
    /// Prepares the store for the plan with this fingerprint (fails early,
    /// before any simulation, if it cannot).
    fn open(&self, fingerprint: u64) -> Result<()>;
    /// The rows of point `i` saved by an earlier run, if any.
    fn load(&self, fingerprint: u64, i: usize) -> Option<Vec<u8>>;
    /// Saves the rows of point `i`.
    fn save(&self, fingerprint: u64, i: usize, rows: &[u8]) -> Result<()>;
}

/// Runs every point of `plan` not already in `store`, saving each as it
/// finishes, and assembles the CSV. The caller clears the store once the
/// CSV is safely written.
pub fn run(plan: &Plan, store: &dyn PointStore, on_point: &(dyn Fn() + Sync)) -> Result<Outcome> {
    run_some(plan, store, on_point, None)
}

/// [`run`], or with `only` the points in that range alone (a shard): each is
/// saved in `store` as it finishes, and no CSV is assembled (the outcome's
/// `csv` is empty). The baseline is simulated whenever a point is.
pub fn run_some(
    plan: &Plan,
    store: &dyn PointStore,
    on_point: &(dyn Fn() + Sync),
    only: Option<std::ops::Range<usize>>,
) -> Result<Outcome> {
    plan.cfg.validate()?;
    if only
        .as_ref()
        .is_some_and(|r| r.start > r.end || r.end > plan.points.len())
    {
        return Err(Error::Internal(format!(
            "points {only:?} asked of {}",
            plan.points.len()
        )));
    }
    if plan.points.is_empty() {
        return Err(Error::Invalid("the design has no points".into()));
    }
    for (name, l) in &plan.labels {
        if l.len() != plan.points.len() {
            return Err(Error::Internal(format!(
                "label column {name} has the wrong length"
            )));
        }
    }
    let base_sc = plan.baseline_scenario()?;
    // Validate every point before any simulation, so a bad value fails fast.
    let first = plan.scenario_at(0)?;
    let key = plan.fingerprint(&base_sc.hash, &first.hash);
    store.open(key)?;
    let mut done = BTreeMap::new();
    let mut pending = Vec::new();
    for i in only.clone().unwrap_or(0..plan.points.len()) {
        match store.load(key, i) {
            Some(bytes) => {
                done.insert(i, bytes);
            }
            None => pending.push(i),
        }
    }
    let resumed = done.len();
    // Every pending point is loaded (and so validated) before anything runs.
    let pending: Vec<(usize, scenario::Scenario)> = pending
        .into_iter()
        .map(|i| Ok((i, plan.scenario_at(i)?)))
        .collect::<Result<_>>()?;
    let mut person_quarters = 0;
    let done = Mutex::new(done);
    if !pending.is_empty() {
        let base_prep = Prepared::new(&base_sc);
        let base = run_baseline(&base_prep, &plan.cfg, &first)?;
        let pq: Result<Vec<u64>> = pending
            .par_iter()
            .map(|(i, sc)| {
                let i = *i;
                let prep = Prepared::new(sc);
                let (stats, pq) = run_point(&prep, &base, &plan.cfg)?;
                let rows = point_rows(plan, i, &sc.name, &base, &stats)?;
                store.save(key, i, &rows)?;
                done.lock()
                    .expect("no panic holds the lock")
                    .insert(i, rows);
                on_point();
                Ok(pq)
            })
            .collect();
        person_quarters = base.person_quarters + pq?.iter().sum::<u64>();
    }
    let done = done.into_inner().expect("no panic holds the lock");
    if only.is_some() {
        return Ok(Outcome {
            csv: Vec::new(),
            resumed,
            computed: pending.len(),
            person_quarters,
            baseline_name: base_sc.name.clone(),
            proposal_name: first.name.clone(),
        });
    }
    let header: Vec<String> = plan.header();
    let mut csv = csv_bytes(
        &header.iter().map(String::as_str).collect::<Vec<_>>(),
        std::iter::empty(),
    )?;
    for i in 0..plan.points.len() {
        let rows = done
            .get(&i)
            .ok_or_else(|| Error::Internal(format!("point {i} has no result")))?;
        csv.extend_from_slice(rows);
    }
    Ok(Outcome {
        csv,
        resumed,
        computed: pending.len(),
        person_quarters,
        baseline_name: base_sc.name.clone(),
        proposal_name: first.name.clone(),
    })
}

/// The CSV rows (no header) of point `i`.
fn point_rows(
    plan: &Plan,
    i: usize,
    name: &str,
    base: &Baseline,
    stats: &ProposalStats,
) -> Result<Vec<u8>> {
    let lead: Vec<String> = std::iter::once(i.to_string())
        .chain(plan.labels.iter().map(|(_, l)| l[i].clone()))
        .chain(plan.points[i].iter().map(|&v| num(v)))
        .collect();
    let rows = table::compare_rows(name, &base.layout, &base.stats, stats, &|m| plan.keeps(m));
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    let internal = |e: csv::Error| Error::Internal(format!("csv encoding: {e}"));
    for r in rows {
        w.write_record(lead.iter().chain(&r)).map_err(internal)?;
    }
    w.into_inner()
        .map_err(|e| Error::Internal(format!("csv encoding: {e}")))
}

/// One row of a sweep-format file, parsed back for analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub point: usize,
    pub metric: String,
    pub period: String,
    pub delta_mean: f64,
    pub delta_se: f64,
    pub delta_ci_low: f64,
    pub delta_ci_high: f64,
}

/// Parses the rows of a sweep-format CSV (as [`run`] produced it).
pub fn parse_rows(csv_text: &[u8]) -> Result<Vec<Row>> {
    let mut r = csv::Reader::from_reader(csv_text);
    let bad = |e: String| Error::Internal(format!("reading back the point results: {e}"));
    let headers = r.headers().map_err(|e| bad(e.to_string()))?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| bad(format!("no column {name}")))
    };
    let (cp, cm, cper, cd, cse, clo, chi) = (
        col("point")?,
        col("metric")?,
        col("period")?,
        col("delta_mean")?,
        col("delta_se")?,
        col("delta_ci_low")?,
        col("delta_ci_high")?,
    );
    let f = |s: &str| {
        if s == "NA" {
            Ok(f64::NAN)
        } else {
            s.parse::<f64>()
        }
    };
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| bad(e.to_string()))?;
        out.push(Row {
            point: rec[cp].parse().map_err(|_| bad("point id".into()))?,
            metric: rec[cm].to_string(),
            period: rec[cper].to_string(),
            delta_mean: f(&rec[cd]).map_err(|_| bad("delta_mean".into()))?,
            delta_se: f(&rec[cse]).map_err(|_| bad("delta_se".into()))?,
            delta_ci_low: f(&rec[clo]).map_err(|_| bad("delta_ci_low".into()))?,
            delta_ci_high: f(&rec[chi]).map_err(|_| bad("delta_ci_high".into()))?,
        });
    }
    Ok(out)
}

/// A metric chosen by `id` or `id@period`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricSel {
    pub id: String,
    pub period: Option<String>,
}

impl std::str::FromStr for MetricSel {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let (id, period) = match s.split_once('@') {
            Some((a, b)) => (a.trim(), Some(b.trim().to_string())),
            None => (s.trim(), None),
        };
        if id.is_empty() {
            return Err("name a metric, e.g. pv.total.all".into());
        }
        Ok(MetricSel {
            id: id.to_string(),
            period,
        })
    }
}

impl std::fmt::Display for MetricSel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.period {
            Some(p) => write!(f, "{}@{p}", self.id),
            None => f.write_str(&self.id),
        }
    }
}

impl MetricSel {
    /// The layout cell this selects; an unknown or ambiguous metric is an
    /// error that lists the choices.
    pub fn cell(&self, layout: &Layout) -> Result<usize> {
        let mut found = Vec::new();
        let mut ids = Vec::new();
        for (i, c) in layout.cells.iter().enumerate() {
            if let Some((id, _, period)) = c.metric(layout) {
                if id == self.id && self.period.as_ref().is_none_or(|p| *p == period) {
                    found.push((i, period));
                } else if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
        match found.len() {
            1 => Ok(found[0].0),
            0 => {
                let hint = crate::scenario::did_you_mean(&self.id, ids.iter().map(String::as_str))
                    .map(|h| format!("; {h}"))
                    .unwrap_or_default();
                Err(Error::Invalid(format!(
                    "no metric `{self}` (metric ids are those of compare.csv, e.g. pv.total.all or awards.foertidspension.total@per_year){hint}"
                )))
            }
            _ => Err(Error::Invalid(format!(
                "metric `{}` has several periods; add one: {}",
                self.id,
                found
                    .iter()
                    .map(|(_, p)| format!("{}@{p}", self.id))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// Whether a parsed row is this metric (the period must have been resolved).
    pub fn matches(&self, row: &Row) -> bool {
        row.metric == self.id && self.period.as_ref().is_none_or(|p| *p == row.period)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grids_and_lists() {
        let (p, v) = parse_vary("a.b=0.5:1.5:11").unwrap();
        assert_eq!(p, "a.b");
        assert_eq!(v.len(), 11);
        assert_eq!(v[2], 0.7);
        assert_eq!(v[10], 1.5);
        assert_eq!(parse_vary("x=1,2,3").unwrap().1, vec![1.0, 2.0, 3.0]);
        assert!(parse_vary("x=1:2").is_err());
        assert!(parse_vary("x=a,b").is_err());
        assert!(parse_vary("=1,2").is_err());
        let g = grid(&[vec![1.0, 2.0], vec![10.0, 20.0, 30.0]]);
        assert_eq!(g.len(), 6);
        assert_eq!(g[1], vec![1.0, 20.0]);
        assert_eq!(g[3], vec![2.0, 10.0]);
    }

    #[test]
    fn latin_hypercube_has_one_point_per_stratum() {
        for (n, k) in [(1, 1), (7, 3), (200, 5)] {
            let pts = unit_lhs(n, k, 42);
            assert_eq!(pts.len(), n);
            for dim in 0..k {
                let mut strata: Vec<usize> =
                    pts.iter().map(|p| (p[dim] * n as f64) as usize).collect();
                strata.sort_unstable();
                assert_eq!(strata, (0..n).collect::<Vec<_>>(), "n={n} dim={dim}");
            }
        }
        assert_eq!(unit_lhs(20, 2, 1), unit_lhs(20, 2, 1));
        assert_ne!(unit_lhs(20, 2, 1), unit_lhs(20, 2, 2));
    }
}
