//! Deciding with the engine's transitions (`crate::engine::transitions`): the step rows a
//! transition asks for are loaded when it asks (then it decides again), and the changeset it
//! returns is applied. The store decides nothing here.

use std::sync::Arc;

use super::Rows;
use crate::engine::{
    Changeset, Decision, Facts, Loaded, Need, Refusal, Rejection, SpecCache, SpecIndex,
};
use crate::model::now_ms;
use crate::{Error, Result};

/// Decide with `transition`, loading the step rows it asks for, then apply its changeset.
/// `Ok(Err(_))`: it matched no transition and nothing changed.
pub fn decide<T: Rows + ?Sized>(
    tx: &T,
    st: &mut Loaded<'_>,
    transition: impl Fn(&Loaded<'_>) -> Decision,
) -> Result<std::result::Result<Changeset, Rejection>> {
    // Each round loads more; a transition that still asks after every step (and every output
    // it names) is loaded is a bug. (Rows, then more rows, every row, outputs of a `foreach:`
    // source, and the facts of `if:` conditions at most.)
    for _ in 0..8 {
        match transition(st) {
            Ok(cs) => {
                tx.apply_changeset(&cs, st.now)?;
                return Ok(Ok(cs));
            }
            Err(Refusal::Rejected(r)) => return Ok(Err(r)),
            Err(Refusal::Need(Need::Outputs(ids))) => {
                if ids.iter().all(|id| st.outputs.contains_key(id)) {
                    break;
                }
                let wanted: std::collections::BTreeSet<&str> =
                    ids.iter().map(String::as_str).collect();
                let mut got = tx.succeeded_outputs(&st.run.id, &wanted)?;
                for id in ids {
                    let outputs = got.remove(&id).unwrap_or_default();
                    st.outputs.insert(id, outputs);
                }
            }
            Err(Refusal::Need(Need::Facts(ids))) if st.facts.is_none() => {
                st.facts = Some(facts(tx, &st.run.id, &ids)?);
            }
            Err(Refusal::Need(Need::Steps(ids))) if !st.all_steps => {
                let mut rows = Vec::with_capacity(ids.len());
                let mut missing = false;
                for id in ids.iter().filter(|id| !st.steps.contains_key(*id)) {
                    match tx.step_row(&st.run.id, id)? {
                        Some(row) => rows.push(row),
                        None => missing = true,
                    }
                }
                // A step the run does not have, or nothing new: load them all.
                if missing || rows.is_empty() {
                    load_all(tx, st)?;
                } else {
                    st.add_steps(rows);
                }
            }
            Err(Refusal::Need(_)) if st.all_steps => break,
            Err(Refusal::Need(_)) => load_all(tx, st)?,
        }
    }
    Err(Error::Internal(format!(
        "a transition of run {} asked for more than the run holds",
        st.run.id
    )))
}

/// The run's params and the outputs of `ids` (those that succeeded), for `if:` conditions.
fn facts<T: Rows + ?Sized>(tx: &T, run_id: &str, ids: &[String]) -> Result<Facts> {
    let (_, params) = tx.run_row_with_params(run_id, false)?;
    let ids = ids.iter().map(String::as_str).collect();
    Ok(Facts {
        params: serde_json::from_str(&params).unwrap_or_default(),
        outputs: tx.succeeded_outputs(run_id, &ids)?,
    })
}

fn load_all<T: Rows + ?Sized>(tx: &T, st: &mut Loaded<'_>) -> Result<()> {
    st.steps.clear();
    st.add_steps(tx.step_rows(&st.run.id)?);
    st.all_steps = true;
    Ok(())
}

/// Lock run `id`, decide with `transition` from its row (loading the steps it asks for) and
/// apply it. Whether it changed anything (`Err`: it matched no transition).
pub fn decide_on_run<T: Rows + ?Sized>(
    tx: &T,
    cache: &SpecCache,
    id: &str,
    now: i64,
    transition: impl Fn(&Loaded<'_>) -> Decision,
) -> Result<std::result::Result<Changeset, Rejection>> {
    let head = tx.run_row(id)?;
    let ix = index(tx, cache, &head.workflow, head.version)?;
    let mut st = Loaded::new(&ix, head, now);
    decide(tx, &mut st, transition)
}

/// [`decide_on_run`] now, a rejection being the caller's error.
pub fn decide_on<T: Rows + ?Sized>(
    tx: &T,
    cache: &SpecCache,
    id: &str,
    transition: impl Fn(&Loaded<'_>) -> Decision,
) -> Result<()> {
    match decide_on_run(tx, cache, id, now_ms(), transition)? {
        Ok(_) => Ok(()),
        Err(r) => Err(r.into_error()),
    }
}

/// The index of a workflow version, from the cache or the store.
pub fn index<T: Rows + ?Sized>(
    tx: &T,
    cache: &SpecCache,
    name: &str,
    version: u32,
) -> Result<Arc<SpecIndex>> {
    if let Some(ix) = cache.get(name, version) {
        return Ok(ix);
    }
    let spec = tx
        .workflow_spec(name, version)?
        .ok_or_else(|| Error::not_found("workflow", format!("{name}@{version}")))?;
    let ix = Arc::new(SpecIndex::new(serde_json::from_str(&spec)?));
    cache.insert(name, version, ix.clone());
    Ok(ix)
}
