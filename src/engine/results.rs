//! What one replication produces, and its layout as a flat vector of output
//! cells (the unit that statistics and reports work on).
//!
//! **Architecture invariant:** the cell order is a function of the horizon,
//! the start quarter and the list of variants reported only, so the vectors
//! of two replications (or of two scenarios with the same horizon, laid out
//! with the same variant list) line up cell by cell. Cells name states by
//! their output index: the named states, then the reported variants, whose
//! slot in each scenario the layout maps ([`Layout::slot`]); a scenario
//! without variants has exactly the cells of a layout without any.

use crate::engine::cells::ENTRY;
use crate::engine::costing::{N_ITEMS, N_NAMED_ITEMS};
use crate::scenario::calendar::Quarter;
use crate::scenario::{N_NAMED, N_PHASES, N_STATES, Phase, Scenario, State};

/// Raw integer results of one replication.
#[derive(Debug, Clone)]
pub struct RepResult {
    /// Persons by state and age group: index 0 is the initial stock, `t + 1`
    /// the end of simulated quarter `t` (`out` cumulative).
    pub stocks: Vec<[[u32; 2]; N_STATES]>,
    /// Moves during simulated quarter `t`, by age group, from (or entry) and to.
    pub flows: Vec<[[[u32; N_STATES]; N_STATES + 1]; 2]>,
    /// Øre by quarter, item and payer (state, municipality).
    pub costs: Vec<[[i64; 2]; N_ITEMS]>,
    pub person_quarters: u64,
    /// Digest of every person's final (id, state) pair (`Population::checksum`,
    /// openM++-style case checksum).
    pub checksum: u64,
    /// Entrants to cash or sickness benefit by quarters until they first
    /// reached a clarified status (index: quarters; never-clarified are absent).
    pub clarification: Vec<u32>,
    /// Entrants to cash or sickness benefit during the horizon.
    pub entrants: u64,
    /// Person-quarters in ressourceforløb by phase, per simulated quarter.
    pub rf_phase: Vec<[u32; N_PHASES]>,
    /// States of the entry cohort of the first quarter after 2, 5 and 10
    /// years (`None` beyond the horizon).
    pub cohort: [Option<[u32; N_STATES]>; 3],
    /// Persons in a minifleksjob (hours at or below the scenario's limit)
    /// during each simulated quarter.
    pub minifleks: Vec<u32>,
    /// Ressourceforløb programmes begun within the simulation that reached
    /// their fourth quarter, and of those the ones without an intervention
    /// in any of the four (T9).
    pub rf_year_one: [u32; 2],
    /// Ressourceforløb spells that ended within the horizon, those that
    /// ended in a clarified status, and the quarters those lasted.
    pub rf_ends: [u64; 3],
    /// Kontanthjælp spells of at least a year that ended in a clarified
    /// status within the horizon, and their quarters beyond the first year.
    pub cash_year_clarified: [u64; 2],
    /// Spells in each ressourceforløb phase that overlap the horizon: those
    /// in progress at the start or created by inflow, entries to the
    /// programme (in the entry phase) and phase changes (T9 waits).
    pub rf_phase_entries: [u64; N_PHASES],
    /// Per simulated quarter: persons in a flex job at its end who entered
    /// it within the simulation with minifleksjob hours at least a year
    /// before, and of those the ones whose hours were raised since (T6).
    pub mini_raise: Vec<[u32; 2]>,
    /// Leavers of revalidering by their state a year (four quarters) after
    /// they left, for leavers whose year ends within the horizon (T13).
    pub reval_after: [u32; N_STATES],
    /// Persons who left the benefit system for good during each simulated
    /// quarter (counted in `flows` as moves to `out` too).
    pub settled: Vec<u32>,
}

/// Years after entry at which the first entry cohort's states are reported.
pub const COHORT_YEARS: [u16; 3] = [2, 5, 10];

/// Outcomes for citizens, computed per replication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Citizen {
    /// Mean quarters from entering cash or sickness benefit to a clarified
    /// status (førtidspension, flex-job scheme, work, education), among
    /// entrants clarified within the horizon.
    MeanToClarification,
    /// Median of the same, counting entrants not clarified within the
    /// horizon as later than any (NaN when fewer than half are clarified).
    MedianToClarification,
    /// Share of entrants clarified within the horizon.
    ShareClarified,
    /// Person-quarters in ressourceforløb without an intervention (waiting
    /// or passive phases), per year.
    RfQuartersWithoutIntervention,
    /// Share of ressourceforløb person-quarters without an intervention.
    RfShareWithoutIntervention,
    /// Mean quarters from the start of a ressourceforløb to its end in a
    /// clarified status, among the spells that ended so within the horizon.
    RfQuartersToClarification,
    /// Share of the ressourceforløb spells ending within the horizon that
    /// ended in a clarified status.
    RfShareClarified,
    /// Mean quarters beyond the first year on kontanthjælp until the spell
    /// ended in a clarified status, among spells of at least a year that
    /// ended so within the horizon.
    CashYearQuartersToClarification,
}

impl Citizen {
    pub const ALL: [Citizen; 8] = [
        Citizen::MeanToClarification,
        Citizen::MedianToClarification,
        Citizen::ShareClarified,
        Citizen::RfQuartersWithoutIntervention,
        Citizen::RfShareWithoutIntervention,
        Citizen::RfQuartersToClarification,
        Citizen::RfShareClarified,
        Citizen::CashYearQuartersToClarification,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Citizen::MeanToClarification => "citizen.quarters_to_clarification",
            Citizen::MedianToClarification => "citizen.quarters_to_clarification.median",
            Citizen::ShareClarified => "citizen.share_clarified",
            Citizen::RfQuartersWithoutIntervention => "citizen.rf_quarters_without_intervention",
            Citizen::RfShareWithoutIntervention => "citizen.rf_share_without_intervention",
            Citizen::RfQuartersToClarification => "citizen.rf_quarters_to_clarification",
            Citizen::RfShareClarified => "citizen.rf_share_clarified",
            Citizen::CashYearQuartersToClarification => {
                "citizen.cash_year_quarters_to_clarification"
            }
        }
    }

    pub fn unit(self) -> &'static str {
        match self {
            Citizen::MeanToClarification
            | Citizen::MedianToClarification
            | Citizen::RfQuartersToClarification
            | Citizen::CashYearQuartersToClarification => "quarters",
            Citizen::RfQuartersWithoutIntervention => "person-quarters",
            _ => "share",
        }
    }
}

/// Yearly indicators computed per replication before averaging.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Annual {
    AwardsFpUnder40,
    AwardsFpOver40,
    AwardsFp,
    StartsRf,
    EntriesFlexScheme,
    CostState,
    CostMunicipality,
    CostAll,
    /// Persons who left the benefit system for good (settled; they are
    /// counted in `out` from then on).
    LeftForGood,
}

impl Annual {
    pub const ALL: [Annual; 9] = [
        Annual::AwardsFpUnder40,
        Annual::AwardsFpOver40,
        Annual::AwardsFp,
        Annual::StartsRf,
        Annual::EntriesFlexScheme,
        Annual::CostState,
        Annual::CostMunicipality,
        Annual::CostAll,
        Annual::LeftForGood,
    ];

    /// Stable metric id (shared with `compare`).
    pub fn id(self) -> &'static str {
        match self {
            Annual::AwardsFpUnder40 => "awards.foertidspension.under40",
            Annual::AwardsFpOver40 => "awards.foertidspension.over40",
            Annual::AwardsFp => "awards.foertidspension.total",
            Annual::StartsRf => "starts.ressourceforloeb",
            Annual::EntriesFlexScheme => "entries.fleksjob_scheme",
            Annual::CostState => "cost.total.state",
            Annual::CostMunicipality => "cost.total.municipality",
            Annual::CostAll => "cost.total.all",
            Annual::LeftForGood => "left_for_good",
        }
    }

    pub fn unit(self) -> &'static str {
        match self {
            Annual::CostState | Annual::CostMunicipality | Annual::CostAll => "DKK",
            _ => "persons",
        }
    }
}

impl Cell {
    /// Whether the cell is an amount of money (DKK at some price level).
    pub fn is_money(&self) -> bool {
        match self {
            Cell::Cost { .. } | Cell::AnnualCost { .. } | Cell::Pv { .. } => true,
            Cell::Annual { metric, .. } | Cell::PerYear { metric } => metric.unit() == "DKK",
            _ => false,
        }
    }
}

/// One output cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell {
    /// `t = 0` is the initial stock; `age` 2 is the total.
    Stock {
        t: u16,
        state: u8,
        age: u8,
    },
    Flow {
        t: u16,
        from: u8,
        to: u8,
    },
    /// `item == N_ITEMS` is the total, `payer == 2` both payers.
    Cost {
        t: u16,
        item: u8,
        payer: u8,
    },
    Annual {
        year: i32,
        metric: Annual,
    },
    /// Expenditure in a calendar year by item (`N_ITEMS`: total) and payer (2: both).
    AnnualCost {
        year: i32,
        item: u8,
        payer: u8,
    },
    /// A citizen outcome over the horizon.
    Citizen {
        metric: Citizen,
    },
    /// Status after an ended ressourceforløb (T8): share of exits from
    /// ressourceforløb by age group (2: all) going to `to` (a restart counts
    /// as `ressourceforloeb`). The status is the destination of the exit,
    /// one quarter (13 weeks) later.
    RfExit {
        age: u8,
        to: u8,
    },
    /// Share of the first quarter's entry cohort in `state` after `years`.
    Cohort {
        years: u16,
        state: u8,
    },
    /// Persons in a minifleksjob during simulated quarter `t` (T5).
    Minifleks {
        t: u16,
    },
    /// Share of ressourceforløb person-quarters in `phase` during quarter `t` (T7).
    RfPhaseShare {
        t: u16,
        phase: u8,
    },
    /// Share of ressourceforløb programmes begun within the simulation with
    /// no intervention (active or company-oriented phase) in their first
    /// four quarters, among those that reached the fourth (T9).
    RfNoInterventionYearOne,
    /// Mean spell in a ressourceforløb phase over the horizon, in quarters:
    /// person-quarters in the phase divided by the spells in it that overlap
    /// the horizon (T9 waits; spells cut by the start or end count their
    /// quarters within the horizon).
    RfPhaseSpell {
        phase: u8,
    },
    /// Among persons in a flex job at the end of quarter `t` who entered it
    /// within the simulation as a minifleksjob at least a year before, the
    /// share whose hours were raised since (T6).
    MinifleksRaised {
        t: u16,
    },
    /// Leavers of revalidering in `state` four quarters after they left
    /// (persons, scaled; T13).
    RevalideringAfter {
        state: u8,
    },
    /// A yearly indicator averaged over the horizon: its total over all
    /// simulated quarters divided by the horizon in years.
    PerYear {
        metric: Annual,
    },
    /// Present value at the start of the horizon of all expenditure, by payer
    /// (2: both): each quarter's cost discounted by `(1 + rate)^((t + 1) / 4)`.
    Pv {
        payer: u8,
    },
    /// Paid volume in a calendar year: person-quarters in `state` during the
    /// year's simulated quarters divided by 4 (Statistics Denmark's
    /// full-time persons). A quarter's person-quarters are the persons in
    /// the state when the quarter begins, entrants of the quarter included:
    /// the occupancy the quarter is priced from, not the end-of-quarter stock.
    Volume {
        year: i32,
        state: u8,
    },
    /// Awards of a variant (entries from any other state, inflow
    /// included) in a calendar year (`year: None`: per year over the
    /// horizon), by age group (2: total).
    VariantAwards {
        year: Option<i32>,
        state: u8,
        age: u8,
    },
}

/// Persons in `state` during simulated quarter `t` (its occupancy): the
/// stock at the end of the previous quarter plus the quarter's entrants.
fn occupancy(r: &RepResult, t: u16, state: usize) -> u32 {
    let s = r.stocks[t as usize][state];
    let f = &r.flows[t as usize];
    s[0] + s[1] + f[0][ENTRY][state] + f[1][ENTRY][state]
}

/// The cells of a run, in a fixed order.
#[derive(Debug, Clone)]
pub struct Layout {
    pub start: Quarter,
    pub horizon: u16,
    /// Annual discount rate for [`Cell::Pv`].
    pub discount_rate: f64,
    pub cells: Vec<Cell>,
    /// `(year, simulated quarters in that year)`.
    pub years: Vec<(i32, u8)>,
    /// The variants reported, in output order (output state `N_NAMED + k`),
    /// with their slot in the scenario laid out (`None`: it has no such
    /// variant, and every cell of it is 0).
    pub variants: Vec<(String, Option<u8>)>,
}

/// A scenario's variants as `(id, slot)`, for [`Layout::with_variants`].
pub fn variant_slots(sc: &Scenario) -> Vec<(String, u8)> {
    sc.variants
        .iter()
        .map(|v| (v.id.clone(), v.slot as u8))
        .collect()
}

impl Layout {
    /// The layout of a scenario without variants.
    pub fn new(start: Quarter, horizon: u16, discount_rate: f64) -> Layout {
        Layout::with_variants(start, horizon, discount_rate, &[], &[])
    }

    /// The layout of one scenario, its variants included.
    pub fn for_scenario(sc: &Scenario, horizon: u16) -> Layout {
        let own = variant_slots(sc);
        let ids: Vec<String> = own.iter().map(|v| v.0.clone()).collect();
        Layout::with_variants(sc.start, horizon, sc.costs.discount_rate, &ids, &own)
    }

    /// The layout that reports the variants `ids` (at most
    /// [`N_VARIANTS`](crate::scenario::N_VARIANTS), so that scenarios
    /// compared with each other line up) for a scenario whose variants are
    /// `own` (`(id, slot)`).
    pub fn with_variants(
        start: Quarter,
        horizon: u16,
        discount_rate: f64,
        ids: &[String],
        own: &[(String, u8)],
    ) -> Layout {
        assert!(
            N_NAMED + ids.len() <= N_STATES,
            "too many variants to report"
        );
        let variants: Vec<(String, Option<u8>)> = ids
            .iter()
            .map(|id| (id.clone(), own.iter().find(|o| &o.0 == id).map(|o| o.1)))
            .collect();
        let nv = variants.len() as u8;
        let states = move || (0..N_NAMED as u8).chain(N_NAMED as u8..N_NAMED as u8 + nv);
        let items = move || (0..N_NAMED_ITEMS as u8).chain(N_NAMED as u8..N_NAMED as u8 + nv);
        let mut cells = Vec::new();
        for t in 0..=horizon {
            for state in states() {
                for age in 0..3 {
                    cells.push(Cell::Stock { t, state, age });
                }
            }
        }
        for t in 0..horizon {
            for from in states().chain([ENTRY as u8]) {
                for to in states() {
                    cells.push(Cell::Flow { t, from, to });
                }
            }
        }
        for t in 0..horizon {
            for item in items().chain([N_ITEMS as u8]) {
                for payer in 0..3 {
                    cells.push(Cell::Cost { t, item, payer });
                }
            }
        }
        let mut years: Vec<(i32, u8)> = Vec::new();
        for t in 0..horizon {
            let y = start.plus(t).year();
            match years.last_mut() {
                Some((ly, n)) if *ly == y => *n += 1,
                _ => years.push((y, 1)),
            }
        }
        for &(year, _) in &years {
            for metric in Annual::ALL {
                cells.push(Cell::Annual { year, metric });
            }
            for item in items().chain([N_ITEMS as u8]) {
                for payer in 0..3 {
                    cells.push(Cell::AnnualCost { year, item, payer });
                }
            }
        }
        for metric in Annual::ALL {
            cells.push(Cell::PerYear { metric });
        }
        for metric in Citizen::ALL {
            cells.push(Cell::Citizen { metric });
        }
        for age in 0..3 {
            for to in states() {
                cells.push(Cell::RfExit { age, to });
            }
        }
        for t in 0..horizon {
            cells.push(Cell::Minifleks { t });
            for phase in 0..N_PHASES as u8 {
                cells.push(Cell::RfPhaseShare { t, phase });
            }
        }
        cells.push(Cell::RfNoInterventionYearOne);
        for phase in 0..N_PHASES as u8 {
            cells.push(Cell::RfPhaseSpell { phase });
        }
        for t in 0..horizon {
            cells.push(Cell::MinifleksRaised { t });
        }
        for state in states() {
            cells.push(Cell::RevalideringAfter { state });
        }
        for years in COHORT_YEARS {
            if years * 4 <= horizon {
                for state in states() {
                    cells.push(Cell::Cohort { years, state });
                }
            }
        }
        for payer in 0..3 {
            cells.push(Cell::Pv { payer });
        }
        let paid = (0..State::Out as u8).chain(N_NAMED as u8..N_NAMED as u8 + nv);
        for &(year, _) in &years {
            for state in paid.clone() {
                cells.push(Cell::Volume { year, state });
            }
        }
        for state in N_NAMED as u8..N_NAMED as u8 + nv {
            for year in years.iter().map(|&(y, _)| Some(y)).chain([None]) {
                for age in 0..3 {
                    cells.push(Cell::VariantAwards { year, state, age });
                }
            }
        }
        Layout {
            start,
            horizon,
            discount_rate,
            cells,
            years,
            variants,
        }
    }

    /// The index in the scenario's counters of output state (or item)
    /// `o`: itself for a named state, a named item and `entry`; a
    /// variant's slot; `None` for a variant the scenario does not have.
    pub fn slot(&self, o: u8) -> Option<usize> {
        let o = usize::from(o);
        if o < N_NAMED || o == ENTRY {
            return Some(o);
        }
        self.variants.get(o - N_NAMED)?.1.map(usize::from)
    }

    /// The id of output state `o` (a named state, a variant or `entry`).
    pub fn state_id(&self, o: u8) -> &str {
        match usize::from(o) {
            ENTRY => "entry",
            i if i < N_NAMED => State::from_index(i).id(),
            i => &self.variants[i - N_NAMED].0,
        }
    }

    /// The id of output item `i` (a named item, a variant's benefit, or `total`).
    pub fn item_id(&self, i: u8) -> &str {
        match usize::from(i) {
            N_ITEMS => "total",
            i if i < N_NAMED_ITEMS => crate::engine::costing::item_id(i),
            i => &self.variants[i - N_NAMED].0,
        }
    }

    /// Index in `years` of a calendar year of the horizon.
    fn year_index(&self, year: i32) -> usize {
        self.years
            .iter()
            .position(|(y, _)| *y == year)
            .expect("year in layout")
    }

    /// The quarter label of a cell's `t`: stocks use the end of the quarter
    /// (`t = 0` is the end of the quarter before `start`), flows and costs
    /// the quarter itself.
    pub fn stock_quarter(&self, t: u16) -> Quarter {
        self.start.plus(t).prev()
    }

    /// Output values of one replication, in cell order, scaled back to the
    /// full population (`1 / scale`) and in DKK.
    /// Multiplies the money cells of one replication's `values` by `factor`
    /// (another year's prices); nothing else changes.
    pub fn reprice(&self, values: &mut [f64], factor: f64) {
        if factor == 1.0 {
            return;
        }
        for (v, c) in values.iter_mut().zip(&self.cells) {
            if c.is_money() {
                *v *= factor;
            }
        }
    }

    pub fn values(&self, r: &RepResult, scale: f64) -> Vec<f64> {
        let k = 1.0 / scale;
        let mut annual = vec![[0.0f64; Annual::ALL.len()]; self.years.len()];
        // Øre by year, item (last: total) and payer (state, municipality),
        // summed in 128 bits so that no sum of 64-bit quarters can wrap.
        let mut annual_cost = vec![[[0i128; 2]; N_ITEMS + 1]; self.years.len()];
        let mut pv = [0.0f64; 2];
        let year_idx = |t: u16| self.year_index(self.start.plus(t).year());
        for t in 0..self.horizon {
            let a = &mut annual[year_idx(t)];
            let f = &r.flows[t as usize];
            let fp = State::Foertidspension as usize;
            let rf = State::Ressourceforloeb as usize;
            let (fl, ly) = (State::Fleksjob as usize, State::Ledighedsydelse as usize);
            for age in 0..2 {
                let awards: u32 = (0..=ENTRY)
                    .filter(|&s| s != fp)
                    .map(|s| f[age][s][fp])
                    .sum();
                a[age] += f64::from(awards);
                a[2] += f64::from(awards);
                a[3] += f64::from((0..=ENTRY).map(|s| f[age][s][rf]).sum::<u32>());
                a[4] += f64::from(
                    (0..=ENTRY)
                        .filter(|&s| s != fl && s != ly)
                        .map(|s| f[age][s][fl] + f[age][s][ly])
                        .sum::<u32>(),
                );
            }
            a[8] += f64::from(r.settled[t as usize]);
            let yc = &mut annual_cost[year_idx(t)];
            let discount = (1.0 + self.discount_rate).powf(-f64::from(t + 1) / 4.0);
            for (item, c) in r.costs[t as usize].iter().enumerate() {
                a[5] += c[0] as f64;
                a[6] += c[1] as f64;
                a[7] += by_payer(c.map(i128::from), 2) as f64;
                for payer in 0..2 {
                    yc[item][payer] += i128::from(c[payer]);
                    yc[N_ITEMS][payer] += i128::from(c[payer]);
                    pv[payer] += c[payer] as f64 * discount;
                }
            }
        }
        self.cells
            .iter()
            .map(|c| match *c {
                Cell::Stock { t, state, age } => {
                    let Some(state) = self.slot(state) else {
                        return 0.0;
                    };
                    let s = r.stocks[t as usize][state];
                    let n = if age == 2 {
                        s[0] + s[1]
                    } else {
                        s[age as usize]
                    };
                    f64::from(n) * k
                }
                Cell::Flow { t, from, to } => {
                    let (Some(from), Some(to)) = (self.slot(from), self.slot(to)) else {
                        return 0.0;
                    };
                    let f = &r.flows[t as usize];
                    f64::from(f[0][from][to] + f[1][from][to]) * k
                }
                Cell::Cost { t, item, payer } => {
                    let costs = &r.costs[t as usize];
                    let ore: i128 = if item as usize == N_ITEMS {
                        costs
                            .iter()
                            .map(|&c| by_payer(c.map(i128::from), payer))
                            .sum()
                    } else if let Some(item) = self.slot(item) {
                        by_payer(costs[item].map(i128::from), payer)
                    } else {
                        0
                    };
                    ore as f64 / 100.0 * k
                }
                Cell::Annual { year, metric } => {
                    let v = annual[self.year_index(year)][metric as usize];
                    let v = if metric.unit() == "DKK" { v / 100.0 } else { v };
                    v * k
                }
                Cell::AnnualCost { year, item, payer } => {
                    let item = if item as usize == N_ITEMS {
                        N_ITEMS
                    } else if let Some(item) = self.slot(item) {
                        item
                    } else {
                        return 0.0;
                    };
                    let c = annual_cost[self.year_index(year)][item];
                    by_payer(c, payer) as f64 / 100.0 * k
                }
                Cell::Citizen { metric } => {
                    citizen(r, metric, self.horizon)
                        * if metric == Citizen::RfQuartersWithoutIntervention {
                            k
                        } else {
                            1.0
                        }
                }
                Cell::RfExit { age, to } => {
                    let rf = State::Ressourceforloeb as usize;
                    let Some(to) = self.slot(to) else {
                        return 0.0;
                    };
                    let ages: &[usize] = if age == 2 { &[0, 1] } else { &[age as usize] };
                    let (mut n, mut all) = (0u64, 0u64);
                    for f in &r.flows {
                        for &a in ages {
                            n += u64::from(f[a][rf][to]);
                            all += f[a][rf].iter().map(|&x| u64::from(x)).sum::<u64>();
                        }
                    }
                    share(n as f64, all as f64)
                }
                Cell::Cohort { years, state } => {
                    let i = COHORT_YEARS
                        .iter()
                        .position(|&y| y == years)
                        .expect("cohort year");
                    match (&r.cohort[i], self.slot(state)) {
                        (Some(_), None) => 0.0,
                        (Some(c), Some(state)) => {
                            share(f64::from(c[state]), f64::from(c.iter().sum::<u32>()))
                        }
                        (None, _) => f64::NAN,
                    }
                }
                Cell::Minifleks { t } => f64::from(r.minifleks[t as usize]) * k,
                Cell::RfPhaseShare { t, phase } => {
                    let p = &r.rf_phase[t as usize];
                    share(
                        f64::from(p[phase as usize]),
                        f64::from(p.iter().sum::<u32>()),
                    )
                }
                Cell::RfNoInterventionYearOne => {
                    share(f64::from(r.rf_year_one[1]), f64::from(r.rf_year_one[0]))
                }
                Cell::RfPhaseSpell { phase } => {
                    let quarters: u64 = r
                        .rf_phase
                        .iter()
                        .map(|p| u64::from(p[phase as usize]))
                        .sum();
                    share(quarters as f64, r.rf_phase_entries[phase as usize] as f64)
                }
                Cell::MinifleksRaised { t } => {
                    let [n, raised] = r.mini_raise[t as usize];
                    share(f64::from(raised), f64::from(n))
                }
                Cell::RevalideringAfter { state } => match self.slot(state) {
                    Some(state) => f64::from(r.reval_after[state]) * k,
                    None => 0.0,
                },
                Cell::PerYear { metric } => {
                    let total: f64 = annual.iter().map(|a| a[metric as usize]).sum();
                    let years = f64::from(self.horizon) / 4.0;
                    let v = if metric.unit() == "DKK" {
                        total / 100.0
                    } else {
                        total
                    };
                    v / years * k
                }
                Cell::Pv { payer } => {
                    let ore = if payer == 2 {
                        pv[0] + pv[1]
                    } else {
                        pv[payer as usize]
                    };
                    ore / 100.0 * k
                }
                Cell::Volume { year, state } => {
                    let Some(state) = self.slot(state) else {
                        return 0.0;
                    };
                    let quarters: u64 = (0..self.horizon)
                        .filter(|&t| self.start.plus(t).year() == year)
                        .map(|t| u64::from(occupancy(r, t, state)))
                        .sum();
                    quarters as f64 / 4.0 * k
                }
                Cell::VariantAwards { year, state, age } => {
                    let Some(v) = self.slot(state) else {
                        return 0.0;
                    };
                    let ages: &[usize] = if age == 2 { &[0, 1] } else { &[age as usize] };
                    let n: u64 = (0..self.horizon)
                        .filter(|&t| year.is_none_or(|y| self.start.plus(t).year() == y))
                        .map(|t| {
                            let f = &r.flows[t as usize];
                            ages.iter()
                                .flat_map(|&a| {
                                    (0..=ENTRY).filter(|&s| s != v).map(move |s| f[a][s][v])
                                })
                                .map(u64::from)
                                .sum::<u64>()
                        })
                        .sum();
                    let per = if year.is_none() {
                        f64::from(self.horizon) / 4.0
                    } else {
                        1.0
                    };
                    n as f64 / per * k
                }
            })
            .collect()
    }
}

impl Cell {
    /// The stable metric id, unit and period under which `compare` reports
    /// this cell, if it does (see compare.csv in the README).
    pub fn metric(&self, layout: &Layout) -> Option<(String, &'static str, String)> {
        let payer = |p: u8| ["state", "municipality", "all"][p as usize];
        Some(match *self {
            Cell::Annual { year, metric } => {
                (metric.id().to_string(), metric.unit(), year.to_string())
            }
            Cell::AnnualCost {
                year,
                item,
                payer: p,
            } if (item as usize) < N_ITEMS => (
                format!("cost.{}.{}", layout.item_id(item), payer(p)),
                "DKK",
                year.to_string(),
            ),
            Cell::PerYear { metric } => (
                metric.id().to_string(),
                metric.unit(),
                "per_year".to_string(),
            ),
            Cell::Stock { t, state, age: 2 } if t == layout.horizon => (
                format!("stock.{}", layout.state_id(state)),
                "persons",
                "horizon".to_string(),
            ),
            Cell::Pv { payer: p } => (format!("pv.total.{}", payer(p)), "DKK", "pv".to_string()),
            Cell::Volume { year, state } => (
                format!("volume.{}", layout.state_id(state)),
                "full-time persons",
                year.to_string(),
            ),
            Cell::Citizen { metric } => {
                let period = if metric == Citizen::RfQuartersWithoutIntervention {
                    "per_year"
                } else {
                    "horizon"
                };
                (metric.id().to_string(), metric.unit(), period.to_string())
            }
            Cell::RfExit { age, to } => (
                format!(
                    "citizen.status_after_ressourceforloeb.{}.{}",
                    ["under40", "over40", "total"][age as usize],
                    layout.state_id(to)
                ),
                "share",
                "horizon".to_string(),
            ),
            Cell::Cohort { years, state } => (
                format!("citizen.entry_cohort.{}.{}", years, layout.state_id(state)),
                "share",
                format!("{years}y"),
            ),
            Cell::VariantAwards { year, state, age } => (
                format!(
                    "awards.{}.{}",
                    layout.state_id(state),
                    ["under40", "over40", "total"][age as usize]
                ),
                "persons",
                year.map_or("per_year".to_string(), |y| y.to_string()),
            ),
            _ => return None,
        })
    }
}

/// A citizen outcome of one replication (counts unscaled: shares and
/// durations do not depend on the scale; the caller scales person counts).
fn citizen(r: &RepResult, metric: Citizen, horizon: u16) -> f64 {
    let clarified: u64 = r.clarification.iter().map(|&n| u64::from(n)).sum();
    let waiting = [
        Phase::WaitingTeam,
        Phase::WaitingIntervention,
        Phase::Passive,
    ];
    let without: u64 = r
        .rf_phase
        .iter()
        .map(|p| {
            waiting
                .iter()
                .map(|&ph| u64::from(p[ph as usize]))
                .sum::<u64>()
        })
        .sum();
    let all_rf: u64 = r
        .rf_phase
        .iter()
        .map(|p| p.iter().map(|&x| u64::from(x)).sum::<u64>())
        .sum();
    match metric {
        Citizen::MeanToClarification => {
            let total: u64 = r
                .clarification
                .iter()
                .enumerate()
                .map(|(q, &n)| q as u64 * u64::from(n))
                .sum();
            share(total as f64, clarified as f64)
        }
        Citizen::MedianToClarification => {
            // The smallest q with at least half of all entrants clarified by q.
            let mut acc = 0u64;
            for (q, &n) in r.clarification.iter().enumerate() {
                acc += u64::from(n);
                if r.entrants > 0 && 2 * acc >= r.entrants {
                    return q as f64;
                }
            }
            f64::NAN
        }
        Citizen::ShareClarified => share(clarified as f64, r.entrants as f64),
        Citizen::RfQuartersWithoutIntervention => without as f64 / (f64::from(horizon) / 4.0),
        Citizen::RfShareWithoutIntervention => share(without as f64, all_rf as f64),
        Citizen::RfQuartersToClarification => share(r.rf_ends[2] as f64, r.rf_ends[1] as f64),
        Citizen::RfShareClarified => share(r.rf_ends[1] as f64, r.rf_ends[0] as f64),
        Citizen::CashYearQuartersToClarification => share(
            r.cash_year_clarified[1] as f64,
            r.cash_year_clarified[0] as f64,
        ),
    }
}

/// Øre of a `[state, municipality]` pair for `payer` (2: both).
fn by_payer(c: [i128; 2], payer: u8) -> i128 {
    if payer == 2 {
        c[0] + c[1]
    } else {
        c[payer as usize]
    }
}

/// `part / all`, or NaN when there is nothing to share.
fn share(part: f64, all: f64) -> f64 {
    if all == 0.0 { f64::NAN } else { part / all }
}
