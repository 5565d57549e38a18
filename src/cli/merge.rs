//! `fleksim merge PARTS... --out DIR`: the shards' partial files put
//! together into the command's outputs, byte-identical to the whole run.
//!
//! The parts are checked against each other (version, command, settings,
//! units: every unit exactly once), then the command is run again from the
//! arguments stored in the parts, with its units replayed from the parts in
//! unit order instead of simulated; so the statistics, the CSV files and
//! every derived file come from the same code as in the whole run.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use fleksim::output::partial::{self, PartHeader, PartReader};
use fleksim::{Error, Result};

use super::args::{Cli, Command, MergeArgs, ShardArgs};
use super::shard::{Parts, RecordSource, Replay};

pub fn merge(a: MergeArgs) -> Result<ExitCode> {
    let files = expand(&a.parts)?;
    let readers = files
        .iter()
        .map(|f| PartReader::open(f))
        .collect::<Result<Vec<_>>>()?;
    let headers: Vec<(String, PartHeader)> = readers
        .iter()
        .map(|r| (r.path.display().to_string(), r.header.clone()))
        .collect();
    let order = check(&headers)?;
    // Each part is opened again when its turn comes, so that a merge of
    // thousands of parts holds one open file at a time.
    drop(readers);
    let sources: Vec<Box<dyn RecordSource>> = order
        .iter()
        .map(|&i| {
            Box::new(LazyPart {
                path: files[i].clone(),
                header: headers[i].1.clone(),
                reader: None,
                done: false,
            }) as Box<dyn RecordSource>
        })
        .collect();
    let first = &headers[0].1;
    let parts = Parts {
        settings: first.settings.clone(),
        unit: first.unit.clone(),
        units: first.units,
        sources,
    };
    eprintln!(
        "merging {} parts of `{}` ({} {}s)",
        headers.len(),
        first.command,
        first.units,
        first.unit
    );
    rerun(&first.arguments, parts, Some(a.out))
}

/// Runs the command `arguments` (after the program name) with its units
/// replayed from `parts`, writing into `out` if given.
pub fn rerun(arguments: &[String], parts: Parts, out: Option<PathBuf>) -> Result<ExitCode> {
    let cli = Cli::try_parse_from(
        std::iter::once("fleksim".to_string()).chain(arguments.iter().cloned()),
    )
    .map_err(|e| {
        Error::Invalid(format!(
            "the parts' command line `{}` does not parse with this fleksim: {}",
            arguments.join(" "),
            e.kind()
        ))
    })?;
    let shard = || ShardArgs {
        replay: Replay::new(parts),
        ..ShardArgs::default()
    };
    match cli.command {
        Command::Run(mut a) => {
            a.shard = shard();
            a.out = out.or(a.out);
            super::run::run(a)
        }
        Command::Compare(mut a) => {
            a.shard = shard();
            a.out = out.or(a.out);
            super::compare::compare(a)
        }
        Command::Check(mut a) => {
            a.shard = shard();
            a.out = out.or(a.out);
            super::check::check(a)
        }
        Command::Verify(mut a) => {
            a.shard = shard();
            a.out = out.or(a.out);
            super::verify::verify(a)
        }
        Command::Sweep(mut a) => {
            a.plan.shard = shard();
            a.plan.out = out.or(a.plan.out);
            super::sweep::sweep(a)
        }
        Command::Sensitivity(mut a) => {
            a.plan.shard = shard();
            a.plan.out = out.or(a.plan.out);
            super::sensitivity::sensitivity(a)
        }
        Command::Uncertainty(mut a) => {
            a.plan.shard = shard();
            a.plan.out = out.or(a.plan.out);
            super::sensitivity::uncertainty(a)
        }
        _ => Err(Error::Invalid(format!(
            "parts of `{}` cannot be merged",
            arguments.first().map_or("", String::as_str)
        ))),
    }
}

/// The partial files named, a folder standing for those in it.
fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|source| Error::Io {
                    action: "cannot list",
                    path: p.clone(),
                    source,
                })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| {
                    f.extension().is_some_and(|e| e == partial::EXTENSION)
                        && !f
                            .file_name()
                            .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                })
                .collect();
            if found.is_empty() {
                return Err(Error::Invalid(format!(
                    "{} holds no partial files (*.{})",
                    p.display(),
                    partial::EXTENSION
                )));
            }
            found.sort();
            files.extend(found);
        } else {
            files.push(p.clone());
        }
    }
    Ok(files)
}

/// Checks that the parts (name, header) belong together and hold every
/// unit exactly once; returns their indices in unit order.
pub fn check(parts: &[(String, PartHeader)]) -> Result<Vec<usize>> {
    let (name0, h0) = &parts[0];
    for (name, h) in parts {
        let differ = |what: &str, a: &dyn std::fmt::Display, b: &dyn std::fmt::Display| {
            Err(Error::Invalid(format!(
                "part {name} does not belong with {name0}: {what} {a}, the other {b}"
            )))
        };
        if h.format_version != h0.format_version {
            return differ(
                "it is partial format",
                &h.format_version,
                &h0.format_version,
            );
        }
        if h.fleksim_version != h0.fleksim_version {
            return differ(
                "it was computed by fleksim",
                &h.fleksim_version,
                &h0.fleksim_version,
            );
        }
        if h.command != h0.command {
            return differ("it is of command", &h.command, &h0.command);
        }
        if (&h.unit, h.units) != (&h0.unit, h0.units) {
            return differ(
                "it splits",
                &format!("{} {}s", h.units, h.unit),
                &format!("{} {}s", h0.units, h0.unit),
            );
        }
        if h.settings != h0.settings {
            let show = |h: &PartHeader| {
                let inputs: Vec<String> =
                    h.inputs.iter().map(|(n, x)| format!("{n} {x}")).collect();
                format!(
                    "`{}` (inputs: {})",
                    h.arguments.join(" "),
                    inputs.join(", ")
                )
            };
            return Err(Error::Invalid(format!(
                "part {name} does not belong with {name0}: it was computed with other inputs or settings: {}, the other {}",
                show(h),
                show(h0)
            )));
        }
        if h.records != h.end - h.first || h.first > h.end || h.end > h.units {
            return Err(Error::Invalid(format!(
                "part {name} is damaged: it says it holds {} records of units {}..{} of {}",
                h.records, h.first, h.end, h.units
            )));
        }
    }
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by_key(|&i| (parts[i].1.first, parts[i].1.end, parts[i].0.clone()));
    for w in order.windows(2) {
        let ((na, a), (nb, b)) = (&parts[w[0]], &parts[w[1]]);
        if a.shard == b.shard && a.first == b.first && a.end == b.end {
            return Err(Error::Invalid(format!(
                "parts {na} and {nb} are both shard {}: give each shard once",
                a.shard
            )));
        }
    }
    let mut next = 0u64;
    let mut holder: Option<&str> = None;
    for &i in &order {
        let (name, h) = &parts[i];
        if h.first > next {
            return Err(missing(next, h.first, h0));
        }
        if h.first < next {
            return Err(Error::Invalid(format!(
                "part {name} (shard {}) holds {}s {}..{}, some of which part {} holds too: give each unit once",
                h.shard,
                h.unit,
                h.first,
                h.end,
                holder.unwrap_or("?")
            )));
        }
        if h.end > h.first {
            next = h.end;
            holder = Some(name);
        }
    }
    if next < h0.units {
        return Err(missing(next, h0.units, h0));
    }
    Ok(order)
}

fn missing(from: u64, to: u64, h: &PartHeader) -> Error {
    let hint = match h
        .shard
        .split_once('/')
        .and_then(|(_, n)| n.parse::<u32>().ok())
    {
        Some(n) => {
            let shards: Vec<String> = (0..n)
                .filter(|&k| {
                    let b = fleksim::engine::units::Shard { index: k, count: n }.block(h.units);
                    b.start < to && b.end > from
                })
                .map(|k| format!("{k}/{n}"))
                .collect();
            format!(" (shard {} of the split into {n})", shards.join(", "))
        }
        None => String::new(),
    };
    Error::Invalid(format!(
        "{}s {from}..{to} are missing: no part given holds them{hint}",
        h.unit
    ))
}

/// A part opened when its first record is asked for, and closed after its last.
struct LazyPart {
    path: PathBuf,
    header: PartHeader,
    reader: Option<PartReader>,
    done: bool,
}

impl RecordSource for LazyPart {
    fn name(&self) -> String {
        self.path.display().to_string()
    }

    fn next_record(&mut self) -> Result<Option<(u64, Vec<u8>)>> {
        if self.done {
            return Ok(None);
        }
        if self.reader.is_none() {
            let r = PartReader::open(&self.path)?;
            if r.header != self.header {
                return Err(Error::Invalid(format!(
                    "part {} changed while the merge ran",
                    self.path.display()
                )));
            }
            self.reader = Some(r);
        }
        let r = self.reader.as_mut().expect("just opened");
        let next = r.next_record()?;
        if next.is_none() {
            self.reader = None;
            self.done = true;
        }
        Ok(next)
    }
}
