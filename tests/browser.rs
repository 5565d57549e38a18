//! The HTML report in a real browser: headless Chromium, driven by
//! playwright-core (tests/browser/drive.mjs), opens the reports of small
//! output folders at a laptop and a phone size, and this test checks that
//! every chart rendered with each of its series, that the page made no
//! network request and logged no console error, that nothing overflows the
//! phone's width, and that both screenshots show something.
//!
//! Not part of a plain `cargo test` (Cargo.toml: `test = false`); run it
//! with `cargo test --test browser` (CI: .ci/browser.sh, which installs
//! Debian's `chromium` and runs `npm ci` in tests/browser). Without Chromium,
//! Node or playwright-core it fails, naming what is missing: it never skips.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs fleksim in `cwd`; `check` may exit 3 (a target missed at this
/// small scale) and still write check.csv.
fn fleksim(args: &[&str], cwd: &Path) {
    let out = Command::new(env!("CARGO_BIN_EXE_fleksim"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .output()
        .expect("run fleksim");
    let ok = out.status.success() || (args[0] == "check" && out.status.code() == Some(3));
    assert!(
        ok,
        "fleksim {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn chromium() -> String {
    let exe = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&exe).is_file(),
        "no Chromium at {exe}: install it (`apt-get install -y chromium`, see .ci/browser.sh) \
         or set CHROMIUM"
    );
    exe
}

/// Runs drive.mjs over `html`; its JSON result.
fn drive(html: &Path, shots: &Path) -> serde_json::Value {
    let dir = root().join("tests").join("browser");
    assert!(
        dir.join("node_modules").join("playwright-core").is_dir(),
        "playwright-core is not installed: run `npm ci` in tests/browser (see .ci/browser.sh)"
    );
    std::fs::create_dir_all(shots).unwrap();
    let out = Command::new("node")
        .arg(dir.join("drive.mjs"))
        .arg(html)
        .arg(shots)
        .env("CHROMIUM", chromium())
        .output()
        .expect("node must be installed to drive Chromium");
    assert!(
        out.status.success(),
        "drive.mjs failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("drive.mjs prints JSON")
}

/// The share of pixels of a PNG that differ from its top-left pixel (the
/// page's background).
fn ink(png_path: &Path) -> f64 {
    let dec = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(png_path).expect("screenshot"),
    ));
    let mut r = dec.read_info().expect("a PNG");
    let mut buf = vec![0; r.output_buffer_size().expect("size")];
    let info = r.next_frame(&mut buf).expect("a frame");
    let px = info.color_type.samples();
    let data = &buf[..info.buffer_size()];
    let bg = &data[..px];
    let n = data.len() / px;
    let differ = data.chunks(px).filter(|p| p != &bg).count();
    differ as f64 / n as f64
}

/// Checks one report in the browser; returns the number of charts seen.
fn check_report(folder: &Path, shots: &Path) -> usize {
    let report = folder.join("report");
    let html = report.join("report.html");
    let svgs = std::fs::read_dir(&report)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "svg")
        })
        .count();
    let res = drive(&html, shots);
    let views = res["views"].as_array().expect("views");
    assert_eq!(views.len(), 2);
    for v in views {
        let name = v["name"].as_str().unwrap();
        assert_eq!(
            v["requests"].as_array().unwrap().len(),
            0,
            "{}: the page made network requests at {name} size: {}",
            html.display(),
            v["requests"]
        );
        assert_eq!(
            v["errors"].as_array().unwrap().len(),
            0,
            "{}: console errors at {name} size: {}",
            html.display(),
            v["errors"]
        );
        assert!(
            v["overflow"].as_f64().unwrap() <= 0.0,
            "{}: the page is wider than the {name} screen by {} px",
            html.display(),
            v["overflow"]
        );
        let charts = v["charts"].as_array().unwrap();
        assert_eq!(
            charts.len(),
            svgs,
            "{}: the page shows {} charts, the folder holds {svgs} SVG files",
            html.display(),
            charts.len()
        );
        for c in charts {
            let id = c["id"].as_str().unwrap();
            let series = c["series"].as_u64().unwrap();
            assert!(series >= 1, "{id}: no series");
            assert_eq!(
                c["drawn"].as_u64().unwrap(),
                series,
                "{id} at {name} size: {series} series, but only {} drawn",
                c["drawn"]
            );
            assert!(c["shapes"].as_u64().unwrap() > 5, "{id}: an empty chart");
            assert!(c["texts"].as_u64().unwrap() > 3, "{id}: no axis labels");
            assert!(
                c["width"].as_f64().unwrap() > 200.0 && c["height"].as_f64().unwrap() > 60.0,
                "{id} at {name} size is {} x {} px",
                c["width"],
                c["height"]
            );
        }
        for key in ["screenshot", "chartShot"] {
            let shot = PathBuf::from(v[key].as_str().unwrap());
            let share = ink(&shot);
            assert!(
                share > 0.02,
                "{}: the {name} screenshot is blank ({:.2} % of pixels differ from the background)",
                shot.display(),
                share * 100.0
            );
        }
    }
    svgs
}

#[test]
fn reports_render_in_chromium() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let root = root();
    let sc = |p: &str| root.join("scenarios").join(p).display().to_string();
    let small = ["--scale", "0.02", "-n", "2", "--quarters", "8"];
    let with = |args: &[&str]| -> Vec<String> {
        args.iter()
            .chain(small.iter())
            .map(|s| s.to_string())
            .collect()
    };
    let run = |args: Vec<String>| {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        fleksim(&refs, t);
    };
    // The DS package against the baseline, as an analyst would run it.
    run(with(&[
        "compare",
        &sc("baseline.toml"),
        &sc("proposals/ds.toml"),
        "--out",
        "ds",
        "--quiet",
    ]));
    // A run with its check beside it (--force: into the run's folder).
    run(with(&["run", "--out", "base", "--quiet"]));
    run(with(&["check", "--out", "base", "--force"]));
    assert!(
        t.join("base/check.csv").is_file(),
        "check wrote beside the run"
    );
    run(with(&[
        "sweep",
        &sc("proposals/d05-shorter-waits.toml"),
        "--vary",
        "ressourceforloeb.phases.passive.active=0.15,0.35",
        "--out",
        "sweep",
        "--quiet",
    ]));
    run(with(&[
        "uncertainty",
        &sc("proposals/d05-shorter-waits.toml"),
        "--draws",
        "6",
        "--out",
        "unc",
        "--quiet",
    ]));
    run(with(&[
        "sensitivity",
        &sc("proposals/d05-shorter-waits.toml"),
        "--out",
        "unc",
        "--force",
        "--quiet",
    ]));
    let mut charts = 0;
    for (folder, locale) in [("ds", "da"), ("base", "en"), ("sweep", "en"), ("unc", "en")] {
        fleksim(&["report", folder, "--locale", locale, "--quiet"], t);
        let n = check_report(&t.join(folder), &t.join("shots").join(folder));
        assert!(n > 0, "{folder}: no chart");
        charts += n;
    }
    // Keep the screenshots where a reviewer can look at them.
    if let Ok(dir) = std::env::var("FLEKSIM_SCREENSHOTS") {
        copy_tree(&t.join("shots"), Path::new(&dir));
    }
    assert!(charts >= 20, "only {charts} charts over four reports");
}

/// The harness itself: a page that loads an image from the network and logs
/// an error must be caught (so a passing test means something).
#[test]
fn the_harness_sees_requests_and_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let html = tmp.path().join("bad.html");
    std::fs::write(
        &html,
        "<!DOCTYPE html><html><body><figure class=\"chart\" data-series=\"1\" data-colors=\"#0072B2\">\
         <svg width=\"300\" height=\"200\"></svg></figure>\
         <img src=\"http://127.0.0.1:9/x.png\"><script>console.error('boom')</script></body></html>",
    )
    .unwrap();
    let res = drive(&html, &tmp.path().join("shots"));
    let v = &res["views"][0];
    assert!(
        v["requests"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.as_str().unwrap().contains("127.0.0.1:9")),
        "the request went unseen: {v}"
    );
    assert!(
        v["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e.as_str().unwrap().contains("boom")),
        "the console error went unseen: {v}"
    );
    assert_eq!(
        v["charts"][0]["drawn"], 0,
        "an empty chart counted as drawn"
    );
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let dest = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_tree(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).unwrap();
        }
    }
}
