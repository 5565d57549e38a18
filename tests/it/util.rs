//! Shared helpers for the integration tests.

#![allow(dead_code)]

use std::path::PathBuf;

/// Path to the repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Path of a file under tests/data.
pub fn data(name: &str) -> PathBuf {
    root().join("tests").join("data").join(name)
}

/// The fleksim binary, ready to run.
pub fn fleksim() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("fleksim").expect("fleksim binary");
    c.env("NO_COLOR", "1");
    c
}
