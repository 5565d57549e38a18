//! `fleksim check`: the targets file, the table and check.csv.

use std::path::Path;

use fleksim::analysis::check::{self, Checker};
use fleksim::engine::results::Layout;
use fleksim::engine::runner::{self, Prepared, RunConfig};
use fleksim::engine::stats::CellStats;
use fleksim::scenario;

use crate::util::{fleksim, root};

#[test]
fn the_targets_file_lists_every_published_figure() {
    let targets = check::load_targets(&root().join("scenarios/targets.toml")).unwrap();
    let ids: Vec<&str> = targets.iter().map(|t| t.id.as_str()).collect();
    for id in [
        "T1",
        "T2",
        "T3",
        "T4",
        "T5",
        "T6",
        "T7",
        "T9",
        "T9.wait_team",
        "T9.wait_intervention",
        "T10",
        "T12.employed",
        "T12.fleksjob",
        "T13",
    ] {
        assert!(ids.contains(&id), "{id} missing");
    }
    // Every row of the T8 table, for both age groups, and the four T11 stocks.
    assert_eq!(ids.iter().filter(|i| i.starts_with("T8.")).count(), 22);
    assert_eq!(ids.iter().filter(|i| i.starts_with("T11.")).count(), 4);
    // The embedded copy is the same file.
    assert_eq!(
        check::TARGETS_TOML,
        std::fs::read_to_string(root().join("scenarios/targets.toml")).unwrap()
    );
}

#[test]
fn a_wider_tolerance_needs_a_reason() {
    let text = "schema_version = 1\n[[target]]\nid = \"X\"\ndescription = \"d\"\nsource = \"s\"\nrefers_to = \"2019\"\n\
                published = 10\nkind = \"count\"\ntolerance = 0.5\nmeasure = { type = \"not_measured\", why = \"w\" }\n";
    let err = check::parse_targets(Path::new("t.toml"), text)
        .unwrap_err()
        .to_string();
    assert!(err.contains("needs a `reason`"), "{err}");
}

/// A baseline with far too few sickness-benefit entrants misses the
/// sygedagpenge stock (T11), so check exits 1; check.csv has one row per
/// target, every target is measured, and T12 is shown as a reference.
#[test]
fn check_writes_one_row_per_target_and_exits_1_unless_all_pass() {
    let tmp = tempfile::tempdir().unwrap();
    let out = fleksim()
        .current_dir(root())
        .args([
            "check",
            "--scale",
            "0.02",
            "-n",
            "3",
            "--set",
            "population.inflow.sygedagpenge.per_quarter=5000",
            "--out",
        ])
        .arg(tmp.path())
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let table = String::from_utf8(out).unwrap();
    assert!(!table.contains("not measured"), "{table}");
    assert!(table.contains("reference: "), "{table}");
    let csv = std::fs::read_to_string(tmp.path().join("check.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("id,published,simulated_mean,ci_low,ci_high,tolerance,pass")
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 40);
    let t4 = rows.iter().find(|r| r.starts_with("T4,")).unwrap();
    assert!(t4.ends_with(",pass"), "{t4}");
    let sdp = rows
        .iter()
        .find(|r| r.starts_with("T11.sygedagpenge,"))
        .unwrap();
    assert!(sdp.ends_with(",fail"), "{sdp}");
    for id in ["T12.employed,", "T12.fleksjob,"] {
        let r = rows.iter().find(|r| r.starts_with(id)).unwrap();
        assert!(r.ends_with(",reference"), "{r}");
    }
}

/// Calibration finds a parameter value that meets a target the start value
/// misses by 30 %, writes it into a copy of the file (comments kept, the fit
/// recorded at the top), and `check` then passes on the written file.
#[test]
fn calibrate_fits_a_rate_to_a_target_and_check_passes_afterwards() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("small-calibrated.toml");
    let targets = root().join("tests/data/targets/small.toml");
    fleksim()
        .current_dir(root())
        .args([
            "calibrate",
            "tests/data/ok/small.toml",
            "--free",
            "transitions.kontanthjaelp.out.all",
            "-n",
            "5",
            "--targets",
        ])
        .arg(&targets)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.starts_with("# Calibrated by fleksim"), "{text}");
    assert!(
        text.contains("transitions.kontanthjaelp.out.all: 0.01 -> "),
        "{text}"
    );
    // The file's own comments survive.
    assert!(
        text.contains("# A small standalone valid scenario"),
        "{text}"
    );
    fleksim()
        .current_dir(root())
        .args(["check", "-n", "5", "--targets"])
        .arg(&targets)
        .arg(&out)
        .arg("--out")
        .arg(tmp.path().join("check"))
        .assert()
        .success();
}

/// Cost tables every fixture below needs (their values do not matter here).
const COSTS: &str = r#"
[costs]
discount_rate = 0.03
[costs.monthly]
kontanthjaelp = 12000
[costs.fleksloentilskud]
max = 18000
threshold = 14000
rate_below = 0.3
rate_above = 0.55
hourly_wage = 200
weeks_per_month = 4.33
[costs.insurance]
monthly_payment = 0
offset = 1.0
[costs.refusion]
state_share = [0.5, 0.4, 0.3, 0.3, 0.2]
reset_after_quarters = 4
foertidspension_pre2014_state_share = 0.35
"#;

/// Runs a fixture of young persons (nobody reaches pension age) from
/// 2019Q1 and evaluates one target on it: `measure` is the target's
/// inline table. Returns the simulated statistics.
fn measure(name: &str, horizon: u16, body: &str, kind: &str, measure: &str) -> CellStats {
    let text = format!(
        "schema_version = 1\nname = \"{name}\"\nstart = \"2019Q1\"\nhorizon = {horizon}\nprice_year = 2019\n\
         [[population.pension_age]]\nborn_from = \"1900Q1\"\nyears = 67.0\n{body}\n{COSTS}"
    );
    let sc = match scenario::load_text(name, &text, None) {
        Ok(l) => l.scenario,
        Err(e) => panic!("fixture {name} is invalid:\n{e}"),
    };
    let targets = format!(
        "schema_version = 1\n[[target]]\nid = \"X\"\ndescription = \"d\"\nsource = \"s\"\nrefers_to = \"r\"\n\
         published = 0.5\nkind = \"{kind}\"\nmeasure = {measure}\n"
    );
    let targets = check::parse_targets(Path::new("t.toml"), &targets).unwrap();
    let layout = Layout::new(sc.start, sc.horizon, sc.costs.discount_rate);
    let mut checker = Checker::new(targets, &layout);
    let cfg = RunConfig {
        replications: 8,
        seed: 7,
        scale: 1.0,
    };
    runner::run_each(&Prepared::new(&sc), &cfg, &|| {}, &mut |v| checker.add(v)).unwrap();
    let checked = checker.finish();
    checked[0].simulated.expect("measured")
}

/// Asserts `s` is within 4 standard errors (from the run) of `expected`.
fn assert_near(what: &str, s: CellStats, expected: f64) {
    assert!(s.se > 0.0, "{what}: no spread across replications");
    assert!(
        (s.mean - expected).abs() <= 4.0 * s.se,
        "{what}: simulated {} ± {} (se), expected {expected}",
        s.mean,
        s.se
    );
}

/// T13: leavers of revalidering go to employment with 3/4 of the exits and
/// to kontanthjælp (absorbing) with 1/4; employed persons fall back to
/// kontanthjælp at 10 % and leave (`out`) at 2 % a quarter. A year after
/// leaving, a share 0.75 * 0.88^4 is employed; persons `out` by then are
/// not in the denominator.
#[test]
fn t13_status_a_year_after_revalidering() {
    let body = r#"
[population.stock.revalidering]
count = 20000
age = { "20-30" = 1.0 }
[transitions.revalidering]
employed = { all = 0.15 }
kontanthjaelp = { all = 0.05 }
[transitions.employed]
kontanthjaelp = { all = 0.10 }
out = { all = 0.02 }
"#;
    let all = r#"["kontanthjaelp", "revalidering", "fleksjob", "employed", "education"]"#;
    let s = measure(
        "t13",
        12,
        body,
        "share",
        &format!("{{ type = \"status_after_revalidering\", states = [\"employed\"], of = {all} }}"),
    );
    // Employed leavers stay four quarters in work with 0.88^4; of those who
    // leave work, 0.02 / 0.12 go `out` (competing risks, one draw a quarter).
    let stay = 1.0f64 - 0.10 - 0.02;
    let employed = 0.75 * stay.powi(4);
    let gone = 0.75 * (1.0 - stay.powi(4)) * 0.02 / 0.12;
    assert_near("T13 share", s, employed / (1.0 - gone));
}

/// T6: persons move from ledighedsydelse into a flex job at the end of the
/// first quarter, half with 5 hours (a minifleksjob) and half with 15; with
/// a raise chance r each quarter from the fourth, at the end of 2020Q4 (7
/// quarters in the job) a share 1 - (1 - r)^4 of the minifleksjob entrants
/// has raised their hours. Flex-job holders of the initial stock (entry not
/// observed) and the 15-hour entrants are not counted; the stock's holders
/// would raise with 1 - (1 - r)^8 if they were.
#[test]
fn t6_share_of_minifleksjob_entrants_who_raised_their_hours() {
    let body = r#"
[population.stock.ledighedsydelse]
count = 20000
age = { "20-30" = 1.0 }
hours = { "5" = 0.5, "15" = 0.5 }
[population.stock.fleksjob]
count = 20000
age = { "20-30" = 1.0 }
duration = { "8" = 1.0 }
hours = { "5" = 1.0 }
[transitions.ledighedsydelse]
fleksjob = { all = 1.0 }
[fleksjob]
minifleks_max_hours = 10
raise_probability = 0.1
raise_eligible_max_hours = 10
raise_after_quarters = 4
raise_step_hours = 2
max_hours = 37
"#;
    let s = measure(
        "t6",
        8,
        body,
        "share",
        "{ type = \"minifleksjob_raised\", quarter = \"2020Q4\" }",
    );
    assert_near("T6 share", s, 1.0 - 0.9f64.powi(4));
}

/// T9: every programme begins in waiting_team, meets the team after one
/// quarter, waits one more quarter, then starts an intervention with
/// probability a or turns passive; passive programmes start one with
/// probability b a quarter. None in year one: (1 - a)(1 - b). Both waits
/// are exactly one quarter, whether the programme comes from the stock, the
/// inflow or a move from kontanthjælp.
#[test]
fn t9_no_intervention_in_year_one_and_the_waits() {
    let body = r#"
[population.stock.ressourceforloeb]
count = 20000
age = { "20-30" = 1.0 }
duration = { "0" = 1.0 }
phase = { waiting_team = 1.0 }
[population.inflow.ressourceforloeb]
per_quarter = 2000
age = { "20-30" = 1.0 }
phase = { waiting_team = 1.0 }
[population.stock.kontanthjaelp]
count = 20000
age = { "20-30" = 1.0 }
duration = { "2" = 1.0 }
[transitions.kontanthjaelp]
ressourceforloeb = { all = 0.1 }
[ressourceforloeb]
entry_phase = "waiting_team"
[ressourceforloeb.phases.waiting_team]
waiting_intervention = 1.0
[ressourceforloeb.phases.waiting_intervention]
active = 0.5
passive = 0.5
[ressourceforloeb.phases.passive]
company = 0.2
"#;
    let s = measure(
        "t9",
        12,
        body,
        "share",
        "{ type = \"ressourceforloeb_no_intervention_year_one\" }",
    );
    assert_near("T9 share", s, 0.5 * 0.8);
    for phase in ["waiting_team", "waiting_intervention"] {
        let s = measure(
            "t9",
            12,
            body,
            "count",
            &format!("{{ type = \"ressourceforloeb_phase_days\", phase = \"{phase}\" }}"),
        );
        assert!(
            (s.mean - check::DAYS_PER_QUARTER).abs() < 1e-9,
            "{phase}: {}",
            s.mean
        );
    }
}

/// T12: a yearly rate from ressourceforløb per person-year in it. With a
/// quarterly move to employment of p, the moves of a year over the
/// person-quarters in it, times 4, estimate 4p.
#[test]
fn t12_yearly_rate_from_ressourceforloeb() {
    let body = r#"
[population.stock.ressourceforloeb]
count = 40000
age = { "20-30" = 1.0 }
[transitions.ressourceforloeb]
employed = { all = 0.05 }
"#;
    let s = measure(
        "t12",
        8,
        body,
        "share",
        "{ type = \"rate_from_ressourceforloeb\", states = [\"employed\"], year = 2019 }",
    );
    assert_near("T12 rate", s, 0.2);
}

#[test]
fn a_reference_figure_is_shown_but_not_passed_or_failed() {
    let text = "schema_version = 1\n[[target]]\nid = \"X\"\ndescription = \"d\"\nsource = \"s\"\nrefers_to = \"2019\"\n\
                published = 10\nkind = \"count\"\nreference = true\nmeasure = { type = \"annual\", metric = \"starts.ressourceforloeb\", year = 2020 }\n";
    let err = check::parse_targets(Path::new("t.toml"), text)
        .unwrap_err()
        .to_string();
    assert!(err.contains("reference figure needs a `reason`"), "{err}");
    let with_reason = text.replace("reference = true", "reference = true\nreason = \"r\"");
    let targets = check::parse_targets(Path::new("t.toml"), &with_reason).unwrap();
    let sc = scenario::load_file(&root().join("tests/data/ok/small.toml"))
        .unwrap()
        .scenario;
    let layout = Layout::new(sc.start, sc.horizon, sc.costs.discount_rate);
    let mut checker = Checker::new(targets, &layout);
    let cfg = RunConfig {
        replications: 2,
        seed: 1,
        scale: 1.0,
    };
    runner::run_each(&Prepared::new(&sc), &cfg, &|| {}, &mut |v| checker.add(v)).unwrap();
    let checked = checker.finish();
    assert!(checked[0].simulated.is_some());
    assert_eq!(checked[0].pass, None);
    assert_eq!(fleksim::analysis::calibrate::objective(&checked), 0.0);
}
