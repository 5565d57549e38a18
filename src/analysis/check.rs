//! Published figures against the simulation: `fleksim check`.
//!
//! A targets file (scenarios/targets.toml) lists each figure of
//! docs/sources.md with its source, the period it refers to, how the
//! simulation measures it and a tolerance. Each measure is computed per
//! replication from that replication's output values (so sums and ratios get
//! correct intervals), then summarised like every other output.
//!
//! **Architecture invariant:** no I/O beyond reading the targets file; the
//! CLI prints and writes.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::engine::results::{Annual, Cell, Layout};
use crate::engine::stats::{CellStats, Welford};
use crate::error::{Error, Result};
use crate::scenario::calendar::Quarter;
use crate::scenario::{Phase, State};

/// Default tolerances: counts within 10 %, shares within 3 points.
pub const COUNT_TOLERANCE: f64 = 0.10;
pub const SHARE_TOLERANCE: f64 = 0.03;

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
    /// `count` (relative tolerance) or `share` (absolute, in shares).
    kind: String,
    tolerance: Option<f64>,
    /// Why a tolerance differs from the default, or how the period maps.
    #[serde(default)]
    reason: String,
    /// Shown for comparison only: measured and printed, but neither passed
    /// nor failed, and left out of calibration (needs a `reason`).
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
    /// Not measurable by this version; the reason.
    NotMeasured(String),
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
    pub share: bool,
    pub tolerance: f64,
    pub reason: String,
    /// Shown for comparison, not passed or failed (see `reason`).
    pub reference: bool,
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
    /// falls (relative tolerances scale with the bound they extend).
    pub fn allowance(&self, d: f64) -> f64 {
        if self.share {
            self.tolerance
        } else {
            let (lo, hi) = self.published;
            self.tolerance * if d < 0.0 { lo } else { hi }.abs()
        }
    }

    /// Whether a simulated mean `x` is within tolerance.
    pub fn passes(&self, x: f64) -> bool {
        let d = self.distance(x);
        d.abs() <= self.allowance(d)
    }
}

/// The outcome of one target.
#[derive(Debug, Clone)]
pub struct Checked {
    pub target: Target,
    /// None when not measured.
    pub simulated: Option<CellStats>,
    /// None when not measured or a reference figure.
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
            let name = get("metric").and_then(|v| v.as_str()).unwrap_or("");
            let metric = Annual::ALL
                .into_iter()
                .find(|a| a.id() == name)
                .ok_or_else(|| {
                    invalid(path, format!("target {id}: unknown yearly metric `{name}`"))
                })?;
            let year = get("year")
                .and_then(|v| v.as_integer())
                .ok_or_else(|| invalid(path, format!("target {id}: `year` is needed")))?
                as i32;
            let per_quarter = get("per_quarter")
                .and_then(|v| v.as_bool())
                .unwrap_or(false);
            Measure::Annual {
                metric,
                year,
                per_quarter,
            }
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
    let share = match t.kind.as_str() {
        "share" => true,
        "count" => false,
        other => {
            return Err(invalid(
                path,
                format!("target {id}: kind `{other}` must be `count` or `share`"),
            ));
        }
    };
    let default = if share {
        SHARE_TOLERANCE
    } else {
        COUNT_TOLERANCE
    };
    let tolerance = t.tolerance.unwrap_or(default);
    if t.reference && t.reason.trim().is_empty() {
        return Err(invalid(
            path,
            format!("target {id}: a reference figure needs a `reason`"),
        ));
    }
    if tolerance > default && t.reason.trim().is_empty() {
        return Err(invalid(
            path,
            format!("target {id}: a tolerance wider than the default needs a `reason`"),
        ));
    }
    let published = match t.published {
        Published::Value(v) => (v, v),
        Published::Range([a, b]) => (a.min(b), a.max(b)),
    };
    Ok(Target {
        id,
        description: t.description,
        source: t.source,
        refers_to: t.refers_to,
        published,
        share,
        tolerance,
        reason: t.reason,
        reference: t.reference,
        measure,
    })
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
        let plans: Vec<Option<Plan>> = targets.iter().map(|t| plan(layout, &t.measure)).collect();
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
                let pass = (!target.reference).then(|| target.passes(s.mean));
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
