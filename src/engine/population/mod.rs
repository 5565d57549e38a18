//! Synthetic persons in struct-of-arrays columns, one bin per state.
//!
//! **Architecture invariants:**
//! - Every person not yet `out` lives in exactly one [`Bin`], the bin of
//!   their current state; persons in `out` hold no columns at all and are
//!   only counted, by birth quarter ([`Population::out_by_birth`]).
//! - Persons are created in groups (one initial-stock group per state, one
//!   inflow group per entry state and quarter). A person's stable id is
//!   `(group cohort, group state, index in group)`, independent of what any
//!   rule did to anyone else; the bins hold it packed in 32 bits
//!   ([`Population::pack`]), and random numbers are keyed on it, never on a
//!   position in a bin. The order of persons within a bin is therefore
//!   free, and `kernel::step` compacts bins in place.
//!
//! This module knows nothing of transitions or money.
//!
//! Memory: 13 bytes per person not yet out ([`Population::BYTES_PER_PERSON`]),
//! bins grow by an eighth at a time ([`Bin::reserve`]), and nothing per
//! person in `out`.

mod bands;
mod pmf;

use crate::engine::cells::{N_BANDS, RF_COUNT};
use crate::engine::rng::{self, Kind, RepKey};
use crate::error::{Error, Result};
use crate::scenario::calendar::Quarter;
use crate::scenario::{Cohort, N_STATES, Scenario, Share, State, flag};
use bands::{BandTable, pick_index};
pub use pmf::{CohortPmf, cohort_pmf};

/// A contiguous run of persons created together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Group {
    /// 0 for the initial stock, `t + 1` for entrants of simulated quarter `t`.
    pub cohort: u16,
    pub state: u8,
    /// Persons created before this group (a serial number, for reports).
    pub start: u32,
    pub len: u32,
}

/// One person's record, as the columns of a [`Bin`] hold it (plus the state,
/// which is the bin's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Person {
    pub state: u8,
    /// Attribute flags and per-state marks, packed as described in [`flag`].
    pub class: u8,
    /// Remaining work capacity = flex-job hours, hours a week.
    pub hours: u8,
    /// Quarters ever spent in ressourceforløb (saturating) and the
    /// clarified mark (see `kernel::RF_COUNT`).
    pub rf_total: u8,
    /// Birth quarter (absolute, [`Quarter`] index).
    pub birth: u16,
    /// Quarter (absolute) in which the person entered the current state;
    /// quarters completed in it before quarter `t` are `t - entered`.
    pub entered: u16,
    /// Refusion clock: quarters on benefit (low byte, saturating) and
    /// quarters in a row off benefit (high byte, saturating below 64), plus
    /// the follow-up mark `kernel::TRACK` in the top bit.
    pub refusion: u16,
}

/// The persons currently in one state, column by column.
#[derive(Debug, Default, Clone)]
pub struct Bin {
    /// Packed stable id ([`Population::pack`]).
    pub id: Vec<u32>,
    pub class: Vec<u8>,
    pub hours: Vec<u8>,
    pub birth: Vec<u16>,
    pub entered: Vec<u16>,
    pub refusion: Vec<u16>,
    pub rf_total: Vec<u8>,
}

impl Bin {
    pub fn len(&self) -> usize {
        self.id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.id.is_empty()
    }

    /// Makes room for `extra` more persons, growing by at least an eighth
    /// (not doubling), so that spare capacity stays below 12.5 %.
    pub fn reserve(&mut self, extra: usize) {
        fn grow<T>(v: &mut Vec<T>, extra: usize) {
            let need = v.len() + extra;
            if need > v.capacity() {
                let target = need.max(v.len() + v.len() / 8).max(64);
                v.reserve_exact(target - v.len());
            }
        }
        grow(&mut self.id, extra);
        grow(&mut self.class, extra);
        grow(&mut self.hours, extra);
        grow(&mut self.birth, extra);
        grow(&mut self.entered, extra);
        grow(&mut self.refusion, extra);
        grow(&mut self.rf_total, extra);
    }

    /// Person `i`'s record, in state `state`.
    pub fn get(&self, i: usize, state: u8) -> Person {
        Person {
            state,
            class: self.class[i],
            hours: self.hours[i],
            rf_total: self.rf_total[i],
            birth: self.birth[i],
            entered: self.entered[i],
            refusion: self.refusion[i],
        }
    }

    /// Sets the length to `len`, new persons all zero.
    pub fn resize(&mut self, len: usize) {
        self.id.resize(len, 0);
        self.class.resize(len, 0);
        self.hours.resize(len, 0);
        self.birth.resize(len, 0);
        self.entered.resize(len, 0);
        self.refusion.resize(len, 0);
        self.rf_total.resize(len, 0);
    }

    /// Removes the persons at `range` (the rest keep their order).
    pub fn remove(&mut self, range: std::ops::Range<usize>) {
        if range.is_empty() {
            return;
        }
        self.id.drain(range.clone());
        self.class.drain(range.clone());
        self.hours.drain(range.clone());
        self.birth.drain(range.clone());
        self.entered.drain(range.clone());
        self.refusion.drain(range.clone());
        self.rf_total.drain(range);
    }

    /// Appends the records `(packed id, person)` in order, column by column.
    pub fn extend_records(&mut self, recs: &[(u32, Person)]) {
        self.reserve(recs.len());
        self.id.extend(recs.iter().map(|r| r.0));
        self.class.extend(recs.iter().map(|r| r.1.class));
        self.hours.extend(recs.iter().map(|r| r.1.hours));
        self.birth.extend(recs.iter().map(|r| r.1.birth));
        self.entered.extend(recs.iter().map(|r| r.1.entered));
        self.refusion.extend(recs.iter().map(|r| r.1.refusion));
        self.rf_total.extend(recs.iter().map(|r| r.1.rf_total));
    }
}

/// Persons created for a cohort at `scale` (deterministic rounding).
pub fn scaled(count: f64, scale: f64) -> u32 {
    (count * scale).round() as u32
}

/// Every person of one replication.
#[derive(Debug, Clone)]
pub struct Population {
    /// Persons by current state; `bins[out]` stays empty.
    pub bins: [Bin; N_STATES],
    /// Persons in `out`, by birth quarter (absolute).
    pub out_by_birth: Vec<u32>,
    pub groups: Vec<Group>,
    /// Per group: the Weyl start `person_id(cohort, state, 0)·φ'` of its
    /// persons' random streams ([`RepKey::weyl`]).
    pub weyl: Vec<u64>,
    /// Revalidering leavers awaiting their follow-up a year later (T13):
    /// `(packed id, quarter left)`, sorted; see `kernel::step`.
    pub follow_up: Vec<(u32, u16)>,
    /// Band tables of the cohorts created so far, built on first use (a
    /// handful per scenario: one per band table and cap).
    tables: Vec<BandTable>,
    /// Bits of a packed id that hold the index in the group.
    idx_bits: u32,
    created: usize,
    out: usize,
    /// `(K, B)`: this population holds block `K` of `B` of every group
    /// (persons `[K·n/B, (K+1)·n/B)` of a group of `n`), so that the
    /// blocks of one replication can be simulated on different threads.
    block: (u32, u32),
}

impl Population {
    /// Bytes of column storage per person not yet out.
    pub const BYTES_PER_PERSON: usize = 13;

    /// An empty population whose packed ids hold group indices below
    /// `2^(32 - idx_bits)` and indices in a group below `2^idx_bits`.
    pub fn new(idx_bits: u32, max_birth: u16) -> Population {
        assert!((1..=31).contains(&idx_bits));
        Population {
            bins: std::array::from_fn(|_| Bin::default()),
            out_by_birth: vec![0; usize::from(max_birth) + 1],
            groups: Vec::new(),
            weyl: Vec::new(),
            follow_up: Vec::new(),
            tables: Vec::new(),
            idx_bits,
            created: 0,
            out: 0,
            block: (0, 1),
        }
    }

    /// An empty population sized for `scenario` at `scale`: checks that
    /// every person it will create gets a distinct 32-bit packed id.
    pub fn for_scenario(scenario: &Scenario, scale: f64) -> Result<Population> {
        // Inflows may be dated: size every cohort by its largest count.
        let inflow: Vec<u32> = (0..scenario.inflow.len())
            .map(|i| {
                (0..scenario.n_periods())
                    .map(|k| scaled(scenario.period(k).inflow[i].count, scale))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let sizes = || {
            scenario
                .stock
                .iter()
                .map(|c| scaled(c.count, scale))
                .chain(inflow.iter().copied())
        };
        let largest = sizes().max().unwrap_or(0);
        let groups = scenario.stock.len() as u64
            + scenario.inflow.len() as u64 * u64::from(scenario.horizon);
        let persons = scenario
            .stock
            .iter()
            .map(|c| u64::from(scaled(c.count, scale)))
            .sum::<u64>()
            + inflow.iter().map(|&n| u64::from(n)).sum::<u64>() * u64::from(scenario.horizon);
        let idx_bits = (u32::BITS - largest.saturating_sub(1).leading_zeros()).max(1);
        if persons > u64::from(u32::MAX) || idx_bits > 31 || groups >= 1 << (32 - idx_bits) {
            return Err(Error::Invalid(format!(
                "the scenario would create {persons} persons per replication in {groups} \
                 cohorts of up to {largest}, more than 32-bit person ids can tell apart; \
                 lower --scale or --quarters"
            )));
        }
        let max_birth = scenario.start.0.saturating_add(scenario.horizon);
        Ok(Population::new(idx_bits, max_birth))
    }

    /// Makes this population hold block `index` of `count` of every group
    /// it creates from now on: persons `[K·n/B, (K+1)·n/B)` of a group of
    /// `n`, with the ids and random numbers they have in the whole group.
    /// Persons never interact, so the blocks of a replication, simulated
    /// apart, add up to the whole.
    pub fn set_block(&mut self, index: u32, count: u32) {
        assert!(index < count, "block {index} of {count}");
        self.block = (index, count);
    }

    /// The indices in a group of `n` that this population's block holds.
    fn block_of(&self, n: u32) -> std::ops::Range<u32> {
        let (k, b) = (u64::from(self.block.0), u64::from(self.block.1));
        let at = |k: u64| (k * u64::from(n) / b) as u32;
        at(k)..at(k + 1)
    }

    /// The packed id of person `index` of group `group`.
    #[inline(always)]
    pub fn pack(&self, group: usize, index: u32) -> u32 {
        ((group as u32) << self.idx_bits) | index
    }

    /// Group index and index in the group of a packed id.
    #[inline(always)]
    pub fn unpack(&self, id: u32) -> (usize, u32) {
        (
            (id >> self.idx_bits) as usize,
            id & ((1 << self.idx_bits) - 1),
        )
    }

    pub fn idx_bits(&self) -> u32 {
        self.idx_bits
    }

    /// Persons ever created (in every state, `out` included).
    pub fn len(&self) -> usize {
        self.created
    }

    pub fn is_empty(&self) -> bool {
        self.created == 0
    }

    /// Bytes allocated for the bins' columns (capacity, not length).
    pub fn column_bytes(&self) -> usize {
        self.bins
            .iter()
            .map(|b| {
                b.id.capacity() * 4
                    + b.class.capacity()
                    + b.hours.capacity()
                    + b.birth.capacity() * 2
                    + b.entered.capacity() * 2
                    + b.refusion.capacity() * 2
                    + b.rf_total.capacity()
            })
            .sum()
    }

    /// Persons in `out`.
    pub fn n_out(&self) -> usize {
        self.out
    }

    /// Moves a person born in quarter `birth` to `out` (the caller has
    /// removed them from their bin).
    #[inline]
    pub fn add_out(&mut self, birth: u16) {
        self.out_by_birth[usize::from(birth)] += 1;
        self.out += 1;
    }

    /// Persons in `out` by age group (under, over 40) in absolute quarter `now`.
    pub fn out_by_age(&self, now: u16) -> [u32; 2] {
        let split = usize::from(now.saturating_sub(crate::scenario::AGE40_Q) + 1)
            .min(self.out_by_birth.len());
        let over: u32 = if now < crate::scenario::AGE40_Q {
            0
        } else {
            self.out_by_birth[..split].iter().sum()
        };
        [self.out as u32 - over, over]
    }

    /// Persons by state and age group in absolute quarter `now`.
    pub fn stocks(&self, now: u16) -> [[u32; 2]; N_STATES] {
        let mut out = [[0u32; 2]; N_STATES];
        for (s, bin) in self.bins.iter().enumerate() {
            for &b in &bin.birth {
                out[s][usize::from(now.wrapping_sub(b) >= crate::scenario::AGE40_Q)] += 1;
            }
        }
        out[State::Out as usize] = self.out_by_age(now);
        out
    }

    /// States of the persons created in `cohort` (1: the first quarter's entrants).
    pub fn cohort_states(&self, cohort: u16) -> [u32; N_STATES] {
        let mut out = [0u32; N_STATES];
        let mut created = 0u32;
        for g in self.groups.iter().filter(|g| g.cohort == cohort) {
            created += g.len;
        }
        for (s, bin) in self.bins.iter().enumerate() {
            for &id in &bin.id {
                out[s] += u32::from(self.groups[self.unpack(id).0].cohort == cohort);
            }
        }
        let alive: u32 = out.iter().sum();
        out[State::Out as usize] = created - alive;
        out
    }

    /// A digest of every person's id and state, independent of bin order.
    pub fn checksum(&self) -> u64 {
        let mut h = 0u64;
        for (s, bin) in self.bins.iter().enumerate() {
            for &id in &bin.id {
                h = h.wrapping_add(rng::mix(u64::from(id) | (s as u64) << 32));
            }
        }
        h ^ rng::mix(self.out as u64)
    }

    /// Every person, in creation order, into `snap` (persons in `out` with
    /// state `out` and their other columns zero).
    pub fn snapshot(&self, snap: &mut Snapshot) {
        let n = self.created;
        snap.state.clear();
        snap.state.resize(n, State::Out as u8);
        for col in [&mut snap.class, &mut snap.hours, &mut snap.rf_total] {
            col.clear();
            col.resize(n, 0);
        }
        for col in [&mut snap.birth, &mut snap.entered, &mut snap.refusion] {
            col.clear();
            col.resize(n, 0);
        }
        for (s, bin) in self.bins.iter().enumerate() {
            for (i, &id) in bin.id.iter().enumerate() {
                let (g, idx) = self.unpack(id);
                let k = (self.groups[g].start + idx) as usize;
                snap.state[k] = s as u8;
                snap.class[k] = bin.class[i];
                snap.hours[k] = bin.hours[i];
                snap.rf_total[k] = bin.rf_total[i];
                snap.birth[k] = bin.birth[i];
                snap.entered[k] = bin.entered[i];
                snap.refusion[k] = bin.refusion[i];
            }
        }
    }

    /// Creates the scenario's initial stock at `scale` (cohort number 0, in
    /// the start quarter) and calls `each` with every group's cohort and
    /// where its persons are in their state's bin.
    pub fn add_stock(
        &mut self,
        sc: &Scenario,
        scale: f64,
        rep: RepKey,
        each: impl FnMut(&Population, &Cohort, std::ops::Range<usize>),
    ) {
        self.add_cohorts(sc, &sc.stock, 0, sc.start, scale, rep, each);
    }

    /// Creates the inflow of simulated quarter `t` at `scale` (cohort
    /// number `t + 1`, in quarter `start + t`), as [`Population::add_stock`].
    pub fn add_inflow(
        &mut self,
        sc: &Scenario,
        t: u16,
        scale: f64,
        rep: RepKey,
        each: impl FnMut(&Population, &Cohort, std::ops::Range<usize>),
    ) {
        let now = sc.start.plus(t);
        self.add_cohorts(sc, &sc.at(now).inflow, t + 1, now, scale, rep, each);
    }

    #[allow(clippy::too_many_arguments)]
    fn add_cohorts(
        &mut self,
        sc: &Scenario,
        cohorts: &[Cohort],
        cohort_no: u16,
        now: Quarter,
        scale: f64,
        rep: RepKey,
        mut each: impl FnMut(&Population, &Cohort, std::ops::Range<usize>),
    ) {
        for c in cohorts {
            let range = self.add_group(sc, c, cohort_no, scaled(c.count, scale), now, rep);
            each(self, c, range);
        }
    }

    /// Appends `n` persons of `cohort` created in absolute quarter `now`
    /// (cohort number `cohort_no`), drawing their attributes from `rep`.
    /// Returns where they are in the bin of the cohort's state.
    pub fn add_group(
        &mut self,
        scenario: &Scenario,
        cohort: &Cohort,
        cohort_no: u16,
        n: u32,
        now: Quarter,
        rep: RepKey,
    ) -> std::ops::Range<usize> {
        let st = cohort.state as u8;
        let gi = self.groups.len();
        assert!(
            n == 0 || (n - 1) >> self.idx_bits == 0 && (gi as u64) + 1 < 1 << (32 - self.idx_bits),
            "packed ids cannot hold group {gi} of {n} persons (Population::for_scenario checks this)"
        );
        let max_age = max_age_q(scenario, now);
        let ages = self.table(&cohort.age_years, 4, max_age);
        let durations = self.table(&cohort.duration, 1, u16::MAX);
        let capacities = self.table(&cohort.hours, 1, u16::MAX);
        let tables = std::mem::take(&mut self.tables);
        let (ages, durations, capacities) =
            (&tables[ages], &tables[durations], &tables[capacities]);
        // Draws are skipped where nothing is drawn (no table, a zero share);
        // counter-based streams make that shift no other draw.
        let ctr = |k: Kind| rng::counter(now.0, k as u8);
        let raw =
            |idx: u32, ctr: u64| rng::draw53(rep.person(rng::person_id(cohort_no, st, idx)), ctr);
        let u = |idx: u32, ctr: u64| rng::to_unit(raw(idx, ctr));
        let age_ctr = ctr(Kind::Age);
        let birth_of = |idx: u32| now.0.saturating_sub(ages.pick(raw(idx, age_ctr)));
        if cohort.state == State::Out {
            for idx in self.block_of(n) {
                self.add_out(birth_of(idx));
            }
            self.tables = tables;
            let m = self.block_of(n).len() as u32;
            return self.push_group(rep, cohort_no, st, m, 0..0);
        }
        let is_rf = cohort.state == State::Ressourceforloeb;
        let benefit = scenario.is_benefit(cohort.state);
        let mut bin = std::mem::take(&mut self.bins[usize::from(st)]);
        let first = bin.len();
        let block = self.block_of(n);
        let n_us = block.len();
        bin.reserve(n_us);
        bin.resize(first + n_us);
        // Column by column, into the room made above: no per-person
        // capacity checks, and each attribute's draws in a loop of its own.
        let Bin {
            id,
            class,
            hours,
            birth,
            entered,
            refusion,
            rf_total,
        } = &mut bin;
        for (idx, x) in block.clone().zip(&mut id[first..]) {
            *x = self.pack(gi, idx);
        }
        for (idx, x) in block.clone().zip(&mut birth[first..]) {
            *x = birth_of(idx);
        }
        let cols = entered[first..]
            .iter_mut()
            .zip(&mut refusion[first..])
            .zip(&mut rf_total[first..]);
        let dur_ctr = ctr(Kind::Duration);
        for (idx, ((e, r), rt)) in block.clone().zip(cols) {
            let dur = if cohort.duration.is_empty() {
                0
            } else {
                durations.pick(raw(idx, dur_ctr))
            };
            *e = now.0.saturating_sub(dur);
            // The refusion clock saturates at its last band (see kernel::step).
            *r = if benefit { dur.min(N_BANDS as u16) } else { 0 };
            *rt = if is_rf {
                dur.min(u16::from(RF_COUNT)) as u8
            } else {
                0
            };
        }
        if !cohort.hours.is_empty() {
            let cap_ctr = ctr(Kind::Capacity);
            for (idx, h) in block.clone().zip(&mut hours[first..]) {
                *h = capacities.pick(raw(idx, cap_ctr)).min(37) as u8;
            }
        }
        // A flag is drawn only where its share is positive. `u < share` for
        // `u = k·2^-53` is exactly `k < ceil(share·2^53)`.
        for (bit, &share) in cohort.flag_shares.iter().enumerate() {
            if share > 0.0 {
                let thr = (share * rng::UNIT53).ceil() as u64;
                let mask = if bit == 4 { flag::PRE2014 } else { 1 << bit };
                let flag_ctr = rng::counter(now.0, Kind::Flag0 as u8 + bit as u8);
                for (idx, c) in block.clone().zip(&mut class[first..]) {
                    *c |= mask * u8::from(raw(idx, flag_ctr) < thr);
                }
            }
        }
        if is_rf {
            let phase_ctr = ctr(Kind::PhaseInit);
            for (idx, c) in block.clone().zip(&mut class[first..]) {
                *c |= (pick_index(&cohort.phase, u(idx, phase_ctr)) as u8) << flag::PHASE_SHIFT;
            }
        }
        let range = first..bin.len();
        self.bins[usize::from(st)] = bin;
        self.tables = tables;
        self.push_group(rep, cohort_no, st, n_us as u32, range)
    }

    /// The index in `self.tables` of the table of `bands` at `(per_unit, cap)`.
    fn table(&mut self, bands: &[Share], per_unit: u16, cap: u16) -> usize {
        let found = self
            .tables
            .iter()
            .position(|t| t.is_for(bands, per_unit, cap));
        found.unwrap_or_else(|| {
            self.tables.push(BandTable::new(bands, per_unit, cap));
            self.tables.len() - 1
        })
    }

    /// Records a group of `n` persons just created in state `st`; returns `range`.
    fn push_group(
        &mut self,
        rep: RepKey,
        cohort_no: u16,
        st: u8,
        n: u32,
        range: std::ops::Range<usize>,
    ) -> std::ops::Range<usize> {
        self.groups.push(Group {
            cohort: cohort_no,
            state: st,
            start: self.created as u32,
            len: n,
        });
        self.weyl.push(rep.weyl(rng::person_id(cohort_no, st, 0)).1);
        self.created += n as usize;
        range
    }
}

/// Every person's columns in creation order (see [`Population::snapshot`]),
/// for checks that follow persons across a quarter.
#[derive(Debug, Default, Clone)]
pub struct Snapshot {
    pub state: Vec<u8>,
    pub class: Vec<u8>,
    pub hours: Vec<u8>,
    pub rf_total: Vec<u8>,
    pub birth: Vec<u16>,
    pub entered: Vec<u16>,
    pub refusion: Vec<u16>,
}

/// The oldest age (in quarters) a person alive in quarter `now` can have
/// without having reached their folkepension age.
pub fn max_age_q(scenario: &Scenario, now: Quarter) -> u16 {
    let mut a = 80 * 4;
    while a > 0 {
        let birth = Quarter(now.0.saturating_sub(a));
        if a < scenario.pension_age_q(birth) {
            return a;
        }
        a -= 1;
    }
    0
}

#[cfg(test)]
mod tests {
    use super::bands::*;
    use super::pmf::*;
    use super::*;

    /// `pick_capped` with the band found by a plain search: the first band
    /// whose cumulative share exceeds `u`, else the last.
    fn pick_by_search(bands: &[Share], u: f64, per_unit: u16, cap: u16) -> u16 {
        let mut acc = 0.0;
        for (i, b) in bands.iter().enumerate() {
            if u < acc + b.share || i + 1 == bands.len() {
                return value_in_band(b, u, acc, per_unit, cap);
            }
            acc += b.share;
        }
        0
    }

    /// Band tables with zero shares, single-value bands and a cap inside a band.
    fn test_tables() -> [Vec<Share>; 4] {
        let share = |lo, hi, share| Share { lo, hi, share };
        [
            vec![
                share(18, 29, 0.1),
                share(30, 39, 0.0),
                share(40, 49, 0.3),
                share(50, 66, 0.6),
            ],
            vec![share(0, 0, 0.25), share(1, 3, 0.25), share(4, 11, 0.5)],
            vec![share(0, 37, 1.0)],
            vec![
                share(1, 1, 0.1),
                share(2, 2, 0.2),
                share(3, 3, 0.3),
                share(4, 9, 0.4),
            ],
        ]
    }

    #[test]
    fn branch_free_pick_equals_the_search() {
        for bands in &test_tables() {
            for k in 0..=20_000u32 {
                let u = f64::from(k) / 20_000.0 * (1.0 - 1e-15);
                for cap in [u16::MAX, 200, 150] {
                    assert_eq!(
                        pick_capped(bands, u, 4, cap),
                        pick_by_search(bands, u, 4, cap),
                        "u = {u}, cap = {cap}"
                    );
                }
            }
            // The cumulative shares themselves, where the search switches band.
            let mut cum = 0.0;
            for b in bands {
                cum += b.share;
                for u in [cum, f64::from_bits(cum.to_bits().saturating_sub(1))] {
                    if u < 1.0 {
                        assert_eq!(
                            pick_capped(bands, u, 1, u16::MAX),
                            pick_by_search(bands, u, 1, u16::MAX)
                        );
                    }
                }
            }
        }
    }

    /// A compiled table gives the float pick's value for every draw: checked
    /// at both ends of every entry and just beyond them (where a band or a
    /// value changes inside an entry, the entry must fall back), and on
    /// random draws. Both paths are taken.
    #[test]
    fn band_table_equals_the_float_pick() {
        let shift = 53 - TABLE_BITS;
        let mut tables = test_tables().to_vec();
        tables.push(Vec::new());
        for bands in &tables {
            for (per_unit, cap) in [(4, u16::MAX), (4, 261), (1, u16::MAX), (1, 5)] {
                let table = BandTable::new(bands, per_unit, cap);
                let float = Bands::new(bands);
                let check = |k: u64| {
                    let want = float.pick(rng::to_unit(k), per_unit, cap);
                    assert_eq!(table.pick(k), want, "{bands:?} {per_unit} {cap} k = {k}");
                };
                for e in 0..1u64 << TABLE_BITS {
                    let k = e << shift;
                    for d in [
                        0,
                        1,
                        2,
                        (1 << shift) / 2,
                        (1 << shift) - 2,
                        (1 << shift) - 1,
                    ] {
                        check(k + d);
                    }
                }
                let key = RepKey::new(7, 1);
                for i in 0..20_000 {
                    check(rng::draw53(key.person(i), 99));
                }
                let mixed = table.table.iter().filter(|&&v| v == MIXED).count();
                assert_eq!(
                    bands.is_empty(),
                    mixed == 0,
                    "{bands:?}: {mixed} mixed entries"
                );
            }
        }
    }

    /// The documented memory per person is what the columns take. The
    /// destructuring is exhaustive, so a new column fails to compile here.
    #[test]
    fn bytes_per_person_matches_the_columns() {
        fn elem<T>(_: &[T]) -> usize {
            std::mem::size_of::<T>()
        }
        let Bin {
            id,
            class,
            hours,
            birth,
            entered,
            refusion,
            rf_total,
        } = Bin::default();
        let bytes = elem(&id)
            + elem(&class)
            + elem(&hours)
            + elem(&birth)
            + elem(&entered)
            + elem(&refusion)
            + elem(&rf_total);
        assert_eq!(Population::BYTES_PER_PERSON, bytes);
    }

    #[test]
    fn records_append_in_order_and_removing_a_range_keeps_the_rest_in_order() {
        let mut bin = Bin::default();
        let recs: Vec<(u32, Person)> = (0..10u32)
            .map(|i| {
                let p = Person {
                    state: 0,
                    class: i as u8,
                    hours: i as u8 + 1,
                    rf_total: i as u8 + 2,
                    birth: i as u16 + 3,
                    entered: i as u16,
                    refusion: i as u16 + 4,
                };
                (i, p)
            })
            .collect();
        bin.extend_records(&recs[..4]);
        bin.extend_records(&recs[4..]);
        for (k, (i, p)) in recs.iter().enumerate() {
            assert_eq!((bin.id[k], bin.get(k, 0)), (*i, *p));
        }
        bin.remove(3..6);
        bin.remove(7..7);
        assert_eq!(bin.id, [0, 1, 2, 6, 7, 8, 9]);
        for k in 0..bin.len() {
            assert_eq!(bin.get(k, 0).entered, bin.id[k] as u16);
            assert_eq!(bin.hours[k], bin.id[k] as u8 + 1);
        }
    }

    #[test]
    fn picks_inside_bands() {
        let bands = vec![
            Share {
                lo: 18,
                hi: 29,
                share: 0.5,
            },
            Share {
                lo: 40,
                hi: 49,
                share: 0.5,
            },
        ];
        assert_eq!(pick_quarters(&bands, 0.0, 4), 72);
        assert_eq!(pick_quarters(&bands, 0.4999999, 4), 29 * 4 + 3);
        assert_eq!(pick_quarters(&bands, 0.5, 4), 160);
        assert_eq!(pick_quarters(&bands, 0.9999999, 4), 49 * 4 + 3);
        assert_eq!(pick_quarters(&[], 0.3, 1), 0);
        // Capped: the straddling band is drawn uniformly up to the cap.
        let old = vec![Share {
            lo: 60,
            hi: 66,
            share: 1.0,
        }];
        assert_eq!(pick_capped(&old, 0.0, 4, 261), 240);
        assert_eq!(pick_capped(&old, 0.999_999, 4, 261), 261);
        assert_eq!(pick_capped(&old, 0.5, 4, 261), 240 + 11);
    }

    /// The pmfs are those of the samplers: a stratified sweep of `u` over
    /// [0, 1) through the sampler gives each value's frequency within
    /// 1 / N of its probability (plus the rounding of the band edges).
    #[test]
    fn pmfs_match_the_samplers() {
        let n = 200_000u32;
        let sweep = |f: &dyn Fn(f64) -> u16| {
            let mut freq = std::collections::BTreeMap::new();
            for i in 0..n {
                let u = (f64::from(i) + 0.5) / f64::from(n);
                *freq.entry(f(u)).or_insert(0.0) += 1.0 / f64::from(n);
            }
            freq
        };
        let check = |pmf: Vec<(u16, f64)>, freq: std::collections::BTreeMap<u16, f64>| {
            let total: f64 = pmf.iter().map(|x| x.1).sum();
            assert!((total - 1.0).abs() < 1e-12, "pmf sums to {total}");
            for (v, p) in &pmf {
                let f = freq.get(v).copied().unwrap_or(0.0);
                assert!((f - p).abs() < 2.0 / f64::from(n), "value {v}: {f} vs {p}");
            }
            assert_eq!(pmf.len(), freq.len(), "same support");
        };
        let bands = vec![
            Share {
                lo: 18,
                hi: 29,
                share: 0.3,
            },
            Share {
                lo: 30,
                hi: 39,
                share: 0.0,
            },
            Share {
                lo: 40,
                hi: 66,
                share: 0.7,
            },
        ];
        for cap in [u16::MAX, 250, 230] {
            check(
                pick_capped_pmf(&bands, 4, cap),
                sweep(&|u| pick_capped(&bands, u, 4, cap)),
            );
        }
        // Shares that fall short of 1 by rounding: the last band takes the rest.
        let short = vec![
            Share {
                lo: 0,
                hi: 3,
                share: 0.2,
            },
            Share {
                lo: 4,
                hi: 11,
                share: 0.3,
            },
            Share {
                lo: 12,
                hi: 40,
                share: 0.49,
            },
        ];
        check(
            pick_capped_pmf(&short, 1, u16::MAX),
            sweep(&|u| pick_quarters(&short, u, 1)),
        );
        let phases = [0.05, 0.1, 0.0, 0.12, 0.73];
        let pmf = pick_index_pmf(&phases)
            .into_iter()
            .map(|(i, p)| (i as u16, p))
            .collect();
        check(pmf, sweep(&|u| pick_index(&phases, u) as u16));
    }

    #[test]
    fn picks_phases_by_share() {
        let s = [0.2, 0.0, 0.8, 0.0, 0.0];
        assert_eq!(pick_index(&s, 0.1), 0);
        assert_eq!(pick_index(&s, 0.3), 2);
        assert_eq!(pick_index(&s, 0.999_999_999), 2);
    }
}
