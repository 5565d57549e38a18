//! The CLI: argument parsing, commands, exit codes. No model logic.

mod args;
mod calibrate;
mod check;
mod compare;
mod exact;
mod explain;
mod fmt;
mod merge;
mod outdir;
mod progress;
mod report;
mod run;
mod runs;
mod sensitivity;
mod shard;
mod slurm;
mod solve;
mod sweep;
mod validate;
mod verify;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use fleksim::Error;
use fleksim::engine::budget;
use fleksim::engine::runner::RunConfig;
use fleksim::scenario::{self, Loaded};

use args::{Cli, Command};

/// Exit status for bad input (scenario, arguments, files).
pub const EXIT_USER: u8 = 1;
/// Exit status for a bug in fleksim.
pub const EXIT_INTERNAL: u8 = 2;
/// Exit status when the command ran but the answer is no: a check target
/// or a verify test failed, solve found no value reaching the target.
pub const EXIT_NO: u8 = 3;

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_USER } else { 0 });
        }
    };
    let res = match cli.command {
        Command::Run(a) => run::run(a),
        Command::Validate(a) => validate::validate(a),
        Command::Compare(a) => compare::compare(a),
        Command::Exact(a) => exact::exact(a),
        Command::Explain(a) => explain::explain(a),
        Command::Check(a) => check::check(a),
        Command::Calibrate(a) => calibrate::calibrate(a),
        Command::Sweep(a) => sweep::sweep(a),
        Command::Sensitivity(a) => sensitivity::sensitivity(a),
        Command::Uncertainty(a) => sensitivity::uncertainty(a),
        Command::Solve(a) => solve::solve(a),
        Command::Verify(a) => verify::verify(a),
        Command::Report(a) => report::report(a),
        Command::Runs(a) => runs::runs(a),
        Command::Merge(a) => merge::merge(a),
        Command::Slurm(a) => slurm::slurm(a),
    };
    match res {
        Ok(code) => code,
        Err(e) => {
            report_error(&e);
            ExitCode::from(if e.is_user_error() {
                EXIT_USER
            } else {
                EXIT_INTERNAL
            })
        }
    }
}

/// Whether stderr gets colour: a terminal, and NO_COLOR unset.
pub fn color() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

pub fn report_error(e: &Error) {
    match e {
        Error::Scenario(se) => eprint!("{}", se.render(color())),
        Error::Internal(_) => eprintln!(
            "error: {}\n\nhint: this is a bug in fleksim; please report it with the command line",
            scenario::escape_controls(&e.to_string())
        ),
        _ => eprintln!("error: {}", scenario::escape_controls(&e.to_string())),
    }
}

/// Checks the shared simulation options, applies `--quarters` to every
/// scenario, and builds the thread pool.
pub fn setup(
    sim: &args::SimArgs,
    scenarios: &mut [fleksim::scenario::Scenario],
) -> Result<(RunConfig, rayon::ThreadPool), Error> {
    set_quarters(sim.quarters, scenarios)?;
    let cfg = RunConfig {
        replications: sim.replications,
        seed: sim.seed,
        scale: sim.scale,
    };
    cfg.validate()?;
    // Refuse what cannot fit or finish before anything large is allocated.
    let threads = sim
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let refs: Vec<&fleksim::scenario::Scenario> = scenarios.iter().collect();
    budget::check(
        &refs,
        &cfg,
        threads,
        budget::Design::SINGLE,
        budget::available_memory(),
    )?;
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(t) = sim.threads {
        if t == 0 {
            return Err(Error::Invalid("--threads must be at least 1".into()));
        }
        pool = pool.num_threads(t);
    }
    let pool = pool
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the thread pool: {e}")))?;
    Ok((cfg, pool))
}

/// Applies `--quarters` to every scenario.
pub fn set_quarters(
    quarters: Option<u16>,
    scenarios: &mut [fleksim::scenario::Scenario],
) -> Result<(), Error> {
    if let Some(q) = quarters {
        if !(1..=400).contains(&q) {
            return Err(Error::Invalid(format!(
                "--quarters must be between 1 and 400, got {q}"
            )));
        }
        for sc in scenarios.iter_mut() {
            sc.horizon = q;
        }
    }
    Ok(())
}

/// Loads a scenario file, or the embedded baseline when `path` is None.
/// Parameters set with `--set` are applied before validation.
pub fn load(path: Option<&std::path::Path>, set: &[scenario::Override]) -> Result<Loaded, Error> {
    Ok(scenario::load_with(path, set)?)
}

/// A scenario input as the manifest records it: the path given, or the
/// embedded baseline's name.
pub fn input_path(path: Option<&std::path::Path>) -> String {
    path.map_or(scenario::BASELINE_NAME.to_string(), |p| {
        p.display().to_string()
    })
}
