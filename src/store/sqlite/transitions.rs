//! Shared step transitions: a step reaching a terminal state is counted on its run, its
//! dependents are released or skipped, and the run ends when no step can move.

use rusqlite::{OptionalExtension, Transaction, params};

use super::insert_event;
use crate::engine::SpecIndex;
use crate::model::{RunStatus, StepStatus, now_ms};
use crate::{Error, Result};

/// The parts of a run row the transitions need.
#[derive(Debug, Clone)]
pub struct RunHead {
    pub id: String,
    pub workflow: String,
    pub version: u32,
    pub status: RunStatus,
}

pub fn run_head(tx: &Transaction<'_>, run_id: &str) -> Result<RunHead> {
    tx.prepare_cached("SELECT workflow, workflow_version, status FROM runs WHERE id = ?1")?
        .query_row([run_id], |r| {
            let status: String = r.get(2)?;
            Ok(RunHead {
                id: run_id.to_string(),
                workflow: r.get(0)?,
                version: r.get(1)?,
                status: status.parse().unwrap_or(RunStatus::Failed),
            })
        })
        .optional()?
        .ok_or_else(|| Error::not_found("run", run_id))
}

/// Set a non-terminal step terminal (`succeeded` is handled by [`step_succeeded`]) and cascade.
pub fn step_ended(
    tx: &Transaction<'_>,
    ix: &SpecIndex,
    run: &RunHead,
    step_id: &str,
    status: StepStatus,
    error: Option<&str>,
) -> Result<()> {
    debug_assert!(status.is_terminal() && status != StepStatus::Succeeded);
    let now = now_ms();
    let changed = tx
        .prepare_cached(
            "UPDATE steps SET status = ?3, finished_at = ?4, error = COALESCE(?5, error),
                    lease_until = NULL
             WHERE run_id = ?1 AND step_id = ?2
               AND status IN ('pending', 'ready', 'leased', 'running')",
        )?
        .execute(params![run.id, step_id, status.as_str(), now, error])?;
    if changed == 0 {
        return Ok(());
    }
    tx.prepare_cached("UPDATE runs SET steps_done = steps_done + 1 WHERE id = ?1")?
        .execute([&run.id])?;
    insert_event(
        tx,
        &format!("step.{status}"),
        Some(&run.id),
        Some(step_id),
        serde_json::json!({ "error": error }),
    )?;
    // When the whole run is ending (cancelled, timed out), `end_run` cancels every open step
    // itself: pending dependents are cancelled with the run, not skipped.
    if (status == StepStatus::Failed
        || status == StepStatus::Skipped
        || status == StepStatus::Cancelled)
        && !run.status.is_terminal()
    {
        // Pending dependents can never run now.
        let deps: Vec<String> = ix.dependents(step_id).map(|s| s.id.clone()).collect();
        for dep in deps {
            let pending: bool = tx
                .prepare_cached(
                    "SELECT status = 'pending' FROM steps WHERE run_id = ?1 AND step_id = ?2",
                )?
                .query_row(params![run.id, dep], |r| r.get(0))
                .optional()?
                .unwrap_or(false);
            if pending {
                let why = format!("needs {step_id:?}, which {status}");
                step_ended(tx, ix, run, &dep, StepStatus::Skipped, Some(&why))?;
            }
        }
    }
    if status == StepStatus::Failed && ix.spec.fail_fast {
        stop_remaining(tx, ix, run, "fail_fast: another step failed")?;
    }
    maybe_finish(tx, run)
}

/// A step succeeded: count it, release dependents whose needs are now all met.
pub fn step_succeeded(
    tx: &Transaction<'_>,
    ix: &SpecIndex,
    run: &RunHead,
    step_id: &str,
) -> Result<()> {
    let now = now_ms();
    tx.prepare_cached(
        "UPDATE runs SET steps_done = steps_done + 1, steps_succeeded = steps_succeeded + 1 WHERE id = ?1",
    )?
    .execute([&run.id])?;
    for dep in ix.dependents(step_id) {
        let became_ready = tx
            .prepare_cached(
                "UPDATE steps SET pending_needs = pending_needs - 1,
                        status = CASE WHEN pending_needs = 1 THEN 'ready' ELSE status END,
                        not_before = ?3
                 WHERE run_id = ?1 AND step_id = ?2 AND status = 'pending'
                 RETURNING status",
            )?
            .query_row(params![run.id, dep.id, now], |r| r.get::<_, String>(0))
            .optional()?;
        if became_ready.as_deref() == Some("ready") {
            insert_event(
                tx,
                "step.ready",
                Some(&run.id),
                Some(&dep.id),
                serde_json::Value::Null,
            )?;
        }
    }
    maybe_finish(tx, run)
}

/// Stop every step that has not ended: pending/ready ones are skipped, held ones cancelled.
pub fn stop_remaining(
    tx: &Transaction<'_>,
    ix: &SpecIndex,
    run: &RunHead,
    why: &str,
) -> Result<()> {
    let open: Vec<(String, String)> = tx
        .prepare_cached(
            "SELECT step_id, status FROM steps WHERE run_id = ?1
             AND status IN ('pending', 'ready', 'leased', 'running') ORDER BY idx",
        )?
        .query_map([&run.id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (step_id, status) in open {
        let to = if status == "leased" || status == "running" {
            StepStatus::Cancelled
        } else {
            StepStatus::Skipped
        };
        step_ended(tx, ix, run, &step_id, to, Some(why))?;
    }
    Ok(())
}

/// End the run if every step has ended.
fn maybe_finish(tx: &Transaction<'_>, run: &RunHead) -> Result<()> {
    let (total, done, succeeded, status): (u32, u32, u32, String) = tx
        .prepare_cached(
            "SELECT steps_total, steps_done, steps_succeeded, status FROM runs WHERE id = ?1",
        )?
        .query_row([&run.id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?;
    let current: RunStatus = status.parse().unwrap_or(RunStatus::Failed);
    if done < total || current.is_terminal() {
        return Ok(());
    }
    let (outcome, error) = if succeeded == total {
        (RunStatus::Succeeded, None)
    } else {
        let failed: Option<(String, Option<String>)> = tx
            .prepare_cached(
                "SELECT step_id, error FROM steps WHERE run_id = ?1 AND status = 'failed' ORDER BY finished_at, idx LIMIT 1",
            )?
            .query_row([&run.id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let msg = match failed {
            Some((step, Some(err))) => format!("step {step:?} failed: {err}"),
            Some((step, None)) => format!("step {step:?} failed"),
            None => "some steps did not succeed".to_string(),
        };
        (RunStatus::Failed, Some(msg))
    };
    set_run_ended(tx, &run.id, outcome, error.as_deref())
}

/// Record a run's end (if it has not ended).
pub fn set_run_ended(
    tx: &Transaction<'_>,
    run_id: &str,
    status: RunStatus,
    error: Option<&str>,
) -> Result<()> {
    let now = now_ms();
    let changed = tx
        .prepare_cached(
            "UPDATE runs SET status = ?2, finished_at = ?3, error = ?4,
                    started_at = COALESCE(started_at, ?3)
             WHERE id = ?1 AND status IN ('queued', 'running')",
        )?
        .execute(params![run_id, status.as_str(), now, error])?;
    if changed > 0 {
        insert_event(
            tx,
            &format!("run.{status}"),
            Some(run_id),
            None,
            serde_json::json!({ "error": error }),
        )?;
    }
    Ok(())
}
