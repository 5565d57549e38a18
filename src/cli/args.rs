//! Command-line arguments (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

const EXAMPLES: &str = "\
Examples:
  fleksim run                                   # embedded Danish baseline, full scale, 20 replications
  fleksim run scenarios/my-reform.toml --replications 50 --seed 7
  fleksim run --scale 0.1 --quarters 8 --out /tmp/quick
  fleksim validate scenarios/*.toml

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
    /// Output folder (default: outputs/<scenario name>)
    #[arg(short, long)]
    pub out: Option<PathBuf>,
    /// Override the scenario's horizon (quarters)
    #[arg(short, long)]
    pub quarters: Option<u16>,
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
