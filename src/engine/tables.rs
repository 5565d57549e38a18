//! The lookup tables the quarter loop reads, compiled once per scenario.
//!
//! [`Tables::compile`] turns a [`Scenario`] into immutable tables before any
//! run: transition rows of cumulative 31-bit thresholds with gates and
//! redirects already applied, one block of rows per policy period;
//! assessment routing rows; phase rows; pension exit quarters by birth
//! quarter. The loop ([`kernel`](super::kernel)) and the rules as
//! probabilities ([`outcomes`](super::outcomes)) read them; nothing changes
//! them after compilation.

use crate::engine::cells::cell;
use crate::engine::rng;
use crate::scenario::{
    AGE40_Q, AgeGroups, Clock, N_PHASES, N_STATES, Scenario, State, Who, effective,
};

pub(super) const RF: u8 = State::Ressourceforloeb as u8;
pub(super) const FLEX: u8 = State::Fleksjob as u8;
pub(super) const REV: u8 = State::Revalidering as u8;
pub(super) const KH: u8 = State::Kontanthjaelp as u8;
pub(super) const OUT: u8 = State::Out as u8;
pub(super) const NONE: u8 = u8::MAX;
/// The target of a settling row: the person has left the benefit system
/// for good and leaves the simulation, counted in `out` (see
/// [`Tables::settles_at`]).
pub(super) const SETTLE: u8 = N_STATES as u8;
/// The row-index bits of a person's row code (the loop's `RowCoder`): a
/// period block may hold at most this many rows.
pub(super) const ROW: u32 = (1 << 30) - 1;

/// The clarified statuses (citizen outcomes), and their variants.
pub const CLARIFYING: [State; 5] = [
    State::Foertidspension,
    State::Fleksjob,
    State::Ledighedsydelse,
    State::Employed,
    State::Education,
];

/// A cumulative distribution over target states: `draw < thr[k]` picks
/// `to[k]` for the first such `k`; `draw >= thr[n-1]` stays.
/// Unused entries hold `thr = u32::MAX` and `to = NONE` (see `Row::pick`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    /// Cumulative threshold of the last target: `draw >= total` stays.
    pub total: u32,
    pub n: u8,
    pub to: [u8; N_STATES + 1],
    pub thr: [u32; N_STATES],
}

impl Row {
    const EMPTY: Row = Row {
        total: 0,
        n: 0,
        to: [NONE; N_STATES + 1],
        thr: [u32::MAX; N_STATES],
    };

    pub(super) fn from_probs(probs: &[f64; N_STATES]) -> Row {
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
        row.total = if row.n == 0 {
            0
        } else {
            row.thr[row.n as usize - 1]
        };
        row
    }

    /// The target picked by `u`, or `NONE` to stay. Thresholds rise, so
    /// the first `k` with `u < thr[k]` is the number of thresholds at or
    /// below `u`: counted without branches (a search mispredicts on random
    /// draws), over the padded entries too, which no 31-bit draw reaches.
    #[inline(always)]
    pub(super) fn pick(&self, u: u32) -> u8 {
        let k: u32 = self.thr.iter().map(|&t| u32::from(t <= u)).sum();
        self.to[k as usize]
    }
}

/// Which state-specific bookkeeping a state needs in the loop.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) enum Special {
    #[default]
    None,
    Rf,
    Flex,
    Fp,
}

/// Per-state constants of the loop.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct StateTab {
    /// First row of this state within a period block.
    pub(super) base: usize,
    /// Duration values with their own rows (the last one covers longer durations).
    pub(super) ndur: u16,
    /// Classes per duration: 16 flag classes (times 5 phases in ressourceforløb).
    pub(super) nclass: usize,
    /// Occupancy cell of (this state, age group, band 0, variant 0).
    pub(super) cell: [usize; 2],
    pub(super) assessed: bool,
    pub(super) special: Special,
    /// All-ones in benefit states (the refusion clock runs), else 0.
    pub(super) benefit_mask: u16,
    /// Stayers need a phase or hours update (ressourceforløb, fleksjob).
    pub(super) stay_hook: bool,
    /// 1 in ressourceforløb (its quarters count toward `rf_total`), else 0.
    pub(super) rf_inc: u8,
    /// Decision duration from which persons here settle ([`Tables::settles_at`]);
    /// `u16::MAX`: never.
    pub(super) settle: u16,
}

#[derive(Debug, Clone)]
pub(super) struct CompiledAssessment {
    pub(super) state: u8,
    pub(super) at: u16,
    pub(super) every: u16,
    pub(super) cumulative: bool,
    pub(super) min_hours: u8,
    pub(super) max_hours: u8,
    /// Rows by `age * 16 + flag class`.
    pub(super) rows: Vec<Row>,
    /// Its random stream, keyed on its id ([`rng::rule_stream`]).
    pub(super) stream: u64,
}

/// Everything the loop needs, compiled from one scenario.
#[derive(Debug, Clone)]
pub struct Tables {
    pub(super) rows: Vec<Row>,
    /// `rows[i].total`, kept apart so that the common "stay" path reads 4 bytes.
    pub(super) totals: Vec<u32>,
    pub(super) states: [StateTab; N_STATES],
    pub(super) rows_per_period: usize,
    /// Period index by simulated quarter.
    pub(super) period_of: Vec<u8>,
    pub(super) assessments: Vec<CompiledAssessment>,
    /// Bit `a` set: assessment `a` is in force in simulated quarter `t`.
    pub(super) assess_active: Vec<u64>,
    pub(super) phase_rows: [Row; N_PHASES],
    /// Exit quarter (absolute) by birth quarter.
    pub(super) pension_exit: Vec<u16>,
    /// Exit quarters never fall as birth quarters rise (true unless a
    /// scenario lowers the pension age by more than a quarter per quarter
    /// of birth), so one birth threshold per quarter tells who leaves.
    pub(super) exit_rises: bool,
    /// Bit per state: a clarified status (førtidspension, the flex-job
    /// scheme, ordinary work, education).
    pub(super) clarifying: u16,
    /// Bit per state: entry states whose entrants' time to clarification is measured.
    pub(super) entry_state: u16,
    pub(super) entry_phase: u8,
    pub(super) reset_after: u8,
    pub(super) raise_thr: u32,
    pub(super) raise_max_eligible: u8,
    pub(super) raise_after: u16,
    pub(super) raise_step: u8,
    pub(super) max_hours: u8,
    /// Hours a week at or below which a flex job is a minifleksjob.
    pub(super) mini_max: u8,
    pub(super) start: u16,
    /// The age groups the rules distinguish; each has its own rows.
    pub(super) groups: AgeGroups,
    /// Births with a group entry per quarter (every person alive in the
    /// horizon is born before its last quarter).
    pub(super) n_birth: usize,
    /// Age group by `t * n_birth + birth quarter` (simulated quarter `t`).
    pub(super) group_of: Vec<u8>,
    /// Where money's age groups start (quarters of age, ascending; 40 years
    /// among them): `Costs::age_cuts`.
    pub(super) cost_cuts: Vec<u16>,
}

/// Money's age groups in one quarter: a person born in or before
/// `born[k]` has passed cut `k`; the group is the number of cuts passed.
#[derive(Debug, Clone, Copy)]
pub(super) struct CostAges {
    /// Padded with `i32::MIN` (never passed).
    pub(super) born: [i32; crate::scenario::MAX_COST_AGES - 1],
    /// The group that starts at 40 years.
    pub(super) over40: usize,
}

impl CostAges {
    #[inline(always)]
    pub(super) fn of(&self, birth: u16) -> usize {
        self.born
            .iter()
            .map(|&x| usize::from(i32::from(birth) <= x))
            .sum()
    }
}

impl Tables {
    /// Compiles every rule of `s` into lookup tables.
    pub fn compile(s: &Scenario) -> Tables {
        Tables::compile_with(s, true)
    }

    /// [`Tables::compile`], with persons who have left for good kept in the
    /// simulation when `settling` is false (to test that it changes no
    /// benefit result).
    pub(crate) fn compile_with(s: &Scenario, settling: bool) -> Tables {
        // Policy periods: quarters with the same set of active gates and the
        // same numbers in force (dated changes) share rows.
        let mut signatures: Vec<(u64, usize)> = Vec::new();
        let mut period_of = Vec::with_capacity(s.horizon as usize);
        for q in s.quarters() {
            let sig = s
                .gates
                .iter()
                .enumerate()
                .filter(|(_, g)| g.active.contains(q))
                .fold(0u64, |acc, (i, _)| acc | 1 << i);
            let key = (sig, s.period_of(q));
            let p = signatures
                .iter()
                .position(|&x| x == key)
                .unwrap_or_else(|| {
                    signatures.push(key);
                    signatures.len() - 1
                });
            period_of.push(u8::try_from(p).expect("at most 255 policy periods"));
        }

        let groups = s.age_groups();
        let cost_cuts = s.costs.age_cuts();
        let cost_over40 = cost_cuts.partition_point(|&c| c < AGE40_Q) + 1;
        let n_groups = groups.len();
        let mut states = [StateTab::default(); N_STATES];
        let mut base = 0usize;
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
            };
            states[st as usize] = StateTab {
                base,
                ndur,
                nclass,
                cell: [
                    cell(st as usize, 0, 0, 0),
                    cell(st as usize, cost_over40, 0, 0),
                ],
                assessed: s.assessments.iter().any(|a| a.state == st),
                // A variant runs the loop of its base state (scenarios/README.md).
                special: match s.base(st) {
                    State::Ressourceforloeb => Special::Rf,
                    State::Fleksjob => Special::Flex,
                    State::Foertidspension => Special::Fp,
                    _ => Special::None,
                },
                benefit_mask: if s.is_benefit(st) { u16::MAX } else { 0 },
                stay_hook: matches!(s.base(st), State::Ressourceforloeb | State::Fleksjob),
                rf_inc: u8::from(st == State::Ressourceforloeb),
                settle: u16::MAX,
            };
            base += n_groups * usize::from(ndur) * nclass;
        }
        let rows_per_period = base;

        let mut rows = Vec::with_capacity(rows_per_period * signatures.len());
        for &(sig, k) in &signatures {
            // Gates are never dated, so every period's scenario has the same.
            let sk = s.period(k);
            for st in State::ALL {
                let l = states[st as usize];
                for g in 0..n_groups {
                    let who = groups.representative(g);
                    for di in 0..l.ndur {
                        let d = di + 1;
                        for class in 0..l.nclass {
                            let flags = (class % 16) as u8;
                            let phase = class / 16;
                            rows.push(Row::from_probs(&row_probs(
                                sk, sig, st, who, d, flags, phase,
                            )));
                        }
                    }
                }
            }
        }

        let mut assessments = Vec::new();
        for a in &s.assessments {
            let mut arows = Vec::with_capacity(16 * n_groups);
            for g in 0..n_groups {
                let who = groups.representative(g);
                for class in 0..16u8 {
                    let mut probs = [0.0; N_STATES];
                    if a.when.matches(who, class) {
                        for &(to, p) in &a.route {
                            probs[to as usize] += p;
                        }
                    }
                    arows.push(Row::from_probs(&probs));
                }
            }
            assessments.push(CompiledAssessment {
                state: a.state as u8,
                at: a.at,
                every: a.every,
                cumulative: a.clock == Clock::Cumulative,
                min_hours: a.when.min_hours.unwrap_or(0),
                max_hours: a.when.max_hours.unwrap_or(u8::MAX),
                rows: arows,
                stream: rng::rule_stream(rng::Kind::Assessment, &a.id),
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

        let pension_exit: Vec<u16> = (0..=u16::MAX / 2)
            .map(|b| b.saturating_add(s.pension_age_q(crate::scenario::calendar::Quarter(b))))
            .collect();

        // The age group of every birth quarter in every simulated quarter.
        let n_birth = usize::from(s.start.0 + s.horizon);
        let mut group_of = Vec::with_capacity(n_birth * usize::from(s.horizon));
        for t_abs in s.start.0..s.start.0 + s.horizon {
            group_of.extend((0..n_birth).map(|b| {
                let who = Who {
                    age_q: t_abs.saturating_sub(b as u16),
                    to_pension_q: pension_exit[b].saturating_sub(t_abs),
                };
                groups.group(who) as u8
            }));
        }

        if settling {
            settle(&mut rows, &mut states, rows_per_period, n_groups);
        }

        // Row codes (`RowCoder`) hold a row index within a period in 30 bits.
        assert!(
            rows_per_period <= ROW as usize,
            "{rows_per_period} transition rows per period do not fit a row code"
        );
        let totals = rows.iter().map(|r| r.total).collect();
        Tables {
            rows,
            totals,
            states,
            rows_per_period,
            period_of,
            assessments,
            assess_active,
            phase_rows,
            exit_rises: pension_exit.windows(2).all(|w| w[0] <= w[1]),
            pension_exit,
            entry_phase: s.entry_phase as u8,
            clarifying: CLARIFYING.iter().fold(0, |m, &st| m | 1 << st as u16)
                | s.variants
                    .iter()
                    .filter(|v| CLARIFYING.contains(&v.of))
                    .fold(0, |m, v| m | 1 << v.slot as u16),
            entry_state: 1 << State::Kontanthjaelp as u16 | 1 << State::Sygedagpenge as u16,
            reset_after: s.costs.reset_after_quarters,
            raise_thr: rng::threshold(s.flex.raise_probability),
            raise_max_eligible: s.flex.raise_eligible_max_hours,
            raise_after: s.flex.raise_after_quarters,
            raise_step: s.flex.raise_step_hours,
            max_hours: s.flex.max_hours,
            mini_max: s.flex.minifleks_max_hours,
            start: s.start.0,
            groups,
            n_birth,
            group_of,
            cost_cuts,
        }
    }
}

/// Probabilities of each target for one row, gates applied in id order.
pub(super) fn row_probs(
    s: &Scenario,
    sig: u64,
    st: State,
    who: Who,
    d: u16,
    flags: u8,
    phase: usize,
) -> [f64; N_STATES] {
    let mut probs = [0.0; N_STATES];
    for t in s.transitions.iter().filter(|t| t.from == st) {
        probs[t.to as usize] += effective(t, who.age_q, d, flags, phase);
    }
    for (i, g) in s.gates.iter().enumerate() {
        if sig & (1 << i) == 0
            || g.from & (1 << st as u16) == 0
            || !g.when.matches(who, flags)
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

impl Tables {
    /// The decision duration (quarters in the state) from which persons in
    /// `state` have left the benefit system for good and leave the
    /// simulation for `out` (see `settle`); `None` if they never do.
    pub fn settles_at(&self, state: State) -> Option<u16> {
        let d = self.states[state as usize].settle;
        (d != u16::MAX).then_some(d)
    }

    /// The age group of each birth quarter in simulated quarter `t`.
    pub(super) fn groups_at(&self, t: u16) -> &[u8] {
        let lo = usize::from(t) * self.n_birth;
        &self.group_of[lo..lo + self.n_birth]
    }

    /// Money's age groups in absolute quarter `t_abs`.
    pub(super) fn cost_ages(&self, t_abs: u16) -> CostAges {
        let mut born = [i32::MIN; crate::scenario::MAX_COST_AGES - 1];
        for (b, &c) in born.iter_mut().zip(&self.cost_cuts) {
            *b = i32::from(t_abs) - i32::from(c);
        }
        CostAges {
            born,
            over40: self.cost_cuts.partition_point(|&c| c < AGE40_Q) + 1,
        }
    }

    /// Money's age group (the occupancy cells') of a person born in `birth`
    /// during simulated quarter `t`.
    pub fn cost_age(&self, t: u16, birth: u16) -> usize {
        self.cost_ages(self.start + t).of(birth)
    }

    /// The age group (of [`Scenario::age_groups`]) of a person born in
    /// `birth` during simulated quarter `t`.
    pub fn age_group(&self, t: u16, birth: u16) -> usize {
        usize::from(self.groups_at(t)[usize::from(birth)])
    }

    /// The age groups of absolute quarter `t_abs` as birth thresholds, when
    /// the rules distinguish only the 40-year line (the reporting line) and
    /// at most one distance to folkepension age, and folkepension age does
    /// not come earlier for later births: the loop then compares births
    /// instead of looking groups up. `over40_born` is the last birth quarter
    /// that is 40 or over in `t_abs`.
    pub(super) fn split(&self, t_abs: u16, over40_born: i32) -> Option<Split> {
        if self.groups.age_cuts != [AGE40_Q] {
            return None;
        }
        match self.groups.pension_cuts[..] {
            [] => Some(Split {
                over40_born,
                near_born: i32::MAX,
                per_age: 1,
            }),
            // Within `cut` quarters of folkepension age: pension_exit(b) <=
            // t_abs + cut, which holds up to a birth quarter when exits rise.
            [cut] if self.exit_rises => Some(Split {
                over40_born,
                near_born: self
                    .pension_exit
                    .partition_point(|&x| u32::from(x) <= u32::from(t_abs) + u32::from(cut))
                    as i32
                    - 1,
                per_age: 2,
            }),
            _ => None,
        }
    }

    /// The counter words of absolute quarter `t_abs`: one per decision kind,
    /// and in slots `Kind::Assessment + i` assessment `i`'s own stream.
    pub(super) fn counters(&self, t_abs: u16) -> [u64; rng::N_KINDS] {
        let mut ctr = rng::counters(t_abs);
        for (i, a) in self.assessments.iter().enumerate() {
            ctr[rng::Kind::Assessment as usize + i] = rng::rule_counter(t_abs, a.stream);
        }
        ctr
    }

    /// The last birth quarter whose exit quarter is at or before `quarter`
    /// (-1 if none), when exit quarters rise with birth; else `None`.
    pub(super) fn exit_born(&self, quarter: u16) -> Option<i32> {
        self.exit_rises
            .then(|| self.pension_exit.partition_point(|&x| x <= quarter) as i32 - 1)
    }

    /// The absolute quarter in which a person born in `birth` leaves for `out`
    /// (the first `q` with `q + 1 >= exit`).
    pub fn pension_exit(&self, birth: u16) -> u16 {
        self.pension_exit[birth as usize]
    }
}

/// The age group by birth quarter as two thresholds (see
/// [`Tables::split`]): group `2 a + p` with `a` = born in or before
/// `over40_born` (40 or over) and `p` = born after `near_born` (more than
/// the rules' one distance from folkepension age); with no such distance,
/// `near_born` is `i32::MAX` and the group is `a`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Split {
    pub(super) over40_born: i32,
    pub(super) near_born: i32,
    /// Groups per age band: 1, or 2 with a distance to folkepension age.
    pub(super) per_age: u32,
}

/// Persons who have left the benefit system for good stop being simulated.
///
/// A state settles from decision duration `d` if it is not a benefit, has no
/// forced assessment and no special bookkeeping, and every row of it at
/// durations `d` and longer (so every later quarter: the last duration's
/// rows cover all longer ones), in every age group, flag class and policy
/// period, leads nowhere but `out`: no path from there returns to a benefit.
/// Those rows become "settle with certainty" ([`SETTLE`]): the person leaves
/// the simulation, counted in `out` as having left for good, instead of
/// being carried quarter after quarter until death, emigration or pension
/// age. Benefit results do not change, as no draw of any other person
/// depends on them (draws are keyed on the person).
fn settle(rows: &mut [Row], states: &mut [StateTab; N_STATES], per_period: usize, n_groups: usize) {
    for (s, st) in states.iter_mut().enumerate() {
        if s == OUT as usize || st.benefit_mask != 0 || st.assessed || st.special != Special::None {
            continue;
        }
        let per_dur = st.nclass;
        let per_group = usize::from(st.ndur) * per_dur;
        let only_out = |di: u16| {
            rows.chunks(per_period).all(|block| {
                (0..n_groups).all(|g| {
                    let at = st.base + g * per_group + usize::from(di) * per_dur;
                    block[at..at + per_dur]
                        .iter()
                        .all(|r| r.to[..r.n as usize].iter().all(|&to| to == OUT))
                })
            })
        };
        // The first duration index from which every longer one leads only to `out`.
        let mut from = st.ndur;
        while from > 0 && only_out(from - 1) {
            from -= 1;
        }
        if from == st.ndur {
            continue;
        }
        st.settle = from + 1;
        let settle_row = Row {
            total: rng::threshold(1.0),
            n: 1,
            to: {
                let mut to = [NONE; N_STATES + 1];
                to[0] = SETTLE;
                to
            },
            thr: {
                let mut thr = [u32::MAX; N_STATES];
                thr[0] = rng::threshold(1.0);
                thr
            },
        };
        for block in rows.chunks_mut(per_period) {
            for g in 0..n_groups {
                let first = st.base + g * per_group + usize::from(from) * per_dur;
                let last = st.base + (g + 1) * per_group;
                block[first..last].fill(settle_row);
            }
        }
    }
}
