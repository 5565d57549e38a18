//! Band tables: picking a value (age, duration) from shares over bands,
//! by a float search or by an exact lookup table on the top bits of a draw
//! ([`BandTable`], the same value for every draw as the float pick); and
//! picking an index by shares (phases).

use crate::engine::rng;
use crate::scenario::{N_PHASES, Share};

/// A band table with its cumulative shares, `cum[k]` = the shares of bands
/// `0..k` summed in order (`cum[0] = 0`), for picking without branches.
#[derive(Debug, Clone)]
pub(super) struct Bands {
    bands: Vec<Share>,
    cum: Vec<f64>,
}

impl Bands {
    pub(super) fn new(bands: &[Share]) -> Bands {
        let mut acc = 0.0;
        let mut cum = vec![0.0];
        for b in bands {
            acc += b.share;
            cum.push(acc);
        }
        Bands {
            bands: bands.to_vec(),
            cum,
        }
    }

    /// Picks a band by `u` and a value uniformly inside it; band bounds are
    /// in units, and `per_unit` values per unit (4 quarters per year of
    /// age). Values above `cap` are not drawn: the band that straddles
    /// `cap` is drawn uniformly up to `cap` (ages at or above the
    /// folkepension age would leave at once and pile up at one age if clamped).
    ///
    /// The band is the first whose cumulative share exceeds `u` (else the
    /// last). Draws are random, so a search would mispredict; the
    /// cumulative shares rise, so counting those at or below `u` finds it
    /// without branches.
    #[inline]
    pub(super) fn pick(&self, u: f64, per_unit: u16, cap: u16) -> u16 {
        let n = self.bands.len();
        if n == 0 {
            return 0;
        }
        let i = self.band(u);
        value_in_band(&self.bands[i], u, self.cum[i], per_unit, cap)
    }

    /// The band [`Bands::pick`] takes for `u` (the table is not empty).
    #[inline]
    pub(super) fn band(&self, u: f64) -> usize {
        let n = self.bands.len();
        self.cum[1..n].iter().map(|&c| usize::from(c <= u)).sum()
    }
}

/// Bits of a draw that index a [`BandTable`].
pub(super) const TABLE_BITS: u32 = 12;
/// A [`BandTable`] entry whose draws do not all give one value.
pub(super) const MIXED: u16 = u16::MAX;

/// [`Bands::pick`] compiled for one `(per_unit, cap)`: entry `k` holds the
/// value every 53-bit draw with top bits `k` gives, or [`MIXED`] where
/// those draws give more than one value (about one entry per distinct
/// value) or that value is `MIXED` itself, which falls back to the float pick. Exact: the band rises with
/// the draw, and within a band so does the value, so equal values at the
/// two ends of an entry's draws mean that value for all of them.
#[derive(Debug, Clone)]
pub(super) struct BandTable {
    pub(super) bands: Bands,
    pub(super) per_unit: u16,
    pub(super) cap: u16,
    pub(super) table: Vec<u16>,
}

impl BandTable {
    /// Whether this is the table of `bands` at `(per_unit, cap)`.
    pub(super) fn is_for(&self, bands: &[Share], per_unit: u16, cap: u16) -> bool {
        self.bands.bands == bands && self.per_unit == per_unit && self.cap == cap
    }

    pub(super) fn new(bands: &[Share], per_unit: u16, cap: u16) -> BandTable {
        let bands = Bands::new(bands);
        let shift = 53 - TABLE_BITS;
        let table = (0..1u64 << TABLE_BITS)
            .map(|k| {
                if bands.bands.is_empty() {
                    return 0;
                }
                let (lo, hi) = (
                    rng::to_unit(k << shift),
                    rng::to_unit(((k + 1) << shift) - 1),
                );
                let v = bands.pick(lo, per_unit, cap);
                let same = bands.band(lo) == bands.band(hi) && v == bands.pick(hi, per_unit, cap);
                if same { v } else { MIXED }
            })
            .collect();
        BandTable {
            bands,
            per_unit,
            cap,
            table,
        }
    }

    /// `Bands::pick(to_unit(k53))` for a 53-bit draw `k53` ([`rng::draw53`]).
    #[inline(always)]
    pub(super) fn pick(&self, k53: u64) -> u16 {
        match self.table[(k53 >> (53 - TABLE_BITS)) as usize] {
            MIXED => self.bands.pick(rng::to_unit(k53), self.per_unit, self.cap),
            v => v,
        }
    }
}

/// The values band `b` gives, `lo..end` (at least one; none above `cap`
/// but `cap` itself), shared by the sampler and its pmf.
pub(super) fn band_range(b: &Share, per_unit: u16, cap: u16) -> (u16, u16) {
    let lo = b.lo * per_unit;
    let end = ((b.hi + 1) * per_unit)
        .min(cap.saturating_add(1))
        .max(lo + 1);
    (lo, end)
}

/// The value `u` picks uniformly inside band `b`, whose cumulative share
/// below it is `acc`.
#[inline]
pub(super) fn value_in_band(b: &Share, u: f64, acc: f64, per_unit: u16, cap: u16) -> u16 {
    let within = if b.share > 0.0 {
        ((u - acc) / b.share).clamp(0.0, 1.0 - 1e-12)
    } else {
        0.0
    };
    let (lo, end) = band_range(b, per_unit, cap);
    (lo + (within * f64::from(end - lo)) as u16).min(cap)
}

/// [`Bands::pick`] with no cap.
#[cfg(test)]
pub(super) fn pick_quarters(bands: &[Share], u: f64, per_unit: u16) -> u16 {
    pick_capped(bands, u, per_unit, u16::MAX)
}

/// [`Bands::pick`] for a table used once.
#[cfg(test)]
pub(super) fn pick_capped(bands: &[Share], u: f64, per_unit: u16, cap: u16) -> u16 {
    Bands::new(bands).pick(u, per_unit, cap)
}

pub(super) fn pick_index(shares: &[f64; N_PHASES], u: f64) -> usize {
    let mut acc = 0.0;
    for (i, &s) in shares.iter().enumerate() {
        acc += s;
        if u < acc {
            return i;
        }
    }
    shares.iter().rposition(|&s| s > 0.0).unwrap_or(0)
}
