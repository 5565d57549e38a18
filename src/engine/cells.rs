//! The layout of the integer counters shared by the quarter loop
//! ([`kernel`](super::kernel)), pricing ([`costing`](super::costing)) and the
//! results: occupancy cells by (state, age group, refusion band, cost
//! variant), the `entry` pseudo-state of the flow counters, and the bits of
//! the per-person ressourceforløb column.

use crate::scenario::N_STATES;

/// Index of the `entry` pseudo-state in flow counters.
pub const ENTRY: usize = N_STATES;
/// Cost variants per (state, age, clock band): flex-job hours 0..=37.
pub const N_VAR: usize = 38;
/// Refusion clock bands: quarter 1, 2, 3, 4, 5 and later on benefit.
pub const N_BANDS: usize = 5;
/// Occupancy cells of one state: its two age groups, in [`cell`] order.
pub const STATE_CELLS: usize = 2 * N_BANDS * N_VAR;
/// Occupancy cells per quarter.
pub const N_CELLS: usize = N_STATES * 2 * N_BANDS * N_VAR;

/// Occupancy cell of a person-quarter.
#[inline(always)]
pub fn cell(state: usize, age: usize, band: usize, var: usize) -> usize {
    ((state * 2 + age) * N_BANDS + band) * N_VAR + var
}

/// Bits of the `rf_total` column: quarters ever in ressourceforløb (saturating)
/// and the mark that the person has reached a clarified status.
pub const RF_COUNT: u8 = crate::scenario::RF_CLOCK_LIMIT;
pub const CLARIFIED: u8 = 0x80;
