//! Units of work, and shards of them: how a command's replications are
//! split over processes and put back together exactly.
//!
//! A *unit* is a piece of work whose result depends only on the inputs and
//! its index: a replication (`run`, `compare`, `check`: replication `r`
//! draws from `RepKey::new(seed, r)`) or a sweep point. A *shard* `K/N` is
//! the contiguous block of units `[K·U/N, (K+1)·U/N)` of the `U` units
//! (integer division), fixed by `K`, `N` and `U` alone, never by timing.
//!
//! [`drive`] runs a command's replications in one of three ways
//! ([`Units`]): all of them, folded in replication order (the ordinary run);
//! only a block, each unit's raw values handed to a sink in order and
//! nothing folded (a shard, or an MPI rank); or none, the raw values read
//! back in replication order and folded exactly as the ordinary run folds
//! them (a merge). Because the fold sees the same `f64` values in the same
//! order, a merged result is bit-identical to the whole run.
//!
//! A replication's values are a [`RepUnit`] for the commands that summarise
//! outputs (`run`, `compare`, `check`), or any other [`Unit`] a command
//! folds (`verify`: its integer counts).
//!
//! **Architecture invariant:** a replication's unit is a function of the
//! inputs and the unit index only; its byte encoding round-trips exactly
//! (floats as their IEEE bits).

use std::ops::Range;

use rayon::prelude::*;

use crate::error::{Error, Result};

/// Shard `index` of `count` (`--shard K/N`, `K` counted from 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// The whole: shard 0 of 1.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// The units of this shard among `units`: the contiguous block
    /// `[K·U/N, (K+1)·U/N)`. Blocks of all shards tile `0..units`; a shard
    /// may be empty when there are more shards than units.
    pub fn block(self, units: u64) -> Range<u64> {
        let at = |k: u64| (u128::from(k) * u128::from(units) / u128::from(self.count)) as u64;
        at(u64::from(self.index))..at(u64::from(self.index) + 1)
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl std::str::FromStr for Shard {
    type Err = String;

    /// `K/N` with `0 <= K < N`.
    fn from_str(s: &str) -> std::result::Result<Shard, String> {
        let (k, n) = s
            .split_once('/')
            .ok_or_else(|| format!("`{s}` is not of the form K/N, e.g. 0/4"))?;
        let parse = |x: &str, what: &str| {
            x.trim()
                .parse::<u32>()
                .map_err(|_| format!("`{x}` in `{s}` is not a whole number ({what})"))
        };
        let (index, count) = (parse(k, "the shard K")?, parse(n, "the shard count N")?);
        if count == 0 {
            return Err(format!("`{s}`: the shard count N must be at least 1"));
        }
        if index >= count {
            return Err(format!(
                "`{s}`: shards are numbered 0 to {} (K/N with K below N)",
                count - 1
            ));
        }
        Ok(Shard { index, count })
    }
}

/// What the fold of one replication needs: its output values (one vector
/// per scenario run in it: one for `run`, the baseline and each proposal
/// for `compare`), its person-quarters and its population checksum.
#[derive(Debug, Clone, PartialEq)]
pub struct RepUnit {
    pub values: Vec<Vec<f64>>,
    pub person_quarters: u64,
    pub checksum: u64,
}

/// The values of one replication as a shard stores them: encoded exactly,
/// so that decoding gives back what the whole run would have folded.
pub trait Unit: Sized + Send {
    /// Appends the exact encoding of the unit to `out`.
    fn encode(&self, out: &mut Vec<u8>);
    /// Reads what [`Unit::encode`] wrote (all of `bytes`).
    fn decode(bytes: &[u8]) -> Result<Self>;
}

impl Unit for RepUnit {
    fn encode(&self, out: &mut Vec<u8>) {
        RepUnit::encode(self, out);
    }
    fn decode(bytes: &[u8]) -> Result<RepUnit> {
        RepUnit::decode(bytes)
    }
}

impl RepUnit {
    /// Appends the exact encoding: person-quarters, checksum, the number
    /// of vectors, then each vector's length and values (little-endian
    /// IEEE bits).
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.person_quarters.to_le_bytes());
        out.extend_from_slice(&self.checksum.to_le_bytes());
        out.extend_from_slice(&(self.values.len() as u32).to_le_bytes());
        for v in &self.values {
            out.extend_from_slice(&(v.len() as u32).to_le_bytes());
            out.reserve(v.len() * 8);
            for x in v {
                out.extend_from_slice(&x.to_bits().to_le_bytes());
            }
        }
    }

    /// Reads what [`RepUnit::encode`] wrote (all of `bytes`).
    pub fn decode(bytes: &[u8]) -> Result<RepUnit> {
        let mut r = Reader { bytes, at: 0 };
        let person_quarters = r.u64()?;
        let checksum = r.u64()?;
        let n = r.u32()? as usize;
        let mut values = Vec::with_capacity(n.min(1024));
        for _ in 0..n {
            let len = r.u32()? as usize;
            let raw = r.take(len.checked_mul(8).ok_or_else(corrupt)?)?;
            values.push(
                raw.chunks_exact(8)
                    .map(|c| f64::from_bits(u64::from_le_bytes(c.try_into().expect("8 bytes"))))
                    .collect(),
            );
        }
        if r.at != bytes.len() {
            return Err(corrupt());
        }
        Ok(RepUnit {
            values,
            person_quarters,
            checksum,
        })
    }
}

fn corrupt() -> Error {
    Error::Invalid("a replication's record is malformed".into())
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8]> {
        let end = self.at.checked_add(n).ok_or_else(corrupt)?;
        let s = self.bytes.get(self.at..end).ok_or_else(corrupt)?;
        self.at = end;
        Ok(s)
    }
    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
}

/// Receives a shard's units, in unit order.
pub trait UnitSink<U = RepUnit>: Send {
    fn put(&mut self, rep: u32, unit: &U) -> Result<()>;
}

impl<U, F: FnMut(u32, &U) -> Result<()> + Send> UnitSink<U> for F {
    fn put(&mut self, rep: u32, unit: &U) -> Result<()> {
        self(rep, unit)
    }
}

/// Gives a merge's units, asked in unit order.
pub trait UnitSource<U = RepUnit>: Send {
    fn get(&mut self, rep: u32) -> Result<U>;
}

impl<U, F: FnMut(u32) -> Result<U> + Send> UnitSource<U> for F {
    fn get(&mut self, rep: u32) -> Result<U> {
        self(rep)
    }
}

/// Which replications a command computes and what becomes of them (each
/// replication's values a `U`).
pub enum Units<'a, U = RepUnit> {
    /// Every replication, folded in order: the ordinary run.
    All,
    /// Only the replications in `range`, each handed to `sink` in
    /// replication order; nothing is folded (the statistics returned are
    /// empty and must not be reported).
    Record {
        range: Range<u32>,
        sink: &'a mut dyn UnitSink<U>,
    },
    /// No replication is computed: `source` gives each one's values, asked
    /// in replication order, and they are folded as in [`Units::All`].
    Replay { source: &'a mut dyn UnitSource<U> },
}

impl<U> Units<'_, U> {
    /// How many of `n` replications this process simulates.
    pub fn computed(&self, n: u32) -> u32 {
        match self {
            Units::All => n,
            Units::Record { range, .. } => range.len() as u32,
            Units::Replay { .. } => 0,
        }
    }

    /// Whether the statistics this run returns are real (not a partial).
    pub fn folds(&self) -> bool {
        !matches!(self, Units::Record { .. })
    }
}

/// Runs replications `0..n` as `units` says: `compute` (in parallel on the
/// current rayon pool, in batches of twice the threads, so memory is
/// bounded by a batch) gives a replication's unit, and `fold` receives
/// units in replication order. `on_done` is called per computed replication.
pub fn drive<U: Send>(
    n: u32,
    units: &mut Units<U>,
    compute: &(dyn Fn(u32) -> Result<U> + Sync),
    on_done: &(dyn Fn() + Sync),
    fold: &mut dyn FnMut(u32, U) -> Result<()>,
) -> Result<()> {
    let batches = |range: Range<u32>, take: &mut dyn FnMut(u32, U) -> Result<()>| {
        let batch = (rayon::current_num_threads() * 2).max(2) as u32;
        let mut next = range.start;
        while next < range.end {
            let end = next.saturating_add(batch).min(range.end);
            let results: Vec<Result<U>> = (next..end)
                .into_par_iter()
                .map(|r| {
                    let u = compute(r);
                    on_done();
                    u
                })
                .collect();
            for (r, u) in (next..end).zip(results) {
                take(r, u?)?;
            }
            next = end;
        }
        Ok(())
    };
    match units {
        Units::All => batches(0..n, fold),
        Units::Record { range, sink } => {
            if range.end > n {
                return Err(Error::Internal(format!(
                    "replications {range:?} asked of {n}"
                )));
            }
            batches(range.clone(), &mut |r, u| sink.put(r, &u))
        }
        Units::Replay { source } => {
            for r in 0..n {
                fold(r, source.get(r)?)?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_tile_the_units() {
        for units in [0u64, 1, 2, 3, 7, 10, 1000] {
            for count in 1..12u32 {
                let mut next = 0;
                for index in 0..count {
                    let b = Shard { index, count }.block(units);
                    assert_eq!(b.start, next, "{units} units, {index}/{count}");
                    assert!(b.end >= b.start);
                    assert!(b.end - b.start <= units.div_ceil(u64::from(count)));
                    next = b.end;
                }
                assert_eq!(next, units);
            }
        }
    }

    #[test]
    fn parses_shards() {
        assert_eq!("2/3".parse::<Shard>(), Ok(Shard { index: 2, count: 3 }));
        assert!("3/3".parse::<Shard>().unwrap_err().contains("0 to 2"));
        assert!("1/0".parse::<Shard>().is_err());
        assert!("1".parse::<Shard>().is_err());
        assert!("a/2".parse::<Shard>().is_err());
    }

    #[test]
    fn units_round_trip_exactly() {
        let u = RepUnit {
            values: vec![
                vec![0.1, -0.0, f64::NAN, f64::INFINITY, 1e-310, 3.0],
                vec![],
            ],
            person_quarters: 12_345,
            checksum: u64::MAX - 7,
        };
        let mut b = Vec::new();
        u.encode(&mut b);
        let back = RepUnit::decode(&b).unwrap();
        assert_eq!(back.person_quarters, u.person_quarters);
        assert_eq!(back.checksum, u.checksum);
        let bits = |v: &Vec<Vec<f64>>| -> Vec<Vec<u64>> {
            v.iter()
                .map(|x| x.iter().map(|f| f.to_bits()).collect())
                .collect()
        };
        assert_eq!(bits(&back.values), bits(&u.values));
        assert!(RepUnit::decode(&b[..b.len() - 1]).is_err());
        b.push(0);
        assert!(RepUnit::decode(&b).is_err());
    }

    #[test]
    fn record_then_replay_folds_the_same() {
        let compute = |r: u32| {
            Ok(RepUnit {
                values: vec![vec![f64::from(r).sqrt(), 1.0 / f64::from(r + 1)]],
                person_quarters: u64::from(r),
                checksum: u64::from(r) * 31,
            })
        };
        let mut whole = Vec::new();
        drive(10, &mut Units::All, &compute, &|| {}, &mut |r, u| {
            whole.push((r, u));
            Ok(())
        })
        .unwrap();
        let mut stored = Vec::new();
        for k in 0..3 {
            let b = Shard { index: k, count: 3 }.block(10);
            let mut sink = |r: u32, u: &RepUnit| {
                let mut bytes = Vec::new();
                u.encode(&mut bytes);
                stored.push((r, bytes));
                Ok(())
            };
            let mut units = Units::Record {
                range: b.start as u32..b.end as u32,
                sink: &mut sink,
            };
            drive(10, &mut units, &compute, &|| {}, &mut |_, _| {
                panic!("a shard folds nothing")
            })
            .unwrap();
        }
        let mut it = stored.into_iter();
        let mut source = |r: u32| {
            let (at, bytes) = it.next().unwrap();
            assert_eq!(at, r);
            RepUnit::decode(&bytes)
        };
        let mut merged = Vec::new();
        drive(
            10,
            &mut Units::Replay {
                source: &mut source,
            },
            &|_| panic!("a merge computes nothing"),
            &|| {},
            &mut |r, u| {
                merged.push((r, u));
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(merged, whole);
    }
}
