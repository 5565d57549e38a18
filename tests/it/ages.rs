//! Age as a dimension of the rules: the reform's age line, rate tables by
//! age band, conditions on age bands and on the years to a person's own
//! folkepension age. Each example in scenarios/examples/ moves what its
//! rules say it moves; the engine follows the rules in every age group
//! (the frequency check); the baseline is unchanged by writing its line.

use fleksim::analysis::compare::{self, Comparison};
use fleksim::analysis::verify::{self, VerifyConfig};
use fleksim::engine::runner::{Prepared, RunConfig};
use fleksim::scenario::{self, Scenario, State};

use crate::util::{paired, root};

fn load(rel: &str, quarters: u16) -> Scenario {
    let mut sc = scenario::load_file(&root().join(rel))
        .unwrap_or_else(|e| panic!("{rel}: {}", e.render(false)))
        .scenario;
    sc.horizon = quarters;
    sc
}

fn against_baseline(rel: &str) -> Comparison {
    let base = load("scenarios/baseline.toml", 12);
    let prop = load(rel, 12);
    let cfg = RunConfig {
        replications: 6,
        seed: 5,
        scale: 0.1,
    };
    compare::compare(&Prepared::new(&base), &[Prepared::new(&prop)], &cfg, &|| {}).unwrap()
}

/// The paired difference of a per-year metric over the horizon: (mean, se).
fn per_year(c: &Comparison, metric: &str) -> (f64, f64) {
    let d = paired(c, metric, "per_year");
    (d.mean, d.se)
}

/// At least four standard errors above (`sign` 1) or below (-1) zero.
fn moves(c: &Comparison, metric: &str, sign: f64) {
    let (m, se) = per_year(c, metric);
    assert!(
        sign * m > 4.0 * se && sign * m > 0.0,
        "{metric}: difference {m} (se {se}), expected sign {sign}"
    );
}

fn unchanged(c: &Comparison, metric: &str) {
    assert_eq!(per_year(c, metric), (0.0, 0.0), "{metric}");
}

#[test]
fn moving_the_age_line_to_35_raises_awards_under_40() {
    let c = against_baseline("scenarios/examples/age-line-35.toml");
    moves(&c, "awards.foertidspension.under40", 1.0);
}

#[test]
fn no_ressourceforloeb_near_folkepension_age_lowers_starts() {
    let c = against_baseline("scenarios/examples/near-pension-no-ressourceforloeb.toml");
    moves(&c, "starts.ressourceforloeb", -1.0);
    // Nobody under 40 is within 6 years of folkepension age.
    unchanged(&c, "awards.foertidspension.under40");
}

#[test]
fn a_higher_job_rate_under_30_lowers_the_cash_benefit_stock() {
    let c = against_baseline("scenarios/examples/rates-by-age.toml");
    let d = paired(&c, "stock.kontanthjaelp", "horizon");
    assert!(
        d.mean < -4.0 * d.se,
        "stock.kontanthjaelp {} ({})",
        d.mean,
        d.se
    );
    // Only the under-30s changed: awards over 40 do not move at all.
    unchanged(&c, "awards.foertidspension.over40");
}

/// Writing the baseline's own line, and its gate with the fixed `under40`
/// band instead of `under_line`, gives the baseline exactly.
#[test]
fn the_age_line_at_40_is_the_baseline() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("line40.toml");
    let base_path = root().join("scenarios/baseline.toml");
    std::fs::write(
        &path,
        format!(
            "extends = {:?}\nname = \"line40\"\nage_line = 40\n\n[gates.no_foertidspension_under_40]\nwhen = {{ age = \"under40\", evident = false }}\n",
            base_path.display().to_string()
        ),
    )
    .unwrap();
    let mut base = load("scenarios/baseline.toml", 8);
    base.horizon = 8;
    let mut same = scenario::load_file(&path).unwrap().scenario;
    same.horizon = 8;
    let cfg = RunConfig {
        replications: 3,
        seed: 1,
        scale: 0.05,
    };
    let c = compare::compare(&Prepared::new(&base), &[Prepared::new(&same)], &cfg, &|| {}).unwrap();
    for d in &c.proposals[0].delta {
        assert!(d.mean == 0.0 || d.mean.is_nan(), "{d:?}");
    }
}

fn vcfg() -> VerifyConfig {
    VerifyConfig {
        run: RunConfig {
            replications: 1,
            seed: 3,
            scale: 0.1,
        },
        alpha: verify::DEFAULT_ALPHA,
        min_expected: verify::DEFAULT_MIN_EXPECTED,
    }
}

/// The engine follows rates by age band and conditions on the years to
/// folkepension age in every age group (binomial tests per cell).
#[test]
fn the_engine_follows_age_bands_and_years_to_pension() {
    for rel in [
        "scenarios/examples/rates-by-age.toml",
        "scenarios/examples/near-pension-no-ressourceforloeb.toml",
    ] {
        let sc = load(rel, 8);
        let v = verify::verify(&Prepared::new(&sc), &sc, &vcfg(), &|| {}).unwrap();
        assert!(v.passed(), "{rel}: {} failures", v.failures().count());
        let groups: std::collections::BTreeSet<&str> =
            v.tests.iter().map(|t| t.cell.age_group.as_str()).collect();
        assert!(groups.len() >= 3, "{rel}: age groups {groups:?}");
    }
}

/// Tables compiled with the 18-29 rate raised by 40 % fail the frequency
/// check in the 18-29 group only.
#[test]
fn a_wrong_rate_in_one_age_band_is_flagged_there_only() {
    let expect = load("scenarios/examples/rates-by-age.toml", 8);
    let mut sim = expect.clone();
    let t = sim
        .transitions
        .iter_mut()
        .find(|t| t.from == State::Kontanthjaelp && t.to == State::Employed)
        .unwrap();
    assert_eq!(t.prob.len(), 3);
    for band in &mut t.prob[0].1.bands {
        band.2 *= 1.4;
    }
    let mut cfg = vcfg();
    cfg.run.replications = 2;
    cfg.run.scale = 0.2;
    let v = verify::verify(&Prepared::new(&sim), &expect, &cfg, &|| {}).unwrap();
    let failed: Vec<_> = v.failures().collect();
    assert!(!failed.is_empty(), "the wrong rate is not flagged");
    for t in &failed {
        assert_eq!(
            (t.cell.state.as_str(), t.cell.age_group.split(',').next()),
            ("kontanthjaelp", Some("0-29")),
            "{t:?}"
        );
    }
}

/// The groups follow the rules: the baseline's are the reporting line and
/// its gate's year before folkepension age (2 x 2); another
/// years-to-pension condition adds a third pension band.
#[test]
fn age_groups_come_from_the_rules() {
    let base = load("scenarios/baseline.toml", 4);
    assert_eq!(base.age_groups().age_cuts, [160]);
    assert_eq!(base.age_groups().pension_cuts, [4]);
    assert_eq!(base.age_groups().len(), 4);
    let near = load(
        "scenarios/examples/near-pension-no-ressourceforloeb.toml",
        4,
    );
    let g = near.age_groups();
    assert_eq!(g.len(), 6);
    assert_eq!(g.pension_cuts, [4, 24]);
    let by_age = load("scenarios/examples/rates-by-age.toml", 4);
    assert_eq!(by_age.age_groups().age_cuts, [120, 160]);
    assert!(by_age.age_groups().label(0).starts_with("0-29"));
}
