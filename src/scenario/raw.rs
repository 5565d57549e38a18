//! The scenario file schema as serde reads it, before any semantic check.
//!
//! Every struct denies unknown fields, so a misspelt key is an error with a
//! did-you-mean hint rather than a silently ignored setting. Maps keyed by
//! state, band or phase names are `BTreeMap<String, _>` here; `validate`
//! turns the names into indices and reports unknown ones with their line.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};

/// The whole (merged) scenario document.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub schema_version: u32,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// First simulated quarter, e.g. `"2019Q1"`.
    pub start: String,
    /// Number of simulated quarters.
    pub horizon: i64,
    /// Price level of every amount in `[costs]`.
    pub price_year: i32,
    /// The reform's age line in years (`when.age = "under_line"` / `"over_line"`).
    #[serde(default = "default_age_line")]
    pub age_line: i64,
    pub population: RawPopulation,
    #[serde(default)]
    pub transitions: BTreeMap<String, BTreeMap<String, RawTransition>>,
    #[serde(default)]
    pub ressourceforloeb: Option<RawRessourceforloeb>,
    #[serde(default)]
    pub fleksjob: Option<RawFleksjob>,
    #[serde(default)]
    pub gates: BTreeMap<String, RawGate>,
    #[serde(default)]
    pub assessments: BTreeMap<String, RawAssessment>,
    pub costs: RawCosts,
    /// Variants of named states, by their own state id.
    #[serde(default)]
    pub variants: BTreeMap<String, RawVariant>,
    /// Uncertain parameters, by a short id (sweeps, `sensitivity`, `uncertainty`).
    #[serde(default)]
    pub uncertainty: BTreeMap<String, RawUncertain>,
    /// Dated changes of numbers: from a quarter, or ramped in.
    #[serde(default)]
    pub schedule: Vec<RawSchedule>,
    /// A price index, to report results in another year's prices.
    pub prices: Option<RawPrices>,
}

/// `[prices]`: the level of benefit rates by year (any base).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPrices {
    pub index: BTreeMap<String, f64>,
}

/// One dated change: `path` changed by `factor`, `add` or to `value` from
/// quarter `from`, reaching the full change at `until` (a linear ramp).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSchedule {
    pub path: String,
    pub factor: Option<f64>,
    pub add: Option<f64>,
    pub value: Option<f64>,
    pub from: String,
    pub until: Option<String>,
}

/// A variant of a named state: `of` is the state it behaves like.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVariant {
    pub of: String,
    #[serde(default)]
    pub description: String,
}

/// The uncertainty of one numeric parameter: a range, a distribution and why.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawUncertain {
    /// Parameter path, as for `--set` (e.g. `ressourceforloeb.phases.passive.active`).
    pub path: String,
    pub low: f64,
    pub high: f64,
    /// `triangular` (default), `uniform`, `normal`, `lognormal`, `beta` or `gamma`.
    pub distribution: Option<String>,
    /// Optional truncation of the distribution.
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// The justification of the range.
    pub why: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPopulation {
    /// Initial stock per state at the start of the first quarter.
    #[serde(default)]
    pub stock: BTreeMap<String, RawCohort>,
    /// New entrants per quarter per entry state.
    #[serde(default)]
    pub inflow: BTreeMap<String, RawCohort>,
    pub pension_age: Vec<RawPensionStep>,
}

/// A group of persons: either an initial stock (`count`) or a quarterly
/// inflow (`per_quarter`), with the distribution of their attributes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCohort {
    pub count: Option<f64>,
    pub per_quarter: Option<f64>,
    /// Shares by age band in whole years, e.g. `"18-29" = 0.3`.
    pub age: BTreeMap<String, f64>,
    /// Shares by quarters already spent in the state (stock only).
    pub duration: Option<BTreeMap<String, f64>>,
    /// Shares by remaining work capacity in hours a week.
    pub hours: Option<BTreeMap<String, f64>>,
    #[serde(default)]
    pub psychiatric: f64,
    #[serde(default)]
    pub insured: f64,
    #[serde(default)]
    pub evident: f64,
    #[serde(default)]
    pub retention: f64,
    /// Share of a førtidspension stock awarded before 1 July 2014.
    #[serde(default)]
    pub pre2014: f64,
    /// Shares by ressourceforløb phase (ressourceforløb stock only).
    pub phase: Option<BTreeMap<String, f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPensionStep {
    /// First birth quarter the step applies to, e.g. `"1954Q1"`.
    pub born_from: String,
    /// Folkepension age in years (multiples of 0.25).
    pub years: f64,
}

/// One `from -> to` transition.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTransition {
    /// `"quarter"` (default) or `"year"`.
    pub per: Option<String>,
    pub all: Option<Banded>,
    pub under40: Option<Banded>,
    pub over40: Option<Banded>,
    /// By age band in years: `{ "18-29" = 0.1, "30-59" = 0.05, "60+" = 0.02 }`.
    pub ages: Option<BTreeMap<String, Banded>>,
    /// Multipliers on the probability for persons with an attribute.
    #[serde(default)]
    pub multipliers: BTreeMap<String, f64>,
    /// Multipliers by ressourceforløb phase (from ressourceforløb only).
    #[serde(default)]
    pub phase_multipliers: BTreeMap<String, f64>,
}

/// A probability, either one number for every duration or a table of
/// duration bands (`"1-4" = 0.1, "5+" = 0.05`).
#[derive(Debug, Clone)]
pub enum Banded {
    Flat(f64),
    Bands(BTreeMap<String, f64>),
}

impl<'de> Deserialize<'de> for Banded {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Banded;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a probability or a table of duration bands such as { \"1-4\" = 0.1, \"5+\" = 0.05 }")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Banded, E> {
                Ok(Banded::Flat(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Banded, E> {
                Ok(Banded::Flat(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Banded, E> {
                Ok(Banded::Flat(v as f64))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Banded, A::Error> {
                let mut bands = BTreeMap::new();
                while let Some((k, v)) = map.next_entry::<String, f64>()? {
                    bands.insert(k, v);
                }
                Ok(Banded::Bands(bands))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRessourceforloeb {
    /// Phase a person starts a ressourceforløb in.
    pub entry_phase: String,
    /// Quarterly probabilities between phases: `[ressourceforloeb.phases.<from>] <to> = p`.
    #[serde(default)]
    pub phases: BTreeMap<String, BTreeMap<String, f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFleksjob {
    /// Hours a week at or below which a flex job counts as a minifleksjob.
    pub minifleks_max_hours: i64,
    /// Quarterly probability that an eligible person raises their hours.
    pub raise_probability: f64,
    /// Only persons at or below this many hours may raise them.
    pub raise_eligible_max_hours: i64,
    /// Quarters in the flex job before a raise is possible.
    pub raise_after_quarters: i64,
    /// Hours a week added by one raise.
    pub raise_step_hours: i64,
    /// Upper bound on hours a week.
    pub max_hours: i64,
}

/// A condition on a person.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWhen {
    /// `"under40"`, `"over40"`, `"under_line"`, `"over_line"`, or a band
    /// in years (`"30-39"`, `"60+"`).
    pub age: Option<String>,
    /// Folkepension age at most this many years away.
    pub within_years_of_pension: Option<i64>,
    pub psychiatric: Option<bool>,
    pub insured: Option<bool>,
    pub evident: Option<bool>,
    pub retention: Option<bool>,
    /// Remaining work capacity at least this many hours a week.
    pub min_hours: Option<i64>,
    /// Remaining work capacity at most this many hours a week.
    pub max_hours: Option<i64>,
}

/// A rule that forbids transitions for the persons it matches.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGate {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Source states (default: every state).
    pub from: Option<Vec<String>>,
    /// Blocked target states.
    pub to: Vec<String>,
    #[serde(default)]
    pub when: RawWhen,
    /// Block only while the decision duration is below this many quarters.
    pub before_duration: Option<i64>,
    /// Where the blocked probability goes instead (default: stay).
    pub redirect: Option<String>,
    pub active_from: Option<String>,
    pub active_until: Option<String>,
}

/// A forced assessment at a duration, with routing shares.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAssessment {
    #[serde(default = "yes")]
    pub enabled: bool,
    pub state: String,
    /// Decision duration (quarters completed) at which it happens.
    pub at: i64,
    /// Repeat every this many quarters after `at` (0 = once).
    #[serde(default)]
    pub every: i64,
    /// `"in_state"` (default) or `"cumulative"` (total quarters ever in ressourceforløb).
    pub clock: Option<String>,
    #[serde(default)]
    pub when: RawWhen,
    /// Shares routed to each target; the rest stay and follow the ordinary transitions.
    pub route: BTreeMap<String, f64>,
    pub active_from: Option<String>,
    pub active_until: Option<String>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCosts {
    /// Annual discount rate for present values.
    pub discount_rate: f64,
    /// DKK per month per person, by benefit state: one rate, or rates by
    /// age band in years (`{ "18-29" = 6545, "30+" = 12550 }`).
    pub monthly: BTreeMap<String, RawRate>,
    pub fleksloentilskud: RawFlexSubsidy,
    pub insurance: RawInsurance,
    pub refusion: RawRefusion,
    /// Services besides benefits (optional; all zero when absent).
    #[serde(default)]
    pub services: RawServices,
    /// Financing of a variant's benefit, by variant id (optional; a variant
    /// without one is financed as its base state).
    #[serde(default)]
    pub financing: BTreeMap<String, RawFinancing>,
}

/// Who pays a variant's benefit.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFinancing {
    /// Fixed state share of every quarter (the municipality pays the rest).
    pub state_share: f64,
}

/// Public service costs besides benefits, DKK.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawServices {
    /// Per person-quarter in ressourceforløb with an active intervention.
    #[serde(default)]
    pub intervention_active: f64,
    /// Per person-quarter in a company-oriented measure.
    #[serde(default)]
    pub intervention_company: f64,
    /// Per ressourceforløb start (case preparation and team meeting).
    #[serde(default)]
    pub rehab_team_per_case: f64,
    /// Coordinating caseworker: salary and overhead a year.
    #[serde(default)]
    pub caseworker_salary: f64,
    /// Ressourceforløb cases per coordinating caseworker.
    #[serde(default = "default_caseload")]
    pub caseworker_caseload: f64,
    /// Education during revalidering, a year per person.
    #[serde(default)]
    pub revalidering_education: f64,
    /// State share of that education cost (the municipality pays the rest).
    #[serde(default)]
    pub revalidering_education_state_share: f64,
}

fn default_caseload() -> f64 {
    1.0
}

impl Default for RawServices {
    fn default() -> Self {
        RawServices {
            intervention_active: 0.0,
            intervention_company: 0.0,
            rehab_team_per_case: 0.0,
            caseworker_salary: 0.0,
            caseworker_caseload: default_caseload(),
            revalidering_education: 0.0,
            revalidering_education_state_share: 0.0,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFlexSubsidy {
    /// Maximum subsidy, DKK per month.
    pub max: f64,
    /// Wage below which the subsidy falls by `rate_below` per DKK.
    pub threshold: f64,
    pub rate_below: f64,
    pub rate_above: f64,
    /// Hourly wage in a flex job, DKK.
    pub hourly_wage: f64,
    /// Weeks per month used to turn hours a week into a monthly wage.
    pub weeks_per_month: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInsurance {
    /// Private loss-of-earning-capacity payment, DKK per month, for insured persons.
    pub monthly_payment: f64,
    /// Share of that payment offset against ressourceforløbsydelse.
    pub offset: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRefusion {
    /// State share by quarter on benefit: 1st, 2nd, 3rd, 4th, 5th and later.
    pub state_share: Vec<f64>,
    /// Quarters in a row off benefit after which the clock resets.
    pub reset_after_quarters: i64,
    /// State share of førtidspension awarded before 1 July 2014.
    pub foertidspension_pre2014_state_share: f64,
    /// If set, a fixed state share of førtidspension awarded after 1 July
    /// 2014 in place of the refusion steps (lever D3).
    pub foertidspension_state_share: Option<f64>,
}

/// A monthly rate: one amount, or amounts by age band.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RawRate {
    Flat(f64),
    Ages(BTreeMap<String, f64>),
}

fn default_age_line() -> i64 {
    40
}
