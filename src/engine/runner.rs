//! Runs replications in parallel and folds them, in order, into statistics.
//!
//! **Architecture invariant:** replication `r` draws from
//! `RepKey::new(seed, r)` whoever runs it. Replications run in parallel;
//! when there are fewer than threads, each replication's persons are split
//! into blocks stepped on their own threads ([`simulate_in_blocks`]), whose
//! integer counters add up to the whole's exactly.
//! Replications are computed in batches and folded into the accumulators in
//! replication order, so results are bit-identical for any thread count and
//! memory is bounded by the batch, not by the number of replications.
//! This module parses no files and formats no output.

use crate::engine::cells::{self, ENTRY};
use crate::engine::costing::{CostTable, N_ITEMS};
use crate::engine::kernel::{self, Counters, Tables};
use crate::engine::population::Population;
use crate::engine::results::{COHORT_YEARS, Layout, RepResult};
use crate::engine::rng::RepKey;
use crate::engine::stats::{CellStats, Welford};
use crate::engine::units::{RepUnit, Units, drive};
use crate::error::{Error, Result};
use crate::scenario::{AGE40_Q, N_PHASES, N_STATES, Scenario, State, flag};
use rayon::prelude::*;

/// How to run a scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct RunConfig {
    pub replications: u32,
    pub seed: u64,
    /// Fraction of the population simulated; counts are scaled back by 1/scale.
    pub scale: f64,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            replications: 20,
            seed: 2019,
            scale: 1.0,
        }
    }
}

impl RunConfig {
    pub fn validate(&self) -> Result<()> {
        if self.replications == 0 {
            return Err(Error::Invalid("--replications must be at least 1".into()));
        }
        if !(self.scale > 0.0 && self.scale <= 1.0) {
            return Err(Error::Invalid(format!(
                "--scale must be in (0, 1], got {}",
                self.scale
            )));
        }
        if !(1.0 / self.scale).is_finite() {
            return Err(Error::Invalid(format!(
                "--scale {:e} is too small: 1/scale, the factor that scales counts back, is not a finite number",
                self.scale
            )));
        }
        Ok(())
    }
}

/// Everything compiled from a scenario that replications share.
pub struct Prepared<'a> {
    pub scenario: &'a Scenario,
    pub tables: Tables,
    /// The cost table of each set of numbers in force
    /// ([`Scenario::period`]; one unless amounts are dated).
    pub costs: Vec<CostTable>,
    /// Money results are multiplied by this: 1 at the scenario's own
    /// prices ([`Prepared::in_prices`]).
    pub prices: f64,
}

impl<'a> Prepared<'a> {
    pub fn new(scenario: &'a Scenario) -> Prepared<'a> {
        Prepared {
            scenario,
            tables: Tables::compile(scenario),
            costs: (0..scenario.n_periods())
                .map(|k| CostTable::new(scenario.period(k)))
                .collect(),
            prices: 1.0,
        }
    }

    /// Reports money at `year`'s prices (the scenario's price index turns
    /// its `price_year` amounts into them).
    pub fn in_prices(mut self, year: i32) -> Result<Self> {
        self.prices = self.scenario.price_factor(year).map_err(Error::Invalid)?;
        Ok(self)
    }
}

pub use crate::engine::population::scaled;

/// Simulates replication `rep`.
pub fn simulate(p: &Prepared, cfg: &RunConfig, rep: u32) -> Result<RepResult> {
    simulate_in_blocks(p, cfg, rep, 1)
}

/// How many blocks each of `replications` replications is split into so
/// that they keep the current rayon pool's threads busy: one when there are
/// at least as many replications as threads, else enough to fill them.
/// Results do not depend on it (see [`simulate_in_blocks`]).
pub fn blocks_for(replications: u32) -> u32 {
    let threads = rayon::current_num_threads().max(1) as u32;
    threads.div_ceil(replications.clamp(1, threads)).min(64)
}

/// One block of a replication's persons and its counters.
struct Block {
    pop: Population,
    c: Counters,
    spells: [u64; N_PHASES],
    entrants: u64,
    created: usize,
}

/// Simulates replication `rep` with its persons split into `blocks`
/// blocks (every cohort's persons `[K·n/B, (K+1)·n/B)` in block `K`), each
/// stepped on its own thread, their integer counters added every quarter.
/// A person's random numbers depend on their id, never on who else is in
/// their population, and persons do not interact, so the result is the
/// same for any number of blocks (tested), bit for bit.
pub fn simulate_in_blocks(
    p: &Prepared,
    cfg: &RunConfig,
    rep: u32,
    blocks: u32,
) -> Result<RepResult> {
    let sc = p.scenario;
    let key = RepKey::new(cfg.seed, u64::from(rep));
    let h = sc.horizon as usize;
    let mut parts: Vec<Block> = (0..blocks.max(1))
        .map(|k| {
            let mut pop = Population::for_scenario(sc, cfg.scale)?;
            pop.set_block(k, blocks.max(1));
            Ok(Block {
                pop,
                c: Counters::default(),
                spells: [0u64; N_PHASES],
                entrants: 0,
                created: 0,
            })
        })
        .collect::<Result<_>>()?;
    let each = |parts: &mut [Block], f: &(dyn Fn(&mut Block) + Sync)| {
        if parts.len() == 1 {
            f(&mut parts[0]);
        } else {
            parts.par_iter_mut().for_each(f);
        }
    };
    each(&mut parts, &|b| {
        let Block { pop, spells, .. } = b;
        pop.add_stock(sc, cfg.scale, key, |pop, c, range| {
            count_phase_spells(pop, c.state, range, spells)
        });
    });
    let mut spells = [0u64; N_PHASES];
    let mut initial = [[0u32; 2]; N_STATES];
    for b in &mut parts {
        for (a, x) in spells.iter_mut().zip(b.spells) {
            *a += x;
        }
        b.spells = [0; N_PHASES];
        for (a, x) in initial
            .iter_mut()
            .flatten()
            .zip(b.pop.stocks(sc.start.0).iter().flatten())
        {
            *a += x;
        }
    }
    let mut res = RepResult {
        stocks: Vec::with_capacity(h + 1),
        flows: Vec::with_capacity(h),
        costs: Vec::with_capacity(h),
        person_quarters: 0,
        checksum: 0,
        clarification: Vec::new(),
        entrants: 0,
        rf_phase: Vec::with_capacity(h),
        cohort: [None; 3],
        minifleks: Vec::with_capacity(h),
        rf_year_one: [0; 2],
        rf_ends: [0; 3],
        cash_year_clarified: [0; 2],
        rf_phase_entries: spells,
        mini_raise: Vec::with_capacity(h),
        reval_after: [0; N_STATES],
        settled: Vec::with_capacity(usize::from(sc.horizon)),
    };
    res.stocks.push(initial);
    let mut c = Counters::default();
    for t in 0..sc.horizon {
        let now = sc.start.plus(t);
        each(&mut parts, &|b| {
            let Block {
                pop,
                c,
                spells,
                entrants,
                created,
            } = b;
            c.reset_quarter();
            let before = pop.len();
            pop.add_inflow(sc, t, cfg.scale, key, |pop, cohort, range| {
                let bin = &pop.bins[cohort.state as usize];
                for &b in &bin.birth[range.clone()] {
                    let age = usize::from(now.0.wrapping_sub(b) >= AGE40_Q);
                    c.flows[age][ENTRY][cohort.state as usize] += 1;
                }
                if matches!(cohort.state, State::Kontanthjaelp | State::Sygedagpenge) {
                    *entrants += range.len() as u64;
                }
                count_phase_spells(pop, cohort.state, range, spells);
            });
            *created = pop.len() - before;
            kernel::step(&p.tables, pop, t, key, c);
        });
        c.reset_quarter();
        // The blocks' run-long counts are summed afresh each quarter.
        c.clarification.fill(0);
        c.rf_ends = [0; 3];
        c.cash_year_clarified = [0; 2];
        let (mut entrants, mut len) = (0, 0);
        for b in &mut parts {
            c.add(&b.c);
            entrants += b.created;
            len += b.pop.len();
            res.entrants += std::mem::take(&mut b.entrants);
            for (a, x) in res.rf_phase_entries.iter_mut().zip(b.spells) {
                *a += x;
            }
            b.spells = [0; N_PHASES];
        }
        let mut cost = [[0i64; 2]; N_ITEMS];
        p.costs[sc.period_of(now)]
            .price(&c.occupancy, &c.flows, &mut cost)
            .map_err(|e| {
                Error::Invalid(format!(
                    "{e} in replication {rep}, quarter {now}; lower the amounts under [costs] or --scale"
                ))
            })?;
        // Conservation: everyone ever created is in exactly one state (out cumulative).
        let total: u64 = c.stock.iter().flatten().map(|&n| u64::from(n)).sum();
        let prev: u64 = res.stocks[t as usize]
            .iter()
            .flatten()
            .map(|&n| u64::from(n))
            .sum();
        if total != len as u64 || total != prev + entrants as u64 {
            return Err(Error::Internal(format!(
                "conservation violated in replication {rep}, quarter {now}: {total} persons in states, \
                 {prev} before plus {entrants} entrants, {len} created"
            )));
        }
        res.rf_phase.push(rf_phase_quarters(&c.occupancy));
        for (a, b) in res.rf_year_one.iter_mut().zip(c.rf_year_one) {
            *a += b;
        }
        // Spells begun at the end of the last quarter lie beyond the horizon.
        if t + 1 < sc.horizon {
            for (a, b) in res.rf_phase_entries.iter_mut().zip(c.phase_entries) {
                *a += u64::from(b);
            }
        }
        res.mini_raise.push(c.mini_raise);
        res.settled.push(c.settled.iter().sum());
        for (a, b) in res.reval_after.iter_mut().zip(c.reval_after) {
            *a += b;
        }
        res.minifleks
            .push(minifleks(&c.occupancy, sc.flex.minifleks_max_hours));
        if let Some(i) = COHORT_YEARS.iter().position(|&y| y * 4 == t + 1) {
            let mut states = [0u32; N_STATES];
            for b in &parts {
                for (a, x) in states.iter_mut().zip(b.pop.cohort_states(1)) {
                    *a += x;
                }
            }
            res.cohort[i] = Some(states);
        }
        res.stocks.push(c.stock);
        res.flows.push(c.flows);
        res.costs.push(cost);
        res.person_quarters += c.person_quarters;
    }
    // `Population::checksum` is a sum over persons, then xor the count out:
    // the blocks' sums add up to the whole's.
    let (mut sum, mut out) = (0u64, 0usize);
    for b in &parts {
        sum = sum.wrapping_add(b.pop.checksum() ^ crate::engine::rng::mix(b.pop.n_out() as u64));
        out += b.pop.n_out();
    }
    res.checksum = sum ^ crate::engine::rng::mix(out as u64);
    res.clarification = c.clarification.clone();
    res.rf_ends = c.rf_ends;
    res.cash_year_clarified = c.cash_year_clarified;
    Ok(res)
}

/// Counts the phase spells of persons created in ressourceforløb (the
/// initial stock, inflow) at `range` of its bin: every spell that overlaps
/// the horizon counts once, so spells in progress at the start do not
/// inflate the mean spell.
fn count_phase_spells(
    pop: &Population,
    state: State,
    range: std::ops::Range<usize>,
    entries: &mut [u64; N_PHASES],
) {
    if state == State::Ressourceforloeb {
        for &cls in &pop.bins[state as usize].class[range] {
            let ph = (cls & flag::PHASE_MASK) >> flag::PHASE_SHIFT;
            entries[usize::from(ph)] += 1;
        }
    }
}

/// Person-quarters in ressourceforløb by phase, from one quarter's occupancy
/// (counts, or expected counts in `exact`).
pub(crate) fn rf_phase_quarters<T: Copy + Default + std::ops::AddAssign>(
    occupancy: &[T],
) -> [T; N_PHASES] {
    let mut out = [T::default(); N_PHASES];
    let rf = State::Ressourceforloeb as usize;
    for age in 0..cells::N_AGES {
        for band in 0..cells::N_BANDS {
            for var in 0..2 * N_PHASES {
                out[var / 2] += occupancy[cells::cell(rf, age, band, var)];
            }
        }
    }
    out
}

/// Persons in a flex job of at most `max_hours` a week, from one quarter's
/// occupancy (counts, or expected counts in `exact`).
pub(crate) fn minifleks<T: Copy + Default + std::ops::AddAssign>(
    occupancy: &[T],
    max_hours: u8,
) -> T {
    let fl = State::Fleksjob as usize;
    let mut n = T::default();
    for age in 0..cells::N_AGES {
        for band in 0..cells::N_BANDS {
            for h in 0..=usize::from(max_hours).min(cells::N_VAR - 1) {
                n += occupancy[cells::cell(fl, age, band, h)];
            }
        }
    }
    n
}

/// The statistics of a finished run.
#[derive(Debug, Clone)]
pub struct RunResult {
    pub layout: Layout,
    pub stats: Vec<CellStats>,
    pub replications: u32,
    pub person_quarters: u64,
    /// Combined checksum of every replication's final states.
    pub checksum: u64,
}

/// Runs `cfg.replications` replications of a prepared scenario on the
/// current rayon pool. `on_done` is called once per finished replication.
pub fn run(p: &Prepared, cfg: &RunConfig, on_done: &(dyn Fn() + Sync)) -> Result<RunResult> {
    run_each(p, cfg, on_done, &mut |_| {})
}

/// Like [`run`], and hands each replication's output values, in
/// replication order, to `each` (for statistics of derived quantities).
pub fn run_each(
    p: &Prepared,
    cfg: &RunConfig,
    on_done: &(dyn Fn() + Sync),
    each: &mut dyn FnMut(&[f64]),
) -> Result<RunResult> {
    let layout = Layout::for_scenario(p.scenario, p.scenario.horizon);
    run_each_in(p, cfg, layout, on_done, each)
}

/// [`run_each`] with the cells of `layout` (which may report variants the
/// scenario lacks, so that its values line up with another scenario's).
pub fn run_each_in(
    p: &Prepared,
    cfg: &RunConfig,
    layout: Layout,
    on_done: &(dyn Fn() + Sync),
    each: &mut dyn FnMut(&[f64]),
) -> Result<RunResult> {
    run_each_units(p, cfg, layout, &mut Units::All, on_done, each)
}

/// [`run`] over the replications `units` names: all of them, a shard's
/// block (whose raw values go to the sink; the statistics returned are then
/// empty), or none, the values replayed from a merge.
pub fn run_units(
    p: &Prepared,
    cfg: &RunConfig,
    units: &mut Units,
    on_done: &(dyn Fn() + Sync),
) -> Result<RunResult> {
    let layout = Layout::for_scenario(p.scenario, p.scenario.horizon);
    run_each_units(p, cfg, layout, units, on_done, &mut |_| {})
}

/// [`run_each_in`] over the replications `units` names (see [`run_units`]).
pub fn run_each_units(
    p: &Prepared,
    cfg: &RunConfig,
    layout: Layout,
    units: &mut Units,
    on_done: &(dyn Fn() + Sync),
    each: &mut dyn FnMut(&[f64]),
) -> Result<RunResult> {
    cfg.validate()?;
    let mut acc = Welford::new(layout.cells.len());
    let mut person_quarters = 0u64;
    let mut checksum = 0xcbf2_9ce4_8422_2325u64;
    let blocks = blocks_for(units.computed(cfg.replications));
    let compute = |r: u32| -> Result<RepUnit> {
        let res = simulate_in_blocks(p, cfg, r, blocks)?;
        let mut values = layout.values(&res, cfg.scale);
        layout.reprice(&mut values, p.prices);
        Ok(RepUnit {
            values: vec![values],
            person_quarters: res.person_quarters,
            checksum: res.checksum,
        })
    };
    let cells = layout.cells.len();
    drive(cfg.replications, units, &compute, on_done, &mut |r, u| {
        let [values] = &u.values[..] else {
            return Err(Error::Invalid(format!(
                "replication {r} holds {} scenarios' values, a run one",
                u.values.len()
            )));
        };
        if values.len() != cells {
            return Err(Error::Invalid(format!(
                "replication {r} holds {} values, this run's layout {cells}",
                values.len()
            )));
        }
        each(values);
        acc.add(values);
        person_quarters += u.person_quarters;
        checksum = (checksum ^ u.checksum).wrapping_mul(0x0000_0100_0000_01b3);
        Ok(())
    })?;
    Ok(RunResult {
        stats: acc.finish(),
        layout,
        replications: cfg.replications,
        person_quarters,
        checksum,
    })
}
