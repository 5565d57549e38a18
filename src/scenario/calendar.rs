//! Calendar quarters.
//!
//! Time in fleksim is counted in whole quarters. A [`Quarter`] is an absolute
//! quarter index counted from 1900Q1, which keeps birth quarters, pension
//! ages and simulation quarters in one integer space (`u16` is enough for
//! 1900-2919).

use std::fmt;

/// An absolute calendar quarter: `0` is 1900Q1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quarter(pub u16);

const BASE_YEAR: i32 = 1900;

impl Quarter {
    /// The quarter of `year` numbered `q` (1-4).
    pub fn from_year_quarter(year: i32, q: u8) -> Option<Quarter> {
        if !(1..=4).contains(&q) || !(BASE_YEAR..=2900).contains(&year) {
            return None;
        }
        Some(Quarter(((year - BASE_YEAR) * 4 + i32::from(q) - 1) as u16))
    }

    /// Parses `2019Q1` (case-insensitive `q`).
    pub fn parse(text: &str) -> Option<Quarter> {
        let text = text.trim();
        let (year, q) = text.split_once(['Q', 'q'])?;
        let year: i32 = year.parse().ok()?;
        let q: u8 = q.parse().ok()?;
        Quarter::from_year_quarter(year, q)
    }

    /// The calendar year.
    pub fn year(self) -> i32 {
        BASE_YEAR + i32::from(self.0 / 4)
    }

    /// The quarter within the year, 1-4.
    pub fn quarter_of_year(self) -> u8 {
        (self.0 % 4) as u8 + 1
    }

    /// The quarter `n` quarters later.
    pub fn plus(self, n: u16) -> Quarter {
        Quarter(self.0 + n)
    }

    /// The quarter before this one (saturating at 1900Q1).
    pub fn prev(self) -> Quarter {
        Quarter(self.0.saturating_sub(1))
    }
}

impl fmt::Display for Quarter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}Q{}", self.year(), self.quarter_of_year())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let q = Quarter::parse("2019Q1").unwrap();
        assert_eq!(q.to_string(), "2019Q1");
        assert_eq!(q.plus(39).to_string(), "2028Q4");
        assert_eq!(q.prev().to_string(), "2018Q4");
        assert_eq!(Quarter::parse("2019q3").unwrap().quarter_of_year(), 3);
    }

    #[test]
    fn rejects_nonsense() {
        for bad in ["2019", "2019Q0", "2019Q5", "Q1", "abcQ1", "1800Q1"] {
            assert!(Quarter::parse(bad).is_none(), "{bad}");
        }
    }
}
