//! The engine: from a validated [`Scenario`](crate::scenario::Scenario) to
//! per-replication results and their statistics.
//!
//! Owns the random streams ([`rng`]), the occupancy layout shared by the
//! loop and the pricing ([`cells`]), the synthetic population
//! ([`population`]), the compiled tables ([`tables`]), the quarter loop ([`kernel`]) and its
//! rules as probabilities ([`outcomes`]),
//! pricing ([`costing`]), one replication's values ([`results`]), running
//! means and intervals ([`stats`]), the replication runner ([`runner`]) and
//! the units and shards of work a run is split into ([`units`]).
//!
//! **Layer rule:** imports only [`crate::scenario`] and [`crate::error`].
//! Knows no analysis (check, verify, sweep, ...), writes no file and prints
//! nothing.

pub mod budget;
pub mod cells;
pub mod costing;
pub mod kernel;
pub mod outcomes;
pub mod population;
pub mod results;
pub mod rng;
pub mod runner;
pub mod stats;
pub mod tables;
pub mod units;
