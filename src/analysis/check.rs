//! Published figures against the simulation: `fleksim check`.
//!
//! A targets file (scenarios/targets.toml) lists each figure of
//! docs/sources.md with its source, the period it refers to, how the
//! simulation measures it, a tolerance and its role: `fitted` (a parameter
//! was calibrated to it), `held_out` (nothing was set from it: evidence),
//! `input` (it measures what the model was given) or `reference` (shown
//! only). Each measure is computed per replication from that replication's
//! output values (so sums and ratios get correct intervals), then summarised
//! like every other output.
//!
//! Tolerances: counts and money are relative (`tolerance`, default 10 %);
//! a share passes if it is within `max(abs_tolerance, min(tolerance ×
//! published, 3 points))` of the published share (defaults 0.5 points and
//! 10 %), so a small share is held to a small absolute distance.
//!
//! **Architecture invariant:** no I/O beyond reading the targets file; the
//! CLI prints and writes.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::engine::cells::ENTRY;
use crate::engine::costing::{N_NAMED_ITEMS, item_id};
use crate::engine::results::{Annual, Cell, Layout};
use crate::engine::stats::{CellStats, Welford};
use crate::error::{Error, Result};
use crate::scenario::calendar::Quarter;
use crate::scenario::{Phase, State};

/// Default relative tolerance of counts and money (and of the relative part
/// of the share rule).
pub const COUNT_TOLERANCE: f64 = 0.10;
/// Default absolute floor of the share rule, in shares (0.5 points).
pub const SHARE_ABS_TOLERANCE: f64 = 0.005;
/// The relative part of the share rule never allows more than this (3 points).
pub const SHARE_CAP: f64 = 0.03;
/// Money targets are published in DKK billion; measures give DKK.
pub const DKK_PER_BILLION: f64 = 1e9;

/// What a target is evidence of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A parameter was calibrated to it: a match is by construction.
    Fitted,
    /// Nothing was set from it: evidence.
    HeldOut,
    /// It measures what the model was given (an input echo).
    Input,
    /// Shown for comparison; neither passes nor fails.
    Reference,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Fitted, Role::HeldOut, Role::Input, Role::Reference];

    pub fn id(self) -> &'static str {
        match self {
            Role::Fitted => "fitted",
            Role::HeldOut => "held_out",
            Role::Input => "input",
            Role::Reference => "reference",
        }
    }

    fn from_id(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.id() == s)
    }
}

/// The unit a target is published in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Persons (or days): relative tolerance.
    Count,
    /// A share in [0, 1]: the share rule.
    Share,
    /// Public expenditure in DKK billion: relative tolerance.
    Money,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTargets {
    schema_version: u32,
    target: Vec<RawTarget>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    id: String,
    description: String,
    source: String,
    /// The period the published figure refers to.
    refers_to: String,
    /// A number, or `[low, high]` for a published range.
    published: Published,
    /// `count` or `money` (relative tolerance) or `share` (the share rule).
    kind: String,
    /// The relative tolerance (of a share: the rule's relative part).
    tolerance: Option<f64>,
    /// The absolute floor of the share rule, in shares.
    abs_tolerance: Option<f64>,
    /// Why a tolerance is wider than the default (required then).
    #[serde(default)]
    tolerance_reason: String,
    /// How the period maps, or why a figure is a reference.
    #[serde(default)]
    reason: String,
    /// `fitted`, `held_out`, `input` or `reference`; `fitted` if absent.
    role: Option<String>,
    /// The older form of `role = "reference"`.
    #[serde(default)]
    reference: bool,
    measure: BTreeMap<String, toml::Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Published {
    Value(f64),
    Range([f64; 2]),
}

/// How the simulation measures a target.
#[derive(Debug, Clone, PartialEq)]
enum Measure {
    /// A yearly indicator; divided by the quarters of the year if `per_quarter`.
    Annual {
        metric: Annual,
        year: i32,
        per_quarter: bool,
    },
    /// The sum of stocks at the end of a quarter.
    Stock {
        states: Vec<State>,
        quarter: Quarter,
    },
    /// Stocks of `num` over stocks of `den` at the end of a quarter.
    StockShare {
        num: Vec<State>,
        den: Vec<State>,
        quarter: Quarter,
    },
    /// Share of exits from ressourceforløb to `to` (summed), by age group (2: all).
    RfExit { age: u8, to: Vec<State> },
    /// Persons in a minifleksjob during a quarter.
    Minifleks { quarter: Quarter },
    /// Share of ressourceforløb person-quarters in the given phases during a quarter.
    RfPhase {
        phases: Vec<Phase>,
        quarter: Quarter,
    },
    /// Share of programmes begun in the simulation with no intervention in
    /// their first year (T9).
    RfNoInterventionYearOne,
    /// Mean spell in a ressourceforløb phase over the horizon, in days.
    RfPhaseDays { phase: Phase },
    /// Share of flex-job holders entered as a minifleksjob at least a year
    /// before whose hours were raised, at the end of a quarter (T6).
    MinifleksRaised { quarter: Quarter },
    /// Leavers of revalidering in `num` a year after leaving, over those in
    /// `den` (T13).
    RevalideringAfter { num: Vec<State>, den: Vec<State> },
    /// Moves from ressourceforløb to `to` during a year per person-year in
    /// ressourceforløb (persons at the start of each quarter) (T12).
    RfRate { to: Vec<State>, year: i32 },
    /// Expenditure in a calendar year on items by payers
    /// (`cost.<item>.<payer>`), summed: a published total may cover what
    /// the model splits over two items.
    AnnualCost { year: i32, items: Vec<(u8, u8)> },
    /// Paid volume (full-time persons) in `states`, over a calendar year or
    /// during one quarter.
    Volume { states: Vec<State>, period: Period },
    /// Not measurable by this version; the reason.
    NotMeasured(String),
}

/// The period of a paid volume.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Period {
    Year(i32),
    Quarter(Quarter),
}

/// Days in a quarter (365.25 / 4).
pub const DAYS_PER_QUARTER: f64 = 91.3125;

/// One target, ready to evaluate.
#[derive(Debug, Clone)]
pub struct Target {
    pub id: String,
    pub description: String,
    pub source: String,
    pub refers_to: String,
    pub published: (f64, f64),
    pub kind: Kind,
    /// Relative tolerance (of a share: the rule's relative part).
    pub tolerance: f64,
    /// The share rule's absolute floor (0 for counts and money).
    pub abs_tolerance: f64,
    pub reason: String,
    pub tolerance_reason: String,
    pub role: Role,
    measure: Measure,
}

impl Target {
    /// Signed distance of `x` outside the published value or range (0 inside).
    pub fn distance(&self, x: f64) -> f64 {
        let (lo, hi) = self.published;
        if x < lo {
            x - lo
        } else if x > hi {
            x - hi
        } else {
            0.0
        }
    }

    /// The tolerance in the target's own units on the side a distance `d`
    /// falls (relative tolerances scale with the bound they extend). A
    /// share: `max(abs_tolerance, min(tolerance × bound, SHARE_CAP))`.
    pub fn allowance(&self, d: f64) -> f64 {
        let (lo, hi) = self.published;
        let relative = self.tolerance * if d < 0.0 { lo } else { hi }.abs();
        match self.kind {
            Kind::Share => self.abs_tolerance.max(relative.min(SHARE_CAP)),
            Kind::Count | Kind::Money => relative,
        }
    }

    /// Whether a simulated mean `x` is within tolerance.
    pub fn passes(&self, x: f64) -> bool {
        let d = self.distance(x);
        d.abs() <= self.allowance(d)
    }

    /// Whether a share (as opposed to a count or money).
    pub fn is_share(&self) -> bool {
        self.kind == Kind::Share
    }

    /// `relative` (counts, money) or `share_rule` (shares), for check.csv.
    pub fn tolerance_kind(&self) -> &'static str {
        match self.kind {
            Kind::Share => "share_rule",
            Kind::Count | Kind::Money => "relative",
        }
    }

    /// Whether a miss makes `fleksim check` exit 3: fitted targets, input
    /// echoes and money do; other held-out figures are reported only.
    pub fn gates_exit(&self) -> bool {
        match self.role {
            Role::Fitted | Role::Input => true,
            Role::HeldOut => self.kind == Kind::Money,
            Role::Reference => false,
        }
    }
}

/// The outcome of one target.
#[derive(Debug, Clone)]
pub struct Checked {
    pub target: Target,
    /// None when not measured.
    pub simulated: Option<CellStats>,
    /// None when not measured or a reference figure (a held-out figure
    /// passes or misses like any other; see `Target::gates_exit`).
    pub pass: Option<bool>,
}

fn invalid(path: &Path, msg: String) -> Error {
    Error::Invalid(format!("{}: {msg}", path.display()))
}

/// The targets compiled into the binary (the same text as scenarios/targets.toml).
pub const TARGETS_TOML: &str = include_str!("../../scenarios/targets.toml");

/// Reads a targets file.
pub fn load_targets(path: &Path) -> Result<Vec<Target>> {
    let text = crate::scenario::read_input(path).map_err(|source| Error::Io {
        action: "cannot read targets file",
        path: path.to_path_buf(),
        source,
    })?;
    parse_targets(path, &text)
}

/// Parses targets text; `path` names it in messages.
pub fn parse_targets(path: &Path, text: &str) -> Result<Vec<Target>> {
    let raw: RawTargets = toml::from_str(text).map_err(|e| invalid(path, e.to_string()))?;
    if raw.schema_version != 1 {
        return Err(invalid(
            path,
            format!(
                "targets schema version {} is not supported",
                raw.schema_version
            ),
        ));
    }
    raw.target.into_iter().map(|t| target(path, t)).collect()
}

fn states(path: &Path, id: &str, v: Option<&toml::Value>) -> Result<Vec<State>> {
    let list = match v {
        Some(toml::Value::String(s)) => vec![s.clone()],
        Some(toml::Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => {
            return Err(invalid(
                path,
                format!("target {id}: give the state(s) to measure"),
            ));
        }
    };
    list.iter()
        .map(|s| {
            State::from_id(s)
                .ok_or_else(|| invalid(path, format!("target {id}: unknown state `{s}`")))
        })
        .collect()
}

fn quarter(path: &Path, id: &str, v: Option<&toml::Value>) -> Result<Quarter> {
    v.and_then(|v| v.as_str())
        .and_then(Quarter::parse)
        .ok_or_else(|| {
            invalid(
                path,
                format!("target {id}: `quarter` must be like \"2019Q3\""),
            )
        })
}

fn target(path: &Path, t: RawTarget) -> Result<Target> {
    let id = t.id.clone();
    let m = &t.measure;
    let get = |k: &str| m.get(k);
    let measure = match get("type").and_then(|v| v.as_str()) {
        Some("annual") => {
            let year = get("year")
                .and_then(|v| v.as_integer())
                .ok_or_else(|| invalid(path, format!("target {id}: `year` is needed")))?
                as i32;
            if let Some(names) = get("metric").and_then(|v| v.as_array()) {
                // A list of cost metrics, summed.
                let items = names
                    .iter()
                    .map(|v| {
                        let name = v.as_str().unwrap_or("");
                        cost_metric(name).ok_or_else(|| {
                            invalid(
                                path,
                                format!("target {id}: `{name}` in a list of metrics is not a `cost.<item>.<payer>` metric"),
                            )
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                if items.is_empty() {
                    return Err(invalid(
                        path,
                        format!("target {id}: the list of metrics is empty"),
                    ));
                }
                Measure::AnnualCost { year, items }
            } else {
                let name = get("metric").and_then(|v| v.as_str()).unwrap_or("");
                let per_quarter = get("per_quarter")
                    .and_then(|v| v.as_bool())
                    .unwrap_or(false);
                match (
                    Annual::ALL.into_iter().find(|a| a.id() == name),
                    cost_metric(name),
                ) {
                    (Some(metric), _) => Measure::Annual {
                        metric,
                        year,
                        per_quarter,
                    },
                    (None, Some(item)) if !per_quarter => Measure::AnnualCost {
                        year,
                        items: vec![item],
                    },
                    _ => {
                        return Err(invalid(
                            path,
                            format!("target {id}: unknown yearly metric `{name}`"),
                        ));
                    }
                }
            }
        }
        Some("volume") => {
            let period =
                match (get("year"), get("quarter")) {
                    (Some(y), None) => Period::Year(y.as_integer().ok_or_else(|| {
                        invalid(path, format!("target {id}: `year` must be a year"))
                    })? as i32),
                    (None, Some(_)) => Period::Quarter(quarter(path, &id, get("quarter"))?),
                    _ => {
                        return Err(invalid(
                            path,
                            format!("target {id}: a volume needs `year` or `quarter`, not both"),
                        ));
                    }
                };
            let states = states(path, &id, get("states"))?;
            if states.contains(&State::Out) {
                return Err(invalid(
                    path,
                    format!("target {id}: `out` has no paid volume"),
                ));
            }
            Measure::Volume { states, period }
        }
        Some("stock") => Measure::Stock {
            states: states(path, &id, get("states"))?,
            quarter: quarter(path, &id, get("quarter"))?,
        },
        Some("stock_share") => Measure::StockShare {
            num: states(path, &id, get("states"))?,
            den: states(path, &id, get("of"))?,
            quarter: quarter(path, &id, get("quarter"))?,
        },
        Some("status_after_ressourceforloeb") => {
            let age = match get("age").and_then(|v| v.as_str()) {
                Some("under40") => 0,
                Some("over40") => 1,
                Some("total") | None => 2,
                Some(other) => {
                    return Err(invalid(path, format!("target {id}: age group `{other}`")));
                }
            };
            Measure::RfExit {
                age,
                to: states(path, &id, get("states"))?,
            }
        }
        Some("minifleksjob") => Measure::Minifleks {
            quarter: quarter(path, &id, get("quarter"))?,
        },
        Some("ressourceforloeb_phase_share") => {
            let phases = match get("phases") {
                Some(toml::Value::Array(a)) => a
                    .iter()
                    .map(|x| {
                        x.as_str()
                            .and_then(Phase::from_id)
                            .ok_or_else(|| invalid(path, format!("target {id}: unknown phase {x}")))
                    })
                    .collect::<Result<Vec<_>>>()?,
                _ => return Err(invalid(path, format!("target {id}: give `phases`"))),
            };
            Measure::RfPhase {
                phases,
                quarter: quarter(path, &id, get("quarter"))?,
            }
        }
        Some("ressourceforloeb_no_intervention_year_one") => Measure::RfNoInterventionYearOne,
        Some("ressourceforloeb_phase_days") => {
            let name = get("phase").and_then(|v| v.as_str()).unwrap_or("");
            Measure::RfPhaseDays {
                phase: Phase::from_id(name)
                    .ok_or_else(|| invalid(path, format!("target {id}: unknown phase `{name}`")))?,
            }
        }
        Some("minifleksjob_raised") => Measure::MinifleksRaised {
            quarter: quarter(path, &id, get("quarter"))?,
        },
        Some("status_after_revalidering") => Measure::RevalideringAfter {
            num: states(path, &id, get("states"))?,
            den: states(path, &id, get("of"))?,
        },
        Some("rate_from_ressourceforloeb") => Measure::RfRate {
            to: states(path, &id, get("states"))?,
            year: get("year")
                .and_then(|v| v.as_integer())
                .ok_or_else(|| invalid(path, format!("target {id}: `year` is needed")))?
                as i32,
        },
        Some("not_measured") => Measure::NotMeasured(
            get("why")
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string(),
        ),
        other => {
            return Err(invalid(
                path,
                format!("target {id}: unknown measure type {other:?}"),
            ));
        }
    };
    let kind = match t.kind.as_str() {
        "share" => Kind::Share,
        "count" => Kind::Count,
        "money" => Kind::Money,
        other => {
            return Err(invalid(
                path,
                format!("target {id}: kind `{other}` must be `count`, `share` or `money`"),
            ));
        }
    };
    let is_cost = matches!(measure, Measure::AnnualCost { .. });
    if is_cost != (kind == Kind::Money) {
        return Err(invalid(
            path,
            format!(
                "target {id}: kind `money` goes with a `cost.<item>.<payer>` metric (or a list of them, summed), and only with one"
            ),
        ));
    }
    let role = match (t.role.as_deref(), t.reference) {
        (None, false) => Role::Fitted,
        (None, true) | (Some("reference"), _) => Role::Reference,
        (Some(r), false) => Role::from_id(r).ok_or_else(|| {
            invalid(
                path,
                format!(
                    "target {id}: role `{r}` must be `fitted`, `held_out`, `input` or `reference`"
                ),
            )
        })?,
        (Some(r), true) => {
            return Err(invalid(
                path,
                format!("target {id}: `reference = true` contradicts role `{r}`"),
            ));
        }
    };
    if role == Role::Reference && t.reason.trim().is_empty() {
        return Err(invalid(
            path,
            format!("target {id}: a reference figure needs a `reason`"),
        ));
    }
    let tolerance = t.tolerance.unwrap_or(COUNT_TOLERANCE);
    let abs_default = if kind == Kind::Share {
        SHARE_ABS_TOLERANCE
    } else {
        0.0
    };
    if kind != Kind::Share && t.abs_tolerance.is_some() {
        return Err(invalid(
            path,
            format!("target {id}: `abs_tolerance` applies to shares only"),
        ));
    }
    let abs_tolerance = t.abs_tolerance.unwrap_or(abs_default);
    for (key, v) in [("tolerance", tolerance), ("abs_tolerance", abs_tolerance)] {
        if !(v.is_finite() && v >= 0.0) {
            return Err(invalid(
                path,
                format!("target {id}: `{key}` must be a number at least 0, not {v}"),
            ));
        }
    }
    let wider = tolerance > COUNT_TOLERANCE || abs_tolerance > abs_default;
    if wider && t.tolerance_reason.trim().is_empty() {
        return Err(invalid(
            path,
            format!("target {id}: a tolerance wider than the default needs a `tolerance_reason`"),
        ));
    }
    let published = match t.published {
        Published::Value(v) => (v, v),
        Published::Range([a, b]) => (a.min(b), a.max(b)),
    };
    let unit = 0.0..=1.0;
    if kind == Kind::Share && !(unit.contains(&published.0) && unit.contains(&published.1)) {
        return Err(invalid(
            path,
            format!("target {id}: a share must lie in [0, 1]"),
        ));
    }
    Ok(Target {
        id,
        description: t.description,
        source: t.source,
        refers_to: t.refers_to,
        published,
        kind,
        tolerance,
        abs_tolerance,
        reason: t.reason,
        tolerance_reason: t.tolerance_reason,
        role,
        measure,
    })
}

/// The item and payer of a metric id `cost.<item>.<payer>` (one benefit or
/// service; `payer` is `state`, `municipality` or `all`).
fn cost_metric(name: &str) -> Option<(u8, u8)> {
    let rest = name.strip_prefix("cost.")?;
    let (item, payer) = rest.rsplit_once('.')?;
    let item = (0..N_NAMED_ITEMS).find(|&i| item_id(i) == item)? as u8;
    let payer = ["state", "municipality", "all"]
        .iter()
        .position(|&p| p == payer)? as u8;
    Some((item, payer))
}

/// Cell indices a measure needs, with the closure that combines their values.
/// A plan that sums `cells`.
fn sum_of(cells: Vec<usize>) -> Plan {
    Plan {
        split: cells.len(),
        cells,
        factor: 1.0,
        ratio: false,
    }
}

/// A plan that divides the sum of `num` by the sum of `den`, times `factor`.
fn ratio_of(mut num: Vec<usize>, den: Vec<usize>, factor: f64) -> Plan {
    let split = num.len();
    num.extend(den);
    Plan {
        cells: num,
        split,
        factor,
        ratio: true,
    }
}

struct Plan {
    cells: Vec<usize>,
    /// How many of `cells` form the numerator (the rest: the denominator).
    split: usize,
    /// Multiplies the result.
    factor: f64,
    ratio: bool,
}

fn plan(layout: &Layout, m: &Measure) -> Option<Plan> {
    let idx = |c: Cell| layout.cells.iter().position(|x| *x == c);
    let t_of = |q: Quarter| {
        (q.0 >= layout.start.0)
            .then(|| q.0 - layout.start.0)
            .filter(|&t| t < layout.horizon)
    };
    let stock_t = |q: Quarter| {
        (q.0 + 1 >= layout.start.0)
            .then(|| q.0 + 1 - layout.start.0)
            .filter(|&t| t <= layout.horizon)
    };
    let stocks = |states: &[State], t: u16| -> Option<Vec<usize>> {
        states
            .iter()
            .map(|&s| {
                idx(Cell::Stock {
                    t,
                    state: s as u8,
                    age: 2,
                })
            })
            .collect()
    };
    Some(match m {
        Measure::Annual {
            metric,
            year,
            per_quarter,
        } => {
            let q = layout.years.iter().find(|y| y.0 == *year)?.1;
            Plan {
                cells: vec![idx(Cell::Annual {
                    year: *year,
                    metric: *metric,
                })?],
                split: 1,
                factor: if *per_quarter {
                    1.0 / f64::from(q)
                } else {
                    1.0
                },
                ratio: false,
            }
        }
        Measure::Stock { states, quarter } => {
            let cells = stocks(states, stock_t(*quarter)?)?;
            sum_of(cells)
        }
        Measure::StockShare { num, den, quarter } => {
            let t = stock_t(*quarter)?;
            ratio_of(stocks(num, t)?, stocks(den, t)?, 1.0)
        }
        Measure::RfExit { age, to } => {
            let cells: Vec<usize> = to
                .iter()
                .map(|&s| {
                    idx(Cell::RfExit {
                        age: *age,
                        to: s as u8,
                    })
                })
                .collect::<Option<_>>()?;
            sum_of(cells)
        }
        Measure::Minifleks { quarter } => {
            sum_of(vec![idx(Cell::Minifleks { t: t_of(*quarter)? })?])
        }
        Measure::RfPhase { phases, quarter } => {
            let t = t_of(*quarter)?;
            let cells: Vec<usize> = phases
                .iter()
                .map(|&p| idx(Cell::RfPhaseShare { t, phase: p as u8 }))
                .collect::<Option<_>>()?;
            sum_of(cells)
        }
        Measure::RfNoInterventionYearOne => sum_of(vec![idx(Cell::RfNoInterventionYearOne)?]),
        Measure::RfPhaseDays { phase } => Plan {
            factor: DAYS_PER_QUARTER,
            ..sum_of(vec![idx(Cell::RfPhaseSpell {
                phase: *phase as u8,
            })?])
        },
        Measure::MinifleksRaised { quarter } => {
            sum_of(vec![idx(Cell::MinifleksRaised { t: t_of(*quarter)? })?])
        }
        Measure::RevalideringAfter { num, den } => {
            let cells = |states: &[State]| -> Option<Vec<usize>> {
                states
                    .iter()
                    .map(|&s| idx(Cell::RevalideringAfter { state: s as u8 }))
                    .collect()
            };
            ratio_of(cells(num)?, cells(den)?, 1.0)
        }
        Measure::RfRate { to, year } => {
            // Every quarter of the year must be simulated.
            let ts: Vec<u16> = (0..layout.horizon)
                .filter(|&t| layout.start.plus(t).year() == *year)
                .collect();
            if ts.len() != 4 {
                return None;
            }
            let rf = State::Ressourceforloeb as u8;
            let mut num = Vec::new();
            for &t in &ts {
                for &s in to {
                    num.push(idx(Cell::Flow {
                        t,
                        from: rf,
                        to: s as u8,
                    })?);
                }
            }
            let den = ts
                .iter()
                .map(|&t| {
                    idx(Cell::Stock {
                        t,
                        state: rf,
                        age: 2,
                    })
                })
                .collect::<Option<Vec<_>>>()?;
            // Person-years are person-quarters / 4.
            ratio_of(num, den, 4.0)
        }
        Measure::AnnualCost { year, items } => sum_of(
            items
                .iter()
                .map(|&(item, payer)| {
                    idx(Cell::AnnualCost {
                        year: *year,
                        item,
                        payer,
                    })
                })
                .collect::<Option<Vec<_>>>()?,
        ),
        Measure::Volume {
            states,
            period: Period::Year(year),
        } => {
            // Only whole years: a part-year would not be comparable.
            if layout.years.iter().find(|y| y.0 == *year)?.1 != 4 {
                return None;
            }
            let cells: Vec<usize> = states
                .iter()
                .map(|&s| {
                    idx(Cell::Volume {
                        year: *year,
                        state: s as u8,
                    })
                })
                .collect::<Option<_>>()?;
            sum_of(cells)
        }
        Measure::Volume {
            states,
            period: Period::Quarter(q),
        } => {
            // Persons in the state when the quarter begins plus its entrants.
            let t = t_of(*q)?;
            let mut cells = stocks(states, t)?;
            for &s in states {
                cells.push(idx(Cell::Flow {
                    t,
                    from: ENTRY as u8,
                    to: s as u8,
                })?);
            }
            sum_of(cells)
        }
        Measure::NotMeasured(_) => return None,
    })
}

fn evaluate(p: &Plan, values: &[f64]) -> f64 {
    let sum = |c: &[usize]| c.iter().map(|&i| values[i]).sum::<f64>();
    let num = sum(&p.cells[..p.split]);
    if p.ratio {
        p.factor * num / sum(&p.cells[p.split..])
    } else {
        p.factor * num
    }
}

/// Accumulates targets replication by replication.
pub struct Checker {
    targets: Vec<Target>,
    plans: Vec<Option<Plan>>,
    acc: Welford,
}

impl Checker {
    pub fn new(targets: Vec<Target>, layout: &Layout) -> Checker {
        let plans: Vec<Option<Plan>> = targets
            .iter()
            .map(|t| {
                let p = plan(layout, &t.measure)?;
                Some(if t.kind == Kind::Money {
                    Plan {
                        factor: p.factor / DKK_PER_BILLION,
                        ..p
                    }
                } else {
                    p
                })
            })
            .collect();
        Checker {
            acc: Welford::new(targets.len()),
            targets,
            plans,
        }
    }

    /// Adds one replication's output values.
    pub fn add(&mut self, values: &[f64]) {
        let v: Vec<f64> = self
            .plans
            .iter()
            .map(|p| p.as_ref().map_or(f64::NAN, |p| evaluate(p, values)))
            .collect();
        self.acc.add(&v);
    }

    pub fn finish(self) -> Vec<Checked> {
        let stats = self.acc.finish();
        self.targets
            .into_iter()
            .zip(self.plans)
            .zip(stats)
            .map(|((target, plan), s)| {
                if plan.is_none() {
                    return Checked {
                        target,
                        simulated: None,
                        pass: None,
                    };
                }
                let pass = (target.role != Role::Reference).then(|| target.passes(s.mean));
                Checked {
                    target,
                    simulated: Some(s),
                    pass,
                }
            })
            .collect()
    }
}

/// Why a target is not measured, if it is not.
pub fn not_measured_reason(t: &Target) -> Option<&str> {
    match &t.measure {
        Measure::NotMeasured(why) => Some(why),
        _ => None,
    }
}
