//! What a run will cost before it starts: memory and time estimated from the
//! scenario and the options, checked against fixed limits and the memory
//! this machine has, so that a run that cannot finish is refused at once,
//! naming the option to change, instead of allocating until the process
//! aborts or running for years.
//!
//! The constants are measured (scenarios/README.md, "Limits", says how):
//! peak RSS of `fleksim run -n 1 -j 1` on the baseline at scales 0.25, 0.5
//! and 1 grows by 12 to 16 bytes per person created; a person who moves in
//! a quarter also takes a 16-byte arrival record, so 32 bytes a person is
//! an upper bound. A sweep point held in memory (its scenario and its CSV
//! rows) took 211 KB at 40 quarters.

use crate::engine::results::Layout;
use crate::engine::runner::RunConfig;
use crate::error::{Error, Result};
use crate::scenario::Scenario;

/// Memory per person created in a replication, bytes (upper bound).
pub const BYTES_PER_PERSON: u64 = 32;
/// Memory of the process besides the populations: binary, tables, buffers.
pub const BYTES_FIXED: u64 = 64 << 20;
/// Memory per design point per quarter of horizon (sweeps keep every
/// point's rows until the final CSV is written): 6 KiB, 240 KiB at 40
/// quarters against the 211 KB measured.
pub const BYTES_PER_POINT_QUARTER: u64 = 6 << 10;
/// The most replications (`-n`) a run accepts: 100,000 (the baseline at
/// full scale then takes about a day on two cores).
pub const MAX_REPLICATIONS: u32 = 100_000;
/// The most threads (`--threads`).
pub const MAX_THREADS: usize = 256;
/// The most design points of a sweep, sensitivity or uncertainty run
/// (`--vary` grid, `--lhs`, `--draws`).
pub const MAX_POINTS: usize = 10_000;
/// Person-quarters one thread simulates per second, a low estimate of the
/// release build (the baseline runs at 60 to 90 million).
pub const PERSON_QUARTERS_PER_SECOND: f64 = 50e6;
/// The longest estimated run accepted: one week.
pub const MAX_SECONDS: f64 = 7.0 * 24.0 * 3600.0;

/// The design of a run: how many scenario evaluations it makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Design {
    /// Design points (1 for a plain run; a sweep's points; compare's proposals).
    pub points: usize,
    /// Whether every replication's values of a baseline are kept (sweeps).
    pub keeps_replications: bool,
}

impl Design {
    pub const SINGLE: Design = Design {
        points: 1,
        keeps_replications: false,
    };
}

/// Persons a replication of `sc` creates at `scale`: the initial stock and
/// every quarter's inflow (an upper bound of those alive at once).
pub fn persons(sc: &Scenario, scale: f64) -> u64 {
    let scaled = |c: f64| (c * scale).round().min(u32::MAX as f64) as u64;
    let stock: u64 = sc.stock.iter().map(|c| scaled(c.count)).sum();
    let inflow: u64 = sc.inflow.iter().map(|c| scaled(c.count)).sum();
    stock + inflow * u64::from(sc.horizon)
}

/// Person-quarters of one replication if everyone created stayed to the
/// end (an upper bound of the work).
fn person_quarters(sc: &Scenario, scale: f64) -> f64 {
    let h = f64::from(sc.horizon);
    let stock: f64 = sc.stock.iter().map(|c| (c.count * scale).round()).sum();
    let inflow: f64 = sc.inflow.iter().map(|c| (c.count * scale).round()).sum();
    stock * h + inflow * h * (h + 1.0) / 2.0
}

/// The memory this machine has available, bytes (Linux: MemAvailable),
/// or None where it cannot be told.
pub fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn gib(bytes: f64) -> String {
    format!("{:.1} GiB", bytes / (1u64 << 30) as f64)
}

/// Checks the options that need no scenario: replications and threads.
pub fn check_options(cfg: &RunConfig, threads: usize) -> Result<()> {
    if cfg.replications > MAX_REPLICATIONS {
        return Err(Error::Invalid(format!(
            "--replications {} is more than the {MAX_REPLICATIONS} a run accepts; \
             100 replications already give standard errors a tenth of one replication's spread",
            cfg.replications
        )));
    }
    if threads > MAX_THREADS {
        return Err(Error::Invalid(format!(
            "--threads {threads} is more than the {MAX_THREADS} a run accepts; \
             more threads than cores only adds memory (use --threads {} or leave it out)",
            std::thread::available_parallelism().map_or(1, |n| n.get())
        )));
    }
    Ok(())
}

/// Checks that a design of `points` points is within [`MAX_POINTS`];
/// `what` names the option (`--lhs`, `--draws`, `the --vary grid`).
pub fn check_points(what: &str, points: u128) -> Result<()> {
    if points > MAX_POINTS as u128 {
        return Err(Error::Invalid(format!(
            "{what} has {points} design points, more than the {MAX_POINTS} a run accepts; \
             use fewer values (a Latin hypercube, --lhs, covers many parameters with few points)"
        )));
    }
    Ok(())
}

/// Checks a run of `scenarios` (each run `design.points` times, the first
/// kept per replication if `design.keeps_replications`) with `cfg` on
/// `threads` threads against the limits and `available` bytes of memory
/// (None: not checked). Run before anything large is allocated.
pub fn check(
    scenarios: &[&Scenario],
    cfg: &RunConfig,
    threads: usize,
    design: Design,
    available: Option<u64>,
) -> Result<()> {
    check_options(cfg, threads)?;
    let scale = cfg.scale;
    if !(1.0 / scale).is_finite() {
        return Err(Error::Invalid(format!(
            "--scale {} is too small: 1/scale, the factor that scales counts back, is not a finite number",
            show(scale)
        )));
    }
    let mut largest = 0u64;
    let mut work = 0.0f64;
    for sc in scenarios {
        let n = persons(sc, scale);
        if n == 0 {
            let largest_cohort = sc
                .stock
                .iter()
                .chain(&sc.inflow)
                .map(|c| c.count)
                .fold(1.0, f64::max);
            return Err(Error::Invalid(format!(
                "--scale {} leaves no person of `{}` to simulate (every cohort rounds to 0); \
                 use --scale {} or more",
                show(scale),
                sc.name,
                tidy(0.5 / largest_cohort)
            )));
        }
        largest = largest.max(n);
        work += person_quarters(sc, scale);
    }
    // Replications run `threads` at a time (at most as many as there are).
    let at_once = threads.min(cfg.replications as usize).max(1) as u64;
    let horizon = scenarios.iter().map(|s| s.horizon).max().unwrap_or(1);
    let cells = Layout::new(scenarios[0].start, horizon, 0.0).cells.len() as u64;
    let populations = (at_once * largest * BYTES_PER_PERSON) as f64;
    // Finished replications waiting to be folded: a batch of their values.
    let batch = (2 * at_once * cells * 8) as f64;
    let kept = if design.keeps_replications {
        (u64::from(cfg.replications) * cells * 8) as f64
    } else {
        0.0
    };
    let points = (design.points as u64 * u64::from(horizon) * BYTES_PER_POINT_QUARTER) as f64;
    let need = BYTES_FIXED as f64 + populations + batch + kept + points;
    if let Some(avail) = available
        && need > avail as f64
    {
        let per_thread = largest as f64 * BYTES_PER_PERSON as f64;
        let fit = (avail as f64 - BYTES_FIXED as f64 - batch - kept - points) / per_thread;
        let advice = if fit >= 1.0 && (fit as u64) < at_once {
            format!("use --threads {} or lower --scale", fit as u64)
        } else {
            let s = scale * (avail as f64 * 0.8 / need).min(1.0);
            format!("lower --scale to {} or less", tidy(s))
        };
        return Err(Error::Invalid(format!(
            "this run needs about {} of memory ({largest} persons a replication at --scale {}, \
             {at_once} at a time, {} bytes a person, and {} design points), more than the {} available; {advice}",
            gib(need),
            show(scale),
            BYTES_PER_PERSON,
            design.points,
            gib(avail as f64)
        )));
    }
    let seconds = work * f64::from(cfg.replications) * design.points.max(1) as f64
        / (PERSON_QUARTERS_PER_SECOND * threads.max(1) as f64);
    if seconds > MAX_SECONDS {
        return Err(Error::Invalid(format!(
            "this run would take about {:.0} days on {threads} threads ({:.2e} person-quarters \
             at {:.0} million a second a thread), more than the limit of {:.0} days; \
             lower --replications, --scale or --quarters, or use fewer design points",
            seconds / 86400.0,
            work * f64::from(cfg.replications) * design.points.max(1) as f64,
            PERSON_QUARTERS_PER_SECOND / 1e6,
            MAX_SECONDS / 86400.0
        )));
    }
    Ok(())
}

/// A number for a message: plain unless very small or large.
fn show(x: f64) -> String {
    if x != 0.0 && !(1e-4..1e9).contains(&x.abs()) {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

/// A short decimal at least `x` (one or two significant digits, rounded up).
fn tidy(x: f64) -> String {
    if x >= 1.0 {
        return "1".into();
    }
    let mag = 10f64.powi(x.log10().floor() as i32 - 1);
    let v = (x / mag).ceil() * mag;
    format!("{}", (v * 1e12).round() / 1e12)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario;

    fn cfg(replications: u32, scale: f64) -> RunConfig {
        RunConfig {
            replications,
            seed: 1,
            scale,
        }
    }

    #[test]
    fn the_baseline_fits_and_the_limits_name_their_option() {
        let sc = scenario::baseline().scenario;
        let gb = Some(8u64 << 30);
        check(&[&sc], &cfg(20, 1.0), 2, Design::SINGLE, gb).unwrap();
        let err = |r: Result<()>| r.unwrap_err().to_string();
        let e = err(check(
            &[&sc],
            &cfg(1_000_000_000, 1.0),
            2,
            Design::SINGLE,
            gb,
        ));
        assert!(
            e.starts_with("--replications 1000000000 is more than the 100000"),
            "{e}"
        );
        let e = err(check(&[&sc], &cfg(2, 1.0), 100_000, Design::SINGLE, gb));
        assert!(
            e.starts_with("--threads 100000 is more than the 256"),
            "{e}"
        );
        let e = err(check(&[&sc], &cfg(2, 1e-320), 2, Design::SINGLE, gb));
        assert!(e.contains("--scale 1e-320 is too small"), "{e}");
        let e = err(check(&[&sc], &cfg(2, 1e-9), 2, Design::SINGLE, gb));
        assert!(
            e.contains("--scale 1e-9 leaves no person of `baseline`"),
            "{e}"
        );
        // The suggested scale creates somebody.
        let s: f64 = e
            .split("use --scale ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(persons(&sc, s) > 0, "{s}");
        // 2.2 million persons a replication, 32 bytes each, 2 at a time:
        // about 150 MB; with 100 MB available it does not fit.
        let e = err(check(
            &[&sc],
            &cfg(2, 1.0),
            2,
            Design::SINGLE,
            Some(100 << 20),
        ));
        assert!(
            e.starts_with("this run needs about 0.2 GiB of memory"),
            "{e}"
        );
        assert!(e.contains("lower --scale to"), "{e}");
        // A sweep keeps the baseline's replications and every point's rows.
        let sweep = Design {
            points: 10_000,
            keeps_replications: true,
        };
        let e = err(check(&[&sc], &cfg(2, 0.01), 2, sweep, Some(1 << 30)));
        assert!(e.contains("10000 design points"), "{e}");
        // Time: 100,000 replications of 50 quarters of 1e8 persons.
        let mut big = sc.clone();
        big.stock[0].count = 1e8;
        let e = err(check(&[&big], &cfg(100_000, 1.0), 2, Design::SINGLE, None));
        assert!(e.starts_with("this run would take about"), "{e}");
        assert!(check_points("--lhs", 10_001).is_err());
        check_points("--lhs", 10_000).unwrap();
    }

    #[test]
    fn tidy_rounds_up_to_two_digits() {
        assert_eq!(tidy(0.000_123_4), "0.00013");
        assert_eq!(tidy(0.5), "0.5");
        assert_eq!(tidy(2.0), "1");
    }
}
