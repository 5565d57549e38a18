//! All-or-nothing output folders.
//!
//! A command's files are written into a fresh folder beside the target,
//! `.<name>.tmp-<pid>-<n>/`, which also receives hard links to every file
//! of the current folder that the command does not replace (other commands'
//! results, `exact/`, a sweep's `.parts/`). The folder is then published
//! with one atomic exchange (Linux `renameat2(RENAME_EXCHANGE)`), and the old
//! one, now at the temporary name, is removed. So at every instant the
//! output folder holds a complete old set or a complete new set.
//!
//! Where the exchange is not available (other systems, file systems without
//! it) the old folder is first renamed aside to `.<name>.old-<pid>-<n>/`
//! and the new one renamed into place: for that moment the folder is
//! missing, but it never mixes old and new files.
//!
//! Single files (a sweep's finished points, a calibrated scenario) are
//! written to `.<file>.<pid>-<n>.partial` and renamed into place.
//!
//! Leftovers of a run that died (temporary folders and `.partial` files)
//! are removed by the next write beside them: those whose process no longer
//! runs, or older than a day.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use crate::error::{Error, Result};

/// Leftovers older than this are removed whoever made them.
pub const LEFTOVER_AGE: Duration = Duration::from_secs(24 * 3600);

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// `<pid>-<n>`: unique within this machine while the process runs.
fn tag() -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{}-{n}{nanos:09}", std::process::id())
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> Error + use<> {
    let path = path.to_path_buf();
    move |source| Error::Io {
        action,
        path,
        source,
    }
}

/// Writes `files` (name, bytes) into the folder `dir` all or nothing, keeping
/// the folder's other entries; returns the paths written.
pub fn publish(dir: &Path, files: &[(&str, Vec<u8>)]) -> Result<Vec<PathBuf>> {
    publish_with(dir, files, true)
}

/// Like [`publish`], but the new folder holds only `files`: whatever the
/// folder held before is gone (a report, whose old charts must not linger).
pub fn replace(dir: &Path, files: &[(&str, Vec<u8>)]) -> Result<Vec<PathBuf>> {
    publish_with(dir, files, false)
}

fn publish_with(dir: &Path, files: &[(&str, Vec<u8>)], keep: bool) -> Result<Vec<PathBuf>> {
    let name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| Error::Invalid(format!("{}: not a folder name", dir.display())))?
        .to_string();
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(io_err("cannot create output folder", &parent))?;
    clean_leftovers(&parent, &name);
    if dir.is_dir() {
        clean_leftovers(dir, "");
    }
    let tmp = parent.join(format!(".{name}.tmp-{}", tag()));
    let res =
        fill(&tmp, keep.then_some(dir), dir, files).and_then(|()| swap(&tmp, dir, &parent, &name));
    if res.is_err() {
        let _ = fs::remove_dir_all(&tmp);
    }
    res?;
    Ok(files.iter().map(|(n, _)| dir.join(n)).collect())
}

/// Writes `files` into a new folder `parent/<id>`, never into an existing
/// one: if that name is taken (another run started in the same second),
/// `<id>-2`, `<id>-3`, ... The folder is filled beside its final place and
/// renamed into it in one step that fails rather than replace (Linux
/// `renameat2(RENAME_NOREPLACE)`; elsewhere a rename after a check), so it
/// appears complete or not at all. Returns the folder.
pub fn publish_new(parent: &Path, id: &str, files: &[(&str, Vec<u8>)]) -> Result<PathBuf> {
    fs::create_dir_all(parent).map_err(io_err("cannot create output folder", parent))?;
    clean_leftovers(parent, "");
    let tmp = parent.join(format!(".{id}.tmp-{}", tag()));
    let res = fill(&tmp, None, &parent.join(id), files).and_then(|()| {
        for n in 1u32.. {
            let name = if n == 1 {
                id.to_string()
            } else {
                format!("{id}-{n}")
            };
            let dir = parent.join(&name);
            match rename_new(&tmp, &dir) {
                Ok(()) => return Ok(dir),
                Err(e) if dir.exists() && n < 10_000 => {
                    let _ = e;
                }
                Err(e) => {
                    return Err(Error::Io {
                        action: "cannot move into place",
                        path: dir,
                        source: e,
                    });
                }
            }
        }
        unreachable!("the loop returns")
    });
    if res.is_err() {
        let _ = fs::remove_dir_all(&tmp);
    }
    res
}

#[cfg(target_os = "linux")]
fn rename_new(from: &Path, to: &Path) -> io::Result<()> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    match renameat_with(CWD, from, CWD, to, RenameFlags::NOREPLACE) {
        Ok(()) => Ok(()),
        // File systems without the flag: check, then rename.
        Err(e) if e == rustix::io::Errno::INVAL || e == rustix::io::Errno::NOSYS => {
            rename_checked(from, to)
        }
        Err(e) => Err(io::Error::from(e)),
    }
}

#[cfg(not(target_os = "linux"))]
fn rename_new(from: &Path, to: &Path) -> io::Result<()> {
    rename_checked(from, to)
}

fn rename_checked(from: &Path, to: &Path) -> io::Result<()> {
    if fs::symlink_metadata(to).is_ok() {
        return Err(io::Error::from(io::ErrorKind::AlreadyExists));
    }
    fs::rename(from, to)
}

/// Builds the new folder at `tmp`: links to the entries of `keep` not
/// replaced, then the new files, each synced (errors name them in `dir`).
fn fill(tmp: &Path, keep: Option<&Path>, dir: &Path, files: &[(&str, Vec<u8>)]) -> Result<()> {
    fs::create_dir(tmp).map_err(io_err("cannot create output folder", tmp))?;
    if let Some(dir) = keep.filter(|d| d.is_dir()) {
        let entries = fs::read_dir(dir).map_err(io_err("cannot read output folder", dir))?;
        for e in entries {
            let e = e.map_err(io_err("cannot read output folder", dir))?;
            let fname = e.file_name();
            if files.iter().any(|(n, _)| fname == **n) {
                continue;
            }
            let from = e.path();
            link_tree(&from, &tmp.join(&fname)).map_err(io_err("cannot keep", &from))?;
        }
    }
    for (fname, bytes) in files {
        let target = tmp.join(fname);
        let mut f = fs::File::create(&target).map_err(io_err("cannot write", &dir.join(fname)))?;
        f.write_all(bytes)
            .and_then(|()| f.sync_all())
            .map_err(io_err("cannot write", &dir.join(fname)))?;
    }
    // The folder's entries themselves must reach the disk before it is published.
    if let Ok(d) = fs::File::open(tmp) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Recreates `from` at `to` with hard links (a copy where links fail).
fn link_tree(from: &Path, to: &Path) -> io::Result<()> {
    let meta = fs::symlink_metadata(from)?;
    if meta.is_dir() {
        fs::create_dir(to)?;
        for e in fs::read_dir(from)? {
            let e = e?;
            link_tree(&e.path(), &to.join(e.file_name()))?;
        }
        Ok(())
    } else if meta.file_type().is_symlink() {
        let target = fs::read_link(from)?;
        symlink(&target, to)
    } else {
        fs::hard_link(from, to).or_else(|_| fs::copy(from, to).map(|_| ()))
    }
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) -> io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
fn symlink(target: &Path, link: &Path) -> io::Result<()> {
    fs::copy(target, link).map(|_| ())
}

/// Puts the folder `tmp` in place of `dir`.
fn swap(tmp: &Path, dir: &Path, parent: &Path, name: &str) -> Result<()> {
    let moving = io_err("cannot move into place", dir);
    if !dir.exists() {
        match fs::rename(tmp, dir) {
            Ok(()) => return Ok(()),
            // Someone made the folder meanwhile: exchange with it below.
            Err(_) if dir.is_dir() => {}
            Err(e) => return Err(moving(e)),
        }
    }
    if exchange(tmp, dir).is_ok() {
        // `tmp` now holds the old set.
        let _ = fs::remove_dir_all(tmp);
        return Ok(());
    }
    // Two steps: the folder is briefly missing, never mixed.
    let old = parent.join(format!(".{name}.old-{}", tag()));
    fs::rename(dir, &old).map_err(io_err("cannot move aside", dir))?;
    if let Err(e) = fs::rename(tmp, dir) {
        let _ = fs::rename(&old, dir);
        return Err(moving(e));
    }
    let _ = fs::remove_dir_all(&old);
    Ok(())
}

#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).map_err(io::Error::from)
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> io::Result<()> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}

/// Writes one file atomically: a temporary file beside it, synced, renamed.
pub fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf> {
    let target = dir.join(name);
    fs::create_dir_all(dir).map_err(io_err("cannot create output folder", dir))?;
    clean_leftovers(dir, "");
    let tmp = dir.join(format!(".{name}.{}.partial", tag()));
    let res = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, &target)
    })();
    if let Err(source) = res {
        let _ = fs::remove_file(&tmp);
        return Err(Error::Io {
            action: "cannot write",
            path: target,
            source,
        });
    }
    Ok(target)
}

/// Removes, in `parent`, leftovers of dead runs: temporary folders of the
/// output folder `name` (all of them when `name` is empty) and `.partial`
/// files, whose process no longer runs or that are older than
/// [`LEFTOVER_AGE`].
pub fn clean_leftovers(parent: &Path, name: &str) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for e in entries.flatten() {
        let fname = e.file_name();
        let Some(fname) = fname.to_str() else {
            continue;
        };
        let Some(pid) = leftover_pid(fname, name) else {
            continue;
        };
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > LEFTOVER_AGE);
        if old || pid.is_some_and(|p| !running(p)) {
            let p = e.path();
            let _ = if p.is_dir() {
                fs::remove_dir_all(&p)
            } else {
                fs::remove_file(&p)
            };
        }
    }
}

/// Whether `fname` is a leftover (Some), and the pid that made it, if
/// known: `.<name>.tmp-<pid>-<n>`, `.<name>.old-<pid>-<n>`, or
/// `.<file>.<pid>-<n>.partial` (older versions wrote `.<file>.<random>.partial`).
fn leftover_pid(fname: &str, name: &str) -> Option<Option<u32>> {
    let pid_of = |rest: &str| rest.split('-').next().and_then(|p| p.parse::<u32>().ok());
    if let Some(stem) = fname.strip_suffix(".partial") {
        if !fname.starts_with('.') {
            return None;
        }
        let last = stem.rsplit('.').next().unwrap_or("");
        return Some(if last.contains('-') {
            pid_of(last)
        } else {
            None
        });
    }
    let rest = fname.strip_prefix('.')?;
    let rest = if name.is_empty() {
        rest.split_once(".tmp-")
            .or_else(|| rest.split_once(".old-"))?
            .1
    } else {
        let rest = rest.strip_prefix(name)?;
        rest.strip_prefix(".tmp-")
            .or_else(|| rest.strip_prefix(".old-"))?
    };
    Some(pid_of(rest))
}

/// Whether process `pid` runs (assumed so where it cannot be told).
fn running(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return true;
    }
    proc.join(pid.to_string()).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leftover_names() {
        assert_eq!(leftover_pid(".run.tmp-123-45", "run"), Some(Some(123)));
        assert_eq!(leftover_pid(".run.old-9-1", "run"), Some(Some(9)));
        assert_eq!(leftover_pid(".run.tmp-123-45", "other"), None);
        assert_eq!(leftover_pid(".run.tmp-123-45", ""), Some(Some(123)));
        assert_eq!(leftover_pid(".a.csv.77-3.partial", ""), Some(Some(77)));
        assert_eq!(leftover_pid(".a.csv.Xy12ab.partial", ""), Some(None));
        assert_eq!(leftover_pid("a.csv", ""), None);
        assert_eq!(leftover_pid(".parts", ""), None);
        assert_eq!(leftover_pid("run", "run"), None);
    }
}
