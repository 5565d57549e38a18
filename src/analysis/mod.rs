//! Analyses built on the engine: published-figure checks and calibration,
//! exact expected values, the frequency check of the engine against the
//! rules, sweeps, sensitivity and uncertainty, break-even search.
//!
//! **Layer rule:** imports [`crate::scenario`], [`crate::engine`] and
//! [`crate::error`], never the output layer. Analyses set parameters by
//! path and run the ordinary engine; they read input files where they own
//! them (targets) but write none: persistence (a sweep's finished points)
//! goes through a trait the caller implements.

pub mod calibrate;
pub mod check;
pub mod compare;
pub mod exact;
pub mod solve;
pub mod sweep;
pub mod table;
pub mod uncertainty;
pub mod verify;
