//! Counter-based random numbers: a draw is a pure function of
//! `(seed, replication, person, quarter, decision kind)`.
//!
//! **Architecture invariant:** this is the only place random numbers are
//! made. Nothing in fleksim seeds from entropy or from a thread.
//!
//! Why counter-based: with a sequential stream, a reform that moves one
//! person differently shifts every later draw of every other person, and the
//! difference between two scenarios drowns in noise. Here the same person
//! gets the same number for the same decision in the same quarter in every
//! scenario (common random numbers), and the result cannot depend on which
//! thread ran which person.
//!
//! The mixing function is the SplitMix64 finalizer (Stafford's "Mix13"),
//! a bijection on `u64` with full avalanche. A draw is
//! `mix(rep_key ^ id·φ' ^ ctr)`: `rep_key = mix(mix(seed) ^ rep·φ)` is
//! random per replication, `id·φ'` is a Weyl sequence over person ids (as
//! in SplitMix64 itself), and `ctr = mix((quarter, kind))` is random per
//! quarter and decision kind. Distinct (person, quarter, kind) give distinct
//! mixer inputs except with chance about 2^-64 per pair, so draws behave as
//! independent uniforms (tested in `tests::uniform_and_uncorrelated`). One
//! mix per draw keeps the loop cheap; `benches/engine.rs` measures the cost
//! against a sequential `Xoshiro256PlusPlus` stream.

/// The SplitMix64 output function (Stafford Mix13).
#[inline(always)]
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

const PHI: u64 = 0x9e37_79b9_7f4a_7c15;
const PHI2: u64 = 0xd1b5_4a32_d192_ed03;

/// What a draw decides. Each kind is its own stream, so adding a decision
/// in one process does not shift the numbers of another (openM++ style).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    Transition = 0,
    Phase = 1,
    Hours = 2,
    // Attributes drawn when a person is created.
    Age = 8,
    Duration = 9,
    Capacity = 10,
    Flag0 = 11,
    // Flag1..Flag4 follow at 12..15.
    PhaseInit = 16,
    /// Forced assessments: each has a stream of its own, keyed on its id
    /// ([`rule_stream`]); the kernel keeps assessment `i`'s counter word of the
    /// quarter in slot `Assessment + i`.
    Assessment = 24,
}

/// Most assessments a scenario may have (their kinds run to 63).
pub const MAX_ASSESSMENTS: usize = crate::scenario::MAX_ASSESSMENTS;
const _: () = assert!(Kind::Assessment as usize + MAX_ASSESSMENTS <= N_KINDS);

/// Number of distinct kind slots per quarter.
pub const N_KINDS: usize = 64;

/// A stable person id: `(cohort quarter, entry state, index in cohort)`.
/// Cohort 0 is the initial stock; cohort `t + 1` entered in quarter `t`.
#[inline(always)]
pub fn person_id(cohort: u16, state: u8, index: u32) -> u64 {
    (u64::from(cohort) << 40) | (u64::from(state) << 32) | u64::from(index)
}

/// The key of one replication.
#[derive(Debug, Clone, Copy)]
pub struct RepKey(u64);

impl RepKey {
    pub fn new(seed: u64, replication: u64) -> RepKey {
        RepKey(mix(mix(seed) ^ replication.wrapping_mul(PHI)))
    }

    /// The key of one person in this replication.
    #[inline(always)]
    pub fn person(self, id: u64) -> u64 {
        self.0 ^ id.wrapping_mul(PHI2)
    }

    /// Keys of persons `id0, id0 + 1, ...` by one addition each:
    /// `person(id0 + j) == raw ^ (start + j·φ')` with `(raw, start)` returned here.
    #[inline(always)]
    pub fn weyl(self, id0: u64) -> (u64, u64) {
        (self.0, id0.wrapping_mul(PHI2))
    }
}

/// The Weyl increment matching [`RepKey::weyl`].
pub const WEYL_STEP: u64 = PHI2;

/// The counter word for `(quarter, kind)`; precompute per quarter.
#[inline(always)]
pub fn counter(quarter: u16, kind: u8) -> u64 {
    mix((u64::from(quarter) << 8 | u64::from(kind)).wrapping_add(0x632b_e59b_d9b4_e019))
}

/// Counter words for every kind of one quarter.
pub fn counters(quarter: u16) -> [u64; N_KINDS] {
    std::array::from_fn(|k| counter(quarter, k as u8))
}

/// The stream of one rule: a stable hash of its decision kind and its id,
/// so that a rule's draws never depend on its position among the rules (a
/// proposal that adds a rule, whatever its id sorts as, leaves every other
/// rule's numbers as they were).
pub fn rule_stream(kind: Kind, id: &str) -> u64 {
    mix(crate::scenario::fnv1a(id.as_bytes()) ^ (kind as u64).wrapping_mul(PHI))
}

/// The counter word of a rule's stream in `quarter` (use it as
/// [`counter`]'s: `draw31(person_key, rule_counter(q, stream))`).
#[inline]
pub fn rule_counter(quarter: u16, stream: u64) -> u64 {
    mix(counter(quarter, Kind::Assessment as u8) ^ stream)
}

/// A 31-bit uniform integer: compare with thresholds scaled by 2^31.
#[inline(always)]
pub fn draw31(person_key: u64, ctr: u64) -> u32 {
    (mix(person_key ^ ctr) >> 33) as u32
}

/// A uniform in [0, 1) with 53 bits.
#[inline(always)]
pub fn draw_f64(person_key: u64, ctr: u64) -> f64 {
    to_unit(draw53(person_key, ctr))
}

/// The 53-bit integer behind [`draw_f64`]: `draw_f64 == draw53 / 2^53`
/// exactly, so `draw_f64 < p` is `draw53 < ceil(p·2^53)`.
#[inline(always)]
pub fn draw53(person_key: u64, ctr: u64) -> u64 {
    mix(person_key ^ ctr) >> 11
}

/// `2^53` as a float.
pub const UNIT53: f64 = (1u64 << 53) as f64;

/// A [`draw53`] integer as a uniform in [0, 1) (exact).
#[inline(always)]
pub fn to_unit(k: u64) -> f64 {
    k as f64 * (1.0 / UNIT53)
}

/// Scale of integer probability thresholds: `p` becomes `round(p * 2^31)`.
pub const SCALE: f64 = (1u64 << 31) as f64;

/// A probability as a 31-bit threshold (`draw31 < threshold` has chance `p`).
pub fn threshold(p: f64) -> u32 {
    (p.clamp(0.0, 1.0) * SCALE).round() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_inputs_same_draw_different_inputs_differ() {
        let k = RepKey::new(42, 3);
        let p = k.person(person_id(0, 1, 7));
        let c = counter(5, Kind::Transition as u8);
        assert_eq!(
            draw31(p, c),
            draw31(RepKey::new(42, 3).person(person_id(0, 1, 7)), c)
        );
        assert_ne!(draw31(p, c), draw31(p, counter(6, Kind::Transition as u8)));
        assert_ne!(draw31(p, c), draw31(p, counter(5, Kind::Phase as u8)));
        assert_ne!(p, RepKey::new(42, 4).person(person_id(0, 1, 7)));
        assert_ne!(p, RepKey::new(43, 3).person(person_id(0, 1, 7)));
    }

    /// Chi-square test of uniformity over 64 buckets, and the correlation of
    /// draws of neighbouring persons and neighbouring quarters. Fixed seed;
    /// the thresholds are the 99.99 % quantiles, so a correct generator
    /// fails with chance 1e-4 per statistic, and this seed passes.
    #[test]
    fn uniform_and_uncorrelated() {
        let k = RepKey::new(2019, 0);
        let n = 200_000usize;
        let mut buckets = [0u64; 64];
        let (mut sxy_p, mut sxy_q, mut sxy_k, mut sx, mut sxx) = (0.0, 0.0, 0.0, 0.0, 0.0);
        let ck = counter(10, Kind::Phase as u8);
        let c0 = counter(10, Kind::Transition as u8);
        let c1 = counter(11, Kind::Transition as u8);
        let mut prev = 0.5;
        for i in 0..n {
            let pk = k.person(person_id(1, 0, i as u32));
            let u = draw_f64(pk, c0);
            let v = draw_f64(pk, c1);
            buckets[(u * 64.0) as usize] += 1;
            sx += u;
            sxx += u * u;
            sxy_q += (u - 0.5) * (v - 0.5);
            sxy_p += (u - 0.5) * (prev - 0.5);
            sxy_k += (u - 0.5) * (draw_f64(pk, ck) - 0.5);
            prev = u;
        }
        let e = n as f64 / 64.0;
        let chi2: f64 = buckets.iter().map(|&b| (b as f64 - e).powi(2) / e).sum();
        // chi-square(63) 99.99 % quantile is about 113.
        assert!(chi2 < 113.0, "chi2 = {chi2}");
        let nf = n as f64;
        let mean = sx / nf;
        let var = sxx / nf - mean * mean;
        assert!(
            (mean - 0.5).abs() < 4.0 * (1.0f64 / 12.0 / nf).sqrt(),
            "mean {mean}"
        );
        assert!((var - 1.0 / 12.0).abs() < 0.002, "var {var}");
        // Correlation SE is 1/sqrt(n); allow 4 SE.
        let se = 1.0 / nf.sqrt();
        for (name, s) in [("quarters", sxy_q), ("persons", sxy_p), ("kinds", sxy_k)] {
            let r = s / nf / (1.0 / 12.0);
            assert!(r.abs() < 4.0 * se, "{name} correlation {r}");
        }
    }

    #[test]
    fn thresholds_are_exact_at_the_ends() {
        assert_eq!(threshold(0.0), 0);
        assert_eq!(threshold(1.0), 1 << 31);
        // draw31 never reaches 2^31, so p = 1 always fires.
        assert!(draw31(u64::MAX, 0) < 1 << 31);
    }
}
