//! The person-quarter loop and the lookup tables it reads.
//!
//! [`Tables::compile`] turns a [`Scenario`] into immutable tables once, before
//! any run: transition rows with gates and redirects already applied, one
//! block of rows per policy period; assessment routing rows; phase rows;
//! pension exit quarters by birth quarter. [`step`] then advances every
//! person by one quarter.
//!
//! **Architecture invariant:** `step` does no I/O, no allocation and no
//! dynamic dispatch, and reads no clock or thread id: its result is a
//! function of the tables, the population, the quarter and the replication
//! key only. Probabilities are compared as 31-bit integers
//! ([`rng::threshold`]).
//!
//! Order of events for a person in state `s` during quarter `t`:
//! 1. the quarter is counted in `s` (occupancy, priced by `costing`);
//! 2. the refusion clock and the ressourceforløb total advance;
//! 3. reaching folkepension age by the next quarter moves the person to `out`;
//! 4. a forced assessment that falls due may route the person;
//! 5. otherwise the ordinary transition row decides (the rest stay);
//! 6. stayers advance their duration, ressourceforløb phase and flex-job hours.

use crate::rng::{self, Kind, RepKey};
use crate::scenario::{AGE40_Q, Clock, N_PHASES, N_STATES, Scenario, State, effective, flag};

/// Index of the `entry` pseudo-state in flow counters.
pub const ENTRY: usize = N_STATES;
/// Cost variants per (state, age, clock band): flex-job hours 0..=37.
pub const N_VAR: usize = 38;
/// Refusion clock bands: quarter 1, 2, 3, 4, 5 and later on benefit.
pub const N_BANDS: usize = 5;
/// Occupancy cells per quarter.
pub const N_CELLS: usize = N_STATES * 2 * N_BANDS * N_VAR;

const RF: u8 = State::Ressourceforloeb as u8;
const FLEX: u8 = State::Fleksjob as u8;
const FP: u8 = State::Foertidspension as u8;
const OUT: u8 = State::Out as u8;
const NONE: u8 = u8::MAX;

/// Occupancy cell of a person-quarter.
#[inline(always)]
pub fn cell(state: usize, age: usize, band: usize, var: usize) -> usize {
    ((state * 2 + age) * N_BANDS + band) * N_VAR + var
}

/// A cumulative distribution over target states: `draw < thr[k]` picks
/// `to[k]` for the first such `k`; `draw >= thr[n-1]` stays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    pub n: u8,
    pub to: [u8; N_STATES],
    pub thr: [u32; N_STATES],
}

impl Row {
    const EMPTY: Row = Row {
        n: 0,
        to: [0; N_STATES],
        thr: [0; N_STATES],
    };

    fn from_probs(probs: &[f64; N_STATES]) -> Row {
        let mut row = Row::EMPTY;
        let mut acc = 0.0;
        for (to, &p) in probs.iter().enumerate() {
            if p > 0.0 {
                acc += p;
                row.to[row.n as usize] = to as u8;
                row.thr[row.n as usize] = rng::threshold(acc);
                row.n += 1;
            }
        }
        row
    }

    #[inline(always)]
    pub fn total(&self) -> u32 {
        if self.n == 0 {
            0
        } else {
            self.thr[self.n as usize - 1]
        }
    }

    /// The target picked by `u`, or `NONE` to stay.
    #[inline(always)]
    fn pick(&self, u: u32) -> u8 {
        for k in 0..self.n as usize {
            if u < self.thr[k] {
                return self.to[k];
            }
        }
        NONE
    }

    /// The probability of each target (for tests and the frequency check).
    pub fn probabilities(&self) -> [f64; N_STATES] {
        let mut p = [0.0; N_STATES];
        let mut prev = 0u32;
        for k in 0..self.n as usize {
            p[self.to[k] as usize] = f64::from(self.thr[k] - prev) / rng::SCALE;
            prev = self.thr[k];
        }
        p
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Layout {
    base: u32,
    ndur: u16,
    nclass: u16,
}

#[derive(Debug, Clone)]
struct CompiledAssessment {
    state: u8,
    at: u16,
    every: u16,
    cumulative: bool,
    min_hours: u8,
    max_hours: u8,
    /// Rows by `age * 16 + flag class`.
    rows: Vec<Row>,
}

/// Everything the loop needs, compiled from one scenario.
#[derive(Debug, Clone)]
pub struct Tables {
    rows: Vec<Row>,
    layout: [Layout; N_STATES],
    rows_per_period: usize,
    /// Period index by simulated quarter.
    period_of: Vec<u8>,
    assessments: Vec<CompiledAssessment>,
    /// Bit `a` set: assessment `a` is in force in simulated quarter `t`.
    assess_active: Vec<u64>,
    /// Bit `s` set: state `s` has at least one assessment.
    assess_states: u16,
    phase_rows: [Row; N_PHASES],
    /// Exit quarter (absolute) by birth quarter.
    pension_exit: Vec<u16>,
    entry_phase: u8,
    reset_after: u8,
    raise_thr: u32,
    raise_max_eligible: u8,
    raise_after: u16,
    raise_step: u8,
    max_hours: u8,
    start: u16,
}

impl Tables {
    /// Compiles every rule of `s` into lookup tables.
    pub fn compile(s: &Scenario) -> Tables {
        // Policy periods: quarters with the same set of active gates share rows.
        let mut signatures: Vec<u64> = Vec::new();
        let mut period_of = Vec::with_capacity(s.horizon as usize);
        for q in s.quarters() {
            let sig = s
                .gates
                .iter()
                .enumerate()
                .filter(|(_, g)| g.active.contains(q))
                .fold(0u64, |acc, (i, _)| acc | 1 << i);
            let p = signatures
                .iter()
                .position(|&x| x == sig)
                .unwrap_or_else(|| {
                    signatures.push(sig);
                    signatures.len() - 1
                });
            period_of.push(p as u8);
        }

        let mut layout = [Layout::default(); N_STATES];
        let mut base = 0u32;
        for st in State::ALL {
            let mut ndur = crate::scenario::max_boundary(&s.transitions, st) + 1;
            for g in &s.gates {
                if g.from & (1 << st as u16) != 0
                    && let Some(b) = g.before_duration
                {
                    ndur = ndur.max(b);
                }
            }
            let nclass = if st == State::Ressourceforloeb {
                16 * N_PHASES
            } else {
                16
            } as u16;
            layout[st as usize] = Layout { base, ndur, nclass };
            base += 2 * u32::from(ndur) * u32::from(nclass);
        }
        let rows_per_period = base as usize;

        let mut rows = Vec::with_capacity(rows_per_period * signatures.len());
        for &sig in &signatures {
            for st in State::ALL {
                let l = layout[st as usize];
                for age in 0..2 {
                    for di in 0..l.ndur {
                        let d = di + 1;
                        for class in 0..l.nclass {
                            let flags = (class % 16) as u8;
                            let phase = (class / 16) as usize;
                            rows.push(Row::from_probs(&row_probs(
                                s, sig, st, age, d, flags, phase,
                            )));
                        }
                    }
                }
            }
        }

        let mut assessments = Vec::new();
        let mut assess_states = 0u16;
        for a in &s.assessments {
            let mut arows = Vec::with_capacity(32);
            for age in 0..2 {
                for class in 0..16u8 {
                    let mut probs = [0.0; N_STATES];
                    if a.when.matches_class(age, class) {
                        for &(to, p) in &a.route {
                            probs[to as usize] += p;
                        }
                    }
                    arows.push(Row::from_probs(&probs));
                }
            }
            assess_states |= 1 << a.state as u16;
            assessments.push(CompiledAssessment {
                state: a.state as u8,
                at: a.at,
                every: a.every,
                cumulative: a.clock == Clock::Cumulative,
                min_hours: a.when.min_hours.unwrap_or(0),
                max_hours: a.when.max_hours.unwrap_or(u8::MAX),
                rows: arows,
            });
        }
        assert!(
            assessments.len() <= 40,
            "at most 40 assessments are supported"
        );
        let assess_active = s
            .quarters()
            .map(|q| {
                s.assessments
                    .iter()
                    .enumerate()
                    .filter(|(_, a)| a.active.contains(q))
                    .fold(0u64, |acc, (i, _)| acc | 1 << i)
            })
            .collect();

        let phase_rows = std::array::from_fn(|f| {
            let mut probs = [0.0; N_STATES];
            probs[..N_PHASES].copy_from_slice(&s.phase_matrix[f]);
            Row::from_probs(&probs)
        });

        let pension_exit = (0..=u16::MAX / 2)
            .map(|b| b.saturating_add(s.pension_age_q(crate::calendar::Quarter(b))))
            .collect();

        Tables {
            rows,
            layout,
            rows_per_period,
            period_of,
            assessments,
            assess_active,
            assess_states,
            phase_rows,
            pension_exit,
            entry_phase: s.entry_phase as u8,
            reset_after: s.costs.reset_after_quarters,
            raise_thr: rng::threshold(s.flex.raise_probability),
            raise_max_eligible: s.flex.raise_eligible_max_hours,
            raise_after: s.flex.raise_after_quarters,
            raise_step: s.flex.raise_step_hours,
            max_hours: s.flex.max_hours,
            start: s.start.0,
        }
    }

    /// The transition row for simulated quarter `t`.
    #[inline(always)]
    pub fn row(&self, t: usize, state: usize, age: usize, d: u16, class: usize) -> &Row {
        let l = self.layout[state];
        let di = (d.min(l.ndur) - 1) as usize;
        let idx = self.period_of[t] as usize * self.rows_per_period
            + l.base as usize
            + (age * l.ndur as usize + di) * l.nclass as usize
            + class;
        &self.rows[idx]
    }

    /// Number of compiled transition rows (all periods).
    pub fn n_rows(&self) -> usize {
        self.rows.len()
    }
}

/// Probabilities of each target for one row, gates applied in id order.
fn row_probs(
    s: &Scenario,
    sig: u64,
    st: State,
    age: usize,
    d: u16,
    flags: u8,
    phase: usize,
) -> [f64; N_STATES] {
    let mut probs = [0.0; N_STATES];
    for t in s.transitions.iter().filter(|t| t.from == st) {
        probs[t.to as usize] += effective(t, age, d, flags, phase);
    }
    for (i, g) in s.gates.iter().enumerate() {
        if sig & (1 << i) == 0
            || g.from & (1 << st as u16) == 0
            || !g.when.matches_class(age, flags)
            || g.before_duration.is_some_and(|b| d >= b)
        {
            continue;
        }
        for to in 0..N_STATES {
            if g.to & (1 << to) != 0 && probs[to] > 0.0 {
                let moved = std::mem::take(&mut probs[to]);
                if let Some(r) = g.redirect
                    && r != st
                {
                    probs[r as usize] += moved;
                }
            }
        }
    }
    probs
}

/// Per-quarter counters filled by [`step`]; reset by the caller.
#[derive(Debug, Clone)]
pub struct Counters {
    /// Person-quarters by [`cell`].
    pub occupancy: Vec<u32>,
    /// Persons by state and age group at the end of the quarter (`out`: cumulative).
    pub stock: [[u32; 2]; N_STATES],
    /// Moves by age group, from (or [`ENTRY`]) and to.
    pub flows: [[[u32; N_STATES]; N_STATES + 1]; 2],
    pub person_quarters: u64,
}

impl Default for Counters {
    fn default() -> Self {
        Counters {
            occupancy: vec![0; N_CELLS],
            stock: [[0; 2]; N_STATES],
            flows: [[[0; N_STATES]; N_STATES + 1]; 2],
            person_quarters: 0,
        }
    }
}

impl Counters {
    /// Clears everything but the cumulative `out` stock.
    pub fn reset_quarter(&mut self) {
        self.occupancy.fill(0);
        let out = self.stock[OUT as usize];
        self.stock = [[0; 2]; N_STATES];
        self.stock[OUT as usize] = out;
        self.flows = [[[0; N_STATES]; N_STATES + 1]; 2];
        self.person_quarters = 0;
    }
}

/// Advances every person by simulated quarter `t`.
pub fn step(
    tb: &Tables,
    pop: &mut crate::population::Population,
    t: u16,
    rep: RepKey,
    c: &mut Counters,
) {
    let t_abs = tb.start + t;
    let ctr = rng::counters(t);
    let ti = t as usize;
    let active = tb.assess_active[ti];
    for g in &pop.groups {
        let (lo, hi) = (g.start as usize, (g.start + g.len) as usize);
        for i in lo..hi {
            let s = pop.state[i];
            if s == OUT {
                continue;
            }
            let pk = rep.person(rng::person_id(g.cohort, g.state, (i - lo) as u32));
            let age = usize::from(t_abs.wrapping_sub(pop.birth[i]) >= AGE40_Q);
            let flags = pop.flags[i];
            let phase = pop.phase[i];
            let d = pop.dur[i].saturating_add(1);

            // 1-2: occupancy and clocks.
            let benefit = s <= FP;
            let band;
            if benefit {
                let clk = pop.clock[i].saturating_add(1);
                pop.clock[i] = clk;
                pop.offben[i] = 0;
                band = (clk.min(N_BANDS as u8) - 1) as usize;
            } else {
                let off = pop.offben[i].saturating_add(1);
                pop.offben[i] = off;
                if off >= tb.reset_after {
                    pop.clock[i] = 0;
                }
                band = 0;
            }
            let var = match s {
                FLEX => pop.hours[i] as usize,
                RF => (phase as usize) * 2 + usize::from(flags & flag::INSURED != 0),
                FP => usize::from(flags & flag::PRE2014 != 0),
                _ => 0,
            };
            c.occupancy[cell(s as usize, age, band, var)] += 1;
            c.person_quarters += 1;
            let rf_total = if s == RF {
                let v = pop.rf_total[i].saturating_add(1);
                pop.rf_total[i] = v;
                v
            } else {
                pop.rf_total[i]
            };

            // 3: folkepension age.
            let mut to = NONE;
            if t_abs + 1 >= tb.pension_exit[pop.birth[i] as usize] {
                to = OUT;
            }

            // 4: forced assessments.
            let class = flags & flag::CLASS_MASK;
            if to == NONE && tb.assess_states & (1 << s) != 0 && active != 0 {
                for (ai, a) in tb.assessments.iter().enumerate() {
                    if a.state != s || active & (1 << ai) == 0 {
                        continue;
                    }
                    let clock = if a.cumulative { u16::from(rf_total) } else { d };
                    let due = clock == a.at
                        || (a.every > 0 && clock > a.at && (clock - a.at) % a.every == 0);
                    let h = pop.hours[i];
                    if !due || h < a.min_hours || h > a.max_hours {
                        continue;
                    }
                    let row = &a.rows[age * 16 + class as usize];
                    if row.n == 0 {
                        continue;
                    }
                    let u = rng::draw31(pk, ctr[Kind::Assessment as usize + ai]);
                    to = row.pick(u);
                    if to != NONE {
                        break;
                    }
                }
            }

            // 5: ordinary transitions.
            if to == NONE {
                let cls = if s == RF {
                    (phase as usize) * 16 + class as usize
                } else {
                    class as usize
                };
                let row = tb.row(ti, s as usize, age, d, cls);
                let u = rng::draw31(pk, ctr[Kind::Transition as usize]);
                if u < row.total() {
                    to = row.pick(u);
                }
            }

            // 6: apply.
            if to == NONE {
                pop.dur[i] = d;
                if s == RF {
                    let prow = &tb.phase_rows[phase as usize];
                    if prow.n > 0 {
                        let u = rng::draw31(pk, ctr[Kind::Phase as usize]);
                        let np = prow.pick(u);
                        if np != NONE {
                            pop.phase[i] = np;
                        }
                    }
                } else if s == FLEX {
                    let h = pop.hours[i];
                    if h <= tb.raise_max_eligible
                        && h < tb.max_hours
                        && d >= tb.raise_after
                        && tb.raise_thr > 0
                    {
                        let u = rng::draw31(pk, ctr[Kind::Hours as usize]);
                        if u < tb.raise_thr {
                            pop.hours[i] = h.saturating_add(tb.raise_step).min(tb.max_hours);
                        }
                    }
                }
                c.stock[s as usize][age] += 1;
            } else {
                c.flows[age][s as usize][to as usize] += 1;
                pop.state[i] = to;
                pop.dur[i] = 0;
                pop.phase[i] = if to == RF { tb.entry_phase } else { 0 };
                c.stock[to as usize][age] += 1;
            }
        }
    }
}
