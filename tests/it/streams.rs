//! Common random numbers: every rule's random numbers are keyed on its id,
//! never on its position among the rules. A proposal that adds a rule that
//! never acts, whatever its id sorts as, changes no metric at all: the
//! paired difference is exactly 0 with standard error 0 everywhere.

use fleksim::analysis::compare;
use fleksim::engine::runner::{Prepared, RunConfig};
use fleksim::scenario;

use crate::util::root;

/// Inactive rules of every kind that draws or changes rows, each under an
/// id that sorts before and one that sorts after the baseline's rules.
fn inactive_rules() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for id in ["aaa_first", "zzz_last"] {
        // A gate in force only after the horizon.
        out.push((
            format!("gate dated after the horizon, id {id}"),
            format!(
                "[gates.{id}]\nfrom = [\"ressourceforloeb\"]\nto = [\"foertidspension\"]\nactive_from = \"2035Q1\"\n"
            ),
        ));
        // A gate in force throughout that matches no probability: nobody
        // in førtidspension moves to work.
        out.push((
            format!("gate that matches nobody, id {id}"),
            format!("[gates.{id}]\nfrom = [\"foertidspension\"]\nto = [\"employed\"]\n"),
        ));
        // An assessment in force only after the horizon, in a state whose
        // baseline assessment draws every quarter it falls due.
        out.push((
            format!("assessment dated after the horizon, id {id}"),
            format!(
                "[assessments.{id}]\nstate = \"ressourceforloeb\"\nat = 2\nevery = 1\nroute = {{ foertidspension = 0.5 }}\nactive_from = \"2035Q1\"\n"
            ),
        ));
        // An assessment in force throughout that falls due for nobody
        // within the horizon (after 50 years in a ressourceforløb).
        out.push((
            format!("assessment that falls due for nobody, id {id}"),
            format!(
                "[assessments.{id}]\nstate = \"ressourceforloeb\"\nat = 200\nroute = {{ foertidspension = 0.5 }}\n"
            ),
        ));
        // A dated change after the horizon.
        out.push((
            format!("dated change after the horizon, schedule entry {id}"),
            "[[schedule]]\npath = \"transitions.kontanthjaelp.employed\"\nfactor = 2.0\nfrom = \"2035Q1\"\n".to_string(),
        ));
        // A variant nobody enters: a state slot of its own, with a rate,
        // financing and an assessment route into it that falls due for nobody.
        out.push((
            format!("variant nobody enters, id {id}"),
            format!(
                "[variants.{id}]\nof = \"foertidspension\"\n\n[costs.monthly]\n{id} = 20000\n\n[costs.financing.{id}]\nstate_share = 0.5\n\n[assessments.{id}]\nstate = \"ressourceforloeb\"\nat = 200\nroute = {{ {id} = 0.5 }}\n"
            ),
        ));
    }
    out
}

#[test]
fn a_rule_that_never_acts_changes_nothing_whatever_its_id() {
    let tmp = tempfile::tempdir().unwrap();
    let base_path = root().join("scenarios/baseline.toml");
    let mut base = scenario::load_file(&base_path).expect("baseline").scenario;
    base.horizon = 12;
    let rules = inactive_rules();
    let mut props = Vec::new();
    for (i, (what, toml)) in rules.iter().enumerate() {
        let path = tmp.path().join(format!("p{i}.toml"));
        let text = format!(
            "extends = {:?}\nname = \"p{i}\"\n\n{toml}",
            base_path.display().to_string()
        );
        std::fs::write(&path, text).unwrap();
        let mut sc = match scenario::load_file(&path) {
            Ok(l) => l.scenario,
            Err(e) => panic!("{what}: {}", e.render(false)),
        };
        sc.horizon = 12;
        props.push(sc);
    }
    let prepared: Vec<Prepared> = props.iter().map(Prepared::new).collect();
    let cfg = RunConfig {
        replications: 6,
        seed: 11,
        scale: 0.03,
    };
    let c = compare::compare(&Prepared::new(&base), &prepared, &cfg, &|| {}).unwrap();
    for ((what, _), p) in rules.iter().zip(&c.proposals) {
        let mut n = 0;
        for (i, cell) in c.layout.cells.iter().enumerate() {
            let Some((metric, _, period)) = cell.metric(&c.layout) else {
                continue;
            };
            // NaN == NaN fails; a metric undefined in both is unchanged.
            let d = &p.delta[i];
            let same = |a: f64| a == 0.0 || (a.is_nan() && c.baseline[i].mean.is_nan());
            assert!(
                same(d.mean) && (same(d.se) || d.se.is_nan()),
                "{what}: {metric} ({period}) moved by {} (se {})",
                d.mean,
                d.se
            );
            n += 1;
        }
        assert!(n > 100, "{what}: only {n} metrics compared");
    }
}

/// The baseline's own assessment keeps its numbers when a rule whose id
/// sorts first is added and does act: the added rule's draws are its own.
#[test]
fn an_added_rule_does_not_shift_the_draws_of_the_others() {
    use fleksim::engine::rng::{Kind, rule_stream};
    // Streams are functions of (kind, id) alone.
    let a = rule_stream(Kind::Assessment, "ressourceforloeb_end_of_programme");
    assert_eq!(
        a,
        rule_stream(Kind::Assessment, "ressourceforloeb_end_of_programme")
    );
    assert_ne!(a, rule_stream(Kind::Assessment, "aaa_first"));
    assert_ne!(
        rule_stream(Kind::Assessment, "x"),
        rule_stream(Kind::Transition, "x")
    );
}
