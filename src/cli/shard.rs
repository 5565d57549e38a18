//! `--shard K/N`, `--mpi` and the replay behind `merge`: which units a
//! command computes and what becomes of their values.
//!
//! A command asks its [`Job`] for its units (replications:
//! [`Job::units`]; points of the sweep family: [`Job::points`]), runs them
//! through the ordinary library code, and calls [`Job::finish`] before it
//! writes anything: a shard then writes its partial file instead of the
//! outputs; a merge (whose units were replayed from the parts) goes on to
//! write the outputs exactly as the whole run would.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Instant, SystemTime};

use fleksim::analysis::sweep::PointStore;
use fleksim::engine::runner::RunConfig;
use fleksim::engine::units::{Shard, Unit, Units};
use fleksim::output::partial::{self, PartHeader, PartReader, PartWriter};
use fleksim::scenario::{Scenario, fnv1a};
use fleksim::{Error, Result};

use super::args::ShardArgs;
use super::outdir::Dest;

/// The records of a set of parts, in unit order (set by `merge`, or by rank
/// 0 of an MPI job, for the command to replay).
pub struct Parts {
    /// What every part was computed with (see [`PartHeader::settings`]).
    pub settings: String,
    pub unit: String,
    pub units: u64,
    /// The sources in unit order, each named for messages.
    pub sources: Vec<Box<dyn RecordSource>>,
}

/// Where a part's records come from: a partial file, or a rank's buffer.
pub trait RecordSource: Send {
    /// The part's name in messages (a path, or `rank R`).
    fn name(&self) -> String;
    /// The next record (unit, payload); None after the last, once its
    /// integrity is checked.
    fn next_record(&mut self) -> Result<Option<(u64, Vec<u8>)>>;
}

impl RecordSource for PartReader {
    fn name(&self) -> String {
        self.path.display().to_string()
    }
    fn next_record(&mut self) -> Result<Option<(u64, Vec<u8>)>> {
        PartReader::next_record(self)
    }
}

/// The parts a merge hands to the command it reruns (none otherwise).
#[derive(Default)]
pub struct Replay(Mutex<Option<Parts>>);

impl Replay {
    pub fn new(parts: Parts) -> Replay {
        Replay(Mutex::new(Some(parts)))
    }
}

impl std::fmt::Debug for Replay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Replay")
    }
}

/// What determines the values of a command's units, hashed: parts merge
/// only if their settings agree, and a merge reruns the command only if the
/// inputs still give the same settings.
pub struct Settings {
    pub hash: String,
    pub inputs: Vec<(String, String)>,
}

/// The settings of a command that runs `scenarios` with `cfg`; `extra`
/// names every other option that changes a unit's values (e.g. --prices).
pub fn settings(command: &str, scenarios: &[&Scenario], cfg: &RunConfig, extra: &str) -> Settings {
    let mut s = format!(
        "fleksim {} {command} seed={} n={} scale={:?} {extra}\n",
        env!("CARGO_PKG_VERSION"),
        cfg.seed,
        cfg.replications,
        cfg.scale
    );
    for sc in scenarios {
        s.push_str(&format!(
            "{} {} {} {}\n",
            sc.hash, sc.start, sc.horizon, sc.name
        ));
    }
    Settings {
        hash: format!("{:016x}", fnv1a(s.as_bytes())),
        inputs: scenarios
            .iter()
            .map(|sc| (sc.name.clone(), sc.hash.clone()))
            .collect(),
    }
}

/// Where a shard writes its partial: `--out DIR`, or `outputs/<name>`;
/// every shard of a job writes there, so it is never a new run folder.
pub fn part_dir(out: Option<&Path>, name: &str) -> PathBuf {
    out.map_or_else(|| PathBuf::from("outputs").join(name), Path::to_path_buf)
}

/// The start of a replication command: its job, where its outputs go
/// (checked now for a whole run, later for a merge or an MPI rank 0; see
/// [`Dest::for_job`]) and where a shard's partial goes ([`part_dir`]).
pub fn launch(
    shard: &ShardArgs,
    command: &'static str,
    out: Option<&Path>,
    force: bool,
    name: &str,
    started: SystemTime,
) -> Result<(Job, Dest, PathBuf)> {
    let job = Job::new(shard, command)?;
    let dest = Dest::for_job(out, force, name, command, started, job.is_whole())?;
    Ok((job, dest, part_dir(out, name)))
}

/// A command's way through its units.
pub struct Job {
    command: &'static str,
    mode: Mode,
    started: SystemTime,
    clock: Instant,
}

enum Mode {
    Whole,
    Shard(ShardState),
    Replay(ReplayState),
}

struct ShardState {
    shard: Shard,
    /// An MPI job's ranks: the shard is this rank's block, and its records
    /// are gathered on rank 0 instead of written to a file.
    ranks: Option<Box<dyn Ranks>>,
    /// Replication commands: the partial being written.
    reps: Option<RepSink>,
    /// Sweep family: the finished points, written in order at the end.
    points: Option<PointsPart>,
    /// Where the partial goes.
    dir: PathBuf,
    settings: Option<Settings>,
    unit: &'static str,
    units: u64,
    block: Range<u64>,
}

struct ReplayState {
    parts: Parts,
    /// Replication commands: the sources in order.
    reps: Option<RepSource>,
    /// Sweep family: every point's rows.
    points: Option<ReplayPoints>,
}

impl Job {
    /// The job of `command` as its options say (a shard, a merge's replay,
    /// or the whole run).
    pub fn new(a: &ShardArgs, command: &'static str) -> Result<Job> {
        let replay = a.replay.0.lock().expect("no panic holds the lock").take();
        let mode = if let Some(parts) = replay {
            Mode::Replay(ReplayState {
                parts,
                reps: None,
                points: None,
            })
        } else if a.mpi {
            let ranks = mpi_ranks()?;
            Mode::Shard(ShardState {
                shard: Shard {
                    index: ranks.rank(),
                    count: ranks.size(),
                },
                ranks: Some(ranks),
                reps: None,
                points: None,
                dir: PathBuf::new(),
                settings: None,
                unit: "replication",
                units: 0,
                block: 0..0,
            })
        } else if let Some(shard) = a.shard {
            Mode::Shard(ShardState {
                shard,
                ranks: None,
                reps: None,
                points: None,
                dir: PathBuf::new(),
                settings: None,
                unit: "replication",
                units: 0,
                block: 0..0,
            })
        } else {
            Mode::Whole
        };
        Ok(Job {
            command,
            mode,
            started: SystemTime::now(),
            clock: Instant::now(),
        })
    }

    /// Whether the units are replayed from parts (a merge).
    pub fn is_replay(&self) -> bool {
        matches!(self.mode, Mode::Replay(_))
    }

    /// Whether this job writes the command's outputs (not a shard).
    pub fn is_whole(&self) -> bool {
        !matches!(self.mode, Mode::Shard(_))
    }

    /// The replications (of `replications`) this job computes, or replays,
    /// for a command whose units' values (each a `U`) depend on `settings`;
    /// a shard's partial goes into `out`.
    pub fn units<U: Unit>(
        &mut self,
        out: &Path,
        replications: u32,
        settings: Settings,
    ) -> Result<Units<'_, U>> {
        match &mut self.mode {
            Mode::Whole => Ok(Units::All),
            Mode::Shard(s) => {
                let block = s.shard.block(u64::from(replications));
                let name = part_name(s.shard);
                s.reps = Some(RepSink {
                    writer: match s.ranks {
                        Some(_) => Records::Memory(Vec::new(), 0),
                        None => Records::File(PartWriter::create(out, &name)?),
                    },
                    buf: Vec::new(),
                });
                s.dir = out.to_path_buf();
                s.settings = Some(settings);
                s.unit = "replication";
                s.units = u64::from(replications);
                s.block = block.clone();
                Ok(Units::Record {
                    range: block.start as u32..block.end as u32,
                    sink: s.reps.as_mut().expect("just set"),
                })
            }
            Mode::Replay(r) => {
                r.parts
                    .check("replication", u64::from(replications), &settings.hash)?;
                let sources = std::mem::take(&mut r.parts.sources);
                r.reps = Some(RepSource {
                    sources: sources.into(),
                    current: None,
                });
                Ok(Units::Replay {
                    source: r.reps.as_mut().expect("just set"),
                })
            }
        }
    }

    /// The point store a sweep-family command runs with, and the points it
    /// computes (None: all): `whole` for the whole run; a shard keeps its
    /// block of points for its partial in `out`; a merge serves every point
    /// from the parts.
    pub fn points<'a>(
        &'a mut self,
        out: &Path,
        points: usize,
        whole: &'a dyn PointStore,
    ) -> Result<(&'a dyn PointStore, Option<Range<usize>>)> {
        match &mut self.mode {
            Mode::Whole => Ok((whole, None)),
            Mode::Shard(s) => {
                let block = s.shard.block(points as u64);
                s.points = Some(PointsPart {
                    rows: Mutex::new(BTreeMap::new()),
                    fingerprint: Mutex::new(None),
                });
                s.dir = out.to_path_buf();
                s.unit = "point";
                s.units = points as u64;
                s.block = block.clone();
                Ok((
                    s.points.as_ref().expect("just set"),
                    Some(block.start as usize..block.end as usize),
                ))
            }
            Mode::Replay(r) => {
                if r.parts.unit != "point" || r.parts.units != points as u64 {
                    return Err(r.parts.mismatch(&format!("{points} points")));
                }
                let mut rows = BTreeMap::new();
                for mut src in std::mem::take(&mut r.parts.sources) {
                    while let Some((unit, payload)) = src.next_record()? {
                        if rows.insert(unit, payload).is_some() || unit >= points as u64 {
                            return Err(Error::Invalid(format!(
                                "part {} holds point {unit} more than once or out of range",
                                src.name()
                            )));
                        }
                    }
                }
                if rows.len() != points {
                    return Err(Error::Invalid(format!(
                        "the parts hold {} of the {points} points",
                        rows.len()
                    )));
                }
                r.points = Some(ReplayPoints {
                    rows,
                    settings: r.parts.settings.clone(),
                });
                Ok((r.points.as_ref().expect("just set"), None))
            }
        }
    }

    /// Called once the units are done, before the command writes anything.
    /// Some(exit status): the command stops here (a shard has written its
    /// partial). None: the command goes on to write its outputs.
    pub fn finish(&mut self, threads: usize, person_quarters: u64) -> Result<Option<ExitCode>> {
        let elapsed = self.clock.elapsed().as_secs_f64();
        match std::mem::replace(&mut self.mode, Mode::Whole) {
            Mode::Whole => Ok(None),
            Mode::Replay(r) => {
                if let Some(mut src) = r.reps {
                    src.finish()?;
                }
                Ok(None)
            }
            Mode::Shard(s) => {
                let (writer, settings) = match (s.reps, s.points) {
                    (Some(sink), _) => (
                        sink.writer,
                        s.settings
                            .ok_or_else(|| Error::Internal("shard without settings".into()))?,
                    ),
                    (None, Some(points)) => {
                        let fp = points
                            .fingerprint
                            .into_inner()
                            .expect("no panic holds the lock")
                            .ok_or_else(|| {
                                Error::Internal("the point store was never opened".into())
                            })?;
                        let mut w = match s.ranks {
                            Some(_) => Records::Memory(Vec::new(), 0),
                            None => Records::File(PartWriter::create(&s.dir, &part_name(s.shard))?),
                        };
                        for (i, rows) in points.rows.into_inner().expect("no panic holds the lock")
                        {
                            w.record(i as u64, &rows)?;
                        }
                        (
                            w,
                            Settings {
                                hash: format!("{fp:016x}"),
                                inputs: Vec::new(),
                            },
                        )
                    }
                    (None, None) => {
                        return Err(Error::Internal(format!(
                            "`{}` ran no units of its shard",
                            self.command
                        )));
                    }
                };
                if writer.records() != s.block.end - s.block.start {
                    return Err(Error::Internal(format!(
                        "shard {} computed {} of the {} units of its block",
                        s.shard,
                        writer.records(),
                        s.block.end - s.block.start
                    )));
                }
                let writer = match writer {
                    Records::File(w) => w,
                    Records::Memory(records, _) => {
                        let ranks = s.ranks.expect("memory records only in an MPI job");
                        let mut buf = Vec::with_capacity(records.len() + 64);
                        buf.extend_from_slice(&(settings.hash.len() as u64).to_le_bytes());
                        buf.extend_from_slice(settings.hash.as_bytes());
                        buf.extend_from_slice(&records);
                        drop(records);
                        let Some(all) = ranks.gather(buf)? else {
                            return Ok(Some(ExitCode::SUCCESS));
                        };
                        let parts = Parts::from_ranks(all, s.unit, s.units)?;
                        let arguments: Vec<String> = std::env::args().skip(1).collect();
                        return super::merge::rerun(&arguments, parts, None).map(Some);
                    }
                };
                let header = PartHeader {
                    format: partial::FORMAT.into(),
                    format_version: partial::FORMAT_VERSION,
                    fleksim_version: env!("CARGO_PKG_VERSION").into(),
                    command: self.command.into(),
                    arguments: std::env::args().skip(1).collect(),
                    directory: std::env::current_dir()
                        .map(|d| d.display().to_string())
                        .unwrap_or_default(),
                    settings: settings.hash,
                    inputs: settings.inputs,
                    unit: s.unit.into(),
                    units: s.units,
                    shard: s.shard.to_string(),
                    first: s.block.start,
                    end: s.block.end,
                    records: writer.records(),
                    person_quarters,
                    threads,
                    host: partial::host(),
                    start_time: humantime::format_rfc3339_seconds(self.started).to_string(),
                    end_time: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
                    elapsed_seconds: elapsed,
                };
                let path = writer.finish(&header)?;
                eprintln!(
                    "shard {} of `{}`: {}s {}..{} of {} in {elapsed:.1} s; wrote {}",
                    s.shard,
                    self.command,
                    s.unit,
                    s.block.start,
                    s.block.end,
                    s.units,
                    path.display()
                );
                Ok(Some(ExitCode::SUCCESS))
            }
        }
    }
}

/// The file name of shard `K/N`'s partial.
pub fn part_name(shard: Shard) -> String {
    let w = (shard.count - 1).to_string().len();
    format!(
        "part-{:0w$}-of-{}.{}",
        shard.index,
        shard.count,
        partial::EXTENSION
    )
}

impl Parts {
    /// Checks that the parts hold `units` units of kind `unit` computed with `settings`.
    fn check(&self, unit: &str, units: u64, settings: &str) -> Result<()> {
        if self.unit != unit || self.units != units {
            return Err(self.mismatch(&format!("{units} {unit}s")));
        }
        if self.settings != settings {
            return Err(Error::Invalid(format!(
                "the inputs or options now give other settings ({settings}) than the parts were computed with ({}): \
                 a scenario file changed since, or merge runs in another directory than the shards; merge where the shards ran, with the same files",
                self.settings
            )));
        }
        Ok(())
    }

    fn mismatch(&self, want: &str) -> Error {
        Error::Invalid(format!(
            "the parts hold {} {}s, the command asks for {want}",
            self.units, self.unit
        ))
    }
}

/// Where a shard's records go: its partial file, or memory (an MPI rank,
/// as the partial's records: unit, length, payload).
enum Records {
    File(PartWriter),
    Memory(Vec<u8>, u64),
}

impl Records {
    fn record(&mut self, unit: u64, payload: &[u8]) -> Result<()> {
        match self {
            Records::File(w) => w.record(unit, payload),
            Records::Memory(buf, n) => {
                buf.extend_from_slice(&unit.to_le_bytes());
                buf.extend_from_slice(&(payload.len() as u64).to_le_bytes());
                buf.extend_from_slice(payload);
                *n += 1;
                Ok(())
            }
        }
    }

    fn records(&self) -> u64 {
        match self {
            Records::File(w) => w.records(),
            Records::Memory(_, n) => *n,
        }
    }
}

/// A shard's replications, written to its partial as they are folded.
struct RepSink {
    writer: Records,
    buf: Vec<u8>,
}

impl<U: Unit> fleksim::engine::units::UnitSink<U> for RepSink {
    fn put(&mut self, rep: u32, unit: &U) -> Result<()> {
        self.buf.clear();
        unit.encode(&mut self.buf);
        self.writer.record(u64::from(rep), &self.buf)
    }
}

/// A merge's replications, read from the parts in order.
struct RepSource {
    sources: std::collections::VecDeque<Box<dyn RecordSource>>,
    current: Option<Box<dyn RecordSource>>,
}

impl<U: Unit> fleksim::engine::units::UnitSource<U> for RepSource {
    fn get(&mut self, rep: u32) -> Result<U> {
        loop {
            let Some(src) = self.current.as_mut() else {
                self.current =
                    Some(self.sources.pop_front().ok_or_else(|| {
                        Error::Invalid(format!("no part holds replication {rep}"))
                    })?);
                continue;
            };
            match src.next_record()? {
                Some((unit, payload)) => {
                    if unit != u64::from(rep) {
                        return Err(Error::Invalid(format!(
                            "part {} holds replication {unit} where {rep} was due",
                            src.name()
                        )));
                    }
                    return U::decode(&payload).map_err(|e| {
                        Error::Invalid(format!("part {}: {e} (replication {rep})", src.name()))
                    });
                }
                None => self.current = None,
            }
        }
    }
}

impl RepSource {
    /// Checks that no part holds more than was asked for (and so that each
    /// part's integrity check has run).
    fn finish(&mut self) -> Result<()> {
        for mut src in self
            .current
            .take()
            .into_iter()
            .chain(self.sources.drain(..))
        {
            if let Some((unit, _)) = src.next_record()? {
                return Err(Error::Invalid(format!(
                    "part {} holds replication {unit}, beyond those the command runs",
                    src.name()
                )));
            }
        }
        Ok(())
    }
}

/// A shard's finished points, kept until the shard is done.
struct PointsPart {
    rows: Mutex<BTreeMap<usize, Vec<u8>>>,
    fingerprint: Mutex<Option<u64>>,
}

impl PointStore for PointsPart {
    fn open(&self, fingerprint: u64) -> Result<()> {
        *self.fingerprint.lock().expect("no panic holds the lock") = Some(fingerprint);
        Ok(())
    }
    fn load(&self, _: u64, _: usize) -> Option<Vec<u8>> {
        None
    }
    fn save(&self, _: u64, i: usize, rows: &[u8]) -> Result<()> {
        self.rows
            .lock()
            .expect("no panic holds the lock")
            .insert(i, rows.to_vec());
        Ok(())
    }
}

/// A merge's points, every one from the parts.
struct ReplayPoints {
    rows: BTreeMap<u64, Vec<u8>>,
    settings: String,
}

impl PointStore for ReplayPoints {
    fn open(&self, fingerprint: u64) -> Result<()> {
        let now = format!("{fingerprint:016x}");
        if now != self.settings {
            return Err(Error::Invalid(format!(
                "the inputs or options now give another plan ({now}) than the parts were computed with ({}): \
                 a scenario file changed since, or merge runs in another directory than the shards; merge where the shards ran, with the same files",
                self.settings
            )));
        }
        Ok(())
    }
    fn load(&self, _: u64, i: usize) -> Option<Vec<u8>> {
        self.rows.get(&(i as u64)).cloned()
    }
    fn save(&self, _: u64, i: usize, _: &[u8]) -> Result<()> {
        Err(Error::Internal(format!(
            "a merge computed point {i}, which the parts should hold"
        )))
    }
}

/// The ranks of an MPI job, as a shard needs them.
pub trait Ranks {
    fn rank(&self) -> u32;
    fn size(&self) -> u32;
    /// Gathers every rank's bytes on rank 0: Some(all, in rank order) there,
    /// None on the other ranks.
    fn gather(&self, bytes: Vec<u8>) -> Result<Option<Vec<Vec<u8>>>>;
}

#[cfg(not(feature = "mpi"))]
fn mpi_ranks() -> Result<Box<dyn Ranks>> {
    Err(Error::Invalid(
        "--mpi needs a fleksim built with MPI support (cargo build --release --features mpi, with an MPI library such as OpenMPI and libclang installed); this one was built without".into(),
    ))
}

#[cfg(feature = "mpi")]
fn mpi_ranks() -> Result<Box<dyn Ranks>> {
    Ok(Box::new(mpi_world::World::init()?))
}

#[cfg(feature = "mpi")]
mod mpi_world {
    use fleksim::{Error, Result};
    use mpi::datatype::PartitionMut;
    use mpi::environment::Universe;
    use mpi::traits::*;

    /// MPI's world communicator; MPI is finalised when this is dropped.
    pub struct World {
        universe: Universe,
    }

    impl World {
        pub fn init() -> Result<World> {
            let universe = mpi::initialize()
                .ok_or_else(|| Error::Internal("MPI was initialised twice".into()))?;
            Ok(World { universe })
        }
    }

    impl super::Ranks for World {
        fn rank(&self) -> u32 {
            self.universe.world().rank() as u32
        }
        fn size(&self) -> u32 {
            self.universe.world().size() as u32
        }
        fn gather(&self, bytes: Vec<u8>) -> Result<Option<Vec<Vec<u8>>>> {
            let world = self.universe.world();
            let root = world.process_at_rank(0);
            let n = i32::try_from(bytes.len()).map_err(|_| {
                Error::Invalid(format!(
                    "rank {} holds {} bytes of values, more than one MPI message carries (2 GiB); use more ranks",
                    world.rank(),
                    bytes.len()
                ))
            })?;
            if world.rank() != 0 {
                root.gather_into(&n);
                root.gather_varcount_into(&bytes[..]);
                return Ok(None);
            }
            let mut counts = vec![0i32; world.size() as usize];
            root.gather_into_root(&n, &mut counts[..]);
            let mut displs = Vec::with_capacity(counts.len());
            let mut total = 0i64;
            for &c in &counts {
                displs.push(i32::try_from(total).map_err(|_| {
                    Error::Invalid(
                        "the ranks' values exceed 2 GiB, more than one MPI gather carries; use shards (--shard) and merge".into(),
                    )
                })?);
                total += i64::from(c);
            }
            let mut all = vec![0u8; total as usize];
            {
                let mut part = PartitionMut::new(&mut all[..], &counts[..], &displs[..]);
                root.gather_varcount_into_root(&bytes[..], &mut part);
            }
            Ok(Some(
                counts
                    .iter()
                    .zip(&displs)
                    .map(|(&c, &d)| all[d as usize..(d + c) as usize].to_vec())
                    .collect(),
            ))
        }
    }
}

impl Parts {
    /// The parts gathered from the ranks of an MPI job (in rank order, so in
    /// unit order): each `settings length, settings, records`.
    fn from_ranks(all: Vec<Vec<u8>>, unit: &str, units: u64) -> Result<Parts> {
        let mut settings: Option<String> = None;
        let mut sources: Vec<Box<dyn RecordSource>> = Vec::new();
        for (rank, bytes) in all.into_iter().enumerate() {
            let bad = || Error::Internal(format!("rank {rank} sent malformed values"));
            let len =
                u64::from_le_bytes(bytes.get(..8).ok_or_else(bad)?.try_into().expect("8 bytes"))
                    as usize;
            let s = std::str::from_utf8(bytes.get(8..8 + len).ok_or_else(bad)?)
                .map_err(|_| bad())?
                .to_string();
            match &settings {
                Some(s0) if *s0 != s => {
                    return Err(Error::Internal(format!(
                        "rank {rank} ran with other settings ({s}) than rank 0 ({s0})"
                    )));
                }
                _ => settings = Some(s),
            }
            sources.push(Box::new(MemorySource {
                name: format!("rank {rank}"),
                bytes,
                at: 8 + len,
            }));
        }
        Ok(Parts {
            settings: settings.unwrap_or_default(),
            unit: unit.to_string(),
            units,
            sources,
        })
    }
}

/// A rank's records, gathered in memory.
struct MemorySource {
    name: String,
    bytes: Vec<u8>,
    at: usize,
}

impl RecordSource for MemorySource {
    fn name(&self) -> String {
        self.name.clone()
    }
    fn next_record(&mut self) -> Result<Option<(u64, Vec<u8>)>> {
        if self.at == self.bytes.len() {
            return Ok(None);
        }
        let bad = || Error::Internal(format!("{} sent a malformed record", self.name));
        let word = |at: usize| -> Result<u64> {
            Ok(u64::from_le_bytes(
                self.bytes
                    .get(at..at + 8)
                    .ok_or_else(bad)?
                    .try_into()
                    .expect("8 bytes"),
            ))
        };
        let unit = word(self.at)?;
        let len = word(self.at + 8)? as usize;
        let payload = self
            .bytes
            .get(self.at + 16..self.at + 16 + len)
            .ok_or_else(bad)?
            .to_vec();
        self.at += 16 + len;
        Ok(Some((unit, payload)))
    }
}
