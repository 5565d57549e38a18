//! `compare`: common random numbers and paired differences; `explain`.

use std::path::Path;

use fleksim::analysis::compare;
use fleksim::engine::runner::{self, Prepared, RunConfig};
use fleksim::scenario;

use crate::util::{data, fleksim, root};

fn load(p: &Path) -> scenario::Scenario {
    scenario::load_file(p).expect("valid").scenario
}

fn cfg(seed: u64) -> RunConfig {
    RunConfig {
        replications: 10,
        seed,
        scale: 0.02,
    }
}

fn short(mut sc: scenario::Scenario) -> scenario::Scenario {
    sc.horizon = 8;
    sc
}

/// A proposal that extends the baseline and changes nothing gives a
/// difference of exactly 0 with standard error 0 in every metric.
#[test]
fn null_proposal_has_zero_delta_everywhere() {
    let tmp = tempfile::tempdir().unwrap();
    let null = tmp.path().join("null.toml");
    let base_path = root().join("scenarios/baseline.toml");
    std::fs::write(
        &null,
        format!(
            "extends = {:?}\nname = \"null\"\n",
            base_path.display().to_string()
        ),
    )
    .unwrap();
    let base = short(load(&base_path));
    let prop = short(load(&null));
    let c = compare::compare(
        &Prepared::new(&base),
        &[Prepared::new(&prop)],
        &cfg(3),
        &|| {},
    )
    .unwrap();
    let p = &c.proposals[0];
    let mut n = 0;
    for (i, cell) in c.layout.cells.iter().enumerate() {
        if cell.metric(&c.layout).is_none() {
            continue;
        }
        assert_eq!(p.delta[i].mean, 0.0, "{cell:?}");
        assert_eq!(p.delta[i].se, 0.0, "{cell:?}");
        n += 1;
    }
    assert!(n > 100, "only {n} metrics");
}

/// Common random numbers: for a small lever (tests/data/ok/small-lever.toml),
/// the SE of the paired difference is at most a third of the SE of the
/// difference between two independent runs (different seeds), for the
/// metrics the lever moves.
#[test]
fn common_random_numbers_shrink_the_variance_of_differences() {
    let base = short(load(&root().join("scenarios/baseline.toml")));
    let prop = short(load(&data("ok/small-lever.toml")));
    let (bp, pp) = (Prepared::new(&base), Prepared::new(&prop));
    let paired = compare::compare(&bp, std::slice::from_ref(&pp), &cfg(5), &|| {}).unwrap();
    let independent_base = runner::run(&bp, &cfg(5), &|| {}).unwrap();
    let independent_prop = runner::run(&pp, &cfg(6), &|| {}).unwrap();
    let mut checked = Vec::new();
    for (i, cell) in paired.layout.cells.iter().enumerate() {
        let Some((metric, _, period)) = cell.metric(&paired.layout) else {
            continue;
        };
        let wanted = [
            ("stock.ressourceforloeb", "horizon"),
            ("stock.employed", "horizon"),
            ("cost.intervention.all", "2020"),
            ("cost.total.all", "per_year"),
        ];
        if !wanted.contains(&(metric.as_str(), period.as_str())) {
            continue;
        }
        let se_ind =
            (independent_base.stats[i].se.powi(2) + independent_prop.stats[i].se.powi(2)).sqrt();
        let se_crn = paired.proposals[0].delta[i].se;
        eprintln!(
            "{metric}: paired {se_crn:.1}, independent {se_ind:.1}, ratio {:.1}",
            se_ind / se_crn
        );
        assert!(se_crn > 0.0, "{metric}: the lever must move it");
        assert!(
            se_crn <= se_ind / 3.0,
            "{metric}: paired SE {se_crn} vs independent {se_ind}"
        );
        checked.push(metric);
    }
    assert_eq!(checked.len(), 4, "{checked:?}");
}

#[test]
fn compare_cli_writes_tidy_csv() {
    let tmp = tempfile::tempdir().unwrap();
    fleksim()
        .current_dir(root())
        .args(["compare", "scenarios/baseline.toml"])
        .arg(data("ok/lever.toml"))
        .args([
            "--scale",
            "0.01",
            "-n",
            "3",
            "--quarters",
            "4",
            "--quiet",
            "--out",
        ])
        .arg(tmp.path())
        .assert()
        .success();
    let text = std::fs::read_to_string(tmp.path().join("compare.csv")).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(
            "proposal,metric,unit,year,period,is_total,baseline_mean,proposal_mean,delta_mean,delta_se,delta_ci_low,delta_ci_high"
        )
    );
    let rows: Vec<&str> = lines.collect();
    for id in [
        "awards.foertidspension.under40",
        "starts.ressourceforloeb",
        "cost.total.state",
        "pv.total.all",
        "stock.fleksjob",
    ] {
        assert!(
            rows.iter().any(|r| r.starts_with(&format!("lever,{id},"))),
            "{id} missing"
        );
    }
    assert!(rows.iter().all(|r| r.split(',').count() == 12));
    // A year is a number in `year`; other periods have none. Totals are marked.
    assert!(
        rows.iter()
            .any(|r| r.starts_with("lever,cost.total.all,DKK,2019,2019,true,"))
    );
    assert!(
        rows.iter()
            .any(|r| r.starts_with("lever,pv.total.all,DKK,NA,pv,true,"))
    );
    assert!(
        rows.iter()
            .any(|r| r.starts_with("lever,cost.kontanthjaelp.state,DKK,2019,2019,false,"))
    );
}

#[test]
fn explain_names_each_change_with_its_reason() {
    let out = fleksim()
        .current_dir(root())
        .args(["explain", "tests/data/ok/lever.toml"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let expected = "\
lever (tests/data/ok/lever.toml)
  test fixture for compare and explain

  Test lever: abolish the one-year minimum (like L5) and shorten the wait for the team.
  Mechanism: the gate is switched off; the waiting_team phase ends faster.

  changes 2 setting(s):
  - gates.ressourceforloeb_minimum_one_year.enabled: (not set) -> false
      assumption: the rule is abolished entirely
      (tests/data/ok/lever.toml:8)
  - ressourceforloeb.phases.waiting_team.waiting_intervention: 0.75 -> 0.9
      assumption: a team that decides itself meets sooner
      (tests/data/ok/lever.toml:12)
";
    assert_eq!(text, expected);
}

/// `explain` on a shipped proposal, snapshotted whole: the header comment,
/// then the one setting L12 changes with its reason and place.
#[test]
fn explain_l12_snapshot() {
    let out = fleksim()
        .current_dir(root())
        .args(["explain", "scenarios/proposals/l12-no-offsetting.toml"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let expected = r#"l12-no-offsetting (scenarios/proposals/l12-no-offsetting.toml)
  L12 (LO/FTF/AC 2017): no offsetting of private insurance against ressourceforløbsydelse

  L12 Stop offsetting private loss-of-earning-capacity insurance payments
  against ressourceforløbsydelse (LO, FTF and Akademikerne 2017).
  Today the payment is deducted 100 % from the benefit: the public pays less,
  the insured person gets nothing extra, and the municipality has a reason to
  keep insured people in long, cheap programmes.

  MECHANISM: a cost parameter. `[costs.insurance] offset` is the share of the
  private payment deducted from ressourceforløbsydelse for persons with the
  `insured` flag; it goes from 1.0 to 0, so the full benefit is paid and the
  cost of ressourceforløbsydelse rises. The incentive part (municipalities
  keeping insured people longer) is not in the baseline: it has no `insured`
  multiplier on exits from ressourceforløb, because no source measures the
  distortion. With nothing to remove, this file does not shorten the
  programmes of insured people; if a baseline adds such a multiplier, L12
  should set it to 1.

  EFFECT SIZE: none to choose: offset 0 is the proposal itself.

  UNCERTAINTY: none in this file. The size of the effect is the insurance
  payment no longer offset: the baseline's `monthly_payment` (8,000 a month,
  assumption) times the `insured` shares (0.08-0.10, assumption). Those are
  baseline values, and sensitivity, uncertainty and solve vary a range in the
  proposal only; with offset 0 neither changes this run, so their swing would
  show as 0. Vary them in both runs with `fleksim compare ... --set
  costs.insurance.monthly_payment=6000` (and 10000).

  changes 1 setting(s):
  - costs.insurance.offset: 1.0 -> 0.0
      docs/domain.md L12: stop the 100 % offset
      (scenarios/proposals/l12-no-offsetting.toml:32)
"#;
    assert_eq!(String::from_utf8(out).unwrap(), expected);
}
