//! A replication's [`Tally`] as a shard stores it ([`Unit`]): every count
//! exactly, as LEB128 variable-length integers (most counts are small or
//! zero), move cells in key order so that a part's bytes do not depend on
//! hashing. The layout:
//!
//! ```text
//! cells                                   number of move cells
//! per cell: state pension settle age band class phase gates assess period,
//!           then the N_STATES + 1 outcome counts
//! phase (N_PHASES²), entry (N_PHASES), raise (3), hours_fixed (2),
//! flags_fixed (2), marks_outside (2)      the other counts, in this order
//! ```
//!
//! A part is only ever read by the fleksim version that wrote it (the
//! parts' settings hash includes the version), so the layout carries no
//! version of its own.

use super::{Key, N_STATES, Tally};
use crate::engine::units::Unit;
use crate::error::{Error, Result};

fn put(out: &mut Vec<u8>, mut x: u64) {
    while x >= 0x80 {
        out.push((x as u8) | 0x80);
        x >>= 7;
    }
    out.push(x as u8);
}

fn corrupt() -> Error {
    Error::Invalid("a replication's verify counts are malformed".into())
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn u64(&mut self) -> Result<u64> {
        let mut x = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self.bytes.get(self.at).ok_or_else(corrupt)?;
            self.at += 1;
            let low = u64::from(b & 0x7f);
            if shift == 63 && low > 1 {
                return Err(corrupt());
            }
            x |= low << shift;
            if b & 0x80 == 0 {
                return Ok(x);
            }
        }
        Err(corrupt())
    }
    fn small<T: TryFrom<u64>>(&mut self) -> Result<T> {
        T::try_from(self.u64()?).map_err(|_| corrupt())
    }
    fn bool(&mut self) -> Result<bool> {
        match self.u64()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(corrupt()),
        }
    }
    fn counts(&mut self, into: &mut [u64]) -> Result<()> {
        for x in into {
            *x = self.u64()?;
        }
        Ok(())
    }
}

impl Tally {
    /// The counts other than the move cells, in their stored order.
    fn fixed(&self) -> impl Iterator<Item = &u64> {
        self.phase
            .iter()
            .flatten()
            .chain(&self.entry)
            .chain(&self.raise)
            .chain(&self.hours_fixed)
            .chain(&self.flags_fixed)
            .chain(&self.marks_outside)
    }
}

impl Unit for Tally {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut cells: Vec<(&Key, &[u64; N_STATES + 1])> = self.moves.iter().collect();
        cells.sort_unstable_by_key(|c| c.0);
        put(out, cells.len() as u64);
        for (k, counts) in cells {
            for x in [
                u64::from(k.state),
                u64::from(k.pension),
                u64::from(k.settle),
                u64::from(k.age),
                u64::from(k.band),
                u64::from(k.class),
                u64::from(k.phase),
                k.gates,
                k.assess,
                u64::from(k.period),
            ] {
                put(out, x);
            }
            for &x in counts {
                put(out, x);
            }
        }
        for &x in self.fixed() {
            put(out, x);
        }
    }

    fn decode(bytes: &[u8]) -> Result<Tally> {
        let mut r = Reader { bytes, at: 0 };
        let mut t = Tally::default();
        let cells: usize = r.small()?;
        // Each cell takes at least 11 + N_STATES bytes: a bound on the count.
        if cells > bytes.len() {
            return Err(corrupt());
        }
        t.moves.reserve(cells);
        for _ in 0..cells {
            let key = Key {
                state: r.small()?,
                pension: r.bool()?,
                settle: r.bool()?,
                age: r.small()?,
                band: r.small()?,
                class: r.small()?,
                phase: r.small()?,
                gates: r.u64()?,
                assess: r.u64()?,
                period: r.small()?,
            };
            let mut counts = [0u64; N_STATES + 1];
            r.counts(&mut counts)?;
            if t.moves.insert(key, counts).is_some() {
                return Err(corrupt());
            }
        }
        for row in &mut t.phase {
            r.counts(row)?;
        }
        r.counts(&mut t.entry)?;
        r.counts(&mut t.raise)?;
        r.counts(&mut t.hours_fixed)?;
        r.counts(&mut t.flags_fixed)?;
        r.counts(&mut t.marks_outside)?;
        if r.at != bytes.len() {
            return Err(corrupt());
        }
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(state: u8, gates: u64) -> Key {
        Key {
            state,
            pension: state == 2,
            settle: false,
            age: 3,
            band: 300,
            class: 5,
            phase: 1,
            gates,
            assess: 1 << 40,
            period: 2,
        }
    }

    #[test]
    fn tallies_round_trip_exactly() {
        let mut t = Tally::default();
        let mut a = [0u64; N_STATES + 1];
        a[0] = 1;
        a[N_STATES] = u64::MAX;
        t.moves.insert(key(2, u64::MAX), a);
        t.moves.insert(key(1, 0), [127; N_STATES + 1]);
        t.phase[1][2] = 128;
        t.entry[4] = 1 << 35;
        t.raise = [1, 2, 3];
        t.hours_fixed = [9, 0];
        t.flags_fixed = [0, 16_384];
        t.marks_outside = [7, 8];
        let mut b = Vec::new();
        t.encode(&mut b);
        assert_eq!(Tally::decode(&b).unwrap(), t);
        // The bytes do not depend on the map's order.
        let mut again = Vec::new();
        Tally::decode(&b).unwrap().encode(&mut again);
        assert_eq!(again, b);
        // Short, long, and a count that overflows 64 bits are refused.
        assert!(Tally::decode(&b[..b.len() - 1]).is_err());
        let mut long = b.clone();
        long.push(0);
        assert!(Tally::decode(&long).is_err());
        let mut over = Vec::new();
        put(&mut over, 0);
        over.extend([0xff; 9]);
        over.push(0x02);
        assert!(Tally::decode(&over).is_err());
    }

    #[test]
    fn an_empty_tally_is_small() {
        let mut b = Vec::new();
        Tally::default().encode(&mut b);
        assert_eq!(Tally::decode(&b).unwrap(), Tally::default());
        assert!(b.len() < 64, "{}", b.len());
    }
}
