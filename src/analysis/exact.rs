//! Exact cohort mode: expected stocks, flows and costs without random numbers.
//!
//! Instead of sampling persons, this module propagates the probability
//! distribution over the model's finite person record (state, class byte,
//! hours, birth, entry quarter, refusion clock, ressourceforløb total)
//! quarter by quarter. It starts from the exact distribution that
//! `Population::add_group` samples from ([`population::cohort_pmf`]) and
//! moves mass with [`Tables::outcomes`], which enumerates every outcome of
//! `kernel::step` with the probabilities of its 31-bit thresholds. The
//! results are therefore the expectations of what the Monte Carlo engine
//! samples, for the same scenario and the same `scale`: a cohort weighs
//! `runner::scaled(count, scale) / scale` persons, as the mean of Monte
//! Carlo replications at that scale does.
//!
//! Records that behave identically from now on are lumped:
//! - births with the same quarter of turning 40 and the same quarter of
//!   reaching folkepension age within the horizon share one representative;
//! - the decision duration `d` is kept exactly up to the last value any rule
//!   of the state looks at (row bands, gates, in-state assessments, the
//!   flex-job raise), and beyond it modulo the common period of the state's
//!   repeating assessments;
//! - the ressourceforløb total is dropped unless an assessment counts it,
//!   and the clarification mark always (it feeds only citizen outcomes);
//! - persons in `out` keep only their birth (their age group is reported).
//!
//! **Invariants:** no random numbers and no I/O; records are kept sorted and
//! merged in a fixed order, so the output is bit-identical run to run; total
//! mass is conserved every quarter (checked). Only cells that are linear in
//! the counters are computed (stocks, flows, costs, annual sums, present
//! values, minifleksjob counts, ressourceforløb quarters without
//! intervention); ratio cells (shares, mean and median times) are NaN,
//! because the mean of a ratio is not the ratio of the means.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use rayon::prelude::*;

use crate::engine::cells::{self, ENTRY, N_CELLS, RF_COUNT};
use crate::engine::costing::N_ITEMS;
use crate::engine::kernel::{Person, Tables};
use crate::engine::population;
use crate::engine::results::{Annual, Cell, Citizen, Layout};
use crate::engine::runner::{Prepared, RunResult, scaled};
use crate::engine::stats::CellStats;
use crate::error::{Error, Result};
use crate::scenario::calendar::Quarter;
use crate::scenario::{AGE40_Q, N_PHASES, N_STATES, Phase, Scenario, State};

const OUT: u8 = State::Out as u8;
const STAY: u8 = u8::MAX;

/// Expected counters of a whole run (full-population units).
#[derive(Debug, Clone)]
pub struct Expected {
    /// Persons by state and age group; index 0 is the initial stock.
    pub stocks: Vec<[[f64; 2]; N_STATES]>,
    /// Moves by age group, from (or entry) and to, per simulated quarter.
    pub flows: Vec<[[[f64; N_STATES]; N_STATES + 1]; 2]>,
    /// Øre by quarter, item and payer.
    pub costs: Vec<[[f64; 2]; N_ITEMS]>,
    /// Person-quarters in ressourceforløb by phase, per quarter.
    pub rf_phase: Vec<[f64; N_PHASES]>,
    /// Persons in a minifleksjob, per quarter.
    pub minifleks: Vec<f64>,
    pub person_quarters: f64,
}

/// The result of an exact run.
#[derive(Debug, Clone)]
pub struct ExactRun {
    /// Cells as a run's: mean = the exact value, se 0, ci_low = ci_high = mean
    /// (NaN for the ratio cells this mode does not compute).
    pub result: RunResult,
    pub expected: Expected,
    /// Most distinct person records held at once (a measure of the work).
    pub peak_records: usize,
}

/// First `hours` value that stands for a group of hours (a token).
const TOKEN0: u8 = 64;

/// A group of hours values with the same signature
/// ([`Tables::hours_signature`]) carried as one record: nothing but the
/// flex-job cost variant tells its members apart, so the conditional
/// distribution of hours given the rest of the record stays the cohort's.
#[derive(Debug, Clone, PartialEq)]
struct Token {
    /// The member passed to the rules (any member decides the same).
    rep: u8,
    /// Members and their conditional probabilities.
    members: Vec<(u8, f64)>,
    /// A flex-job raise can change these hours: the token is split into
    /// its members when the person is in a flex job.
    dynamic: bool,
}

/// Lumps records that behave identically from now on.
struct Lumper {
    tokens: Vec<Token>,
    /// Representative birth by birth quarter.
    birth_rep: Vec<u16>,
    /// `(first lumped d, period)` by state.
    dur: [(u16, Option<u16>); N_STATES],
    keep_rf_total: bool,
    /// Bit per state in which hours change (a flex job or a variant of it).
    flex_states: u32,
    /// Class bits kept: the flags some rule reads, insured (a cost
    /// variant), the phase and the pre-2014 mark.
    class_mask: u8,
}

impl Lumper {
    fn new(sc: &Scenario, tb: &Tables) -> Lumper {
        let start = sc.start.0;
        let h = sc.horizon;
        let last = start + h;
        let mut reps: BTreeMap<(u16, u16, Vec<u8>), u16> = BTreeMap::new();
        let birth_rep = (0..=last)
            .map(|b| {
                // First t whose age group is over 40 (at the quarter's start),
                // first t at whose end the person leaves for `out`, and the
                // age groups the rules and the money see in each quarter.
                let over40 = (0..=h)
                    .find(|&t| (start + t).wrapping_sub(b) >= AGE40_Q)
                    .unwrap_or(h + 1);
                let exit = (0..h)
                    .find(|&t| start + t + 1 >= tb.pension_exit(b))
                    .unwrap_or(h);
                let groups = (0..h)
                    .map(|t| {
                        if b < last {
                            (tb.age_group(t, b) * 8 + tb.cost_age(t, b)) as u8
                        } else {
                            0
                        }
                    })
                    .collect();
                *reps.entry((over40, exit, groups)).or_insert(b)
            })
            .collect();
        Lumper {
            tokens: Vec::new(),
            birth_rep,
            dur: std::array::from_fn(|s| tb.duration_lumping(s as u8)),
            keep_rf_total: tb.uses_cumulative_clock(),
            flex_states: (0..N_STATES as u8)
                .filter(|&s| tb.has_hours(s))
                .fold(0, |m, s| m | 1 << s),
            class_mask: tb.flags_used()
                | crate::scenario::flag::INSURED
                | crate::scenario::flag::PHASE_MASK
                | crate::scenario::flag::PRE2014,
        }
    }

    /// The hours pmf of a cohort as record values: exact hours, or a token
    /// for each group of two or more values with the same signature.
    fn hours_keys(&mut self, tb: &Tables, pmf: &[(u8, f64)]) -> Vec<(u8, f64)> {
        let mut groups: BTreeMap<u64, Vec<(u8, f64)>> = BTreeMap::new();
        for &(h, p) in pmf {
            groups
                .entry(tb.hours_signature(h))
                .or_default()
                .push((h, p));
        }
        let mut out = Vec::new();
        for (sig, members) in groups {
            let total: f64 = members.iter().map(|x| x.1).sum();
            if members.len() == 1 || total <= 0.0 {
                out.extend(members);
                continue;
            }
            let token = Token {
                rep: members[0].0,
                members: members.iter().map(|&(h, p)| (h, p / total)).collect(),
                dynamic: sig & 1 << 63 != 0,
            };
            let id = match self.tokens.iter().position(|t| *t == token) {
                Some(i) => i,
                None if self.tokens.len() < usize::from(u8::MAX - TOKEN0) => {
                    self.tokens.push(token);
                    self.tokens.len() - 1
                }
                None => {
                    // Out of token ids: keep these hours exact.
                    out.extend(members);
                    continue;
                }
            };
            out.push((TOKEN0 + id as u8, total));
        }
        out
    }

    fn token(&self, hours: u8) -> Option<&Token> {
        if hours >= TOKEN0 {
            Some(&self.tokens[usize::from(hours - TOKEN0)])
        } else {
            None
        }
    }

    /// Adds a canonical record, splitting a dynamic token in a flex job.
    fn push(&self, v: &mut Map, p: Person, mass: f64) {
        self.keys(p, mass, &mut |key, m| v.add(key, m));
    }

    /// The keys and masses a canonical record adds, in order (a dynamic
    /// token in a flex job splits into its members).
    fn keys(&self, p: Person, mass: f64, add: &mut impl FnMut(u128, f64)) {
        match self.token(p.hours) {
            Some(tk) if tk.dynamic && self.flex_states & (1 << p.state) != 0 => {
                for &(h, q) in &tk.members {
                    add(pack(Person { hours: h, ..p }), mass * q);
                }
            }
            _ => add(pack(p), mass),
        }
    }

    /// The canonical form of a record about to be stepped in absolute quarter `now`.
    fn canon(&self, mut p: Person, now: u16) -> Person {
        let birth = self.birth_rep[p.birth as usize];
        if p.state == OUT {
            return Person {
                state: OUT,
                class: 0,
                hours: 0,
                rf_total: 0,
                birth,
                entered: 0,
                refusion: 0,
            };
        }
        p.birth = birth;
        p.class &= self.class_mask;
        if let (first, Some(period)) = self.dur[p.state as usize] {
            let d = now - p.entered + 1;
            if d > first {
                let dc = first + (d - first) % period;
                p.entered = now + 1 - dc;
            }
        }
        p.rf_total = if self.keep_rf_total {
            p.rf_total & RF_COUNT
        } else {
            0
        };
        p
    }
}

/// Records keyed by [`pack`], summing mass: one hash map per shard of the
/// keys, so that threads can add to different shards at once; each key's
/// additions still happen in the order they are made, so sums are the same
/// bits whatever the number of shards.
struct Map {
    shards: Vec<Shard>,
}

type Shard = HashMap<u128, f64, BuildHasherDefault<KeyHasher>>;

impl Map {
    fn new(shards: usize) -> Map {
        Map {
            shards: (0..shards.max(1)).map(|_| Shard::default()).collect(),
        }
    }

    /// The shard of `key` among `n`.
    fn shard_of(key: u128, n: usize) -> usize {
        let h = crate::engine::rng::mix(key as u64 ^ crate::engine::rng::mix((key >> 64) as u64));
        (h % n as u64) as usize
    }

    fn add(&mut self, key: u128, mass: f64) {
        let n = self.shards.len();
        *self.shards[Map::shard_of(key, n)].entry(key).or_insert(0.0) += mass;
    }

    fn len(&self) -> usize {
        self.shards.iter().map(Shard::len).sum()
    }

    /// The total mass (for the conservation check only: its order of
    /// summation depends on the hash maps and the threads).
    fn total(&self) -> f64 {
        self.shards
            .par_iter()
            .map(|s| s.values().sum::<f64>())
            .sum()
    }
}

/// A fixed (seedless) hash of packed records, so that the work done is the
/// same run to run; results do not depend on it (records are sorted).
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = crate::engine::rng::mix(self.0 ^ u64::from(b));
        }
    }
    fn write_u128(&mut self, v: u128) {
        self.0 = crate::engine::rng::mix(crate::engine::rng::mix(v as u64) ^ (v >> 64) as u64);
    }
}

/// A record as one integer whose order is the order of [`Person`]'s fields.
fn pack(p: Person) -> u128 {
    u128::from(p.state) << 72
        | u128::from(p.class) << 64
        | u128::from(p.hours) << 56
        | u128::from(p.rf_total) << 48
        | u128::from(p.birth) << 32
        | u128::from(p.entered) << 16
        | u128::from(p.refusion)
}

fn unpack(k: u128) -> Person {
    Person {
        state: (k >> 72) as u8,
        class: (k >> 64) as u8,
        hours: (k >> 56) as u8,
        rf_total: (k >> 48) as u8,
        birth: (k >> 32) as u16,
        entered: (k >> 16) as u16,
        refusion: k as u16,
    }
}

/// The records of `map` in sorted order (emptying it).
/// The records of `map` in key order, emptying it. Keys are unique, so the
/// order (and the result) is the same whatever the threads: the shards are
/// drained and the records sorted in parallel.
fn sorted(map: &mut Map) -> Vec<(u128, f64)> {
    let mut v: Vec<(u128, f64)> = map
        .shards
        .par_iter_mut()
        .flat_map_iter(|s| s.drain())
        .collect();
    v.par_sort_unstable_by_key(|x| x.0);
    v
}

/// Records stepped together (the events of a batch are held in memory).
const EXACT_BATCH: usize = 1 << 14;

/// What stepping one record adds, in the order the sequential loop adds it.
#[derive(Clone, Copy)]
enum Ev {
    /// The record's mass (the conservation check's `before`).
    Record {
        m: f64,
    },
    /// Mass `mm` of a record in state `s` (age group `age`) stays (`to` =
    /// [`STAY`]) or moves to `to`, becoming the canonical record `next`.
    Move {
        mm: f64,
        s: u8,
        age: u8,
        to: u8,
        next: Person,
    },
    Occupancy {
        cell: usize,
        add: f64,
    },
    PersonQuarters {
        m: f64,
    },
}

/// Steps record `key` of mass `m` in simulated quarter `t` (absolute
/// `now`): its outcomes, occupancy and person-quarters, as events.
fn step_record(
    tb: &Tables,
    lump: &Lumper,
    t: u16,
    now: Quarter,
    key: u128,
    m: f64,
    ev: &mut Vec<Ev>,
) {
    let person = unpack(key);
    ev.push(Ev::Record { m });
    let age = age_group(now.0, person.birth);
    let s = person.state;
    let token = lump.token(person.hours);
    // The rules see one member of a token; every member decides alike.
    let seen = match token {
        Some(tk) => Person {
            hours: tk.rep,
            ..person
        },
        None => person,
    };
    let counted = tb.outcomes(t, &seen, &mut |pr, mut n, to| {
        if token.is_some() {
            debug_assert_eq!(n.hours, seen.hours, "a token's hours never change");
            n.hours = person.hours;
        }
        ev.push(Ev::Move {
            mm: m * pr,
            s,
            age: age as u8,
            to,
            next: lump.canon(n, now.0 + 1),
        });
    });
    debug_assert_eq!(counted.age, age);
    match token {
        // In a flex job the cost variant is the hours: spread the
        // token's mass over its members' cells.
        Some(tk) if tb.has_hours(person.state) => {
            let base = counted.cell - usize::from(tk.rep);
            for &(h, q) in &tk.members {
                ev.push(Ev::Occupancy {
                    cell: base + usize::from(h),
                    add: m * q,
                });
            }
        }
        _ => ev.push(Ev::Occupancy {
            cell: counted.cell,
            add: m,
        }),
    }
    if person.state != OUT {
        ev.push(Ev::PersonQuarters { m });
    }
}

fn age_group(now: u16, birth: u16) -> usize {
    usize::from(now.wrapping_sub(birth) >= AGE40_Q)
}

/// The records of one cohort created in `now`, with their mass; adds the
/// mass by age group to `by_age[state]`.
#[allow(clippy::too_many_arguments)]
fn cohort_records(
    sc: &Scenario,
    tb: &Tables,
    lump: &mut Lumper,
    cohort: &crate::scenario::Cohort,
    mass: f64,
    now: Quarter,
    out: &mut Map,
    by_age: &mut [f64; 2],
) {
    if mass == 0.0 {
        return;
    }
    let pmf = population::cohort_pmf(sc, cohort, now);
    let st = cohort.state;
    let benefit = sc.is_benefit(st);
    let is_rf = st == State::Ressourceforloeb;
    let mut births: BTreeMap<u16, f64> = BTreeMap::new();
    for &(age_q, p) in &pmf.age_q {
        let b = now.0.saturating_sub(age_q);
        *births.entry(lump.birth_rep[b as usize]).or_insert(0.0) += p;
    }
    // Duration sets the entry quarter, the refusion clock and the
    // ressourceforløb total (as in `Population::add_group`).
    let mut durs: BTreeMap<(u16, u16, u8), f64> = BTreeMap::new();
    for &(dur, p) in &pmf.duration {
        let rec = lump.canon(
            Person {
                state: st as u8,
                class: 0,
                hours: 0,
                rf_total: if is_rf {
                    dur.min(u16::from(RF_COUNT)) as u8
                } else {
                    0
                },
                birth: 0,
                entered: now.0.saturating_sub(dur),
                refusion: if benefit {
                    dur.min(cells::N_BANDS as u16)
                } else {
                    0
                },
            },
            now.0,
        );
        *durs
            .entry((rec.entered, rec.refusion, rec.rf_total))
            .or_insert(0.0) += p;
    }
    let hours = lump.hours_keys(tb, &pmf.hours);
    for (&birth, &pb) in &births {
        by_age[age_group(now.0, birth)] += mass * pb;
        for (&(entered, refusion, rf_total), &pd) in &durs {
            for &(hours, ph) in &hours {
                for &(class, pc) in &pmf.class {
                    lump.push(
                        out,
                        Person {
                            state: st as u8,
                            class: class & lump.class_mask,
                            hours,
                            rf_total,
                            birth,
                            entered,
                            refusion,
                        },
                        mass * pb * pd * ph * pc,
                    );
                }
            }
        }
    }
}

/// Computes the expected results of a prepared scenario at population `scale`.
pub fn run(p: &Prepared, scale: f64) -> Result<ExactRun> {
    run_with(p, scale, &|| {})
}

/// [`run`], calling `tick` after each quarter is stepped (progress).
pub fn run_with(p: &Prepared, scale: f64, tick: &(dyn Fn() + Sync)) -> Result<ExactRun> {
    if !(scale > 0.0 && scale <= 1.0) {
        return Err(Error::Invalid(format!(
            "--scale must be in (0, 1], got {scale}"
        )));
    }
    let sc = p.scenario;
    let tb = &p.tables;
    let h = sc.horizon;
    let mut lump = Lumper::new(sc, tb);
    let mass = |count: f64| f64::from(scaled(count, scale)) / scale;

    let mut ex = Expected {
        stocks: Vec::with_capacity(h as usize + 1),
        flows: Vec::with_capacity(h as usize),
        costs: Vec::with_capacity(h as usize),
        rf_phase: Vec::with_capacity(h as usize),
        minifleks: Vec::with_capacity(h as usize),
        person_quarters: 0.0,
    };
    let mut map = Map::new(rayon::current_num_threads());
    let mut initial = [[0.0; 2]; N_STATES];
    for c in &sc.stock {
        cohort_records(
            sc,
            tb,
            &mut lump,
            c,
            mass(c.count),
            sc.start,
            &mut map,
            &mut initial[c.state as usize],
        );
    }
    ex.stocks.push(initial);
    // Entrants of quarter `t` join before it is stepped.
    let inflow = |lump: &mut Lumper, map: &mut Map, t: u16| {
        let mut flows = [[[0.0; N_STATES]; N_STATES + 1]; 2];
        let now = sc.start.plus(t);
        for c in &sc.at(now).inflow {
            let mut by_age = [0.0; 2];
            cohort_records(sc, tb, lump, c, mass(c.count), now, map, &mut by_age);
            for age in 0..2 {
                flows[age][ENTRY][c.state as usize] += by_age[age];
            }
        }
        flows
    };
    let mut entry_flows = if h > 0 {
        inflow(&mut lump, &mut map, 0)
    } else {
        Default::default()
    };
    let mut cur = sorted(&mut map);
    let mut peak = cur.len();
    for t in 0..h {
        let now = sc.start.plus(t);
        let mut flows = entry_flows;
        let mut occupancy = vec![0.0; N_CELLS];
        let mut stock = [[0.0; 2]; N_STATES];
        let (mut pq, mut before) = (0.0, 0.0);
        // Records are stepped in parallel, in batches: the threads work out
        // every record's outcomes (the costly part) into events, which are
        // then applied in record order, the sums of arrays on one thread and
        // the records' map shard by shard in parallel. Every sum receives
        // the same terms in the same order as a loop over the records would
        // give it, so the results are the same bits for any thread count.
        for batch in cur.chunks(EXACT_BATCH) {
            let events: Vec<Vec<Ev>> = batch
                .par_chunks(256)
                .map(|chunk| {
                    let mut ev = Vec::with_capacity(chunk.len() * 4);
                    for &(key, m) in chunk {
                        step_record(tb, &lump, t, now, key, m, &mut ev);
                    }
                    ev
                })
                .collect();
            for e in events.iter().flatten() {
                match *e {
                    Ev::Record { m } => before += m,
                    Ev::Move { mm, s, age, to, .. } => {
                        let (s, age) = (usize::from(s), usize::from(age));
                        if to == STAY {
                            stock[s][age] += mm;
                        } else {
                            flows[age][s][to as usize] += mm;
                            stock[to as usize][age] += mm;
                        }
                    }
                    Ev::Occupancy { cell, add } => occupancy[cell] += add,
                    Ev::PersonQuarters { m } => pq += m,
                }
            }
            let n = map.shards.len();
            map.shards
                .par_iter_mut()
                .enumerate()
                .for_each(|(k, shard)| {
                    for e in events.iter().flatten() {
                        if let Ev::Move { mm, next, .. } = *e {
                            lump.keys(next, mm, &mut |key, x| {
                                if Map::shard_of(key, n) == k {
                                    *shard.entry(key).or_insert(0.0) += x;
                                }
                            });
                        }
                    }
                });
        }
        let after: f64 = map.total();
        if (after - before).abs() > 1e-9 * before.max(1.0) {
            return Err(Error::Internal(format!(
                "exact mode lost mass in quarter {now}: {after} persons after the step, {before} before"
            )));
        }
        if t + 1 < h {
            entry_flows = inflow(&mut lump, &mut map, t + 1);
        }
        peak = peak.max(map.len());
        cur = sorted(&mut map);

        let mut cost = [[0.0; 2]; N_ITEMS];
        p.costs[sc.period_of(sc.start.plus(t))].price_expected(&occupancy, &flows, &mut cost);
        ex.rf_phase
            .push(crate::engine::runner::rf_phase_quarters(&occupancy));
        ex.minifleks.push(crate::engine::runner::minifleks(
            &occupancy,
            sc.flex.minifleks_max_hours,
        ));
        ex.stocks.push(stock);
        ex.flows.push(flows);
        ex.costs.push(cost);
        ex.person_quarters += pq;
        tick();
    }

    let layout = Layout::for_scenario(sc, h);
    let stats = values(&layout, &ex)
        .into_iter()
        .map(|v| CellStats {
            mean: v,
            se: if v.is_nan() { f64::NAN } else { 0.0 },
            ci_low: v,
            ci_high: v,
        })
        .collect();
    Ok(ExactRun {
        result: RunResult {
            layout,
            stats,
            replications: 0,
            person_quarters: ex.person_quarters.round() as u64,
            checksum: 0,
        },
        expected: ex,
        peak_records: peak,
    })
}

/// The layout's cells from expected counters: `results::Layout::values`
/// for the cells that are linear in the counters, NaN for ratios.
pub fn values(layout: &Layout, ex: &Expected) -> Vec<f64> {
    let years = &layout.years;
    let year_idx = |year: i32| years.iter().position(|y| y.0 == year).expect("year");
    let mut annual = vec![[0.0f64; Annual::ALL.len()]; years.len()];
    let mut annual_cost = vec![[[0.0f64; 2]; N_ITEMS + 1]; years.len()];
    let mut pv = [0.0f64; 2];
    let fp = State::Foertidspension as usize;
    let rf = State::Ressourceforloeb as usize;
    let (fl, ly) = (State::Fleksjob as usize, State::Ledighedsydelse as usize);
    for t in 0..layout.horizon {
        let yi = year_idx(layout.start.plus(t).year());
        let a = &mut annual[yi];
        let f = &ex.flows[t as usize];
        for age in 0..2 {
            let awards: f64 = (0..=ENTRY)
                .filter(|&s| s != fp)
                .map(|s| f[age][s][fp])
                .sum();
            a[age] += awards;
            a[2] += awards;
            a[3] += (0..=ENTRY).map(|s| f[age][s][rf]).sum::<f64>();
            a[4] += (0..=ENTRY)
                .filter(|&s| s != fl && s != ly)
                .map(|s| f[age][s][fl] + f[age][s][ly])
                .sum::<f64>();
        }
        let discount = (1.0 + layout.discount_rate).powf(-f64::from(t + 1) / 4.0);
        for (item, c) in ex.costs[t as usize].iter().enumerate() {
            a[5] += c[0];
            a[6] += c[1];
            a[7] += c[0] + c[1];
            for payer in 0..2 {
                annual_cost[yi][item][payer] += c[payer];
                annual_cost[yi][N_ITEMS][payer] += c[payer];
                pv[payer] += c[payer] * discount;
            }
        }
    }
    let by_payer = |c: [f64; 2], payer: u8| {
        if payer == 2 {
            c[0] + c[1]
        } else {
            c[payer as usize]
        }
    };
    let waiting = [
        Phase::WaitingTeam,
        Phase::WaitingIntervention,
        Phase::Passive,
    ];
    layout
        .cells
        .iter()
        .map(|c| match *c {
            Cell::Stock { t, state, age } => {
                let Some(state) = layout.slot(state) else {
                    return 0.0;
                };
                let s = ex.stocks[t as usize][state];
                if age == 2 {
                    s[0] + s[1]
                } else {
                    s[age as usize]
                }
            }
            Cell::Flow { t, from, to } => {
                let (Some(from), Some(to)) = (layout.slot(from), layout.slot(to)) else {
                    return 0.0;
                };
                let f = &ex.flows[t as usize];
                f[0][from][to] + f[1][from][to]
            }
            Cell::Cost { t, item, payer } => {
                let costs = &ex.costs[t as usize];
                let ore = if item as usize == N_ITEMS {
                    costs.iter().map(|&c| by_payer(c, payer)).sum()
                } else if let Some(item) = layout.slot(item) {
                    by_payer(costs[item], payer)
                } else {
                    0.0
                };
                ore / 100.0
            }
            // Settling is a move to `out` here (outcomes do not tell it apart).
            Cell::Annual {
                metric: Annual::LeftForGood,
                ..
            }
            | Cell::PerYear {
                metric: Annual::LeftForGood,
            } => f64::NAN,
            Cell::Annual { year, metric } => {
                let v = annual[year_idx(year)][metric as usize];
                if metric.unit() == "DKK" { v / 100.0 } else { v }
            }
            Cell::AnnualCost { year, item, payer } => {
                let item = match layout.slot(item) {
                    _ if item as usize == N_ITEMS => N_ITEMS,
                    Some(item) => item,
                    None => return 0.0,
                };
                by_payer(annual_cost[year_idx(year)][item], payer) / 100.0
            }
            Cell::PerYear { metric } => {
                let total: f64 = annual.iter().map(|a| a[metric as usize]).sum();
                let v = if metric.unit() == "DKK" {
                    total / 100.0
                } else {
                    total
                };
                v / (f64::from(layout.horizon) / 4.0)
            }
            Cell::Pv { payer } => {
                let ore = if payer == 2 {
                    pv[0] + pv[1]
                } else {
                    pv[payer as usize]
                };
                ore / 100.0
            }
            Cell::Minifleks { t } => ex.minifleks[t as usize],
            Cell::Volume { year, state } => {
                let Some(s) = layout.slot(state) else {
                    return 0.0;
                };
                (0..layout.horizon)
                    .filter(|&t| layout.start.plus(t).year() == year)
                    .map(|t| {
                        let (st, f) = (&ex.stocks[t as usize], &ex.flows[t as usize]);
                        st[s][0] + st[s][1] + f[0][ENTRY][s] + f[1][ENTRY][s]
                    })
                    .sum::<f64>()
                    / 4.0
            }
            Cell::VariantAwards { year, state, age } => {
                let Some(v) = layout.slot(state) else {
                    return 0.0;
                };
                let ages: &[usize] = if age == 2 { &[0, 1] } else { &[age as usize] };
                let n: f64 = (0..layout.horizon)
                    .filter(|&t| year.is_none_or(|y| layout.start.plus(t).year() == y))
                    .map(|t| {
                        let f = &ex.flows[t as usize];
                        ages.iter()
                            .flat_map(|&a| (0..=ENTRY).filter(|&s| s != v).map(move |s| f[a][s][v]))
                            .sum::<f64>()
                    })
                    .sum();
                if year.is_none() {
                    n / (f64::from(layout.horizon) / 4.0)
                } else {
                    n
                }
            }
            Cell::Citizen {
                metric: Citizen::RfQuartersWithoutIntervention,
            } => {
                let without: f64 = ex
                    .rf_phase
                    .iter()
                    .map(|p| waiting.iter().map(|&ph| p[ph as usize]).sum::<f64>())
                    .sum();
                without / (f64::from(layout.horizon) / 4.0)
            }
            Cell::Citizen { .. }
            | Cell::RfExit { .. }
            | Cell::Cohort { .. }
            | Cell::RfPhaseShare { .. }
            | Cell::RfNoInterventionYearOne
            | Cell::RfPhaseSpell { .. }
            | Cell::MinifleksRaised { .. }
            | Cell::RevalideringAfter { .. } => f64::NAN,
        })
        .collect()
}

/// Whether a cell is computed by exact mode (linear in the counters).
pub fn is_linear(c: &Cell) -> bool {
    !matches!(
        c,
        Cell::RfExit { .. }
            | Cell::Cohort { .. }
            | Cell::RfPhaseShare { .. }
            | Cell::RfNoInterventionYearOne
            | Cell::RfPhaseSpell { .. }
            | Cell::MinifleksRaised { .. }
            | Cell::RevalideringAfter { .. }
            | Cell::Annual {
                metric: Annual::LeftForGood,
                ..
            }
            | Cell::PerYear {
                metric: Annual::LeftForGood
            }
            | Cell::Citizen {
                metric: Citizen::MeanToClarification
                    | Citizen::MedianToClarification
                    | Citizen::ShareClarified
                    | Citizen::RfShareWithoutIntervention
                    | Citizen::RfQuartersToClarification
                    | Citizen::RfShareClarified
                    | Citizen::CashYearQuartersToClarification
            }
    )
}

/// Total expected public expenditure over the horizon, DKK.
pub fn total_cost(ex: &Expected) -> f64 {
    ex.costs
        .iter()
        .flat_map(|q| q.iter())
        .map(|c| c[0] + c[1])
        .sum::<f64>()
        / 100.0
}
