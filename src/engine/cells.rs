//! The layout of the integer counters shared by the quarter loop
//! ([`kernel`](super::kernel)), pricing ([`costing`](super::costing)) and the
//! results: occupancy cells by (state, age group, refusion band, cost
//! variant), the `entry` pseudo-state of the flow counters, and the bits of
//! the per-person ressourceforløb column.

use crate::scenario::{MAX_COST_AGES, N_STATES};

/// Index of the `entry` pseudo-state in flow counters.
pub const ENTRY: usize = N_STATES;
/// Cost variants per (state, age, clock band): flex-job hours 0..=37.
pub const N_VAR: usize = 38;
/// Refusion clock bands: quarter 1, 2, 3, 4, 5 and later on benefit.
pub const N_BANDS: usize = 5;
/// Age groups money is counted in: the bands of rates by age, cut at 40
/// too (`Costs::age_cuts`); unused groups stay empty.
pub const N_AGES: usize = MAX_COST_AGES;
/// Occupancy cells of one state: its age groups, in [`cell`] order.
pub const STATE_CELLS: usize = N_AGES * N_BANDS * N_VAR;
/// Occupancy cells per quarter.
pub const N_CELLS: usize = N_STATES * STATE_CELLS;

/// Occupancy cell of a person-quarter.
#[inline(always)]
pub fn cell(state: usize, age: usize, band: usize, var: usize) -> usize {
    ((state * N_AGES + age) * N_BANDS + band) * N_VAR + var
}

/// Bits of the `rf_total` column: quarters ever in ressourceforløb (saturating)
/// and the mark that the person has reached a clarified status.
pub const RF_COUNT: u8 = crate::scenario::RF_CLOCK_LIMIT;
pub const CLARIFIED: u8 = 0x80;
