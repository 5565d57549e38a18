//! The validated scenario: names resolved to indices, probabilities checked,
//! annual rates converted to quarterly ones.
//!
//! **Invariant:** every probability in a [`Scenario`] is in `[0, 1]`, every
//! band table covers durations `1..` without gap or overlap, every share
//! table sums to 1, and no state's outgoing probabilities (after attribute
//! and phase multipliers) sum to more than 1. The kernel relies on this and
//! does not check again.

use crate::scenario::calendar::Quarter;

/// Number of named states, `out` included.
pub const N_NAMED: usize = 11;
/// Number of state slots a scenario may fill with variants of named states
/// (`[variants]`); unused slots hold nobody and appear in no output.
pub const N_VARIANTS: usize = 4;
/// Number of state slots: the named states, then the variant slots.
pub const N_STATES: usize = N_NAMED + N_VARIANTS;
/// Number of ressourceforløb phases.
pub const N_PHASES: usize = 5;
/// Number of person attribute flags that transitions may depend on.
pub const N_FLAGS: usize = 4;
/// Age (in quarters) at which a person leaves the `under40` group.
pub const AGE40_Q: u16 = 160;
/// Most quarters the cumulative ressourceforløb clock counts (it saturates
/// there): a cumulative assessment must fall due before it.
pub const RF_CLOCK_LIMIT: u8 = 0x7f;
/// Most forced assessments a scenario may have (each has a random stream of
/// its own).
pub const MAX_ASSESSMENTS: usize = 40;

/// A state a person occupies during a quarter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum State {
    Kontanthjaelp = 0,
    Sygedagpenge = 1,
    Ressourceforloeb = 2,
    Revalidering = 3,
    Fleksjob = 4,
    Ledighedsydelse = 5,
    Foertidspension = 6,
    Employed = 7,
    Education = 8,
    SelfSupporting = 9,
    Out = 10,
    /// The variant slots, filled in the order of the variants' ids.
    Variant1 = 11,
    Variant2 = 12,
    Variant3 = 13,
    Variant4 = 14,
}

impl State {
    pub const ALL: [State; N_STATES] = [
        State::Kontanthjaelp,
        State::Sygedagpenge,
        State::Ressourceforloeb,
        State::Revalidering,
        State::Fleksjob,
        State::Ledighedsydelse,
        State::Foertidspension,
        State::Employed,
        State::Education,
        State::SelfSupporting,
        State::Out,
        State::Variant1,
        State::Variant2,
        State::Variant3,
        State::Variant4,
    ];

    /// The named states (a variant slot's name comes from its scenario, see
    /// [`Scenario::state_id`]).
    pub const NAMED: [State; N_NAMED] = {
        let mut a = [State::Out; N_NAMED];
        let mut i = 0;
        while i < N_NAMED {
            a[i] = State::ALL[i];
            i += 1;
        }
        a
    };

    /// The ASCII id used in scenario and output files; for a variant slot a
    /// placeholder (`variant1`..), never written: outputs name it by
    /// [`Scenario::state_id`].
    pub fn id(self) -> &'static str {
        match self {
            State::Kontanthjaelp => "kontanthjaelp",
            State::Sygedagpenge => "sygedagpenge",
            State::Ressourceforloeb => "ressourceforloeb",
            State::Revalidering => "revalidering",
            State::Fleksjob => "fleksjob",
            State::Ledighedsydelse => "ledighedsydelse",
            State::Foertidspension => "foertidspension",
            State::Employed => "employed",
            State::Education => "education",
            State::SelfSupporting => "self_supporting",
            State::Out => "out",
            State::Variant1 => "variant1",
            State::Variant2 => "variant2",
            State::Variant3 => "variant3",
            State::Variant4 => "variant4",
        }
    }

    /// The named state with this id (variants are looked up in the scenario).
    pub fn from_id(id: &str) -> Option<State> {
        State::NAMED.into_iter().find(|s| s.id() == id)
    }

    /// Whether this is a variant slot rather than a named state.
    pub fn is_variant(self) -> bool {
        self as usize >= N_NAMED
    }

    pub fn from_index(i: usize) -> State {
        State::ALL[i]
    }

    /// Whether a quarter in this named state is a quarter on a public
    /// benefit that counts for the refusion clock (a variant: see
    /// [`Scenario::base`]).
    pub fn is_benefit(self) -> bool {
        (self as u8) <= State::Foertidspension as u8
    }

    /// The cost item paid in this named state, if any (a variant's item is
    /// its own id).
    pub fn benefit_item(self) -> Option<&'static str> {
        Some(match self {
            State::Kontanthjaelp => "kontanthjaelp",
            State::Sygedagpenge => "sygedagpenge",
            State::Ressourceforloeb => "ressourceforloebsydelse",
            State::Revalidering => "revalideringsydelse",
            State::Fleksjob => "fleksloentilskud",
            State::Ledighedsydelse => "ledighedsydelse",
            State::Foertidspension => "foertidspension",
            _ => return None,
        })
    }
}

/// The inner phase of a ressourceforløb.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Phase {
    /// Case prepared, waiting for the rehabilitation team meeting.
    WaitingTeam = 0,
    /// Plan made, waiting for the first intervention.
    WaitingIntervention = 1,
    /// Programme running without an active intervention this quarter.
    Passive = 2,
    /// Active intervention (not company-oriented).
    Active = 3,
    /// Company-oriented measure or ordinary hours.
    Company = 4,
}

impl Phase {
    pub const ALL: [Phase; N_PHASES] = [
        Phase::WaitingTeam,
        Phase::WaitingIntervention,
        Phase::Passive,
        Phase::Active,
        Phase::Company,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Phase::WaitingTeam => "waiting_team",
            Phase::WaitingIntervention => "waiting_intervention",
            Phase::Passive => "passive",
            Phase::Active => "active",
            Phase::Company => "company",
        }
    }

    pub fn from_id(id: &str) -> Option<Phase> {
        Phase::ALL.into_iter().find(|p| p.id() == id)
    }
}

/// Bits of the population's `class` byte: four attribute flags that
/// transitions may depend on (bits 0-3), the ressourceforløb phase (bits
/// 4-6) and the pre-2014 førtidspension mark (bit 7), with bits 4-7 reused
/// by other states (see [`flag::SCRATCH`]). In ressourceforløb `class &
/// ROW_MASK` is the row class of the compiled transition tables; in other
/// states `class & CLASS_MASK`.
pub mod flag {
    pub const PSYCHIATRIC: u8 = 1;
    pub const INSURED: u8 = 2;
    pub const EVIDENT: u8 = 4;
    pub const RETENTION: u8 = 8;
    /// Mask of the flags transitions may depend on.
    pub const CLASS_MASK: u8 = 15;
    /// Shift and mask of the ressourceforløb phase.
    pub const PHASE_SHIFT: u8 = 4;
    pub const PHASE_MASK: u8 = 0x70;
    /// Flags and phase: the row class in ressourceforløb.
    pub const ROW_MASK: u8 = 0x7f;
    /// Førtidspension awarded before 1 July 2014 (costing only).
    pub const PRE2014: u8 = 0x80;
    /// Bits 4-7 mean different things by state (the phase and [`PRE2014`]
    /// above, and the marks below); a move clears them all and sets the
    /// new state's entry bits, and rows are indexed with a per-state mask.
    pub const SCRATCH: u8 = 0xf0;
    /// In ressourceforløb: an intervention (active or company-oriented
    /// phase) so far in the first year of this programme (T9).
    pub const INTERVENED: u8 = 0x80;
    /// In fleksjob: entered this flex job, within the simulation, with
    /// minifleksjob hours (T6).
    pub const MINI_ENTRY: u8 = 0x10;
    /// In fleksjob: hours raised since entering this flex job (T6).
    pub const RAISED: u8 = 0x20;
    /// Names in the order of the bits above.
    pub const NAMES: [&str; 4] = ["psychiatric", "insured", "evident", "retention"];
}

/// A band of ages in quarters: `lo..=hi`, open-ended when `hi` is `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgeBand {
    pub lo: u16,
    pub hi: Option<u16>,
}

impl AgeBand {
    pub fn contains(&self, age_q: u16) -> bool {
        age_q >= self.lo && self.hi.is_none_or(|h| age_q <= h)
    }
}

/// Where a person stands in age this quarter: age and quarters until
/// their own folkepension age (`0` once reached).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Who {
    pub age_q: u16,
    pub to_pension_q: u16,
}

/// Most age groups money is counted in (the bands of rates by age, with the
/// reporting line at 40 always among the cuts): the occupancy counters hold
/// this many per state.
pub const MAX_COST_AGES: usize = 4;

/// Most age groups (age bands times distances to folkepension age) the
/// rules of one scenario may distinguish: every transition row exists once
/// per group.
pub const MAX_AGE_GROUPS: usize = 32;

/// The age groups the rules of a scenario distinguish: the age cuts of
/// every rate table and condition (40 years always among them, the
/// reporting line of the outputs) and the distances to folkepension age
/// that conditions name. Within a group every rule treats every person
/// alike, so the engine keeps one transition row per group, and verify
/// groups person-quarters by it. Group `g` is `(age band g / n_pension,
/// pension band g % n_pension)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgeGroups {
    /// First quarter of age of each age band after the first, ascending.
    pub age_cuts: Vec<u16>,
    /// Pension band `k` (k >= 1) holds persons with more than
    /// `pension_cuts[k - 1]` quarters to folkepension age; ascending.
    pub pension_cuts: Vec<u16>,
}

impl AgeGroups {
    pub fn len(&self) -> usize {
        (self.age_cuts.len() + 1) * (self.pension_cuts.len() + 1)
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    /// The group of a person.
    pub fn group(&self, who: Who) -> usize {
        let a = self.age_cuts.partition_point(|&c| c <= who.age_q);
        let p = self.pension_cuts.partition_point(|&c| c < who.to_pension_q);
        a * (self.pension_cuts.len() + 1) + p
    }

    /// A person of group `g` (the youngest, closest to folkepension age):
    /// every rule treats all of the group as it treats this one.
    pub fn representative(&self, g: usize) -> Who {
        let np = self.pension_cuts.len() + 1;
        let (a, p) = (g / np, g % np);
        Who {
            age_q: if a == 0 { 0 } else { self.age_cuts[a - 1] },
            to_pension_q: if p == 0 {
                0
            } else {
                self.pension_cuts[p - 1] + 1
            },
        }
    }

    /// Whether group `g` is 40 or over (the outputs' reporting line).
    pub fn over40(&self, g: usize) -> bool {
        self.representative(g).age_q >= AGE40_Q
    }

    /// A label for group `g`, e.g. `30-39`, `60+, 0-6 years to folkepension`,
    /// or `under40` / `over40` for exactly those bands.
    pub fn label(&self, g: usize) -> String {
        let np = self.pension_cuts.len() + 1;
        let (a, p) = (g / np, g % np);
        let lo = if a == 0 { 0 } else { self.age_cuts[a - 1] };
        let years = |q: u16| {
            if q.is_multiple_of(4) {
                format!("{}", q / 4)
            } else {
                format!("{:.2}", f64::from(q) / 4.0)
            }
        };
        let mut s = match (lo, self.age_cuts.get(a)) {
            (0, Some(&AGE40_Q)) => "under40".to_string(),
            (AGE40_Q, None) => "over40".to_string(),
            (_, Some(&hi)) if hi.is_multiple_of(4) => format!("{}-{}", years(lo), hi / 4 - 1),
            (_, Some(&hi)) => format!("{}-{}", years(lo), years(hi - 1)),
            (_, None) => format!("{}+", years(lo)),
        };
        if np > 1 {
            let lo = if p == 0 {
                0
            } else {
                self.pension_cuts[p - 1] + 1
            };
            match self.pension_cuts.get(p) {
                Some(&hi) => s += &format!(", {}-{} years to folkepension", years(lo), years(hi)),
                None => s += &format!(", over {} years to folkepension", years(lo - 1)),
            }
        }
        s
    }
}

/// An inclusive integer range with a share (age in years, hours a week,
/// duration in quarters).
#[derive(Debug, Clone, PartialEq)]
pub struct Share {
    pub lo: u16,
    pub hi: u16,
    pub share: f64,
}

/// How a group of persons is made: stock or quarterly inflow.
#[derive(Debug, Clone, PartialEq)]
pub struct Cohort {
    pub state: State,
    /// Persons (stock) or persons per quarter (inflow), at full scale.
    pub count: f64,
    pub age_years: Vec<Share>,
    /// Quarters already completed in the state (stock only; inflow: 0).
    pub duration: Vec<Share>,
    pub hours: Vec<Share>,
    /// Share with each flag in [`flag`] order, then `pre2014`.
    pub flag_shares: [f64; 5],
    pub phase: [f64; N_PHASES],
}

/// A probability that depends on the decision duration `d` (quarters
/// completed in the state, 1 at the end of the first quarter).
#[derive(Debug, Clone, PartialEq)]
pub struct Banded {
    /// `(first d, last d or None for open-ended, quarterly probability)`,
    /// sorted, contiguous from 1.
    pub bands: Vec<(u16, Option<u16>, f64)>,
}

impl Banded {
    pub fn flat(p: f64) -> Banded {
        Banded {
            bands: vec![(1, None, p)],
        }
    }

    /// The probability at decision duration `d >= 1`.
    pub fn at(&self, d: u16) -> f64 {
        for &(lo, hi, p) in &self.bands {
            if d >= lo && hi.is_none_or(|h| d <= h) {
                return p;
            }
        }
        0.0
    }

    /// The last duration at which the value still changes (0 if flat).
    pub fn last_boundary(&self) -> u16 {
        self.bands.last().map_or(0, |b| b.0.saturating_sub(1))
    }
}

/// One `from -> to` transition.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub from: State,
    pub to: State,
    /// Quarterly probability by age: `(first quarter of age, probability)`,
    /// ascending from age 0 (the first band also covers younger persons).
    pub prob: Vec<(u16, Banded)>,
    pub flag_multipliers: [f64; N_FLAGS],
    pub phase_multipliers: [f64; N_PHASES],
}

impl Transition {
    /// The probability (by duration) for a person `age_q` quarters old.
    pub fn prob_at(&self, age_q: u16) -> &Banded {
        let i = self.prob.partition_point(|&(lo, _)| lo <= age_q);
        &self.prob[i.saturating_sub(1)].1
    }
}

/// Conditions on a person; `None` matches anyone.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct When {
    pub age: Option<AgeBand>,
    /// At most this many quarters to folkepension age.
    pub within_pension_q: Option<u16>,
    /// `(flag bit, required value)`.
    pub flags: Vec<(u8, bool)>,
    pub min_hours: Option<u8>,
    pub max_hours: Option<u8>,
}

impl When {
    /// Whether a person of this age, distance to folkepension age and flag
    /// class matches (hours are checked apart, by assessments).
    pub fn matches(&self, who: Who, class: u8) -> bool {
        self.age.is_none_or(|a| a.contains(who.age_q))
            && self.within_pension_q.is_none_or(|w| who.to_pension_q <= w)
            && self.flags.iter().all(|&(bit, v)| (class & bit != 0) == v)
    }
}

/// Calendar quarters in which a rule is in force.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Active {
    pub from: Option<Quarter>,
    pub until: Option<Quarter>,
}

impl Active {
    pub fn contains(&self, q: Quarter) -> bool {
        self.from.is_none_or(|f| q >= f) && self.until.is_none_or(|u| q <= u)
    }
}

/// Forbids `from -> to` for the persons it matches.
#[derive(Debug, Clone, PartialEq)]
pub struct Gate {
    pub id: String,
    /// Bit per state.
    pub from: u16,
    pub to: u16,
    pub when: When,
    pub before_duration: Option<u16>,
    pub redirect: Option<State>,
    pub active: Active,
}

/// Which duration an assessment counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    InState,
    /// Total quarters ever spent in ressourceforløb.
    Cumulative,
}

/// A forced assessment at a duration, with routing shares.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    pub id: String,
    pub state: State,
    pub at: u16,
    pub every: u16,
    pub clock: Clock,
    pub when: When,
    pub route: Vec<(State, f64)>,
    pub active: Active,
}

impl Assessment {}

/// An assessment at `at`, repeated every `every` quarters (0: once), falls
/// due at clock value `d`.
#[inline]
pub fn due(d: u16, at: u16, every: u16) -> bool {
    d == at || (every > 0 && d > at && (d - at).is_multiple_of(every))
}

/// Flex-job hours and their progression.
#[derive(Debug, Clone, PartialEq)]
pub struct FlexHours {
    pub minifleks_max_hours: u8,
    pub raise_probability: f64,
    pub raise_eligible_max_hours: u8,
    pub raise_after_quarters: u16,
    pub raise_step_hours: u8,
    pub max_hours: u8,
}

/// Money: benefit rates, the flex-job subsidy formula and who pays.
#[derive(Debug, Clone, PartialEq)]
pub struct Costs {
    pub discount_rate: f64,
    /// DKK per month by state (0 where the state pays nothing); for a
    /// state with rates by age, the rate of its youngest band.
    pub monthly: [f64; N_STATES],
    /// Rates by age: `(state, [(first quarter of age, DKK per month)])`,
    /// bands ascending from age 0 (the first also covers younger persons).
    pub monthly_ages: Vec<(State, Vec<(u16, f64)>)>,
    pub flex_max: f64,
    pub flex_threshold: f64,
    pub flex_rate_below: f64,
    pub flex_rate_above: f64,
    pub hourly_wage: f64,
    pub weeks_per_month: f64,
    pub insurance_payment: f64,
    pub insurance_offset: f64,
    /// State share by quarter on benefit, 1st..4th and 5th+.
    pub state_share: [f64; 5],
    pub reset_after_quarters: u8,
    pub fp_pre2014_state_share: f64,
    /// Fixed state share of post-2014 førtidspension (None: refusion steps).
    pub fp_state_share: Option<f64>,
    /// Fixed state share of a variant's benefit, by slot from
    /// [`State::Variant1`] (None: financed as its base state).
    pub variant_state_share: [Option<f64>; N_VARIANTS],
    pub services: Services,
}

/// Public service costs besides benefits (DKK; see `raw::RawServices`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Services {
    pub intervention_active: f64,
    pub intervention_company: f64,
    pub rehab_team_per_case: f64,
    pub caseworker_salary: f64,
    pub caseworker_caseload: f64,
    pub revalidering_education: f64,
    pub revalidering_education_state_share: f64,
}

/// A variant of a named state (`[variants.<id>]`): a state slot of its own
/// that behaves like `of` in the loop and is paid, financed, counted and
/// reported apart (scenarios/README.md, section on variants).
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    pub id: String,
    pub of: State,
    pub description: String,
    /// Its slot (`Variant1`..), in the order of the ids.
    pub slot: State,
}

/// A validated scenario, ready to compile into kernel tables.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub schema_version: u32,
    pub start: Quarter,
    pub horizon: u16,
    pub price_year: i32,
    /// The reform's age line in quarters of age (`under_line` / `over_line`).
    pub age_line_q: u16,
    pub stock: Vec<Cohort>,
    pub inflow: Vec<Cohort>,
    /// `(first birth quarter, folkepension age in quarters)`, sorted.
    pub pension_age: Vec<(Quarter, u16)>,
    pub transitions: Vec<Transition>,
    pub entry_phase: Phase,
    /// Quarterly phase transition probabilities `[from][to]` (diagonal unused).
    pub phase_matrix: [[f64; N_PHASES]; N_PHASES],
    pub flex: FlexHours,
    pub gates: Vec<Gate>,
    pub assessments: Vec<Assessment>,
    pub costs: Costs,
    /// Variants of named states, by slot.
    pub variants: Vec<Variant>,
    /// Uncertain parameters, sorted by id. They change nothing in a run;
    /// `sensitivity`, `uncertainty` and `solve` read them.
    pub uncertain: Vec<Uncertain>,
    /// FNV-1a hash of the merged document, hex.
    pub hash: String,
    /// Rate level by year (`[prices.index]`), ascending; empty if not given.
    pub price_index: Vec<(i32, f64)>,
    /// Dated changes (`[[schedule]]`), as written; already applied below.
    pub schedule: Vec<Scheduled>,
    /// The scenario's numbers from each quarter after the start at which a
    /// dated change moves them, in order (empty: nothing is dated). `self`
    /// holds the numbers in force at the start.
    pub timeline: Vec<(Quarter, Scenario)>,
}

/// How a dated change changes its number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ScheduleOp {
    Factor(f64),
    Add(f64),
    Value(f64),
}

/// A dated change of the numbers at `path` (a number, or every number of a
/// table): in full from `from`, or phased in over equal steps from `from`
/// to `until` inclusive.
#[derive(Debug, Clone, PartialEq)]
pub struct Scheduled {
    pub path: String,
    pub op: ScheduleOp,
    pub from: Quarter,
    pub until: Option<Quarter>,
}

impl Scheduled {
    /// The share of the change in force in quarter `q`: 0 before `from`,
    /// `k / n` in the `k`-th of the `n` quarters `from..=until`, 1 after.
    pub fn weight(&self, q: Quarter) -> f64 {
        if q < self.from {
            return 0.0;
        }
        match self.until {
            None => 1.0,
            Some(u) => {
                let n = f64::from(u.0 - self.from.0 + 1);
                (f64::from(q.0 - self.from.0 + 1) / n).min(1.0)
            }
        }
    }

    /// A number `v` with the share `w` of this change applied.
    pub fn apply(&self, v: f64, w: f64) -> f64 {
        match self.op {
            ScheduleOp::Factor(f) => v * (1.0 + w * (f - 1.0)),
            ScheduleOp::Add(a) => v + w * a,
            ScheduleOp::Value(x) => v + w * (x - v),
        }
    }
}

/// The shape of a parameter's uncertainty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dist {
    Uniform,
    Triangular,
    Normal,
    LogNormal,
    Beta,
    Gamma,
}

impl Dist {
    pub const ALL: [Dist; 6] = [
        Dist::Triangular,
        Dist::Uniform,
        Dist::Normal,
        Dist::LogNormal,
        Dist::Beta,
        Dist::Gamma,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Dist::Uniform => "uniform",
            Dist::Triangular => "triangular",
            Dist::Normal => "normal",
            Dist::LogNormal => "lognormal",
            Dist::Beta => "beta",
            Dist::Gamma => "gamma",
        }
    }
}

/// One uncertain parameter. `low` and `high` are the one-way sensitivity
/// values; the distribution is fitted to them as scenarios/README.md says.
#[derive(Debug, Clone, PartialEq)]
pub struct Uncertain {
    pub id: String,
    pub path: String,
    /// The value in the scenario.
    pub central: f64,
    pub low: f64,
    pub high: f64,
    pub dist: Dist,
    /// Truncation bounds (`-inf`, `inf` when not given).
    pub min: f64,
    pub max: f64,
    pub why: String,
}

impl Uncertain {
    /// Spread of the unbounded distributions: `(high - low) / 3.92`, so that
    /// `low`..`high` is about a 95 % interval.
    pub fn sd(&self) -> f64 {
        (self.high - self.low) / (2.0 * 1.959_963_984_540_054)
    }

    /// The `p`-quantile of the (truncated) distribution, `p` in [0, 1].
    pub fn quantile(&self, p: f64) -> f64 {
        use statrs::distribution::{
            Beta, ContinuousCDF, Gamma, LogNormal, Normal, Triangular, Uniform,
        };
        fn trunc<D: ContinuousCDF<f64, f64>>(d: &D, p: f64, min: f64, max: f64) -> f64 {
            let lo = if min.is_finite() { d.cdf(min) } else { 0.0 };
            let hi = if max.is_finite() { d.cdf(max) } else { 1.0 };
            let q = (lo + p * (hi - lo)).clamp(1e-12, 1.0 - 1e-12);
            d.inverse_cdf(q).clamp(min, max)
        }
        let (c, sd) = (self.central, self.sd());
        // Parameters are checked by validation; fall back to the centre if not.
        let x = match self.dist {
            Dist::Uniform => Uniform::new(self.low, self.high)
                .map(|d| trunc(&d, p, self.min, self.max))
                .ok(),
            Dist::Triangular => Triangular::new(self.low, self.high, c)
                .map(|d| trunc(&d, p, self.min, self.max))
                .ok(),
            Dist::Normal => Normal::new(c, sd)
                .map(|d| trunc(&d, p, self.min, self.max))
                .ok(),
            Dist::LogNormal => LogNormal::new(
                c.ln(),
                (self.high.ln() - self.low.ln()) / (2.0 * 1.959_963_984_540_054),
            )
            .map(|d| trunc(&d, p, self.min, self.max))
            .ok(),
            Dist::Beta => {
                let k = c * (1.0 - c) / (sd * sd) - 1.0;
                Beta::new(c * k, (1.0 - c) * k)
                    .map(|d| trunc(&d, p, self.min, self.max))
                    .ok()
            }
            Dist::Gamma => Gamma::new((c / sd).powi(2), c / (sd * sd))
                .map(|d| trunc(&d, p, self.min, self.max))
                .ok(),
        };
        x.unwrap_or(c)
    }
}

impl Costs {
    /// The monthly rate of `state` for a person `age_q` quarters old.
    pub fn rate_at(&self, state: usize, age_q: u16) -> f64 {
        match self.monthly_ages.iter().find(|(s, _)| *s as usize == state) {
            Some((_, bands)) => {
                let i = bands.partition_point(|&(lo, _)| lo <= age_q);
                bands[i.saturating_sub(1)].1
            }
            None => self.monthly[state],
        }
    }

    /// The ages (quarters) at which some rate changes, with 40 years, the
    /// reporting line, always among them; ascending. Money is counted in
    /// the groups these cut (at most [`MAX_COST_AGES`]).
    pub fn age_cuts(&self) -> Vec<u16> {
        let mut cuts: Vec<u16> = self
            .monthly_ages
            .iter()
            .flat_map(|(_, b)| b.iter().map(|&(lo, _)| lo))
            .filter(|&lo| lo > 0)
            .chain([AGE40_Q])
            .collect();
        cuts.sort_unstable();
        cuts.dedup();
        cuts
    }
}

impl Scenario {
    /// The factor that turns amounts at the scenario's `price_year` into
    /// amounts at `year`'s prices, from the price index.
    pub fn price_factor(&self, year: i32) -> Result<f64, String> {
        let level = |y: i32| self.price_index.iter().find(|(x, _)| *x == y).map(|p| p.1);
        if year == self.price_year {
            return Ok(1.0);
        }
        match (level(self.price_year), level(year)) {
            (Some(from), Some(to)) => Ok(to / from),
            _ if self.price_index.is_empty() => Err(format!(
                "scenario `{}` has no price index ([prices.index]) to turn {} prices into {year} prices",
                self.name, self.price_year
            )),
            _ => Err(format!(
                "the price index of scenario `{}` has no level for {year}; it has {}",
                self.name,
                self.price_index
                    .iter()
                    .map(|(y, _)| y.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }

    /// The numbers in force in quarter `q` (see [`Scenario::timeline`]).
    pub fn at(&self, q: Quarter) -> &Scenario {
        self.period(self.period_of(q))
    }

    /// The index of the numbers in force in quarter `q`: 0 for `self`, `k`
    /// for `timeline[k - 1]`.
    pub fn period_of(&self, q: Quarter) -> usize {
        self.timeline.partition_point(|(from, _)| *from <= q)
    }

    /// The numbers of period `k` ([`Scenario::period_of`]).
    pub fn period(&self, k: usize) -> &Scenario {
        if k == 0 {
            self
        } else {
            &self.timeline[k - 1].1
        }
    }

    /// How many sets of numbers the horizon has (1 when nothing is dated).
    pub fn n_periods(&self) -> usize {
        self.timeline.len() + 1
    }

    /// The named state a state behaves like in the loop: itself, or a
    /// variant's base. Unused slots behave like plain states off benefit.
    pub fn base(&self, st: State) -> State {
        self.variant(st).map_or(st, |v| v.of)
    }

    /// The variant in slot `st`, if `st` is a used variant slot.
    pub fn variant(&self, st: State) -> Option<&Variant> {
        self.variants.iter().find(|v| v.slot == st)
    }

    /// The id of a state in scenario and output files (a variant's own id).
    pub fn state_id(&self, st: State) -> &str {
        self.variant(st).map_or(st.id(), |v| v.id.as_str())
    }

    /// The state (named, or a variant's slot) with this id.
    pub fn state_from_id(&self, id: &str) -> Option<State> {
        State::from_id(id).or_else(|| self.variants.iter().find(|v| v.id == id).map(|v| v.slot))
    }

    /// The states persons can be in: the named ones, then the used variant
    /// slots.
    pub fn states(&self) -> impl Iterator<Item = State> + '_ {
        State::NAMED
            .into_iter()
            .chain(self.variants.iter().map(|v| v.slot))
    }

    /// Whether a quarter in `st` counts for the refusion clock (as in its
    /// base state).
    pub fn is_benefit(&self, st: State) -> bool {
        !(st.is_variant() && self.variant(st).is_none()) && self.base(st).is_benefit()
    }

    /// The age groups the scenario's rules distinguish (see [`AgeGroups`]).
    pub fn age_groups(&self) -> AgeGroups {
        let mut age_cuts = vec![AGE40_Q];
        let mut pension_cuts = Vec::new();
        for t in &self.transitions {
            age_cuts.extend(t.prob.iter().map(|&(lo, _)| lo).filter(|&lo| lo > 0));
        }
        let whens = self
            .gates
            .iter()
            .map(|g| &g.when)
            .chain(self.assessments.iter().map(|a| &a.when));
        for w in whens {
            if let Some(a) = w.age {
                if a.lo > 0 {
                    age_cuts.push(a.lo);
                }
                if let Some(h) = a.hi {
                    age_cuts.push(h + 1);
                }
            }
            pension_cuts.extend(w.within_pension_q);
        }
        age_cuts.sort_unstable();
        age_cuts.dedup();
        pension_cuts.sort_unstable();
        pension_cuts.dedup();
        AgeGroups {
            age_cuts,
            pension_cuts,
        }
    }

    /// Folkepension age in quarters for a person born in quarter `birth`.
    pub fn pension_age_q(&self, birth: Quarter) -> u16 {
        let mut age = self.pension_age.first().map_or(268, |s| s.1);
        for &(from, a) in &self.pension_age {
            if birth >= from {
                age = a;
            }
        }
        age
    }

    /// The quarter labels of the simulation, first to last.
    pub fn quarters(&self) -> impl Iterator<Item = Quarter> + '_ {
        (0..self.horizon).map(|t| self.start.plus(t))
    }
}
