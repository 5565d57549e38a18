//! compare.csv as an Excel workbook (rust_xlsxwriter): one sheet per
//! proposal, numbers as numbers, the header frozen.

use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, XlsxError};

use super::table::{Csv, val};
use crate::error::{Error, Result};

fn xerr(e: XlsxError) -> Error {
    Error::Internal(format!("writing the workbook: {e}"))
}

/// A sheet name Excel accepts: at most 31 characters, none of `[]:*?/\`,
/// unique in the workbook.
fn sheet_name(name: &str, taken: &[String]) -> String {
    let base: String = name
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .take(28)
        .collect();
    let base = if base.trim().is_empty() {
        "proposal".to_string()
    } else {
        base
    };
    let mut s = base.clone();
    let mut k = 2;
    while taken.iter().any(|t| t.eq_ignore_ascii_case(&s)) {
        s = format!("{base}~{k}");
        k += 1;
    }
    s
}

/// The workbook of compare.csv's rows, one sheet per value of `proposal`
/// (in the file's order). `created` (RFC 3339, from the folder's manifest)
/// is the document's creation time, so the same folder gives the same bytes.
pub fn compare_workbook(c: &Csv, created: Option<&str>) -> Result<Vec<u8>> {
    let pcol = c
        .col("proposal")
        .ok_or_else(|| Error::Invalid("compare.csv: no column `proposal`".into()))?;
    let mut proposals: Vec<&str> = Vec::new();
    for r in &c.rows {
        if !proposals.contains(&r[pcol].as_str()) {
            proposals.push(&r[pcol]);
        }
    }
    let mut wb = Workbook::new();
    let when = created
        .and_then(|t| ExcelDateTime::parse_from_str(t).ok())
        .map_or_else(|| ExcelDateTime::from_ymd(2000, 1, 1), Ok)
        .map_err(xerr)?;
    wb.set_properties(
        &DocProperties::new()
            .set_title("fleksim comparison")
            .set_creation_datetime(&when),
    );
    let bold = Format::new().set_bold();
    let number = Format::new().set_num_format("#,##0.####");
    // Text columns stay text even where they look like numbers (a year).
    let text = ["proposal", "metric", "unit", "period"];
    let mut taken = Vec::new();
    for p in proposals {
        let name = sheet_name(p, &taken);
        let ws = wb.add_worksheet();
        ws.set_name(&name).map_err(xerr)?;
        taken.push(name);
        for (j, h) in c.header.iter().enumerate() {
            ws.write_string_with_format(0, j as u16, h, &bold)
                .map_err(xerr)?;
        }
        for (i, r) in (1u32..).zip(c.rows.iter().filter(|r| r[pcol] == p)) {
            for (j, f) in r.iter().enumerate() {
                let is_text = text.contains(&c.header[j].as_str());
                match val(f) {
                    Some(x) if !is_text => ws.write_number_with_format(i, j as u16, x, &number),
                    _ => ws.write_string(i, j as u16, f),
                }
                .map_err(xerr)?;
            }
        }
        ws.set_freeze_panes(1, 0).map_err(xerr)?;
        ws.autofit();
    }
    wb.save_to_buffer().map_err(xerr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_names_are_valid_and_unique() {
        let a = sheet_name("a/b:c", &[]);
        assert_eq!(a, "a_b_c");
        let long = "x".repeat(40);
        let b = sheet_name(&long, &[]);
        assert!(b.chars().count() <= 31);
        let c = sheet_name(&long, std::slice::from_ref(&b));
        assert_ne!(b, c);
        assert!(c.chars().count() <= 31);
    }
}
