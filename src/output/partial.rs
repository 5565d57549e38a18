//! Partial results: the file a shard (`--shard K/N`) writes instead of a
//! command's outputs, and that `fleksim merge` reads.
//!
//! A partial holds the raw per-unit values of the shard's block of units,
//! exactly (floats as IEEE bits), and a header that says what they belong
//! to. The layout, all integers little-endian:
//!
//! ```text
//! "FLKPART1"                                   magic
//! records: u64 unit, u64 length, payload       one per unit, in unit order
//! u64::MAX, u64 length, header (JSON)          the header, after the records
//! u64 offset of that marker, u64 hash, "FLKPEND1"  trailer
//! ```
//!
//! The header comes last so that it can carry what is known only at the
//! end (the settings fingerprint a sweep computes, the record count, the
//! person-quarters); the hash covers every record, so a truncated or
//! altered copy is refused. The file is written to a temporary name beside
//! its target and renamed into place when complete, so a partial is either
//! whole or absent and a re-run shard replaces its part cleanly.

use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::engine::rng::mix;
use crate::error::{Error, Result};

const MAGIC: &[u8; 8] = b"FLKPART1";
const END_MAGIC: &[u8; 8] = b"FLKPEND1";
const TRAILER: u64 = 24;
/// The extension of partial files (`part-K-of-N.fleksim-part`).
pub const EXTENSION: &str = "fleksim-part";

/// What a partial belongs to. Two parts merge only if everything but the
/// shard, its block, and the informational fields (`arguments`,
/// `directory`, `host`, times, threads) agree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartHeader {
    /// Always `fleksim-partial`.
    pub format: String,
    pub format_version: u32,
    pub fleksim_version: String,
    /// The command that computed the part (`run`, `compare`, `sweep`, ...).
    pub command: String,
    /// Its arguments (after the program name), as given to the shard.
    pub arguments: Vec<String>,
    /// The working directory the shard ran in (relative paths in the
    /// arguments are relative to it).
    pub directory: String,
    /// A hash of everything that determines the units' values: the inputs
    /// (scenario hashes), seed, replications, scale, horizon, options, and
    /// for sweeps the whole plan.
    pub settings: String,
    /// The inputs, as (name, hash), for messages.
    pub inputs: Vec<(String, String)>,
    /// `replication` or `point`.
    pub unit: String,
    /// Units of the whole command.
    pub units: u64,
    /// `K/N`.
    pub shard: String,
    /// The block of units this part holds: `first..end`.
    pub first: u64,
    pub end: u64,
    pub records: u64,
    pub person_quarters: u64,
    pub threads: usize,
    pub host: String,
    pub start_time: String,
    pub end_time: String,
    pub elapsed_seconds: f64,
}

pub const FORMAT: &str = "fleksim-partial";
pub const FORMAT_VERSION: u32 = 1;

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> Error + use<> {
    let path = path.to_path_buf();
    move |source| Error::Io {
        action,
        path,
        source,
    }
}

/// The hash of a record, chained over the file's records.
fn chain(h: u64, unit: u64, payload: &[u8]) -> u64 {
    let mut x = mix(h ^ unit) ^ payload.len() as u64;
    let mut chunks = payload.chunks_exact(8);
    for c in &mut chunks {
        x = mix(x ^ u64::from_le_bytes(c.try_into().expect("8 bytes")));
    }
    let mut last = [0u8; 8];
    last[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    mix(x ^ u64::from_le_bytes(last) ^ 0x5052_5441_4c00_0000)
}

/// The name of the host, for the header and temporary names.
pub fn host() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

/// A partial being written. Records must come in unit order;
/// [`PartWriter::finish`] adds the header and renames the file into place.
/// Dropped unfinished, it removes its temporary file.
pub struct PartWriter {
    target: PathBuf,
    tmp: PathBuf,
    file: Option<BufWriter<File>>,
    at: u64,
    hash: u64,
    records: u64,
    last: Option<u64>,
}

impl PartWriter {
    /// Starts `dir/name` (written at `dir/.name.<host>-<pid>.tmp` until finished).
    pub fn create(dir: &Path, name: &str) -> Result<PartWriter> {
        fs::create_dir_all(dir).map_err(io_err("cannot create the folder for partials", dir))?;
        let target = dir.join(name);
        let tmp = dir.join(format!(".{name}.{}-{}.tmp", host(), std::process::id()));
        let file = File::create(&tmp).map_err(io_err("cannot create", &tmp))?;
        let mut w = PartWriter {
            target,
            tmp,
            file: Some(BufWriter::with_capacity(1 << 20, file)),
            at: 0,
            hash: 0x464c_4b50_4152_5431,
            records: 0,
            last: None,
        };
        w.put(MAGIC)?;
        Ok(w)
    }

    fn put(&mut self, bytes: &[u8]) -> Result<()> {
        let f = self.file.as_mut().expect("open until finished");
        f.write_all(bytes)
            .map_err(io_err("cannot write", &self.tmp))?;
        self.at += bytes.len() as u64;
        Ok(())
    }

    /// Appends unit `unit`'s payload (units strictly increasing).
    pub fn record(&mut self, unit: u64, payload: &[u8]) -> Result<()> {
        if self.last.is_some_and(|l| l >= unit) || unit == u64::MAX {
            return Err(Error::Internal(format!(
                "unit {unit} written after unit {:?}",
                self.last
            )));
        }
        self.last = Some(unit);
        self.put(&unit.to_le_bytes())?;
        self.put(&(payload.len() as u64).to_le_bytes())?;
        self.put(payload)?;
        self.hash = chain(self.hash, unit, payload);
        self.records += 1;
        Ok(())
    }

    /// The number of records written so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Writes the header and the trailer, syncs, and renames the file into
    /// place (replacing an earlier part of the same name); removes other
    /// temporary files of the same part left by dead runs.
    pub fn finish(mut self, header: &PartHeader) -> Result<PathBuf> {
        let json = serde_json::to_vec_pretty(header)
            .map_err(|e| Error::Internal(format!("partial header: {e}")))?;
        let marker = self.at;
        self.put(&u64::MAX.to_le_bytes())?;
        self.put(&(json.len() as u64).to_le_bytes())?;
        self.put(&json)?;
        let hash = self.hash;
        self.put(&marker.to_le_bytes())?;
        self.put(&hash.to_le_bytes())?;
        self.put(END_MAGIC)?;
        let f = self.file.take().expect("open until finished");
        let f = f.into_inner().map_err(|e| Error::Io {
            action: "cannot write",
            path: self.tmp.clone(),
            source: e.into_error(),
        })?;
        f.sync_all().map_err(io_err("cannot sync", &self.tmp))?;
        drop(f);
        fs::rename(&self.tmp, &self.target)
            .map_err(io_err("cannot rename into place", &self.target))?;
        if let (Some(dir), Some(name)) = (self.target.parent(), self.target.file_name()) {
            let prefix = format!(".{}.", name.to_string_lossy());
            if let Ok(entries) = fs::read_dir(dir) {
                for e in entries.flatten() {
                    let n = e.file_name().to_string_lossy().into_owned();
                    if n.starts_with(&prefix) && n.ends_with(".tmp") {
                        let _ = fs::remove_file(e.path());
                    }
                }
            }
        }
        Ok(self.target.clone())
    }
}

impl Drop for PartWriter {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// A partial being read: its header at once, then its records in order.
pub struct PartReader {
    pub path: PathBuf,
    pub header: PartHeader,
    file: BufReader<File>,
    end: u64,
    at: u64,
    hash: u64,
    expected: u64,
    records: u64,
}

impl PartReader {
    /// Opens `path` and reads its header (checking magic and trailer).
    pub fn open(path: &Path) -> Result<PartReader> {
        let bad = |why: &str| {
            Error::Invalid(format!(
                "{} is not a complete fleksim partial ({why})",
                path.display()
            ))
        };
        let mut f = File::open(path).map_err(io_err("cannot open", path))?;
        let len = f.metadata().map_err(io_err("cannot read", path))?.len();
        if len < 8 + 16 + TRAILER {
            return Err(bad("too short"));
        }
        let mut magic = [0u8; 8];
        f.read_exact(&mut magic)
            .map_err(io_err("cannot read", path))?;
        if &magic != MAGIC {
            return Err(bad("it does not start with the partial's mark"));
        }
        let mut trailer = [0u8; TRAILER as usize];
        f.seek(SeekFrom::Start(len - TRAILER))
            .and_then(|_| f.read_exact(&mut trailer))
            .map_err(io_err("cannot read", path))?;
        if &trailer[16..] != END_MAGIC {
            return Err(bad("its end mark is missing: truncated?"));
        }
        let word = |b: &[u8]| u64::from_le_bytes(b.try_into().expect("8 bytes"));
        let marker = word(&trailer[..8]);
        let expected = word(&trailer[8..16]);
        if marker < 8 || marker + 16 > len - TRAILER {
            return Err(bad("its header offset is out of range"));
        }
        let mut head = [0u8; 16];
        f.seek(SeekFrom::Start(marker))
            .and_then(|_| f.read_exact(&mut head))
            .map_err(io_err("cannot read", path))?;
        let json_len = word(&head[8..]);
        if word(&head[..8]) != u64::MAX || marker + 16 + json_len != len - TRAILER {
            return Err(bad("its header is misplaced"));
        }
        let mut json = vec![0u8; json_len as usize];
        f.read_exact(&mut json)
            .map_err(io_err("cannot read", path))?;
        let header: PartHeader = serde_json::from_slice(&json)
            .map_err(|e| bad(&format!("its header does not parse: {e}")))?;
        if header.format != FORMAT {
            return Err(bad("its header is not a partial's"));
        }
        f.seek(SeekFrom::Start(8))
            .map_err(io_err("cannot read", path))?;
        Ok(PartReader {
            path: path.to_path_buf(),
            header,
            file: BufReader::with_capacity(1 << 20, f),
            end: marker,
            at: 8,
            hash: 0x464c_4b50_4152_5431,
            expected,
            records: 0,
        })
    }

    /// The next record (unit, payload), or None after the last, when the
    /// records' hash and count have been checked.
    pub fn next_record(&mut self) -> Result<Option<(u64, Vec<u8>)>> {
        let bad = |why: String| {
            Error::Invalid(format!("partial {} is damaged: {why}", self.path.display()))
        };
        if self.at == self.end {
            if self.hash != self.expected {
                return Err(bad("its records do not match their hash".into()));
            }
            if self.records != self.header.records {
                return Err(bad(format!(
                    "it holds {} records, its header says {}",
                    self.records, self.header.records
                )));
            }
            return Ok(None);
        }
        let mut head = [0u8; 16];
        self.file
            .read_exact(&mut head)
            .map_err(io_err("cannot read", &self.path))?;
        let unit = u64::from_le_bytes(head[..8].try_into().expect("8 bytes"));
        let len = u64::from_le_bytes(head[8..].try_into().expect("8 bytes"));
        if self.at + 16 + len > self.end {
            return Err(bad(format!("the record of unit {unit} runs past the end")));
        }
        let mut payload = vec![0u8; len as usize];
        self.file
            .read_exact(&mut payload)
            .map_err(io_err("cannot read", &self.path))?;
        self.at += 16 + len;
        self.hash = chain(self.hash, unit, &payload);
        self.records += 1;
        Ok(Some((unit, payload)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> PartHeader {
        PartHeader {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            fleksim_version: "0".into(),
            command: "run".into(),
            arguments: vec!["run".into()],
            directory: "/".into(),
            settings: "x".into(),
            inputs: vec![],
            unit: "replication".into(),
            units: 10,
            shard: "1/2".into(),
            first: 5,
            end: 10,
            records: 2,
            person_quarters: 0,
            threads: 1,
            host: "h".into(),
            start_time: String::new(),
            end_time: String::new(),
            elapsed_seconds: 0.0,
        }
    }

    #[test]
    fn round_trips_and_refuses_damage() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = PartWriter::create(dir.path(), "p.fleksim-part").unwrap();
        w.record(5, b"hello").unwrap();
        assert!(w.record(5, b"again").is_err());
        w.record(7, &[1, 2, 3, 4, 5, 6, 7, 8, 9]).unwrap();
        let path = w.finish(&header()).unwrap();
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary left"
        );
        let mut r = PartReader::open(&path).unwrap();
        assert_eq!(r.header, header());
        assert_eq!(r.next_record().unwrap(), Some((5, b"hello".to_vec())));
        assert_eq!(r.next_record().unwrap().unwrap().0, 7);
        assert_eq!(r.next_record().unwrap(), None);

        let mut bytes = fs::read(&path).unwrap();
        bytes[8 + 16] ^= 1; // a payload byte
        fs::write(&path, &bytes).unwrap();
        let mut r = PartReader::open(&path).unwrap();
        while let Ok(Some(_)) = r.next_record() {}
        assert!(r.next_record().is_err());
        fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        assert!(PartReader::open(&path).is_err());
    }

    #[test]
    fn an_unfinished_part_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = PartWriter::create(dir.path(), "p.fleksim-part").unwrap();
        w.record(0, b"x").unwrap();
        drop(w);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
