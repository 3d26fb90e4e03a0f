//! Loading a run for the engine's transitions (`crate::engine::transitions`) on PostgreSQL and
//! deciding with it, as the SQLite store does (`store::sqlite::transitions`), with row locks:
//! a run transition locks the run row first (`FOR UPDATE`), then the step rows it reads, so
//! the rows a decision was made from cannot change before its guarded updates
//! (`super::apply`) run. A deadlock between such transactions is retried by
//! [`PgStore::write`](super::PgStore::write).

use tokio_postgres::Row;

use super::tx::{PgTx, get, get_u32};
use crate::engine::{Changeset, Decision, Loaded, Need, Refusal, Rejection, RunRow, StepRow};
use crate::model::{RunStatus, StepStatus};
use crate::{Error, Result};

/// The columns of [`RunRow`], in [`run_row`]'s order.
pub const RUN_ROW: &str = "id, workflow, workflow_version, status, steps_total, steps_done, \
                       steps_succeeded, timeout_ms, timeout_source";
/// The columns of [`StepRow`], in [`step_row`]'s order.
pub const STEP_ROW: &str = "step_id, idx, status, attempt, tries, lost, agent_id, agent_name, \
                        pending_needs, not_before, finished_at, error";

/// A [`RunRow`] from [`RUN_ROW`]'s columns starting at `at`.
pub fn run_row(r: &Row, at: usize) -> Result<RunRow> {
    let status: String = get(r, at + 3)?;
    Ok(RunRow {
        id: get(r, at)?,
        workflow: get(r, at + 1)?,
        version: get_u32(r, at + 2)?,
        status: status.parse().unwrap_or(RunStatus::Failed),
        steps_total: get_u32(r, at + 4)?,
        steps_done: get_u32(r, at + 5)?,
        steps_succeeded: get_u32(r, at + 6)?,
        timeout_ms: get(r, at + 7)?,
        timeout_source: get(r, at + 8)?,
    })
}

/// A [`StepRow`] from [`STEP_ROW`]'s columns starting at `at`.
pub fn step_row(r: &Row, at: usize) -> Result<StepRow> {
    let status: String = get(r, at + 2)?;
    Ok(StepRow {
        step_id: get(r, at)?,
        idx: get_u32(r, at + 1)?,
        status: status.parse().unwrap_or(StepStatus::Failed),
        attempt: get_u32(r, at + 3)?,
        tries: get_u32(r, at + 4)?,
        lost: get_u32(r, at + 5)?,
        agent_id: get(r, at + 6)?,
        agent_name: get(r, at + 7)?,
        pending_needs: get_u32(r, at + 8)?,
        not_before: get(r, at + 9)?,
        finished_at: get(r, at + 10)?,
        error: get(r, at + 11)?,
    })
}

/// The run row, locked for this transaction's transition.
pub fn run_head(tx: &PgTx<'_>, run_id: &str) -> Result<RunRow> {
    let row = tx
        .query_opt(
            &format!("SELECT {RUN_ROW} FROM runs WHERE id = $1 FOR UPDATE"),
            &[&run_id],
        )?
        .ok_or_else(|| Error::not_found("run", run_id))?;
    run_row(&row, 0)
}

/// The run row (locked) with its params.
pub fn run_with_params(tx: &PgTx<'_>, run_id: &str) -> Result<(RunRow, String)> {
    let row = tx
        .query_opt(
            &format!("SELECT {RUN_ROW}, params FROM runs WHERE id = $1 FOR UPDATE"),
            &[&run_id],
        )?
        .ok_or_else(|| Error::not_found("run", run_id))?;
    Ok((run_row(&row, 0)?, get(&row, 9)?))
}

/// A step's row and its run's, both locked (the run's first).
pub fn run_and_step(
    tx: &PgTx<'_>,
    run_id: &str,
    step_id: &str,
) -> Result<Option<(RunRow, StepRow)>> {
    let Some(head) = tx.query_opt(
        &format!("SELECT {RUN_ROW} FROM runs WHERE id = $1 FOR UPDATE"),
        &[&run_id],
    )?
    else {
        return Ok(None);
    };
    let head = run_row(&head, 0)?;
    Ok(step(tx, run_id, step_id)?.map(|s| (head, s)))
}

/// A step's row, locked.
pub fn step(tx: &PgTx<'_>, run_id: &str, step_id: &str) -> Result<Option<StepRow>> {
    tx.query_opt(
        &format!("SELECT {STEP_ROW} FROM steps WHERE run_id = $1 AND step_id = $2 FOR UPDATE"),
        &[&run_id, &step_id],
    )?
    .map(|r| step_row(&r, 0))
    .transpose()
}

fn all_steps(tx: &PgTx<'_>, run_id: &str) -> Result<Vec<StepRow>> {
    tx.query(
        &format!("SELECT {STEP_ROW} FROM steps WHERE run_id = $1 ORDER BY idx FOR UPDATE"),
        &[&run_id],
    )?
    .iter()
    .map(|r| step_row(r, 0))
    .collect()
}

/// Decide with `transition`, loading the step rows it asks for, then apply its changeset.
/// `Ok(Err(_))`: it matched no transition and nothing changed.
pub fn decide(
    tx: &PgTx<'_>,
    st: &mut Loaded<'_>,
    transition: impl Fn(&Loaded<'_>) -> Decision,
) -> Result<std::result::Result<Changeset, Rejection>> {
    for _ in 0..4 {
        match transition(st) {
            Ok(cs) => {
                super::apply::apply(tx, &cs, st.now)?;
                return Ok(Ok(cs));
            }
            Err(Refusal::Rejected(r)) => return Ok(Err(r)),
            Err(Refusal::Need(Need::Steps(ids))) if !st.all_steps => {
                let mut rows = Vec::with_capacity(ids.len());
                let mut missing = false;
                for id in ids.iter().filter(|id| !st.steps.contains_key(*id)) {
                    match step(tx, &st.run.id, id)? {
                        Some(row) => rows.push(row),
                        None => missing = true,
                    }
                }
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

fn load_all(tx: &PgTx<'_>, st: &mut Loaded<'_>) -> Result<()> {
    st.steps.clear();
    st.add_steps(all_steps(tx, &st.run.id)?);
    st.all_steps = true;
    Ok(())
}
