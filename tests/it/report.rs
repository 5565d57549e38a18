//! `fleksim report`: the files it writes, offline, reproducible, the
//! Danish locale, bad folders; and snapshots of two charts' SVG, so a change
//! of the charts shows in review (`UPDATE_SNAPSHOTS=1` rewrites them).

use std::path::Path;

use fleksim::output::report_html::{Chart, Kind, Locale, Row, Series};

use crate::util::{data, fleksim, root};

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

/// A small comparison of one lever against the baseline, in `dir`.
fn compare_folder(dir: &Path) {
    fleksim()
        .current_dir(root())
        .args([
            "compare",
            "scenarios/baseline.toml",
            "scenarios/proposals/l05-no-minimum-year.toml",
            "--scale",
            "0.02",
            "-n",
            "2",
            "--quarters",
            "8",
            "--quiet",
            "--out",
        ])
        .arg(dir)
        .assert()
        .success();
}

#[test]
fn compare_report_is_complete_offline_and_reproducible() {
    let tmp = tempfile::tempdir().unwrap();
    let cmp = tmp.path().join("cmp");
    compare_folder(&cmp);
    assert!(
        cmp.join("explain.txt").is_file(),
        "compare writes explain.txt"
    );
    fleksim().arg("report").arg(&cmp).assert().success();
    let report = cmp.join("report");
    let first = files(&report);
    let names: Vec<&str> = first.iter().map(|f| f.0.as_str()).collect();
    assert!(names.contains(&"report.html") && names.contains(&"compare.xlsx"));
    let svgs: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| n.ends_with(".svg"))
        .collect();
    assert!(svgs.len() >= 4, "charts: {svgs:?}");
    for s in &svgs {
        let png = s.replace(".svg", ".png");
        let bytes = &first.iter().find(|f| f.0 == png).expect("a PNG per SVG").1;
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{png}");
    }
    let xlsx = &first.iter().find(|f| f.0 == "compare.xlsx").unwrap().1;
    assert!(xlsx.starts_with(b"PK"), "an xlsx is a zip file");

    let html = String::from_utf8(
        first
            .iter()
            .find(|f| f.0 == "report.html")
            .unwrap()
            .1
            .clone(),
    )
    .unwrap();
    // Self-contained: nothing to fetch, no script.
    for bad in [
        "<script",
        "<link",
        "src=\"http",
        "href=\"http",
        "url(",
        "@import",
    ] {
        assert!(!html.contains(bad), "the page contains {bad}");
    }
    assert!(html.contains("Content-Security-Policy"));
    // Each chart inline, beside its table; what the proposal assumes.
    assert_eq!(html.matches("<figure class=\"chart\"").count(), svgs.len());
    assert_eq!(html.matches("<div class=\"pair\">").count(), svgs.len());
    assert!(
        html.contains("ressourceforloeb_minimum_one_year"),
        "explain text"
    );

    // The same folder gives the same bytes (the xlsx and PNGs included).
    fleksim().arg("report").arg(&cmp).assert().success();
    assert!(
        first == files(&report),
        "a second report differs from the first"
    );
}

#[test]
fn danish_locale_writes_danish_numbers_and_csv() {
    let tmp = tempfile::tempdir().unwrap();
    let cmp = tmp.path().join("cmp");
    compare_folder(&cmp);
    let out = tmp.path().join("da");
    fleksim()
        .arg("report")
        .arg(&cmp)
        .args(["--locale", "da", "--quiet", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stdout("");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<html lang=\"da\">"));
    // Thousands with '.', decimals with ',': a baseline of over 1,000
    // persons a year is written with a dot and no comma before it.
    let grouped = html.split(['>', '<']).any(|t| {
        t.len() > 4 && t.chars().all(|c| c.is_ascii_digit() || c == '.') && t.contains('.')
    });
    assert!(grouped, "no number grouped the Danish way");
    let csv = std::fs::read(out.join("compare-da.csv")).unwrap();
    assert!(
        csv.starts_with(b"\xEF\xBB\xBF"),
        "a byte-order mark for Excel"
    );
    let text = String::from_utf8(csv[3..].to_vec()).unwrap();
    let mut lines = text.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("proposal;metric;unit;year;period;")
    );
    assert!(
        lines.any(|l| l.split(';').any(|f| f.contains(',')
            && f.replace([',', '-'], "")
                .chars()
                .all(|c| c.is_ascii_digit()))),
        "no decimal comma in compare-da.csv"
    );
    assert!(
        !text.contains(".5;") && !text.contains(".25;"),
        "a decimal point left"
    );
}

#[test]
fn run_report_shows_the_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    fleksim()
        .args([
            "run",
            "--scale",
            "0.02",
            "-n",
            "2",
            "--quarters",
            "8",
            "--quiet",
            "--out",
        ])
        .arg(&run)
        .assert()
        .success();
    fleksim().arg("report").arg(&run).assert().success();
    let html = std::fs::read_to_string(run.join("report").join("report.html")).unwrap();
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("manifest.json")).unwrap()).unwrap();
    assert!(html.contains(manifest["scenario_hash"].as_str().unwrap()));
    for id in [
        "run-stocks",
        "run-awards-starts",
        "run-expenditure-benefit",
        "run-expenditure-payer",
    ] {
        assert!(html.contains(&format!("id=\"fig-{id}\"")), "{id}");
    }
}

#[test]
fn a_folder_without_results_is_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    fleksim()
        .arg("report")
        .arg(tmp.path())
        .assert()
        .code(1)
        .stderr(predicates::str::contains("no output of fleksim here"));
    fleksim()
        .arg("report")
        .arg(tmp.path().join("missing"))
        .assert()
        .code(1)
        .stderr(predicates::str::contains("no such output folder"));
    fleksim()
        .arg("report")
        .arg(tmp.path())
        .args(["--locale", "fr"])
        .assert()
        .code(1);
    // A CSV of another shape names the file and the column.
    std::fs::write(tmp.path().join("compare.csv"), "a,b\n1,2\n").unwrap();
    fleksim()
        .arg("report")
        .arg(tmp.path())
        .assert()
        .code(1)
        .stderr(predicates::str::contains("compare.csv: no column"));
}

/// Compares `svg` with the file under tests/data/report/ (or rewrites it).
fn snapshot(name: &str, svg: &str) {
    let path = data("report").join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, svg).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_SNAPSHOTS=1 writes it)", path.display()));
    assert!(
        want == svg,
        "{name} changed: review the new chart, then rerun with UPDATE_SNAPSHOTS=1"
    );
}

#[test]
fn chart_svg_snapshots() {
    let forest = Chart {
        id: "forest".into(),
        title: "Δ persons a year".into(),
        x_label: "Δ persons".into(),
        y_label: String::new(),
        kind: Kind::Forest {
            rows: vec![
                Row {
                    label: "awards".into(),
                    mean: 1200.0,
                    low: 800.0,
                    high: 1600.0,
                    band: None,
                },
                Row {
                    label: "starts".into(),
                    mean: -300.0,
                    low: -650.0,
                    high: 50.0,
                    band: None,
                },
                Row {
                    label: "entries".into(),
                    mean: 40.0,
                    low: -10.0,
                    high: 90.0,
                    band: Some((-100.0, 100.0)),
                },
            ],
            zero: 0.0,
        },
    };
    let lines = Chart {
        id: "lines".into(),
        title: "Δ expenditure by year".into(),
        x_label: "year".into(),
        y_label: "DKK m".into(),
        kind: Kind::Lines {
            series: vec![
                Series {
                    name: "state".into(),
                    points: (2019..2024)
                        .map(|y| {
                            (
                                y as f64,
                                (y - 2019) as f64 * 10.0,
                                Some((
                                    (y - 2019) as f64 * 10.0 - 4.0,
                                    (y - 2019) as f64 * 10.0 + 4.0,
                                )),
                            )
                        })
                        .collect(),
                },
                Series {
                    name: "municipalities".into(),
                    points: (2019..2024)
                        .map(|y| (y as f64, -((y - 2019) as f64) * 5.0, None))
                        .collect(),
                },
            ],
            years: true,
        },
    };
    let f = forest.svg(Locale::En).unwrap();
    let l = lines.svg(Locale::Da).unwrap();
    // What the browser test relies on: every series' colour is drawn.
    for c in [&forest, &lines] {
        let svg = c.svg(Locale::En).unwrap();
        for (name, colour) in c.legend() {
            let hex = format!("#{:02X}{:02X}{:02X}", colour.0, colour.1, colour.2);
            assert!(
                svg.contains(&hex),
                "{}: series {name} ({hex}) not drawn",
                c.id
            );
        }
    }
    snapshot("forest.svg", &f);
    snapshot("lines.svg", &l);
}
