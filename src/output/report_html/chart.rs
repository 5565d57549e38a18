//! Charts as SVG text, drawn with plotters' SVG backend (no system fonts:
//! text is written as `<text font-family="sans-serif">` for the viewer, or
//! for [`super::raster`], to draw).
//!
//! Every chart knows its series and their colours, so the page can say how
//! many series it holds and a test can check that each was drawn.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::table::{Locale, fmt_dec};
use crate::error::{Error, Result};

/// Colours of series, in order (Okabe-Ito, readable for colour-blind readers,
/// then four more).
pub const PALETTE: [RGBColor; 12] = [
    RGBColor(0x00, 0x72, 0xB2),
    RGBColor(0xD5, 0x5E, 0x00),
    RGBColor(0x00, 0x9E, 0x73),
    RGBColor(0xCC, 0x79, 0xA7),
    RGBColor(0xE6, 0x9F, 0x00),
    RGBColor(0x56, 0xB4, 0xE9),
    RGBColor(0x80, 0x3E, 0x75),
    RGBColor(0x44, 0x44, 0x44),
    RGBColor(0xA6, 0x3A, 0x2E),
    RGBColor(0x3B, 0x6E, 0x3B),
    RGBColor(0x8C, 0x6D, 0x31),
    RGBColor(0x5E, 0x4F, 0xA2),
];

/// The colour of the tolerance bands of `check`.
const BAND: RGBColor = RGBColor(0xBB, 0xBB, 0xBB);

pub fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

pub fn hex(c: RGBColor) -> String {
    format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
}

/// A point of a line: `(x, y, band)`, the band its 95 % interval.
pub type Point = (f64, f64, Option<(f64, f64)>);

/// A line with an optional 95 % band.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub points: Vec<Point>,
}

/// One row of a forest plot: a label, the mean, its interval, and an
/// optional band behind it (a tolerance).
#[derive(Debug, Clone)]
pub struct Row {
    pub label: String,
    pub mean: f64,
    pub low: f64,
    pub high: f64,
    pub band: Option<(f64, f64)>,
}

/// What a chart shows.
#[derive(Debug, Clone)]
pub enum Kind {
    /// Lines over x with bands; `years` writes x ticks as whole numbers.
    Lines { series: Vec<Series>, years: bool },
    /// Means with intervals, one row each, a reference line at `zero`.
    Forest { rows: Vec<Row>, zero: f64 },
    /// Bars from the central value to the value at each end (low, high).
    Tornado {
        central: f64,
        rows: Vec<(String, f64, f64)>,
    },
    /// A bar from zero for each row.
    Bars { rows: Vec<(String, f64)> },
    /// The values of each row as dots, with marks at three quantiles.
    Strips {
        rows: Vec<(String, Vec<f64>, [f64; 3])>,
    },
}

/// A chart: its file name (without extension), title, axis labels, data.
#[derive(Debug, Clone)]
pub struct Chart {
    pub id: String,
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub kind: Kind,
}

impl Chart {
    /// The names and colours of the series a reader should find drawn.
    pub fn legend(&self) -> Vec<(String, RGBColor)> {
        match &self.kind {
            Kind::Lines { series, .. } => series
                .iter()
                .enumerate()
                .map(|(i, s)| (s.name.clone(), color(i)))
                .collect(),
            Kind::Forest { rows, .. } => {
                let mut v = vec![("mean and 95 % CI".to_string(), color(0))];
                if rows.iter().any(|r| r.band.is_some()) {
                    v.push(("tolerance".to_string(), BAND));
                }
                v
            }
            Kind::Tornado { .. } => vec![
                ("at the low value".to_string(), color(0)),
                ("at the high value".to_string(), color(1)),
            ],
            Kind::Bars { .. } => vec![("value".to_string(), color(0))],
            Kind::Strips { .. } => vec![
                ("draws".to_string(), color(0)),
                ("2.5, 50, 97.5 %".to_string(), color(1)),
            ],
        }
    }

    /// Width and height in pixels.
    pub fn size(&self) -> (u32, u32) {
        let rows = match &self.kind {
            Kind::Lines { .. } => return (760, 440),
            Kind::Forest { rows, .. } => rows.len(),
            Kind::Tornado { rows, .. } => rows.len(),
            Kind::Strips { rows } => rows.len(),
            Kind::Bars { rows } => rows.len(),
        };
        (760, 120 + 34 * rows.max(3) as u32)
    }

    /// The chart as an SVG document.
    pub fn svg(&self, loc: Locale) -> Result<String> {
        let mut s = String::new();
        {
            let root = SVGBackend::with_string(&mut s, self.size()).into_drawing_area();
            root.fill(&WHITE).map_err(draw_err)?;
            match &self.kind {
                Kind::Lines { series, years } => self.lines(&root, series, *years, loc)?,
                Kind::Forest { rows, zero } => self.forest(&root, rows, *zero, loc)?,
                Kind::Tornado { central, rows } => self.tornado(&root, *central, rows, loc)?,
                Kind::Strips { rows } => self.strips(&root, rows, loc)?,
                Kind::Bars { rows } => self.bars(&root, rows, loc)?,
            }
            root.present().map_err(draw_err)?;
        }
        Ok(s)
    }

    fn lines(
        &self,
        root: &DrawingArea<SVGBackend, Shift>,
        series: &[Series],
        years: bool,
        loc: Locale,
    ) -> Result<()> {
        let xs = series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
        let ys = series.iter().flat_map(|s| {
            s.points.iter().flat_map(|&(_, y, b)| {
                let (lo, hi) = b.unwrap_or((y, y));
                [y, lo, hi]
            })
        });
        let (x0, x1) = span(xs, false);
        let (y0, mut y1) = span(ys, true);
        if series.len() > 1 {
            // Room above the lines for the legend (upper left).
            y1 += (y1 - y0) * (0.08 * series.len().min(6) as f64);
        }
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, ("sans-serif", 22))
            .margin(12)
            .margin_right(28)
            .x_label_area_size(44)
            .y_label_area_size(96)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(draw_err)?;
        let (xd, yd) = (tick_decimals(x0, x1), tick_decimals(y0, y1));
        let xf = |v: &f64| {
            if years {
                format!("{}", v.round())
            } else {
                fmt_dec(Some(*v), xd, loc)
            }
        };
        let yf = |v: &f64| fmt_dec(Some(*v), yd, loc);
        chart
            .configure_mesh()
            .light_line_style(WHITE.mix(0.0))
            .x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .x_label_formatter(&xf)
            .y_label_formatter(&yf)
            .x_labels(if years { series_len(series).min(12) } else { 8 })
            .label_style(("sans-serif", 16))
            .axis_desc_style(("sans-serif", 16))
            .draw()
            .map_err(draw_err)?;
        if y0 < 0.0 && y1 > 0.0 {
            chart
                .draw_series(LineSeries::new([(x0, 0.0), (x1, 0.0)], BLACK.mix(0.6)))
                .map_err(draw_err)?;
        }
        for (i, s) in series.iter().enumerate() {
            let c = color(i);
            let band: Vec<(f64, f64, f64)> = s
                .points
                .iter()
                .filter_map(|&(x, _, b)| b.map(|(lo, hi)| (x, lo, hi)))
                .collect();
            if band.len() == s.points.len() && band.iter().any(|b| b.2 > b.1) {
                let mut poly: Vec<(f64, f64)> = band.iter().map(|b| (b.0, b.2)).collect();
                poly.extend(band.iter().rev().map(|b| (b.0, b.1)));
                chart
                    .draw_series(std::iter::once(Polygon::new(poly, c.mix(0.18).filled())))
                    .map_err(draw_err)?;
            }
            let style = c.stroke_width(2);
            chart
                .draw_series(LineSeries::new(s.points.iter().map(|p| (p.0, p.1)), style))
                .map_err(draw_err)?
                .label(s.name.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
            if s.points.len() <= 12 {
                chart
                    .draw_series(
                        s.points
                            .iter()
                            .map(|p| Circle::new((p.0, p.1), 3, c.filled())),
                    )
                    .map_err(draw_err)?;
            }
        }
        if series.len() > 1 {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.3))
                .label_font(("sans-serif", 15))
                .draw()
                .map_err(draw_err)?;
        }
        Ok(())
    }

    /// Rows top to bottom; y runs from 0 at the bottom to n at the top.
    fn rows_chart<'a, 'b>(
        &self,
        root: &'a DrawingArea<SVGBackend<'b>, Shift>,
        labels: Vec<String>,
        values: impl Iterator<Item = f64>,
        loc: Locale,
    ) -> Result<
        ChartContext<
            'a,
            SVGBackend<'b>,
            Cartesian2d<
                plotters::coord::types::RangedCoordf64,
                plotters::coord::types::RangedCoordf64,
            >,
        >,
    > {
        let n = labels.len().max(1);
        let (x0, x1) = span(values, true);
        let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(4) as u32;
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, ("sans-serif", 22))
            .margin(12)
            .margin_right(28)
            .x_label_area_size(44)
            .y_label_area_size((longest * 9 + 16).clamp(60, 360))
            .build_cartesian_2d(x0..x1, 0.0..n as f64)
            .map_err(draw_err)?;
        let xd = tick_decimals(x0, x1);
        let xf = |v: &f64| fmt_dec(Some(*v), xd, loc);
        let yf = move |v: &f64| {
            let i = (n as f64 - v - 0.5).round();
            if (n as f64 - v - 0.5 - i).abs() < 0.01 && i >= 0.0 && (i as usize) < labels.len() {
                labels[i as usize].clone()
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(WHITE.mix(0.0))
            .x_desc(self.x_label.as_str())
            .x_label_formatter(&xf)
            .y_label_formatter(&yf)
            .y_labels(2 * n + 1)
            .label_style(("sans-serif", 15))
            .axis_desc_style(("sans-serif", 16))
            .draw()
            .map_err(draw_err)?;
        Ok(chart)
    }

    fn forest(
        &self,
        root: &DrawingArea<SVGBackend, Shift>,
        rows: &[Row],
        zero: f64,
        loc: Locale,
    ) -> Result<()> {
        let labels = rows.iter().map(|r| r.label.clone()).collect();
        let vals = rows
            .iter()
            .flat_map(|r| {
                let (a, b) = r.band.unwrap_or((r.mean, r.mean));
                [r.mean, r.low, r.high, a, b]
            })
            .chain([zero]);
        let mut chart = self.rows_chart(root, labels, vals, loc)?;
        let n = rows.len() as f64;
        let y = |i: usize| n - i as f64 - 0.5;
        chart
            .draw_series(rows.iter().enumerate().filter_map(|(i, r)| {
                r.band.map(|(a, b)| {
                    Rectangle::new([(a, y(i) - 0.32), (b, y(i) + 0.32)], BAND.mix(0.6).filled())
                })
            }))
            .map_err(draw_err)?;
        chart
            .draw_series(LineSeries::new([(zero, 0.0), (zero, n)], BLACK.mix(0.6)))
            .map_err(draw_err)?;
        let c = color(0);
        chart
            .draw_series(rows.iter().enumerate().map(|(i, r)| {
                PathElement::new(vec![(r.low, y(i)), (r.high, y(i))], c.stroke_width(2))
            }))
            .map_err(draw_err)?;
        chart
            .draw_series(
                rows.iter()
                    .enumerate()
                    .map(|(i, r)| Circle::new((r.mean, y(i)), 4, c.filled())),
            )
            .map_err(draw_err)?;
        Ok(())
    }

    fn tornado(
        &self,
        root: &DrawingArea<SVGBackend, Shift>,
        central: f64,
        rows: &[(String, f64, f64)],
        loc: Locale,
    ) -> Result<()> {
        let labels = rows.iter().map(|r| r.0.clone()).collect();
        let vals = rows.iter().flat_map(|r| [r.1, r.2]).chain([central]);
        let mut chart = self.rows_chart(root, labels, vals, loc)?;
        let n = rows.len() as f64;
        let y = |i: usize| n - i as f64 - 0.5;
        for (k, pick) in [(0usize, 1usize), (1, 2)] {
            let c = color(k);
            chart
                .draw_series(rows.iter().enumerate().map(|(i, r)| {
                    let v = if pick == 1 { r.1 } else { r.2 };
                    Rectangle::new(
                        [(central, y(i) - 0.35), (v, y(i) + 0.35)],
                        c.mix(0.85).filled(),
                    )
                }))
                .map_err(draw_err)?
                .label(if k == 0 { "low value" } else { "high value" })
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], c.filled()));
        }
        chart
            .draw_series(LineSeries::new([(central, 0.0), (central, n)], BLACK))
            .map_err(draw_err)?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .label_font(("sans-serif", 15))
            .draw()
            .map_err(draw_err)?;
        Ok(())
    }

    fn bars(
        &self,
        root: &DrawingArea<SVGBackend, Shift>,
        rows: &[(String, f64)],
        loc: Locale,
    ) -> Result<()> {
        let labels = rows.iter().map(|r| r.0.clone()).collect();
        let vals = rows.iter().map(|r| r.1).chain([0.0]);
        let mut chart = self.rows_chart(root, labels, vals, loc)?;
        let n = rows.len() as f64;
        let y = |i: usize| n - i as f64 - 0.5;
        let c = color(0);
        chart
            .draw_series(rows.iter().enumerate().map(|(i, r)| {
                Rectangle::new(
                    [(0.0, y(i) - 0.35), (r.1, y(i) + 0.35)],
                    c.mix(0.85).filled(),
                )
            }))
            .map_err(draw_err)?;
        chart
            .draw_series(LineSeries::new([(0.0, 0.0), (0.0, n)], BLACK))
            .map_err(draw_err)?;
        Ok(())
    }

    fn strips(
        &self,
        root: &DrawingArea<SVGBackend, Shift>,
        rows: &[(String, Vec<f64>, [f64; 3])],
        loc: Locale,
    ) -> Result<()> {
        let labels = rows.iter().map(|r| r.0.clone()).collect();
        let vals = rows
            .iter()
            .flat_map(|r| r.1.iter().copied().chain(r.2))
            .chain([0.0]);
        let mut chart = self.rows_chart(root, labels, vals, loc)?;
        let n = rows.len() as f64;
        let y = |i: usize| n - i as f64 - 0.5;
        chart
            .draw_series(LineSeries::new([(0.0, 0.0), (0.0, n)], BLACK.mix(0.6)))
            .map_err(draw_err)?;
        let (c0, c1) = (color(0), color(1));
        for (i, r) in rows.iter().enumerate() {
            // Spread the dots over the row's height by their order (a fixed,
            // deterministic jitter).
            chart
                .draw_series(r.1.iter().enumerate().map(|(j, &v)| {
                    let dy = ((j as f64 * 0.618_034) % 1.0 - 0.5) * 0.5;
                    Circle::new((v, y(i) + dy), 2, c0.mix(0.55).filled())
                }))
                .map_err(draw_err)?;
            chart
                .draw_series(r.2.iter().map(|&q| {
                    PathElement::new(vec![(q, y(i) - 0.4), (q, y(i) + 0.4)], c1.stroke_width(2))
                }))
                .map_err(draw_err)?;
        }
        Ok(())
    }
}

/// Decimals that tell the ticks of an axis over `lo..hi` apart (about ten
/// ticks), the same for every tick.
fn tick_decimals(lo: f64, hi: f64) -> usize {
    let step = (hi - lo).abs() / 10.0;
    if step.is_nan() || step <= 0.0 || step >= 1.0 {
        0
    } else {
        (-step.log10()).ceil().clamp(0.0, 6.0) as usize
    }
}

fn series_len(series: &[Series]) -> usize {
    series.iter().map(|s| s.points.len()).max().unwrap_or(1)
}

/// The range of the values with a margin; `pad` widens it by 5 % each side.
fn span(values: impl Iterator<Item = f64>, pad: bool) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if hi <= lo {
        let d = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        return (lo - d, hi + d);
    }
    if pad {
        let d = (hi - lo) * 0.05;
        (lo - d, hi + d)
    } else {
        (lo, hi)
    }
}

fn draw_err<E: std::fmt::Debug>(e: E) -> Error {
    Error::Internal(format!("drawing a chart: {e:?}"))
}
