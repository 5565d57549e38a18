//! fleksim: a Monte Carlo microsimulator of Denmark's disability pension and
//! flex-job system.
//!
//! The library turns a scenario file into tidy results; it does no terminal
//! I/O. See `ARCHITECTURE.md` for the module map.
//!
//! ```
//! use fleksim::{report, runner, scenario};
//!
//! let loaded = scenario::baseline();
//! let mut sc = loaded.scenario;
//! sc.horizon = 4;
//! let prepared = runner::Prepared::new(&sc);
//! let cfg = runner::RunConfig { replications: 2, seed: 1, scale: 0.01 };
//! let res = runner::run(&prepared, &cfg, &|| {}).unwrap();
//! let stocks = report::stocks_csv(&sc, &res).unwrap();
//! assert!(stocks.starts_with(b"scenario,quarter,state,age_group,mean,se,ci_low,ci_high\n"));
//! ```

pub mod calendar;
pub mod calibrate;
pub mod check;
pub mod costing;
pub mod error;
pub mod exact;
pub mod kernel;
pub mod population;
pub mod report;
pub mod results;
pub mod rng;
pub mod runner;
pub mod scenario;
pub mod solve;
pub mod stats;
pub mod sweep;
pub mod uncertainty;
pub mod verify;

pub use error::{Error, Result};
