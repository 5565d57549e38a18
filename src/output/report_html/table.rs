//! Reading the tidy CSV files of an output folder back, by column name, and
//! writing numbers for a reader (`--locale`).

use std::path::Path;

use crate::error::{Error, Result};

/// A CSV file as its header and rows of text.
#[derive(Debug, Clone, Default)]
pub struct Csv {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Csv {
    /// Reads `dir/name`; None if the file does not exist.
    pub fn read(dir: &Path, name: &str) -> Result<Option<Csv>> {
        let path = dir.join(name);
        if !path.is_file() {
            return Ok(None);
        }
        let bad = |e: csv::Error| Error::Invalid(format!("{}: {e}", path.display()));
        let mut r = csv::ReaderBuilder::new()
            .flexible(false)
            .from_path(&path)
            .map_err(bad)?;
        let header = r
            .headers()
            .map_err(bad)?
            .iter()
            .map(str::to_string)
            .collect();
        let mut rows = Vec::new();
        for rec in r.records() {
            rows.push(rec.map_err(bad)?.iter().map(str::to_string).collect());
        }
        Ok(Some(Csv { header, rows }))
    }

    /// The index of a column.
    pub fn col(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// The index of a column that must exist (an error names the file).
    pub fn need(&self, file: &str, name: &str) -> Result<usize> {
        self.col(name).ok_or_else(|| {
            Error::Invalid(format!(
                "{file}: no column `{name}` (written by another version of fleksim?)"
            ))
        })
    }
}

/// A field as a number; `NA`, empty and unparsable fields are None.
pub fn val(s: &str) -> Option<f64> {
    match s {
        "" | "NA" | "-" => None,
        _ => s.parse().ok().filter(|x: &f64| x.is_finite()),
    }
}

/// How numbers are written for a reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Locale {
    /// `12,345.6`
    #[default]
    En,
    /// Danish: `12.345,6`
    Da,
}

impl Locale {
    pub fn parse(s: &str) -> Result<Locale> {
        match s {
            "en" => Ok(Locale::En),
            "da" => Ok(Locale::Da),
            _ => Err(Error::Invalid(format!(
                "--locale must be `en` or `da`, got `{s}`"
            ))),
        }
    }

    fn seps(self) -> (char, char) {
        match self {
            Locale::En => (',', '.'),
            Locale::Da => ('.', ','),
        }
    }

    /// The HTML `lang` of the report.
    pub fn lang(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Da => "da",
        }
    }
}

/// Decimals that show about four significant digits, at most three.
pub fn decimals(x: f64) -> usize {
    let a = x.abs();
    if a == 0.0 || a >= 100.0 {
        0
    } else if a >= 10.0 {
        1
    } else if a >= 1.0 {
        2
    } else {
        3
    }
}

/// `x` with `dec` decimals, grouped in thousands, in the locale's separators;
/// `NA` for a missing value.
pub fn fmt_dec(x: Option<f64>, dec: usize, loc: Locale) -> String {
    let Some(x) = x else {
        return "NA".to_string();
    };
    let (thousands, point) = loc.seps();
    let s = format!("{:.*}", dec, x.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    let mut out = String::new();
    if x < 0.0 && s.bytes().any(|b| b != b'0' && b != b'.') {
        out.push('−');
    }
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(thousands);
        }
        out.push(c);
    }
    if !frac.is_empty() {
        out.push(point);
        out.push_str(frac);
    }
    out
}

/// `x` with about four significant digits.
pub fn fmt(x: Option<f64>, loc: Locale) -> String {
    fmt_dec(x, x.map_or(0, decimals), loc)
}

/// A CSV file rewritten for Danish Excel: `;` between fields, a decimal
/// comma in numbers, no thousands separator, and a byte-order mark so that
/// Excel reads UTF-8.
pub fn danish_csv(c: &Csv) -> Result<Vec<u8>> {
    let mut w = csv::WriterBuilder::new()
        .delimiter(b';')
        .from_writer(vec![0xEF, 0xBB, 0xBF]);
    let enc = |e: csv::Error| Error::Internal(format!("csv encoding: {e}"));
    w.write_record(&c.header).map_err(enc)?;
    for row in &c.rows {
        let fields: Vec<String> = row
            .iter()
            .map(|f| match f.parse::<f64>() {
                Ok(_) if !f.contains(|ch: char| ch.is_ascii_alphabetic()) => f.replace('.', ","),
                _ => f.clone(),
            })
            .collect();
        w.write_record(&fields).map_err(enc)?;
    }
    w.into_inner()
        .map_err(|e| Error::Internal(format!("csv encoding: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_by_locale() {
        assert_eq!(fmt_dec(Some(1234567.891), 1, Locale::En), "1,234,567.9");
        assert_eq!(fmt_dec(Some(1234567.891), 1, Locale::Da), "1.234.567,9");
        assert_eq!(fmt_dec(Some(-1234.0), 0, Locale::Da), "−1.234");
        assert_eq!(fmt_dec(Some(-0.0001), 2, Locale::En), "0.00");
        assert_eq!(fmt_dec(Some(999.0), 0, Locale::En), "999");
        assert_eq!(fmt_dec(None, 2, Locale::En), "NA");
        assert_eq!(fmt(Some(0.01234), Locale::Da), "0,012");
    }

    #[test]
    fn danish_csv_converts_numbers_only() {
        let c = Csv {
            header: vec!["metric".into(), "period".into(), "mean".into()],
            rows: vec![vec![
                "pv.total.all".into(),
                "2019".into(),
                "-12500.5".into(),
            ]],
        };
        let s = String::from_utf8(danish_csv(&c).unwrap()).unwrap();
        assert_eq!(
            s,
            "\u{feff}metric;period;mean\npv.total.all;2019;-12500,5\n"
        );
    }
}
