//! manifest.json: what a command did, with what, and when. Every command
//! that writes an output folder writes one, so a folder always says which
//! build, inputs and settings made the files beside it.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::scenario::{Scenario, Sources};

/// Version of the CSV column layout, re-exported for the manifest.
pub use crate::output::report::OUTPUT_FORMAT_VERSION;

/// The git commit this binary was built from (`unknown` when it was built
/// outside a git checkout, e.g. from a source archive).
pub const GIT_COMMIT: &str = env!("FLEKSIM_GIT_COMMIT");

/// Whether tracked files differed from [`GIT_COMMIT`] at build time:
/// `true`, `false` or `unknown`.
pub const GIT_DIRTY: &str = env!("FLEKSIM_GIT_DIRTY");

/// One input of a command: a scenario (with every file it was merged from)
/// or a targets file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Input {
    /// What the input is to the command: `scenario`, `baseline`,
    /// `proposal` or `targets`.
    pub role: String,
    /// The path as given (or `<embedded>/...` for a built-in file).
    pub path: String,
    /// The scenario's name (empty for a targets file).
    #[serde(default)]
    pub name: String,
    /// Content hash: a scenario's resolved document (after `extends` and
    /// `--set`), a targets file's text.
    pub hash: String,
    /// Every file the scenario was merged from, the given one first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
}

impl Input {
    /// A scenario input with its resolved hash.
    pub fn scenario(role: &str, path: &str, sc: &Scenario, sources: &Sources) -> Input {
        Input {
            role: role.to_string(),
            path: path.to_string(),
            name: sc.name.clone(),
            hash: sc.hash.clone(),
            files: sources.files.iter().map(|f| f.name.clone()).collect(),
        }
    }

    /// A file read as text (a targets file).
    pub fn text(role: &str, path: &str, text: &str) -> Input {
        Input {
            role: role.to_string(),
            path: path.to_string(),
            name: String::new(),
            hash: format!("{:016x}", crate::scenario::fnv1a(text.as_bytes())),
            files: Vec::new(),
        }
    }
}

/// What was run, how, and how long it took (manifest.json).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub fleksim_version: String,
    pub git_commit: String,
    pub git_dirty: String,
    pub output_format_version: u32,
    /// The subcommand: `run`, `exact`, `compare`, `check`, `verify`,
    /// `sweep`, `sensitivity`, `uncertainty`, `solve`, `calibrate`.
    pub command: String,
    /// The scenario a single-scenario command ran (run, exact, check,
    /// verify), or the proposal of the sweep family; the baseline of a
    /// comparison.
    pub scenario: String,
    pub scenario_hash: String,
    pub scenario_sources: Vec<String>,
    pub start_quarter: String,
    pub horizon_quarters: u16,
    /// Every input with its resolved content hash.
    pub inputs: Vec<Input>,
    pub seed: u64,
    pub replications: u32,
    pub scale: f64,
    pub threads: usize,
    /// The command's other settings (prices, alpha, metric, parameters, ...).
    #[serde(default)]
    pub settings: serde_json::Map<String, serde_json::Value>,
    pub command_line: Vec<String>,
    pub start_time: String,
    pub end_time: String,
    pub person_quarters: u64,
    pub elapsed_seconds: f64,
    /// Combined checksum of every replication's final states (FNV-1a over
    /// each replication's `Population::checksum`), or of the CSV bytes
    /// where no population is simulated.
    #[serde(default)]
    pub checksum: String,
    /// The year whose prices money is reported in, when not the scenario's
    /// own `price_year` (`--prices`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prices: Option<i32>,
}

impl Manifest {
    /// A manifest of `command` started at `started` and ending now, with
    /// the build's version and commit and the command line; the caller
    /// sets the rest.
    pub fn new(command: &str, started: std::time::SystemTime) -> Manifest {
        Manifest {
            fleksim_version: env!("CARGO_PKG_VERSION").to_string(),
            git_commit: GIT_COMMIT.to_string(),
            git_dirty: GIT_DIRTY.to_string(),
            output_format_version: OUTPUT_FORMAT_VERSION,
            command: command.to_string(),
            scenario: String::new(),
            scenario_hash: String::new(),
            scenario_sources: Vec::new(),
            start_quarter: String::new(),
            horizon_quarters: 0,
            inputs: Vec::new(),
            seed: 0,
            replications: 0,
            scale: 1.0,
            threads: 1,
            settings: serde_json::Map::new(),
            command_line: std::env::args().collect(),
            start_time: humantime::format_rfc3339_seconds(started).to_string(),
            end_time: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            person_quarters: 0,
            elapsed_seconds: 0.0,
            checksum: String::new(),
            prices: None,
        }
    }

    /// Describes the main scenario (its name, hash, files and period) and
    /// lists it as an input in `role`.
    pub fn with_scenario(
        mut self,
        role: &str,
        path: &str,
        sc: &Scenario,
        sources: &Sources,
    ) -> Manifest {
        self.scenario = sc.name.clone();
        self.scenario_hash = sc.hash.clone();
        self.scenario_sources = sources.files.iter().map(|f| f.name.clone()).collect();
        self.start_quarter = sc.start.to_string();
        self.horizon_quarters = sc.horizon;
        self.inputs.push(Input::scenario(role, path, sc, sources));
        self
    }

    /// Records a setting.
    pub fn set(&mut self, key: &str, value: impl Serialize) {
        let v = serde_json::to_value(value).unwrap_or(serde_json::Value::Null);
        self.settings.insert(key.to_string(), v);
    }

    pub fn to_json(&self) -> Result<Vec<u8>> {
        let mut v = serde_json::to_vec_pretty(self)
            .map_err(|e| Error::Internal(format!("manifest encoding: {e}")))?;
        v.push(b'\n');
        Ok(v)
    }
}
