//! `fleksim sweep PROPOSAL --vary ... | --lhs N --range ...`, and the plan
//! plumbing that `sensitivity`, `uncertainty` and `solve` share.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Instant, SystemTime};

use fleksim::analysis::sweep::{self, Outcome, Plan};
use fleksim::engine::budget;
use fleksim::output::manifest::{Input, Manifest};
use fleksim::output::parts::PartsFolder;
use fleksim::{Error, Result};

use super::args::{PlanArgs, SweepArgs};
use super::fmt;
use super::outdir::Dest;

/// The proposal's name and uncertain parameters (with `--set` applied),
/// the run configuration, the thread pool, where the files go, and the
/// shard options.
pub struct Setup<'a> {
    pub proposal: fleksim::scenario::Scenario,
    pub plan: Plan,
    pub pool: rayon::ThreadPool,
    pub dest: Dest,
    /// The manifest so far: inputs and run settings.
    pub manifest: Manifest,
    /// Where a shard writes its partial.
    pub out: PathBuf,
    pub shard: &'a super::args::ShardArgs,
}

/// Loads the proposal and builds an empty plan of `kind` from the shared options.
pub fn setup<'a>(a: &'a PlanArgs, kind: &'static str) -> Result<Setup<'a>> {
    let start_time = SystemTime::now();
    let loaded = super::load(Some(&a.proposal), &a.sim.set)?;
    let mut proposal = loaded.scenario;
    let base = super::load(a.baseline.as_deref(), &a.sim.set)?;
    let (cfg, pool) = super::setup(&a.sim, std::slice::from_mut(&mut proposal))?;
    // A shard writes only its partial, into the folder all shards share.
    let whole = a.shard.shard.is_none() && !a.shard.mpi;
    let dest = Dest::for_job(
        a.out.as_deref(),
        a.force,
        &proposal.name,
        kind,
        start_time,
        whole,
    )?;
    let out = super::shard::part_dir(a.out.as_deref(), &proposal.name);
    let mut manifest = Manifest::new(kind, start_time).with_scenario(
        "proposal",
        &a.proposal.display().to_string(),
        &proposal,
        &loaded.sources,
    );
    manifest.inputs.push(Input::scenario(
        "baseline",
        &super::input_path(a.baseline.as_deref()),
        &base.scenario,
        &base.sources,
    ));
    manifest.seed = cfg.seed;
    manifest.replications = cfg.replications;
    manifest.scale = cfg.scale;
    manifest.threads = pool.current_num_threads();
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
        dest,
        manifest,
        out,
        shard: &a.shard,
    })
}

/// Files derived from a finished plan: (name, bytes).
pub type Extra<'a> = &'a dyn Fn(&Outcome) -> Result<Vec<(String, Vec<u8>)>>;

/// Runs `plan`'s points (resuming from the parts folder), writes `name`
/// plus `extra` files and manifest.json atomically, then removes the parts.
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
    let parts = s.dest.parts().join(plan.kind);
    let clock = Instant::now();
    let pb = super::progress::points(plan.points.len() as u64);
    let store = PartsFolder {
        root: parts.clone(),
    };
    let mut job = super::shard::Job::new(s.shard, plan.kind)?;
    let whole = job.is_whole();
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
    let mut manifest = s.manifest.clone();
    manifest.end_time = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    manifest.person_quarters = res.person_quarters;
    manifest.elapsed_seconds = elapsed;
    manifest.set("parameters", &plan.paths);
    manifest.set("points", plan.points.len());
    manifest.set("points_resumed", res.resumed);
    manifest.set("points_computed", res.computed);
    if !plan.metrics.is_empty() {
        manifest.set("metrics", &plan.metrics);
    }
    if let Some(q) = plan.quarters {
        manifest.set("quarters", q);
    }
    let mut files: Vec<(String, Vec<u8>)> = vec![(csv_name.to_string(), res.csv.clone())];
    files.extend(extra(&res)?);
    files.push(("manifest.json".to_string(), manifest.to_json()?));
    let refs: Vec<(&str, Vec<u8>)> = files.iter().map(|(n, b)| (n.as_str(), b.clone())).collect();
    if !whole {
        s.dest.check()?;
    }
    let out = s.dest.publish(&refs)?;
    remove_parts(&parts);
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
            .map(|(n, _)| out.join(n).display().to_string())
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
        s.manifest.set("design", "latin_hypercube");
        s.manifest.set("ranges", &a.range);
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
        s.manifest.set("design", "grid");
        s.manifest.set("values", &a.vary);
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
    // Parameters by number in the header, their paths below the table.
    let mut header: Vec<String> = vec!["point".into()];
    header.extend((1..=plan.paths.len()).map(|i| format!("p{i}")));
    header.push("Δ PV, all payers, DKK m [95 % CI]".into());
    let right: Vec<usize> = (0..header.len()).collect();
    let mut t = fmt::table(header, &right);
    for r in pv {
        let mut row: Vec<String> = vec![r.point.to_string()];
        row.extend(plan.points[r.point].iter().map(|&v| fmt::param(v, 6)));
        row.push(fmt::interval(
            r.delta_mean / 1e6,
            r.delta_ci_low / 1e6,
            r.delta_ci_high / 1e6,
            1,
        ));
        t.add_row(row);
    }
    println!("{t}");
    for (i, p) in plan.paths.iter().enumerate() {
        println!("p{} = {p}", i + 1);
    }
    Ok(())
}
