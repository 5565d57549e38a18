//! `[variants]`: a variant's id is a state id of its own, and it varies a
//! named state that has no engine behaviour a variant cannot share.

use super::*;

/// Ids a variant may not take: they already name something in the
/// outputs (cost items, totals, the flow pseudo-state).
const RESERVED: [&str; 10] = [
    "total",
    "all",
    "entry",
    "intervention",
    "caseworker",
    "rehab_team",
    "revalidering_education",
    "ressourceforloebsydelse",
    "revalideringsydelse",
    "fleksloentilskud",
];

pub(super) fn variants(v: &mut Reporter, raw: &BTreeMap<String, raw::RawVariant>) -> Vec<Variant> {
    let mut out: Vec<Variant> = Vec::new();
    for (id, rv) in raw {
        let p = format!("variants.{id}");
        if State::from_id(id).is_some() {
            v.key_error(
                &p,
                format!("`{id}` is a state; a variant needs an id of its own"),
                Some(format!("for example `{id}_variant`")),
            );
            continue;
        }
        if RESERVED.contains(&id.as_str()) {
            v.key_error(
                &p,
                format!("`{id}` already names an output item; choose another variant id"),
                None,
            );
            continue;
        }
        if id.is_empty()
            || !id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            v.key_error(
                &p,
                format!("variant id `{id}` must be lowercase ASCII letters, digits or `_` (it names output rows)"),
                None,
            );
            continue;
        }
        let op = format!("{p}.of");
        let of = match State::from_id(&rv.of) {
            Some(State::Out) => {
                v.error(
                    &op,
                    "`out` is where persons leave; it cannot have a variant",
                );
                continue;
            }
            Some(State::Ressourceforloeb) => {
                v.error(
                    &op,
                    "a variant of `ressourceforloeb` is not supported: its phases, cumulative clock and services belong to the named state",
                );
                continue;
            }
            Some(s) => s,
            None if raw.contains_key(&rv.of) => {
                v.error(
                    &op,
                    format!(
                        "`{}` is itself a variant; give the named state it varies",
                        rv.of
                    ),
                );
                continue;
            }
            None => {
                let hint = did_you_mean(&rv.of, State::NAMED.iter().map(|s| s.id()));
                v.push_value(&op, format!("unknown state `{}`", rv.of), hint);
                continue;
            }
        };
        if out.len() == N_VARIANTS {
            v.key_error(
                &p,
                format!("at most {N_VARIANTS} variants are supported"),
                None,
            );
            continue;
        }
        let slot = State::from_index(N_NAMED + out.len());
        out.push(Variant {
            id: id.clone(),
            of,
            description: rv.description.clone(),
            slot,
        });
    }
    v.variants = out.iter().map(|x| (x.id.clone(), x.slot)).collect();
    out
}
