//! Exact cohort mode (`fleksim exact`): agreement with a closed-form chain
//! and with the Monte Carlo engine.
//!
//! The Monte Carlo comparison is statistical: fixed seed, 4 standard errors
//! from the run itself (a correct engine fails one such cell with chance
//! about 6e-5). Replications and scale are chosen so that a 4-SE band is
//! narrow: at scale 0.02 with 200 replications the Monte Carlo mean rests on
//! 4 full-population equivalents, so a stock of 20,000 persons has a relative
//! SE of about 0.35 % and a 4-SE band of about 1.4 % (the 85,000 on cash
//! benefit: 0.7 %). The cost of the test grows with scale times
//! replications as its power does; this is what fits in CI's debug profile.

use fleksim::analysis::exact;
use fleksim::engine::costing::N_ITEMS;
use fleksim::engine::results::{Annual, Cell};
use fleksim::engine::rng;
use fleksim::engine::runner::{self, Prepared, RunConfig};
use fleksim::scenario::{self, Scenario, State};

use crate::util::{data, root};

const SEED: u64 = 20_260_301;
const REPS: u32 = 200;
const SCALE: f64 = 0.02;
const QUARTERS: u16 = 8;

/// The chance a 31-bit threshold gives `p` (what the engine samples).
fn q(p: f64) -> f64 {
    f64::from(rng::threshold(p)) / rng::SCALE
}

/// tests/data/ok/small.toml: cash benefit and work only, no pension exit
/// within the horizon. The expected stocks and the cash-benefit cost follow
/// from a chain over (state, decision duration) computed here by hand, with
/// the engine's cumulative 31-bit thresholds (a row's targets in state order).
#[test]
fn small_fixture_matches_a_hand_computed_chain() {
    let sc = scenario::load_file(&data("ok/small.toml"))
        .unwrap()
        .scenario;
    let p = Prepared::new(&sc);
    let run = exact::run(&p, 1.0).unwrap();

    // One draw decides a cash-benefit quarter: `employed` below the first
    // threshold, `out` below the second.
    let to_em = |d: usize| if d <= 4 { q(0.05) } else { q(0.02) };
    let to_out = |d: usize| {
        if d <= 4 {
            q(0.06) - q(0.05)
        } else {
            q(0.03) - q(0.02)
        }
    };
    let back = q(0.01);
    // kh[d]: persons in cash benefit at decision duration d this quarter
    // (d capped at 5, beyond which the rates do not change).
    let mut kh = [0.0f64; 6];
    for dur in 0..=3 {
        kh[dur + 1] += 1000.0 * 0.25;
    }
    let (mut em, mut out) = (0.0f64, 0.0f64);
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1.0);
    let get = |cell: Cell| {
        fleksim::output::report::get(&run.result, cell)
            .unwrap()
            .mean
    };
    for t in 0..sc.horizon {
        kh[1] += 100.0; // entrants, at d = 1
        let occupancy: f64 = kh.iter().sum();
        let mut next = [0.0f64; 6];
        next[1] = em * back;
        let mut next_em = em * (1.0 - back);
        for d in 1..=5 {
            next_em += kh[d] * to_em(d);
            out += kh[d] * to_out(d);
            next[(d + 1).min(5)] += kh[d] * (1.0 - to_em(d) - to_out(d));
        }
        kh = next;
        em = next_em;
        let stock = |st: State| {
            get(Cell::Stock {
                t: t + 1,
                state: st as u8,
                age: 2,
            })
        };
        assert!(close(stock(State::Kontanthjaelp), kh.iter().sum()), "t {t}");
        assert!(close(stock(State::Employed), em), "t {t}");
        assert!(close(stock(State::Out), out), "t {t}");
        // 12,000 DKK a month, three months a quarter, whoever pays.
        let cost = get(Cell::Cost {
            t,
            item: N_ITEMS as u8,
            payer: 2,
        });
        assert!(close(cost, occupancy * 36_000.0), "t {t}: {cost}");
    }
}

fn example(name: &str) -> Scenario {
    let path = root()
        .join("scenarios/examples")
        .join(format!("{name}.toml"));
    scenario::load_file(&path).expect("valid example").scenario
}

fn proposal(prefix: &str) -> Scenario {
    let dir = root().join("scenarios").join("proposals");
    let mut hits: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix))
        })
        .collect();
    assert_eq!(hits.len(), 1, "one proposal file starts with {prefix}");
    scenario::load_file(&hits.pop().unwrap()).unwrap().scenario
}

/// Compares Monte Carlo and exact results cell by cell: every stock (state
/// by age group and total, every quarter), every quarter's cost by item
/// (both payers), and the total cost over the horizon. Returns the number
/// of cells compared and the largest |z|.
fn agreement(mut sc: Scenario) -> (usize, f64) {
    sc.horizon = QUARTERS;
    let p = Prepared::new(&sc);
    let cfg = RunConfig {
        replications: REPS,
        seed: SEED,
        scale: SCALE,
    };
    let mc = runner::run(&p, &cfg, &|| {}).unwrap();
    let ex = exact::run(&p, SCALE).unwrap();
    assert_eq!(mc.layout.cells, ex.result.layout.cells);
    let (mut n, mut max_z) = (0, 0.0f64);
    for (i, cell) in mc.layout.cells.iter().enumerate() {
        let compared = match *cell {
            Cell::Stock { .. } => true,
            Cell::Cost { payer, .. } => payer == 2,
            Cell::PerYear { metric } => metric == Annual::CostAll,
            _ => false,
        };
        if !compared {
            continue;
        }
        n += 1;
        let m = mc.stats[i];
        let e = ex.result.stats[i].mean;
        assert!(
            e.is_finite() && e >= -1e-9,
            "{}: {cell:?} exact {e}",
            sc.name
        );
        if m.se > 0.0 {
            let z = (m.mean - e) / m.se;
            max_z = max_z.max(z.abs());
            assert!(
                z.abs() <= 4.0,
                "{}: {cell:?} Monte Carlo {} (se {}) vs exact {e}: z = {z:.2}",
                sc.name,
                m.mean,
                m.se
            );
        } else if m.mean == 0.0 && e > 1e-9 {
            // No replication saw anyone here. With lambda persons expected
            // over all replications, that has chance exp(-lambda): demand
            // at least 1e-4, as 4 SE does.
            let lambda = e * SCALE * f64::from(REPS);
            assert!(
                lambda <= 1e4f64.ln(),
                "{}: {cell:?} never reached in {REPS} replications, exact {e}",
                sc.name
            );
        } else {
            // The same value in every replication: a deterministic cell.
            assert!(
                (m.mean - e).abs() <= 1e-9 * e.abs().max(1.0),
                "{}: {cell:?} deterministic {} vs exact {e}",
                sc.name,
                m.mean
            );
        }
    }
    (n, max_z)
}

/// The baseline (gates, the five-year assessment of ressourceforløb, phases,
/// flex-job raises); D2 (forced assessments on cash benefit repeating every
/// year, routing by the evident flag); D6 (an assessment of flex jobs by
/// hours, and a larger multiplier on the retention flag).
#[test]
fn monte_carlo_means_agree_with_exact_expectations() {
    let mut report = Vec::new();
    for sc in [
        scenario::baseline().scenario,
        proposal("d02"),
        proposal("d06"),
        // Rules by age band and by years to folkepension age.
        example("rates-by-age"),
        example("near-pension-no-ressourceforloeb"),
        // Dated changes: a phased lever.
        example("phased-lever"),
        // A variant of førtidspension, entered by assessments by hours.
        example("seniorpension"),
        // Money counted by age group (rates by age).
        example("flat-cash-rate"),
    ] {
        let name = sc.name.clone();
        let (n, max_z) = agreement(sc);
        report.push(format!("{name}: {n} cells, max |z| {max_z:.2}"));
    }
    eprintln!("exact vs Monte Carlo: {}", report.join("; "));
}

/// Exact mode is deterministic: the same numbers, bit for bit, twice.
#[test]
fn exact_results_are_reproducible() {
    let mut sc = proposal("d02");
    sc.horizon = 3;
    let p = Prepared::new(&sc);
    let a = exact::run(&p, 1.0).unwrap();
    let b = exact::run(&p, 1.0).unwrap();
    let bits = |r: &exact::ExactRun| {
        r.result
            .stats
            .iter()
            .map(|s| s.mean.to_bits())
            .collect::<Vec<_>>()
    };
    assert_eq!(bits(&a), bits(&b));
}

/// The command writes the run's files (but outcomes.csv) with the same
/// headers, se 0 and ci_low = ci_high = mean; bad options exit with 1.
#[test]
fn exact_command_writes_run_shaped_files() {
    let dir = tempfile::tempdir().unwrap();
    crate::util::fleksim()
        .args(["exact", "--quiet", "--out"])
        .arg(dir.path())
        .arg(data("ok/small.toml"))
        .assert()
        .success();
    let stocks = std::fs::read_to_string(dir.path().join("stocks.csv")).unwrap();
    let mut lines = stocks.lines();
    assert_eq!(
        lines.next(),
        Some("scenario,year,quarter,state,age_group,is_total,mean,se,ci_low,ci_high")
    );
    // One row per state, age group and quarter (initial stock included).
    assert_eq!(lines.clone().count(), 11 * 3 * 9);
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        assert_eq!((f[7], f[8], f[9]), ("0", f[6], f[6]), "{l}");
    }
    for f in ["flows.csv", "costs.csv", "annual.csv", "manifest.json"] {
        assert!(dir.path().join(f).exists(), "{f}");
    }
    assert!(!dir.path().join("outcomes.csv").exists());
    crate::util::fleksim()
        .args(["exact", "--scale", "0", "--out"])
        .arg(dir.path())
        .assert()
        .code(1);
}

/// `exact` steps its records on every thread it is given, and its files are
/// the same bytes with one thread as with three.
#[test]
fn exact_is_the_same_on_one_thread_and_three() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for threads in ["1", "3"] {
        let out = dir.path().join(threads);
        crate::util::fleksim()
            .env("RAYON_NUM_THREADS", threads)
            .args(["exact", "--quarters", "4", "--quiet", "--out"])
            .arg(&out)
            .assert()
            .success();
        files.push(
            ["stocks.csv", "flows.csv", "costs.csv", "annual.csv"].map(|f| {
                std::fs::read(out.join("exact").join(f))
                    .or_else(|_| std::fs::read(out.join(f)))
                    .unwrap()
            }),
        );
    }
    assert!(
        files[0] == files[1],
        "exact differs between 1 and 3 threads"
    );
}
