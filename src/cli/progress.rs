//! Progress bars (stderr; hidden automatically when stderr is not a
//! terminal). Every bar ticks from the start of the work: the elapsed time
//! moves at once, and the ETA appears once the first unit is done.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// How often a bar redraws while no unit finishes.
const TICK: Duration = Duration::from_millis(200);

/// `eta 1m 20s` once a unit is done, `eta …` before (no rate is known yet).
fn eta(state: &ProgressState, w: &mut dyn std::fmt::Write) {
    let _ = if state.pos() == 0 {
        write!(w, "eta …")
    } else {
        write!(w, "eta {}", indicatif::HumanDuration(state.eta()))
    };
}

fn bar(n: u64, unit: &str, prefix: &str) -> ProgressBar {
    let pb = ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::stderr());
    pb.set_style(
        ProgressStyle::with_template(&format!(
            "{{prefix}} [{{bar:24}}] {{pos}}/{{len}} {unit}, {{elapsed}}, {{eta_or_wait}}"
        ))
        .expect("valid template")
        .with_key("eta_or_wait", eta)
        .progress_chars("=> "),
    );
    pb.set_prefix(prefix.to_string());
    pb.enable_steady_tick(TICK);
    pb
}

pub fn replications(n: u32) -> ProgressBar {
    bar(u64::from(n), "replications", "simulating")
}

pub fn points(n: u64) -> ProgressBar {
    bar(n, "points", "simulating")
}

pub fn quarters(n: u64) -> ProgressBar {
    bar(n, "quarters", "computing")
}

/// A spinner for work of unknown length (calibration): its message says
/// how far it is.
pub fn spinner(prefix: &str) -> ProgressBar {
    let pb = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    pb.set_style(
        ProgressStyle::with_template("{prefix} {spinner} {msg}, {elapsed}")
            .expect("valid template"),
    );
    pb.set_prefix(prefix.to_string());
    pb.enable_steady_tick(TICK);
    pb
}
