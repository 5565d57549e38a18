//! The rules of the quarter loop as probabilities: for one person record,
//! every outcome of a quarter and its chance, from the same tables and the
//! same 31-bit thresholds as [`step`](super::kernel::step), with no random
//! numbers. Expected values (the exact cohort mode) are built on it, so it
//! must change whenever `step` does (a test compares them).

use crate::engine::cells::{CLARIFIED, N_BANDS, N_VAR, RF_COUNT};
use crate::engine::kernel::{cost_variant, next_clock};
use crate::engine::population::Person;
use crate::engine::rng;
use crate::engine::tables::*;
use crate::scenario::{AGE40_Q, flag};

/// Where a person's quarter is counted (see [`Tables::outcomes`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted {
    /// Occupancy cell ([`cell`](crate::engine::cells::cell)).
    pub cell: usize,
    /// Age group (0 under 40, 1 over 40) at the start of the quarter.
    pub age: usize,
}

/// The chance that `draw31` falls in `[lo, hi)`.
#[inline]
fn chance(lo: u32, hi: u32) -> f64 {
    f64::from(hi.saturating_sub(lo)) / rng::SCALE
}

impl Tables {
    /// Every outcome of simulated quarter `t` for person `p`, exactly as
    /// [`step`](super::kernel::step) would draw it: `emit(probability, next record, target)` with
    /// target `NONE` (`u8::MAX`) for a stayer. Probabilities come from the
    /// same 31-bit thresholds (`draw31 < thr` has chance `thr / 2^31`), and
    /// draws of different kinds are independent, so the emitted
    /// probabilities are those of the Monte Carlo engine. Zero-probability
    /// branches are not emitted. Keep this in step with [`step`](super::kernel::step).
    pub fn outcomes(&self, t: u16, p: &Person, emit: &mut impl FnMut(f64, Person, u8)) -> Counted {
        let t_abs = self.start + t;
        let ti = t as usize;
        let base = self.period_of[ti] as usize * self.rows_per_period;
        let s = p.state;
        let st = &self.states[s as usize];
        let age = usize::from(t_abs.wrapping_sub(p.birth) >= AGE40_Q);
        let g = usize::from(self.groups_at(t)[usize::from(p.birth)]);
        let d = t_abs.wrapping_sub(p.entered).saturating_add(1);
        let cls = p.class;
        let reset_after = u16::from(self.reset_after);

        // 1-2: occupancy and clocks (as in `step`).
        let benefit = st.benefit_mask != 0;
        let mut q = *p;
        q.refusion = next_clock(p.refusion, benefit, reset_after);
        let band = if benefit {
            usize::from(q.refusion & 0xff) - 1
        } else {
            0
        };
        let mut rf_v = 0;
        let mut h = 0;
        if st.rf_inc != 0 {
            let v = p.rf_total;
            rf_v = (v & RF_COUNT).min(RF_COUNT - 1) + 1;
            q.rf_total = (v & CLARIFIED) | rf_v;
        }
        if st.special == Special::Flex || st.assessed {
            h = p.hours;
        }
        let var = cost_variant(st.special, cls, h);
        // As `count_occupancy`: plain states off benefit by the reporting
        // line, the others by money's age groups.
        let cell = if st.special == Special::None && st.benefit_mask == 0 {
            st.cell[age]
        } else {
            let oa = self.cost_ages(t_abs).of(p.birth);
            st.cell[0] + (oa * N_BANDS + band) * N_VAR + var
        };
        let counted = Counted { cell, age };

        // A mover's record: new state, entered now, phase cleared or set.
        let moved = |to: u8| {
            let mut n = q;
            n.state = to;
            n.entered = t_abs + 1;
            let entry = if to == RF {
                self.entry_phase << flag::PHASE_SHIFT
            } else {
                0
            };
            n.class = (cls & !flag::PHASE_MASK) | entry;
            n
        };
        let mut emit_if = |prob: f64, n: Person, to: u8| {
            if prob > 0.0 {
                emit(prob, n, to);
            }
        };

        // 3: pension age.
        if t_abs + 1 >= self.pension_exit[p.birth as usize] && s != OUT {
            emit_if(1.0, moved(OUT), OUT);
            return counted;
        }
        // 4: forced assessments, in order; each fires with its own draw.
        let mut left = 1.0;
        let active = self.assess_active[ti];
        if st.assessed && active != 0 {
            let fl = (cls & flag::CLASS_MASK) as usize;
            for (ai, a) in self.assessments.iter().enumerate() {
                if a.state != s || active & (1 << ai) == 0 {
                    continue;
                }
                if a.cumulative && u16::from(rf_v) >= u16::from(RF_COUNT) {
                    continue;
                }
                let clock = if a.cumulative { u16::from(rf_v) } else { d };
                if !crate::scenario::due(clock, a.at, a.every) || h < a.min_hours || h > a.max_hours
                {
                    continue;
                }
                let row = &a.rows[g * 16 + fl];
                let mut lo = 0;
                for k in 0..row.n as usize {
                    emit_if(left * chance(lo, row.thr[k]), moved(row.to[k]), row.to[k]);
                    lo = lo.max(row.thr[k]);
                }
                left *= chance(row.total, 1 << 31);
            }
        }
        // 5: the ordinary row.
        let row_class = (cls & flag::ROW_MASK) as usize;
        let di = (d.min(st.ndur) - 1) as usize;
        let row = &self.rows[base + st.base + (g * st.ndur as usize + di) * st.nclass + row_class];
        let mut lo = 0;
        for k in 0..row.n as usize {
            // Settling is a move to `out` (as in `move_person`).
            let to = if row.to[k] == SETTLE { OUT } else { row.to[k] };
            emit_if(left * chance(lo, row.thr[k]), moved(to), to);
            lo = lo.max(row.thr[k]);
        }
        let stay = left * chance(row.total, 1 << 31);
        if stay <= 0.0 {
            return counted;
        }
        // 6: stayers' phase and hours.
        match st.special {
            Special::Rf if st.stay_hook => {
                let ph = (cls & flag::PHASE_MASK) >> flag::PHASE_SHIFT;
                let prow = &self.phase_rows[ph as usize];
                let mut lo = 0;
                for k in 0..prow.n as usize {
                    let mut n = q;
                    n.class = (cls & !flag::PHASE_MASK) | prow.to[k] << flag::PHASE_SHIFT;
                    emit_if(stay * chance(lo, prow.thr[k]), n, NONE);
                    lo = lo.max(prow.thr[k]);
                }
                emit_if(stay * chance(prow.total, 1 << 31), q, NONE);
            }
            Special::Flex if st.stay_hook => {
                let eligible = h <= self.raise_max_eligible
                    && h < self.max_hours
                    && d >= self.raise_after
                    && self.raise_thr > 0;
                if eligible {
                    let mut n = q;
                    n.hours = h.saturating_add(self.raise_step).min(self.max_hours);
                    emit_if(stay * chance(0, self.raise_thr), n, NONE);
                    emit_if(stay * chance(self.raise_thr, 1 << 31), q, NONE);
                } else {
                    emit_if(stay, q, NONE);
                }
            }
            _ => emit_if(stay, q, NONE),
        }
        counted
    }

    /// Lumping bounds for the decision duration `d` in state `s`: from
    /// `d >= first` on, `d` and `d + period` lead to the same decisions
    /// (rows, in-state assessments, flex-job raises). `period` is `None`
    /// when the in-state assessments' repeat intervals have no small
    /// common multiple (then `d` is never lumped).
    pub fn duration_lumping(&self, s: u8) -> (u16, Option<u16>) {
        let st = &self.states[s as usize];
        let mut first = st.ndur;
        if st.special == Special::Flex {
            first = first.max(self.raise_after);
        }
        let mut period: u32 = 1;
        for a in self
            .assessments
            .iter()
            .filter(|a| a.state == s && !a.cumulative)
        {
            first = first.max(a.at.saturating_add(1));
            if a.every > 0 {
                period = lcm(period, u32::from(a.every));
                if period > 4096 {
                    return (first, None);
                }
            }
        }
        (first, Some(period as u16))
    }

    /// Whether hours change in state `s` (a flex job or a variant of it)
    /// and set its cost variant.
    pub fn has_hours(&self, s: u8) -> bool {
        self.states[s as usize].special == Special::Flex
    }

    /// What hours `h` can change in the rules: bit `a` set if assessment `a`'s
    /// hour range holds `h`, and bit 63 if a flex-job raise can change `h`.
    /// Hours with the same signature lead to the same decisions everywhere
    /// (they differ only in the flex-job cost variant).
    pub fn hours_signature(&self, h: u8) -> u64 {
        let mut sig = 0u64;
        for (ai, a) in self.assessments.iter().enumerate() {
            if h >= a.min_hours && h <= a.max_hours {
                sig |= 1 << ai;
            }
        }
        if h <= self.raise_max_eligible && h < self.max_hours && self.raise_thr > 0 {
            sig |= 1 << 63;
        }
        sig
    }

    /// The attribute flags (bits 0-3 of the class byte) that some compiled
    /// row or assessment row depends on: flipping an unused flag changes no
    /// probability anywhere (the insured flag also sets a cost variant; the
    /// caller keeps it).
    pub fn flags_used(&self) -> u8 {
        let mut used = 0u8;
        for bit in [1u8, 2, 4, 8] {
            let mut differs = false;
            for period in 0..self.rows.len() / self.rows_per_period.max(1) {
                let rows = &self.rows[period * self.rows_per_period..][..self.rows_per_period];
                for st in &self.states {
                    let n = self.groups.len() * usize::from(st.ndur) * st.nclass;
                    for i in 0..n {
                        let c = i % st.nclass;
                        if c & usize::from(bit) == 0
                            && rows[st.base + i] != rows[st.base + i + usize::from(bit)]
                        {
                            differs = true;
                        }
                    }
                }
            }
            for a in &self.assessments {
                for i in 0..a.rows.len() {
                    if i & usize::from(bit) == 0 && a.rows[i] != a.rows[i + usize::from(bit)] {
                        differs = true;
                    }
                }
            }
            if differs {
                used |= bit;
            }
        }
        used
    }

    /// Whether any assessment counts the cumulative ressourceforløb clock
    /// (otherwise `rf_total` affects no outcome but the clarification mark).
    pub fn uses_cumulative_clock(&self) -> bool {
        self.assessments.iter().any(|a| a.cumulative)
    }
}

fn lcm(a: u32, b: u32) -> u32 {
    fn gcd(a: u32, b: u32) -> u32 {
        if b == 0 { a } else { gcd(b, a % b) }
    }
    a / gcd(a, b) * b
}
