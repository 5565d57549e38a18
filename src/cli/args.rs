//! Command-line arguments (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use fleksim::scenario;

const EXAMPLES: &str = "\
Examples:
  fleksim run                                   # embedded Danish baseline, full scale, 20 replications
  fleksim run scenarios/my-reform.toml --replications 50 --seed 7
  fleksim run --scale 0.1 --quarters 8 --out /tmp/quick
  fleksim validate scenarios/baseline.toml scenarios/proposals/*.toml

Exit status: 0 success, 1 bad input (scenario, arguments, files), 2 internal error.";

/// Monte Carlo microsimulator of Denmark's disability pension and flex-job system.
#[derive(Debug, Parser)]
#[command(name = "fleksim", version, about, after_help = EXAMPLES, allow_negative_numbers = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulate a scenario and write tidy CSV results
    #[command(after_help = RUN_HELP)]
    Run(RunArgs),
    /// Check scenario files without running them
    Validate(ValidateArgs),
    /// Run a baseline and proposals with common random numbers and report the differences
    #[command(after_help = COMPARE_HELP)]
    Compare(CompareArgs),
    /// Run a scenario and compare it with the published figures (scenarios/targets.toml)
    #[command(
        after_help = "Exit status 0 only if every target passes (a target this version cannot measure does not pass).\n\nExamples:\n  fleksim check\n  fleksim check scenarios/my-variant.toml -n 50"
    )]
    Check(CheckArgs),
    /// Fit free parameters to the published figures and write the calibrated scenario
    #[command(after_help = CALIBRATE_HELP)]
    Calibrate(CalibrateArgs),
    /// Compute expected stocks, flows and costs exactly, without random numbers
    #[command(after_help = EXACT_HELP)]
    Exact(ExactArgs),
    /// Say in plain words what a scenario changes relative to the file(s) it extends
    #[command(
        after_help = "Examples:\n  fleksim explain scenarios/proposals/d02-clarification-guarantee.toml\n  fleksim explain scenarios/proposals/*.toml"
    )]
    Explain(ExplainArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Scenario file (default: the embedded baseline)
    pub scenario: Option<PathBuf>,
    /// Targets file (default: the embedded scenarios/targets.toml)
    #[arg(long)]
    pub targets: Option<PathBuf>,
    #[command(flatten)]
    pub sim: SimArgs,
    /// Output folder for check.csv (default: outputs/<scenario name>)
    #[arg(short, long)]
    pub out: Option<PathBuf>,
}

const CALIBRATE_HELP: &str = "\
Minimises the squared distance of every measured target from its published value,
each divided by its tolerance, by Nelder-Mead. Every evaluation runs the same
replications with the same seed, so the result is deterministic for a seed. Use a
small scale for speed; check the result at full scale with `fleksim check`.

Examples:
  fleksim calibrate scenarios/baseline.toml --scale 0.1 -n 4 \\
      --free transitions.sygedagpenge.foertidspension.over40.2+ \\
      --free population.inflow.sygedagpenge.per_quarter \\
      --out scenarios/baseline-calibrated.toml";

#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// The scenario file to calibrate
    pub scenario: PathBuf,
    /// A free parameter, by its path (repeatable); its value must be written in this file
    #[arg(long = "free", value_name = "PATH", required = true)]
    pub free: Vec<String>,
    /// Targets file (default: the embedded scenarios/targets.toml)
    #[arg(long)]
    pub targets: Option<PathBuf>,
    /// Most Nelder-Mead iterations
    #[arg(long, default_value_t = 60)]
    pub max_iters: u64,
    /// Where to write the calibrated scenario
    #[arg(short, long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub sim: SimArgs,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// Scenario files
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

const COMPARE_HELP: &str = "\
Every scenario runs the same replications with the same seeds, so a person meets
the same random number for the same decision in each; differences are paired
replication by replication (mean, standard error, 95 % CI). Writes compare.csv
into the output folder (default outputs/compare/).

Examples:
  fleksim compare scenarios/baseline.toml scenarios/proposals/*.toml
  fleksim compare scenarios/baseline.toml scenarios/proposals/ds.toml -n 50 --scale 0.25";

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The baseline scenario file
    pub baseline: PathBuf,
    /// Proposal scenario files
    #[arg(required = true)]
    pub proposals: Vec<PathBuf>,
    #[command(flatten)]
    pub sim: SimArgs,
    /// Output folder (default: outputs/compare)
    #[arg(short, long)]
    pub out: Option<PathBuf>,
    /// Print no tables
    #[arg(long)]
    pub quiet: bool,
}

/// Simulation options shared by `run` and `compare`.
#[derive(Debug, Args)]
pub struct SimArgs {
    /// Number of Monte Carlo replications
    #[arg(short = 'n', long, default_value_t = 20)]
    pub replications: u32,
    /// Master seed; a replication's random numbers depend on (seed, replication) only
    #[arg(short, long, default_value_t = 2019)]
    pub seed: u64,
    /// Worker threads (default: RAYON_NUM_THREADS or the number of cores)
    #[arg(short = 'j', long)]
    pub threads: Option<usize>,
    /// Fraction of the population to simulate; counts are scaled back up
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// Override the scenarios' horizon (quarters)
    #[arg(short, long)]
    pub quarters: Option<u16>,
    /// Set a parameter by its path in every scenario loaded, e.g.
    /// --set costs.discount_rate=0.05 or --set transitions.kontanthjaelp.employed.all=0.03
    /// (repeatable; the value in TOML syntax)
    #[arg(long = "set", value_name = "PATH=VALUE", value_parser = scenario::parse_override)]
    pub set: Vec<scenario::Override>,
}

const RUN_HELP: &str = "\
Writes stocks.csv, flows.csv, costs.csv, annual.csv and manifest.json into the
output folder (default outputs/<scenario name>/). Files appear only when the run
has finished; a failed run leaves none behind.

Examples:
  fleksim run
  fleksim run scenarios/baseline.toml --replications 100 --threads 2
  RAYON_NUM_THREADS=1 fleksim run --seed 1 --out /tmp/a";

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenario file (default: the embedded baseline, same as scenarios/baseline.toml)
    pub scenario: Option<PathBuf>,
    #[command(flatten)]
    pub sim: SimArgs,
    /// Output folder (default: outputs/<scenario name>)
    #[arg(short, long)]
    pub out: Option<PathBuf>,
    /// Print no summary table
    #[arg(long)]
    pub quiet: bool,
}

const EXACT_HELP: &str = "\
Propagates the probability distribution over every person's record (state,
attributes, durations, clocks) quarter by quarter with the same compiled rules
as `run`, so each result is the expectation of what `run` samples at the same
--scale (a cohort counts round(count * scale) / scale persons). Writes
stocks.csv, flows.csv, costs.csv, annual.csv and manifest.json with se = 0 and
ci_low = ci_high = mean into outputs/<scenario name>/exact/. Shares and mean
times (outcomes.csv) are not computed: the mean of a ratio is not a ratio of means.

Examples:
  fleksim exact
  fleksim exact scenarios/proposals/d02-clarification-guarantee.toml --quarters 12
  fleksim exact --set transitions.kontanthjaelp.employed.all=0.03 --out /tmp/exact";

#[derive(Debug, Args)]
pub struct ExactArgs {
    /// Scenario file (default: the embedded baseline, same as scenarios/baseline.toml)
    pub scenario: Option<PathBuf>,
    /// Override the scenario's horizon (quarters)
    #[arg(short, long)]
    pub quarters: Option<u16>,
    /// Population scale whose Monte Carlo mean to reproduce (cohort sizes are rounded as in `run`)
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// Set a parameter by its path, as in `run` (repeatable; the value in TOML syntax)
    #[arg(long = "set", value_name = "PATH=VALUE", value_parser = scenario::parse_override)]
    pub set: Vec<scenario::Override>,
    /// Output folder (default: outputs/<scenario name>/exact)
    #[arg(short, long)]
    pub out: Option<PathBuf>,
    /// Print no summary table
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Scenario files
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}
