//! Prices person-quarters: benefit amounts and who pays them.
//!
//! **Architecture invariant:** costing never touches the population or a
//! random number. It turns the kernel's occupancy counts into money after
//! the loop, in integer øre (1/100 DKK), so totals are exact and the same
//! whatever order replications are summed in.
//!
//! A person-quarter in a benefit state costs three times the monthly rate.
//! The flex-job wage subsidy (fleksløntilskud) is computed from hours a week
//! by the formula of domain.md §5. Insured persons in ressourceforløb have
//! `offset` of their private payment deducted. The state's share follows the
//! refusion steps by the person's quarters on benefit (clock band); the
//! municipality pays the rest. Førtidspension awarded before 1 July 2014 has
//! its own fixed split.

use crate::kernel::{N_BANDS, N_CELLS, N_VAR, cell};
use crate::scenario::{Costs, N_STATES, Scenario, State};

/// Benefit items, indexed by state (the first seven states pay one each).
pub const N_ITEMS: usize = 7;

/// Item id of benefit state `i`.
pub fn item_id(i: usize) -> &'static str {
    State::from_index(i).benefit_item().expect("benefit state")
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
    match State::from_index(state) {
        State::Fleksjob => flex_subsidy(c, var as f64),
        State::Ressourceforloeb if var % 2 == 1 => {
            (c.monthly[state] - c.insurance_offset * c.insurance_payment).max(0.0)
        }
        _ => c.monthly[state],
    }
}

/// The state's share for a person-quarter.
pub fn state_share(c: &Costs, state: usize, band: usize, var: usize) -> f64 {
    if state == State::Foertidspension as usize && var == 1 {
        c.fp_pre2014_state_share
    } else {
        c.state_share[band]
    }
}

/// Øre per person-quarter for every occupancy cell, split state / municipality.
#[derive(Debug, Clone)]
pub struct CostTable {
    cents: Vec<[i64; 2]>,
}

impl CostTable {
    pub fn new(s: &Scenario) -> CostTable {
        let c = &s.costs;
        let mut cents = vec![[0i64; 2]; N_CELLS];
        for state in 0..N_ITEMS {
            for age in 0..2 {
                for band in 0..N_BANDS {
                    for var in 0..N_VAR {
                        let quarter = (monthly_amount(c, state, var) * 3.0 * 100.0).round() as i64;
                        let st = (quarter as f64 * state_share(c, state, band, var)).round() as i64;
                        cents[cell(state, age, band, var)] = [st, quarter - st];
                    }
                }
            }
        }
        const { assert!(N_ITEMS < N_STATES) };
        CostTable { cents }
    }

    /// Adds the cost of one quarter's occupancy to `out[item][payer]` (øre).
    pub fn price(&self, occupancy: &[u32], out: &mut [[i64; 2]; N_ITEMS]) {
        for (state, item) in out.iter_mut().enumerate() {
            let lo = cell(state, 0, 0, 0);
            let hi = cell(state + 1, 0, 0, 0);
            let mut acc = [0i64; 2];
            for (n, c) in occupancy[lo..hi].iter().zip(&self.cents[lo..hi]) {
                let n = i64::from(*n);
                acc[0] += n * c[0];
                acc[1] += n * c[1];
            }
            item[0] += acc[0];
            item[1] += acc[1];
        }
    }
}
