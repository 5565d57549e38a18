//! The expected side of the frequency check, from the scenario alone: the
//! cells person-quarters are grouped into (state, age group, duration band,
//! the flags and phase the state's rules read, the gates that apply, the
//! decision that falls due), what each person's outcome is read as, and the
//! probability the rules give each outcome in a cell.

use super::*;

/// Per-state facts of the expected side.
#[derive(Debug, Clone, Default)]
pub(super) struct StatePlan {
    /// Duration bands `(first d, last d or open)`, in order from d = 1.
    pub(super) bands: Vec<(u16, Option<u16>)>,
    /// Flags (bits of `flag::CLASS_MASK`) some rule of the state depends on.
    pub(super) flag_mask: u8,
    /// Whether a transition of the state depends on the phase.
    pub(super) phase_matters: bool,
    /// Indices into `Plan::gates` of gates from this state.
    pub(super) gates: Vec<usize>,
    /// Indices into `Plan::assessments` of assessments of this state.
    pub(super) assessments: Vec<usize>,
    /// The duration from which persons here have left the benefit system
    /// for good and leave for `out` with certainty (scenarios/README.md,
    /// "Leaving for good"): a state that is no benefit, has no assessment
    /// and no loop of its own (ressourceforløb, fleksjob, førtidspension),
    /// and from that duration on no transition but to `out` in any age
    /// group, flag class or period. Worked out here from the transitions
    /// alone (gates can only block moves, so they are not needed to find
    /// a state that has none).
    pub(super) settle: Option<u16>,
}

impl StatePlan {
    pub(super) fn band(&self, d: u16) -> u16 {
        // Few bands: a linear scan from the end.
        self.bands.iter().rposition(|&(lo, _)| d >= lo).unwrap_or(0) as u16
    }
}

/// The expected side, from the scenario only.
pub(super) struct Plan<'a> {
    pub(super) sc: &'a Scenario,
    /// Gates and assessments in id order (the order the rules apply in).
    pub(super) gates: Vec<&'a Gate>,
    pub(super) assessments: Vec<&'a Assessment>,
    pub(super) states: Vec<StatePlan>,
    /// Bits over `gates` / `assessments` in force, by simulated quarter.
    pub(super) gate_active: Vec<u64>,
    pub(super) assess_active: Vec<u64>,
    /// The age groups the rules distinguish (cells are per group).
    pub(super) groups: AgeGroups,
}

impl<'a> Plan<'a> {
    pub(super) fn new(sc: &'a Scenario) -> Plan<'a> {
        let mut gates: Vec<&Gate> = sc.gates.iter().collect();
        gates.sort_by(|a, b| a.id.cmp(&b.id));
        let mut assessments: Vec<&Assessment> = sc.assessments.iter().collect();
        assessments.sort_by(|a, b| a.id.cmp(&b.id));
        assert!(gates.len() <= 64 && assessments.len() <= 64);
        let in_force = |active: &dyn Fn(usize, Quarter) -> bool, n: usize| -> Vec<u64> {
            sc.quarters()
                .map(|q| (0..n).filter(|&i| active(i, q)).fold(0, |m, i| m | 1 << i))
                .collect()
        };
        let gate_active = in_force(&|i, q| gates[i].active.contains(q), gates.len());
        let assess_active = in_force(&|i, q| assessments[i].active.contains(q), assessments.len());
        let groups = sc.age_groups();
        let states = State::ALL
            .iter()
            .map(|&st| {
                let ts = || sc.transitions.iter().filter(move |t| t.from == st);
                let g: Vec<usize> = (0..gates.len())
                    .filter(|&i| gates[i].from & (1 << st as u16) != 0)
                    .collect();
                let a: Vec<usize> = (0..assessments.len())
                    .filter(|&i| assessments[i].state == st)
                    .collect();
                // Boundaries: where a transition's band starts, and where a
                // gate's `before_duration` stops blocking.
                let mut cuts: Vec<u16> = ts()
                    .flat_map(|t| t.prob.iter().flat_map(|(_, b)| b.bands.iter().map(|x| x.0)))
                    .chain(g.iter().filter_map(|&i| gates[i].before_duration))
                    .filter(|&b| b > 1)
                    .flat_map(|b| [b - 1, b, b + 1])
                    .chain([1])
                    .collect();
                cuts.sort_unstable();
                cuts.dedup();
                let bands: Vec<(u16, Option<u16>)> = cuts
                    .iter()
                    .enumerate()
                    .map(|(i, &lo)| (lo, cuts.get(i + 1).map(|&n| n - 1)))
                    .collect();
                let mut flag_mask = 0u8;
                for t in ts() {
                    for (bit, &m) in t.flag_multipliers.iter().enumerate() {
                        if m != 1.0 {
                            flag_mask |= 1 << bit;
                        }
                    }
                }
                let when_bits = |w: &When| w.flags.iter().fold(0u8, |m, &(bit, _)| m | bit);
                for &i in &g {
                    flag_mask |= when_bits(&gates[i].when);
                }
                for &i in &a {
                    flag_mask |= when_bits(&assessments[i].when);
                }
                let only_out = |d: u16| {
                    (0..sc.n_periods()).all(|k| {
                        sc.period(k)
                            .transitions
                            .iter()
                            .filter(|t| t.from == st && t.to != State::Out)
                            .all(|t| {
                                (0..groups.len()).all(|g| {
                                    let age_q = groups.representative(g).age_q;
                                    (0..16u8).all(|c| effective(t, age_q, d, c, 0) == 0.0)
                                })
                            })
                    })
                };
                let settles = !sc.is_benefit(st)
                    && st != State::Out
                    && a.is_empty()
                    && !matches!(
                        sc.base(st),
                        State::Ressourceforloeb | State::Fleksjob | State::Foertidspension
                    );
                let settle = if settles {
                    let suffix = bands
                        .iter()
                        .rev()
                        .take_while(|&&(lo, _)| only_out(lo))
                        .count();
                    (suffix > 0).then(|| bands[bands.len() - suffix].0)
                } else {
                    None
                };
                StatePlan {
                    settle,
                    bands,
                    flag_mask: flag_mask & flag::CLASS_MASK,
                    phase_matters: ts().any(|t| t.phase_multipliers.iter().any(|&m| m != 1.0)),
                    gates: g,
                    assessments: a,
                }
            })
            .collect();
        Plan {
            sc,
            gates,
            assessments,
            states,
            gate_active,
            assess_active,
            groups,
        }
    }

    /// Adds quarter `t`'s decisions: `before` is the population as the
    /// step found it, `after` as it left it.
    pub(super) fn observe(&self, tally: &mut Tally, before: &Snapshot, after: &Snapshot, t: u16) {
        let sc = self.sc;
        let t_abs = sc.start.0 + t;
        let ti = usize::from(t);
        let fx = &sc.flex;
        let mut cached_birth = u16::MAX;
        let mut exit = 0u16;
        for i in 0..before.state.len() {
            let s = before.state[i];
            if s == OUT {
                continue;
            }
            let sp = &self.states[usize::from(s)];
            let b = before.birth[i];
            let cls = before.class[i];
            let flags = cls & flag::CLASS_MASK;
            let phase = (cls & flag::PHASE_MASK) >> flag::PHASE_SHIFT;
            let h = before.hours[i];
            let d = t_abs - before.entered[i] + 1;
            if b != cached_birth {
                cached_birth = b;
                exit = b + sc.pension_age_q(Quarter(b));
            }
            let period = sc.period_of(Quarter(t_abs)) as u8;
            let who = Who {
                age_q: t_abs - b,
                to_pension_q: exit.saturating_sub(t_abs),
            };
            let age = self.groups.group(who) as u8;
            // Outcome: a move (a restart in the same state included) or staying.
            let new_s = after.state[i];
            let moved = new_s != s || after.entered[i] != before.entered[i];
            let outcome = if moved { usize::from(new_s) } else { STAY };

            let key = if t_abs + 1 >= exit {
                Key {
                    state: s,
                    pension: true,
                    settle: false,
                    age,
                    band: 0,
                    class: 0,
                    phase: 0,
                    gates: 0,
                    assess: 0,
                    period,
                }
            } else {
                let mut gates = 0u64;
                for &gi in &sp.gates {
                    let g = self.gates[gi];
                    if self.gate_active[ti] & (1 << gi) != 0
                        && matches(&g.when, who, flags, None)
                        && g.before_duration.is_none_or(|bd| d < bd)
                    {
                        gates |= 1 << gi;
                    }
                }
                let mut assess = 0u64;
                for &ai in &sp.assessments {
                    let a = self.assessments[ai];
                    let clock = match a.clock {
                        Clock::InState => Some(d),
                        // Quarters ever in ressourceforløb, this one included,
                        // up to 127; a clock that has reached 127 no longer
                        // counts (section 8, and the validator keeps `at`
                        // below 127).
                        Clock::Cumulative => {
                            let c = u16::from(before.rf_total[i] & RF_COUNT) + 1;
                            (c < u16::from(RF_COUNT)).then_some(c)
                        }
                    };
                    if self.assess_active[ti] & (1 << ai) != 0
                        && clock.is_some_and(|c| falls_due(c, a.at, a.every))
                        && matches(&a.when, who, flags, Some(h))
                    {
                        assess |= 1 << ai;
                    }
                }
                Key {
                    state: s,
                    pension: false,
                    settle: sp.settle.is_some_and(|from| d >= from),
                    age,
                    band: sp.band(d),
                    class: flags & sp.flag_mask,
                    phase: if sp.phase_matters { phase } else { 0 },
                    gates,
                    assess,
                    period,
                }
            };
            tally.moves.entry(key).or_insert([0; N_STATES + 1])[outcome] += 1;

            // Phases, hours, flags: a person in `out` holds no record.
            if new_s == OUT {
                continue;
            }
            let new_cls = after.class[i];
            let new_phase = (new_cls & flag::PHASE_MASK) >> flag::PHASE_SHIFT;
            if usize::from(new_s) == RF {
                if moved {
                    tally.entry[usize::from(new_phase).min(N_PHASES - 1)] += 1;
                } else {
                    tally.phase[usize::from(phase)][usize::from(new_phase).min(N_PHASES - 1)] += 1;
                }
            } else if !matches!(
                self.sc.base(State::from_index(usize::from(new_s))),
                State::Fleksjob | State::Foertidspension
            ) {
                // Bits 4-7 hold per-state marks only in ressourceforløb
                // (phase, intervention), fleksjob (T6) and førtidspension
                // (pre-2014); elsewhere they are clear.
                tally.marks_outside[usize::from(new_cls & flag::SCRATCH != 0)] += 1;
            }
            // The four attribute flags never change.
            tally.flags_fixed[usize::from((new_cls ^ cls) & flag::CLASS_MASK != 0)] += 1;
            let new_h = after.hours[i];
            let eligible = !moved
                && self.sc.base(State::from_index(usize::from(s))) == State::Fleksjob
                && d >= fx.raise_after_quarters
                && h <= fx.raise_eligible_max_hours
                && h < fx.max_hours;
            if eligible {
                let raised = h.saturating_add(fx.raise_step_hours).min(fx.max_hours);
                tally.raise[if new_h == h {
                    1
                } else if new_h == raised {
                    0
                } else {
                    2
                }] += 1;
            } else {
                tally.hours_fixed[usize::from(new_h != h)] += 1;
            }
        }
    }

    /// Outcome probabilities of a move cell (by state index, then `STAY`).
    pub(super) fn expected(&self, k: &Key) -> [f64; N_STATES + 1] {
        let mut p = [0.0; N_STATES + 1];
        if k.pension || k.settle {
            p[OUT as usize] = 1.0;
            return p;
        }
        let st = State::from_index(usize::from(k.state));
        let sp = &self.states[usize::from(k.state)];
        let d = sp.bands[usize::from(k.band)].0;
        // Every rate is the same throughout an age group (its bands are
        // among the group cuts), so the group's youngest stands for it.
        let age_q = self.groups.representative(usize::from(k.age)).age_q;
        let mut row = [0.0; N_STATES];
        let sc = self.sc.period(usize::from(k.period));
        for t in sc.transitions.iter().filter(|t| t.from == st) {
            row[t.to as usize] += effective(t, age_q, d, k.class, usize::from(k.phase));
        }
        for (gi, g) in self.gates.iter().enumerate() {
            if k.gates & (1 << gi) == 0 {
                continue;
            }
            // Blocked probability goes to the redirect, or becomes staying;
            // the redirect is never blocked by its own gate (validated), but
            // a later gate may block it.
            let mut moved = 0.0;
            for (to, x) in row.iter_mut().enumerate() {
                if g.to & (1 << to) != 0 {
                    moved += std::mem::take(x);
                }
            }
            if let Some(r) = g.redirect
                && r != st
            {
                row[r as usize] += moved;
            }
        }
        let mut rest = 1.0;
        for (ai, a) in self.assessments.iter().enumerate() {
            if k.assess & (1 << ai) == 0 {
                continue;
            }
            let mut total = 0.0;
            for &(to, share) in &a.route {
                p[to as usize] += rest * share;
                total += share;
            }
            rest *= (1.0 - total).max(0.0);
        }
        for (x, y) in p.iter_mut().zip(row) {
            *x += rest * y;
        }
        let moving: f64 = p[..N_STATES].iter().sum();
        p[STAY] = (1.0 - moving).max(0.0);
        p
    }

    pub(super) fn label(&self, k: &Key) -> CellLabel {
        let sp = &self.states[usize::from(k.state)];
        let names = |mask: u64, ids: &mut dyn Iterator<Item = &str>| -> String {
            let v: Vec<&str> = ids
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, id)| id)
                .collect();
            if v.is_empty() {
                "-".into()
            } else {
                v.join("+")
            }
        };
        let dash = || String::from("-");
        CellLabel {
            decision: Decision::Move,
            state: self
                .sc
                .state_id(State::from_index(usize::from(k.state)))
                .into(),
            age_group: self.groups.label(usize::from(k.age)),
            duration: if k.pension {
                dash()
            } else {
                match sp.bands[usize::from(k.band)] {
                    (lo, None) => format!("{lo}+"),
                    (lo, Some(hi)) if lo == hi => format!("{lo}"),
                    (lo, Some(hi)) => format!("{lo}-{hi}"),
                }
            },
            class: if k.pension || sp.flag_mask == 0 {
                dash()
            } else if k.class == 0 {
                "none".into()
            } else {
                names(u64::from(k.class), &mut flag::NAMES.iter().copied())
            },
            phase: if !k.pension && sp.phase_matters {
                Phase::ALL[usize::from(k.phase)].id().into()
            } else {
                dash()
            },
            gates: {
                let g = names(k.gates, &mut self.gates.iter().map(|g| g.id.as_str()));
                match k.period {
                    0 => g,
                    p => format!(
                        "{g} (numbers from {})",
                        self.sc.timeline[usize::from(p) - 1].0
                    ),
                }
            },
            forced: if k.pension {
                "pension_age".into()
            } else if k.settle {
                "left_for_good".into()
            } else {
                names(
                    k.assess,
                    &mut self.assessments.iter().map(|a| a.id.as_str()),
                )
            },
        }
    }
}

/// Whether a person matches a `when` (hours only for assessments).
pub(super) fn matches(w: &When, who: Who, flags: u8, hours: Option<u8>) -> bool {
    if w.age.is_some_and(|a| !a.contains(who.age_q)) {
        return false;
    }
    if w.within_pension_q.is_some_and(|q| who.to_pension_q > q) {
        return false;
    }
    if w.flags.iter().any(|&(bit, v)| (flags & bit != 0) != v) {
        return false;
    }
    match hours {
        Some(h) => w.min_hours.is_none_or(|m| h >= m) && w.max_hours.is_none_or(|m| h <= m),
        None => true,
    }
}

/// An assessment at `at`, repeated every `every` quarters, falls due at `clock`.
pub(super) fn falls_due(clock: u16, at: u16, every: u16) -> bool {
    clock == at || (every > 0 && clock > at && (clock - at).is_multiple_of(every))
}
