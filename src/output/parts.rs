//! The sweep family's store of finished points: one file per point,
//! `point-NNNNNN.csv`, in `<parts>/<plan fingerprint>/`, each written
//! atomically, so an interrupted sweep resumes where it stopped.

use std::path::PathBuf;

use crate::analysis::sweep::PointStore;
use crate::error::{Error, Result};
use crate::output::publish::write_file;

/// Finished points kept as files under a parts folder.
pub struct PartsFolder {
    pub root: PathBuf,
}

impl PartsFolder {
    fn dir(&self, fingerprint: u64) -> PathBuf {
        self.root.join(format!("{fingerprint:016x}"))
    }

    fn file(i: usize) -> String {
        format!("point-{i:06}.csv")
    }
}

impl PointStore for PartsFolder {
    fn open(&self, fingerprint: u64) -> Result<()> {
        let dir = self.dir(fingerprint);
        std::fs::create_dir_all(&dir).map_err(|source| Error::Io {
            action: "cannot create the folder for finished points",
            path: dir,
            source,
        })
    }

    fn load(&self, fingerprint: u64, i: usize) -> Option<Vec<u8>> {
        std::fs::read(self.dir(fingerprint).join(Self::file(i))).ok()
    }

    fn save(&self, fingerprint: u64, i: usize, rows: &[u8]) -> Result<()> {
        write_file(&self.dir(fingerprint), &Self::file(i), rows).map(|_| ())
    }
}
