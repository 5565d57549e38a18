//! The distribution a cohort's persons are drawn from, as exact pmfs
//! derived from the same band tables and arithmetic as the samplers.

use super::bands::band_range;
use super::max_age_q;
use crate::scenario::calendar::Quarter;
use crate::scenario::{Cohort, N_PHASES, Scenario, Share, State, flag};

/// The distribution [`Population::add_group`](super::Population::add_group)
/// draws one person of a cohort from, attribute by attribute (the attributes are drawn independently).
/// Each list is a pmf over the values the sampler can return, derived from
/// the same band tables and the same arithmetic as the sampler, so that
/// expected values (the exact cohort mode) start from the expectation of what Monte
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

/// The pmf of [`Bands::pick`](super::bands::Bands::pick) for `u` uniform in [0, 1): band `i` takes
/// `u` in `[acc, acc + share)` (the last band everything from `acc` on),
/// and spreads it evenly over its values; `u` beyond the last band's share
/// (rounding) gives its top value, as the sampler's clamp does.
pub(super) fn pick_capped_pmf(bands: &[Share], per_unit: u16, cap: u16) -> Vec<(u16, f64)> {
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
        let (lo, end) = band_range(b, per_unit, cap);
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

/// The pmf of [`pick_index`](super::bands::pick_index) for `u` uniform in [0, 1).
pub(super) fn pick_index_pmf(shares: &[f64; N_PHASES]) -> Vec<(usize, f64)> {
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
