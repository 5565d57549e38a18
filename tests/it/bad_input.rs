//! Malformed scenarios (tests/data/bad/): `fleksim validate` and `fleksim run`
//! reject each one with exit status 1 and a message that names the file, the
//! line, the key path and the rule broken; `run` leaves no output behind. The
//! library's `ScenarioError` (plain `Display`) is checked for the same facts.
//!
//! Every case is one row of the table at the bottom: one test per row.

use std::path::{Path, PathBuf};

use fleksim::scenario;

use crate::util;

/// One malformed scenario and what its error must say.
#[derive(Clone, Copy)]
struct Case {
    /// The file given on the command line, relative to tests/data/bad.
    file: &'static str,
    /// The file the error must point at, relative to tests/data/bad: `file`
    /// itself unless the fault is in a parent (`extends`).
    at: &'static str,
    /// 1-based line of the offending key or value in `at`.
    line: usize,
    /// The key path the message must name; "" for errors that have none
    /// (TOML syntax errors, a missing top-level key).
    key: &'static str,
    /// Words of the rule broken, each of which must appear in the message.
    words: &'static [&'static str],
}

const fn bad(
    file: &'static str,
    line: usize,
    key: &'static str,
    words: &'static [&'static str],
) -> Case {
    Case {
        file,
        at: file,
        line,
        key,
        words,
    }
}

impl Case {
    /// The error is reported in another file (a parent).
    const fn at(self, at: &'static str) -> Case {
        Case { at, ..self }
    }
}

/// Path of a corpus file as given on the command line (the tests run the
/// binary from the repository root).
fn rel(file: &str) -> PathBuf {
    Path::new("tests/data/bad").join(file)
}

/// Splits CLI stderr into reports: each starts at a line `Error: ...`
/// (ariadne) or `error: ...` (errors without a position).
fn reports(stderr: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in stderr.lines() {
        if line.starts_with("Error:") || line.starts_with("error:") || out.is_empty() {
            out.push(String::new());
        }
        let last = out.last_mut().expect("one report");
        last.push_str(line);
        last.push('\n');
    }
    out
}

/// Whether one rendered report says everything the case requires: the key
/// path first in the head line, `file:line:` in the location, the words.
fn report_matches(report: &str, at: &Path, c: &Case) -> bool {
    let head = report.lines().next().unwrap_or("");
    let key_ok = c.key.is_empty() || head.starts_with(&format!("Error: `{}`: ", c.key));
    let loc = format!("{}:{}:", at.display(), c.line);
    let loc_ok = report.lines().any(|l| l.contains(&loc));
    key_ok && loc_ok && c.words.iter().all(|w| report.contains(w))
}

fn what_is_expected(at: &Path, c: &Case) -> String {
    format!(
        "a report with location `{}:{}:`, key `{}` and words {:?}",
        at.display(),
        c.line,
        c.key,
        c.words
    )
}

/// Checks the library error (plain `Display`): a line
/// `path:line:col: `key`: message` followed by its hint lines.
fn check_library(c: &Case, problems: &mut Vec<String>) {
    let path = util::data("bad").join(c.file);
    let at = util::data("bad").join(c.at);
    let err = match scenario::load_file(&path) {
        Ok(_) => {
            problems.push(format!(
                "library: load_file({}) accepted the scenario",
                path.display()
            ));
            return;
        }
        Err(e) => e,
    };
    let text = err.to_string();
    let prefix = format!("{}:{}:", at.display(), c.line);
    let lines: Vec<&str> = text.lines().collect();
    let found = lines.iter().enumerate().any(|(i, line)| {
        let Some(rest) = line.strip_prefix(&prefix) else {
            return false;
        };
        // `col: ` then the key path (if any) in backticks.
        let Some((col, rest)) = rest.split_once(": ") else {
            return false;
        };
        if col.parse::<usize>().is_err() {
            return false;
        }
        if !c.key.is_empty() && !rest.starts_with(&format!("`{}`: ", c.key)) {
            return false;
        }
        let mut block = line.to_string();
        for hint in lines[i + 1..].iter().take_while(|l| l.starts_with("  ")) {
            block.push('\n');
            block.push_str(hint);
        }
        c.words.iter().all(|w| block.contains(w))
    });
    if !found {
        problems.push(format!(
            "library: expected a line `{prefix}COL: `{}`: ...` with words {:?}; Display was:\n{text}",
            c.key, c.words
        ));
    }
}

/// Runs the CLI and checks exit status 1, the report, and (for `run`) that
/// nothing was written.
fn check_cli(c: &Case, problems: &mut Vec<String>) {
    let file = rel(c.file);
    let at = rel(c.at);
    let tmp = tempfile::tempdir().expect("temporary folder");
    let out = tmp.path().join("out");
    let runs: [(&str, Vec<String>); 2] = [
        (
            "validate",
            vec!["validate".into(), file.display().to_string()],
        ),
        (
            "run",
            vec![
                "run".into(),
                file.display().to_string(),
                "--scale".into(),
                "0.01".into(),
                "-n".into(),
                "2".into(),
                "--out".into(),
                out.display().to_string(),
            ],
        ),
    ];
    for (cmd, args) in runs {
        let o = util::fleksim()
            .current_dir(util::root())
            .args(&args)
            .output()
            .expect("run fleksim");
        let stderr = String::from_utf8_lossy(&o.stderr);
        let stdout = String::from_utf8_lossy(&o.stdout);
        if o.status.code() != Some(1) {
            problems.push(format!(
                "`fleksim {}` exited with {:?}, expected 1\nstderr:\n{stderr}",
                args.join(" "),
                o.status.code()
            ));
        }
        if stderr.contains("panicked") {
            problems.push(format!("`fleksim {cmd}` panicked:\n{stderr}"));
        }
        if !reports(&stderr).iter().any(|r| report_matches(r, &at, c)) {
            problems.push(format!(
                "`fleksim {cmd}`: expected {}; stderr was:\n{stderr}",
                what_is_expected(&at, c)
            ));
        }
        if stdout.lines().any(|l| l.starts_with("ok")) {
            problems.push(format!(
                "`fleksim {cmd}` reported the bad file as ok:\n{stdout}"
            ));
        }
    }
    let left = files_under(tmp.path());
    if !left.is_empty() {
        problems.push(format!(
            "`fleksim run` on a bad scenario left files behind: {left:?}"
        ));
    }
}

/// Every file (not folder) below `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries {
        let p = e.expect("folder entry").path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn check(c: &Case) {
    assert!(
        util::data("bad").join(c.file).is_file(),
        "corpus file tests/data/bad/{} is missing",
        c.file
    );
    let mut problems = Vec::new();
    check_library(c, &mut problems);
    check_cli(c, &mut problems);
    assert!(
        problems.is_empty(),
        "tests/data/bad/{}: {} problem(s):\n\n{}",
        c.file,
        problems.len(),
        problems.join("\n\n")
    );
}

macro_rules! cases {
    ($($name:ident: $case:expr,)*) => {
        /// Every case, for the check that the corpus and this table agree.
        const CASES: &[Case] = &[$($case),*];
        $(
            #[test]
            fn $name() {
                check(&$case);
            }
        )*
    };
}

cases! {
    // TOML syntax errors (standalone and in a child).
    syntax_error: bad("syntax_error.toml", 5, "", &["TOML syntax error"]),
    syntax_duplicate_key: bad("syntax_duplicate_key.toml", 4, "", &["TOML syntax error", "duplicate key"]),
    syntax_unclosed_table: bad("syntax_unclosed.toml", 4, "", &["TOML syntax error", "unclosed table"]),
    wrong_type: bad("wrong_type.toml", 4, "horizon", &["invalid type", "expected i64"]),

    // Unknown keys, with a did-you-mean suggestion.
    unknown_key_top: bad("unknown_key_top.toml", 4, "horizn", &["unknown key `horizn`", "did you mean `horizon`?"]),
    unknown_key_nested: bad("unknown_key_nested.toml", 5, "fleksjob.raise_probabilty", &["unknown key `raise_probabilty`", "did you mean `raise_probability`?"]),
    unknown_key_transition: bad("unknown_key_transition.toml", 5, "transitions.sygedagpenge.fleksjob.multiplier", &["unknown key `multiplier`", "did you mean `multipliers`?"]),

    // A missing required key.
    missing_horizon: bad("missing_horizon.toml", 1, "", &["missing field `horizon`"]),

    // Unknown states.
    unknown_state_target: bad("unknown_state_target.toml", 4, "transitions.kontanthjaelp.employd", &["unknown state `employd`", "did you mean `employed`?"]),
    unknown_state_from: bad("unknown_state_from.toml", 4, "transitions.kontanthjelp", &["unknown state `kontanthjelp`", "did you mean `kontanthjaelp`?"]),
    unknown_state_stock: bad("unknown_state_stock.toml", 4, "population.stock.flexjob", &["unknown state `flexjob`", "did you mean `fleksjob`?"]),
    unknown_state_gate: bad("unknown_state_gate.toml", 5, "gates.no_foertidspension_under_40.to[1]", &["unknown state `pension`", "states are:"]),
    out_stock: bad("out_stock.toml", 4, "population.stock.out", &["`out` is absorbing"]),
    disabled_gate_checked: bad("disabled_gate_checked.toml", 6, "gates.no_foertidspension_under_40.when.age", &["age \"old\" must be \"under40\", \"over40\", \"under_line\", \"over_line\""]),
    pension_age_falls: bad("pension_age_falls.toml", 9, "population.pension_age[1].years", &["folkepension age 64 is below the previous step's"]),

    // Probabilities and shares outside [0, 1].
    probability_above_one: bad("probability_above_one.toml", 5, "transitions.kontanthjaelp.self_supporting.all", &["probability 1.5 is outside [0, 1]"]),
    probability_negative_band: bad("probability_negative.toml", 5, "transitions.kontanthjaelp.ressourceforloeb.all.5+", &["probability -0.2 is outside [0, 1]"]),
    share_above_one: bad("share_above_one.toml", 5, "population.stock.sygedagpenge.psychiatric", &["probability 1.3 is outside [0, 1]"]),

    // Outgoing probabilities summing to more than 1.
    row_sum: bad("row_sum.toml", 4, "transitions.foertidspension", &["outgoing probabilities from foertidspension sum to 1.2040", "(> 1)"]),
    row_sum_multiplier: bad("row_sum_multiplier.toml", 5, "transitions.sygedagpenge", &["outgoing probabilities from sygedagpenge sum to", "(> 1)", "retention"]),
    phase_row_sum: bad("phase_row_sum.toml", 4, "ressourceforloeb.phases.passive", &["phase probabilities from passive sum to 1.05", "(> 1)"]),
    routing_sum: bad("routing_sum.toml", 4, "assessments.ressourceforloeb_end_of_programme.route", &["routing shares sum to 1.45", "(> 1)"]),

    // Negative stocks, flows, rates and amounts.
    negative_stock: bad("negative_stock.toml", 5, "population.stock.kontanthjaelp.count", &["stock -85000", "at least 0"]),
    negative_inflow: bad("negative_inflow.toml", 5, "population.inflow.sygedagpenge.per_quarter", &["inflow -1", "at least 0"]),
    negative_rate: bad("negative_rate.toml", 5, "costs.monthly.sygedagpenge", &["rate -15100", "at least 0"]),
    negative_wage: bad("negative_wage.toml", 5, "costs.fleksloentilskud.hourly_wage", &["wage -200", "at least 0"]),
    negative_discount_rate: bad("discount_rate.toml", 5, "costs.discount_rate", &["discount rate -0.01 is outside 0..=0.5"]),

    // Rates by age group.
    rate_band_gap: bad("rates/rate_band_gap.toml", 5, "costs.monthly.kontanthjaelp.30+", &["no gap or overlap"]),
    rate_band_not_open: bad("rates/rate_band_not_open.toml", 5, "costs.monthly.kontanthjaelp.30-66", &["must be open-ended"]),
    rate_too_many_ages: bad("rates/rate_too_many_ages.toml", 4, "costs.monthly", &["5 age groups of money", "at most 4"]),

    // The price index.
    prices_index_not_positive: bad("prices/index_not_positive.toml", 5, "prices.index.2024", &["price level 0 must be a positive number"]),
    prices_index_without_price_year: bad("prices/index_without_price_year.toml", 346, "prices.index", &["no level for the scenario's price_year 2021"]).at("prices/../../../../scenarios/baseline.toml"),

    // Dated changes.
    schedule_until_before_from: bad("schedule/until_before_from.toml", 8, "schedule[0].until", &["the ramp ends in 2021Q1, not after it starts in 2022Q1"]),
    schedule_path_not_allowed: bad("schedule/path_not_allowed.toml", 5, "schedule[0].path", &["`fleksjob.raise_probability` cannot be dated"]),
    schedule_path_unknown: bad("schedule/path_unknown.toml", 5, "schedule[0].path", &["is not a key of the scenario", "did you mean `employed`?"]),
    schedule_two_changes: bad("schedule/two_changes.toml", 4, "schedule[0]", &["give exactly one of `factor`, `add` and `value`"]),
    schedule_value_on_table: bad("schedule/value_on_table.toml", 6, "schedule[0].value", &["`value` sets one number"]),
    schedule_ramp_above_one: bad("schedule/ramp_above_one.toml", 180, "transitions.kontanthjaelp", &["sum to 1.0010 (> 1)", "from 2022Q1, with the dated changes in force then", "ramp_above_one.toml:4"]).at("schedule/../../../../scenarios/baseline.toml"),

    // Age bands and age conditions.
    age_band_overlap: bad("ages/age_band_overlap.toml", 5, "transitions.kontanthjaelp.employed.ages.30+", &["age band 30+ overlaps 18-39"]),
    age_band_gap: bad("ages/age_band_gap.toml", 5, "transitions.kontanthjaelp.employed.ages.35+", &["age bands leave a gap", "nothing covers 30-34 years"]),
    age_band_not_open: bad("ages/age_band_not_open.toml", 5, "transitions.kontanthjaelp.employed.ages.30-66", &["the last age band 30-66 must be open-ended", "\"30+\""]),
    age_band_key: bad("ages/age_band_key.toml", 5, "transitions.kontanthjaelp.employed.ages.young", &["\"young\" is not an age band"]),
    ages_and_all: bad("ages/ages_and_all.toml", 4, "transitions.kontanthjaelp.self_supporting", &["give either `ages` or `all`"]),
    age_line_range: bad("ages/age_line_range.toml", 4, "age_line", &["12 is outside the allowed range 18..=66"]),
    within_years_range: bad("ages/within_years_range.toml", 7, "gates.near_pension.when.within_years_of_pension", &["80 is outside the allowed range 0..=50"]),
    when_age_band: bad("ages/when_age_band.toml", 7, "gates.young.when.age", &["age \"35-\" must be", "a band in years"]),
    too_many_groups: bad("ages/too_many_groups.toml", 4, "transitions", &["82 age groups", "at most 32 are supported"]),

    // Duration bands: gap, overlap, not open-ended, starting at 0.
    band_gap: bad("band_gap.toml", 6, "transitions.foertidspension.employed.all.7+", &["duration bands leave a gap", "nothing covers 5-6"]),
    band_overlap: bad("band_overlap.toml", 6, "transitions.foertidspension.employed.all.3-8", &["duration band starting at 3 overlaps the band before it"]),
    band_not_open: bad("band_not_open.toml", 4, "transitions.foertidspension.employed.all", &["last duration band must be open-ended", "\"9+\""]),
    band_zero: bad("band_zero.toml", 5, "transitions.foertidspension.employed.all.0-4", &["durations count from 1"]),

    // Share tables.
    share_sum: bad("share_sum.toml", 4, "population.stock.kontanthjaelp.age", &["shares sum to 1.2", "not 1"]),
    share_overlap: bad("share_overlap.toml", 6, "population.inflow.kontanthjaelp.age.25-35", &["range 25-35 overlaps range 18-29"]),
    share_range: bad("share_range.toml", 5, "population.inflow.kontanthjaelp.age.10-14", &["range 10-14 is outside 15-80 years of age"]),
    phase_share_sum: bad("phase_share_sum.toml", 4, "population.stock.ressourceforloeb.phase", &["phase shares sum to 1.4", "not 1"]),
    state_share_length: bad("state_share_len.toml", 5, "costs.refusion.state_share", &["2 shares given; give 5"]),

    // Horizon, schema version, name, quarters, pension ages.
    horizon_zero: bad("horizon_zero.toml", 8, "horizon", &["horizon is 0 quarters", "between 1 and 400"]),
    horizon_zero_child: bad("horizon_zero_child.toml", 4, "horizon", &["horizon is 0 quarters", "between 1 and 400"]),
    schema_version: bad("schema_version.toml", 4, "schema_version", &["schema version 2 is not supported"]),
    bad_name: bad("bad_name.toml", 4, "name", &["\"my reform\"", "names the output folder"]),
    bad_quarter: bad("bad_quarter.toml", 4, "start", &["\"2019Q5\" is not a quarter", "\"2019Q1\""]),
    bad_quarter_gate: bad("bad_quarter_gate.toml", 5, "gates.no_foertidspension_under_40.active_from", &["\"2020-01\" is not a quarter"]),
    pension_order: bad("pension_order.toml", 9, "population.pension_age[1].born_from", &["increasing order of `born_from`"]),

    // Phases.
    unknown_phase_entry: bad("unknown_phase_entry.toml", 5, "ressourceforloeb.entry_phase", &["unknown phase `wating_team`"]),
    unknown_phase_matrix: bad("unknown_phase_matrix.toml", 4, "ressourceforloeb.phases.pasive", &["unknown phase `pasive`", "did you mean `passive`?"]),
    unknown_phase_multiplier: bad("unknown_phase_multiplier.toml", 5, "transitions.ressourceforloeb.employed.phase_multipliers.compnay", &["unknown phase `compnay`", "did you mean `company`?"]),

    // Gates and transitions.
    gate_redirect_blocked: bad("gate_redirect_blocked.toml", 5, "gates.no_foertidspension_under_40.redirect", &["cannot redirect to a state it blocks"]),
    gate_hours: bad("gate_hours.toml", 5, "gates.no_foertidspension_under_40.when.min_hours", &["gates cannot depend on hours"]),
    self_transition: bad("self_transition.toml", 4, "transitions.fleksjob.fleksjob", &["transition to the same state is implicit"]),
    bad_per: bad("bad_per.toml", 5, "transitions.fleksjob.employed.per", &["`per` is \"month\"", "\"quarter\" or \"year\""]),

    // `extends`: missing parent, not a string, cycles, an error in a parent.
    extends_missing: bad("extends_missing.toml", 3, "extends", &["cannot read parent scenario", "no_such_parent.toml"]),
    extends_not_string: bad("extends_not_string.toml", 2, "extends", &["must be a file name"]),
    extends_cycle_from_a: bad("cycle/a.toml", 4, "extends", &["`extends` forms a cycle", "a.toml -> ", "b.toml -> "]).at("cycle/b.toml"),
    extends_cycle_from_b: bad("cycle/b.toml", 2, "extends", &["`extends` forms a cycle", "b.toml -> ", "a.toml -> "]).at("cycle/a.toml"),
    extends_self: bad("cycle/self.toml", 2, "extends", &["`extends` forms a cycle", "self.toml -> "]),
    error_in_parent: bad("chain/child.toml", 7, "costs.insurance.offset", &["probability 1.25 is outside [0, 1]"]).at("chain/parent.toml"),
    error_in_parent_direct: bad("chain/parent.toml", 7, "costs.insurance.offset", &["probability 1.25 is outside [0, 1]"]),

    // Relative values and composition (compose/).
    relative_unknown_key: bad("compose/relative_unknown_key.toml", 5, "transitions.ressourceforloeb.fleksjb", &["`factor` changes a value", "no `fleksjb` here", "did you mean `fleksjob`?"]),
    factor_negative: bad("compose/factor_negative.toml", 5, "transitions.ressourceforloeb.fleksjob", &["factor -1.15 must be a finite number of at least 0"]),
    factor_not_finite: bad("compose/factor_not_finite.toml", 5, "ressourceforloeb.phases.passive.active", &["factor inf must be a finite number"]),
    relative_not_number: bad("compose/relative_not_number.toml", 4, "start", &["`factor` on a value that is not a number", "a string"]),
    relative_no_extends: bad("compose/relative_no_extends.toml", 4, "horizon", &["`add` in a file that extends nothing"]),
    two_modifiers: bad("compose/two_modifiers.toml", 5, "ressourceforloeb.phases.passive.active", &["`add` and `factor` together", "one of `factor`, `add` or `override`"]),
    patches_conflict: bad("compose/conflict.toml", 5, "ressourceforloeb.phases.passive.active", &["set by two patches", "compose/lever_a.toml:5", "sets it to 0.25", "override"]).at("compose/lever_b.toml"),
    absolute_after_relative: bad("compose/after_relative.toml", 6, "ressourceforloeb.phases.passive.company", &["an absolute value after a relative one", "compose/lever_a.toml:6", "override"]).at("compose/lever_c.toml"),
    composed_above_one: bad("compose/composed_above_one.toml", 5, "ressourceforloeb.phases.waiting_team.waiting_intervention", &["is outside [0, 1]", "composed:", "x 1.2 (", "compose/lever_d.toml:5", "= 1.08"]).at("compose/lever_d2.toml"),

    // `[uncertainty]` ranges broken across files (uncertainty/): the error
    // points at whichever side was written last and names the other.
    uncertain_value_in_child: bad("uncertainty/value_child.toml", 7, "transitions.kontanthjaelp.employed.all.5+", &["the value 0.09 set in", "uncertainty/value_child.toml:7", "is outside the range 0.02 .. 0.06 of `uncertainty.exit_late`", "uncertainty/parent.toml:12"]),
    uncertain_range_in_child: bad("uncertainty/range_child.toml", 7, "uncertainty.exit_late.low", &["the range 0.045 .. 0.06 given in", "uncertainty/range_child.toml:7", "does not contain the value 0.04", "uncertainty/parent.toml:7"]),
    uncertain_path_in_child: bad("uncertainty/path_child.toml", 7, "uncertainty.exit_late.path", &["the range 0.02 .. 0.06", "does not contain the value 12000 of `costs.monthly.kontanthjaelp`", "ok/small.toml:35"]),
    uncertain_factor_in_child: bad("uncertainty/factor_child.toml", 7, "transitions.kontanthjaelp.employed.all.5+", &["the value 0.12 set in", "uncertainty/parent.toml:12", "composed:", "x 3 ("]),
    uncertain_value_in_patch: bad("uncertainty/package.toml", 6, "transitions.kontanthjaelp.employed.all.5+", &["the value 0.01 set in", "uncertainty/value_lever.toml:6", "uncertainty/parent.toml:11"]).at("uncertainty/value_lever.toml"),
    uncertain_low_above_high: bad("uncertainty/low_above_high.toml", 7, "uncertainty.exit_late.low", &["low < high", "low 0.07 (set in", "uncertainty/low_above_high.toml:7", "high 0.06 (set in", "uncertainty/parent.toml:12"]),
    uncertain_below_min_in_child: bad("uncertainty/below_min_child.toml", 7, "transitions.kontanthjaelp.employed.all.5+", &["the truncation min 0.03", "uncertainty/parent.toml:13", "must contain the value 0.025", "uncertainty/below_min_child.toml:7"]),
    uncertain_same_file: bad("uncertainty/same_file.toml", 11, "uncertainty.rate.low", &["the range 12500 .. 13000 given in", "does not contain the value 12000", "uncertainty/same_file.toml:7"]),
    variant_clashes_with_state: bad("variants/clash.toml", 5, "variants.foertidspension", &["is a state", "a variant needs an id of its own", "foertidspension_variant"]),
    variant_of_unknown_state: bad("variants/unknown_base.toml", 6, "variants.seniorpension.of", &["unknown state `foertidspensjon`", "did you mean `foertidspension`?"]),
    variant_of_out: bad("variants/of_out.toml", 6, "variants.gone.of", &["`out`", "cannot have a variant"]),
    variant_of_variant: bad("variants/of_variant.toml", 9, "variants.tidlig_pension.of", &["`seniorpension` is itself a variant", "the named state it varies"]),
    variant_of_ressourceforloeb: bad("variants/of_ressourceforloeb.toml", 6, "variants.rf_light.of", &["variant of `ressourceforloeb` is not supported", "phases"]),
    variant_rate_without_benefit: bad("variants/rate_no_benefit.toml", 9, "costs.monthly.retained", &["a variant of `employed`", "pays no benefit"]),
    financing_of_no_variant: bad("variants/financing_unknown.toml", 8, "costs.financing.seniorpensjon", &["is not a variant", "did you mean `seniorpension`?"]),
    variant_target_misspelt: bad("variants/target_typo.toml", 8, "transitions.kontanthjaelp.seniorpensjon", &["unknown state `seniorpensjon`", "did you mean `seniorpension`?"]),
}

/// Corpus files checked by a dedicated test rather than a table row, or
/// valid on their own and used only as patches of a case's package.
const OTHER_FILES: &[&str] = &[
    "multiple_errors.toml",
    "compose/lever_a.toml",
    "compose/lever_d.toml",
    "uncertainty/parent.toml",
];

#[test]
fn every_corpus_file_has_a_case() {
    let root = util::data("bad");
    let mut missing = Vec::new();
    for f in files_under(&root) {
        let name = f
            .strip_prefix(&root)
            .expect("under the corpus")
            .to_string_lossy()
            .replace('\\', "/");
        if !name.ends_with(".toml") {
            continue;
        }
        let covered = CASES.iter().any(|c| c.file == name || c.at == name)
            || OTHER_FILES.contains(&name.as_str());
        if !covered {
            missing.push(name);
        }
    }
    assert!(
        missing.is_empty(),
        "tests/data/bad files without a case in tests/it/bad_input.rs: {missing:?}"
    );
    assert!(CASES.len() >= 40, "the table lost cases: {}", CASES.len());
}

#[test]
fn every_error_is_reported_not_just_the_first() {
    let file = "multiple_errors.toml";
    // (line, key, words) of the three errors in the file.
    let expected = [
        (4, "start", "\"2019Q9\" is not a quarter"),
        (5, "horizon", "horizon is 0 quarters"),
        (8, "costs.monthly.kontanthjaelp", "rate -1 must be"),
    ];

    let path = util::data("bad").join(file);
    let err = match scenario::load_file(&path) {
        Ok(_) => panic!("{file} was accepted"),
        Err(e) => e,
    };
    assert_eq!(
        err.diagnostics.len(),
        3,
        "expected 3 diagnostics, got:\n{err}"
    );
    let text = err.to_string();
    for (line, key, words) in expected {
        let prefix = format!("{}:{line}:", path.display());
        assert!(
            text.lines().any(|l| l.starts_with(&prefix)
                && l.contains(&format!("`{key}`: "))
                && l.contains(words)),
            "library error lacks `{prefix}` `{key}` {words:?}:\n{text}"
        );
    }

    let o = util::fleksim()
        .current_dir(util::root())
        .arg("validate")
        .arg(rel(file))
        .output()
        .expect("run fleksim");
    assert_eq!(o.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&o.stderr);
    for (line, key, words) in expected {
        let case = Case {
            file,
            at: file,
            line,
            key,
            words: &[],
        };
        assert!(
            reports(&stderr)
                .iter()
                .any(|r| report_matches(r, &rel(file), &case) && r.contains(words)),
            "`fleksim validate` did not report line {line} `{key}` {words:?}:\n{stderr}"
        );
    }
}

#[test]
fn load_text_names_the_given_name_and_line() {
    let text = std::fs::read_to_string(util::data("ok/small.toml"))
        .expect("small.toml")
        .replace("horizon = 8\n", "horizon = 0\n");
    let line = text
        .lines()
        .position(|l| l == "horizon = 0")
        .expect("horizon line")
        + 1;
    let err = match scenario::load_text("inline.toml", &text, None) {
        Ok(_) => panic!("horizon = 0 was accepted"),
        Err(e) => e,
    };
    let shown = err.to_string();
    assert!(
        shown.starts_with(&format!("inline.toml:{line}:11: `horizon`: ")),
        "{shown}"
    );
    assert!(shown.contains("between 1 and 400"), "{shown}");
}

#[test]
fn load_text_cannot_follow_extends() {
    let err = match scenario::load_text(
        "inline.toml",
        "# no folder to resolve the parent in\nextends = \"baseline.toml\"\n",
        None,
    ) {
        Ok(_) => panic!("`extends` without a folder was accepted"),
        Err(e) => e,
    };
    let shown = err.to_string();
    assert!(
        shown.starts_with("inline.toml:2:11: `extends`: "),
        "{shown}"
    );
    assert!(shown.contains("cannot be resolved"), "{shown}");
}

#[test]
fn unknown_key_hint_is_in_the_library_error() {
    let err = match scenario::load_file(&util::data("bad/unknown_key_top.toml")) {
        Ok(_) => panic!("an unknown key was accepted"),
        Err(e) => e,
    };
    assert_eq!(err.diagnostics.len(), 1, "{err}");
    let d = &err.diagnostics[0];
    assert_eq!(d.key.as_deref(), Some("horizn"), "{err}");
    assert_eq!(d.hint.as_deref(), Some("did you mean `horizon`?"), "{err}");
    // The location is the misspelt key itself (line 4, column 1), not its value.
    let loc = d.location.as_ref().expect("a location");
    assert_eq!(
        err.sources.line_col(loc.file, loc.span.start),
        (4, 1),
        "{err}"
    );
}

#[test]
fn ok_files_are_valid() {
    for f in files_under(&util::data("ok")) {
        if let Err(e) = scenario::load_file(&f) {
            panic!("{} should be valid:\n{e}", f.display());
        }
    }
}
