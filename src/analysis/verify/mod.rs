//! Frequency check of the engine against the scenario's rules.
//!
//! [`verify`] simulates a scenario with the real engine ([`kernel::step`],
//! fed as [`runner::simulate`](crate::engine::runner::simulate) feeds it) and, for
//! every decision the engine took, compares how often each outcome happened
//! with the probability the scenario's rules give it. It guards against
//! rule-compilation bugs (a wrong row index, duration band, age group or
//! flag class, a gate or assessment applied wrongly, threshold arithmetic,
//! a biased random stream).
//!
//! **Two independent sides.** The observed side is the engine: before each
//! quarter's step the columns a decision depends on are copied, and after
//! it each person's outcome is read off (`step` itself is not touched). The
//! expected side is computed here from the [`Scenario`] alone, following
//! `scenarios/README.md` (sections 2, 6-10 and 12), never from the compiled
//! [`Tables`](crate::engine::kernel::Tables): transition probabilities with
//! [`effective`], gates in id order with their `when`, `before_duration`,
//! redirects and active quarters, assessments in id order with their clock,
//! `every`, `when` (hours included) and routes, folkepension age, the
//! ressourceforløb phase matrix and entry phase, and flex-job hour raises.
//! The simulated and the expected scenario are separate arguments, so a test
//! can simulate tables compiled from a perturbed scenario and check them
//! against the unperturbed one.
//!
//! **Cells.** Person-quarters are grouped into cells within which the rules
//! give every person the same distribution of outcomes: for moves, the
//! state, age group, duration band, the flags and phase that some rule of the
//! state depends on, the gates that apply and the forced decision that falls
//! due (folkepension age, or the set of assessments). Duration bands are cut
//! at every band boundary of the state's transitions and every
//! `before_duration` of its gates, and the durations on either side of each
//! boundary are cells of their own, so an off-by-one in the duration is not
//! diluted by the rest of the band. A person with assessments due faces
//! their routing (independent draws, in id order) and then, if not routed,
//! the ordinary row: `P(x) = Σ_a rest_a·route_a(x) + rest·row(x)`.
//!
//! **Tests.** For each (cell, outcome), staying included, with
//! `exposure·p ≥ min_expected` and `exposure·(1 − p) ≥ min_expected`, a
//! two-sided exact binomial test (twice the smaller tail, capped at 1) of
//! the observed count against `exposure·p`. Given the cell, each trial is a
//! fresh draw independent of the past, so `observed − exposure·p` is a sum of
//! martingale differences with variance `E[exposure]·p(1 − p)` and the test
//! is asymptotically exact although the exposure itself depends on earlier
//! outcomes. An outcome with `p = 0` that is observed, or `p = 1` that is
//! not always observed, fails outright (p-value 0). Outcomes below the
//! exposure rule are counted as skipped. P-values are adjusted by Holm's
//! step-down method, which controls the family-wise error rate under any
//! dependence (outcomes of one cell are multinomial, so not independent):
//! on a correct engine the chance that anything fails is at most `alpha`.
//!
//! The engine compares 31-bit integer thresholds ([`crate::engine::rng::threshold`]);
//! the difference from the float probabilities is below 1e-9 per outcome
//! and negligible against any exposure this check can run.
//!
//! This module does no terminal I/O.

mod plan;
mod record;
mod stats;

use plan::Plan;
pub use stats::{binomial_two_sided, holm};

use std::collections::HashMap;

use crate::engine::cells::RF_COUNT;
use crate::engine::kernel::{self, Counters};
use crate::engine::population::{Population, Snapshot};
use crate::engine::rng::RepKey;
use crate::engine::runner::{Prepared, RunConfig};
use crate::engine::units::{Units, drive};
use crate::error::{Error, Result};
use crate::scenario::calendar::Quarter;
use crate::scenario::{
    AgeGroups, Assessment, Clock, Gate, N_PHASES, N_STATES, Phase, Scenario, State, When, Who,
    effective, flag,
};

/// Default family-wise error rate.
pub const DEFAULT_ALPHA: f64 = 0.001;
/// Default least expected count of events and of non-events for a test.
pub const DEFAULT_MIN_EXPECTED: f64 = 5.0;

/// Index of "stay" among move outcomes.
const STAY: usize = N_STATES;
const RF: usize = State::Ressourceforloeb as usize;
const OUT: u8 = State::Out as u8;

/// How to verify.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifyConfig {
    pub run: RunConfig,
    /// Family-wise error rate (Holm).
    pub alpha: f64,
    /// An outcome is tested when both its expected count and the expected
    /// count of its complement reach this.
    pub min_expected: f64,
}

impl VerifyConfig {
    pub fn validate(&self) -> Result<()> {
        self.run.validate()?;
        if !(self.alpha > 0.0 && self.alpha < 1.0) {
            return Err(Error::Invalid(format!(
                "--alpha must be in (0, 1), got {}",
                self.alpha
            )));
        }
        if !(self.min_expected.is_finite() && self.min_expected >= 0.0) {
            return Err(Error::Invalid(format!(
                "the least expected count must be finite and at least 0, got {}",
                self.min_expected
            )));
        }
        Ok(())
    }
}

/// Which kind of decision a cell holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Decision {
    /// A change of state (transition, gate redirect, assessment route,
    /// folkepension age) or staying.
    Move,
    /// A ressourceforløb phase: the move of a stayer, or the phase on entry.
    Phase,
    /// Flex-job hours of a stayer.
    Hours,
    /// Things that never change: the four attribute flags; the per-state
    /// marks (bits 4-7) stay clear outside ressourceforløb, fleksjob and
    /// førtidspension; hours outside a raise.
    Fixed,
}

impl Decision {
    pub fn id(self) -> &'static str {
        match self {
            Decision::Move => "move",
            Decision::Phase => "phase",
            Decision::Hours => "hours",
            Decision::Fixed => "fixed",
        }
    }
}

/// What identifies a cell, in words ("-" where a field does not apply).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct CellLabel {
    pub decision: Decision,
    pub state: String,
    pub age_group: String,
    /// Decision duration band, `4`, `6-11` or `14+`.
    pub duration: String,
    /// The flags that some rule of the state depends on that the persons
    /// have, joined by `+`; `none` for none of them; `-` if no rule depends on a flag.
    pub class: String,
    pub phase: String,
    /// Gates that act on the cell's row, in id order.
    pub gates: String,
    /// `pension_age`, `left_for_good`, or the assessments that fall due, in id order.
    pub forced: String,
}

/// One binomial test (or a certain outcome checked).
#[derive(Debug, Clone, PartialEq)]
pub struct Test {
    pub cell: CellLabel,
    /// A state id, `stay`, a phase id, or the outcome of an hours or fixed check.
    pub target: String,
    pub exposure: u64,
    pub observed: u64,
    pub expected_p: f64,
    pub p_value: f64,
    /// Holm-adjusted p-value.
    pub adjusted: f64,
    pub pass: bool,
}

impl Test {
    pub fn observed_p(&self) -> f64 {
        self.observed as f64 / self.exposure as f64
    }
}

/// The result of [`verify`].
#[derive(Debug, Clone)]
pub struct Verification {
    /// Every test, in cell order, then outcome order.
    pub tests: Vec<Test>,
    /// Cells with at least one person-quarter.
    pub cells: usize,
    /// (cell, outcome) pairs with a probability strictly between 0 and 1
    /// below the exposure rule: not tested.
    pub skipped: usize,
    /// (cell, outcome) pairs with probability 0 that were never observed
    /// (checked, not counted as tests).
    pub impossible_unobserved: usize,
    pub person_quarters: u64,
    pub replications: u32,
    pub alpha: f64,
    pub min_expected: f64,
}

impl Verification {
    pub fn failures(&self) -> impl Iterator<Item = &Test> {
        self.tests.iter().filter(|t| !t.pass)
    }

    pub fn passed(&self) -> bool {
        self.tests.iter().all(|t| t.pass)
    }

    /// verify.csv: one row per test.
    pub fn csv(&self) -> Result<Vec<u8>> {
        let internal = |e: csv::Error| Error::Internal(format!("csv encoding: {e}"));
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record([
            "decision",
            "state",
            "age_group",
            "duration",
            "class",
            "phase",
            "gates",
            "forced",
            "target",
            "exposure",
            "observed",
            "expected_p",
            "observed_p",
            "p_value",
            "adjusted",
            "pass",
        ])
        .map_err(internal)?;
        // A field that does not apply (`-` on the terminal) and a ratio of
        // nothing are missing values: `NA`, as in every CSV of fleksim.
        let na = |s: &str| -> String {
            if s == "-" || s == "NaN" {
                "NA".to_string()
            } else {
                s.to_string()
            }
        };
        for t in &self.tests {
            let c = &t.cell;
            w.write_record([
                na(c.decision.id()),
                na(&c.state),
                na(&c.age_group),
                na(&c.duration),
                na(&c.class),
                na(&c.phase),
                na(&c.gates),
                na(&c.forced),
                na(&t.target),
                t.exposure.to_string(),
                t.observed.to_string(),
                na(&t.expected_p.to_string()),
                na(&t.observed_p().to_string()),
                na(&t.p_value.to_string()),
                na(&t.adjusted.to_string()),
                (if t.pass { "pass" } else { "fail" }).to_string(),
            ])
            .map_err(internal)?;
        }
        w.into_inner()
            .map_err(|e| Error::Internal(format!("csv encoding: {e}")))
    }
}

/// Simulates `sim` (its tables and population) and tests every decision
/// against the rules of `expect`. Normally both are the same scenario; a
/// test passes a perturbed scenario as `sim` to see that the check fires.
pub fn verify(
    sim: &Prepared,
    expect: &Scenario,
    cfg: &VerifyConfig,
    on_done: &(dyn Fn() + Sync),
) -> Result<Verification> {
    verify_units(sim, expect, cfg, &mut Units::All, on_done)
}

/// [`verify`] over the replications `units` names: all of them, a shard's
/// block (whose counts go to the sink; the verification returned is then
/// empty and must not be reported), or none, the counts replayed from a
/// merge. Counts are integers, so the merged totals equal the whole run's.
pub fn verify_units(
    sim: &Prepared,
    expect: &Scenario,
    cfg: &VerifyConfig,
    units: &mut Units<Tally>,
    on_done: &(dyn Fn() + Sync),
) -> Result<Verification> {
    cfg.validate()?;
    let ss = sim.scenario;
    if (ss.start, ss.horizon) != (expect.start, expect.horizon) {
        return Err(Error::Invalid(format!(
            "the simulated scenario runs {} quarters from {}, the expected one {} from {}",
            ss.horizon, ss.start, expect.horizon, expect.start
        )));
    }
    let plan = Plan::new(expect);
    let mut total = Tally::default();
    drive(
        cfg.run.replications,
        units,
        &|r| replicate(sim, &plan, &cfg.run, r),
        on_done,
        &mut |_, t| {
            total.merge(t);
            Ok(())
        },
    )?;
    Ok(plan.evaluate(&total, cfg))
}

/// One replication, simulated as `runner::simulate` does, observed quarter
/// by quarter.
fn replicate(p: &Prepared, plan: &Plan, cfg: &RunConfig, rep: u32) -> Result<Tally> {
    let sc = p.scenario;
    let key = RepKey::new(cfg.seed, u64::from(rep));
    let mut pop = Population::for_scenario(sc, cfg.scale)?;
    pop.add_stock(sc, cfg.scale, key, |_, _, _| {});
    let mut tally = Tally::default();
    let mut before = Snapshot::default();
    let mut after = Snapshot::default();
    let mut c = Counters::default();
    for t in 0..sc.horizon {
        c.reset_quarter();
        pop.add_inflow(sc, t, cfg.scale, key, |_, _, _| {});
        pop.snapshot(&mut before);
        kernel::step(&p.tables, &mut pop, t, key, &mut c);
        pop.snapshot(&mut after);
        plan.observe(&mut tally, &before, &after, t);
    }
    Ok(tally)
}

/// What makes a move cell: everything the rules of `expect` look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Key {
    state: u8,
    pension: bool,
    /// The person has left the benefit system for good (`StatePlan::settle`).
    settle: bool,
    age: u8,
    band: u16,
    class: u8,
    phase: u8,
    /// Bits over `Plan::gates`: gates acting on the row.
    gates: u64,
    /// Bits over `Plan::assessments`: assessments due for the person.
    assess: u64,
    /// The set of numbers in force (`Scenario::period_of`; 0 unless dated).
    period: u8,
}

/// Observed counts of one replication, or summed over replications: the
/// unit `verify` splits into shards (see [`verify_units`]); its fields are
/// private to this module.
#[derive(Debug, Default, PartialEq)]
pub struct Tally {
    /// Outcome counts by state index, then `STAY`.
    moves: HashMap<Key, [u64; N_STATES + 1]>,
    /// Ressourceforløb stayers by phase during the quarter and phase after.
    phase: [[u64; N_PHASES]; N_PHASES],
    /// Entrants to ressourceforløb (restarts included) by phase after.
    entry: [u64; N_PHASES],
    /// Flex-job stayers eligible for a raise: raised by the step, unchanged, other.
    raise: [u64; 3],
    /// Everyone else: hours unchanged, changed.
    hours_fixed: [u64; 2],
    /// Every person-quarter: flags unchanged, changed.
    flags_fixed: [u64; 2],
    /// Persons outside ressourceforløb, fleksjob and førtidspension after
    /// the quarter: marks clear, a mark set.
    marks_outside: [u64; 2],
}

impl Tally {
    fn merge(&mut self, o: Tally) {
        for (k, v) in o.moves {
            let e = self.moves.entry(k).or_insert([0; N_STATES + 1]);
            for (a, b) in e.iter_mut().zip(v) {
                *a += b;
            }
        }
        for (a, b) in self.phase.iter_mut().zip(o.phase) {
            add(a, &b);
        }
        add(&mut self.entry, &o.entry);
        add(&mut self.raise, &o.raise);
        add(&mut self.hours_fixed, &o.hours_fixed);
        add(&mut self.flags_fixed, &o.flags_fixed);
        add(&mut self.marks_outside, &o.marks_outside);
    }
}

fn add(a: &mut [u64], b: &[u64]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
}

#[cfg(test)]
mod tests {
    use super::plan::*;
    use super::*;

    #[test]
    fn binomial_p_values() {
        // The expected count itself is as likely as can be.
        assert!(binomial_two_sided(1000, 100, 0.1) > 0.9);
        // 3 standard errors above: two-sided p about 0.003.
        let sd = (1000.0f64 * 0.1 * 0.9).sqrt();
        let p = binomial_two_sided(1000, (100.0 + 3.0 * sd).round() as u64, 0.1);
        assert!((0.001..0.006).contains(&p), "{p}");
        // Large exposures stay accurate: 1e7 trials, 5 SE below.
        let n = 10_000_000u64;
        let sd = (n as f64 * 0.02 * 0.98).sqrt();
        let p = binomial_two_sided(n, (n as f64 * 0.02 - 5.0 * sd) as u64, 0.02);
        assert!(p > 1e-7 && p < 1e-5, "{p}");
        assert!((binomial_two_sided(10, 0, 0.5) / (2.0 * 0.5f64.powi(10)) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn holm_is_step_down_and_monotone() {
        let t = |p| Test {
            cell: CellLabel {
                decision: Decision::Move,
                state: String::new(),
                age_group: String::new(),
                duration: String::new(),
                class: String::new(),
                phase: String::new(),
                gates: String::new(),
                forced: String::new(),
            },
            target: String::new(),
            exposure: 1,
            observed: 0,
            expected_p: 0.5,
            p_value: p,
            adjusted: p,
            pass: true,
        };
        let mut v = vec![t(0.04), t(0.001), t(0.03), t(0.5)];
        holm(&mut v, 0.05);
        let adj: Vec<f64> = v.iter().map(|t| t.adjusted).collect();
        // Sorted: 0.001*4, 0.03*3, 0.04*2 (raised to 0.09), 0.5*1.
        assert_eq!(adj, vec![0.09, 0.004, 0.09, 0.5]);
        let pass: Vec<bool> = v.iter().map(|t| t.pass).collect();
        assert_eq!(pass, vec![true, false, true, true]);
    }

    #[test]
    fn bands_isolate_both_sides_of_each_boundary() {
        let sc = crate::scenario::baseline().scenario;
        let plan = Plan::new(&sc);
        let kh = &plan.states[State::Kontanthjaelp as usize];
        // kontanthjaelp -> employed: 1-4, 5-12, 13+.
        assert_eq!(
            kh.bands,
            vec![
                (1, Some(3)),
                (4, Some(4)),
                (5, Some(5)),
                (6, Some(11)),
                (12, Some(12)),
                (13, Some(13)),
                (14, None)
            ]
        );
        assert_eq!(kh.band(1), 0);
        assert_eq!(kh.band(12), 4);
        assert_eq!(kh.band(300), 6);
        // ressourceforløb: no banded transition, the one-year gate (before 4).
        let rf = &plan.states[RF];
        assert_eq!(
            rf.bands,
            vec![(1, Some(2)), (3, Some(3)), (4, Some(4)), (5, None)]
        );
        assert!(rf.phase_matters);
        // sygedagpenge -> fleksjob has a retention multiplier; gates ask for evident.
        let sd = &plan.states[State::Sygedagpenge as usize];
        assert_eq!(sd.flag_mask, flag::RETENTION | flag::EVIDENT);
    }

    /// The expected distribution of a cell follows the README by hand:
    /// the one-year gate drops every exit of a new ressourceforløb but
    /// `out`; the end-of-programme assessment routes first.
    #[test]
    fn expected_rows_by_hand() {
        let loaded = crate::scenario::baseline();
        let doc: toml::Value = toml::from_str(&loaded.canonical).unwrap();
        let rate = |p: &str| crate::scenario::lookup_number(&doc, p).unwrap();
        // Fitted values (the calibration may change them), read from the file.
        let out40 = rate("transitions.ressourceforloeb.out.over40");
        let fp40 = rate("transitions.ressourceforloeb.foertidspension.over40");
        let sc = loaded.scenario;
        let plan = Plan::new(&sc);
        // Over 40 and more than a year from folkepension age.
        let age = sc.age_groups().group(crate::scenario::Who {
            age_q: 50 * 4,
            to_pension_q: 60,
        }) as u8;
        let gate = plan
            .gates
            .iter()
            .position(|g| g.id == "ressourceforloeb_minimum_one_year")
            .unwrap();
        let key = Key {
            state: RF as u8,
            pension: false,
            settle: false,
            age,
            band: 0,
            class: 0,
            phase: Phase::Passive as u8,
            gates: 1 << gate,
            assess: 0,
            period: 0,
        };
        let p = plan.expected(&key);
        assert_eq!(p[State::Out as usize], out40);
        assert_eq!(p[State::Foertidspension as usize], 0.0);
        assert!((p[STAY] - (1.0 - out40)).abs() < 1e-12);
        let a = plan
            .assessments
            .iter()
            .position(|a| a.id == "ressourceforloeb_end_of_programme")
            .unwrap();
        let key = Key {
            gates: 0,
            assess: 1 << a,
            band: 3,
            ..key
        };
        let p = plan.expected(&key);
        let rest = 1.0 - (0.45 + 0.12 + 0.12 + 0.06 + 0.25);
        let fp = 0.45 + rest * fp40;
        assert!((p[State::Foertidspension as usize] - fp).abs() < 1e-12);
        assert!((p[RF] - 0.25).abs() < 1e-12);
        let total: f64 = p.iter().sum();
        assert!((total - 1.0).abs() < 1e-12);
    }
}
