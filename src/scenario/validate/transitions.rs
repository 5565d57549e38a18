//! `[transitions]`: probabilities by age and duration band, rate tables by
//! age band, multipliers, and the check that no outgoing row sums above 1.

use super::*;

pub(super) fn banded(v: &mut Reporter, path: &str, b: &raw::Banded, annual: bool) -> Banded {
    let conv = |p: f64| if annual { annual_to_quarterly(p) } else { p };
    match b {
        raw::Banded::Flat(p) => Banded::flat(conv(probability(v, path, *p))),
        raw::Banded::Bands(table) => {
            let mut bands: Vec<(u16, Option<u16>, f64, String)> = Vec::new();
            for (key, &p) in table {
                let kp = format!("{path}.{key}");
                let parsed = if let Some(a) = key.strip_suffix('+') {
                    a.trim().parse::<u16>().ok().map(|a| (a, None))
                } else {
                    parse_range(key).map(|(a, b)| (a, Some(b)))
                };
                let Some((lo, hi)) = parsed else {
                    v.key_error(&kp, format!("{key:?} is not a duration band; write \"1-4\", \"5\" or \"13+\" (quarters)"), None);
                    continue;
                };
                if lo == 0 {
                    v.key_error(
                        &kp,
                        "durations count from 1 (the end of the first quarter in the state)",
                        None,
                    );
                    continue;
                }
                let p = conv(probability(v, &kp, p));
                bands.push((lo, hi, p, kp));
            }
            if table.is_empty() {
                v.error(path, "empty table of duration bands; give a number or bands like { \"1-4\" = 0.1, \"5+\" = 0.05 }");
            }
            bands.sort_by_key(|b| b.0);
            let mut next = 1u16;
            let mut ok = !bands.is_empty();
            for (lo, hi, _, kp) in &bands {
                if *lo > next {
                    v.key_error(
                        kp,
                        format!(
                            "duration bands leave a gap: nothing covers {next}-{}",
                            lo - 1
                        ),
                        None,
                    );
                    ok = false;
                } else if *lo < next {
                    v.key_error(
                        kp,
                        format!("duration band starting at {lo} overlaps the band before it"),
                        None,
                    );
                    ok = false;
                }
                match hi {
                    Some(h) => next = h + 1,
                    None => next = u16::MAX,
                }
            }
            if ok && next != u16::MAX {
                v.error(
                    path,
                    format!("the last duration band must be open-ended (e.g. \"{next}+\")"),
                );
            }
            Banded {
                bands: bands
                    .into_iter()
                    .map(|(lo, hi, p, _)| (lo, hi, p))
                    .collect(),
            }
        }
    }
}

pub(super) fn transitions(
    v: &mut Reporter,
    table: &BTreeMap<String, BTreeMap<String, raw::RawTransition>>,
) -> Vec<Transition> {
    let mut out = Vec::new();
    for (from_name, targets) in table {
        let fp = format!("transitions.{from_name}");
        let Some(from) = state(v, &fp, from_name, false) else {
            continue;
        };
        for (to_name, t) in targets {
            let p = format!("{fp}.{to_name}");
            let Some(to) = state(v, &p, to_name, true) else {
                continue;
            };
            if to == from {
                v.key_error(
                    &p,
                    "a transition to the same state is implicit (the rest stay); remove it",
                    None,
                );
                continue;
            }
            let annual = match t.per.as_deref() {
                None | Some("quarter") => false,
                Some("year") => true,
                Some(other) => {
                    v.error(
                        &format!("{p}.per"),
                        format!("`per` is {other:?}; it must be \"quarter\" or \"year\""),
                    );
                    false
                }
            };
            let by_group = t.all.is_some() || t.under40.is_some() || t.over40.is_some();
            if !by_group && t.ages.is_none() {
                v.error(
                    &p,
                    "give `all`, or `under40` and/or `over40`, or `ages` (a table of age bands)",
                );
            }
            if by_group && t.ages.is_some() {
                v.error(
                    &p,
                    "give either `ages` or `all` / `under40` / `over40`, not both",
                );
            }
            let base = t
                .all
                .as_ref()
                .map(|b| banded(v, &format!("{p}.all"), b, annual));
            let mut prob = vec![
                (0, base.clone().unwrap_or(Banded::flat(0.0))),
                (AGE40_Q, base.unwrap_or(Banded::flat(0.0))),
            ];
            if let Some(b) = &t.under40 {
                prob[0].1 = banded(v, &format!("{p}.under40"), b, annual);
            }
            if let Some(b) = &t.over40 {
                prob[1].1 = banded(v, &format!("{p}.over40"), b, annual);
            }
            if let Some(ages) = &t.ages {
                prob = age_table(v, &format!("{p}.ages"), ages, annual);
            }
            let mut flag_multipliers = [1.0; N_FLAGS];
            for (k, &m) in &t.multipliers {
                let mp = format!("{p}.multipliers.{k}");
                match flag::NAMES.iter().position(|n| n == k) {
                    Some(i) => flag_multipliers[i] = non_negative(v, &mp, m, "multiplier"),
                    None => v.key_error(
                        &mp,
                        format!("unknown attribute `{k}`"),
                        did_you_mean(k, flag::NAMES),
                    ),
                }
            }
            let mut phase_multipliers = [1.0; N_PHASES];
            if !t.phase_multipliers.is_empty() && from != State::Ressourceforloeb {
                v.key_error(
                    &format!("{p}.phase_multipliers"),
                    "phase multipliers apply only to transitions from ressourceforloeb",
                    None,
                );
            }
            for (k, &m) in &t.phase_multipliers {
                let mp = format!("{p}.phase_multipliers.{k}");
                match Phase::from_id(k) {
                    Some(ph) => {
                        phase_multipliers[ph as usize] = non_negative(v, &mp, m, "multiplier")
                    }
                    None => v.key_error(
                        &mp,
                        format!("unknown phase `{k}`"),
                        did_you_mean(k, Phase::ALL.iter().map(|p| p.id())),
                    ),
                }
            }
            out.push(Transition {
                from,
                to,
                prob,
                flag_multipliers,
                phase_multipliers,
            });
        }
    }
    out
}

/// A rate table by age band in years: contiguous bands, the last open
/// (`"60+"`); the first band also covers younger persons.
pub(super) fn age_table(
    v: &mut Reporter,
    path: &str,
    ages: &std::collections::BTreeMap<String, raw::Banded>,
    annual: bool,
) -> Vec<(u16, Banded)> {
    let mut bands: Vec<(AgeBand, Banded, String)> = Vec::new();
    for (key, b) in ages {
        let kp = format!("{path}.{key}");
        let Some(band) = age_band(key) else {
            v.key_error(
                &kp,
                format!("{key:?} is not an age band; write \"18-29\" or \"60+\" (years)"),
                None,
            );
            continue;
        };
        bands.push((band, banded(v, &kp, b, annual), kp));
    }
    if ages.is_empty() {
        v.error(
            path,
            "empty table of age bands; give bands like { \"18-39\" = 0.1, \"40+\" = 0.05 }",
        );
        return vec![(0, Banded::flat(0.0))];
    }
    bands.sort_by_key(|b| b.0.lo);
    for w in bands.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        match a.0.hi {
            None => v.key_error(
                &b.2,
                format!(
                    "age band {} overlaps the open band {}",
                    key_of(&b.2),
                    key_of(&a.2)
                ),
                None,
            ),
            Some(h) if b.0.lo <= h => v.key_error(
                &b.2,
                format!("age band {} overlaps {}", key_of(&b.2), key_of(&a.2)),
                None,
            ),
            Some(h) if b.0.lo > h + 1 => v.key_error(
                &b.2,
                format!(
                    "age bands leave a gap: nothing covers {}-{} years",
                    (h + 1) / 4,
                    b.0.lo / 4 - 1
                ),
                None,
            ),
            _ => {}
        }
    }
    if let Some(last) = bands.last()
        && last.0.hi.is_some()
    {
        v.key_error(
            &last.2,
            format!(
                "the last age band {} must be open-ended (for example \"{}+\")",
                key_of(&last.2),
                last.0.lo / 4
            ),
            None,
        );
    }
    bands
        .into_iter()
        .enumerate()
        .map(|(i, (band, b, _))| (if i == 0 { 0 } else { band.lo }, b))
        .collect()
}

/// The last segment of a key path (an age band's key).
pub(super) fn key_of(path: &str) -> &str {
    path.rsplit('.').next().unwrap_or(path)
}

/// Largest decision duration at which any transition value changes.
pub fn max_boundary(ts: &[Transition], from: State) -> u16 {
    ts.iter()
        .filter(|t| t.from == from)
        .flat_map(|t| t.prob.iter().map(|(_, b)| b.last_boundary()))
        .max()
        .unwrap_or(0)
}

/// The effective quarterly probability of `t` at an age (quarters), duration,
/// flag class and phase, multipliers applied.
pub fn effective(t: &Transition, age_q: u16, d: u16, class: u8, phase: usize) -> f64 {
    let mut p = t.prob_at(age_q).at(d);
    for (bit, m) in t.flag_multipliers.iter().enumerate() {
        if class & (1 << bit) != 0 {
            p *= m;
        }
    }
    p * t.phase_multipliers[phase]
}

pub(super) fn check_row_sums(v: &mut Reporter, ts: &[Transition]) {
    for from in State::ALL {
        let rows: Vec<&Transition> = ts.iter().filter(|t| t.from == from).collect();
        if rows.is_empty() {
            continue;
        }
        let n_phase = if from == State::Ressourceforloeb {
            N_PHASES
        } else {
            1
        };
        let max_d = max_boundary(ts, from) + 1;
        // Every age at which some rate of the state changes.
        let mut ages: Vec<u16> = rows
            .iter()
            .flat_map(|t| t.prob.iter().map(|&(lo, _)| lo))
            .collect();
        ages.sort_unstable();
        ages.dedup();
        'found: for (ai, &age) in ages.iter().enumerate() {
            for d in 1..=max_d {
                for class in 0..16u8 {
                    for phase in 0..n_phase {
                        let sum: f64 = rows
                            .iter()
                            .map(|t| effective(t, age, d, class, phase))
                            .sum();
                        if sum > 1.0 + EPS {
                            let who = describe_class(
                                (age, ages.get(ai + 1).copied()),
                                class,
                                if from == State::Ressourceforloeb {
                                    Some(phase)
                                } else {
                                    None
                                },
                            );
                            v.error(
                                &format!("transitions.{}", from.id()),
                                format!("outgoing probabilities from {} sum to {sum:.4} (> 1) for {who} at duration {d}", from.id()),
                            );
                            break 'found;
                        }
                    }
                }
            }
        }
    }
}

/// Persons of an age band (quarters of age, end exclusive), flag class and
/// phase, in words.
pub(super) fn describe_class(ages: (u16, Option<u16>), class: u8, phase: Option<usize>) -> String {
    let age = match ages {
        (0, Some(AGE40_Q)) => "under40".to_string(),
        (AGE40_Q, None) => "over40".to_string(),
        (0, None) => "of every age".to_string(),
        (lo, Some(hi)) => format!("aged {}-{}", lo / 4, hi.div_ceil(4) - 1),
        (lo, None) => format!("aged {}+", lo / 4),
    };
    let mut parts = vec![age];
    for (bit, name) in flag::NAMES.iter().enumerate() {
        if class & (1 << bit) != 0 {
            parts.push((*name).to_string());
        }
    }
    if let Some(p) = phase {
        parts.push(format!("phase {}", Phase::ALL[p].id()));
    }
    format!("persons {}", parts.join(", "))
}
