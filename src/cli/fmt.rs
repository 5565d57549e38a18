//! Numbers and tables for the terminal: thousands separators, a real minus
//! sign, intervals as `−19 [−26; −13]`, no scientific notation, and tables
//! at most 80 columns wide (cells wrap within their column, never mid-row).

use comfy_table::{
    CellAlignment, ColumnConstraint, ContentArrangement, Table, Width, presets::UTF8_FULL_CONDENSED,
};
use fleksim::engine::stats::CellStats;

/// The widest a table may be.
pub const WIDTH: u16 = 80;

/// `x` rounded to `decimals`, with `,` between thousands and `−` for minus;
/// `NA` when not a number.
pub fn num(x: f64, decimals: usize) -> String {
    if !x.is_finite() {
        return if x.is_nan() {
            "NA".into()
        } else if x > 0.0 {
            "∞".into()
        } else {
            "−∞".into()
        };
    }
    let s = format!("{:.*}", decimals, x.abs());
    let (int, frac) = s.split_once('.').map_or((s.as_str(), ""), |(a, b)| (a, b));
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    // No "−0": a value that rounds to zero has no sign.
    if x < 0.0 && out.chars().any(|c| c.is_ascii_digit() && c != '0') {
        out.insert(0, '−');
    }
    out
}

/// As [`num`], with a `+` on positive values (a difference).
pub fn signed(x: f64, decimals: usize) -> String {
    let s = num(x, decimals);
    if x > 0.0 && s.chars().any(|c| c.is_ascii_digit() && c != '0') {
        format!("+{s}")
    } else {
        s
    }
}

/// `mean [low; high]` divided by `div`; the mean alone without an interval.
pub fn ci(s: &CellStats, div: f64, decimals: usize) -> String {
    if s.se.is_nan() {
        return num(s.mean / div, decimals);
    }
    interval(s.mean / div, s.ci_low / div, s.ci_high / div, decimals)
}

/// `mean [low; high]`.
pub fn interval(mean: f64, low: f64, high: f64, decimals: usize) -> String {
    format!(
        "{} [{}; {}]",
        num(mean, decimals),
        num(low, decimals),
        num(high, decimals)
    )
}

/// A value in plain notation with about `sig` significant digits (for
/// parameter values and tolerances, which may be small).
pub fn plain(x: f64, sig: usize) -> String {
    if x == 0.0 || !x.is_finite() {
        return num(x, 0);
    }
    let mag = x.abs().log10().floor() as i64;
    let decimals = (sig as i64 - 1 - mag).clamp(0, 12) as usize;
    let s = num(x, decimals);
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A parameter value as it would be written in a scenario file: plain
/// notation, about `sig` significant digits, no thousands separators.
pub fn param(x: f64, sig: usize) -> String {
    plain(x, sig).replace(',', "").replace('−', "-")
}

/// A table in the house style: condensed UTF-8 borders, at most 80
/// columns wide (or a narrower terminal). Numbers are right-aligned and
/// kept on one line where the width allows; text columns wrap.
pub struct Tab {
    t: Table,
    /// Columns kept on one line while the width allows, in this order.
    whole: Vec<usize>,
}

/// A [`Tab`] with these headers; the columns `numeric` hold numbers.
pub fn table<S: ToString>(header: Vec<S>, numeric: &[usize]) -> Tab {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED);
    t.set_content_arrangement(ContentArrangement::Dynamic);
    let w = t.width().map_or(WIDTH, |w| w.min(WIDTH));
    t.set_width(w);
    t.set_header(
        header
            .into_iter()
            .map(|h| h.to_string())
            .collect::<Vec<_>>(),
    );
    for &i in numeric {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    Tab {
        t,
        whole: numeric.to_vec(),
    }
}

impl Tab {
    /// Keeps text column `i` on one line too, before the numbers.
    pub fn keep_whole(&mut self, i: usize) -> &mut Self {
        self.whole.insert(0, i);
        self
    }

    pub fn add_row<S: ToString>(&mut self, row: Vec<S>) -> &mut Self {
        self.t
            .add_row(row.into_iter().map(|c| c.to_string()).collect::<Vec<_>>());
        self
    }
}

impl std::fmt::Display for Tab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut t = self.t.clone();
        let width = usize::from(t.width().unwrap_or(WIDTH));
        // The widest line of each column's cells (headers may wrap).
        let n = t.column_count();
        let mut widest = vec![0usize; n];
        for row in t.row_iter() {
            widen(&mut widest, row, Pieces::Lines);
        }
        // A table that fits as it is is not wrapped at all.
        let mut natural = widest.clone();
        if let Some(h) = t.header() {
            widen(&mut natural, h, Pieces::Lines);
        }
        if natural.iter().map(|w| w + 3).sum::<usize>() < width {
            t.set_content_arrangement(ContentArrangement::Disabled);
            return write!(f, "{t}");
        }
        // A numeric column is as wide as its widest value or the longest
        // word of its header.
        if let Some(h) = t.header() {
            widen(&mut widest, h, Pieces::Words);
        }
        // Keep numeric columns on one line while the others keep at least
        // 8 characters: 3 per column for borders and padding, plus 1.
        let others = n.saturating_sub(self.whole.len()) * (8 + 3);
        let mut used = 1 + others;
        for &i in &self.whole {
            if i >= n {
                continue;
            }
            let w = widest[i];
            if used + w + 3 <= width {
                used += w + 3;
                if let Some(c) = t.column_mut(i) {
                    // A constraint counts the padding too.
                    c.set_constraint(ColumnConstraint::Absolute(Width::Fixed(w as u16 + 2)));
                }
            }
        }
        write!(f, "{t}")
    }
}

/// How [`widen`] measures a cell: its longest line, or its longest word.
#[derive(Clone, Copy)]
enum Pieces {
    Lines,
    Words,
}

/// Raises each column's width in `widths` to the longest piece of its cell
/// in `row`.
fn widen(widths: &mut [usize], row: &comfy_table::Row, pieces: Pieces) {
    for (i, cell) in row.cell_iter().enumerate() {
        let text = cell.content();
        let longest =
            |it: &mut dyn Iterator<Item = &str>| it.map(|l| l.chars().count()).max().unwrap_or(0);
        let w = match pieces {
            Pieces::Lines => longest(&mut text.lines()),
            Pieces::Words => longest(&mut text.split_whitespace()),
        };
        widths[i] = widths[i].max(w);
    }
}

/// `text` wrapped at spaces to `width` columns, the first line after
/// `first`, the others indented to match.
pub fn wrap(text: &str, first: &str, width: usize) -> String {
    let indent = " ".repeat(first.chars().count());
    let mut out = String::new();
    let mut line = first.to_string();
    let mut empty = true;
    for word in text.split(' ') {
        let len = line.chars().count();
        if !empty && len + 1 + word.chars().count() > width {
            out.push_str(line.trim_end());
            out.push('\n');
            line = indent.clone();
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    out.push_str(line.trim_end());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(num(1234567.0, 0), "1,234,567");
        assert_eq!(num(-1234.56, 1), "−1,234.6");
        assert_eq!(num(999.0, 0), "999");
        assert_eq!(num(-0.04, 1), "0.0");
        assert_eq!(num(f64::NAN, 1), "NA");
        assert_eq!(num(727_910_100.0, 0), "727,910,100");
        assert_eq!(signed(19.0, 0), "+19");
        assert_eq!(signed(-19.0, 0), "−19");
        assert_eq!(interval(-19.0, -26.0, -13.0, 0), "−19 [−26; −13]");
        assert_eq!(plain(0.000123456, 3), "0.000123");
        assert_eq!(plain(0.25, 3), "0.25");
        assert_eq!(plain(12345.678, 3), "12,346");
        assert_eq!(param(12345.678, 6), "12345.7");
        assert_eq!(param(-0.5, 6), "-0.5");
    }
}
