//! Loading a run for the engine's transitions (`crate::engine::transitions`) and deciding with
//! it: the run row, the step rows a transition asks for (loaded when it asks, then it decides
//! again), and the changeset applied (`super::apply`). The store decides nothing here.

use rusqlite::{OptionalExtension, Row, Transaction, params};

use crate::engine::{Changeset, Decision, Loaded, Need, Refusal, Rejection, RunRow, StepRow};
use crate::model::{RunStatus, StepStatus};
use crate::{Error, Result};

/// The run row as the transitions and step inputs read it.
pub type RunHead = RunRow;

/// The columns of [`RunRow`], in [`run_row`]'s order.
const RUN_ROW: &str = "id, workflow, workflow_version, status, steps_total, steps_done, \
                       steps_succeeded, timeout_ms, timeout_source";
/// The columns of [`StepRow`], in [`step_row`]'s order.
pub const STEP_ROW: &str = "step_id, idx, status, attempt, tries, lost, agent_id, agent_name, \
                        pending_needs, not_before, finished_at, error";

/// A [`RunRow`] from [`RUN_ROW`]'s columns starting at `at`.
fn run_row(r: &Row<'_>, at: usize) -> rusqlite::Result<RunRow> {
    let status: String = r.get(at + 3)?;
    Ok(RunRow {
        id: r.get(at)?,
        workflow: r.get(at + 1)?,
        version: r.get(at + 2)?,
        status: status.parse().unwrap_or(RunStatus::Failed),
        steps_total: r.get(at + 4)?,
        steps_done: r.get(at + 5)?,
        steps_succeeded: r.get(at + 6)?,
        timeout_ms: r.get(at + 7)?,
        timeout_source: r.get(at + 8)?,
    })
}

/// A [`StepRow`] from [`STEP_ROW`]'s columns starting at `at`.
pub fn step_row(r: &Row<'_>, at: usize) -> rusqlite::Result<StepRow> {
    let status: String = r.get(at + 2)?;
    Ok(StepRow {
        step_id: r.get(at)?,
        idx: r.get(at + 1)?,
        status: status.parse().unwrap_or(StepStatus::Failed),
        attempt: r.get(at + 3)?,
        tries: r.get(at + 4)?,
        lost: r.get(at + 5)?,
        agent_id: r.get(at + 6)?,
        agent_name: r.get(at + 7)?,
        pending_needs: r.get(at + 8)?,
        not_before: r.get(at + 9)?,
        finished_at: r.get(at + 10)?,
        error: r.get(at + 11)?,
    })
}

pub fn run_head(tx: &Transaction<'_>, run_id: &str) -> Result<RunRow> {
    tx.prepare_cached(&format!("SELECT {RUN_ROW} FROM runs WHERE id = ?1"))?
        .query_row([run_id], |r| run_row(r, 0))
        .optional()?
        .ok_or_else(|| Error::not_found("run", run_id))
}

/// A run row with its params (for a claim: the templates read them).
pub fn run_with_params(tx: &Transaction<'_>, run_id: &str) -> Result<(RunRow, String)> {
    tx.prepare_cached(&format!("SELECT {RUN_ROW}, params FROM runs WHERE id = ?1"))?
        .query_row([run_id], |r| Ok((run_row(r, 0)?, r.get(9)?)))
        .optional()?
        .ok_or_else(|| Error::not_found("run", run_id))
}

/// A step's row and its run's, in one read.
pub fn run_and_step(
    tx: &Transaction<'_>,
    run_id: &str,
    step_id: &str,
) -> Result<Option<(RunRow, StepRow)>> {
    let sql = format!(
        "SELECT {}, {} FROM steps s JOIN runs r ON r.id = s.run_id
         WHERE s.run_id = ?1 AND s.step_id = ?2",
        prefixed("r", RUN_ROW),
        prefixed("s", STEP_ROW)
    );
    Ok(tx
        .prepare_cached(&sql)?
        .query_row(params![run_id, step_id], |r| {
            Ok((run_row(r, 0)?, step_row(r, 9)?))
        })
        .optional()?)
}

/// `a, b` as `t.a, t.b`.
fn prefixed(table: &str, columns: &str) -> String {
    columns
        .split(',')
        .map(|c| format!("{table}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn step(tx: &Transaction<'_>, run_id: &str, step_id: &str) -> Result<Option<StepRow>> {
    Ok(tx
        .prepare_cached(&format!(
            "SELECT {STEP_ROW} FROM steps WHERE run_id = ?1 AND step_id = ?2"
        ))?
        .query_row(params![run_id, step_id], |r| step_row(r, 0))
        .optional()?)
}

fn all_steps(tx: &Transaction<'_>, run_id: &str) -> Result<Vec<StepRow>> {
    let rows = tx
        .prepare_cached(&format!(
            "SELECT {STEP_ROW} FROM steps WHERE run_id = ?1 ORDER BY idx"
        ))?
        .query_map([run_id], |r| step_row(r, 0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Decide with `transition`, loading the step rows it asks for, then apply its changeset.
/// `Ok(Err(_))`: it matched no transition and nothing changed.
pub fn decide(
    tx: &Transaction<'_>,
    st: &mut Loaded<'_>,
    transition: impl Fn(&Loaded<'_>) -> Decision,
) -> Result<std::result::Result<Changeset, Rejection>> {
    // Each round loads more; a transition that still asks after every step is loaded is a bug.
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

fn load_all(tx: &Transaction<'_>, st: &mut Loaded<'_>) -> Result<()> {
    st.steps.clear();
    st.add_steps(all_steps(tx, &st.run.id)?);
    st.all_steps = true;
    Ok(())
}
