//! Engine benchmarks (criterion): `cargo bench`.
//!
//! - `baseline/full_scale_2_replications`: the full Danish baseline, two
//!   replications on the global rayon pool; throughput in person-quarters
//!   (persons not yet `out`, one quarter each), the unit of the speed floor.
//! - `age_groups/*`: the same baseline with its 2 x 2 age groups (the
//!   40-year line and a year before folkepension age, looked up per person)
//!   against the baseline without the pension-distance gate (the 40-year
//!   line only, a comparison per person): what a pension-distance rule costs
//!   the kernel, measured pairwise in one run.
//! - `population/create_baseline_inflow`: creating the initial stock and 40
//!   quarters of baseline inflow of one replication, without simulating
//!   them; throughput in persons created (stock and entrants).
//! - `rng/*`: one counter-based draw (a pure function of person, quarter and
//!   decision) against one draw from a sequential `Xoshiro256PlusPlus` stream.
//! - `reference/lean_10_state_chain`: a minimal two-column Markov loop, to
//!   calibrate what this machine does for the simplest possible kernel.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fleksim::engine::population::{Population, scaled};
use fleksim::engine::rng::{self, RepKey};
use fleksim::engine::runner::{self, Prepared, RunConfig};
use fleksim::scenario;
use rand::{Rng, SeedableRng};

fn baseline(c: &mut Criterion) {
    let sc = scenario::baseline().scenario;
    let prepared = Prepared::new(&sc);
    let cfg = RunConfig {
        replications: 2,
        seed: 2019,
        scale: 1.0,
    };
    let pq = runner::run(&prepared, &cfg, &|| {})
        .expect("baseline runs")
        .person_quarters;
    let mut g = c.benchmark_group("baseline");
    g.sample_size(10);
    g.throughput(Throughput::Elements(pq));
    g.bench_function("full_scale_2_replications", |b| {
        b.iter(|| runner::run(&prepared, &cfg, &|| {}).expect("baseline runs"))
    });
    g.finish();
}

fn age_groups(c: &mut Criterion) {
    let four = scenario::baseline().scenario;
    let mut two = four.clone();
    two.gates
        .retain(|g| g.id != "no_ressourceforloeb_in_last_year_before_pension");
    assert_eq!((four.age_groups().len(), two.age_groups().len()), (4, 2));
    let cfg = RunConfig {
        replications: 1,
        seed: 2019,
        scale: 1.0,
    };
    let mut g = c.benchmark_group("age_groups");
    g.sample_size(10);
    for (name, sc) in [("four_groups", &four), ("two_groups", &two)] {
        let prepared = Prepared::new(sc);
        let pq = runner::run(&prepared, &cfg, &|| {})
            .expect("baseline runs")
            .person_quarters;
        g.throughput(Throughput::Elements(pq));
        g.bench_function(name, |b| {
            b.iter(|| runner::run(&prepared, &cfg, &|| {}).expect("baseline runs"))
        });
    }
    g.finish();
}

fn creation(c: &mut Criterion) {
    let sc = scenario::baseline().scenario;
    let key = RepKey::new(2019, 0);
    let count = |cohorts: &[scenario::Cohort]| -> u64 {
        cohorts
            .iter()
            .map(|c| u64::from(scaled(c.count, 1.0)))
            .sum()
    };
    // Everyone the timed loop creates: the stock once, the inflow every quarter.
    let persons = count(&sc.stock) + count(&sc.inflow) * u64::from(sc.horizon);
    let mut g = c.benchmark_group("population");
    g.sample_size(10);
    g.throughput(Throughput::Elements(persons));
    g.bench_function("create_baseline_inflow", |b| {
        b.iter(|| {
            let mut pop = Population::for_scenario(&sc, 1.0).expect("baseline fits");
            for c in &sc.stock {
                pop.add_group(&sc, c, 0, scaled(c.count, 1.0), sc.start, key);
            }
            // Entrants are dropped again at once, as the run's bins stay
            // about as large as they are (only creation is timed, not growth).
            for t in 0..sc.horizon {
                for c in &sc.inflow {
                    let n = scaled(c.count, 1.0);
                    let range = pop.add_group(&sc, c, t + 1, n, sc.start.plus(t), key);
                    pop.bins[c.state as usize].remove(range);
                }
            }
            pop
        })
    });
    g.finish();
}

fn rng_cost(c: &mut Criterion) {
    const N: u64 = 1 << 20;
    let mut g = c.benchmark_group("rng");
    g.throughput(Throughput::Elements(N));
    let key = RepKey::new(1, 2);
    let ctr = rng::counter(500, 0);
    g.bench_function("counter_based_draw", |b| {
        b.iter(|| {
            let (raw, mut w) = key.weyl(rng::person_id(1, 0, 0));
            let mut acc = 0u32;
            for _ in 0..N {
                acc = acc.wrapping_add(rng::draw31(raw ^ w, ctr));
                w = w.wrapping_add(rng::WEYL_STEP);
            }
            black_box(acc)
        })
    });
    g.bench_function("sequential_xoshiro256pp", |b| {
        let mut r = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(1);
        b.iter(|| {
            let mut acc = 0u32;
            for _ in 0..N {
                acc = acc.wrapping_add((r.next_u64() >> 33) as u32);
            }
            black_box(acc)
        })
    });
    g.finish();
}

fn reference(c: &mut Criterion) {
    const N: usize = 1_000_000;
    const Q: u64 = 10;
    let mut thr = [[0u32; 10]; 10];
    for (s, row) in thr.iter_mut().enumerate() {
        let mut acc = 0;
        for (t, x) in row.iter_mut().enumerate() {
            if t != s {
                acc += 20_000_000;
            }
            *x = acc;
        }
    }
    let mut g = c.benchmark_group("reference");
    g.sample_size(10);
    g.throughput(Throughput::Elements(N as u64 * Q));
    g.bench_function("lean_10_state_chain", |b| {
        let mut state: Vec<u8> = (0..N).map(|i| (i % 10) as u8).collect();
        let mut dur = vec![0u16; N];
        b.iter(|| {
            for q in 0..Q {
                let ctr = rng::counter(q as u16, 0);
                for i in 0..N {
                    let s = state[i] as usize;
                    let u = rng::draw31(i as u64, ctr);
                    let row = &thr[s];
                    let mut to = s;
                    if u < row[9] {
                        to = row.iter().position(|&x| u < x).unwrap_or(s);
                    }
                    if to == s {
                        dur[i] = dur[i].saturating_add(1);
                    } else {
                        state[i] = to as u8;
                        dur[i] = 0;
                    }
                }
            }
            black_box(&state);
        })
    });
    g.finish();
}

criterion_group!(benches, baseline, age_groups, creation, rng_cost, reference);
criterion_main!(benches);
