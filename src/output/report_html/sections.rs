//! The sections of the report, one per kind of output in the folder.

use std::collections::BTreeMap;
use std::path::Path;

use super::chart::{Chart, Kind, Point, Row, Series};
use super::table::{Csv, Locale, danish_csv, fmt, val};
use super::{Page, Table, xlsx};
use crate::analysis::check::SHARE_CAP;
use crate::error::{Error, Result};

type Manifests = [(String, serde_json::Value)];

/// Writes every section the folder has; returns the kinds found.
pub fn all(dir: &Path, page: &mut Page, manifests: &Manifests) -> Result<Vec<&'static str>> {
    let mut kinds = Vec::new();
    let created = manifests
        .iter()
        .find_map(|(_, m)| m.get("end_time").and_then(|v| v.as_str()))
        .map(str::to_string);
    let da = page.loc == Locale::Da;
    let danish = |page: &mut Page, name: &str, c: &Csv| -> Result<()> {
        if da {
            let stem = name.trim_end_matches(".csv");
            page.file(&format!("{stem}-da.csv"), danish_csv(c)?);
        }
        Ok(())
    };
    if let Some(c) = Csv::read(dir, "compare.csv")? {
        kinds.push("compare");
        compare(page, &c)?;
        page.file(
            "compare.xlsx",
            xlsx::compare_workbook(&c, created.as_deref())?,
        );
        danish(page, "compare.csv", &c)?;
    }
    if Csv::read(dir, "stocks.csv")?.is_some() {
        kinds.push("run");
        let annual = run(dir, page)?;
        danish(page, "annual.csv", &annual)?;
    }
    if let Some(c) = Csv::read(dir, "sweep.csv")? {
        kinds.push("sweep");
        sweep(page, &c)?;
        danish(page, "sweep.csv", &c)?;
    }
    if let Some(c) = Csv::read(dir, "sensitivity.csv")? {
        kinds.push("sensitivity");
        sensitivity(page, &c)?;
        danish(page, "sensitivity.csv", &c)?;
    }
    if let Some(c) = Csv::read(dir, "uncertainty-summary.csv")? {
        kinds.push("uncertainty");
        let draws = Csv::read(dir, "uncertainty.csv")?.unwrap_or_default();
        let drivers = Csv::read(dir, "uncertainty-drivers.csv")?.unwrap_or_default();
        uncertainty(page, &c, &draws, &drivers)?;
        danish(page, "uncertainty-summary.csv", &c)?;
    }
    if let Some(c) = Csv::read(dir, "check.csv")? {
        kinds.push("check");
        check(page, &c)?;
        danish(page, "check.csv", &c)?;
    }
    Ok(kinds)
}

/// How a unit is shown: the factor and the label (DKK in millions, shares
/// in per cent).
fn shown(unit: &str) -> (f64, String) {
    match unit {
        "DKK" => (1e-6, "DKK m".to_string()),
        "share" => (100.0, "%".to_string()),
        u => (1.0, u.to_string()),
    }
}

/// A file name made of a label: lower-case letters, digits and `-`.
/// A forest chart (differences with their intervals around zero) beside
/// the table of its numbers.
fn forest_figure(
    page: &mut Page,
    id: String,
    title: String,
    x_label: impl Into<String>,
    rows: Vec<Row>,
    t: &Table,
) -> Result<()> {
    page.figure(
        &Chart {
            id,
            title,
            x_label: x_label.into(),
            y_label: String::new(),
            kind: Kind::Forest { rows, zero: 0.0 },
        },
        t,
    )
}

fn slug(s: &str) -> String {
    let mut o = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            o.push(c.to_ascii_lowercase());
        } else if !o.ends_with('-') {
            o.push('-');
        }
    }
    o.trim_matches('-').to_string()
}

/// A row of compare.csv (or of sweep.csv, uncertainty.csv) by name.
struct Rows<'a> {
    c: &'a Csv,
    metric: usize,
    unit: usize,
    period: usize,
    year: Option<usize>,
}

impl<'a> Rows<'a> {
    fn new(c: &'a Csv, file: &str) -> Result<Rows<'a>> {
        Ok(Rows {
            c,
            metric: c.need(file, "metric")?,
            unit: c.need(file, "unit")?,
            period: c.need(file, "period")?,
            year: c.col("year"),
        })
    }

    fn year(&self, r: &[String]) -> Option<i32> {
        match self.year {
            Some(y) => r[y].parse().ok(),
            None => r[self.period].parse().ok(),
        }
    }

    /// The row of `metric` at `period` among `rows`.
    fn find<'r>(
        &self,
        rows: &'r [&'a Vec<String>],
        metric: &str,
        period: &str,
    ) -> Option<&'r &'a Vec<String>> {
        rows.iter()
            .find(|r| r[self.metric] == metric && r[self.period] == period)
    }

    fn num(&self, r: &[String], col: &str) -> Option<f64> {
        self.c.col(col).and_then(|i| val(&r[i]))
    }
}

/// The metric ids of a forest or a time path, with a reader's label.
const PERSONS: [(&str, &str); 5] = [
    ("awards.foertidspension.total", "førtidspension awards"),
    ("awards.foertidspension.under40", "  of which under 40"),
    ("awards.foertidspension.over40", "  of which 40 and over"),
    ("starts.ressourceforloeb", "ressourceforløb starts"),
    ("entries.fleksjob_scheme", "flex-job scheme entries"),
];
const MONEY: [(&str, &str, &str); 6] = [
    ("cost.total.state", "per_year", "state, per year"),
    (
        "cost.total.municipality",
        "per_year",
        "municipalities, per year",
    ),
    ("cost.total.all", "per_year", "all payers, per year"),
    ("pv.total.state", "pv", "state, present value"),
    (
        "pv.total.municipality",
        "pv",
        "municipalities, present value",
    ),
    ("pv.total.all", "pv", "all payers, present value"),
];

fn compare(page: &mut Page, c: &Csv) -> Result<()> {
    let f = "compare.csv";
    let rows_of = Rows::new(c, f)?;
    let pcol = c.need(f, "proposal")?;
    let mut proposals: Vec<&str> = Vec::new();
    for r in &c.rows {
        if !proposals.contains(&r[pcol].as_str()) {
            proposals.push(&r[pcol]);
        }
    }
    let loc = page.loc;
    page.section("compare", "Proposals against the baseline");
    page.para(
        "Each proposal ran the baseline's replications with the same random numbers; the \
         difference (Δ = proposal − baseline) is taken replication by replication. The workbook \
         compare.xlsx in this folder holds every metric, one sheet per proposal.",
    );
    // The headline of each proposal first.
    let mut head = Table::new(&[
        "proposal",
        "Δ present value, all payers, DKK m",
        "state",
        "municipalities",
        "Δ førtidspension awards a year",
        "Δ ressourceforløb starts a year",
    ]);
    for p in &proposals {
        let rows: Vec<&Vec<String>> = c.rows.iter().filter(|r| r[pcol] == *p).collect();
        let cell = |m: &str, per: &str, scale: f64| {
            rows_of.find(&rows, m, per).map_or("NA".to_string(), |r| {
                let g = |col: &str| rows_of.num(r, col).map(|x| x * scale);
                format!(
                    "{} ({} to {})",
                    fmt(g("delta_mean"), loc),
                    fmt(g("delta_ci_low"), loc),
                    fmt(g("delta_ci_high"), loc)
                )
            })
        };
        head.rows.push(vec![
            p.to_string(),
            cell("pv.total.all", "pv", 1e-6),
            cell("pv.total.state", "pv", 1e-6),
            cell("pv.total.municipality", "pv", 1e-6),
            cell("awards.foertidspension.total", "per_year", 1.0),
            cell("starts.ressourceforloeb", "per_year", 1.0),
        ]);
    }
    page.heading("Headline differences (95 % CI)");
    page.table(&head);
    for p in proposals {
        let rows: Vec<&Vec<String>> = c.rows.iter().filter(|r| r[pcol] == p).collect();
        let ps = slug(p);
        page.heading(p);
        let forest = |items: Vec<(String, &str, String)>, scale: f64| {
            let mut fr = Vec::new();
            let mut t = Table::new(&["metric", "baseline", "proposal", "Δ", "95 % CI of Δ"]);
            for (metric, period, label) in items {
                let Some(r) = rows_of.find(&rows, &metric, period) else {
                    continue;
                };
                let g = |col: &str| rows_of.num(r, col).map(|x| x * scale);
                if let (Some(m), Some(lo), Some(hi)) =
                    (g("delta_mean"), g("delta_ci_low"), g("delta_ci_high"))
                {
                    fr.push(Row {
                        label: label.clone(),
                        mean: m,
                        low: lo,
                        high: hi,
                        band: None,
                    });
                }
                t.rows.push(vec![
                    label,
                    fmt(g("baseline_mean"), loc),
                    fmt(g("proposal_mean"), loc),
                    fmt(g("delta_mean"), loc),
                    format!(
                        "{} to {}",
                        fmt(g("delta_ci_low"), loc),
                        fmt(g("delta_ci_high"), loc)
                    ),
                ]);
            }
            (fr, t)
        };
        // Persons a year.
        let (fr, t) = forest(
            PERSONS
                .iter()
                .map(|(m, l)| (m.to_string(), "per_year", l.to_string()))
                .collect(),
            1.0,
        );
        if !fr.is_empty() {
            forest_figure(
                page,
                format!("compare-{ps}-persons"),
                format!("{p}: Δ persons a year (average over the horizon)"),
                "Δ persons a year",
                fr,
                &t,
            )?;
        }
        // Money.
        let (fr, t) = forest(
            MONEY
                .iter()
                .map(|(m, per, l)| (m.to_string(), *per, l.to_string()))
                .collect(),
            1e-6,
        );
        if !fr.is_empty() {
            forest_figure(
                page,
                format!("compare-{ps}-expenditure"),
                format!("{p}: Δ public expenditure by payer, DKK m"),
                "Δ DKK m (per year, or present value)",
                fr,
                &t,
            )?;
        }
        // Citizen outcomes, one chart per unit.
        let mut by_unit: BTreeMap<String, Vec<(String, String, String)>> = BTreeMap::new();
        for r in &rows {
            let m = &r[rows_of.metric];
            let keep = m.starts_with("citizen.")
                && !m.starts_with("citizen.entry_cohort")
                && (!m.starts_with("citizen.status_after_ressourceforloeb")
                    || m.starts_with("citizen.status_after_ressourceforloeb.total."));
            if keep {
                let label = m
                    .trim_start_matches("citizen.")
                    .replace(
                        "status_after_ressourceforloeb.total.",
                        "after ressourceforløb: ",
                    )
                    .replace('_', " ");
                by_unit.entry(r[rows_of.unit].clone()).or_default().push((
                    m.clone(),
                    r[rows_of.period].clone(),
                    label,
                ));
            }
        }
        for (unit, items) in by_unit {
            let (factor, label) = shown(&unit);
            let items: Vec<(String, &str, String)> = items
                .iter()
                .map(|(m, per, l)| (m.clone(), per.as_str(), l.clone()))
                .collect();
            let (fr, t) = forest(items, factor);
            if fr.is_empty() {
                continue;
            }
            let delta = if unit == "share" {
                "percentage points".to_string()
            } else {
                label.clone()
            };
            forest_figure(
                page,
                format!("compare-{ps}-citizens-{}", slug(&unit)),
                format!("{p}: Δ citizen outcomes ({label})"),
                format!("Δ {delta}"),
                fr,
                &t,
            )?;
        }
        // Time paths.
        for (what, items, scale, unit) in [
            (
                "persons",
                PERSONS
                    .iter()
                    .filter(|(m, _)| !m.contains("40"))
                    .map(|(m, l)| (*m, *l))
                    .collect::<Vec<_>>(),
                1.0,
                "persons",
            ),
            (
                "expenditure",
                MONEY[..3].iter().map(|(m, _, l)| (*m, *l)).collect(),
                1e-6,
                "DKK m",
            ),
        ] {
            let mut series = Vec::new();
            let mut years: BTreeMap<i32, Vec<String>> = BTreeMap::new();
            for (k, (metric, label)) in items.iter().enumerate() {
                let mut pts = Vec::new();
                for r in rows.iter().filter(|r| r[rows_of.metric] == *metric) {
                    let Some(y) = rows_of.year(r) else { continue };
                    let g = |col: &str| rows_of.num(r, col).map(|x| x * scale);
                    let cell = years
                        .entry(y)
                        .or_insert_with(|| vec![String::new(); items.len()]);
                    cell[k] = format!(
                        "{} ({} to {})",
                        fmt(g("delta_mean"), loc),
                        fmt(g("delta_ci_low"), loc),
                        fmt(g("delta_ci_high"), loc)
                    );
                    if let Some(m) = g("delta_mean") {
                        let band = g("delta_ci_low").zip(g("delta_ci_high"));
                        pts.push((y as f64, m, band));
                    }
                }
                if !pts.is_empty() {
                    series.push(Series {
                        name: label.trim().to_string(),
                        points: pts,
                    });
                }
            }
            if series.is_empty() {
                continue;
            }
            let mut header = vec!["year".to_string()];
            header.extend(items.iter().map(|(_, l)| format!("Δ {}", l.trim())));
            let t = Table {
                header,
                rows: years
                    .into_iter()
                    .map(|(y, mut cells)| {
                        cells.insert(0, y.to_string());
                        cells
                    })
                    .collect(),
            };
            page.figure(
                &Chart {
                    id: format!("compare-{ps}-path-{what}"),
                    title: format!("{p}: Δ {what} by year ({unit})"),
                    x_label: "year".into(),
                    y_label: format!("Δ {unit}"),
                    kind: Kind::Lines {
                        series,
                        years: true,
                    },
                },
                &t,
            )?;
        }
    }
    Ok(())
}

/// Quarter `2019Q1` as the year fraction 2019.0.
fn quarter_x(q: &str) -> Option<f64> {
    let (y, q) = q.split_once('Q')?;
    Some(y.parse::<f64>().ok()? + (q.parse::<f64>().ok()? - 1.0) / 4.0)
}

/// States whose persons receive no benefit (their stocks are not charted;
/// `out` is cumulative).
const OFF_BENEFIT: [&str; 4] = ["employed", "education", "self_supporting", "out"];

fn run(dir: &Path, page: &mut Page) -> Result<Csv> {
    let loc = page.loc;
    let stocks = Csv::read(dir, "stocks.csv")?.unwrap_or_default();
    let costs = Csv::read(dir, "costs.csv")?.unwrap_or_default();
    let annual = Csv::read(dir, "annual.csv")?.ok_or_else(|| {
        Error::Invalid(format!("{}: stocks.csv without annual.csv", dir.display()))
    })?;
    page.section("run", "The scenario over time");
    // Stocks of the states on a benefit; the cost items of costs.csv.
    let items: Vec<String> = match costs.col("item") {
        Some(i) => {
            let mut v: Vec<String> = Vec::new();
            for r in &costs.rows {
                if !v.contains(&r[i]) {
                    v.push(r[i].clone());
                }
            }
            v
        }
        None => Vec::new(),
    };
    let (sq, ss, sa) = (
        stocks.need("stocks.csv", "quarter")?,
        stocks.need("stocks.csv", "state")?,
        stocks.need("stocks.csv", "age_group")?,
    );
    let (sm, slo, shi) = (
        stocks.need("stocks.csv", "mean")?,
        stocks.need("stocks.csv", "ci_low")?,
        stocks.need("stocks.csv", "ci_high")?,
    );
    let mut states: Vec<String> = Vec::new();
    for r in &stocks.rows {
        if r[sa] == "total" && !OFF_BENEFIT.contains(&r[ss].as_str()) && !states.contains(&r[ss]) {
            states.push(r[ss].clone());
        }
    }
    let mut series = Vec::new();
    let mut quarters: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, st) in states.iter().enumerate() {
        let mut pts = Vec::new();
        for r in stocks
            .rows
            .iter()
            .filter(|r| r[sa] == "total" && r[ss] == *st)
        {
            let Some(x) = quarter_x(&r[sq]) else { continue };
            let (m, lo, hi) = (val(&r[sm]), val(&r[slo]), val(&r[shi]));
            quarters
                .entry(r[sq].clone())
                .or_insert_with(|| vec![String::new(); states.len()])[k] =
                format!("{} ({}–{})", fmt(m, loc), fmt(lo, loc), fmt(hi, loc));
            if let Some(m) = m {
                pts.push((x, m, lo.zip(hi)));
            }
        }
        series.push(Series {
            name: st.clone(),
            points: pts,
        });
    }
    if !series.is_empty() {
        let mut header = vec!["quarter".to_string()];
        header.extend(states.iter().cloned());
        page.figure(
            &Chart {
                id: "run-stocks".into(),
                title: "Persons by state at the end of each quarter (95 % band)".into(),
                x_label: "year".into(),
                y_label: "persons".into(),
                kind: Kind::Lines {
                    series,
                    years: true,
                },
            },
            &Table {
                header,
                rows: quarters
                    .into_iter()
                    .map(|(q, mut c)| {
                        c.insert(0, q);
                        c
                    })
                    .collect(),
            },
        )?;
    }
    // Yearly indicators from annual.csv.
    let f = "annual.csv";
    let (ay, am, amean, alo, ahi) = (
        annual.need(f, "year")?,
        annual.need(f, "metric")?,
        annual.need(f, "mean")?,
        annual.need(f, "ci_low")?,
        annual.need(f, "ci_high")?,
    );
    let yearly = |page: &mut Page,
                  id: &str,
                  title: &str,
                  unit: &str,
                  metrics: Vec<(String, String)>,
                  scale: f64|
     -> Result<()> {
        let mut series = Vec::new();
        let mut years: BTreeMap<i32, Vec<String>> = BTreeMap::new();
        let mut used = Vec::new();
        for (metric, label) in &metrics {
            let mut pts = Vec::new();
            for r in annual.rows.iter().filter(|r| r[am] == *metric) {
                let Ok(y) = r[ay].parse::<i32>() else {
                    continue;
                };
                let g = |i: usize| val(&r[i]).map(|x| x * scale);
                let k = used.len();
                years
                    .entry(y)
                    .or_insert_with(|| vec![String::new(); metrics.len()])[k] = format!(
                    "{} ({}–{})",
                    fmt(g(amean), loc),
                    fmt(g(alo), loc),
                    fmt(g(ahi), loc)
                );
                if let Some(m) = g(amean) {
                    pts.push((y as f64, m, g(alo).zip(g(ahi))));
                }
            }
            if !pts.is_empty() {
                used.push(label.clone());
                series.push(Series {
                    name: label.clone(),
                    points: pts,
                });
            }
        }
        if series.is_empty() {
            return Ok(());
        }
        let mut header = vec!["year".to_string()];
        header.extend(used.iter().cloned());
        page.figure(
            &Chart {
                id: id.into(),
                title: title.into(),
                x_label: "year".into(),
                y_label: unit.into(),
                kind: Kind::Lines {
                    series,
                    years: true,
                },
            },
            &Table {
                header,
                rows: years
                    .into_iter()
                    .map(|(y, mut c)| {
                        c.truncate(used.len());
                        c.insert(0, y.to_string());
                        c
                    })
                    .collect(),
            },
        )
    };
    yearly(
        page,
        "run-awards-starts",
        "Awards, starts and entries per year (95 % band)",
        "persons",
        PERSONS
            .iter()
            .filter(|(m, _)| !m.contains("40"))
            .map(|(m, l)| (m.to_string(), l.to_string()))
            .collect(),
        1.0,
    )?;
    let benefits: Vec<(String, String)> = items
        .iter()
        .filter(|i| *i != "total")
        .map(|i| (format!("cost.{i}.all"), i.clone()))
        .collect();
    yearly(
        page,
        "run-expenditure-benefit",
        "Public expenditure by benefit and service per year, all payers, DKK m",
        "DKK m",
        benefits,
        1e-6,
    )?;
    yearly(
        page,
        "run-expenditure-payer",
        "Public expenditure by payer per year, DKK m (95 % band)",
        "DKK m",
        vec![
            ("cost.total.state".into(), "state".into()),
            ("cost.total.municipality".into(), "municipalities".into()),
            ("cost.total.all".into(), "all payers".into()),
        ],
        1e-6,
    )?;
    if let Some(o) = Csv::read(dir, "outcomes.csv")? {
        let f = "outcomes.csv";
        let (om, ou, op) = (
            o.need(f, "metric")?,
            o.need(f, "unit")?,
            o.need(f, "period")?,
        );
        let (mean, lo, hi) = (
            o.need(f, "mean")?,
            o.need(f, "ci_low")?,
            o.need(f, "ci_high")?,
        );
        let mut t = Table::new(&["metric", "period", "unit", "mean", "95 % CI"]);
        for r in o.rows.iter().filter(|r| {
            (r[om].starts_with("pv.") || r[om].starts_with("citizen."))
                && !r[om].starts_with("citizen.entry_cohort")
                && !r[om].starts_with("citizen.status_after")
        }) {
            let (factor, unit) = shown(&r[ou]);
            let g = |i: usize| val(&r[i]).map(|x| x * factor);
            t.rows.push(vec![
                r[om].clone(),
                r[op].clone(),
                unit,
                fmt(g(mean), loc),
                format!("{} to {}", fmt(g(lo), loc), fmt(g(hi), loc)),
            ]);
        }
        if !t.rows.is_empty() {
            page.heading("Present values and citizen outcomes");
            page.table(&t);
        }
    }
    Ok(annual)
}

/// The metrics a sweep or an uncertainty analysis is shown by.
const HEADLINE: [(&str, &str); 6] = [
    ("pv.total.all", "pv"),
    ("pv.total.state", "pv"),
    ("pv.total.municipality", "pv"),
    ("cost.total.all", "per_year"),
    ("awards.foertidspension.total", "per_year"),
    ("starts.ressourceforloeb", "per_year"),
];

fn sweep(page: &mut Page, c: &Csv) -> Result<()> {
    let f = "sweep.csv";
    let rows_of = Rows::new(c, f)?;
    let first = c.need(f, "point")? + 1;
    let last = c.need(f, "proposal")?;
    let params: Vec<String> = c.header[first..last].to_vec();
    if params.is_empty() {
        return Err(Error::Invalid("sweep.csv: no parameter columns".into()));
    }
    let loc = page.loc;
    page.section("sweep", "Sweep");
    page.para(&format!(
        "Each point ran the proposal with the parameter values shown against the same baseline \
         replications. Varied: {}.",
        params.join(", ")
    ));
    for (k, (metric, period)) in HEADLINE.iter().enumerate() {
        let rows: Vec<&Vec<String>> = c
            .rows
            .iter()
            .filter(|r| r[rows_of.metric] == *metric && r[rows_of.period] == *period)
            .collect();
        let Some(r0) = rows.first() else { continue };
        let (factor, unit) = shown(&r0[rows_of.unit]);
        // One series for each combination of the other parameters.
        let mut groups: Vec<(String, Vec<Point>)> = Vec::new();
        let mut t = Table::new(&[]);
        t.header = params.clone();
        t.header.extend(["Δ".to_string(), "95 % CI".to_string()]);
        for r in &rows {
            let g = |col: &str| rows_of.num(r, col).map(|x| x * factor);
            let key = params[1..]
                .iter()
                .enumerate()
                .map(|(j, p)| format!("{p} = {}", r[first + 1 + j]))
                .collect::<Vec<_>>()
                .join(", ");
            let mut cells: Vec<String> = r[first..last].to_vec();
            cells.push(fmt(g("delta_mean"), loc));
            cells.push(format!(
                "{} to {}",
                fmt(g("delta_ci_low"), loc),
                fmt(g("delta_ci_high"), loc)
            ));
            t.rows.push(cells);
            let (Some(x), Some(m)) = (val(&r[first]), g("delta_mean")) else {
                continue;
            };
            let band = g("delta_ci_low").zip(g("delta_ci_high"));
            match groups.iter_mut().find(|g| g.0 == key) {
                Some(g) => g.1.push((x, m, band)),
                None => groups.push((key, vec![(x, m, band)])),
            }
        }
        let series = groups
            .into_iter()
            .map(|(name, mut points)| {
                points.sort_by(|a, b| a.0.total_cmp(&b.0));
                Series {
                    name: if name.is_empty() {
                        format!("Δ {metric}")
                    } else {
                        name
                    },
                    points,
                }
            })
            .collect();
        page.figure(
            &Chart {
                id: format!("sweep-{k}-{}", slug(metric)),
                title: format!("Δ {metric} ({period}) against {}", params[0]),
                x_label: params[0].clone(),
                y_label: format!("Δ {unit}"),
                kind: Kind::Lines {
                    series,
                    years: false,
                },
            },
            &t,
        )?;
    }
    Ok(())
}

fn sensitivity(page: &mut Page, c: &Csv) -> Result<()> {
    let f = "sensitivity.csv";
    let col = |n: &str| c.need(f, n);
    let (par, low, high, metric, period) = (
        col("parameter")?,
        col("low")?,
        col("high")?,
        col("metric")?,
        col("period")?,
    );
    let (dl, dc, dh, swing) = (
        col("delta_at_low")?,
        col("delta_at_central")?,
        col("delta_at_high")?,
        col("swing")?,
    );
    let why = c.col("why");
    let Some(r0) = c.rows.first() else {
        return Ok(());
    };
    let m = r0[metric].clone();
    let money = m.starts_with("pv.") || m.starts_with("cost.");
    let (factor, unit) = if money { (1e-6, "DKK m") } else { (1.0, "") };
    let loc = page.loc;
    page.section("sensitivity", "One-way sensitivity");
    let central = val(&r0[dc]).map(|x| x * factor);
    page.para(&format!(
        "Δ {m} ({}) against the baseline: {} {unit} with every uncertain parameter at its \
         central value; each bar moves one parameter to its low or high value.",
        r0[period],
        fmt(central, loc)
    ));
    let mut rows = Vec::new();
    let mut t = Table::new(&[
        "parameter",
        "low .. high",
        "Δ at low",
        "Δ at high",
        "swing",
        "why",
    ]);
    for r in &c.rows {
        let g = |i: usize| val(&r[i]).map(|x| x * factor);
        if let (Some(a), Some(b)) = (g(dl), g(dh)) {
            rows.push((r[par].clone(), a, b));
        }
        t.rows.push(vec![
            r[par].clone(),
            format!("{} .. {}", fmt(val(&r[low]), loc), fmt(val(&r[high]), loc)),
            fmt(g(dl), loc),
            fmt(g(dh), loc),
            fmt(g(swing), loc),
            why.map(|w| r[w].clone()).unwrap_or_default(),
        ]);
    }
    page.figure(
        &Chart {
            id: "sensitivity-tornado".into(),
            title: format!("Tornado: Δ {m} ({unit}) at each parameter's low and high value"),
            x_label: format!("Δ {m} {unit}"),
            y_label: String::new(),
            kind: Kind::Tornado {
                central: central.unwrap_or(0.0),
                rows,
            },
        },
        &t,
    )
}

fn uncertainty(page: &mut Page, s: &Csv, draws: &Csv, drivers: &Csv) -> Result<()> {
    let f = "uncertainty-summary.csv";
    let col = |n: &str| s.need(f, n);
    let (metric, period) = (col("metric")?, col("period")?);
    let (mean, p025, p50, p975, below) = (
        col("delta_mean")?,
        col("delta_p2_5")?,
        col("delta_p50")?,
        col("delta_p97_5")?,
        col("prob_below_zero")?,
    );
    let n_draws = s.col("draws");
    let loc = page.loc;
    page.section("uncertainty", "Uncertainty over the parameters");
    let find = |m: &str, p: &str| s.rows.iter().find(|r| r[metric] == m && r[period] == p);
    if let Some(r) = find("pv.total.all", "pv") {
        page.para(&format!(
            "Probability that the proposal lowers public expenditure (Δ present value, all payers, \
             below zero): {} % over {} parameter draws.",
            fmt(val(&r[below]).map(|x| x * 100.0), loc),
            n_draws.map_or("the", |i| r[i].as_str())
        ));
    }
    for (group, items, factor, unit) in [
        ("money", HEADLINE[..4].to_vec(), 1e-6, "DKK m"),
        ("persons", HEADLINE[4..].to_vec(), 1.0, "persons a year"),
    ] {
        let mut rows = Vec::new();
        let mut t = Table::new(&["metric", "mean Δ", "2.5 %", "50 %", "97.5 %", "P(Δ < 0)"]);
        for (m, p) in items {
            let Some(r) = find(m, p) else { continue };
            let g = |i: usize| val(&r[i]).map(|x| x * factor);
            let label = format!("{m} ({p})");
            let values: Vec<f64> = match Rows::new(draws, "uncertainty.csv") {
                Ok(d) => draws
                    .rows
                    .iter()
                    .filter(|x| x[d.metric] == m && x[d.period] == p)
                    .filter_map(|x| d.num(x, "delta_mean").map(|v| v * factor))
                    .collect(),
                Err(_) => Vec::new(),
            };
            if let (Some(a), Some(b), Some(c)) = (g(p025), g(p50), g(p975)) {
                rows.push((label.clone(), values, [a, b, c]));
            }
            t.rows.push(vec![
                label,
                fmt(g(mean), loc),
                fmt(g(p025), loc),
                fmt(g(p50), loc),
                fmt(g(p975), loc),
                format!("{} %", fmt(val(&r[below]).map(|x| x * 100.0), loc)),
            ]);
        }
        if rows.is_empty() {
            continue;
        }
        page.figure(
            &Chart {
                id: format!("uncertainty-{group}"),
                title: format!("Distribution of Δ over the parameter draws ({unit})"),
                x_label: format!("Δ {unit}"),
                y_label: String::new(),
                kind: Kind::Strips { rows },
            },
            &t,
        )?;
    }
    // Drivers of the present value.
    if let (Some(dm), Some(dp), Some(dpar), Some(rho)) = (
        drivers.col("metric"),
        drivers.col("period"),
        drivers.col("parameter"),
        drivers.col("spearman"),
    ) {
        let mut rows: Vec<(String, f64)> = drivers
            .rows
            .iter()
            .filter(|r| r[dm] == "pv.total.all" && r[dp] == "pv")
            .filter_map(|r| val(&r[rho]).map(|v| (r[dpar].clone(), v)))
            .collect();
        rows.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then(a.0.cmp(&b.0)));
        if !rows.is_empty() {
            let t = Table {
                header: vec!["parameter".into(), "Spearman ρ".into()],
                rows: rows
                    .iter()
                    .map(|(p, v)| vec![p.clone(), fmt(Some(*v), loc)])
                    .collect(),
            };
            rows.truncate(15);
            page.figure(
                &Chart {
                    id: "uncertainty-drivers".into(),
                    title: "Drivers: rank correlation of each parameter with Δ pv.total.all".into(),
                    x_label: "Spearman rank correlation".into(),
                    y_label: String::new(),
                    kind: Kind::Bars { rows },
                },
                &t,
            )?;
        }
    }
    Ok(())
}

fn check(page: &mut Page, c: &Csv) -> Result<()> {
    let f = "check.csv";
    let col = |n: &str| c.need(f, n);
    let (id, role, kind, desc, published) = (
        col("id")?,
        col("role")?,
        col("kind")?,
        col("description")?,
        col("published")?,
    );
    let (lo, hi, mean, clo, chi, tol, pass) = (
        col("published_low")?,
        col("published_high")?,
        col("simulated_mean")?,
        col("ci_low")?,
        col("ci_high")?,
        col("tolerance")?,
        col("pass")?,
    );
    let abs_tol = c.col("abs_tolerance");
    let loc = page.loc;
    page.section("check", "Published figures against the simulation");
    page.para(
        "Each row is the simulated mean (with its 95 % interval) as a percentage deviation from \
         the published figure (the middle of a published range); the grey band is the tolerance \
         within which the target passes.",
    );
    for r_role in ["fitted", "held_out", "input", "reference"] {
        let mut rows = Vec::new();
        let mut t = Table::new(&[
            "target",
            "published",
            "simulated",
            "95 % CI",
            "result",
            "description",
        ]);
        for r in c.rows.iter().filter(|r| r[role] == r_role) {
            t.rows.push(vec![
                r[id].clone(),
                r[published].clone(),
                fmt(val(&r[mean]), loc),
                format!("{} to {}", fmt(val(&r[clo]), loc), fmt(val(&r[chi]), loc)),
                r[pass].clone(),
                r[desc].clone(),
            ]);
            let (Some(a), Some(b), Some(m)) = (val(&r[lo]), val(&r[hi]), val(&r[mean])) else {
                continue;
            };
            let mid = (a + b) / 2.0;
            if mid == 0.0 {
                continue;
            }
            let rel = |x: f64| (x / mid - 1.0) * 100.0;
            let t_rel = val(&r[tol]).unwrap_or(0.0);
            let (down, up) = if r[kind] == "share" {
                let floor = abs_tol.and_then(|i| val(&r[i])).unwrap_or(0.0);
                (
                    floor.max((t_rel * a).min(SHARE_CAP)),
                    floor.max((t_rel * b).min(SHARE_CAP)),
                )
            } else {
                (t_rel * a.abs(), t_rel * b.abs())
            };
            let band = (r[pass] != "reference").then(|| (rel(a - down), rel(b + up)));
            rows.push(Row {
                label: r[id].clone(),
                mean: rel(m),
                low: val(&r[clo]).map_or(rel(m), rel),
                high: val(&r[chi]).map_or(rel(m), rel),
                band,
            });
        }
        if t.rows.is_empty() {
            continue;
        }
        let title = match r_role {
            "fitted" => "Fitted targets",
            "held_out" => "Held-out targets (the evidence)",
            "input" => "Input echoes",
            _ => "References",
        };
        if rows.is_empty() {
            page.heading(title);
            page.table(&t);
            continue;
        }
        forest_figure(
            page,
            format!("check-{}", slug(r_role)),
            format!("{title}: simulated against published"),
            "deviation from the published figure, %",
            rows,
            &t,
        )?;
    }
    Ok(())
}
