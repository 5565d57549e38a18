//! Outputs: CSV bytes, manifests, and the only code that writes result
//! files (all-or-nothing folders, a sweep's resumable point store).
//!
//! **Layer rule:** may import every layer below it ([`crate::scenario`],
//! [`crate::engine`], [`crate::analysis`]); computes no statistic, only
//! formats and writes what those layers computed.

pub mod manifest;
pub mod partial;
pub mod parts;
pub mod publish;
pub mod report;
pub mod report_html;
