//! Prices person-quarters: benefit amounts and who pays them.
//!
//! **Architecture invariant:** costing never touches the population or a
//! random number. It turns the kernel's occupancy counts into money after
//! the loop, in integer øre (1/100 DKK), so totals are exact and the same
//! whatever order replications are summed in.
//!
//! A person-quarter in a benefit state costs three times the monthly rate.
//! The flex-job wage subsidy (fleksløntilskud) is computed from hours a week
//! by the formula in docs/rates.md. Insured persons in ressourceforløb have
//! `offset` of their private payment deducted. The state's share follows the
//! refusion steps by the person's quarters on benefit (clock band); the
//! municipality pays the rest. Førtidspension awarded before 1 July 2014 has
//! its own fixed split, and a scenario may fix the split of later awards
//! (lever D3).
//!
//! Services besides benefits are items of their own, paid by the
//! municipality unless a state share is given: interventions per quarter in
//! an active or company-oriented ressourceforløb phase, the coordinating
//! caseworker per ressourceforløb case-quarter (salary / caseload / 4),
//! the rehabilitation team per ressourceforløb start, and education during
//! revalidering.

use crate::engine::cells::{ENTRY, N_AGES, N_BANDS, N_CELLS, N_VAR, cell};
use crate::scenario::{Costs, N_NAMED, N_STATES, N_VARIANTS, Phase, Scenario, State};

/// Items of the named states: benefits (indexed by state, the first seven
/// states) and services.
pub const N_NAMED_ITEMS: usize = 11;
/// Every item: the named ones, then one per variant slot (indexed by the
/// slot's state index, so a benefit's item is its state's index).
pub const N_ITEMS: usize = N_NAMED_ITEMS + N_VARIANTS;
const _: () = assert!(N_NAMED_ITEMS == N_NAMED);
/// Number of benefit items (one per benefit state).
pub const N_BENEFITS: usize = 7;
pub const INTERVENTION: usize = 7;
pub const CASEWORKER: usize = 8;
pub const REHAB_TEAM: usize = 9;
pub const EDUCATION: usize = 10;

/// Item id of a named item (for costs.csv and metric names; a variant's
/// item is named by its id, see `results::Layout::item_id`).
pub fn item_id(i: usize) -> &'static str {
    match i {
        INTERVENTION => "intervention",
        CASEWORKER => "caseworker",
        REHAB_TEAM => "rehab_team",
        EDUCATION => "revalidering_education",
        _ => State::from_index(i).benefit_item().expect("benefit state"),
    }
}

/// Payer ids in output order.
pub const PAYERS: [&str; 2] = ["state", "municipality"];

/// Monthly fleksløntilskud for a flex job of `hours` a week:
/// `max - rate_below * min(wage, threshold) - rate_above * max(wage - threshold, 0)`,
/// never below 0, where `wage = hours * hourly_wage * weeks_per_month`.
pub fn flex_subsidy(c: &Costs, hours: f64) -> f64 {
    let wage = hours * c.hourly_wage * c.weeks_per_month;
    let below = wage.min(c.flex_threshold);
    let above = (wage - c.flex_threshold).max(0.0);
    (c.flex_max - c.flex_rate_below * below - c.flex_rate_above * above).max(0.0)
}

/// Monthly benefit paid for one person in `state` with cost variant `var`
/// (see `kernel::step`: flex hours, ressourceforløb phase*2+insured, pre-2014 bit).
pub fn monthly_amount(c: &Costs, state: usize, var: usize) -> f64 {
    monthly_amount_as(c, State::from_index(state), state, var, 0)
}

/// [`monthly_amount`] for a state paid by the formula of `base` (itself, or
/// a variant's base) at its own rate for a person `age_q` quarters old.
fn monthly_amount_as(c: &Costs, base: State, state: usize, var: usize, age_q: u16) -> f64 {
    let rate = c.rate_at(state, age_q);
    match base {
        State::Fleksjob => flex_subsidy(c, var as f64),
        State::Ressourceforloeb if var % 2 == 1 => {
            (rate - c.insurance_offset * c.insurance_payment).max(0.0)
        }
        _ => rate,
    }
}

/// The state's share for a person-quarter of a variant of `base` in slot
/// `state`: its own fixed share if `[costs.financing]` gives one, else its
/// base's rule (a variant of førtidspension has no pre-2014 awards).
fn variant_state_share(c: &Costs, base: State, state: usize, band: usize) -> f64 {
    match c.variant_state_share[state - N_NAMED] {
        Some(share) => share,
        None => state_share(c, base as usize, band, 0),
    }
}

/// The state's share for a person-quarter.
pub fn state_share(c: &Costs, state: usize, band: usize, var: usize) -> f64 {
    match (
        state == State::Foertidspension as usize,
        var == 1,
        c.fp_state_share,
    ) {
        (true, true, _) => c.fp_pre2014_state_share,
        (true, false, Some(share)) => share,
        _ => c.state_share[band],
    }
}

/// Whether a state's person-quarters are priced under a benefit item of
/// its own: the benefit states and the variant slots (items and states
/// share indices there), not the states between them.
fn has_benefit_item(state: usize) -> bool {
    !(N_BENEFITS..N_NAMED).contains(&state)
}

/// Splits `amount` øre into (state, municipality) by `share`.
fn split(amount: i64, share: f64) -> [i64; 2] {
    let st = (amount as f64 * share).round() as i64;
    [st, amount - st]
}

fn ore(dkk: f64) -> i64 {
    (dkk * 100.0).round() as i64
}

/// Øre per person-quarter for every occupancy cell, split state / municipality:
/// the benefit of the cell's state, and at most one service item.
#[derive(Debug, Clone)]
pub struct CostTable {
    cents: Vec<[i64; 2]>,
    /// `(service item, øre split)` per cell (`item == 0`: none).
    service: Vec<(usize, [i64; 2])>,
    /// Øre per ressourceforløb start, split.
    rehab_team: [i64; 2],
    /// Øre per ressourceforløb case-quarter, split.
    caseworker: [i64; 2],
}

impl CostTable {
    pub fn new(s: &Scenario) -> CostTable {
        let c = &s.costs;
        let sv = &c.services;
        let mut cents = vec![[0i64; 2]; N_CELLS];
        let mut service = vec![(0usize, [0i64; 2]); N_CELLS];
        let rf = State::Ressourceforloeb as usize;
        let caseworker = sv.caseworker_salary / sv.caseworker_caseload / 4.0;
        // Money's age groups and the youngest age of each (`Costs::age_cuts`).
        let cuts = c.age_cuts();
        let first_age = |age: usize| {
            if age == 0 {
                0
            } else {
                cuts[(age - 1).min(cuts.len() - 1)]
            }
        };
        for age in 0..N_AGES {
            for band in 0..N_BANDS {
                for var in 0..N_VAR {
                    // Ressourceforløb variants are phase * 2 + insured.
                    let phase = var / 2;
                    let intervention = if phase == Phase::Active as usize {
                        sv.intervention_active
                    } else if phase == Phase::Company as usize {
                        sv.intervention_company
                    } else {
                        0.0
                    };
                    service[cell(rf, age, band, var)] =
                        (INTERVENTION, split(ore(intervention), 0.0));
                    let reval = cell(State::Revalidering as usize, age, band, var);
                    let edu = ore(sv.revalidering_education / 4.0);
                    service[reval] = (EDUCATION, split(edu, sv.revalidering_education_state_share));
                }
            }
        }
        let caseworker = split(ore(caseworker), 0.0);
        for state in 0..N_BENEFITS {
            for age in 0..N_AGES {
                for band in 0..N_BANDS {
                    for var in 0..N_VAR {
                        let amount = monthly_amount_as(
                            c,
                            State::from_index(state),
                            state,
                            var,
                            first_age(age),
                        );
                        let quarter = ore(amount * 3.0);
                        cents[cell(state, age, band, var)] =
                            split(quarter, state_share(c, state, band, var));
                    }
                }
            }
        }
        for v in &s.variants {
            let state = v.slot as usize;
            for age in 0..N_AGES {
                for band in 0..N_BANDS {
                    for var in 0..N_VAR {
                        let amount = monthly_amount_as(c, v.of, state, var, first_age(age));
                        let quarter = ore(amount * 3.0);
                        cents[cell(state, age, band, var)] =
                            split(quarter, variant_state_share(c, v.of, state, band));
                    }
                }
            }
        }
        const { assert!(N_BENEFITS < N_STATES) };
        CostTable {
            cents,
            service,
            rehab_team: split(ore(sv.rehab_team_per_case), 0.0),
            caseworker,
        }
    }

    /// Adds the cost of one quarter to `out[item][payer]` (øre): occupancy
    /// (benefits, interventions, education, caseworkers) and ressourceforløb
    /// starts from `flows[age][from][to]` (rehabilitation team).
    ///
    /// The arithmetic is checked: a sum beyond the 64-bit øre ledger is an
    /// error, never a wrapped number (the amount limits of
    /// `scenario::limits::Amount` keep it out of reach of any population a
    /// replication can hold).
    pub fn price(
        &self,
        occupancy: &[u32],
        flows: &[[[u32; N_STATES]; N_STATES + 1]; 2],
        out: &mut [[i64; 2]; N_ITEMS],
    ) -> Result<(), LedgerOverflow> {
        let rf = State::Ressourceforloeb as usize;
        for state in 0..N_STATES {
            let lo = cell(state, 0, 0, 0);
            let hi = cell(state + 1, 0, 0, 0);
            let mut persons = 0i64;
            for ((n, c), (item, sc)) in occupancy[lo..hi]
                .iter()
                .zip(&self.cents[lo..hi])
                .zip(&self.service[lo..hi])
            {
                if *n == 0 {
                    continue;
                }
                let n = i64::from(*n);
                persons += n;
                if has_benefit_item(state) {
                    add(&mut out[state], n, *c)?;
                }
                if *item != 0 {
                    add(&mut out[*item], n, *sc)?;
                }
            }
            if state == rf {
                add(&mut out[CASEWORKER], persons, self.caseworker)?;
            }
        }
        let starts: i64 = (0..2)
            .flat_map(|age| (0..=ENTRY).map(move |from| (age, from)))
            .map(|(age, from)| i64::from(flows[age][from][rf]))
            .sum();
        add(&mut out[REHAB_TEAM], starts, self.rehab_team)
    }
}

/// A quarter's cost beyond what 64-bit øre can count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LedgerOverflow;

impl std::fmt::Display for LedgerOverflow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "a quarter's cost exceeds the ledger's range of {} øre",
            i64::MAX
        )
    }
}

/// `acc[payer] += n * price[payer]`, checked.
fn add(acc: &mut [i64; 2], n: i64, price: [i64; 2]) -> Result<(), LedgerOverflow> {
    for payer in 0..2 {
        acc[payer] = n
            .checked_mul(price[payer])
            .and_then(|x| acc[payer].checked_add(x))
            .ok_or(LedgerOverflow)?;
    }
    Ok(())
}

impl CostTable {
    /// [`CostTable::price`] for expected counts (exact mode): the same
    /// prices per person-quarter and per start, in øre as `f64`.
    pub fn price_expected(
        &self,
        occupancy: &[f64],
        flows: &[[[f64; N_STATES]; N_STATES + 1]; 2],
        out: &mut [[f64; 2]; N_ITEMS],
    ) {
        let rf = State::Ressourceforloeb as usize;
        for state in 0..N_STATES {
            let lo = cell(state, 0, 0, 0);
            let hi = cell(state + 1, 0, 0, 0);
            let mut persons = 0.0;
            for ((&n, c), (item, sc)) in occupancy[lo..hi]
                .iter()
                .zip(&self.cents[lo..hi])
                .zip(&self.service[lo..hi])
            {
                if n == 0.0 {
                    continue;
                }
                persons += n;
                if has_benefit_item(state) {
                    out[state][0] += n * c[0] as f64;
                    out[state][1] += n * c[1] as f64;
                }
                if *item != 0 {
                    out[*item][0] += n * sc[0] as f64;
                    out[*item][1] += n * sc[1] as f64;
                }
            }
            if state == rf {
                out[CASEWORKER][0] += persons * self.caseworker[0] as f64;
                out[CASEWORKER][1] += persons * self.caseworker[1] as f64;
            }
        }
        let starts: f64 = (0..2)
            .flat_map(|age| (0..=ENTRY).map(move |from| (age, from)))
            .map(|(age, from)| flows[age][from][rf])
            .sum();
        out[REHAB_TEAM][0] += starts * self.rehab_team[0] as f64;
        out[REHAB_TEAM][1] += starts * self.rehab_team[1] as f64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario;

    fn costs() -> Costs {
        scenario::baseline().scenario.costs
    }

    /// docs/rates.md: subsidy = max - 30 % of wage up to the threshold - 55 %
    /// of wage above it, never below 0; wage = hours * hourly wage * weeks.
    #[test]
    fn flex_subsidy_at_three_wage_levels() {
        let c = costs();
        let wage = |h: f64| h * c.hourly_wage * c.weeks_per_month;
        // 10 hours: wage 8,660, below the 14,650 threshold.
        assert!((flex_subsidy(&c, 10.0) - (18489.0 - 0.30 * wage(10.0))).abs() < 1e-9);
        // 30 hours: wage 25,980, above the threshold.
        let expected = 18489.0 - 0.30 * 14650.0 - 0.55 * (wage(30.0) - 14650.0);
        assert!((flex_subsidy(&c, 30.0) - expected).abs() < 1e-9);
        // 37 hours at a high wage: the formula goes negative, the subsidy is 0.
        let mut rich = c.clone();
        rich.hourly_wage = 400.0;
        assert_eq!(flex_subsidy(&rich, 37.0), 0.0);
    }

    /// The refusion steps by quarter on benefit, at each boundary, and the
    /// fixed splits for førtidspension.
    #[test]
    fn refusion_steps_at_each_boundary() {
        let c = costs();
        let kh = State::Kontanthjaelp as usize;
        for (band, share) in [0.523, 0.40, 0.30, 0.30, 0.20].into_iter().enumerate() {
            assert_eq!(state_share(&c, kh, band, 0), share, "band {band}");
        }
        let fp = State::Foertidspension as usize;
        assert_eq!(state_share(&c, fp, 4, 1), 0.35, "awarded before July 2014");
        assert_eq!(
            state_share(&c, fp, 4, 0),
            0.20,
            "after July 2014: the refusion steps"
        );
        let mut d3 = c.clone();
        d3.fp_state_share = Some(1.0);
        assert_eq!(state_share(&d3, fp, 4, 0), 1.0, "D3: full state financing");
        assert_eq!(
            state_share(&d3, fp, 4, 1),
            0.35,
            "D3 leaves the pre-2014 split"
        );
    }

    /// One person-quarter of each benefit, priced by the table.
    #[test]
    fn one_person_quarter_in_each_benefit() {
        // Flat rates (no rates by age): one rate per benefit.
        let mut sc = scenario::baseline().scenario;
        sc.costs.monthly_ages.clear();
        let t = CostTable::new(&sc);
        let c = &sc.costs;
        for state in 0..N_BENEFITS {
            let var = if state == State::Fleksjob as usize {
                10
            } else {
                0
            };
            let mut occ = vec![0u32; N_CELLS];
            occ[cell(state, 1, 4, var)] = 1;
            let mut out = [[0i64; 2]; N_ITEMS];
            t.price(&occ, &[[[0; N_STATES]; N_STATES + 1]; 2], &mut out)
                .unwrap();
            let expected = ore(monthly_amount(c, state, var) * 3.0);
            assert_eq!(
                out[state][0] + out[state][1],
                expected,
                "{}",
                item_id(state)
            );
            assert_eq!(
                out[state][0],
                (expected as f64 * state_share(c, state, 4, var)).round() as i64
            );
        }
    }

    /// The ledger refuses a sum it cannot hold instead of wrapping.
    #[test]
    fn an_overflowing_quarter_is_an_error() {
        let mut sc = scenario::baseline().scenario;
        sc.costs.monthly_ages.clear();
        sc.costs.monthly[State::Kontanthjaelp as usize] = 1e10;
        let t = CostTable::new(&sc);
        let mut occ = vec![0u32; N_CELLS];
        occ[cell(State::Kontanthjaelp as usize, 0, 0, 0)] = u32::MAX;
        let mut out = [[0i64; 2]; N_ITEMS];
        let flows = [[[0; N_STATES]; N_STATES + 1]; 2];
        assert_eq!(t.price(&occ, &flows, &mut out), Err(LedgerOverflow));
        // At the validated bound the same quarter fits.
        sc.costs.monthly[State::Kontanthjaelp as usize] =
            crate::scenario::limits::Amount::Monthly.max();
        let t = CostTable::new(&sc);
        let mut out = [[0i64; 2]; N_ITEMS];
        t.price(&occ, &flows, &mut out).unwrap();
        assert!(out[State::Kontanthjaelp as usize].iter().all(|&x| x > 0));
    }
}
