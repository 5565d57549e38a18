//! Where a command writes: a new run folder `outputs/<name>/<run id>/`
//! (with `outputs/<name>/latest` naming the newest), or the folder given
//! with `--out`, which must be empty unless `--force`.
//!
//! A run id is `<UTC start time>-<command>`, e.g. `20261203T104512Z-run`:
//! listing a name's folder sorts its runs by when they started, whatever
//! the command, and a second run started in the same second gets `-2`.
//! `latest` is a small text file holding the newest run id rather than a
//! symbolic link: it works the same on every system and file system
//! (Windows needs privileges for links; archives and synchronised folders
//! often drop them), and it is replaced atomically like any output file.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use fleksim::output::publish;
use fleksim::{Error, Result};

/// The root of the default run folders.
pub const OUTPUTS: &str = "outputs";

/// The file in `outputs/<name>/` that names the newest run folder.
pub const LATEST: &str = "latest";

/// Where one command's files go.
pub struct Dest {
    /// `--out DIR`: exactly this folder.
    explicit: Option<PathBuf>,
    /// `outputs/<name>`: the default folder's parent.
    parent: PathBuf,
    id: String,
    force: bool,
}

/// `YYYYMMDDTHHMMSSZ-<command>`.
pub fn run_id(command: &str, started: SystemTime) -> String {
    let t = humantime::format_rfc3339_seconds(started).to_string();
    // 2026-12-03T10:45:12Z -> 20261203T104512Z
    let compact: String = t.chars().filter(|c| *c != '-' && *c != ':').collect();
    format!("{compact}-{command}")
}

/// Entries of a folder that are not results: a sweep's finished points
/// (`.parts`, kept for resuming) and leftovers of interrupted writes.
fn ignorable(name: &str) -> bool {
    name == ".parts"
        || (name.starts_with('.')
            && (name.contains(".tmp-") || name.contains(".old-") || name.ends_with(".partial")))
}

impl Dest {
    /// Checks `--out` now, before anything is computed: a folder that
    /// holds anything but resumable points is refused unless `force`.
    pub fn new(
        out: Option<&Path>,
        force: bool,
        name: &str,
        command: &str,
        started: SystemTime,
    ) -> Result<Dest> {
        Dest::for_job(out, force, name, command, started, true)
    }

    /// [`Dest::new`] for a command that may run as a shard: checked now if
    /// `whole` (the job writes the command's outputs). A shard writes only
    /// its partial, into the folder all shards share, so its `--out` is not
    /// checked here; rank 0 of an MPI job, which writes the outputs after
    /// all, calls [`Dest::check`] once the units are in.
    pub fn for_job(
        out: Option<&Path>,
        force: bool,
        name: &str,
        command: &str,
        started: SystemTime,
        whole: bool,
    ) -> Result<Dest> {
        let d = Dest {
            explicit: out.map(Path::to_path_buf),
            parent: PathBuf::from(OUTPUTS).join(name),
            id: run_id(command, started),
            force,
        };
        if whole {
            d.check()?;
        }
        Ok(d)
    }

    /// Refuses an explicit `--out` that holds results, unless `force`.
    pub fn check(&self) -> Result<()> {
        let Some(dir) = &self.explicit else {
            return Ok(());
        };
        if self.force {
            return Ok(());
        }
        let Ok(entries) = std::fs::read_dir(dir) else {
            if dir.exists() && !dir.is_dir() {
                return Err(Error::Invalid(format!(
                    "--out {}: exists and is not a folder",
                    dir.display()
                )));
            }
            return Ok(());
        };
        let mut taken: Vec<String> = entries
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !ignorable(n))
            .collect();
        if taken.is_empty() {
            return Ok(());
        }
        taken.sort();
        let more = if taken.len() > 3 {
            format!(" and {} more", taken.len() - 3)
        } else {
            String::new()
        };
        taken.truncate(3);
        Err(Error::Invalid(format!(
            "--out {}: the folder is not empty ({}{more}); name an empty or new folder, leave out --out to get a new run folder under {OUTPUTS}/, or add --force to write into it (files of the same names are replaced, others kept)",
            dir.display(),
            taken.join(", ")
        )))
    }

    /// Where a sweep keeps its finished points: beside the run folders
    /// of its name, so that the same command again finds them.
    pub fn parts(&self) -> PathBuf {
        match &self.explicit {
            Some(d) => d.join(".parts"),
            None => self.parent.join(".parts"),
        }
    }

    /// Writes the files all or nothing and returns the folder.
    pub fn publish(&self, files: &[(&str, Vec<u8>)]) -> Result<PathBuf> {
        match &self.explicit {
            Some(d) => {
                // Someone may have written meanwhile.
                self.check()?;
                publish::publish(d, files)?;
                Ok(d.clone())
            }
            None => {
                let dir = publish::publish_new(&self.parent, &self.id, files)?;
                let id = dir
                    .file_name()
                    .map_or(String::new(), |n| n.to_string_lossy().into_owned());
                publish::write_file(&self.parent, LATEST, format!("{id}\n").as_bytes())?;
                Ok(dir)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_sort_by_time() {
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
        assert_eq!(run_id("run", t), "20231114T221320Z-run");
        let later = t + std::time::Duration::from_secs(1);
        assert!(run_id("verify", t) < run_id("check", later));
    }

    #[test]
    fn a_non_empty_out_folder_is_refused_unless_forced() {
        let tmp = tempfile::tempdir().unwrap();
        let t = SystemTime::now();
        let d = Dest::new(Some(tmp.path()), false, "x", "run", t).unwrap();
        d.publish(&[("a.csv", b"1\n".to_vec())]).unwrap();
        let err = Dest::new(Some(tmp.path()), false, "x", "run", t)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("not empty (a.csv)") && err.contains("--force"),
            "{err}"
        );
        let d = Dest::new(Some(tmp.path()), true, "x", "run", t).unwrap();
        d.publish(&[("a.csv", b"2\n".to_vec())]).unwrap();
        assert_eq!(std::fs::read(tmp.path().join("a.csv")).unwrap(), b"2\n");
        // Resumable points alone do not make a folder taken.
        let other = tmp.path().join("o");
        std::fs::create_dir_all(other.join(".parts")).unwrap();
        assert!(Dest::new(Some(&other), false, "x", "run", t).is_ok());
    }
}
