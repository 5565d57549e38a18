//! Limits on what a scenario may ask for, each documented in
//! `scenarios/README.md` ("Limits"), so that hostile or mistaken input ends
//! in an error that names the key, never in a hang, a crash or a wrong number.

use std::path::{Path, PathBuf};

/// The deepest `extends` chain followed: a file, its parent, the parent's
/// parent, ... at most 64 files. Real chains are two or three files deep
/// (a proposal extends the baseline); the limit keeps the loader's
/// recursion, one frame per file, far from the stack's end.
pub const MAX_EXTENDS_DEPTH: usize = 64;

/// The message for a chain longer than [`MAX_EXTENDS_DEPTH`]: `stack` holds
/// the files being resolved, outermost first, and `next` the one that would
/// be one too many.
pub(super) fn chain_too_deep(stack: &[PathBuf], next: &Path) -> String {
    let show = |p: &PathBuf| p.display().to_string();
    let chain = if stack.len() > 6 {
        let head: Vec<String> = stack[..3].iter().map(show).collect();
        let tail: Vec<String> = stack[stack.len() - 2..].iter().map(show).collect();
        format!(
            "{} -> ... ({} more) -> {}",
            head.join(" -> "),
            stack.len() - 5,
            tail.join(" -> ")
        )
    } else {
        stack.iter().map(show).collect::<Vec<_>>().join(" -> ")
    };
    format!(
        "`extends` chain is longer than {MAX_EXTENDS_DEPTH} files: {chain} -> {}",
        next.display()
    )
}

/// The kinds of money amount in a scenario, each with its own upper bound.
///
/// The bounds are about fifty times the largest real amount of each kind
/// (benefits are at most about 20,000 DKK a month, a caseworker costs about
/// 600,000 DKK a year), so any plausible scenario fits, and they keep every
/// price of one person-quarter below 1.8·10⁹ øre, so that a quarter of up to
/// 2³² persons (the most a replication can hold) costs less than the 64-bit
/// øre ledger can count. The ledger's arithmetic is checked as well.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Amount {
    /// A benefit rate, subsidy ceiling, wage threshold or private payment.
    Monthly,
    /// An hourly wage.
    Hourly,
    /// A service bought per quarter (interventions).
    Quarterly,
    /// A service bought once per case (the rehabilitation team).
    PerCase,
    /// A cost per year (caseworker salary, education).
    Yearly,
}

impl Amount {
    /// The largest amount allowed, in DKK.
    pub const fn max(self) -> f64 {
        match self {
            Amount::Monthly => 1_000_000.0,
            Amount::Hourly => 10_000.0,
            Amount::Quarterly => 3_000_000.0,
            Amount::PerCase => 5_000_000.0,
            Amount::Yearly => 12_000_000.0,
        }
    }

    /// The unit, for messages: "DKK a month".
    pub const fn unit(self) -> &'static str {
        match self {
            Amount::Monthly => "DKK a month",
            Amount::Hourly => "DKK an hour",
            Amount::Quarterly => "DKK a quarter",
            Amount::PerCase => "DKK a case",
            Amount::Yearly => "DKK a year",
        }
    }

    /// The message for `x` of this kind above its bound, if it is.
    pub fn above(self, what: &str, x: f64) -> Option<String> {
        (x > self.max()).then(|| {
            format!(
                "{what} {x} is above the limit of {} {}",
                thousands(self.max()),
                self.unit()
            )
        })
    }
}

/// `1000000` as `1,000,000` (whole numbers).
pub fn thousands(x: f64) -> String {
    let digits = format!("{:.0}", x);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The largest cohort: an initial stock `count` or an inflow `per_quarter`
/// of 100 million persons (Denmark has six million inhabitants; the
/// baseline's largest stock is 203,400).
pub const MAX_COHORT: f64 = 1e8;

/// Whether the persons a scenario creates at full scale can be told apart by
/// 32-bit ids, as the engine packs them (group index, index in group):
/// at most `u32::MAX` persons, and the group and index bits fit in 32.
/// `sizes` are the cohort sizes (`count`, `per_quarter`) rounded as the
/// engine rounds them, `groups` the number of groups (stock cohorts plus
/// inflow cohorts times the horizon). On failure: the persons created.
pub fn ids_fit(
    sizes: &[f64],
    stock: f64,
    inflow: f64,
    groups: u64,
    horizon: u16,
) -> Result<(), u64> {
    let largest = sizes.iter().fold(0.0f64, |m, &c| m.max(c.round())) as u64;
    let persons = stock.round() as u64 + inflow.round() as u64 * u64::from(horizon);
    let idx_bits = (u64::BITS - largest.saturating_sub(1).leading_zeros()).max(1);
    if persons > u64::from(u32::MAX) || idx_bits > 31 || groups >= 1 << (32 - idx_bits) {
        return Err(persons);
    }
    Ok(())
}

/// Checks the syntax of a parameter path (`--set`, `--vary`, `path` of an
/// uncertainty): segments joined by `.`, none empty, each a key optionally
/// followed by one array index `[i]`.
pub fn check_path(path: &str) -> Result<(), String> {
    for seg in path.split('.') {
        let (key, index) = match seg.split_once('[') {
            Some((k, rest)) => (k, Some(rest)),
            None => (seg, None),
        };
        if key.is_empty() {
            return Err(format!(
                "`{path}` has an empty key; write keys joined by `.`"
            ));
        }
        if key.contains(']') {
            return Err(format!("`{path}`: `]` without `[` in `{seg}`"));
        }
        if let Some(rest) = index {
            let closed = rest
                .strip_suffix(']')
                .is_some_and(|i| !i.is_empty() && i.bytes().all(|b| b.is_ascii_digit()));
            if !closed {
                return Err(format!(
                    "`{path}`: `{seg}` is not a key with an array index such as `{key}[0]`"
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quarter_at_every_bound_fits_the_ledger() {
        // The dearest person-quarter: a benefit, an intervention, a
        // caseworker with one case, the rehabilitation team and education.
        let ore = 100.0
            * (3.0 * Amount::Monthly.max()
                + Amount::Quarterly.max()
                + Amount::Yearly.max() / 4.0
                + Amount::PerCase.max()
                + Amount::Yearly.max() / 4.0);
        assert!(ore < 1.8e9, "{ore}");
        assert!(ore * f64::from(u32::MAX) < i64::MAX as f64);
        assert_eq!(thousands(1_000_000.0), "1,000,000");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(
            Amount::Monthly.above("rate", 1e11).as_deref(),
            Some("rate 100000000000 is above the limit of 1,000,000 DKK a month")
        );
        assert_eq!(Amount::Monthly.above("rate", 1e6), None);
    }

    #[test]
    fn paths_need_closed_indices_and_no_empty_keys() {
        for ok in ["a.b", "a.b[0]", "costs.refusion.state_share[4]", "x.5+"] {
            assert_eq!(check_path(ok), Ok(()), "{ok}");
        }
        for bad in [
            "a.b[0", "a[", "a[]", "a[x]", "a[1]b", "a..b", ".a", "a.", "a]",
        ] {
            assert!(check_path(bad).is_err(), "{bad}");
        }
        assert_eq!(
            check_path("costs.refusion.state_share[1").unwrap_err(),
            "`costs.refusion.state_share[1`: `state_share[1` is not a key with an array index such as `state_share[0]`"
        );
    }
}
