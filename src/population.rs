//! Synthetic persons in struct-of-arrays columns.
//!
//! **Architecture invariant:** persons are only ever appended, in groups
//! (one initial-stock group per state, one inflow group per entry state and
//! quarter), and never removed or reordered; a person who leaves goes to
//! `out` and stays in the arrays. A person's stable id is therefore
//! `(group cohort, group state, index in group)`, independent of what any
//! rule did to anyone else. This module knows nothing of transitions or money.
//!
//! Memory: 10 bytes per person (see [`Population::BYTES_PER_PERSON`]).

use crate::calendar::Quarter;
use crate::kernel::N_BANDS;
use crate::rng::{self, Kind, RepKey};
use crate::scenario::{Cohort, N_PHASES, Scenario, Share, State, flag};

/// A contiguous run of persons created together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Group {
    /// 0 for the initial stock, `t + 1` for entrants of simulated quarter `t`.
    pub cohort: u16,
    pub state: u8,
    pub start: u32,
    pub len: u32,
}

/// Every person of one replication, column by column.
#[derive(Debug, Default, Clone)]
pub struct Population {
    pub state: Vec<u8>,
    /// Attribute flags, ressourceforløb phase (0 outside it) and the pre-2014
    /// mark, packed as described in [`flag`].
    pub class: Vec<u8>,
    /// Remaining work capacity = flex-job hours, hours a week.
    pub hours: Vec<u8>,
    /// Birth quarter (absolute, [`Quarter`] index).
    pub birth: Vec<u16>,
    /// Quarter (absolute) in which the person entered the current state;
    /// quarters completed in it before quarter `t` are `t - entered`.
    pub entered: Vec<u16>,
    /// Refusion clock: quarters on benefit (low byte, saturating) and
    /// quarters in a row off benefit (high byte, saturating).
    pub refusion: Vec<u16>,
    /// Quarters ever spent in ressourceforløb (saturating).
    pub rf_total: Vec<u8>,
    pub groups: Vec<Group>,
}

impl Population {
    /// Bytes of column storage per person.
    pub const BYTES_PER_PERSON: usize = 10;

    pub fn with_capacity(n: usize) -> Population {
        Population {
            state: Vec::with_capacity(n),
            class: Vec::with_capacity(n),
            hours: Vec::with_capacity(n),
            birth: Vec::with_capacity(n),
            entered: Vec::with_capacity(n),
            refusion: Vec::with_capacity(n),
            rf_total: Vec::with_capacity(n),
            groups: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.state.len()
    }

    pub fn is_empty(&self) -> bool {
        self.state.is_empty()
    }

    /// Appends `n` persons of `cohort` created in absolute quarter `now`
    /// (cohort number `cohort_no`), drawing their attributes from `rep`.
    pub fn add_group(
        &mut self,
        scenario: &Scenario,
        cohort: &Cohort,
        cohort_no: u16,
        n: u32,
        now: Quarter,
        rep: RepKey,
    ) {
        let start = self.len() as u32;
        let st = cohort.state as u8;
        let max_age = max_age_q(scenario, now);
        let ctr: [u64; 9] = std::array::from_fn(|k| rng::counter(now.0, Kind::Age as u8 + k as u8));
        let is_rf = cohort.state == State::Ressourceforloeb;
        let benefit = cohort.state.is_benefit();
        for idx in 0..n {
            let pk = rep.person(rng::person_id(cohort_no, st, idx));
            // Draws are skipped where nothing is drawn (no table, a zero
            // share); counter-based streams make that shift no other draw.
            let u = |k: u8| rng::draw_f64(pk, ctr[(k - Kind::Age as u8) as usize]);
            let age_q = pick_capped(&cohort.age_years, u(Kind::Age as u8), 4, max_age);
            let dur = if cohort.duration.is_empty() {
                0
            } else {
                pick_quarters(&cohort.duration, u(Kind::Duration as u8), 1)
            };
            let hours = if cohort.hours.is_empty() {
                0
            } else {
                pick_quarters(&cohort.hours, u(Kind::Capacity as u8), 1).min(37) as u8
            };
            let mut class = 0u8;
            for (bit, &share) in cohort.flag_shares.iter().enumerate() {
                if share > 0.0 && u(Kind::Flag0 as u8 + bit as u8) < share {
                    class |= if bit == 4 { flag::PRE2014 } else { 1 << bit };
                }
            }
            if is_rf {
                class |= (pick_index(&cohort.phase, u(Kind::PhaseInit as u8)) as u8)
                    << flag::PHASE_SHIFT;
            }
            self.state.push(st);
            self.class.push(class);
            self.hours.push(hours);
            self.birth.push(now.0.saturating_sub(age_q));
            self.entered.push(now.0.saturating_sub(dur));
            // The refusion clock saturates at its last band (see kernel::step).
            self.refusion
                .push(if benefit { dur.min(N_BANDS as u16) } else { 0 });
            self.rf_total.push(if is_rf {
                dur.min(u16::from(crate::kernel::RF_COUNT)) as u8
            } else {
                0
            });
        }
        self.groups.push(Group {
            cohort: cohort_no,
            state: st,
            start,
            len: n,
        });
    }
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

/// Picks a band by `u` and a value uniformly inside it; band bounds are in
/// units, and `per_unit` values per unit (4 quarters per year of age).
fn pick_quarters(bands: &[Share], u: f64, per_unit: u16) -> u16 {
    pick_capped(bands, u, per_unit, u16::MAX)
}

/// Like [`pick_quarters`], but values above `cap` are not drawn: the band
/// that straddles `cap` is drawn uniformly up to `cap` (ages at or above
/// the folkepension age would leave at once and pile up at one age if clamped).
fn pick_capped(bands: &[Share], u: f64, per_unit: u16, cap: u16) -> u16 {
    if bands.is_empty() {
        return 0;
    }
    let mut acc = 0.0;
    for (i, b) in bands.iter().enumerate() {
        let last = i + 1 == bands.len();
        if u < acc + b.share || last {
            let within = if b.share > 0.0 {
                ((u - acc) / b.share).clamp(0.0, 1.0 - 1e-12)
            } else {
                0.0
            };
            let lo = b.lo * per_unit;
            let end = ((b.hi + 1) * per_unit)
                .min(cap.saturating_add(1))
                .max(lo + 1);
            return (lo + (within * f64::from(end - lo)) as u16).min(cap);
        }
        acc += b.share;
    }
    unreachable!()
}

/// The distribution [`Population::add_group`] draws one person of a cohort
/// from, attribute by attribute (the attributes are drawn independently).
/// Each list is a pmf over the values the sampler can return, derived from
/// the same band tables and the same arithmetic as the sampler, so that
/// exact mode (`crate::exact`) starts from the expectation of what Monte
/// Carlo samples. The probabilities are the lengths of the `u` intervals
/// that give each value (exact up to the rounding of the cumulative shares).
#[derive(Debug, Clone, PartialEq)]
pub struct CohortPmf {
    /// Age in quarters.
    pub age_q: Vec<(u16, f64)>,
    /// Quarters already in the state.
    pub duration: Vec<(u16, f64)>,
    pub hours: Vec<(u8, f64)>,
    /// The class byte: flags, pre-2014 mark and ressourceforløb phase.
    pub class: Vec<(u8, f64)>,
}

/// The attribute distribution of `cohort` created in absolute quarter `now`.
pub fn cohort_pmf(scenario: &Scenario, cohort: &Cohort, now: Quarter) -> CohortPmf {
    let max_age = max_age_q(scenario, now);
    let age_q = pick_capped_pmf(&cohort.age_years, 4, max_age);
    let duration = if cohort.duration.is_empty() {
        vec![(0, 1.0)]
    } else {
        pick_capped_pmf(&cohort.duration, 1, u16::MAX)
    };
    let mut hours: Vec<(u8, f64)> = Vec::new();
    if cohort.hours.is_empty() {
        hours.push((0, 1.0));
    } else {
        for (v, p) in pick_capped_pmf(&cohort.hours, 1, u16::MAX) {
            let h = v.min(37) as u8;
            match hours.iter_mut().find(|x| x.0 == h) {
                Some(x) => x.1 += p,
                None => hours.push((h, p)),
            }
        }
    }
    let mut class: Vec<(u8, f64)> = vec![(0, 1.0)];
    for (bit, &share) in cohort.flag_shares.iter().enumerate() {
        if share > 0.0 {
            // `u < share` with u uniform in [0, 1).
            let on = share.min(1.0);
            let mask = if bit == 4 { flag::PRE2014 } else { 1 << bit };
            class = class
                .iter()
                .flat_map(|&(c, p)| [(c | mask, p * on), (c, p * (1.0 - on))])
                .filter(|x| x.1 > 0.0)
                .collect();
        }
    }
    if cohort.state == State::Ressourceforloeb {
        class = class
            .iter()
            .flat_map(|&(c, p)| {
                pick_index_pmf(&cohort.phase)
                    .into_iter()
                    .map(move |(i, q)| (c | (i as u8) << flag::PHASE_SHIFT, p * q))
            })
            .collect();
    }
    CohortPmf {
        age_q,
        duration,
        hours,
        class,
    }
}

/// The pmf of [`pick_capped`] for `u` uniform in [0, 1): band `i` takes
/// `u` in `[acc, acc + share)` (the last band everything from `acc` on),
/// and spreads it evenly over its values; `u` beyond the last band's share
/// (rounding) gives its top value, as the sampler's clamp does.
fn pick_capped_pmf(bands: &[Share], per_unit: u16, cap: u16) -> Vec<(u16, f64)> {
    if bands.is_empty() {
        return vec![(0, 1.0)];
    }
    let mut out: Vec<(u16, f64)> = Vec::new();
    let mut add = |v: u16, p: f64| {
        if p > 0.0 {
            match out.iter_mut().find(|x| x.0 == v) {
                Some(x) => x.1 += p,
                None => out.push((v, p)),
            }
        }
    };
    let mut acc = 0.0;
    for (i, b) in bands.iter().enumerate() {
        let last = i + 1 == bands.len();
        let hi_u = if last { 1.0 } else { (acc + b.share).min(1.0) };
        let width = (hi_u - acc).max(0.0);
        let lo = b.lo * per_unit;
        let end = ((b.hi + 1) * per_unit)
            .min(cap.saturating_add(1))
            .max(lo + 1);
        if b.share > 0.0 {
            let main = width.min(b.share);
            let n = end - lo;
            for j in 0..n {
                add((lo + j).min(cap), main / f64::from(n));
            }
            add((end - 1).min(cap), width - main);
        } else {
            add(lo.min(cap), width);
        }
        acc += b.share;
    }
    out.sort_by_key(|x| x.0);
    out
}

/// The pmf of [`pick_index`] for `u` uniform in [0, 1).
fn pick_index_pmf(shares: &[f64; N_PHASES]) -> Vec<(usize, f64)> {
    let mut out = Vec::new();
    let mut acc = 0.0f64;
    for (i, &s) in shares.iter().enumerate() {
        let lo = acc.min(1.0);
        acc += s;
        let p = acc.min(1.0) - lo;
        if p > 0.0 {
            out.push((i, p));
        }
    }
    if acc < 1.0 {
        let i = shares.iter().rposition(|&s| s > 0.0).unwrap_or(0);
        match out.iter_mut().find(|x| x.0 == i) {
            Some(x) => x.1 += 1.0 - acc,
            None => out.push((i, 1.0 - acc)),
        }
    }
    out
}

fn pick_index(shares: &[f64; N_PHASES], u: f64) -> usize {
    let mut acc = 0.0;
    for (i, &s) in shares.iter().enumerate() {
        acc += s;
        if u < acc {
            return i;
        }
    }
    shares.iter().rposition(|&s| s > 0.0).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documented memory per person is what the columns take. The
    /// destructuring is exhaustive, so a new column fails to compile here.
    #[test]
    fn bytes_per_person_matches_the_columns() {
        fn elem<T>(_: &[T]) -> usize {
            std::mem::size_of::<T>()
        }
        let Population {
            state,
            class,
            hours,
            birth,
            entered,
            refusion,
            rf_total,
            groups: _,
        } = Population::default();
        let bytes = elem(&state)
            + elem(&class)
            + elem(&hours)
            + elem(&birth)
            + elem(&entered)
            + elem(&refusion)
            + elem(&rf_total);
        assert_eq!(Population::BYTES_PER_PERSON, bytes);
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
