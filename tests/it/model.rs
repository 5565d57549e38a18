//! Statistical correctness, conservation and the cost ledger.
//!
//! Statistical tests use fixed seeds and tolerances of 4 standard errors
//! taken from the run itself; a correct engine fails one such comparison
//! with probability about 6e-5.

use fleksim::engine::costing::{N_ITEMS, N_NAMED_ITEMS};
use fleksim::engine::results::{Annual, Cell, Layout};
use fleksim::engine::runner::{self, Prepared, RunConfig, RunResult};
use fleksim::scenario::{self, N_NAMED, N_STATES, Scenario, State};
use proptest::prelude::*;

/// The cost tables every test scenario needs (values chosen for easy sums).
const COSTS: &str = r#"
[costs]
discount_rate = 0.035

[costs.monthly]
kontanthjaelp = 10000
sygedagpenge = 12000
ressourceforloeb = 11000
revalidering = 15000
ledighedsydelse = 16000
foertidspension = 17000

[costs.fleksloentilskud]
max = 18000
threshold = 14000
rate_below = 0.3
rate_above = 0.55
hourly_wage = 200
weeks_per_month = 4.0

[costs.insurance]
monthly_payment = 5000
offset = 1.0

[costs.refusion]
state_share = [0.5, 0.4, 0.3, 0.25, 0.2]
reset_after_quarters = 4
foertidspension_pre2014_state_share = 0.35
"#;

/// A scenario of young persons (no pension exits within the horizon) with
/// the given population and transition sections.
fn scenario(name: &str, horizon: u16, body: &str) -> Scenario {
    let text = format!(
        "schema_version = 1\nname = \"{name}\"\nstart = \"2019Q1\"\nhorizon = {horizon}\nprice_year = 2019\n\
         [[population.pension_age]]\nborn_from = \"1900Q1\"\nyears = 67.0\n{body}\n{COSTS}"
    );
    match scenario::load_text(name, &text, None) {
        Ok(l) => l.scenario,
        Err(e) => panic!("test scenario {name} is invalid:\n{e}\n---\n{text}"),
    }
}

fn run(sc: &Scenario, reps: u32, seed: u64, scale: f64) -> RunResult {
    let p = Prepared::new(sc);
    let cfg = RunConfig {
        replications: reps,
        seed,
        scale,
    };
    runner::run(&p, &cfg, &|| {}).expect("run succeeds")
}

fn stock(r: &RunResult, t: u16, state: State) -> fleksim::engine::stats::CellStats {
    fleksim::output::report::get(
        r,
        Cell::Stock {
            t,
            state: state as u8,
            age: 2,
        },
    )
    .expect("stock cell")
}

/// A 5-state chain whose rates depend on neither duration nor attributes,
/// one of them given per year. The exact expected stocks follow from
/// `x_t = (x_{t-1} + inflow) P`, computed here by matrix products.
#[test]
fn markov_chain_means_match_the_exact_answer() {
    let body = r#"
[population.stock.kontanthjaelp]
count = 30000
age = { "20-30" = 1.0 }
[population.stock.sygedagpenge]
count = 10000
age = { "20-30" = 1.0 }
[population.inflow.sygedagpenge]
per_quarter = 3000
age = { "20-30" = 1.0 }
[transitions.kontanthjaelp]
employed = { all = 0.08 }
ressourceforloeb = { all = 0.03 }
out = { all = 0.01 }
[transitions.sygedagpenge]
employed = { all = 0.45 }
kontanthjaelp = { all = 0.05 }
[transitions.ressourceforloeb]
foertidspension = { all = 0.25, per = "year" }
employed = { all = 0.02 }
[transitions.employed]
sygedagpenge = { all = 0.02 }
out = { all = 0.002 }
[transitions.foertidspension]
out = { all = 0.004 }
"#;
    let sc = scenario("markov", 12, body);
    let res = run(&sc, 40, 11, 1.0);

    let mut p = [[0.0f64; N_STATES]; N_STATES];
    for t in &sc.transitions {
        p[t.from as usize][t.to as usize] = t.prob[0].1.at(1);
    }
    for (i, row) in p.iter_mut().enumerate() {
        let out: f64 = row.iter().sum();
        row[i] = 1.0 - out;
    }
    // The annual rate is converted once: 1 - (1 - 0.25)^(1/4).
    let rf_fp = p[State::Ressourceforloeb as usize][State::Foertidspension as usize];
    assert!((rf_fp - (1.0 - 0.75f64.powf(0.25))).abs() < 1e-12);

    let mut x = [0.0f64; N_STATES];
    x[State::Kontanthjaelp as usize] = 30000.0;
    x[State::Sygedagpenge as usize] = 10000.0;
    let mut checked = 0;
    for t in 1..=sc.horizon {
        x[State::Sygedagpenge as usize] += 3000.0;
        let mut next = [0.0f64; N_STATES];
        for (i, xi) in x.iter().enumerate() {
            for (j, nj) in next.iter_mut().enumerate() {
                *nj += xi * p[i][j];
            }
        }
        x = next;
        for st in State::NAMED {
            let s = stock(&res, t, st);
            let exact = x[st as usize];
            if exact == 0.0 {
                assert_eq!(s.mean, 0.0, "{} at t={t}", st.id());
                continue;
            }
            assert!(s.se > 0.0, "{} at t={t}: no variation", st.id());
            let z = (s.mean - exact) / s.se;
            assert!(
                z.abs() < 4.0,
                "{} at t={t}: mean {} exact {exact} se {} (z = {z:.2})",
                st.id(),
                s.mean,
                s.se
            );
            checked += 1;
        }
    }
    // Six states are reachable; førtidspension only from t = 2 on.
    assert_eq!(checked, 12 * 6 - 1, "cells compared with the exact answer");
}

/// Everyone ever created is in exactly one state every quarter: the stocks
/// (with `out` cumulative) add up to the initial stock plus all entrants.
fn assert_conserved(sc: &Scenario, res: &RunResult, scale: f64) {
    let entrants: f64 = sc
        .inflow
        .iter()
        .map(|c| f64::from(runner::scaled(c.count, scale)) / scale)
        .sum();
    let initial: f64 = State::NAMED.iter().map(|&s| stock(res, 0, s).mean).sum();
    for t in 0..=sc.horizon {
        let total: f64 = State::NAMED.iter().map(|&s| stock(res, t, s).mean).sum();
        let expected = initial + entrants * f64::from(t);
        assert!(
            (total - expected).abs() < 1e-6 * expected.max(1.0),
            "t={t}: {total} in states, expected {expected}"
        );
    }
}

#[test]
fn baseline_conserves_persons() {
    let sc = scenario::baseline().scenario;
    let res = run(&sc, 3, 5, 0.02);
    assert_conserved(&sc, &res, 0.02);
    // The baseline is plausible: no state empties or explodes in ten years.
    for st in [
        State::Kontanthjaelp,
        State::Sygedagpenge,
        State::Ressourceforloeb,
        State::Fleksjob,
        State::Foertidspension,
    ] {
        let (a, b) = (stock(&res, 0, st).mean, stock(&res, sc.horizon, st).mean);
        assert!(b > 0.7 * a && b < 1.4 * a, "{}: {a} -> {b}", st.id());
    }
}

/// The random parts of a scenario for the property tests; everything else
/// comes from [`random_scenario`]'s fixed skeleton.
#[derive(Debug, Clone)]
struct Draw {
    seed: u64,
    /// Transition probabilities, reused cyclically (rows are scaled to sum below 1).
    probs: Vec<f64>,
    /// Initial stock of each non-`out` state.
    stocks: Vec<u32>,
    /// Entrants a quarter of each non-`out` state.
    inflows: Vec<u32>,
    /// Numbers in [0, 1) that place each cost parameter within its documented range.
    costs: Vec<f64>,
    /// Factors in [0, 1] of the `kontanthjaelp` rates for three age bands.
    age_factors: Vec<f64>,
    horizon: u16,
    scale: f64,
}

fn draws() -> impl Strategy<Value = Draw> {
    (
        0u64..1000,
        prop::collection::vec(0.0f64..1.0, 8..20),
        prop::collection::vec(0u32..400, N_NAMED - 1),
        prop::collection::vec(prop_oneof![Just(0u32), 0u32..60], N_NAMED - 1),
        prop::collection::vec(0.0f64..1.0, 24),
        prop::collection::vec(0.0f64..=1.0, 3),
        1u16..=9,
        prop_oneof![Just(1.0f64), 0.3f64..1.0],
    )
        .prop_map(
            |(seed, probs, stocks, inflows, costs, age_factors, horizon, scale)| Draw {
                seed,
                probs,
                stocks,
                inflows,
                costs,
                age_factors,
                horizon,
                scale,
            },
        )
}

/// Builds a random but valid scenario: random stocks and inflows in every
/// state, transition probabilities by duration (rows scaled to sum
/// below 1) and, out of cash benefit, by age band; random ages that include
/// people at and beyond the pension age; ressourceforløb phases, flex-job
/// raises, a gate and two assessments; and every cost parameter drawn within
/// its documented range (money up to the limits of `scenario::limits`).
fn random_scenario(d: &Draw) -> Scenario {
    let states: Vec<&str> = State::NAMED[..N_NAMED - 1].iter().map(|s| s.id()).collect();
    let mut body = String::new();
    for (i, s) in states.iter().enumerate() {
        body.push_str(&format!(
            "[population.stock.{s}]\ncount = {}\nage = {{ \"18-39\" = 0.4, \"40-70\" = 0.6 }}\nduration = {{ \"0-8\" = 1.0 }}\nhours = {{ \"0-20\" = 1.0 }}\ninsured = 0.3\nevident = 0.2\n",
            d.stocks[i]
        ));
        if *s == "foertidspension" {
            body.push_str("pre2014 = 0.5\n");
        }
        if *s == "ressourceforloeb" {
            body.push_str(
                "phase = { waiting_team = 0.2, passive = 0.3, active = 0.3, company = 0.2 }\n",
            );
        }
        if d.inflows[i] > 0 {
            body.push_str(&format!(
                "[population.inflow.{s}]\nper_quarter = {}\nage = {{ \"18-64\" = 1.0 }}\nhours = {{ \"0-37\" = 1.0 }}\ninsured = 0.5\n",
                d.inflows[i]
            ));
        }
    }
    let mut k = 0;
    for (i, from) in states.iter().enumerate() {
        body.push_str(&format!("[transitions.{from}]\n"));
        let row: Vec<f64> = (0..states.len() + 1)
            .map(|j| d.probs[(k + j) % d.probs.len()])
            .collect();
        k += 7;
        let sum: f64 = row.iter().sum::<f64>() + 1e-9;
        for (j, to) in states.iter().chain(std::iter::once(&"out")).enumerate() {
            if j == i {
                continue;
            }
            let (early, late) = (row[j] / sum * 0.9, row[j] / sum * 0.5);
            if *from == "kontanthjaelp" {
                let [a, b, c] = [0, 1, 2].map(|n| d.age_factors[n]);
                body.push_str(&format!(
                    "{to} = {{ ages = {{ \"18-29\" = {{ \"1-2\" = {}, \"3+\" = {} }}, \"30-49\" = {}, \"50+\" = {{ \"1\" = {}, \"2+\" = {} }} }} }}\n",
                    early * a,
                    late * a,
                    early * b,
                    late * c,
                    early * c
                ));
            } else {
                body.push_str(&format!(
                    "{to} = {{ all = {{ \"1-2\" = {early}, \"3+\" = {late} }} }}\n"
                ));
            }
        }
    }
    let c = &d.costs;
    body.push_str(&format!(
        "[ressourceforloeb]\nentry_phase = \"waiting_team\"\n[ressourceforloeb.phases.waiting_team]\nactive = {}\n[ressourceforloeb.phases.active]\ncompany = {}\npassive = {}\n",
        c[20],
        c[21] / 2.0,
        c[22] / 2.0
    ));
    body.push_str(&format!(
        "[fleksjob]\nminifleks_max_hours = 10\nraise_probability = {}\nraise_eligible_max_hours = 12\nraise_after_quarters = 1\nraise_step_hours = 3\nmax_hours = 30\n",
        c[23]
    ));
    body.push_str(&format!(
        "[gates.g]\nto = [\"foertidspension\"]\nwhen = {{ evident = false }}\nredirect = \"ressourceforloeb\"\nactive_from = \"2019Q{}\"\n",
        1 + d.seed % 4
    ));
    body.push_str("[assessments.a]\nstate = \"kontanthjaelp\"\nat = 2\nevery = 2\nroute = { fleksjob = 0.3, kontanthjaelp = 0.2 }\n");
    body.push_str("[assessments.b]\nstate = \"ressourceforloeb\"\nat = 3\nroute = { ressourceforloeb = 0.4, revalidering = 0.3 }\n");
    // Money up to the limits of the Limits table in scenarios/README.md.
    let month = |x: f64| (x * 1_000_000.0).round();
    let share = |x: f64| (x * 1000.0).round() / 1000.0;
    let d3 = if c[19] < 0.5 {
        format!("foertidspension_state_share = {}\n", share(c[19] * 2.0))
    } else {
        String::new()
    };
    let costs = format!(
        "[costs]\ndiscount_rate = {}\n\
         [costs.monthly]\nkontanthjaelp = {}\nsygedagpenge = {}\nressourceforloeb = {}\nrevalidering = {}\nledighedsydelse = {}\nfoertidspension = {}\n\
         [costs.fleksloentilskud]\nmax = {}\nthreshold = {}\nrate_below = {}\nrate_above = {}\nhourly_wage = {}\nweeks_per_month = {}\n\
         [costs.insurance]\nmonthly_payment = {}\noffset = {}\n\
         [costs.refusion]\nstate_share = [{}, {}, {}, {}, {}]\nreset_after_quarters = {}\nfoertidspension_pre2014_state_share = {}\n{d3}\
         [costs.services]\nintervention_active = {}\nintervention_company = {}\nrehab_team_per_case = {}\ncaseworker_salary = {}\ncaseworker_caseload = {}\nrevalidering_education = {}\nrevalidering_education_state_share = {}\n",
        share(c[0] / 2.0),
        month(c[1]),
        month(c[2]),
        month(c[3]),
        month(c[4]),
        month(c[5]),
        month(c[6]),
        month(c[7]),
        month(c[8]),
        share(c[9]),
        share(c[10]),
        (c[11] * 10_000.0).round(),
        share(c[12]) * 5.0,
        month(c[13]),
        share(c[14]),
        share(c[15]),
        share(c[16]),
        share(c[17]),
        share(c[18]),
        share(1.0 - c[15]),
        1 + (c[0] * 40.0) as u32 % 40,
        share(c[1]),
        (c[2] * 3_000_000.0).round(),
        (c[3] * 3_000_000.0).round(),
        (c[4] * 5_000_000.0).round(),
        (c[5] * 12_000_000.0).round(),
        1.0 + (c[6] * 200.0).round(),
        (c[7] * 12_000_000.0).round(),
        share(c[8]),
    );
    let text = format!(
        "schema_version = 1\nname = \"random\"\nstart = \"{}Q{}\"\nhorizon = {}\nprice_year = 2019\n\
         [[population.pension_age]]\nborn_from = \"1900Q1\"\nyears = 67.0\n{body}\n{costs}",
        2012 + d.seed % 10,
        1 + d.seed / 10 % 4,
        d.horizon
    );
    match scenario::load_text("random", &text, None) {
        Ok(l) => l.scenario,
        Err(e) => panic!("random scenario is invalid:\n{e}\n---\n{text}"),
    }
}

/// `a == b` up to the rounding of adding a few DKK amounts in `f64`.
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// Checks one replication's output values: money is finite and never
/// negative, the payer `all` is state plus
/// municipality, the item `total` is the sum of the items, a year is the
/// sum of its quarters, present values are discounted totals, and persons
/// are conserved quarter by quarter (the stock of each state moves only by
/// its recorded flows) and over the horizon.
fn check_values(
    sc: &Scenario,
    layout: &Layout,
    v: &[f64],
    scale: f64,
) -> Result<(), TestCaseError> {
    let mut at = std::collections::HashMap::new();
    for (i, c) in layout.cells.iter().enumerate() {
        at.insert(format!("{c:?}"), v[i]);
    }
    let get = |c: Cell| {
        *at.get(&format!("{c:?}"))
            .unwrap_or_else(|| panic!("no output cell {c:?}"))
    };
    let n_items = N_ITEMS as u8;
    for (c, &x) in layout.cells.iter().zip(v) {
        if c.is_money() {
            prop_assert!(x.is_finite() && x >= 0.0, "{c:?} = {x}");
        }
    }
    let payers = |cell: &dyn Fn(u8) -> Cell| -> Result<(), TestCaseError> {
        let [s, m, all] = [0, 1, 2].map(|p| get(cell(p)));
        prop_assert!(close(all, s + m), "{:?}: {all} is not {s} + {m}", cell(2));
        Ok(())
    };
    let items = |cell: &dyn Fn(u8) -> Cell| -> Result<(), TestCaseError> {
        let sum: f64 = (0..N_NAMED_ITEMS as u8).map(|i| get(cell(i))).sum();
        let total = get(cell(n_items));
        prop_assert!(
            close(total, sum),
            "{:?}: {total}, items sum to {sum}",
            cell(n_items)
        );
        Ok(())
    };
    let mut undiscounted = [0.0f64; 3];
    for t in 0..sc.horizon {
        for item in (0..N_NAMED_ITEMS as u8).chain([n_items]) {
            payers(&|payer| Cell::Cost { t, item, payer })?;
        }
        for payer in 0..3 {
            items(&|item| Cell::Cost { t, item, payer })?;
            undiscounted[payer as usize] += get(Cell::Cost {
                t,
                item: n_items,
                payer,
            });
        }
    }
    for &(year, _) in &layout.years {
        let quarters: Vec<u16> = (0..sc.horizon)
            .filter(|&t| sc.start.plus(t).year() == year)
            .collect();
        for item in (0..N_NAMED_ITEMS as u8).chain([n_items]) {
            payers(&|payer| Cell::AnnualCost { year, item, payer })?;
            for payer in 0..3 {
                let sum: f64 = quarters
                    .iter()
                    .map(|&t| get(Cell::Cost { t, item, payer }))
                    .sum();
                let y = get(Cell::AnnualCost { year, item, payer });
                prop_assert!(
                    close(y, sum),
                    "{year} item {item} payer {payer}: {y}, quarters sum to {sum}"
                );
            }
        }
        for payer in 0..3 {
            items(&|item| Cell::AnnualCost { year, item, payer })?;
        }
        for (payer, metric) in [
            (0, Annual::CostState),
            (1, Annual::CostMunicipality),
            (2, Annual::CostAll),
        ] {
            let a = get(Cell::Annual { year, metric });
            let y = get(Cell::AnnualCost {
                year,
                item: n_items,
                payer,
            });
            prop_assert!(close(a, y), "{year} {}: {a}, annual cost {y}", metric.id());
        }
    }
    payers(&|payer| Cell::Pv { payer })?;
    for payer in 0..3u8 {
        let pv = get(Cell::Pv { payer });
        let total = undiscounted[payer as usize];
        prop_assert!(
            pv <= total * (1.0 + 1e-9),
            "payer {payer}: present value {pv} above the total {total}"
        );
    }
    // Persons: each state's stock moves by its flows, and everyone created
    // is in exactly one state (`out` cumulative).
    let n = N_NAMED as u8;
    let stock = |t: u16, state: u8| get(Cell::Stock { t, state, age: 2 });
    for t in 0..=sc.horizon {
        for state in 0..n {
            let by_age =
                get(Cell::Stock { t, state, age: 0 }) + get(Cell::Stock { t, state, age: 1 });
            prop_assert!(
                close(stock(t, state), by_age),
                "t={t} state {state}: total is not the sum of the age groups"
            );
        }
    }
    let mut entrants = 0.0;
    for t in 0..sc.horizon {
        for state in 0..n {
            let inflow = get(Cell::Flow {
                t,
                from: fleksim::engine::cells::ENTRY as u8,
                to: state,
            });
            let into: f64 = (0..n)
                .filter(|&f| f != state)
                .map(|from| get(Cell::Flow { t, from, to: state }))
                .sum();
            let from_it: f64 = (0..n)
                .filter(|&to| to != state)
                .map(|to| get(Cell::Flow { t, from: state, to }))
                .sum();
            let expected = stock(t, state) + inflow + into - from_it;
            prop_assert!(
                close(stock(t + 1, state), expected),
                "t={t} state {state}: stock {} after, {} before + {inflow} entrants + {into} in - {from_it} out",
                stock(t + 1, state),
                stock(t, state)
            );
            entrants += inflow;
        }
    }
    let created: f64 = sc
        .inflow
        .iter()
        .map(|c| f64::from(runner::scaled(c.count, scale)) / scale)
        .sum::<f64>()
        * f64::from(sc.horizon);
    prop_assert!(
        close(entrants, created),
        "{entrants} entrants in the flows, {created} created"
    );
    let initial: f64 = (0..n).map(|s| stock(0, s)).sum();
    let end: f64 = (0..n).map(|s| stock(sc.horizon, s)).sum();
    prop_assert!(
        close(end, initial + entrants),
        "{end} at the end, {initial} at the start + {entrants} entrants"
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Random valid scenarios run (the runner checks conservation every
    /// quarter and fails with an internal error if it breaks), and every
    /// replication's outputs pass [`check_values`]; the means reported in
    /// costs.csv and annual.csv keep the payer and item totals too.
    #[test]
    fn random_scenarios_conserve_persons_and_money(d in draws()) {
        let sc = random_scenario(&d);
        let p = Prepared::new(&sc);
        let cfg = RunConfig { replications: 2, seed: d.seed, scale: d.scale };
        let layout = Layout::new(sc.start, sc.horizon, sc.costs.discount_rate);
        let mut each = Vec::new();
        let res = runner::run_each(&p, &cfg, &|| {}, &mut |v| each.push(v.to_vec()));
        let res = match res {
            Ok(r) => r,
            Err(e) => return Err(TestCaseError::fail(format!("run failed: {e}"))),
        };
        prop_assert_eq!(each.len(), 2);
        for v in &each {
            check_values(&sc, &layout, v, d.scale)?;
        }
        let means: Vec<f64> = res.stats.iter().map(|s| s.mean).collect();
        check_values(&sc, &res.layout, &means, d.scale)?;
        assert_conserved(&sc, &res, d.scale);
        // Absorbing `out` never decreases.
        for t in 1..=sc.horizon {
            prop_assert!(stock(&res, t, State::Out).mean >= stock(&res, t - 1, State::Out).mean);
        }
    }
}

/// One person-quarter of each benefit, priced by hand: 1,000 persons who
/// never move, first and second quarter on benefit (refusion 50 % then 40 %).
#[test]
fn cost_ledger_matches_hand_computation() {
    let body = r#"
[population.stock.kontanthjaelp]
count = 1000
age = { "20-30" = 1.0 }
duration = { "0" = 1.0 }
[population.stock.ressourceforloeb]
count = 1000
age = { "20-30" = 1.0 }
duration = { "0" = 1.0 }
insured = 1.0
[population.stock.fleksjob]
count = 1000
age = { "20-30" = 1.0 }
duration = { "0" = 1.0 }
hours = { "10" = 1.0 }
[population.stock.foertidspension]
count = 1000
age = { "20-30" = 1.0 }
duration = { "0" = 1.0 }
pre2014 = 1.0
"#;
    let sc = scenario("ledger", 2, body);
    let res = run(&sc, 2, 1, 1.0);
    let cost = |t: u16, item: u8, payer: u8| {
        fleksim::output::report::get(&res, Cell::Cost { t, item, payer })
            .expect("cost cell")
            .mean
    };
    let n = 1000.0 * 3.0;
    // kontanthjælp: 10,000 a month; state 50 % in the first quarter, 40 % in the second.
    assert_eq!(cost(0, 0, 0), n * 10000.0 * 0.5);
    assert_eq!(cost(0, 0, 1), n * 10000.0 * 0.5);
    assert_eq!(cost(1, 0, 0), n * 10000.0 * 0.4);
    // ressourceforløbsydelse with the insurance payment offset 100 %: 11,000 - 5,000.
    assert_eq!(cost(0, 2, 2), n * 6000.0);
    // Flex-job subsidy at 10 hours a week: wage 10 * 200 * 4 = 8,000; 18,000 - 0.3 * 8,000.
    assert_eq!(cost(0, 4, 2), n * (18000.0 - 0.3 * 8000.0));
    // Førtidspension awarded before July 2014: 35 % state whatever the clock.
    assert_eq!(cost(1, 6, 0), n * 17000.0 * 0.35);
    assert_eq!(cost(1, 6, 1), n * 17000.0 * 0.65);
    // Totals add up (no services are priced in this scenario).
    let n_items = fleksim::engine::costing::N_NAMED_ITEMS as u8;
    let total: f64 = (0..n_items).map(|i| cost(0, i, 2)).sum();
    let total_item = fleksim::engine::costing::N_ITEMS as u8;
    assert_eq!(cost(0, total_item, 2), total);
    assert_eq!(total, n * (10000.0 + 6000.0 + 15600.0 + 17000.0));
}

/// The refusion clock pauses off benefit and resets after a year (four
/// quarters) off it: back on cash benefit after four quarters in work, the
/// state pays the first-quarter share (50 % here); after three, the clock
/// continues (fourth quarter on benefit: 25 %).
#[test]
fn refusion_clock_resets_after_a_year_off_benefit() {
    let share_back = |quarters_off: u16| {
        let body = format!(
            r#"
[population.stock.kontanthjaelp]
count = 1000
age = {{ "20-30" = 1.0 }}
duration = {{ "0" = 1.0 }}
[transitions.kontanthjaelp]
employed = {{ all = {{ "1-2" = 0.0, "3" = 1.0, "4+" = 0.0 }} }}
[transitions.employed]
kontanthjaelp = {{ all = {{ "1-{before}" = 0.0, "{quarters_off}" = 1.0, "{after}+" = 0.0 }} }}
"#,
            before = quarters_off - 1,
            after = quarters_off + 1
        );
        let sc = scenario(&format!("reset{quarters_off}"), 10, &body);
        let res = run(&sc, 2, 1, 1.0);
        let back = 3 + quarters_off; // first quarter back on benefit
        let get = |payer| {
            fleksim::output::report::get(
                &res,
                Cell::Cost {
                    t: back,
                    item: 0,
                    payer,
                },
            )
            .expect("cost cell")
            .mean
        };
        assert!(
            get(2) > 0.0,
            "everyone is back on benefit in quarter {back}"
        );
        get(0) / get(2)
    };
    assert_eq!(share_back(4), 0.5);
    assert_eq!(share_back(3), 0.25);
}

/// Memory: the bins' columns take at most 16 bytes per person not yet out
/// (13 bytes of columns, growth by an eighth), plus the smallest allocation
/// of each bin, through a whole baseline run, and nothing per person out.
#[test]
fn columns_stay_within_16_bytes_per_person() {
    use fleksim::engine::kernel::{self, Counters, Tables};
    use fleksim::engine::population::{Population, scaled};
    use fleksim::engine::rng::RepKey;
    let sc = scenario::baseline().scenario;
    let scale = 0.05;
    let tables = Tables::compile(&sc);
    let key = RepKey::new(2019, 0);
    let mut pop = Population::for_scenario(&sc, scale).unwrap();
    for c in &sc.stock {
        pop.add_group(&sc, c, 0, scaled(c.count, scale), sc.start, key);
    }
    let mut counters = Counters::default();
    let slack = N_STATES * 64 * Population::BYTES_PER_PERSON;
    let mut most = 0.0f64;
    for t in 0..sc.horizon {
        counters.reset_quarter();
        for c in &sc.inflow {
            pop.add_group(&sc, c, t + 1, scaled(c.count, scale), sc.start.plus(t), key);
        }
        kernel::step(&tables, &mut pop, t, key, &mut counters);
        let alive = pop.len() - pop.n_out();
        let bytes = pop.column_bytes();
        assert!(
            bytes <= 16 * alive + slack,
            "quarter {t}: {bytes} bytes for {alive} persons not out"
        );
        most = most.max(bytes as f64 / alive as f64);
    }
    assert!(pop.n_out() > 0, "some persons left, and hold no columns");
    eprintln!("most bytes per person not out: {most:.2}");
}

/// The citizen outcomes measured from a spell's start, on chains whose spell
/// lengths are geometric: a ressourceforløb ends each quarter in
/// førtidspension (clarified) with probability 0.2 and in kontanthjælp with
/// 0.1, so the ended spells are clarified with probability 2/3 whatever
/// their length, and last `E[K | K <= H]` quarters; a kontanthjælp spell
/// ends in work with 0.15 a quarter, and the quarters beyond the first year
/// of those ending after at least a year are `E[K - 4 | 4 <= K <= H]`.
/// Tolerance: 4 standard errors across replications.
#[test]
fn spell_outcomes_match_the_geometric_answer() {
    fn truncated_mean(p: f64, lo: u32, hi: u32, shift: f64) -> f64 {
        let (mut num, mut den) = (0.0, 0.0);
        for k in lo..=hi {
            let w = (1.0 - p).powi(k as i32 - 1) * p;
            num += w * (f64::from(k) - shift);
            den += w;
        }
        num / den
    }
    let citizen = |res: &RunResult, id: &str| {
        let metric = fleksim::engine::results::Citizen::ALL
            .into_iter()
            .find(|m| m.id() == id)
            .expect("metric id");
        fleksim::output::report::get(res, Cell::Citizen { metric }).expect("citizen cell")
    };
    let close = |what: &str, got: fleksim::engine::stats::CellStats, want: f64| {
        assert!(
            (got.mean - want).abs() <= 4.0 * got.se,
            "{what}: simulated {} (se {}), exact {want}",
            got.mean,
            got.se
        );
    };

    let rf = scenario(
        "rf-spells",
        8,
        r#"
[population.stock.ressourceforloeb]
count = 20000
age = { "20-30" = 1.0 }
duration = { "0" = 1.0 }
[transitions.ressourceforloeb]
foertidspension = { all = 0.2 }
kontanthjaelp = { all = 0.1 }
"#,
    );
    let res = run(&rf, 20, 5, 1.0);
    close(
        "rf_share_clarified",
        citizen(&res, "citizen.rf_share_clarified"),
        2.0 / 3.0,
    );
    close(
        "rf_quarters_to_clarification",
        citizen(&res, "citizen.rf_quarters_to_clarification"),
        truncated_mean(0.3, 1, 8, 0.0),
    );

    let kh = scenario(
        "cash-spells",
        12,
        r#"
[population.stock.kontanthjaelp]
count = 20000
age = { "20-30" = 1.0 }
duration = { "0" = 1.0 }
[transitions.kontanthjaelp]
employed = { all = 0.15 }
"#,
    );
    let res = run(&kh, 20, 6, 1.0);
    close(
        "cash_year_quarters_to_clarification",
        citizen(&res, "citizen.cash_year_quarters_to_clarification"),
        truncated_mean(0.15, 4, 12, 4.0),
    );
}

/// The simulated population stays bounded: over a 40-year horizon the
/// persons still simulated (every state but `out`) grow by less than 5 %
/// in the last 20 years, because persons who have left the benefit system
/// for good leave the simulation (`left_for_good`). Without that, `employed`
/// alone grew by about 130,000 persons a year.
#[test]
fn population_stays_bounded_over_forty_years() {
    let mut sc = scenario::baseline().scenario;
    sc.horizon = 160;
    let res = run(&sc, 2, 3, 0.02);
    let live = |t: u16| -> f64 {
        State::ALL[..N_NAMED]
            .iter()
            .filter(|&&s| s != State::Out)
            .map(|&s| stock(&res, t, s).mean)
            .sum()
    };
    let (mid, end) = (live(80), live(160));
    assert!(
        end < 1.05 * mid,
        "persons simulated: {mid} after 20 years, {end} after 40"
    );
    let employed = stock(&res, 160, State::Employed).mean;
    assert!(employed < 500_000.0, "employed after 40 years: {employed}");
}
