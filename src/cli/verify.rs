//! `fleksim verify [SCENARIO]`

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use fleksim::Result;
use fleksim::analysis::verify::{self, Test, VerifyConfig};
use fleksim::engine::runner::Prepared;
use fleksim::output::report;

use super::args::VerifyArgs;

pub fn verify(a: VerifyArgs) -> Result<ExitCode> {
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
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("outputs").join(&sc.name));

    let clock = Instant::now();
    let prepared = Prepared::new(&sc);
    let pb = super::progress::replications(cfg.run.replications);
    let res = pool.install(|| verify::verify(&prepared, &sc, &cfg, &|| pb.inc(1)));
    pb.finish_and_clear();
    let v = res?;
    let elapsed = clock.elapsed().as_secs_f64();
    report::write_all(&out, &[("verify.csv", v.csv()?)])?;

    let failed = v.failures().count();
    println!(
        "`{}`: {} replications, scale {}, {} person-quarters in {} cells",
        sc.name, v.replications, cfg.run.scale, v.person_quarters, v.cells
    );
    println!(
        "{} tests, {} failed (Holm, family-wise alpha {}); {} outcomes skipped (expected count or its complement below {}); {} forbidden outcomes never happened",
        v.tests.len(),
        failed,
        v.alpha,
        v.skipped,
        v.min_expected,
        v.impossible_unobserved
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
        ExitCode::from(super::EXIT_USER)
    })
}

fn table(tests: &[&Test]) -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED);
    t.set_content_arrangement(ContentArrangement::Dynamic);
    t.set_header(vec![
        "decision",
        "state",
        "age",
        "duration",
        "class",
        "phase",
        "gates",
        "forced",
        "target",
        "exposure",
        "observed",
        "expected p",
        "observed p",
        "p-value",
        "Holm",
        "result",
    ]);
    for x in tests {
        let c = &x.cell;
        t.add_row(vec![
            c.decision.id().to_string(),
            c.state.clone(),
            c.age_group.clone(),
            c.duration.clone(),
            c.class.clone(),
            c.phase.clone(),
            c.gates.clone(),
            c.forced.clone(),
            x.target.clone(),
            x.exposure.to_string(),
            x.observed.to_string(),
            format!("{:.6}", x.expected_p),
            format!("{:.6}", x.observed_p()),
            format!("{:.2e}", x.p_value),
            format!("{:.2e}", x.adjusted),
            if x.pass { "pass" } else { "FAIL" }.to_string(),
        ]);
    }
    t
}
