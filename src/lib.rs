//! fleksim: a Monte Carlo microsimulator of Denmark's disability pension and
//! flex-job system.
//!
//! The library turns a scenario file into tidy results; it does no terminal
//! I/O. See `ARCHITECTURE.md` for the module map.
//!
//! ```
//! use fleksim::engine::runner;
//! use fleksim::output::report;
//! use fleksim::scenario;
//!
//! let loaded = scenario::baseline();
//! let mut sc = loaded.scenario;
//! sc.horizon = 4;
//! let prepared = runner::Prepared::new(&sc);
//! let cfg = runner::RunConfig { replications: 2, seed: 1, scale: 0.01 };
//! let res = runner::run(&prepared, &cfg, &|| {}).unwrap();
//! let stocks = report::stocks_csv(&sc, &res).unwrap();
//! assert!(stocks.starts_with(b"scenario,year,quarter,state,age_group,is_total,mean,se,ci_low,ci_high\n"));
//! ```

// The layers, bottom to top: each may import only the ones above it in
// this list (tests/it/layers.rs enforces it).
pub mod analysis;
pub mod engine;
pub mod error;
pub mod output;
pub mod scenario;

pub use error::{Error, Result};
