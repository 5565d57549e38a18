//! The library's error type.

use std::path::PathBuf;

use crate::scenario::ScenarioError;

/// Everything that can go wrong in fleksim.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The scenario file is malformed or breaks a rule (user error).
    #[error("{0}")]
    Scenario(#[from] ScenarioError),
    /// A run option is out of range (user error).
    #[error("{0}")]
    Invalid(String),
    /// Reading or writing a file failed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A broken invariant: a bug in fleksim, never the user's fault.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// Whether the user can fix this by changing their input.
    pub fn is_user_error(&self) -> bool {
        !matches!(self, Error::Internal(_))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
