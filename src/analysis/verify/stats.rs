//! The statistics of the frequency check: one exact two-sided binomial
//! test per (cell, outcome) with enough exposure, and Holm's step-down
//! adjustment over all of them.

use statrs::distribution::{Binomial, DiscreteCDF};

use super::plan::Plan;
use super::*;

impl Plan<'_> {
    /// Turns the counts into tests.
    pub(super) fn evaluate(&self, tally: &Tally, cfg: &VerifyConfig) -> Verification {
        let mut b = Builder {
            tests: Vec::new(),
            skipped: 0,
            impossible_unobserved: 0,
            min_expected: cfg.min_expected,
        };
        let mut keys: Vec<&Key> = tally.moves.keys().collect();
        keys.sort();
        let mut person_quarters = 0;
        for k in &keys {
            let counts = &tally.moves[*k];
            let p = self.expected(k);
            let n: u64 = counts.iter().sum();
            person_quarters += n;
            let label = self.label(k);
            // Unused variant slots are no outcome.
            let used = |i: &usize| *i == STAY || self.sc.states().any(|s| s as usize == *i);
            let outcomes = (0..=N_STATES).filter(used).map(|i| {
                let name = if i == STAY {
                    "stay"
                } else {
                    self.sc.state_id(State::from_index(i))
                };
                (name.to_string(), counts[i], p[i])
            });
            b.cell(&label, n, outcomes);
        }
        let other = |decision, state: &str, duration: String, phase: &str| CellLabel {
            decision,
            state: state.into(),
            age_group: "-".into(),
            duration,
            class: "-".into(),
            phase: phase.into(),
            gates: "-".into(),
            forced: "-".into(),
        };
        let rf = State::Ressourceforloeb.id();
        for (f, counts) in tally.phase.iter().enumerate() {
            let row = &self.sc.phase_matrix[f];
            let moving: f64 = (0..N_PHASES).filter(|&g| g != f).map(|g| row[g]).sum();
            let outcomes = (0..N_PHASES).map(|g| {
                let p = if g == f {
                    (1.0 - moving).max(0.0)
                } else {
                    row[g]
                };
                (Phase::ALL[g].id().to_string(), counts[g], p)
            });
            let n = counts.iter().sum();
            b.cell(
                &other(Decision::Phase, rf, "-".into(), Phase::ALL[f].id()),
                n,
                outcomes,
            );
        }
        let entry = self.sc.entry_phase as usize;
        let outcomes = (0..N_PHASES).map(|g| {
            (
                Phase::ALL[g].id().to_string(),
                tally.entry[g],
                f64::from(u8::from(g == entry)),
            )
        });
        b.cell(
            &other(Decision::Phase, rf, "-".into(), "entry"),
            tally.entry.iter().sum(),
            outcomes,
        );
        let fx = &self.sc.flex;
        let p_raise = if fx.raise_step_hours > 0 {
            fx.raise_probability
        } else {
            0.0
        };
        let names = ["raise", "unchanged", "other"];
        let ps = [p_raise, 1.0 - p_raise, 0.0];
        b.cell(
            &other(
                Decision::Hours,
                State::Fleksjob.id(),
                format!("{}+", fx.raise_after_quarters),
                "-",
            ),
            tally.raise.iter().sum(),
            (0..3).map(|i| (names[i].to_string(), tally.raise[i], ps[i])),
        );
        for (what, counts) in [
            ("hours", &tally.hours_fixed),
            ("flags", &tally.flags_fixed),
            (
                "marks_outside_ressourceforloeb_fleksjob_foertidspension",
                &tally.marks_outside,
            ),
        ] {
            b.cell(
                &other(Decision::Fixed, "-", "-".into(), "-"),
                counts[0] + counts[1],
                [
                    (format!("{what}_unchanged"), counts[0], 1.0),
                    (format!("{what}_changed"), counts[1], 0.0),
                ]
                .into_iter(),
            );
        }
        let cells = keys.len() + N_PHASES + 1 + 1 + 3;
        let mut tests = b.tests;
        holm(&mut tests, cfg.alpha);
        Verification {
            tests,
            cells,
            skipped: b.skipped,
            impossible_unobserved: b.impossible_unobserved,
            person_quarters,
            replications: cfg.run.replications,
            alpha: cfg.alpha,
            min_expected: cfg.min_expected,
        }
    }
}

pub(super) struct Builder {
    pub(super) tests: Vec<Test>,
    pub(super) skipped: usize,
    pub(super) impossible_unobserved: usize,
    pub(super) min_expected: f64,
}

impl Builder {
    /// Tests each outcome of one cell of `n` trials.
    pub(super) fn cell(
        &mut self,
        label: &CellLabel,
        n: u64,
        outcomes: impl Iterator<Item = (String, u64, f64)>,
    ) {
        if n == 0 {
            return;
        }
        for (target, k, p) in outcomes {
            let nf = n as f64;
            let p_value = if p <= 0.0 {
                if k == 0 {
                    self.impossible_unobserved += 1;
                    continue;
                }
                0.0
            } else if p >= 1.0 {
                if k == n { 1.0 } else { 0.0 }
            } else if nf * p >= self.min_expected && nf * (1.0 - p) >= self.min_expected {
                binomial_two_sided(n, k, p)
            } else {
                self.skipped += 1;
                continue;
            };
            self.tests.push(Test {
                cell: label.clone(),
                target,
                exposure: n,
                observed: k,
                expected_p: p,
                p_value,
                adjusted: p_value,
                pass: true,
            });
        }
    }
}

/// Two-sided exact binomial p-value: twice the smaller tail, at most 1.
pub fn binomial_two_sided(n: u64, k: u64, p: f64) -> f64 {
    let b = Binomial::new(p, n).expect("p in [0, 1]");
    let lower = b.cdf(k);
    let upper = if k == 0 { 1.0 } else { b.sf(k - 1) };
    (2.0 * lower.min(upper)).min(1.0)
}

/// Holm's step-down adjustment; a test fails when its adjusted p-value is
/// at most `alpha`.
pub fn holm(tests: &mut [Test], alpha: f64) {
    let m = tests.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| tests[a].p_value.total_cmp(&tests[b].p_value));
    let mut running: f64 = 0.0;
    for (j, &i) in order.iter().enumerate() {
        running = running.max(((m - j) as f64 * tests[i].p_value).min(1.0));
        tests[i].adjusted = running;
        tests[i].pass = running > alpha;
    }
}
