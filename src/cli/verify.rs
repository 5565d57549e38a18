//! `fleksim verify [SCENARIO]`

use std::process::ExitCode;
use std::time::{Instant, SystemTime};

use fleksim::Result;
use fleksim::analysis::verify::{self, Test, VerifyConfig};
use fleksim::engine::runner::Prepared;
use fleksim::output::manifest::Manifest;

use super::args::VerifyArgs;
use super::fmt;

pub fn verify(a: VerifyArgs) -> Result<ExitCode> {
    let start_time = SystemTime::now();
    let sim = &a.sim;
    let loaded = super::load(a.scenario.as_deref(), &sim.set)?;
    let mut sc = loaded.scenario;
    let (run, pool) = super::setup(sim, std::slice::from_mut(&mut sc))?;
    let cfg = VerifyConfig {
        run,
        alpha: a.alpha,
        min_expected: verify::DEFAULT_MIN_EXPECTED,
    };
    cfg.validate()?;
    let threads = pool.current_num_threads();
    let (mut job, dest, part_dir) = super::shard::launch(
        &a.shard,
        "verify",
        a.out.as_deref(),
        a.force,
        &sc.name,
        start_time,
    )?;
    let whole = job.is_whole();
    let settings = super::shard::settings("verify", &[&sc], &cfg.run, "");

    let clock = Instant::now();
    let prepared = Prepared::new(&sc);
    let pb = super::progress::replications(cfg.run.replications);
    let res = {
        let mut units = job.units(&part_dir, cfg.run.replications, settings)?;
        pool.install(|| verify::verify_units(&prepared, &sc, &cfg, &mut units, &|| pb.inc(1)))
    };
    pb.finish_and_clear();
    let v = res?;
    if let Some(code) = job.finish(threads, v.person_quarters)? {
        return Ok(code);
    }
    if !whole {
        dest.check()?;
    }
    let elapsed = clock.elapsed().as_secs_f64();
    let mut manifest = Manifest::new("verify", start_time).with_scenario(
        "scenario",
        &super::input_path(a.scenario.as_deref()),
        &sc,
        &loaded.sources,
    );
    manifest.seed = cfg.run.seed;
    manifest.replications = cfg.run.replications;
    manifest.scale = cfg.run.scale;
    manifest.threads = threads;
    manifest.person_quarters = v.person_quarters;
    manifest.elapsed_seconds = elapsed;
    manifest.set("alpha", cfg.alpha);
    manifest.set("min_expected", cfg.min_expected);
    let out = dest.publish(&[
        ("verify.csv", v.csv()?),
        ("manifest.json", manifest.to_json()?),
    ])?;

    let failed = v.failures().count();
    let head = format!(
        "`{}`: {} replications, scale {}, {} person-quarters in {} cells",
        sc.name,
        v.replications,
        cfg.run.scale,
        fmt::num(v.person_quarters as f64, 0),
        fmt::num(v.cells as f64, 0)
    );
    println!("{}", fmt::wrap(&head, "", fmt::WIDTH as usize));
    println!(
        "{}",
        fmt::wrap(
            &format!(
                "{} tests, {} failed (Holm, family-wise alpha {}); {} outcomes skipped (expected count or its complement below {}); {} forbidden outcomes never happened",
                fmt::num(v.tests.len() as f64, 0),
                failed,
                v.alpha,
                fmt::num(v.skipped as f64, 0),
                v.min_expected,
                fmt::num(v.impossible_unobserved as f64, 0)
            ),
            "",
            fmt::WIDTH as usize
        )
    );
    let shown: Vec<&Test> = if a.all {
        v.tests.iter().collect()
    } else {
        v.failures().collect()
    };
    if !shown.is_empty() {
        println!("{}", table(&shown));
    }
    eprintln!(
        "verified in {elapsed:.2} s; wrote {}",
        out.join("verify.csv").display()
    );
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::EXIT_NO)
    })
}

/// A probability or p-value: plain down to 0.001, then with an exponent.
fn prob(x: f64) -> String {
    if x == 0.0 || x >= 0.001 {
        format!("{x:.4}")
    } else {
        format!("{x:.1e}")
    }
}

fn table(tests: &[&Test]) -> fmt::Tab {
    let mut t = fmt::table(
        vec![
            "cell", "outcome", "n", "exp. p", "obs. p", "Holm p", "result",
        ],
        &[2, 3, 4, 5],
    );
    for x in tests {
        let c = &x.cell;
        let cell: Vec<&str> = [
            c.decision.id(),
            c.state.as_str(),
            c.age_group.as_str(),
            c.duration.as_str(),
            c.class.as_str(),
            c.phase.as_str(),
            c.gates.as_str(),
            c.forced.as_str(),
        ]
        .into_iter()
        .filter(|s| !s.is_empty() && *s != "-")
        .collect();
        t.add_row(vec![
            cell.join(" "),
            x.target.clone(),
            fmt::num(x.exposure as f64, 0),
            prob(x.expected_p),
            prob(x.observed_p()),
            prob(x.adjusted),
            if x.pass { "pass" } else { "FAIL" }.to_string(),
        ]);
    }
    t
}
