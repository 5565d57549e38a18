//! Proposals against a baseline with common random numbers: replication `r`
//! of every scenario draws from `RepKey::new(seed, r)`, so a person meets the
//! same random number for the same decision in each, and the difference is
//! taken replication by replication (paired), with a far smaller standard
//! error than two independent runs would give.

use crate::engine::results::{Layout, variant_slots};
use crate::engine::runner::{Prepared, RunConfig, blocks_for, simulate_in_blocks};
use crate::engine::stats::{CellStats, Welford};
use crate::engine::units::{RepUnit, Units, drive};
use crate::error::{Error, Result};
use crate::scenario::{N_VARIANTS, Scenario};

/// The variants a comparison of `scenarios` reports: every variant any of
/// them defines, in order of first definition (the baseline's first).
/// Unknown to a scenario, a variant's cells are 0 there.
pub fn reported_variants(scenarios: &[&Scenario]) -> Result<Vec<String>> {
    let mut ids: Vec<String> = Vec::new();
    for sc in scenarios {
        for v in &sc.variants {
            if !ids.contains(&v.id) {
                ids.push(v.id.clone());
            }
        }
    }
    if ids.len() > N_VARIANTS {
        return Err(Error::Invalid(format!(
            "the scenarios compared define {} variants between them ({}); a comparison reports at most {N_VARIANTS}",
            ids.len(),
            ids.join(", ")
        )));
    }
    Ok(ids)
}

/// The layout of `sc` reporting the variants `ids` (see [`reported_variants`]).
pub fn layout_for(sc: &Scenario, ids: &[String]) -> Layout {
    Layout::with_variants(
        sc.start,
        sc.horizon,
        sc.costs.discount_rate,
        ids,
        &variant_slots(sc),
    )
}

/// Statistics of one proposal against the baseline.
#[derive(Debug, Clone)]
pub struct ProposalStats {
    pub stats: Vec<CellStats>,
    /// Paired differences (proposal minus baseline, replication by replication).
    pub delta: Vec<CellStats>,
}

/// A baseline and proposals run with common random numbers.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub layout: Layout,
    pub baseline: Vec<CellStats>,
    pub proposals: Vec<ProposalStats>,
    pub replications: u32,
    pub person_quarters: u64,
}

/// Runs the baseline and every proposal with the same seeds: replication `r`
/// of each uses `RepKey::new(seed, r)`, so a person meets the same random
/// number for the same decision in every scenario, and the paired
/// differences have a far smaller variance than independent runs.
pub fn compare(
    base: &Prepared,
    proposals: &[Prepared],
    cfg: &RunConfig,
    on_done: &(dyn Fn() + Sync),
) -> Result<Comparison> {
    compare_units(base, proposals, cfg, &mut Units::All, on_done)
}

/// [`compare`] over the replications `units` names: all of them, a shard's
/// block (each replication's values of every scenario go to the sink; the
/// comparison returned is then empty), or none, replayed from a merge.
pub fn compare_units(
    base: &Prepared,
    proposals: &[Prepared],
    cfg: &RunConfig,
    units: &mut Units,
    on_done: &(dyn Fn() + Sync),
) -> Result<Comparison> {
    cfg.validate()?;
    let (start, horizon) = (base.scenario.start, base.scenario.horizon);
    for p in proposals {
        if (p.scenario.start, p.scenario.horizon) != (start, horizon) {
            return Err(Error::Invalid(format!(
                "proposal `{}` runs {} quarters from {}, the baseline {} from {}; give both the same start and horizon (or use --quarters)",
                p.scenario.name, p.scenario.horizon, p.scenario.start, horizon, start
            )));
        }
    }
    let all: Vec<&Scenario> = std::iter::once(base)
        .chain(proposals)
        .map(|p| p.scenario)
        .collect();
    let ids = reported_variants(&all)?;
    let layouts: Vec<Layout> = all.iter().map(|sc| layout_for(sc, &ids)).collect();
    let n = layouts[0].cells.len();
    let mut base_acc = Welford::new(n);
    let mut prop_acc: Vec<(Welford, Welford)> = proposals
        .iter()
        .map(|_| (Welford::new(n), Welford::new(n)))
        .collect();
    let mut person_quarters = 0u64;
    let blocks = blocks_for(units.computed(cfg.replications));
    let compute = |r: u32| -> Result<RepUnit> {
        let mut values = Vec::with_capacity(proposals.len() + 1);
        let mut pq = 0;
        for (p, layout) in std::iter::once(base).chain(proposals).zip(&layouts) {
            let res = simulate_in_blocks(p, cfg, r, blocks)?;
            pq += res.person_quarters;
            let mut v = layout.values(&res, cfg.scale);
            layout.reprice(&mut v, p.prices);
            values.push(v);
        }
        Ok(RepUnit {
            values,
            person_quarters: pq,
            checksum: 0,
        })
    };
    drive(cfg.replications, units, &compute, on_done, &mut |r, u| {
        let values = u.values;
        if values.len() != proposals.len() + 1 || values.iter().any(|v| v.len() != n) {
            return Err(Error::Invalid(format!(
                "replication {r} does not hold {} scenarios' values of {n} cells each",
                proposals.len() + 1
            )));
        }
        person_quarters += u.person_quarters;
        base_acc.add(&values[0]);
        for (i, (acc, dacc)) in prop_acc.iter_mut().enumerate() {
            let v = &values[i + 1];
            acc.add(v);
            let d: Vec<f64> = v.iter().zip(&values[0]).map(|(a, b)| a - b).collect();
            dacc.add(&d);
        }
        Ok(())
    })?;
    Ok(Comparison {
        layout: layouts.into_iter().next().expect("baseline layout"),
        baseline: base_acc.finish(),
        proposals: prop_acc
            .iter()
            .map(|(a, d)| ProposalStats {
                stats: a.finish(),
                delta: d.finish(),
            })
            .collect(),
        replications: cfg.replications,
        person_quarters,
    })
}
