//! `fleksim sweep PROPOSAL --vary ... | --lhs N --range ...`, and the plan
//! plumbing that `sensitivity`, `uncertainty` and `solve` share.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Instant, SystemTime};

use fleksim::analysis::sweep::{self, Outcome, Plan};
use fleksim::engine::budget;
use fleksim::output::parts::PartsFolder;
use fleksim::output::report;
use fleksim::{Error, Result};
use serde::Serialize;

use super::args::{PlanArgs, SweepArgs};

/// The proposal's name and uncertain parameters (with `--set` applied),
/// the run configuration and the thread pool.
pub struct Setup<'a> {
    pub proposal: fleksim::scenario::Scenario,
    pub plan: Plan,
    pub pool: rayon::ThreadPool,
    pub out: PathBuf,
    pub shard: &'a super::args::ShardArgs,
}

/// Loads the proposal and builds an empty plan of `kind` from the shared options.
pub fn setup<'a>(a: &'a PlanArgs, kind: &'static str) -> Result<Setup<'a>> {
    let mut proposal = super::load(Some(&a.proposal), &a.sim.set)?.scenario;
    if let Some(b) = &a.baseline {
        super::load(Some(b), &a.sim.set)?;
    }
    let (cfg, pool) = super::setup(&a.sim, std::slice::from_mut(&mut proposal))?;
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("outputs").join(&proposal.name));
    let plan = Plan {
        kind,
        baseline: a.baseline.clone(),
        proposal: a.proposal.clone(),
        set: a.sim.set.clone(),
        paths: Vec::new(),
        points: Vec::new(),
        labels: Vec::new(),
        metrics: Vec::new(),
        cfg,
        quarters: a.sim.quarters,
    };
    Ok(Setup {
        proposal,
        plan,
        pool,
        out,
        shard: &a.shard,
    })
}

#[derive(Serialize)]
struct SweepManifest<'a> {
    fleksim_version: &'a str,
    kind: &'a str,
    proposal: String,
    baseline: String,
    parameters: &'a [String],
    points: usize,
    points_resumed: usize,
    points_computed: usize,
    seed: u64,
    replications: u32,
    scale: f64,
    threads: usize,
    command_line: Vec<String>,
    start_time: String,
    end_time: String,
    person_quarters: u64,
    elapsed_seconds: f64,
}

/// Files derived from a finished plan: (name, bytes).
pub type Extra<'a> = &'a dyn Fn(&Outcome) -> Result<Vec<(String, Vec<u8>)>>;

/// Runs `plan`'s points (resuming from `<out>/.parts/`), writes `name`
/// plus `extra` files and `<kind>.json` atomically, then removes the parts.
/// None: a shard, which wrote its partial instead.
pub fn execute(s: &Setup, csv_name: &str, extra: Extra) -> Result<Option<Outcome>> {
    let plan = &s.plan;
    let design = budget::Design {
        points: plan.points.len(),
        keeps_replications: true,
    };
    let threads = s.pool.current_num_threads();
    budget::check(
        &[&s.proposal],
        &plan.cfg,
        threads,
        design,
        budget::available_memory(),
    )?;
    let parts = s.out.join(".parts").join(plan.kind);
    let start_time = SystemTime::now();
    let clock = Instant::now();
    let pb = super::progress::points(plan.points.len() as u64);
    let store = PartsFolder {
        root: parts.clone(),
    };
    let mut job = super::shard::Job::new(s.shard, plan.kind)?;
    let res = {
        let (store, only) = job.points(&s.out, plan.points.len(), &store)?;
        s.pool
            .install(|| sweep::run_some(plan, store, &|| pb.inc(1), only))
    };
    pb.finish_and_clear();
    let res = res?;
    let merging = job.is_replay();
    if job.finish(threads, res.person_quarters)?.is_some() {
        return Ok(None);
    }
    let elapsed = clock.elapsed().as_secs_f64();
    let manifest = SweepManifest {
        fleksim_version: env!("CARGO_PKG_VERSION"),
        kind: plan.kind,
        proposal: plan.proposal.display().to_string(),
        baseline: plan
            .baseline
            .as_ref()
            .map_or("<embedded>/baseline.toml".to_string(), |b| {
                b.display().to_string()
            }),
        parameters: &plan.paths,
        points: plan.points.len(),
        points_resumed: res.resumed,
        points_computed: res.computed,
        seed: plan.cfg.seed,
        replications: plan.cfg.replications,
        scale: plan.cfg.scale,
        threads: s.pool.current_num_threads(),
        command_line: std::env::args().collect(),
        start_time: humantime::format_rfc3339_seconds(start_time).to_string(),
        end_time: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        person_quarters: res.person_quarters,
        elapsed_seconds: elapsed,
    };
    let json = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| Error::Internal(format!("manifest: {e}")))?;
    let mut files: Vec<(String, Vec<u8>)> = vec![(csv_name.to_string(), res.csv.clone())];
    files.extend(extra(&res)?);
    files.push((format!("{}.json", plan.kind), json));
    let refs: Vec<(&str, Vec<u8>)> = files.iter().map(|(n, b)| (n.as_str(), b.clone())).collect();
    report::write_all(&s.out, &refs)?;
    if job.is_whole() {
        remove_parts(&parts);
    }
    let resumed = if merging {
        " (merged from the parts)".to_string()
    } else if res.resumed > 0 {
        format!(" ({} resumed from an earlier run)", res.resumed)
    } else {
        String::new()
    };
    eprintln!(
        "{} points{resumed} of `{}` against `{}`, {} replications each, in {:.1} s; wrote {}",
        plan.points.len(),
        res.proposal_name,
        res.baseline_name,
        plan.cfg.replications,
        elapsed,
        files
            .iter()
            .map(|(n, _)| s.out.join(n).display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(Some(res))
}

/// The finished points are in the final files now; a failure to tidy up
/// is harmless (a rerun would only find them done).
fn remove_parts(parts: &Path) {
    let _ = std::fs::remove_dir_all(parts);
    if let Some(p) = parts.parent() {
        let _ = std::fs::remove_dir(p);
    }
}

pub fn sweep(a: SweepArgs) -> Result<ExitCode> {
    let mut s = setup(&a.plan, "sweep")?;
    if let Some(n) = a.lhs {
        if n == 0 {
            return Err(Error::Invalid("--lhs needs at least 1 point".into()));
        }
        budget::check_points(&format!("--lhs {n}"), n as u128)?;
        s.plan.paths = a.range.iter().map(|r| r.0.clone()).collect();
        s.plan.points = sweep::unit_lhs(n, a.range.len(), s.plan.cfg.seed)
            .into_iter()
            .map(|u| {
                u.iter()
                    .zip(&a.range)
                    .map(|(&q, (_, lo, hi))| lo + q * (hi - lo))
                    .collect()
            })
            .collect();
    } else {
        if a.vary.is_empty() {
            return Err(Error::Invalid(
                "name what to vary: --vary PATH=start:stop:count (or PATH=a,b,c), or --lhs N with --range PATH=low:high".into(),
            ));
        }
        s.plan.paths = a.vary.iter().map(|v| v.0.clone()).collect();
        let values: Vec<Vec<f64>> = a.vary.iter().map(|v| v.1.clone()).collect();
        let size = values
            .iter()
            .fold(1u128, |n, v| n.saturating_mul(v.len() as u128));
        budget::check_points("the --vary grid", size)?;
        s.plan.points = sweep::grid(&values);
    }
    for (i, p) in s.plan.paths.iter().enumerate() {
        if s.plan.paths[..i].contains(p) {
            return Err(Error::Invalid(format!("`{p}` is varied twice")));
        }
    }
    s.plan.metrics = a.metric.clone();
    let Some(res) = execute(&s, "sweep.csv", &|_| Ok(Vec::new()))? else {
        return Ok(ExitCode::SUCCESS);
    };
    if !a.plan.quiet {
        print_headline(&s.plan, &res)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The present value of total public expenditure at each point (up to 40 points).
fn print_headline(plan: &Plan, res: &Outcome) -> Result<()> {
    let rows = sweep::parse_rows(&res.csv)?;
    let pv: Vec<&sweep::Row> = rows.iter().filter(|r| r.metric == "pv.total.all").collect();
    if pv.is_empty() || plan.points.len() > 40 {
        return Ok(());
    }
    let mut t = comfy_table::Table::new();
    t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
    let mut header: Vec<String> = vec!["point".into()];
    header.extend(plan.paths.iter().cloned());
    header.push("Δ present value, all payers, DKK m (95 % CI)".into());
    t.set_header(header);
    for r in pv {
        let mut row: Vec<String> = vec![r.point.to_string()];
        row.extend(plan.points[r.point].iter().map(|v| format!("{v}")));
        row.push(format!(
            "{:.1} ({:.1} to {:.1})",
            r.delta_mean / 1e6,
            r.delta_ci_low / 1e6,
            r.delta_ci_high / 1e6
        ));
        t.add_row(row);
    }
    println!("{t}");
    Ok(())
}
