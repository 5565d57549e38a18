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

use std::collections::HashMap;

use rayon::prelude::*;
use statrs::distribution::{Binomial, DiscreteCDF};

use crate::engine::cells::RF_COUNT;
use crate::engine::kernel::{self, Counters};
use crate::engine::population::{Population, Snapshot};
use crate::engine::rng::RepKey;
use crate::engine::runner::{Prepared, RunConfig};
use crate::error::{Error, Result};
use crate::scenario::calendar::Quarter;
use crate::scenario::{
    AGE40_Q, Assessment, Clock, Gate, N_PHASES, N_STATES, Phase, Scenario, State, When, effective,
    flag,
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
    /// `pension_age`, or the assessments that fall due, in id order.
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
        for t in &self.tests {
            let c = &t.cell;
            w.write_record([
                c.decision.id(),
                &c.state,
                &c.age_group,
                &c.duration,
                &c.class,
                &c.phase,
                &c.gates,
                &c.forced,
                &t.target,
                &t.exposure.to_string(),
                &t.observed.to_string(),
                &t.expected_p.to_string(),
                &t.observed_p().to_string(),
                &t.p_value.to_string(),
                &t.adjusted.to_string(),
                if t.pass { "pass" } else { "fail" },
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
    let batch = (rayon::current_num_threads() * 2).max(2) as u32;
    let mut next = 0u32;
    while next < cfg.run.replications {
        let end = (next + batch).min(cfg.run.replications);
        let tallies: Vec<Result<Tally>> = (next..end)
            .into_par_iter()
            .map(|r| {
                let t = replicate(sim, &plan, &cfg.run, r);
                on_done();
                t
            })
            .collect();
        for t in tallies {
            total.merge(t?);
        }
        next = end;
    }
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
    age: u8,
    band: u16,
    class: u8,
    phase: u8,
    /// Bits over `Plan::gates`: gates acting on the row.
    gates: u64,
    /// Bits over `Plan::assessments`: assessments due for the person.
    assess: u64,
}

/// Observed counts, summed over quarters and replications.
#[derive(Debug, Default)]
struct Tally {
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

/// Per-state facts of the expected side.
#[derive(Debug, Clone, Default)]
struct StatePlan {
    /// Duration bands `(first d, last d or open)`, in order from d = 1.
    bands: Vec<(u16, Option<u16>)>,
    /// Flags (bits of `flag::CLASS_MASK`) some rule of the state depends on.
    flag_mask: u8,
    /// Whether a transition of the state depends on the phase.
    phase_matters: bool,
    /// Indices into `Plan::gates` of gates from this state.
    gates: Vec<usize>,
    /// Indices into `Plan::assessments` of assessments of this state.
    assessments: Vec<usize>,
}

impl StatePlan {
    fn band(&self, d: u16) -> u16 {
        // Few bands: a linear scan from the end.
        self.bands.iter().rposition(|&(lo, _)| d >= lo).unwrap_or(0) as u16
    }
}

/// The expected side, from the scenario only.
struct Plan<'a> {
    sc: &'a Scenario,
    /// Gates and assessments in id order (the order the rules apply in).
    gates: Vec<&'a Gate>,
    assessments: Vec<&'a Assessment>,
    states: Vec<StatePlan>,
    /// Bits over `gates` / `assessments` in force, by simulated quarter.
    gate_active: Vec<u64>,
    assess_active: Vec<u64>,
}

impl<'a> Plan<'a> {
    fn new(sc: &'a Scenario) -> Plan<'a> {
        let mut gates: Vec<&Gate> = sc.gates.iter().collect();
        gates.sort_by(|a, b| a.id.cmp(&b.id));
        let mut assessments: Vec<&Assessment> = sc.assessments.iter().collect();
        assessments.sort_by(|a, b| a.id.cmp(&b.id));
        assert!(gates.len() <= 64 && assessments.len() <= 64);
        let in_force = |active: &dyn Fn(usize, Quarter) -> bool, n: usize| -> Vec<u64> {
            sc.quarters()
                .map(|q| (0..n).filter(|&i| active(i, q)).fold(0, |m, i| m | 1 << i))
                .collect()
        };
        let gate_active = in_force(&|i, q| gates[i].active.contains(q), gates.len());
        let assess_active = in_force(&|i, q| assessments[i].active.contains(q), assessments.len());
        let states = State::ALL
            .iter()
            .map(|&st| {
                let ts = || sc.transitions.iter().filter(move |t| t.from == st);
                let g: Vec<usize> = (0..gates.len())
                    .filter(|&i| gates[i].from & (1 << st as u16) != 0)
                    .collect();
                let a: Vec<usize> = (0..assessments.len())
                    .filter(|&i| assessments[i].state == st)
                    .collect();
                // Boundaries: where a transition's band starts, and where a
                // gate's `before_duration` stops blocking.
                let mut cuts: Vec<u16> = ts()
                    .flat_map(|t| t.prob.iter().flat_map(|b| b.bands.iter().map(|x| x.0)))
                    .chain(g.iter().filter_map(|&i| gates[i].before_duration))
                    .filter(|&b| b > 1)
                    .flat_map(|b| [b - 1, b, b + 1])
                    .chain([1])
                    .collect();
                cuts.sort_unstable();
                cuts.dedup();
                let bands = cuts
                    .iter()
                    .enumerate()
                    .map(|(i, &lo)| (lo, cuts.get(i + 1).map(|&n| n - 1)))
                    .collect();
                let mut flag_mask = 0u8;
                for t in ts() {
                    for (bit, &m) in t.flag_multipliers.iter().enumerate() {
                        if m != 1.0 {
                            flag_mask |= 1 << bit;
                        }
                    }
                }
                let when_bits = |w: &When| w.flags.iter().fold(0u8, |m, &(bit, _)| m | bit);
                for &i in &g {
                    flag_mask |= when_bits(&gates[i].when);
                }
                for &i in &a {
                    flag_mask |= when_bits(&assessments[i].when);
                }
                StatePlan {
                    bands,
                    flag_mask: flag_mask & flag::CLASS_MASK,
                    phase_matters: ts().any(|t| t.phase_multipliers.iter().any(|&m| m != 1.0)),
                    gates: g,
                    assessments: a,
                }
            })
            .collect();
        Plan {
            sc,
            gates,
            assessments,
            states,
            gate_active,
            assess_active,
        }
    }

    /// Adds quarter `t`'s decisions: `before` is the population as the
    /// step found it, `after` as it left it.
    fn observe(&self, tally: &mut Tally, before: &Snapshot, after: &Snapshot, t: u16) {
        let sc = self.sc;
        let t_abs = sc.start.0 + t;
        let ti = usize::from(t);
        let fx = &sc.flex;
        let mut cached_birth = u16::MAX;
        let mut exit = 0u16;
        for i in 0..before.state.len() {
            let s = before.state[i];
            if s == OUT {
                continue;
            }
            let sp = &self.states[usize::from(s)];
            let b = before.birth[i];
            let cls = before.class[i];
            let flags = cls & flag::CLASS_MASK;
            let phase = (cls & flag::PHASE_MASK) >> flag::PHASE_SHIFT;
            let age = u8::from(t_abs - b >= AGE40_Q);
            let h = before.hours[i];
            let d = t_abs - before.entered[i] + 1;
            if b != cached_birth {
                cached_birth = b;
                exit = b + sc.pension_age_q(Quarter(b));
            }
            // Outcome: a move (a restart in the same state included) or staying.
            let new_s = after.state[i];
            let moved = new_s != s || after.entered[i] != before.entered[i];
            let outcome = if moved { usize::from(new_s) } else { STAY };

            let key = if t_abs + 1 >= exit {
                Key {
                    state: s,
                    pension: true,
                    age,
                    band: 0,
                    class: 0,
                    phase: 0,
                    gates: 0,
                    assess: 0,
                }
            } else {
                let mut gates = 0u64;
                for &gi in &sp.gates {
                    let g = self.gates[gi];
                    if self.gate_active[ti] & (1 << gi) != 0
                        && matches(&g.when, age, flags, None)
                        && g.before_duration.is_none_or(|bd| d < bd)
                    {
                        gates |= 1 << gi;
                    }
                }
                let mut assess = 0u64;
                for &ai in &sp.assessments {
                    let a = self.assessments[ai];
                    let clock = match a.clock {
                        Clock::InState => Some(d),
                        // Quarters ever in ressourceforløb, this one included,
                        // up to 127; a clock that has reached 127 no longer
                        // counts (section 8, and the validator keeps `at`
                        // below 127).
                        Clock::Cumulative => {
                            let c = u16::from(before.rf_total[i] & RF_COUNT) + 1;
                            (c < u16::from(RF_COUNT)).then_some(c)
                        }
                    };
                    if self.assess_active[ti] & (1 << ai) != 0
                        && clock.is_some_and(|c| falls_due(c, a.at, a.every))
                        && matches(&a.when, age, flags, Some(h))
                    {
                        assess |= 1 << ai;
                    }
                }
                Key {
                    state: s,
                    pension: false,
                    age,
                    band: sp.band(d),
                    class: flags & sp.flag_mask,
                    phase: if sp.phase_matters { phase } else { 0 },
                    gates,
                    assess,
                }
            };
            tally.moves.entry(key).or_insert([0; N_STATES + 1])[outcome] += 1;

            // Phases, hours, flags: a person in `out` holds no record.
            if new_s == OUT {
                continue;
            }
            let new_cls = after.class[i];
            let new_phase = (new_cls & flag::PHASE_MASK) >> flag::PHASE_SHIFT;
            if usize::from(new_s) == RF {
                if moved {
                    tally.entry[usize::from(new_phase).min(N_PHASES - 1)] += 1;
                } else {
                    tally.phase[usize::from(phase)][usize::from(new_phase).min(N_PHASES - 1)] += 1;
                }
            } else if !matches!(
                State::from_index(usize::from(new_s)),
                State::Fleksjob | State::Foertidspension
            ) {
                // Bits 4-7 hold per-state marks only in ressourceforløb
                // (phase, intervention), fleksjob (T6) and førtidspension
                // (pre-2014); elsewhere they are clear.
                tally.marks_outside[usize::from(new_cls & flag::SCRATCH != 0)] += 1;
            }
            // The four attribute flags never change.
            tally.flags_fixed[usize::from((new_cls ^ cls) & flag::CLASS_MASK != 0)] += 1;
            let new_h = after.hours[i];
            let eligible = !moved
                && usize::from(s) == State::Fleksjob as usize
                && d >= fx.raise_after_quarters
                && h <= fx.raise_eligible_max_hours
                && h < fx.max_hours;
            if eligible {
                let raised = h.saturating_add(fx.raise_step_hours).min(fx.max_hours);
                tally.raise[if new_h == h {
                    1
                } else if new_h == raised {
                    0
                } else {
                    2
                }] += 1;
            } else {
                tally.hours_fixed[usize::from(new_h != h)] += 1;
            }
        }
    }

    /// Outcome probabilities of a move cell (by state index, then `STAY`).
    fn expected(&self, k: &Key) -> [f64; N_STATES + 1] {
        let mut p = [0.0; N_STATES + 1];
        if k.pension {
            p[OUT as usize] = 1.0;
            return p;
        }
        let st = State::from_index(usize::from(k.state));
        let sp = &self.states[usize::from(k.state)];
        let d = sp.bands[usize::from(k.band)].0;
        let age = usize::from(k.age);
        let mut row = [0.0; N_STATES];
        for t in self.sc.transitions.iter().filter(|t| t.from == st) {
            row[t.to as usize] += effective(t, age, d, k.class, usize::from(k.phase));
        }
        for (gi, g) in self.gates.iter().enumerate() {
            if k.gates & (1 << gi) == 0 {
                continue;
            }
            // Blocked probability goes to the redirect, or becomes staying;
            // the redirect is never blocked by its own gate (validated), but
            // a later gate may block it.
            let mut moved = 0.0;
            for (to, x) in row.iter_mut().enumerate() {
                if g.to & (1 << to) != 0 {
                    moved += std::mem::take(x);
                }
            }
            if let Some(r) = g.redirect
                && r != st
            {
                row[r as usize] += moved;
            }
        }
        let mut rest = 1.0;
        for (ai, a) in self.assessments.iter().enumerate() {
            if k.assess & (1 << ai) == 0 {
                continue;
            }
            let mut total = 0.0;
            for &(to, share) in &a.route {
                p[to as usize] += rest * share;
                total += share;
            }
            rest *= (1.0 - total).max(0.0);
        }
        for (x, y) in p.iter_mut().zip(row) {
            *x += rest * y;
        }
        let moving: f64 = p[..N_STATES].iter().sum();
        p[STAY] = (1.0 - moving).max(0.0);
        p
    }

    fn label(&self, k: &Key) -> CellLabel {
        let sp = &self.states[usize::from(k.state)];
        let names = |mask: u64, ids: &mut dyn Iterator<Item = &str>| -> String {
            let v: Vec<&str> = ids
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, id)| id)
                .collect();
            if v.is_empty() {
                "-".into()
            } else {
                v.join("+")
            }
        };
        let dash = || String::from("-");
        CellLabel {
            decision: Decision::Move,
            state: State::from_index(usize::from(k.state)).id().into(),
            age_group: if k.age == 0 { "under40" } else { "over40" }.into(),
            duration: if k.pension {
                dash()
            } else {
                match sp.bands[usize::from(k.band)] {
                    (lo, None) => format!("{lo}+"),
                    (lo, Some(hi)) if lo == hi => format!("{lo}"),
                    (lo, Some(hi)) => format!("{lo}-{hi}"),
                }
            },
            class: if k.pension || sp.flag_mask == 0 {
                dash()
            } else if k.class == 0 {
                "none".into()
            } else {
                names(u64::from(k.class), &mut flag::NAMES.iter().copied())
            },
            phase: if !k.pension && sp.phase_matters {
                Phase::ALL[usize::from(k.phase)].id().into()
            } else {
                dash()
            },
            gates: names(k.gates, &mut self.gates.iter().map(|g| g.id.as_str())),
            forced: if k.pension {
                "pension_age".into()
            } else {
                names(
                    k.assess,
                    &mut self.assessments.iter().map(|a| a.id.as_str()),
                )
            },
        }
    }

    /// Turns the counts into tests.
    fn evaluate(&self, tally: &Tally, cfg: &VerifyConfig) -> Verification {
        let mut b = Builder {
            tests: Vec::new(),
            skipped: 0,
            impossible_unobserved: 0,
            min_expected: cfg.min_expected,
        };
        let mut keys: Vec<&Key> = tally.moves.keys().collect();
        keys.sort();
        let mut person_quarters = 0;
        for k in &keys {
            let counts = &tally.moves[*k];
            let p = self.expected(k);
            let n: u64 = counts.iter().sum();
            person_quarters += n;
            let label = self.label(k);
            let outcomes = (0..=N_STATES).map(|i| {
                let name = if i == STAY {
                    "stay"
                } else {
                    State::from_index(i).id()
                };
                (name.to_string(), counts[i], p[i])
            });
            b.cell(&label, n, outcomes);
        }
        let other = |decision, state: &str, duration: String, phase: &str| CellLabel {
            decision,
            state: state.into(),
            age_group: "-".into(),
            duration,
            class: "-".into(),
            phase: phase.into(),
            gates: "-".into(),
            forced: "-".into(),
        };
        let rf = State::Ressourceforloeb.id();
        for (f, counts) in tally.phase.iter().enumerate() {
            let row = &self.sc.phase_matrix[f];
            let moving: f64 = (0..N_PHASES).filter(|&g| g != f).map(|g| row[g]).sum();
            let outcomes = (0..N_PHASES).map(|g| {
                let p = if g == f {
                    (1.0 - moving).max(0.0)
                } else {
                    row[g]
                };
                (Phase::ALL[g].id().to_string(), counts[g], p)
            });
            let n = counts.iter().sum();
            b.cell(
                &other(Decision::Phase, rf, "-".into(), Phase::ALL[f].id()),
                n,
                outcomes,
            );
        }
        let entry = self.sc.entry_phase as usize;
        let outcomes = (0..N_PHASES).map(|g| {
            (
                Phase::ALL[g].id().to_string(),
                tally.entry[g],
                f64::from(u8::from(g == entry)),
            )
        });
        b.cell(
            &other(Decision::Phase, rf, "-".into(), "entry"),
            tally.entry.iter().sum(),
            outcomes,
        );
        let fx = &self.sc.flex;
        let p_raise = if fx.raise_step_hours > 0 {
            fx.raise_probability
        } else {
            0.0
        };
        let names = ["raise", "unchanged", "other"];
        let ps = [p_raise, 1.0 - p_raise, 0.0];
        b.cell(
            &other(
                Decision::Hours,
                State::Fleksjob.id(),
                format!("{}+", fx.raise_after_quarters),
                "-",
            ),
            tally.raise.iter().sum(),
            (0..3).map(|i| (names[i].to_string(), tally.raise[i], ps[i])),
        );
        for (what, counts) in [
            ("hours", &tally.hours_fixed),
            ("flags", &tally.flags_fixed),
            (
                "marks_outside_ressourceforloeb_fleksjob_foertidspension",
                &tally.marks_outside,
            ),
        ] {
            b.cell(
                &other(Decision::Fixed, "-", "-".into(), "-"),
                counts[0] + counts[1],
                [
                    (format!("{what}_unchanged"), counts[0], 1.0),
                    (format!("{what}_changed"), counts[1], 0.0),
                ]
                .into_iter(),
            );
        }
        let cells = keys.len() + N_PHASES + 1 + 1 + 3;
        let mut tests = b.tests;
        holm(&mut tests, cfg.alpha);
        Verification {
            tests,
            cells,
            skipped: b.skipped,
            impossible_unobserved: b.impossible_unobserved,
            person_quarters,
            replications: cfg.run.replications,
            alpha: cfg.alpha,
            min_expected: cfg.min_expected,
        }
    }
}

struct Builder {
    tests: Vec<Test>,
    skipped: usize,
    impossible_unobserved: usize,
    min_expected: f64,
}

impl Builder {
    /// Tests each outcome of one cell of `n` trials.
    fn cell(
        &mut self,
        label: &CellLabel,
        n: u64,
        outcomes: impl Iterator<Item = (String, u64, f64)>,
    ) {
        if n == 0 {
            return;
        }
        for (target, k, p) in outcomes {
            let nf = n as f64;
            let p_value = if p <= 0.0 {
                if k == 0 {
                    self.impossible_unobserved += 1;
                    continue;
                }
                0.0
            } else if p >= 1.0 {
                if k == n { 1.0 } else { 0.0 }
            } else if nf * p >= self.min_expected && nf * (1.0 - p) >= self.min_expected {
                binomial_two_sided(n, k, p)
            } else {
                self.skipped += 1;
                continue;
            };
            self.tests.push(Test {
                cell: label.clone(),
                target,
                exposure: n,
                observed: k,
                expected_p: p,
                p_value,
                adjusted: p_value,
                pass: true,
            });
        }
    }
}

/// Two-sided exact binomial p-value: twice the smaller tail, at most 1.
pub fn binomial_two_sided(n: u64, k: u64, p: f64) -> f64 {
    let b = Binomial::new(p, n).expect("p in [0, 1]");
    let lower = b.cdf(k);
    let upper = if k == 0 { 1.0 } else { b.sf(k - 1) };
    (2.0 * lower.min(upper)).min(1.0)
}

/// Holm's step-down adjustment; a test fails when its adjusted p-value is
/// at most `alpha`.
pub fn holm(tests: &mut [Test], alpha: f64) {
    let m = tests.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| tests[a].p_value.total_cmp(&tests[b].p_value));
    let mut running: f64 = 0.0;
    for (j, &i) in order.iter().enumerate() {
        running = running.max(((m - j) as f64 * tests[i].p_value).min(1.0));
        tests[i].adjusted = running;
        tests[i].pass = running > alpha;
    }
}

/// Whether a person matches a `when` (hours only for assessments).
fn matches(w: &When, age: u8, flags: u8, hours: Option<u8>) -> bool {
    if w.age.is_some_and(|a| a as u8 != age) {
        return false;
    }
    if w.flags.iter().any(|&(bit, v)| (flags & bit != 0) != v) {
        return false;
    }
    match hours {
        Some(h) => w.min_hours.is_none_or(|m| h >= m) && w.max_hours.is_none_or(|m| h <= m),
        None => true,
    }
}

/// An assessment at `at`, repeated every `every` quarters, falls due at `clock`.
fn falls_due(clock: u16, at: u16, every: u16) -> bool {
    clock == at || (every > 0 && clock > at && (clock - at).is_multiple_of(every))
}

#[cfg(test)]
mod tests {
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
        let gate = plan
            .gates
            .iter()
            .position(|g| g.id == "ressourceforloeb_minimum_one_year")
            .unwrap();
        let key = Key {
            state: RF as u8,
            pension: false,
            age: 1,
            band: 0,
            class: 0,
            phase: Phase::Passive as u8,
            gates: 1 << gate,
            assess: 0,
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
