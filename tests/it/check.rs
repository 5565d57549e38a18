//! `fleksim check`: the targets file, the table and check.csv.

use std::path::Path;

use fleksim::analysis::calibrate;
use fleksim::analysis::check::{self, Checker, Kind, Role, Target};
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
    // The money targets of the model's scope and the held-out stocks
    // H1-H16 are all held out; M3 set the revalidering level (an input), and
    // M2, M4, M5, M10 and M5a (derived from M5) have another scope than the
    // model's states (references).
    for id in ["M1", "M2+M4", "M9", "M10a"]
        .into_iter()
        .map(String::from)
        .chain((1..=16).map(|i| format!("H{i}")))
    {
        let t = targets
            .iter()
            .find(|t| t.id == id)
            .unwrap_or_else(|| panic!("{id} missing"));
        assert_eq!(t.role, Role::HeldOut, "{id}");
        assert_eq!(t.kind == Kind::Money, id.starts_with('M'), "{id}");
    }
    for (id, role) in [
        ("M2", Role::Reference),
        ("M4", Role::Reference),
        ("M5", Role::Reference),
        ("M5a", Role::Reference),
        ("M10", Role::Reference),
        ("M3", Role::Input),
    ] {
        let t = targets.iter().find(|t| t.id == id).unwrap();
        assert_eq!((t.role, t.kind), (role, Kind::Money), "{id}");
    }
    // The assumed levels, first and last year, are fitted.
    let levels: Vec<_> = targets.iter().filter(|t| t.id.starts_with("A.")).collect();
    assert_eq!(levels.len(), 7);
    assert!(
        levels
            .iter()
            .all(|t| t.role == Role::Fitted && t.tolerance == 0.05)
    );
    // The embedded copy is the same file.
    let text = std::fs::read_to_string(root().join("scenarios/targets.toml")).unwrap();
    assert_eq!(check::TARGETS_TOML, text);
    // Every target states its role rather than taking the default.
    assert_eq!(
        text.matches("\n[[target]]\n").count(),
        text.matches("\nrole = ").count()
    );
}

/// The role of every T target follows docs/baseline.md: what was fitted,
/// what merely echoes an input, what was held out.
#[test]
fn every_target_has_the_role_of_what_was_set_from_it() {
    let targets = check::load_targets(&root().join("scenarios/targets.toml")).unwrap();
    let role = |id: &str| targets.iter().find(|t| t.id == id).unwrap().role;
    for id in [
        "T1",
        "T2",
        "T3",
        "T6",
        "T7",
        "T9",
        "T13",
        "T11.sygedagpenge",
        "T8.u40.foertidspension",
        "T8.o40.foertidspension",
        "T8.u40.out",
        "T8.o40.out",
        "T8.u40.self_supporting",
        "T8.o40.self_supporting",
        "T8.u40.fleksjob",
    ] {
        assert_eq!(role(id), Role::Fitted, "{id}");
    }
    for id in [
        "T4",
        "T5",
        "T11.foertidspension",
        "T11.fleksjob",
        "T11.ledighedsydelse",
    ] {
        assert_eq!(role(id), Role::Input, "{id}");
    }
    // No rate was set from T8's rows for a new ressourceforløb (the restart
    // share is the remainder of the five-year decision's route).
    for id in ["T10", "T8.u40.ressourceforloeb", "T8.o40.ressourceforloeb"] {
        assert_eq!(role(id), Role::HeldOut, "{id}");
    }
    for id in [
        "T9.wait_team",
        "T9.wait_intervention",
        "T12.employed",
        "T12.fleksjob",
    ] {
        assert_eq!(role(id), Role::Reference, "{id}");
    }
    let by_role = |r: Role| targets.iter().filter(|t| t.role == r).count();
    assert_eq!(by_role(Role::Fitted), 22);
    assert_eq!(by_role(Role::Input), 19);
    assert_eq!(by_role(Role::HeldOut), 23);
    assert_eq!(by_role(Role::Reference), 9);
}

/// One target of `kind` with `published` and extra keys, parsed.
fn one_target(kind: &str, published: &str, extra: &str) -> fleksim::Result<Target> {
    let text = format!(
        "schema_version = 1\n[[target]]\nid = \"X\"\ndescription = \"d\"\nsource = \"s\"\nrefers_to = \"2019\"\n\
         published = {published}\nkind = \"{kind}\"\n{extra}\nmeasure = {{ type = \"not_measured\", why = \"w\" }}\n"
    );
    check::parse_targets(Path::new("t.toml"), &text).map(|mut v| v.remove(0))
}

/// Shares pass within max(0.5 points, min(10 % of the share, 3 points)): a
/// 0.1 % share 3 points off fails (the old rule passed it), a 50 % share may
/// still be 3 points off, a 10 % share 1 point.
#[test]
fn a_small_share_is_held_to_a_small_absolute_distance() {
    let tiny = one_target("share", "0.001", "").unwrap();
    assert_eq!(tiny.tolerance_kind(), "share_rule");
    assert!(!tiny.passes(0.031), "3 points off a 0.1 % share");
    assert!(!tiny.passes(0.0061));
    assert!(tiny.passes(0.0059));
    assert!(tiny.passes(0.0));
    let half = one_target("share", "0.5", "").unwrap();
    assert!(half.passes(0.529) && half.passes(0.471));
    assert!(!half.passes(0.531) && !half.passes(0.469));
    let tenth = one_target("share", "0.1", "").unwrap();
    assert!(tenth.passes(0.1099) && tenth.passes(0.0901));
    assert!(!tenth.passes(0.1101) && !tenth.passes(0.0899));
    // A range: the relative part scales with the bound it extends.
    let range = one_target("share", "[0.1, 0.5]", "").unwrap();
    assert!(range.passes(0.3) && range.passes(0.0901) && range.passes(0.529));
    assert!(!range.passes(0.0899) && !range.passes(0.531));
    // Counts and money stay relative.
    let count = one_target("count", "1000", "").unwrap();
    assert_eq!(count.tolerance_kind(), "relative");
    assert!(count.passes(1099.0) && !count.passes(1101.0) && !count.passes(899.0));
    // A narrower floor needs no reason; a share outside [0, 1] is refused.
    assert!(one_target("share", "0.001", "abs_tolerance = 0.001").is_ok());
    let err = one_target("share", "1.5", "").unwrap_err().to_string();
    assert!(err.contains("[0, 1]"), "{err}");
}

/// A wider tolerance (relative or the share rule's floor) needs its own
/// `tolerance_reason`; a `reason` about the period does not do.
#[test]
fn a_wider_tolerance_needs_a_reason() {
    for (kind, extra) in [
        ("count", "tolerance = 0.5"),
        ("count", "tolerance = 0.5\nreason = \"published for 2018\""),
        ("share", "abs_tolerance = 0.03"),
        ("share", "tolerance = 0.2"),
    ] {
        let err = one_target(kind, "0.4", extra).unwrap_err().to_string();
        assert!(err.contains("needs a `tolerance_reason`"), "{extra}: {err}");
    }
    let ok = one_target(
        "share",
        "0.4",
        "abs_tolerance = 0.03\ntolerance_reason = \"a small sample\"",
    )
    .unwrap();
    assert!(ok.passes(0.375) && !ok.passes(0.365));
    let err = one_target("count", "10", "abs_tolerance = 0.01")
        .unwrap_err()
        .to_string();
    assert!(err.contains("shares only"), "{err}");
    let err = one_target("count", "10", "tolerance = -0.1")
        .unwrap_err()
        .to_string();
    assert!(err.contains("at least 0"), "{err}");
}

/// A baseline with far too few sickness-benefit entrants misses the
/// sygedagpenge stock (T11), so check exits 3; check.csv has one row per
/// target with its role, every target is measured except the held-out
/// figures of schemes the baseline lacks, and T12 is shown as a reference.
#[test]
fn check_writes_one_row_per_target_and_exits_3_unless_all_pass() {
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
        .code(3)
        .get_output()
        .stdout
        .clone();
    let table = String::from_utf8(out).unwrap();
    assert_eq!(table.matches("not measured").count(), 4, "{table}");
    assert!(table.contains("reference: "), "{table}");
    for heading in [
        "Fitted: ",
        "Held out: ",
        "Input echoes: ",
        "Reference figures: ",
    ] {
        assert!(table.contains(heading), "{heading}: {table}");
    }
    assert!(table.contains("\nfitted: "), "{table}");
    assert!(table.contains("\nheld_out: "), "{table}");
    let csv = std::fs::read_to_string(tmp.path().join("check.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(
            "id,role,kind,description,source,refers_to,published,published_low,published_high,\
             simulated_mean,ci_low,ci_high,tolerance,abs_tolerance,tolerance_kind,gates_exit,pass"
        )
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 73);
    for (id, role) in [
        ("T1,", "fitted"),
        ("T4,", "input"),
        ("T10,", "held_out"),
        ("M1,", "held_out"),
        ("T12.fleksjob,", "reference"),
    ] {
        let r = rows.iter().find(|r| r.starts_with(id)).unwrap();
        assert!(r.starts_with(&format!("{id}{role},")), "{r}");
    }
    let t10 = rows.iter().find(|r| r.starts_with("T10,")).unwrap();
    assert!(t10.contains(",1000-2000,1000,2000,"), "{t10}");
    let h2 = rows.iter().find(|r| r.starts_with("H2,")).unwrap();
    assert!(h2.ends_with(",false,not_measured"), "{h2}");
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
    measure_all(name, horizon, body, &[(kind, measure)])[0]
}

/// As `measure`, for several targets (kind, measure) on one run.
fn measure_all(name: &str, horizon: u16, body: &str, targets: &[(&str, &str)]) -> Vec<CellStats> {
    let text = format!(
        "schema_version = 1\nname = \"{name}\"\nstart = \"2019Q1\"\nhorizon = {horizon}\nprice_year = 2019\n\
         [[population.pension_age]]\nborn_from = \"1900Q1\"\nyears = 67.0\n{body}\n{COSTS}"
    );
    let sc = match scenario::load_text(name, &text, None) {
        Ok(l) => l.scenario,
        Err(e) => panic!("fixture {name} is invalid:\n{e}"),
    };
    let mut text = String::from("schema_version = 1\n");
    for (kind, measure) in targets {
        text.push_str(&format!(
            "[[target]]\nid = \"X\"\ndescription = \"d\"\nsource = \"s\"\nrefers_to = \"r\"\n\
             published = 0.5\nkind = \"{kind}\"\nmeasure = {measure}\n"
        ));
    }
    let targets = check::parse_targets(Path::new("t.toml"), &text).unwrap();
    let layout = Layout::new(sc.start, sc.horizon, sc.costs.discount_rate);
    let mut checker = Checker::new(targets, &layout);
    let cfg = RunConfig {
        replications: 8,
        seed: 7,
        scale: 1.0,
    };
    runner::run_each(&Prepared::new(&sc), &cfg, &|| {}, &mut |v| checker.add(v)).unwrap();
    checker
        .finish()
        .iter()
        .map(|c| c.simulated.expect("measured"))
        .collect()
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

/// Paid volume against an end-of-quarter headcount: 40,000 persons on
/// kontanthjælp from 2019Q1, 1,000 entrants a quarter, 10 % leaving for
/// work each quarter (entrants too, in their first quarter). The persons
/// during quarter t are n_t = s_t + 1000 with s_(t+1) = 0.9 n_t, s_0 =
/// 40,000; the volume of 2019 is (n_0 + ... + n_3) / 4, the volume of 2019Q3
/// is n_2, while the stock at the end of 2019Q4 is s_4.
#[test]
fn paid_volume_counts_person_quarters_not_the_end_of_quarter_stock() {
    let body = r#"
[population.stock.kontanthjaelp]
count = 40000
age = { "20-30" = 1.0 }
[population.inflow.kontanthjaelp]
per_quarter = 1000
age = { "20-30" = 1.0 }
[transitions.kontanthjaelp]
employed = { all = 0.10 }
"#;
    let stats = measure_all(
        "volume",
        8,
        body,
        &[
            (
                "count",
                r#"{ type = "volume", states = ["kontanthjaelp"], year = 2019 }"#,
            ),
            (
                "count",
                r#"{ type = "volume", states = ["kontanthjaelp"], quarter = "2019Q3" }"#,
            ),
            (
                "count",
                r#"{ type = "stock", states = ["kontanthjaelp"], quarter = "2019Q4" }"#,
            ),
            (
                "money",
                r#"{ type = "annual", metric = "cost.kontanthjaelp.all", year = 2019 }"#,
            ),
        ],
    );
    let mut s = 40000.0f64;
    let mut n = Vec::new();
    for _ in 0..4 {
        n.push(s + 1000.0);
        s = 0.9 * (s + 1000.0);
    }
    let year: f64 = n.iter().sum::<f64>() / 4.0;
    assert_near("volume 2019", stats[0], year);
    assert_near("volume 2019Q3", stats[1], n[2]);
    assert_near("stock end of 2019Q4", stats[2], s);
    // The two measures differ by far more than their noise here.
    assert!(stats[0].mean - stats[2].mean > 7000.0);
    // Expenditure is the paid volume times a year of the monthly rate
    // (12,000 DKK), replication by replication: in DKK billion.
    let paid = stats[0].mean * 12.0 * 12000.0 / 1e9;
    assert!(
        (stats[3].mean - paid).abs() < 1e-9 * paid,
        "cost {} bn, volume x rate {paid} bn",
        stats[3].mean
    );
}

/// Expenditure per year on one benefit at a known rate with a known stock:
/// 1,000 persons on kontanthjælp (12,000 DKK a month) who never leave cost
/// exactly 1,000 x 12 x 12,000 = 0.144 bn DKK in 2019, paid by the state and
/// the municipality together; the volume of 2019 is exactly 1,000.
#[test]
fn money_targets_measure_a_year_of_expenditure_in_dkk_billion() {
    let body = r#"
[population.stock.kontanthjaelp]
count = 1000
age = { "20-30" = 1.0 }
"#;
    let stats = measure_all(
        "money",
        4,
        body,
        &[
            (
                "money",
                r#"{ type = "annual", metric = "cost.kontanthjaelp.all", year = 2019 }"#,
            ),
            (
                "money",
                r#"{ type = "annual", metric = "cost.kontanthjaelp.state", year = 2019 }"#,
            ),
            (
                "count",
                r#"{ type = "volume", states = ["kontanthjaelp"], year = 2019 }"#,
            ),
        ],
    );
    assert!((stats[0].mean - 0.144).abs() < 1e-12, "{}", stats[0].mean);
    assert_eq!(stats[0].se, 0.0);
    assert!(stats[1].mean > 0.0 && stats[1].mean < stats[0].mean);
    assert!((stats[2].mean - 1000.0).abs() < 1e-9, "{}", stats[2].mean);
    // Money goes with a cost metric and only with one.
    let bad = |kind: &str, metric: &str| {
        let text = format!(
            "schema_version = 1\n[[target]]\nid = \"X\"\ndescription = \"d\"\nsource = \"s\"\nrefers_to = \"r\"\n\
             published = 1\nkind = \"{kind}\"\nmeasure = {{ type = \"annual\", metric = \"{metric}\", year = 2019 }}\n"
        );
        check::parse_targets(Path::new("t.toml"), &text)
            .unwrap_err()
            .to_string()
    };
    assert!(bad("count", "cost.kontanthjaelp.all").contains("money"));
    assert!(bad("money", "starts.ressourceforloeb").contains("money"));
    assert!(bad("money", "cost.nothing.all").contains("unknown yearly metric"));
}

/// Targets for tests/data/ok/small.toml: the fitted stock S1 and a held-out
/// stock H published at `held_out`.
fn small_targets(held_out: f64) -> Vec<Target> {
    let text = format!(
        "schema_version = 1\n\
         [[target]]\nid = \"S1\"\ndescription = \"d\"\nsource = \"s\"\nrefers_to = \"2020Q4\"\npublished = 900\n\
         kind = \"count\"\nrole = \"fitted\"\ntolerance = 0.02\n\
         measure = {{ type = \"stock\", states = [\"kontanthjaelp\"], quarter = \"2020Q4\" }}\n\
         [[target]]\nid = \"H\"\ndescription = \"d\"\nsource = \"s\"\nrefers_to = \"2021\"\npublished = {held_out}\n\
         kind = \"count\"\nrole = \"held_out\"\n\
         measure = {{ type = \"volume\", states = [\"employed\"], year = 2021 }}\n"
    );
    check::parse_targets(Path::new("t.toml"), &text).unwrap()
}

/// Calibration fits only `fitted` targets: a held-out figure is never
/// evaluated, so its published value (here 5 or 50,000) changes nothing in
/// the fit; a file with no fitted target is refused.
#[test]
fn calibrate_never_touches_a_held_out_target() {
    let path = root().join("tests/data/ok/small.toml");
    let cfg = RunConfig {
        replications: 2,
        seed: 11,
        scale: 1.0,
    };
    let free = vec!["transitions.kontanthjaelp.out.all".to_string()];
    let fit = |held_out: f64| {
        calibrate::calibrate(&path, &free, &small_targets(held_out), &cfg, &[], 8).unwrap()
    };
    let (a, b) = (fit(5.0), fit(50000.0));
    assert_eq!(a.after.values, b.after.values);
    assert_eq!(a.after.objective, b.after.objective);
    assert_eq!(a.evaluations, b.evaluations);
    for f in [&a, &b] {
        let ids: Vec<&str> = f
            .after
            .checked
            .iter()
            .map(|c| c.target.id.as_str())
            .collect();
        assert_eq!(ids, ["S1"]);
    }
    // The fit moved the parameter (the start misses S1), so the equality
    // above is not that of two fits that did nothing.
    assert_ne!(a.after.values, a.before.values);
    let only_held_out: Vec<Target> = small_targets(5.0)
        .into_iter()
        .filter(|t| t.role == Role::HeldOut)
        .collect();
    let err = calibrate::calibrate(&path, &free, &only_held_out, &cfg, &[], 8)
        .unwrap_err()
        .to_string();
    assert!(err.contains("no target with role `fitted`"), "{err}");
}
