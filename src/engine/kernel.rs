//! The person-quarter loop: [`step`] advances every person by one quarter,
//! state by state, reading the [`Tables`] compiled from the scenario; each
//! state's bin runs through a loop specialised (by const generics) for that
//! state's rules.
//!
//! **Architecture invariant:** `step` does no I/O and no dynamic dispatch,
//! allocates only when a bin or an arrival buffer outgrows its capacity,
//! and reads no clock or thread id: its result is a function of the tables,
//! the population, the quarter and the replication key only (the order of
//! persons within a bin does not matter, as every draw is keyed on the
//! person's stable id).
//! Probabilities are compared as 31-bit integers ([`rng::threshold`]).
//!
//! Order of events for a person in state `s` during quarter `t`:
//! 1. the quarter is counted in `s` (occupancy, priced by `costing`);
//! 2. the refusion clock and the ressourceforløb total advance;
//! 3. reaching folkepension age by the next quarter moves the person to `out`;
//! 4. a forced assessment that falls due may route the person;
//! 5. otherwise the ordinary transition row decides (the rest stay);
//! 6. stayers advance their duration, ressourceforløb phase and flex-job hours;
//!    movers start the new state with its entry marks in the class byte.
//!
//! Per-person measures of the published figures T6, T9 and T13 are taken on the way, in
//! helpers that only persons in their first ressourceforløb year, flex-job
//! stayers, movers and marked revalidering leavers reach (out of line,
//! except the flex-job one, which is inlined where flex-job stayers are
//! decided).

use crate::engine::cells::{CLARIFIED, N_BANDS, N_CELLS, N_VAR, RF_COUNT, STATE_CELLS};
pub use crate::engine::population::Person;
use crate::engine::population::{Bin, Population};
use crate::engine::rng::{self, Kind, RepKey};
pub use crate::engine::tables::Tables;
use crate::engine::tables::*;
use crate::scenario::{AGE40_Q, N_PHASES, N_STATES, Phase, flag};

/// Per-quarter counters filled by [`step`]; reset by the caller.
#[derive(Debug, Clone)]
pub struct Counters {
    /// Person-quarters by [`cell`](crate::engine::cells::cell).
    pub occupancy: Vec<u32>,
    /// Persons by state and age group at the end of the quarter (`out`
    /// holds everyone who has left, by their current age group).
    pub stock: [[u32; 2]; N_STATES],
    /// Moves by age group, from (or [`ENTRY`](crate::engine::cells::ENTRY)) and to.
    pub flows: [[[u32; N_STATES]; N_STATES + 1]; 2],
    pub person_quarters: u64,
    /// Entrants to cash or sickness benefit by quarters until they first
    /// reach a clarified status (cumulative over the run, not reset).
    pub clarification: Vec<u32>,
    /// Ressourceforløb programmes begun within the simulation that complete
    /// their fourth quarter, and of those the ones without an intervention
    /// in any of the four (T9).
    pub rf_year_one: [u32; 2],
    /// Ressourceforløb spells that ended: all, those that ended in a
    /// clarified status, and the quarters those lasted (cumulative over the
    /// run, not reset).
    pub rf_ends: [u64; 3],
    /// Kontanthjælp spells of at least a year that ended in a clarified
    /// status, and their quarters beyond the first year (cumulative).
    pub cash_year_clarified: [u64; 2],
    /// Spells begun in each ressourceforløb phase: entries to the programme
    /// (in the entry phase) and phase changes (T9 waits).
    pub phase_entries: [u32; N_PHASES],
    /// Persons in a flex job at the end of the quarter who entered it within
    /// the simulation with minifleksjob hours at least a year before, and of
    /// those the ones whose hours were raised since (T6).
    pub mini_raise: [u32; 2],
    /// Persons who left the benefit system for good this quarter (settled,
    /// see [`Tables::settles_at`]), by the state they left from; they are
    /// counted in `flows` as moves to `out` too.
    pub settled: [u32; N_STATES],
    /// Leavers of revalidering whose follow-up fell due this quarter, by
    /// their state at its end, [`REVAL_FOLLOW_UP`] quarters after leaving (T13).
    pub reval_after: [u32; N_STATES],
    /// Leavers of revalidering this quarter, `(packed id, quarter)`.
    fresh: Vec<(u32, u16)>,
    /// This quarter's movers by the state they enter, `(packed id, record)`,
    /// appended to the bins when every state has been processed. One small
    /// record write per mover instead of seven column appends scattered
    /// over the destination bins; the buffers keep their capacity (the
    /// largest quarter's movers into a state, about 16 bytes each).
    arrivals: [Vec<(u32, Person)>; N_STATES],
    /// Not a count, and kept across quarters: bit `s` set when more than
    /// [`BUSY_SHARE`] of state `s`'s persons moved last quarter, so that
    /// `run_bin` does not look for runs of stayers there. Results do not
    /// depend on it (tested), only speed does.
    busy: u16,
}

impl Default for Counters {
    fn default() -> Self {
        Counters {
            occupancy: vec![0; N_CELLS],
            stock: [[0; 2]; N_STATES],
            flows: [[[0; N_STATES]; N_STATES + 1]; 2],
            person_quarters: 0,
            clarification: vec![0; 402],
            rf_year_one: [0; 2],
            rf_ends: [0; 3],
            cash_year_clarified: [0; 2],
            phase_entries: [0; N_PHASES],
            mini_raise: [0; 2],
            reval_after: [0; N_STATES],
            settled: [0; N_STATES],
            fresh: Vec::new(),
            arrivals: std::array::from_fn(|_| Vec::new()),
            busy: 0,
        }
    }
}

impl Counters {
    /// Clears every counter.
    pub fn reset_quarter(&mut self) {
        self.occupancy.fill(0);
        self.stock = [[0; 2]; N_STATES];
        self.flows = [[[0; N_STATES]; N_STATES + 1]; 2];
        self.person_quarters = 0;
        self.rf_year_one = [0; 2];
        self.phase_entries = [0; N_PHASES];
        self.mini_raise = [0; 2];
        self.reval_after = [0; N_STATES];
        self.settled = [0; N_STATES];
    }

    /// Adds `other`'s counts (of another block of the same replication's
    /// persons) to these: integer sums, so blocks add up exactly.
    pub fn add(&mut self, other: &Counters) {
        let Counters {
            occupancy,
            stock,
            flows,
            person_quarters,
            clarification,
            rf_year_one,
            phase_entries,
            mini_raise,
            reval_after,
            rf_ends,
            cash_year_clarified,
            settled,
            fresh: _,
            arrivals: _,
            busy: _,
        } = other;
        for (a, b) in self.occupancy.iter_mut().zip(occupancy) {
            *a += b;
        }
        for (a, b) in self.stock.iter_mut().flatten().zip(stock.iter().flatten()) {
            *a += b;
        }
        for (a, b) in self
            .flows
            .iter_mut()
            .flatten()
            .flatten()
            .zip(flows.iter().flatten().flatten())
        {
            *a += b;
        }
        self.person_quarters += person_quarters;
        for (a, b) in self.clarification.iter_mut().zip(clarification) {
            *a += b;
        }
        for (a, b) in self.rf_year_one.iter_mut().zip(rf_year_one) {
            *a += b;
        }
        for (a, b) in self.phase_entries.iter_mut().zip(phase_entries) {
            *a += b;
        }
        for (a, b) in self.mini_raise.iter_mut().zip(mini_raise) {
            *a += b;
        }
        for (a, b) in self.reval_after.iter_mut().zip(reval_after) {
            *a += b;
        }
        for (a, b) in self.rf_ends.iter_mut().zip(rf_ends) {
            *a += b;
        }
        for (a, b) in self.cash_year_clarified.iter_mut().zip(cash_year_clarified) {
            *a += b;
        }
        for (a, b) in self.settled.iter_mut().zip(settled) {
            *a += b;
        }
    }
}

/// Quarters after leaving revalidering at which the leaver's state is read
/// (T13: 12 months after).
pub const REVAL_FOLLOW_UP: u16 = 4;

/// Top bit of the refusion column: the person left revalidering within the
/// last [`REVAL_FOLLOW_UP`] quarters and has a follow-up pending in
/// [`Population::follow_up`]. (The off-benefit count below it stays under 64.)
pub const TRACK: u16 = 0x8000;

/// What one quarter's loop reads besides the person.
struct ThisQuarter<'a> {
    t: u16,
    t_abs: u16,
    horizon: u16,
    ctr: [u64; rng::N_KINDS],
    rows: &'a [Row],
    totals: &'a [u32],
    active: u64,
    reset_after: u16,
    rk: u64,
    /// Money's age groups this quarter.
    ages: CostAges,
}

/// How a state's loop is specialised: its cost variant and stayer update.
const PLAIN: u8 = 0;
const K_RF: u8 = 1;
const K_FLEX: u8 = 2;
const K_FP: u8 = 3;

/// Advances every person by simulated quarter `t`.
///
/// Each state's bin is processed by a loop specialised for that state
/// (`run_bin`); movers wait in [`Counters`]' arrival buffers, one per
/// state they enter, which are appended to the bins when every state has
/// been processed, so nobody is processed twice; stayers are compacted in
/// place.
pub fn step(tb: &Tables, pop: &mut Population, t: u16, rep: RepKey, c: &mut Counters) {
    let t_abs = tb.start + t;
    let ti = t as usize;
    let base = tb.period_of[ti] as usize * tb.rows_per_period;
    let q = ThisQuarter {
        t,
        t_abs,
        horizon: tb.period_of.len() as u16,
        ctr: tb.counters(t_abs),
        rows: &tb.rows[base..base + tb.rows_per_period],
        totals: &tb.totals[base..base + tb.rows_per_period],
        active: tb.assess_active[ti],
        reset_after: u16::from(tb.reset_after),
        rk: rep.weyl(0).0,
        ages: tb.cost_ages(t_abs),
    };
    // Persons out at the start of the quarter are counted in `out`'s cell.
    let out_age = pop.out_by_age(t_abs);
    for (age, &n) in out_age.iter().enumerate() {
        c.occupancy[tb.states[OUT as usize].cell[age]] += n;
    }
    let n0: [usize; N_STATES] = std::array::from_fn(|s| pop.bins[s].len());
    for s in 0..N_STATES as u8 {
        if s == OUT || n0[s as usize] == 0 {
            continue;
        }
        let st = &tb.states[s as usize];
        let n = n0[s as usize];
        match (st.special, st.benefit_mask != 0, st.assessed) {
            (Special::Rf, _, false) => run_bin::<K_RF, true, false>(tb, &q, pop, s, n, c),
            (Special::Rf, _, true) => run_bin::<K_RF, true, true>(tb, &q, pop, s, n, c),
            (Special::Flex, _, false) => run_bin::<K_FLEX, true, false>(tb, &q, pop, s, n, c),
            (Special::Flex, _, true) => run_bin::<K_FLEX, true, true>(tb, &q, pop, s, n, c),
            (Special::Fp, _, false) => run_bin::<K_FP, true, false>(tb, &q, pop, s, n, c),
            (Special::Fp, _, true) => run_bin::<K_FP, true, true>(tb, &q, pop, s, n, c),
            (Special::None, true, false) => run_bin::<PLAIN, true, false>(tb, &q, pop, s, n, c),
            (Special::None, true, true) => run_bin::<PLAIN, true, true>(tb, &q, pop, s, n, c),
            (Special::None, false, false) => run_bin::<PLAIN, false, false>(tb, &q, pop, s, n, c),
            (Special::None, false, true) => run_bin::<PLAIN, false, true>(tb, &q, pop, s, n, c),
        }
    }
    for (bin, arr) in pop.bins.iter_mut().zip(&mut c.arrivals) {
        bin.extend_records(arr);
        arr.clear();
    }
    c.stock[OUT as usize] = pop.out_by_age(t_abs);
    // Follow-ups: drop the resolved, add this quarter's leavers.
    if !c.fresh.is_empty() || !pop.follow_up.is_empty() {
        pop.follow_up.retain(|e| e.1 != RESOLVED);
        pop.follow_up.append(&mut c.fresh);
        pop.follow_up.sort_unstable();
    }
}

/// Persons per block of row codes in `run_bin` (16 KiB of codes).
const BLOCK: usize = 4096;
/// Row code bits: the row index within the period block ([`ROW`]), the
/// person reaches folkepension age by the next quarter, a follow-up is pending.
const LEAVES: u32 = 1 << 31;
const TRACKED: u32 = 1 << 30;

/// Computes persons' row codes in one state and quarter: the transition
/// row of (age group, duration, class) with the [`LEAVES`] and
/// [`TRACKED`] marks.
struct RowCoder<'a> {
    /// First row of the state; an age group's rows follow the previous one's.
    base: u32,
    /// Rows per age group.
    gstride: u32,
    /// Age group by birth quarter, this quarter.
    group: &'a [u8],
    /// When the rules distinguish only the 40-year line and at most one
    /// distance to folkepension age: the group from two comparisons of the
    /// birth quarter instead of a lookup, which keeps the pass vectorised.
    split: Option<Split>,
    t_abs: u16,
    /// Last duration index with its own rows.
    dmax: u16,
    nclass: u32,
    mask: u8,
    exit_born: Option<i32>,
    pension_exit: &'a [u16],
}

impl RowCoder<'_> {
    /// The first row of the age group of a person born in `b`.
    #[inline(always)]
    fn group_base(&self, b: u16) -> u32 {
        match self.split {
            Some(x) => self.base_by_split(x, b),
            None => self.base_by_table(b),
        }
    }

    /// [`RowCoder::group_base`] from the thresholds of a [`Split`].
    #[inline(always)]
    fn base_by_split(&self, s: Split, b: u16) -> u32 {
        let b = i32::from(b);
        self.base
            + u32::from(b <= s.over40_born) * s.per_age * self.gstride
            + u32::from(b > s.near_born) * self.gstride
    }

    /// [`RowCoder::group_base`] from the group table.
    #[inline(always)]
    fn base_by_table(&self, b: u16) -> u32 {
        self.base + u32::from(self.group[usize::from(b)]) * self.gstride
    }

    #[inline(always)]
    fn code_with(&self, b: u16, e: u16, cls: u8, r: u16, leaves: bool) -> u32 {
        self.code_in(self.group_base(b), e, cls, r, leaves)
    }

    #[inline(always)]
    fn code_in(&self, base: u32, e: u16, cls: u8, r: u16, leaves: bool) -> u32 {
        let di = (self.t_abs - e).min(self.dmax);
        let ri = base + u32::from(di) * self.nclass + u32::from(cls & self.mask);
        ri | u32::from(leaves) << 31 | u32::from(r & TRACK != 0) << 30
    }

    /// The code of one person.
    #[inline(always)]
    fn code(&self, b: u16, e: u16, cls: u8, r: u16) -> u32 {
        let leaves = match self.exit_born {
            Some(x) => i32::from(b) <= x,
            None => self.t_abs + 1 >= self.pension_exit[b as usize],
        };
        self.code_with(b, e, cls, r, leaves)
    }

    /// The codes of a run of persons.
    #[inline(always)]
    fn fill(
        &self,
        birth: &[u16],
        entered: &[u16],
        class: &[u8],
        refusion: &[u16],
        out: &mut [u32],
    ) {
        let cols = (birth, entered, class, refusion);
        // One loop per way of finding the group, each free of branches on it.
        match self.split {
            Some(x) => self.fill_with(|b| self.base_by_split(x, b), cols, out),
            None => self.fill_with(|b| self.base_by_table(b), cols, out),
        }
    }

    /// [`RowCoder::fill`] with the group's first row from `base`.
    #[inline(always)]
    fn fill_with(
        &self,
        base: impl Fn(u16) -> u32,
        (birth, entered, class, refusion): (&[u16], &[u16], &[u8], &[u16]),
        out: &mut [u32],
    ) {
        let n = out.len();
        let (birth, entered, class, refusion) =
            (&birth[..n], &entered[..n], &class[..n], &refusion[..n]);
        match self.exit_born {
            Some(x) => {
                for i in 0..n {
                    let b = birth[i];
                    out[i] = self.code_in(
                        base(b),
                        entered[i],
                        class[i],
                        refusion[i],
                        i32::from(b) <= x,
                    );
                }
            }
            None => {
                for i in 0..n {
                    out[i] = self.code(birth[i], entered[i], class[i], refusion[i]);
                }
            }
        }
    }
}

/// Share of a state's persons moving in a quarter above which the state
/// counts as busy next quarter (see [`Counters`]). Measured on the baseline:
/// scanning pays in states where 2 to 10 % move, is even at ledighedsydelse's
/// 22 % and loses 5 % at sygedagpenge's 38 %.
const BUSY_SHARE: f64 = 0.2;

/// The random key of person `pid` in this replication (`rk`, see
/// [`rng::RepKey::weyl`]), from the Weyl start of their group.
#[inline(always)]
fn person_key(rk: u64, weyl: &[u64], pid: u32, idx_bits: u32) -> u64 {
    let (g, idx) = (pid >> idx_bits, pid & ((1 << idx_bits) - 1));
    rk ^ weyl[g as usize].wrapping_add(u64::from(idx).wrapping_mul(rng::WEYL_STEP))
}

/// The columns of a run of undecided persons in [`scan_stayers`].
struct Run<'a> {
    codes: &'a [u32],
    id: &'a [u32],
    entered: &'a [u16],
    hours: &'a mut [u8],
    class: &'a mut [u8],
}

/// How many persons at the front of `run` simply stay: they do not reach
/// folkepension age, have no follow-up pending, and draw at or above their
/// row's total. Flex-job stayers' hours and class advance on the way
/// ([`flex_stay`]); plain and førtidspension stayers change nothing. The
/// person the scan stops at is left undecided and untouched.
///
/// The same decisions as `run_bin`'s loop, in a function of its own: with
/// few live values the compiler keeps them all in registers, which the
/// large loop cannot (it spills), and stayers cost about half as much.
/// Only for states without forced assessments due this quarter.
#[inline(never)]
fn scan_stayers<const KIND: u8>(
    run: Run,
    tb: &Tables,
    q: &ThisQuarter,
    weyl: &[u64],
    idx_bits: u32,
    mini_raise: &mut [u32; 2],
) -> usize {
    let n = run.codes.len();
    let (codes, id, entered) = (run.codes, &run.id[..n], &run.entered[..n]);
    let (hours, class) = (&mut run.hours[..n], &mut run.class[..n]);
    let ctr_tr = q.ctr[Kind::Transition as usize];
    for i in 0..n {
        let code = codes[i];
        let pk = person_key(q.rk, weyl, id[i], idx_bits);
        if code >= TRACKED || rng::draw31(pk, ctr_tr) < q.totals[(code & ROW) as usize] {
            return i;
        }
        if KIND == K_FLEX {
            let d = q.t_abs - entered[i] + 1;
            (hours[i], class[i]) = flex_stay(tb, hours[i], class[i], d, pk, &q.ctr, mini_raise);
        }
    }
    n
}

/// Marks a resolved follow-up in [`Population::follow_up`].
const RESOLVED: u16 = u16::MAX;

/// Advances the `n` persons at the front of state `s`'s bin (the rest are
/// this quarter's movers into `s`, already done).
///
/// `KIND` selects the state's bookkeeping ([`PLAIN`], [`K_RF`], [`K_FLEX`],
/// [`K_FP`]), `BENEFIT` whether the refusion clock runs, `ASSESSED` whether
/// forced assessments may fall due: constants, so each state's loop carries
/// only its own rules and its branches are predictable.
#[inline(always)]
fn run_bin<const KIND: u8, const BENEFIT: bool, const ASSESSED: bool>(
    tb: &Tables,
    q: &ThisQuarter,
    pop: &mut Population,
    s: u8,
    n: usize,
    c: &mut Counters,
) {
    let st = &tb.states[s as usize];
    let t_abs = q.t_abs;
    let ctr_tr = q.ctr[Kind::Transition as usize];
    let idx_bits = pop.idx_bits();
    // Born in or before this quarter: 40 or over in quarter `t_abs`.
    let over40_born = i32::from(t_abs) - i32::from(AGE40_Q);
    let ndur = st.ndur;
    // Rows of (age, duration) hold 16 flag classes, times the phases in ressourceforløb.
    let nclass = if KIND == K_RF { 16 * N_PHASES } else { 16 };
    debug_assert_eq!(nclass, st.nclass);
    let row_mask = if KIND == K_RF {
        flag::ROW_MASK
    } else {
        flag::CLASS_MASK
    };
    let group = tb.groups_at(q.t);
    let pension_exit = &tb.pension_exit[..];
    // Born in or before `exit_born`: folkepension age by the next quarter.
    let exit_born = tb.exit_born(t_abs + 1);
    let weyl = std::mem::take(&mut pop.weyl);
    let mut bin = std::mem::take(&mut pop.bins[s as usize]);
    // Persons `[0, end)` are kept or still to be decided; a mover's slot is
    // filled at once by the last undecided person (order within a bin is
    // free), so the bin stays dense and the refill reads memory that is
    // streaming in anyway.
    let mut end = n;
    let over;
    let mut moved = [0u32; 2];
    {
        let Bin {
            id,
            class,
            hours,
            birth,
            entered,
            refusion,
            rf_total,
        } = &mut bin;
        // Equal-length slices let the compiler drop bounds checks in the loop.
        let id = &mut id[..n];
        let class = &mut class[..n];
        let hours = &mut hours[..n];
        let birth = &mut birth[..n];
        let entered = &mut entered[..n];
        let refusion = &mut refusion[..n];
        let rf_total = &mut rf_total[..n];
        advance_clocks::<BENEFIT>(refusion, q.reset_after);
        over = count_occupancy::<KIND, BENEFIT>(
            st,
            birth,
            refusion,
            class,
            hours,
            over40_born,
            q.ages,
            &mut c.occupancy,
        );
        let coder = RowCoder {
            base: st.base as u32,
            gstride: (usize::from(ndur) * nclass) as u32,
            group,
            split: tb.split(t_abs, over40_born),
            t_abs,
            dmax: ndur - 1,
            nclass: nclass as u32,
            mask: row_mask,
            exit_born,
            pension_exit,
        };
        let mut codes = [0u32; BLOCK];
        // Runs of plain stayers go through `scan_stayers`, a tight loop that
        // stops at the first person with anything else to do, unless forced
        // assessments may fall due or the state was busy last quarter (where
        // runs are short and the extra call costs more than it saves).
        let scan = matches!(KIND, PLAIN | K_FP | K_FLEX)
            && !(ASSESSED && q.active != 0)
            && c.busy & (1 << s) == 0;
        let mut j = 0;
        while j < end {
            // Row codes of a block in a pass of their own (vectorised), so
            // the decision loop below does not work out the row itself.
            let k = j;
            let stop = (k + BLOCK).min(end);
            coder.fill(
                &birth[k..stop],
                &entered[k..stop],
                &class[k..stop],
                &refusion[k..stop],
                &mut codes[..stop - k],
            );
            while j < stop.min(end) {
                if scan {
                    let lim = stop.min(end);
                    j += scan_stayers::<KIND>(
                        Run {
                            codes: &codes[j - k..lim - k],
                            id: &id[j..lim],
                            entered: &entered[j..lim],
                            hours: &mut hours[j..lim],
                            class: &mut class[j..lim],
                        },
                        tb,
                        q,
                        &weyl,
                        idx_bits,
                        &mut c.mini_raise,
                    );
                    if j == lim {
                        break;
                    }
                }
                let code = codes[j - k];
                let pid = id[j];
                let mut cls = class[j];
                // Quarters in the state, this one included (entered <= t_abs).
                let d = t_abs - entered[j] + 1;

                // 1-2: occupancy and the refusion clock are done; the
                // ressourceforløb total advances.
                let mut rf_v = 0;
                let mut rft = 0;
                if KIND == K_RF {
                    rft = rf_total[j];
                    rf_v = (rft & RF_COUNT).min(RF_COUNT - 1) + 1;
                    rft = (rft & CLARIFIED) | rf_v;
                    if d <= YEAR {
                        cls = rf_first_year(cls, d, entered[j] >= tb.start, &mut c.rf_year_one);
                    }
                }
                let pk = person_key(q.rk, &weyl, pid, idx_bits);

                // 3-5: pension age, assessments, ordinary transitions.
                let mut to = NONE;
                if code & LEAVES != 0 {
                    to = OUT;
                } else {
                    if ASSESSED && q.active != 0 {
                        let g = usize::from(group[usize::from(birth[j])]);
                        let fl = (cls & flag::CLASS_MASK) as usize;
                        to = assess(
                            tb,
                            s,
                            d,
                            u16::from(rf_v),
                            hours[j],
                            g,
                            fl,
                            q.active,
                            pk,
                            &q.ctr,
                        );
                    }
                    if to == NONE {
                        let ri = (code & ROW) as usize;
                        let u = rng::draw31(pk, ctr_tr);
                        if u < q.totals[ri] {
                            to = q.rows[ri].pick(u);
                        }
                    }
                }

                // 6: apply. Stayers rewrite only the columns that change.
                if to == NONE {
                    match KIND {
                        K_RF => {
                            class[j] = next_phase(tb, cls, pk, &q.ctr, &mut c.phase_entries);
                            rf_total[j] = rft;
                        }
                        K_FLEX => {
                            let (nh, ncls) =
                                flex_stay(tb, hours[j], cls, d, pk, &q.ctr, &mut c.mini_raise);
                            hours[j] = nh;
                            class[j] = ncls;
                        }
                        _ => {}
                    }
                    if code & TRACKED != 0 {
                        refusion[j] = follow_up(pop, c, q, pid, s, refusion[j], false);
                    }
                    j += 1;
                } else {
                    let b = birth[j];
                    let age = usize::from(i32::from(b) <= over40_born);
                    let p = Person {
                        state: s,
                        class: cls,
                        hours: hours[j],
                        rf_total: if KIND == K_RF { rft } else { rf_total[j] },
                        birth: b,
                        entered: entered[j],
                        refusion: refusion[j],
                    };
                    moved[age] += 1;
                    move_person(tb, q, pop, c, pid, p, to, age);
                    end -= 1;
                    if j < end {
                        id[j] = id[end];
                        class[j] = class[end];
                        hours[j] = hours[end];
                        birth[j] = birth[end];
                        entered[j] = entered[end];
                        refusion[j] = refusion[end];
                        rf_total[j] = rf_total[end];
                        codes[j - k] = coder.code(birth[j], entered[j], class[j], refusion[j]);
                    }
                }
            }
        }
    }
    c.person_quarters += n as u64;
    let busy = moved[0] + moved[1] > (BUSY_SHARE * n as f64) as u32;
    c.busy = (c.busy & !(1 << s)) | u16::from(busy) << s;
    c.stock[s as usize][0] += n as u32 - over - moved[0];
    c.stock[s as usize][1] += over - moved[1];
    // Drop the slots the movers left at the end.
    bin.remove(end..n);
    pop.bins[s as usize] = bin;
    pop.weyl = weyl;
}

/// Advances the refusion clocks of a bin's persons by one quarter (step 2):
/// on benefit, quarters on benefit count up to the last band and the
/// off-benefit count restarts; off benefit, quarters off count up to the
/// reset length, which clears the on-benefit count. The [`TRACK`] mark is
/// kept. A pass of its own, which the compiler vectorises.
#[inline(always)]
fn advance_clocks<const BENEFIT: bool>(refusion: &mut [u16], reset_after: u16) {
    for r in refusion {
        *r = next_clock(*r, BENEFIT, reset_after);
    }
}

/// One person's refusion word next quarter (see [`advance_clocks`]); the
/// refusion band of the quarter is then `low byte - 1` on benefit, else 0.
#[inline(always)]
pub(super) fn next_clock(r: u16, benefit: bool, reset_after: u16) -> u16 {
    let rc = r & !TRACK;
    let next = if benefit {
        (rc & 0xff).min(N_BANDS as u16 - 1) + 1
    } else {
        let off = (rc >> 8).min(reset_after - 1) + 1;
        let clk_off = if off >= reset_after { 0 } else { rc & 0xff };
        off << 8 | clk_off
    };
    next | (r & TRACK)
}

/// The cost variant of a person-quarter ([`cell`](crate::engine::cells::cell)): flex-job hours,
/// ressourceforløb phase·2 + insured, the pre-2014 mark in førtidspension.
#[inline(always)]
pub(super) fn cost_variant(special: Special, cls: u8, hours: u8) -> usize {
    match special {
        Special::Flex => usize::from(hours),
        Special::Rf => {
            usize::from((cls & flag::PHASE_MASK) >> (flag::PHASE_SHIFT - 1))
                + usize::from(cls & flag::INSURED != 0)
        }
        Special::Fp => usize::from(cls >> 7),
        Special::None => 0,
    }
}

/// Counts a bin's person-quarters in their occupancy cells (step 1, after
/// the clocks advanced) and returns how many persons are 40 or over
/// (born in or before `over40_born`). Cells are by money's age groups
/// (`ages`). Plain states off benefit have one cell under and one over 40,
/// so there the pass only counts ages.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn count_occupancy<const KIND: u8, const BENEFIT: bool>(
    st: &StateTab,
    birth: &[u16],
    refusion: &[u16],
    class: &[u8],
    hours: &[u8],
    over40_born: i32,
    ages: CostAges,
    occupancy: &mut [u32],
) -> u32 {
    let n = birth.len();
    let (refusion, class, hours) = (&refusion[..n], &class[..n], &hours[..n]);
    if !BENEFIT && KIND == PLAIN {
        let over = birth
            .iter()
            .map(|&b| u32::from(i32::from(b) <= over40_born))
            .sum::<u32>();
        occupancy[st.cell[0]] += n as u32 - over;
        occupancy[st.cell[1]] += over;
        return over;
    }
    // Cell indices within the state's cells in a pass of their own (the
    // compiler vectorises it), then counted into four histograms in turn:
    // consecutive persons often share a cell, and one histogram would chain
    // each increment on the store of the last. A histogram has a power of
    // two cells, so masking an index (always below `STATE_CELLS`) keeps it
    // in range without a bounds check.
    const CHUNK: usize = 1024;
    const HIST: usize = STATE_CELLS.next_power_of_two();
    let mut idx = [0u16; CHUNK];
    let mut hist = [[0u32; HIST]; 4];
    let special = match KIND {
        K_FLEX => Special::Flex,
        K_RF => Special::Rf,
        K_FP => Special::Fp,
        _ => Special::None,
    };
    for lo in (0..n).step_by(CHUNK) {
        let m = CHUNK.min(n - lo);
        let (birth, refusion) = (&birth[lo..lo + m], &refusion[lo..lo + m]);
        let (class, hours) = (&class[lo..lo + m], &hours[lo..lo + m]);
        for i in 0..m {
            let age = ages.of(birth[i]) as u16;
            let band = if BENEFIT { (refusion[i] & 0xff) - 1 } else { 0 };
            let var = cost_variant(special, class[i], hours[i]) as u16;
            idx[i] = (age * N_BANDS as u16 + band) * N_VAR as u16 + var;
        }
        let mut quads = idx[..m].chunks_exact(4);
        for x in &mut quads {
            for (h, &x) in hist.iter_mut().zip(x) {
                h[usize::from(x) & (HIST - 1)] += 1;
            }
        }
        for &x in quads.remainder() {
            hist[0][usize::from(x) & (HIST - 1)] += 1;
        }
    }
    // The state's cells are contiguous, youngest first (see `cell`).
    let mut over = 0;
    let cells = &mut occupancy[st.cell[0]..st.cell[0] + STATE_CELLS];
    debug_assert!(
        hist.iter()
            .all(|h| h[STATE_CELLS..].iter().all(|&x| x == 0))
    );
    for (k, cell) in cells.iter_mut().enumerate() {
        let count = hist[0][k] + hist[1][k] + hist[2][k] + hist[3][k];
        *cell += count;
        if k >= ages.over40 * N_BANDS * N_VAR {
            over += count;
        }
    }
    over
}

/// A person leaves state `p.state` for `to` at the end of quarter `q`:
/// counts the flow, the clarification and the revalidering follow-up, and
/// appends the new record to the bin of `to` (or counts them out).
#[inline(never)]
#[allow(clippy::too_many_arguments)]
fn move_person(
    tb: &Tables,
    q: &ThisQuarter,
    pop: &mut Population,
    c: &mut Counters,
    pid: u32,
    mut p: Person,
    mut to: u8,
    age: usize,
) {
    let s = p.state;
    // Left for good: a move to `out`, counted by reason too; a pending
    // revalidering follow-up finds them where they settled.
    let settled = to == SETTLE;
    if settled {
        c.settled[s as usize] += 1;
        to = OUT;
    }
    c.flows[age][s as usize][to as usize] += 1;
    if s == RF || s == KH {
        spell_end(tb, c, s, to, q.t_abs + 1 - p.entered);
    }
    let g = pop.groups[(pid >> pop.idx_bits()) as usize];
    if tb.clarifying & (1 << to) != 0 && g.cohort > 0 && tb.entry_state & (1 << g.state) != 0 {
        clarify(
            &mut p.rf_total,
            &mut c.clarification,
            q.t_abs + 1 - (tb.start + g.cohort - 1),
        );
    }
    if p.refusion & TRACK != 0 {
        let found = if settled { s } else { to };
        p.refusion = follow_up(pop, c, q, pid, found, p.refusion, to == OUT);
    }
    if s == REV {
        if to == OUT {
            if q.t + REVAL_FOLLOW_UP < q.horizon {
                c.reval_after[OUT as usize] += 1;
            }
        } else {
            c.fresh.push((pid, q.t));
            p.refusion |= TRACK;
        }
    }
    if to == OUT {
        pop.add_out(p.birth);
        return;
    }
    p.entered = q.t_abs + 1;
    let entry = match to {
        RF => {
            c.phase_entries[usize::from(tb.entry_phase)] += 1;
            tb.entry_phase << flag::PHASE_SHIFT
        }
        FLEX if p.hours <= tb.mini_max => flag::MINI_ENTRY,
        _ => 0,
    };
    p.class = (p.class & flag::CLASS_MASK) | entry;
    c.stock[to as usize][age] += 1;
    c.arrivals[to as usize].push((pid, p));
}

/// Resolves the pending revalidering follow-ups of person `pid`, whose
/// state at the end of quarter `q` is `state` (`gone`: `out`, so every later
/// follow-up within the horizon finds them there too). Returns the
/// refusion word with [`TRACK`] cleared when nothing is left pending.
#[inline(never)]
fn follow_up(
    pop: &mut Population,
    c: &mut Counters,
    q: &ThisQuarter,
    pid: u32,
    state: u8,
    refusion: u16,
    gone: bool,
) -> u16 {
    let list = &mut pop.follow_up;
    let lo = list.partition_point(|e| e.0 < pid);
    let mut pending = false;
    for e in list[lo..].iter_mut().take_while(|e| e.0 == pid) {
        if e.1 == RESOLVED {
            continue;
        }
        if e.1 + REVAL_FOLLOW_UP == q.t || (gone && e.1 + REVAL_FOLLOW_UP < q.horizon) {
            c.reval_after[usize::from(state)] += 1;
            e.1 = RESOLVED;
        } else if gone {
            e.1 = RESOLVED;
        } else {
            pending = true;
        }
    }
    if pending { refusion } else { refusion & !TRACK }
}

/// Counts the end of a ressourceforløb or kontanthjælp spell of `quarters`
/// quarters for the citizen outcomes measured from a spell's start.
#[inline(never)]
fn spell_end(tb: &Tables, c: &mut Counters, s: u8, to: u8, quarters: u16) {
    let clarified = tb.clarifying & (1 << to) != 0;
    if s == RF {
        c.rf_ends[0] += 1;
        if clarified {
            c.rf_ends[1] += 1;
            c.rf_ends[2] += u64::from(quarters);
        }
    } else if clarified && quarters >= YEAR {
        c.cash_year_clarified[0] += 1;
        c.cash_year_clarified[1] += u64::from(quarters - YEAR);
    }
}

/// Records the first clarification of an entrant, `quarters` after entry.
#[inline(never)]
fn clarify(rf_total: &mut u8, hist: &mut [u32], quarters: u16) {
    if *rf_total & CLARIFIED == 0 {
        *rf_total |= CLARIFIED;
        hist[usize::from(quarters).min(hist.len() - 1)] += 1;
    }
}

/// Forced assessments of state `s` that fall due; the target or `NONE`.
#[inline(never)]
#[allow(clippy::too_many_arguments)]
fn assess(
    tb: &Tables,
    s: u8,
    d: u16,
    rf_clock: u16,
    h: u8,
    group: usize,
    class: usize,
    active: u64,
    pk: u64,
    ctr: &[u64; rng::N_KINDS],
) -> u8 {
    for (ai, a) in tb.assessments.iter().enumerate() {
        if a.state != s || active & (1 << ai) == 0 {
            continue;
        }
        // A saturated cumulative clock no longer counts: never due.
        if a.cumulative && rf_clock >= u16::from(RF_COUNT) {
            continue;
        }
        let clock = if a.cumulative { rf_clock } else { d };
        if !crate::scenario::due(clock, a.at, a.every) || h < a.min_hours || h > a.max_hours {
            continue;
        }
        let row = &a.rows[group * 16 + class];
        if row.n == 0 {
            continue;
        }
        let to = row.pick(rng::draw31(pk, ctr[Kind::Assessment as usize + ai]));
        if to != NONE {
            return to;
        }
    }
    NONE
}

/// Quarters in a year: T6 and T9 speak of "at least a year" and "year one".
const YEAR: u16 = 4;

/// The class byte of a person in quarter `d <= YEAR` of a ressourceforløb,
/// marked if this quarter's phase is an intervention; at `d == YEAR` the
/// programme is counted for T9 if it began within the simulation (`observed`).
#[inline(never)]
fn rf_first_year(cls: u8, d: u16, observed: bool, counts: &mut [u32; 2]) -> u8 {
    let ph = (cls & flag::PHASE_MASK) >> flag::PHASE_SHIFT;
    let cls = if ph >= Phase::Active as u8 {
        cls | flag::INTERVENED
    } else {
        cls
    };
    if d == YEAR && observed {
        counts[0] += 1;
        counts[1] += u32::from(cls & flag::INTERVENED == 0);
    }
    cls
}

/// The class byte of a ressourceforløb stayer next quarter (phase moved);
/// a phase change begins a spell, counted in `entries`.
#[inline(never)]
fn next_phase(
    tb: &Tables,
    cls: u8,
    pk: u64,
    ctr: &[u64; rng::N_KINDS],
    entries: &mut [u32; N_PHASES],
) -> u8 {
    let ph = (cls & flag::PHASE_MASK) >> flag::PHASE_SHIFT;
    let row = &tb.phase_rows[ph as usize];
    if row.n == 0 {
        return cls;
    }
    match row.pick(rng::draw31(pk, ctr[Kind::Phase as usize])) {
        NONE => cls,
        np => {
            entries[usize::from(np)] += u32::from(np != ph);
            (cls & !flag::PHASE_MASK) | np << flag::PHASE_SHIFT
        }
    }
}

/// Hours and class byte of a flex-job stayer next quarter, and the T6
/// count: stayers at least a year in a flex job they entered (within the
/// simulation) as a minifleksjob, and of those the ones with raised hours.
#[inline(always)]
fn flex_stay(
    tb: &Tables,
    h: u8,
    cls: u8,
    d: u16,
    pk: u64,
    ctr: &[u64; rng::N_KINDS],
    counts: &mut [u32; 2],
) -> (u8, u8) {
    let nh = raise_hours(tb, h, d, pk, ctr);
    let cls = if nh > h { cls | flag::RAISED } else { cls };
    if cls & flag::MINI_ENTRY != 0 && d >= YEAR {
        counts[0] += 1;
        counts[1] += u32::from(cls & flag::RAISED != 0);
    }
    (nh, cls)
}

/// Flex-job hours of a stayer next quarter (T6 progression).
#[inline(always)]
fn raise_hours(tb: &Tables, h: u8, d: u16, pk: u64, ctr: &[u64; rng::N_KINDS]) -> u8 {
    if h <= tb.raise_max_eligible && h < tb.max_hours && d >= tb.raise_after && tb.raise_thr > 0 {
        let u = rng::draw31(pk, ctr[Kind::Hours as usize]);
        if u < tb.raise_thr {
            return h.saturating_add(tb.raise_step).min(tb.max_hours);
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Scenario, State, Who};

    /// Persons who have left the benefit system for good leave the
    /// simulation (`employed` from 13 quarters in the baseline), and no
    /// other result moves: every benefit state's stocks and flows, and every
    /// cost, are the same with and without it, replication by replication.
    /// Only `employed` and `out` differ (settlers are in `out` early).
    #[test]
    fn leaving_for_good_changes_no_benefit_result() {
        use crate::engine::runner::{Prepared, RunConfig, simulate};
        let sc = crate::scenario::baseline().scenario;
        let with = Prepared::new(&sc);
        let mut without = Prepared::new(&sc);
        without.tables = Tables::compile_with(&sc, false);
        assert_eq!(with.tables.settles_at(State::Employed), Some(13));
        assert_eq!(without.tables.settles_at(State::Employed), None);
        let cfg = RunConfig {
            replications: 2,
            seed: 7,
            scale: 0.05,
        };
        let (emp, out) = (State::Employed as usize, State::Out as usize);
        for rep in 0..2 {
            let a = simulate(&with, &cfg, rep).expect("runs");
            let b = simulate(&without, &cfg, rep).expect("runs");
            assert_eq!(a.costs, b.costs, "costs, replication {rep}");
            assert_eq!(a.clarification, b.clarification);
            assert_eq!(a.rf_ends, b.rf_ends);
            assert_eq!(a.reval_after, b.reval_after);
            let settled: u32 = a.settled.iter().sum();
            assert!(settled > 0, "somebody settles in ten years");
            assert!(b.settled.iter().all(|&n| n == 0));
            for t in 0..a.stocks.len() {
                for s in (0..N_STATES).filter(|&s| s != emp && s != out) {
                    assert_eq!(a.stocks[t][s], b.stocks[t][s], "stock {s} at {t}");
                }
            }
            for t in 0..a.flows.len() {
                for age in 0..2 {
                    for from in (0..=N_STATES).filter(|&s| s != emp) {
                        assert_eq!(
                            a.flows[t][age][from], b.flows[t][age][from],
                            "flows from {from} at {t}"
                        );
                    }
                }
            }
            // Fewer person-quarters are simulated.
            assert!(a.person_quarters < b.person_quarters);
        }
    }

    /// The per-quarter birth threshold tells exactly who reaches
    /// folkepension age, as the exit table does, for every quarter of the
    /// baseline and every birth quarter a person alive then can have.
    #[test]
    fn birth_threshold_equals_the_exit_table() {
        let sc = crate::scenario::baseline().scenario;
        let tb = Tables::compile(&sc);
        assert!(
            tb.exit_rises,
            "the baseline's exit quarters rise with birth"
        );
        for t in 0..sc.horizon {
            let next = tb.start + t + 1;
            let x = tb.exit_born(next).expect("a threshold");
            for b in next.saturating_sub(90 * 4)..next {
                assert_eq!(
                    i32::from(b) <= x,
                    next >= tb.pension_exit(b),
                    "quarter {next}, born {b}"
                );
            }
        }
        let mut falling = tb.clone();
        falling.exit_rises = false;
        assert_eq!(
            falling.exit_born(tb.start),
            None,
            "no threshold without rising exits"
        );
    }

    /// The branch-free pick is the first target whose threshold exceeds the
    /// draw, as a search finds it, for rows with tiny, zero-width and full
    /// entries, at every threshold and either side of it.
    #[test]
    fn pick_is_the_first_threshold_above_the_draw() {
        let rows = [
            [
                0.1, 0.0, 0.2, 1e-12, 0.3, 0.0, 0.0, 0.0, 0.0, 0.0, 0.3, 0.0, 0.1, 0.0, 0.0,
            ],
            [0.0; N_STATES],
            [
                1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
            ],
            [0.05; N_STATES],
            [
                0.5, 0.5, 1e-9, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
            ],
        ];
        for probs in &rows {
            let row = Row::from_probs(probs);
            let search = |u: u32| {
                (0..row.n as usize)
                    .find(|&k| u < row.thr[k])
                    .map_or(NONE, |k| row.to[k])
            };
            let mut draws: Vec<u32> = (0..=1000).map(|i| i * ((1 << 31) / 1000)).collect();
            for &t in &row.thr[..row.n as usize] {
                draws.extend([t.saturating_sub(1), t, t.saturating_add(1)]);
            }
            for u in draws.into_iter().filter(|&u| u < 1 << 31) {
                assert_eq!(row.pick(u), search(u), "u = {u}, row {probs:?}");
            }
        }
    }

    /// Scanning for runs of stayers is only a faster way to the same
    /// decisions: the baseline (scale 0.02) gives the same counters every
    /// quarter, and the same persons in the same states at the end, whether
    /// every state that may scan does so or none does.
    #[test]
    fn scanning_for_stayers_does_not_change_results() {
        let sc = crate::scenario::baseline().scenario;
        let tb = Tables::compile(&sc);
        let scale = 0.02;
        let run = |busy: u16| {
            let key = RepKey::new(5, 0);
            let mut pop = Population::for_scenario(&sc, scale).expect("baseline fits");
            pop.add_stock(&sc, scale, key, |_, _, _| {});
            let mut c = Counters::default();
            let mut trace = Vec::new();
            for t in 0..sc.horizon {
                c.reset_quarter();
                pop.add_inflow(&sc, t, scale, key, |_, _, _| {});
                c.busy = busy;
                step(&tb, &mut pop, t, key, &mut c);
                trace.push((
                    c.stock,
                    c.flows,
                    c.occupancy.clone(),
                    c.mini_raise,
                    c.reval_after,
                    c.phase_entries,
                    c.rf_year_one,
                ));
            }
            (trace, c.clarification.clone(), pop.checksum())
        };
        let scanned = run(0);
        let moves: u32 = scanned
            .0
            .iter()
            .map(|q| q.1.iter().flatten().flatten().sum::<u32>())
            .sum();
        assert!(moves > 10_000, "persons move ({moves})");
        assert!(scanned == run(u16::MAX), "scanning changed the results");
    }

    /// Columns birth, entered, class, refusion and hours.
    type Columns = (Vec<u16>, Vec<u16>, Vec<u8>, Vec<u16>, Vec<u8>);

    /// Random column values for the pass tests: `n` persons, of whom
    /// about a tenth are old enough to leave and some carry [`TRACK`].
    /// Births fall 25 to 75 years before `t_abs`, entries in the 40 quarters before it.
    fn random_columns(n: usize, seed: u64, t_abs: u16) -> Columns {
        let key = rng::RepKey::new(seed, 0);
        let u = |i: usize, k: u8| rng::mix(key.person(i as u64) ^ u64::from(k));
        let birth = (0..n)
            .map(|i| t_abs - 100 - (u(i, 0) % 200) as u16)
            .collect();
        let entered = (0..n).map(|i| t_abs - (u(i, 1) % 40) as u16).collect();
        let class = (0..n).map(|i| u(i, 2) as u8).collect();
        let refusion = (0..n)
            .map(|i| (u(i, 3) as u16 & (TRACK | 0x0300)) | (1 + (u(i, 4) % N_BANDS as u64) as u16))
            .collect();
        let hours = (0..n).map(|i| (u(i, 5) % 38) as u8).collect();
        (birth, entered, class, refusion, hours)
    }

    /// The vectorised row-code pass gives, for every person, the row of
    /// (age group, duration, class) and the exit and follow-up marks as
    /// they are defined, with the birth threshold and with the exit table.
    #[test]
    fn row_codes_are_the_row_and_the_marks() {
        // The baseline (the 40-year line and a year before folkepension
        // age: 2 x 2 groups) and the baseline without that gate (2 groups).
        let four = crate::scenario::baseline().scenario;
        let mut two = four.clone();
        two.gates
            .retain(|g| g.id != "no_ressourceforloeb_in_last_year_before_pension");
        for sc in [four, two] {
            row_codes_of(&sc);
        }
    }

    fn row_codes_of(sc: &Scenario) {
        let tb = Tables::compile(sc);
        let groups = sc.age_groups();
        let t_abs = tb.start + 20;
        let over40_born = i32::from(t_abs) - i32::from(AGE40_Q);
        let split = tb.split(t_abs, over40_born);
        assert!(split.is_some(), "{} groups by comparisons", groups.len());
        let (birth, entered, class, refusion, _) = random_columns(3000, 7, t_abs);
        let cases = [tb.exit_born(t_abs + 1), None]
            .into_iter()
            .flat_map(|e| [(e, None), (e, split)]);
        for (exit_born, split) in cases {
            let coder = RowCoder {
                base: 100,
                gstride: 800,
                group: tb.groups_at(20),
                split,
                t_abs,
                dmax: 12,
                nclass: 16 * N_PHASES as u32,
                mask: flag::ROW_MASK,
                exit_born,
                pension_exit: &tb.pension_exit,
            };
            let mut codes = vec![0; birth.len()];
            coder.fill(&birth, &entered, &class, &refusion, &mut codes);
            let mut leavers = 0;
            for (i, &code) in codes.iter().enumerate() {
                // The group by its definition: the scenario's age and
                // folkepension-distance cuts (40 years and, in the baseline,
                // a year before folkepension age).
                let group = groups.group(Who {
                    age_q: t_abs - birth[i],
                    to_pension_q: tb.pension_exit(birth[i]).saturating_sub(t_abs),
                });
                let d = t_abs - entered[i] + 1;
                let row = 100
                    + group as u32 * 800
                    + u32::from(d.min(13) - 1) * 16 * N_PHASES as u32
                    + u32::from(class[i] & flag::ROW_MASK);
                let leaves = t_abs + 1 >= tb.pension_exit(birth[i]);
                leavers += usize::from(leaves);
                assert_eq!(code & ROW, row, "person {i}");
                assert_eq!(code & LEAVES != 0, leaves, "person {i}");
                assert_eq!(code & TRACKED != 0, refusion[i] & TRACK != 0, "person {i}");
            }
            assert!(
                leavers > 0 && leavers < birth.len(),
                "both kinds of person occur"
            );
        }
    }

    /// The occupancy pass (cell indices, four histograms, chunks of 1024)
    /// counts each person once in their own cell, as a direct count does.
    #[test]
    fn occupancy_pass_equals_a_direct_count() {
        let sc = crate::scenario::baseline().scenario;
        let tb = Tables::compile(&sc);
        let t_abs = tb.start + 20;
        let (birth, _, class, refusion, hours) = random_columns(2500, 11, t_abs);
        let over40_born = i32::from(t_abs) - i32::from(AGE40_Q);
        type Pass = fn(&StateTab, &[u16], &[u16], &[u8], &[u8], i32, CostAges, &mut [u32]) -> u32;
        let check = |s: State, special: Special, pass: Pass| {
            let st = &tb.states[s as usize];
            let mut got = vec![0; N_CELLS];
            let ages = tb.cost_ages(t_abs);
            let over = pass(
                st,
                &birth,
                &refusion,
                &class,
                &hours,
                over40_born,
                ages,
                &mut got,
            );
            let mut want = vec![0; N_CELLS];
            let mut want_over = 0;
            for i in 0..birth.len() {
                let age = usize::from(i32::from(birth[i]) <= over40_born);
                want_over += age as u32;
                let band = usize::from(refusion[i] & 0xff) - 1;
                // Benefit states count by money's age groups (the baseline
                // cuts them at 30 and 40).
                let money_age = ages.of(birth[i]);
                want[st.cell[0]
                    + (money_age * N_BANDS + band) * N_VAR
                    + cost_variant(special, class[i], hours[i])] += 1;
            }
            assert_eq!(over, want_over, "{s:?}");
            assert_eq!(got, want, "{s:?}");
        };
        check(
            State::Sygedagpenge,
            Special::None,
            count_occupancy::<PLAIN, true>,
        );
        check(
            State::Ressourceforloeb,
            Special::Rf,
            count_occupancy::<K_RF, true>,
        );
        check(
            State::Fleksjob,
            Special::Flex,
            count_occupancy::<K_FLEX, true>,
        );
        check(
            State::Foertidspension,
            Special::Fp,
            count_occupancy::<K_FP, true>,
        );
    }
}
