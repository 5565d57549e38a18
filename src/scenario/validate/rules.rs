//! `[gates]` and `[assessments]`: the conditions (`when`), the quarters in
//! force, the blocked targets and redirects, the routes.

use super::*;

pub(super) fn when(
    v: &mut Reporter,
    path: &str,
    w: &RawWhen,
    allow_hours: bool,
    age_line_q: u16,
) -> When {
    let age = w.age.as_deref().and_then(|a| {
        let band = match a {
            "under40" => Some(AgeBand { lo: 0, hi: Some(AGE40_Q - 1) }),
            "over40" => Some(AgeBand { lo: AGE40_Q, hi: None }),
            "under_line" => Some(AgeBand { lo: 0, hi: Some(age_line_q - 1) }),
            "over_line" => Some(AgeBand { lo: age_line_q, hi: None }),
            band => age_band(band),
        };
        if band.is_none() {
            v.error(
                &format!("{path}.age"),
                format!("age {a:?} must be \"under40\", \"over40\", \"under_line\", \"over_line\" (the scenario's `age_line`) or a band in years such as \"30-39\" or \"60+\""),
            );
        }
        band
    });
    let within_pension_q = w
        .within_years_of_pension
        .map(|y| 4 * int_in(v, &format!("{path}.within_years_of_pension"), y, 0, 50) as u16);
    let mut flags = Vec::new();
    for (i, f) in [w.psychiatric, w.insured, w.evident, w.retention]
        .into_iter()
        .enumerate()
    {
        if let Some(b) = f {
            flags.push((1u8 << i, b));
        }
    }
    let mut hours = |key: &str, h: Option<i64>| {
        h.map(|h| {
            if !allow_hours {
                v.key_error(
                    &format!("{path}.{key}"),
                    "gates cannot depend on hours; use an assessment",
                    None,
                );
            }
            int_in(v, &format!("{path}.{key}"), h, 0, 37) as u8
        })
    };
    let min_hours = hours("min_hours", w.min_hours);
    let max_hours = hours("max_hours", w.max_hours);
    When {
        age,
        within_pension_q,
        flags,
        min_hours,
        max_hours,
    }
}

pub(super) fn active(
    v: &mut Reporter,
    path: &str,
    from: &Option<String>,
    until: &Option<String>,
) -> Active {
    let active = active_quarters(v, path, from, until);
    if let (Some(f), Some(u)) = (active.from, active.until)
        && u < f
    {
        v.error(
            &format!("{path}.active_until"),
            format!("active_until {u} is before active_from {f}: `{path}` would never be in force"),
        );
    }
    active
}

pub(super) fn active_quarters(
    v: &mut Reporter,
    path: &str,
    from: &Option<String>,
    until: &Option<String>,
) -> Active {
    Active {
        from: from
            .as_ref()
            .and_then(|q| quarter(v, &format!("{path}.active_from"), q)),
        until: until
            .as_ref()
            .and_then(|q| quarter(v, &format!("{path}.active_until"), q)),
    }
}

pub(super) fn state_mask(v: &mut Reporter, path: &str, names: &[String], allow_out: bool) -> u16 {
    let mut mask = 0u16;
    for (i, n) in names.iter().enumerate() {
        if let Some(s) = state(v, &format!("{path}[{i}]"), n, allow_out) {
            mask |= 1 << s as u16;
        }
    }
    mask
}

pub(super) fn gates(
    v: &mut Reporter,
    table: &BTreeMap<String, raw::RawGate>,
    age_line_q: u16,
) -> Vec<Gate> {
    let mut out = Vec::new();
    for (id, g) in table {
        let p = format!("gates.{id}");
        let from = match &g.from {
            Some(names) => state_mask(v, &format!("{p}.from"), names, false),
            None => (1 << N_STATES) - 1,
        };
        let to = state_mask(v, &format!("{p}.to"), &g.to, true);
        if g.to.is_empty() {
            v.error(
                &format!("{p}.to"),
                "a gate must block at least one target state",
            );
        }
        let redirect = g
            .redirect
            .as_ref()
            .and_then(|r| state(v, &format!("{p}.redirect"), r, true));
        if let Some(r) = redirect
            && to & (1 << r as u16) != 0
        {
            v.error(
                &format!("{p}.redirect"),
                "a gate cannot redirect to a state it blocks",
            );
        }
        let before_duration = g
            .before_duration
            .map(|d| int_in(v, &format!("{p}.before_duration"), d, 1, 400) as u16);
        let gate = Gate {
            id: id.clone(),
            from,
            to,
            when: when(v, &format!("{p}.when"), &g.when, false, age_line_q),
            before_duration,
            redirect,
            active: active(v, &p, &g.active_from, &g.active_until),
        };
        // A disabled gate is still checked in full, so a typo in it is not silent.
        if g.enabled {
            out.push(gate);
        }
    }
    out
}

pub(super) fn assessments(
    v: &mut Reporter,
    table: &BTreeMap<String, raw::RawAssessment>,
    age_line_q: u16,
) -> Vec<Assessment> {
    let mut out = Vec::new();
    for (id, a) in table {
        let p = format!("assessments.{id}");
        let Some(st) = state(v, &format!("{p}.state"), &a.state, false) else {
            continue;
        };
        let clock = match a.clock.as_deref() {
            None | Some("in_state") => Clock::InState,
            Some("cumulative") if st == State::Ressourceforloeb => Clock::Cumulative,
            Some("cumulative") => {
                v.error(
                    &format!("{p}.clock"),
                    "a cumulative clock is kept only for ressourceforloeb",
                );
                Clock::InState
            }
            Some(other) => {
                v.error(
                    &format!("{p}.clock"),
                    format!("clock {other:?} must be \"in_state\" or \"cumulative\""),
                );
                Clock::InState
            }
        };
        let mut route = Vec::new();
        let mut total = 0.0;
        for (to, &x) in &a.route {
            let rp = format!("{p}.route.{to}");
            if let Some(t) = state(v, &rp, to, true) {
                let x = probability(v, &rp, x);
                total += x;
                route.push((t, x));
            }
        }
        if total > 1.0 + EPS {
            v.error(
                &format!("{p}.route"),
                format!("routing shares sum to {total} (> 1)"),
            );
        }
        if clock == Clock::Cumulative && a.at >= i64::from(RF_CLOCK_LIMIT) {
            let max = RF_CLOCK_LIMIT - 1;
            v.error(&format!("{p}.at"), format!("the cumulative ressourceforløb clock counts to {max} quarters; `at` must be below that"));
        }
        let assessment = Assessment {
            id: id.clone(),
            state: st,
            at: int_in(v, &format!("{p}.at"), a.at, 1, 400) as u16,
            every: int_in(v, &format!("{p}.every"), a.every, 0, 400) as u16,
            clock,
            when: when(v, &format!("{p}.when"), &a.when, true, age_line_q),
            route,
            active: active(v, &p, &a.active_from, &a.active_until),
        };
        // A disabled assessment is still checked in full.
        if a.enabled {
            out.push(assessment);
        }
    }
    out
}
