//! Command-line arguments (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use fleksim::scenario;

const EXAMPLES: &str = "\
Examples:
  fleksim run                                   # embedded Danish baseline, full scale, 20 replications
  fleksim run scenarios/proposals/d05-shorter-waits.toml --replications 50 --seed 7
  fleksim run --scale 0.1 --quarters 8
  fleksim validate scenarios/baseline.toml scenarios/proposals/*.toml
  fleksim verify scenarios/proposals/d05-shorter-waits.toml   # the engine against the file's own rules
  fleksim runs                                  # the runs kept under outputs/

Each command writes into a new folder outputs/<name>/<run id>/ (outputs/<name>/latest
names the newest) with a manifest.json, or into --out DIR, which must be empty unless --force.
A repeated option takes its last value.

Exit status: 0 success, 1 bad input (scenario, arguments, files), 2 internal error,
3 the answer is no (check: a target failed; verify: a test failed; solve: no value
in the range reaches the target).";

/// Monte Carlo microsimulator of Denmark's disability pension and flex-job system.
#[derive(Debug, Parser)]
#[command(
    name = "fleksim",
    version = VERSION,
    about,
    after_help = EXAMPLES,
    allow_negative_numbers = true,
    args_override_self = true
)]
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
    #[command(
        after_help = "Exit status: 0 if every file is valid, 1 if one is not.\n\nExamples:\n  fleksim validate scenarios/baseline.toml\n  fleksim validate scenarios/proposals/*.toml"
    )]
    Validate(ValidateArgs),
    /// Run a baseline and proposals with common random numbers and report the differences
    #[command(after_help = COMPARE_HELP)]
    Compare(CompareArgs),
    /// Run a scenario and compare it with the published figures (scenarios/targets.toml)
    #[command(
        after_help = "Targets are shown in groups by role: fitted (a parameter was calibrated to it), held out \
(nothing was set from it: the evidence), input echoes (they measure what the model was given) and \
references (shown only). Each group has its pass count; check.csv has a `role` column.\n\n\
Writes check.csv and manifest.json into a new run folder (outputs/<scenario name>/<run id>/) \
or --out DIR.\n\n\
Exit status: 0 if every fitted target, input echo and money target passes, 3 if one fails (one \
this version cannot measure does not pass), 1 bad input, 2 internal error. A held-out count or \
share that misses is reported (`miss`) but does not change the exit status.\n\nExamples:\n  \
fleksim check\n  fleksim check scenarios/history.toml -n 50"
    )]
    Check(CheckArgs),
    /// Fit free parameters to the published figures and write the calibrated scenario
    #[command(after_help = CALIBRATE_HELP)]
    Calibrate(CalibrateArgs),
    /// Run a proposal over a grid or a Latin hypercube of parameter values, each paired with the baseline
    #[command(after_help = SWEEP_HELP)]
    Sweep(SweepArgs),
    /// One-way sensitivity: each uncertain parameter at its low and high value (tornado table)
    #[command(
        after_help = SENSITIVITY_HELP,
        mut_arg("replications", |a| a.default_value("8")),
        mut_arg("scale", |a| a.default_value("0.25"))
    )]
    Sensitivity(SensitivityArgs),
    /// Probabilistic sensitivity analysis: parameters drawn from their distributions
    #[command(
        after_help = UNCERTAINTY_HELP,
        mut_arg("replications", |a| a.default_value("4")),
        mut_arg("scale", |a| a.default_value("0.1"))
    )]
    Uncertainty(UncertaintyArgs),
    /// Find the parameter value at which a metric of the proposal reaches a target (break-even)
    #[command(after_help = SOLVE_HELP)]
    Solve(SolveArgs),
    /// Compute expected stocks, flows and costs exactly, without random numbers
    #[command(after_help = EXACT_HELP)]
    Exact(ExactArgs),
    /// Say in plain words what a scenario changes relative to the file(s) it extends
    #[command(
        after_help = "Examples:\n  fleksim explain scenarios/proposals/d02-clarification-guarantee.toml\n  fleksim explain scenarios/proposals/*.toml"
    )]
    Explain(ExplainArgs),
    /// Test that every transition happens as often as the scenario's rules say (binomial tests)
    #[command(
        after_help = VERIFY_HELP,
        mut_arg("replications", |a| a.default_value("4")),
        mut_arg("scale", |a| a.default_value("0.1"))
    )]
    Verify(VerifyArgs),
    /// Write a self-contained HTML report (charts beside their tables) of an output folder
    #[command(after_help = REPORT_HELP)]
    Report(ReportArgs),
    /// List the runs kept under outputs/: what ran, when, with what settings
    #[command(after_help = RUNS_HELP)]
    Runs(RunsArgs),
    /// Put the partial results of shards (--shard K/N) together into the command's outputs
    #[command(after_help = MERGE_HELP)]
    Merge(MergeArgs),
    /// Print (or write) a Slurm batch script that runs a command as a job array of shards and merges them
    #[command(after_help = SLURM_HELP)]
    Slurm(SlurmArgs),
}

/// `fleksim --version`: the version and the commit it was built from.
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("FLEKSIM_BUILD"), ")");

const RUNS_HELP: &str = "\
Reads the manifest.json of every run folder under outputs/ (or --dir) and lists
them oldest first: the folder (its name says when it started, in UTC), the
command, the scenarios, and its replications, scale and seed. `*` marks the newest run of each name (the one
outputs/<name>/latest names).

Examples:
  fleksim runs
  fleksim runs --name baseline";

#[derive(Debug, Args)]
pub struct RunsArgs {
    /// The folder that holds the run folders
    #[arg(long, default_value = "outputs")]
    pub dir: PathBuf,
    /// Only the runs of this name (the folder under outputs/)
    #[arg(long)]
    pub name: Option<String>,
}

const VERIFY_HELP: &str = "\
Simulates the scenario with the engine and, for every group of person-quarters
that the rules treat alike (state, age group, duration band, flags, phase, gates,
assessments due, folkepension age), tests each outcome's observed frequency
against the probability computed from the scenario file by an exact two-sided
binomial test; p-values are Holm-adjusted, so on a correct engine the chance
that any test fails is at most --alpha. Outcomes expected fewer than 5 times
(or not-happening fewer than 5 times) are skipped; an outcome the rules forbid
fails if it happens at all. Writes verify.csv (one row per test) and
manifest.json into a new run folder (outputs/<scenario name>/<run id>/) or --out DIR.

--shard K/N computes only replications [K·n/N, (K+1)·n/N) and writes their counts
to <out>/part-K-of-N.fleksim-part; `fleksim merge` of every shard's part writes
the verify.csv of the whole run and exits as it would. --mpi splits the
replications over the ranks of an MPI job instead.

Exit status: 0 if every test passes, 3 if one fails, 1 bad input, 2 internal error.

Examples:
  fleksim verify
  fleksim verify scenarios/proposals/d02-clarification-guarantee.toml --all
  fleksim verify --scale 1 -n 8 --alpha 0.01
  fleksim verify -n 200 --shard 3/10 --out parts  # then: fleksim merge parts";

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Scenario file (default: the embedded baseline)
    pub scenario: Option<PathBuf>,
    #[command(flatten)]
    pub sim: SimArgs,
    /// Family-wise error rate: the most a correct engine may fail, by chance
    #[arg(long, default_value_t = fleksim::analysis::verify::DEFAULT_ALPHA)]
    pub alpha: f64,
    /// Print every test, not only the failures
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub shard: ShardArgs,
    /// Output folder, empty or new (default: a new run folder under outputs/<scenario name>/)
    #[arg(short, long)]
    pub out: Option<PathBuf>,
    /// Write into a non-empty --out folder (files of the same names are replaced, others kept)
    #[arg(long, requires = "out")]
    pub force: bool,
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
    #[command(flatten)]
    pub shard: ShardArgs,
    /// Output folder, empty or new (default: a new run folder under outputs/<scenario name>/)
    #[arg(short, long)]
    pub out: Option<PathBuf>,
    /// Write into a non-empty --out folder (files of the same names are replaced, others kept)
    #[arg(long, requires = "out")]
    pub force: bool,
}

const CALIBRATE_HELP: &str = "\
Minimises the squared distance of every measured target from its published value,
each divided by its tolerance, by Nelder-Mead. Every evaluation runs the same
replications with the same seed, so the result is deterministic for a seed. Use a
small scale for speed; check the result at full scale with `fleksim check`.

Exit status: 0 success, 1 bad input, 2 internal error.

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
    /// Replace the --out file if it exists
    #[arg(long)]
    pub force: bool,
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
and manifest.json into a new run folder (outputs/<proposal name>/<run id>/ for
one proposal, outputs/compare/<run id>/ for several) or --out DIR.

The baseline is the embedded one (the same text as scenarios/baseline.toml),
or --baseline FILE. The form of earlier versions, `compare BASELINE PROPOSAL...`,
still works: without --baseline, a first file that extends nothing (a complete
scenario) followed by files that extend something is taken as the baseline.

Exit status: 0 success, 1 bad input, 2 internal error.

Examples:
  fleksim compare scenarios/proposals/*.toml
  fleksim compare scenarios/proposals/ds.toml -n 50 --scale 0.25
  fleksim compare --baseline scenarios/baseline.toml scenarios/history.toml";

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Proposal scenario files
    #[arg(required = true)]
    pub proposals: Vec<PathBuf>,
    /// The baseline scenario file (default: the embedded baseline)
    #[arg(long)]
    pub baseline: Option<PathBuf>,
    #[command(flatten)]
    pub sim: SimArgs,
    #[command(flatten)]
    pub shard: ShardArgs,
    /// Output folder, empty or new (default: a new run folder under outputs/)
    #[arg(short, long)]
    pub out: Option<PathBuf>,
    /// Write into a non-empty --out folder (files of the same names are replaced, others kept)
    #[arg(long, requires = "out")]
    pub force: bool,
    /// Report money at this year's prices (each scenario's [prices.index]
    /// turns its price_year amounts into them)
    #[arg(long, value_name = "YEAR")]
    pub prices: Option<i32>,
    /// Print no tables
    #[arg(long)]
    pub quiet: bool,
}

/// Simulation options shared by every command that simulates.
#[derive(Debug, Args)]
pub struct SimArgs {
    /// Number of Monte Carlo replications
    #[arg(short = 'n', long, default_value_t = 20, allow_negative_numbers = true)]
    pub replications: u32,
    /// Master seed; a replication's random numbers depend on (seed, replication) only
    #[arg(short, long, default_value_t = 2019, allow_negative_numbers = true)]
    pub seed: u64,
    /// Worker threads (default: RAYON_NUM_THREADS or the number of cores)
    #[arg(short = 'j', long, allow_negative_numbers = true)]
    pub threads: Option<usize>,
    /// Fraction of the population to simulate; counts are scaled back up
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub scale: f64,
    /// Override the scenarios' horizon (quarters)
    #[arg(short, long, allow_negative_numbers = true)]
    pub quarters: Option<u16>,
    /// Set a parameter by its path in every scenario loaded, e.g.
    /// --set costs.discount_rate=0.05 or --set transitions.kontanthjaelp.employed.all=0.03
    /// (repeatable; the value in TOML syntax)
    #[arg(long = "set", value_name = "PATH=VALUE", value_parser = scenario::parse_override)]
    pub set: Vec<scenario::Override>,
}

const RUN_HELP: &str = "\
Writes stocks.csv, flows.csv, costs.csv, annual.csv, outcomes.csv and
manifest.json into a new run folder outputs/<scenario name>/<run id>/ (the file
outputs/<scenario name>/latest names the newest), or into --out DIR, which must
be empty unless --force. Files appear only when the run has finished; a failed
run leaves none behind. A scenario file without `name` is named after the file.

Exit status: 0 success, 1 bad input, 2 internal error.

Examples:
  fleksim run
  fleksim run scenarios/baseline.toml --replications 100 --threads 2
  fleksim run --prices 2024 --scale 0.1
  RAYON_NUM_THREADS=1 fleksim run --seed 1 --out /tmp/fleksim-seed-1";

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenario file (default: the embedded baseline, same as scenarios/baseline.toml)
    pub scenario: Option<PathBuf>,
    #[command(flatten)]
    pub sim: SimArgs,
    #[command(flatten)]
    pub shard: ShardArgs,
    /// Report money at this year's prices (the scenario's [prices.index]
    /// turns its price_year amounts into them)
    #[arg(long, value_name = "YEAR")]
    pub prices: Option<i32>,
    /// Output folder, empty or new (default: a new run folder under outputs/<scenario name>/)
    #[arg(short, long)]
    pub out: Option<PathBuf>,
    /// Write into a non-empty --out folder (files of the same names are replaced, others kept)
    #[arg(long, requires = "out")]
    pub force: bool,
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
ci_low = ci_high = mean into a new run folder outputs/<scenario name>/<run id>/
(the id ends in -exact) or --out DIR. Shares and mean times (outcomes.csv) are
not computed: the mean of a ratio is not a ratio of means. The whole baseline
horizon takes minutes; --quarters shortens it.

Exit status: 0 success, 1 bad input, 2 internal error.

Examples:
  fleksim exact
  fleksim exact scenarios/proposals/d02-clarification-guarantee.toml --quarters 12
  fleksim exact --quarters 8 --set transitions.kontanthjaelp.employed.all=0.03";

#[derive(Debug, Args)]
pub struct ExactArgs {
    /// Scenario file (default: the embedded baseline, same as scenarios/baseline.toml)
    pub scenario: Option<PathBuf>,
    /// Override the scenario's horizon (quarters)
    #[arg(short, long, allow_negative_numbers = true)]
    pub quarters: Option<u16>,
    /// Population scale whose Monte Carlo mean to reproduce (cohort sizes are rounded as in `run`)
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub scale: f64,
    /// Set a parameter by its path, as in `run` (repeatable; the value in TOML syntax)
    #[arg(long = "set", value_name = "PATH=VALUE", value_parser = scenario::parse_override)]
    pub set: Vec<scenario::Override>,
    /// Output folder, empty or new (default: a new run folder under outputs/<scenario name>/)
    #[arg(short, long)]
    pub out: Option<PathBuf>,
    /// Write into a non-empty --out folder (files of the same names are replaced, others kept)
    #[arg(long, requires = "out")]
    pub force: bool,
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

const SWEEP_HELP: &str = "\
Every point runs the proposal with the varied values against the baseline, with
the same seeds as `compare` (paired differences). Grids combine as a Cartesian
product; --lhs draws N points of a Latin hypercube over the --range values.
Writes sweep.csv (one row per point and metric: point, the varied parameters,
then the compare.csv columns) and manifest.json into a new run folder
(outputs/<proposal name>/<run id>/) or --out DIR. Each finished point is saved
at once (in outputs/<proposal name>/.parts/, or DIR/.parts/): run the same
command again after an interruption and only the missing points are computed.

Exit status: 0 success, 1 bad input, 2 internal error.

Examples:
  fleksim sweep scenarios/proposals/d05-shorter-waits.toml \\
      --vary ressourceforloeb.phases.passive.active=0.15:0.35:5 --scale 0.1 -n 8
  fleksim sweep scenarios/proposals/d05-shorter-waits.toml \\
      --vary ressourceforloeb.phases.passive.active=0.15,0.25 \\
      --vary ressourceforloeb.phases.waiting_team.waiting_intervention=0.8,0.9
  fleksim sweep scenarios/proposals/d05-shorter-waits.toml --lhs 50 \\
      --range ressourceforloeb.phases.passive.active=0.15:0.35 \\
      --range ressourceforloeb.phases.waiting_intervention.active=0.4:0.85 --metric 'pv.*'";

/// Options shared by sweep, sensitivity, uncertainty and solve.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The proposal scenario file
    pub proposal: PathBuf,
    /// The baseline scenario file (default: the embedded baseline)
    #[arg(long)]
    pub baseline: Option<PathBuf>,
    #[command(flatten)]
    pub sim: SimArgs,
    #[command(flatten)]
    pub shard: ShardArgs,
    /// Output folder, empty or new (default: a new run folder under outputs/<proposal name>/)
    #[arg(short, long)]
    pub out: Option<PathBuf>,
    /// Write into a non-empty --out folder (files of the same names are replaced, others kept)
    #[arg(long, requires = "out")]
    pub force: bool,
    /// Print no tables
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct SweepArgs {
    #[command(flatten)]
    pub plan: PlanArgs,
    /// A parameter and its values: PATH=start:stop:count or PATH=a,b,c (repeatable; combined as a grid)
    #[arg(long, value_name = "PATH=VALUES", value_parser = fleksim::analysis::sweep::parse_vary, conflicts_with = "lhs")]
    pub vary: Vec<(String, Vec<f64>)>,
    /// Latin hypercube sampling: this many points over the --range values
    #[arg(long, value_name = "N", requires = "range")]
    pub lhs: Option<usize>,
    /// A parameter range for --lhs: PATH=low:high (repeatable)
    #[arg(long, value_name = "PATH=LOW:HIGH", value_parser = fleksim::analysis::sweep::parse_range, requires = "lhs")]
    pub range: Vec<(String, f64, f64)>,
    /// Keep only these metrics in sweep.csv (an id as in compare.csv, or a prefix ending in `*`; repeatable)
    #[arg(long, value_name = "METRIC")]
    pub metric: Vec<String>,
}

const SENSITIVITY_HELP: &str = "\
Runs the proposal at the central values of its uncertain parameters (the
[uncertainty.<id>] tables of the file and the files it extends), then each
parameter at its low and at its high value with the others central, all
paired with the baseline. Prints the tornado table sorted by the swing of the
chosen metric and writes sensitivity.csv (the tornado data) and
sensitivity-points.csv (every metric at every point) with manifest.json to a
new run folder (outputs/<proposal name>/<run id>/) or --out DIR.
Defaults: 8 replications at scale 0.25 per point (a package has 2 points per
uncertain parameter); raise them for a memo.

Exit status: 0 success, 1 bad input, 2 internal error.

Examples:
  fleksim sensitivity scenarios/proposals/ds.toml --scale 0.1 -n 8
  fleksim sensitivity scenarios/proposals/d05-shorter-waits.toml --metric cost.intervention.all@2024";

#[derive(Debug, Args)]
pub struct SensitivityArgs {
    #[command(flatten)]
    pub plan: PlanArgs,
    /// The metric to sort by: an id of compare.csv, with @period if it has several
    #[arg(long, default_value = "pv.total.all")]
    pub metric: fleksim::analysis::sweep::MetricSel,
}

const UNCERTAINTY_HELP: &str = "\
Draws the uncertain parameters of the proposal ([uncertainty.<id>] tables)
from their distributions by Latin hypercube sampling and runs each draw,
paired with the baseline, with --replications replications. Reports for each
metric the distribution of the difference over draws (mean, 2.5/50/97.5 %),
the spread due to the parameters apart from the Monte Carlo noise, the
probability that the difference is below zero, and each parameter's Spearman
rank correlation with it. Writes uncertainty.csv (one row per draw and metric,
with the drawn values), uncertainty-summary.csv and uncertainty-drivers.csv.
Resumable like sweep. Defaults: 4 replications at scale 0.1 per draw: the
spread over draws is mostly parameter uncertainty, and the files report the
Monte Carlo part apart (mc_se).

Exit status: 0 success, 1 bad input, 2 internal error.

Examples:
  fleksim uncertainty scenarios/proposals/ds.toml --draws 200 --scale 0.1 -n 4
  fleksim uncertainty scenarios/proposals/lo-ftf-ac.toml --draws 500 --metric pv.total.all";

#[derive(Debug, Args)]
pub struct UncertaintyArgs {
    #[command(flatten)]
    pub plan: PlanArgs,
    /// Number of parameter draws
    #[arg(long, default_value_t = 200)]
    pub draws: usize,
    /// The metric reported on the terminal (all are in the files)
    #[arg(long, default_value = "pv.total.all")]
    pub metric: fleksim::analysis::sweep::MetricSel,
}

const SOLVE_HELP: &str = "\
Finds the value of one parameter of the proposal at which the chosen metric's
difference from the baseline equals the target, by bisection on the paired
(common random numbers) difference. The range is --range, or the parameter's
[uncertainty] low..high. Reports the value with its Monte Carlo standard
error, or says that no value in the range reaches the target. Writes solve.csv
(every evaluation) and manifest.json into a new run folder
(outputs/<proposal name>/<run id>/) or --out DIR.

Exit status: 0 a value was found, 3 no value in the range reaches the target,
1 bad input, 2 internal error.

Examples:
  fleksim solve scenarios/proposals/l12-no-offsetting.toml --scale 0.1 \\
      --vary costs.insurance.offset --range 0:1 --target pv.total.all=300e6
      # the offset at which L12 costs DKK 300 m in present value
  fleksim solve scenarios/proposals/d05-shorter-waits.toml \\
      --vary ressourceforloeb.phases.passive.active --target pv.total.all=400e6
      # how much more active intervention D5 buys for DKK 400 m";

#[derive(Debug, Args)]
pub struct SolveArgs {
    #[command(flatten)]
    pub plan: PlanArgs,
    /// The parameter to solve for, by its path
    #[arg(long, value_name = "PATH")]
    pub vary: String,
    /// Search range LOW:HIGH (default: the parameter's uncertainty range)
    #[arg(long, value_name = "LOW:HIGH")]
    pub range: Option<String>,
    /// METRIC=VALUE: the metric's difference from the baseline to reach, e.g. pv.total.all=0
    #[arg(long, value_name = "METRIC=VALUE")]
    pub target: String,
    /// Stop when the bracket is narrower than this (default: range / 1000)
    #[arg(long)]
    pub tol: Option<f64>,
    /// Most bisection steps
    #[arg(long, default_value_t = 40)]
    pub max_iter: usize,
}

const REPORT_HELP: &str = "\
Reads the output folder of run, compare, sweep, sensitivity, uncertainty or
check (a folder may hold several) and writes into FOLDER/report/ (or --out):
report.html, one self-contained page that opens offline, each chart beside the
table of its numbers, with the folder's manifest and what the scenario
assumes (explain.txt, or `fleksim explain` of the files the manifest names);
every chart as SVG and PNG; compare.xlsx (one sheet per proposal) for a
comparison; with --locale da, numbers written 12.345,6 and each main CSV again
as <name>-da.csv for Danish Excel (semicolons, decimal comma).

Examples:
  fleksim compare scenarios/baseline.toml scenarios/proposals/ds.toml --scale 0.1 -n 8 --out outputs/ds
  fleksim report outputs/ds
  fleksim report outputs/ds --locale da --out outputs/ds-report-da";

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// An output folder of fleksim (run, compare, sweep, sensitivity, uncertainty, check)
    pub folder: PathBuf,
    /// Where to write the report (default: FOLDER/report)
    #[arg(short, long)]
    pub out: Option<PathBuf>,
    /// How numbers are written: en (12,345.6) or da (12.345,6, and CSV files for Danish Excel)
    #[arg(long, default_value = "en", value_parser = ["en", "da"])]
    pub locale: String,
    /// Print nothing
    #[arg(long)]
    pub quiet: bool,
}

/// Splitting a command's units (replications; points of the sweep family)
/// over processes: shards merged later, or the ranks of an MPI job.
#[derive(Debug, Default, Args)]
pub struct ShardArgs {
    /// Compute only shard K of N (K from 0 to N-1): the contiguous block of
    /// units [K·U/N, (K+1)·U/N) of the U replications (sweep, sensitivity,
    /// uncertainty: points), written as a partial file
    /// <out>/part-K-of-N.fleksim-part for `fleksim merge`
    #[arg(long, value_name = "K/N")]
    pub shard: Option<fleksim::engine::units::Shard>,
    /// Split the units over the ranks of an MPI job (mpirun -np P fleksim
    /// ... --mpi): rank 0 gathers every rank's values and writes the outputs
    /// (needs a build with the `mpi` feature)
    #[arg(long, conflicts_with = "shard")]
    pub mpi: bool,
    /// Set by `merge`: the values come from partial files.
    #[arg(skip)]
    pub replay: super::shard::Replay,
}

const MERGE_HELP: &str = "\
Reads the partial files written by the shards of one command (--shard K/N),
checks that they belong together (same fleksim version, command, inputs and
settings; every unit present exactly once; a part that does not fit is named)
and writes the command's outputs into --out, byte-identical to the same command
run whole on one machine (the manifest's times, threads, command line and
person-quarters describe the merge). The command is run again from the
arguments stored in the parts, without simulating: run merge in the directory
the shards ran in, with the same input files (their hashes are checked).
A folder given as PART stands for the partial files in it.

Examples:
  fleksim run -n 6 --scale 0.05 --shard 0/3 --out parts
  fleksim run -n 6 --scale 0.05 --shard 1/3 --out parts
  fleksim run -n 6 --scale 0.05 --shard 2/3 --out parts
  fleksim merge parts --out results";

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Partial files (part-K-of-N.fleksim-part), or folders holding them
    #[arg(required = true)]
    pub parts: Vec<PathBuf>,
    /// Output folder of the merged results
    #[arg(short, long)]
    pub out: PathBuf,
}

const SLURM_HELP: &str = "\
Prints a Slurm batch script (or writes it with --out) that runs COMMAND as a
job array of --tasks shards (task K runs --shard K/N, writing its partial into
<dir>/parts) and submits a merge job that starts when every task has succeeded
(--dependency=afterok), writing the outputs into <dir>/results. Edit the
#SBATCH resource lines for your cluster, then run the script with bash on the
login node (it calls sbatch twice).

Examples:
  fleksim slurm --tasks 100 --dir /scratch/ds -- uncertainty scenarios/proposals/ds.toml --draws 10000
  fleksim slurm --tasks 3 --out job.sh -- run --scale 0.02 -n 3";

#[derive(Debug, Args)]
pub struct SlurmArgs {
    /// Number of array tasks (shards)
    #[arg(long)]
    pub tasks: u32,
    /// Folder for the parts, the results and the logs (default: slurm-<command>)
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Write the script to this file instead of printing it
    #[arg(short, long)]
    pub out: Option<PathBuf>,
    /// The fleksim executable the jobs run (default: this one)
    #[arg(long)]
    pub fleksim: Option<PathBuf>,
    /// The command and its arguments (without --shard or --out)
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true, num_args = 1..)]
    pub command: Vec<String>,
}
