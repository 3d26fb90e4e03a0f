//! Reaping and the lease-lost transition. [`lose`] applies the engine's decision for one attempt
//! whose agent is gone (log line, lost count, back to `ready` with a `step.lease_expired` event,
//! or failed once the budget is spent); every path uses it: the reaper for expired leases, and
//! [`lose_held`] for an agent that is replaced, stops or is removed while it holds steps. The
//! reaper also times out overdue runs.

use rusqlite::{Transaction, params};

use super::runs::end_run;
use super::transitions::{run_head, step_ended};
use super::{insert_event, workflows};
use crate::Result;
use crate::engine::{HeldAttempt, LostCause, LostOutcome, SpecCache, lease_lost};
use crate::model::{LogStream, RunStatus, StepStatus, now_ms};

/// Whether anything is due for reaping (a cheap read).
pub fn due(tx: &Transaction<'_>) -> Result<bool> {
    let now = now_ms();
    let due: bool = tx
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM steps WHERE status IN ('leased', 'running') AND lease_until < ?1)
                 OR EXISTS (SELECT 1 FROM runs WHERE status IN ('queued', 'running') AND deadline < ?1)",
        )?
        .query_row([now], |r| r.get(0))?;
    Ok(due)
}

/// Expire lost leases and time out overdue runs. Returns how many things changed.
pub fn reap(tx: &Transaction<'_>, cache: &SpecCache) -> Result<usize> {
    let now = now_ms();
    let mut changed = 0;
    let expired = held_where(tx, "lease_until < ?1", params![now])?;
    for held in &expired {
        lose(tx, cache, held, &LostCause::Expired)?;
        changed += 1;
    }
    let overdue: Vec<(String, Option<i64>, Option<String>)> = tx
        .prepare_cached(
            "SELECT id, timeout_ms, timeout_source FROM runs
             WHERE status IN ('queued', 'running') AND deadline < ?1",
        )?
        .query_map([now], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (run_id, timeout_ms, source) in overdue {
        let head = run_head(tx, &run_id)?;
        let why = super::runs::timeout_reason(timeout_ms, source.as_deref());
        end_run(tx, cache, &head, RunStatus::TimedOut, &why)?;
        changed += 1;
    }
    Ok(changed)
}

/// Every attempt `agent_id` holds is lost, for `cause`. Returns how many there were.
pub fn lose_held(
    tx: &Transaction<'_>,
    cache: &SpecCache,
    agent_id: &str,
    cause: &LostCause,
) -> Result<usize> {
    let held = held_where(tx, "agent_id = ?1", params![agent_id])?;
    for h in &held {
        lose(tx, cache, h, cause)?;
    }
    Ok(held.len())
}

/// Held (leased or running) attempts matching `filter`, a condition on `steps` with `?1`.
fn held_where(
    tx: &Transaction<'_>,
    filter: &str,
    args: impl rusqlite::Params,
) -> Result<Vec<HeldAttempt>> {
    let sql = format!(
        "SELECT run_id, step_id, attempt, lost, agent_name FROM steps
         WHERE status IN ('leased', 'running') AND {filter} ORDER BY seq"
    );
    let held = tx
        .prepare_cached(&sql)?
        .query_map(args, |r| {
            Ok(HeldAttempt {
                run_id: r.get(0)?,
                step_id: r.get(1)?,
                attempt: r.get(2)?,
                lost: r.get(3)?,
                agent: r.get::<_, Option<String>>(4)?.unwrap_or_else(|| "?".into()),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(held)
}

/// The lease-lost transition for one held attempt (see [`crate::engine::lease_lost`]).
pub fn lose(
    tx: &Transaction<'_>,
    cache: &SpecCache,
    held: &HeldAttempt,
    cause: &LostCause,
) -> Result<()> {
    let change = lease_lost(held, cause);
    super::claims::insert_logs(
        tx,
        &held.run_id,
        &held.step_id,
        held.attempt,
        &[(LogStream::System, change.line)],
    )?;
    match change.outcome {
        LostOutcome::Fail(why) => {
            tx.prepare_cached("UPDATE steps SET lost = ?3 WHERE run_id = ?1 AND step_id = ?2")?
                .execute(params![held.run_id, held.step_id, change.lost])?;
            let head = run_head(tx, &held.run_id)?;
            let ix = workflows::index(tx, cache, &head.workflow, head.version)?;
            step_ended(
                tx,
                &ix,
                &head,
                &held.step_id,
                StepStatus::Failed,
                Some(&why),
            )?;
        }
        LostOutcome::Requeue => {
            tx.prepare_cached(
                "UPDATE steps SET status = 'ready', lost = ?4, agent_id = NULL, lease_until = NULL,
                        not_before = ?5
                 WHERE run_id = ?1 AND step_id = ?2 AND attempt = ?3",
            )?
            .execute(params![
                held.run_id,
                held.step_id,
                held.attempt,
                change.lost,
                now_ms()
            ])?;
            insert_event(
                tx,
                "step.lease_expired",
                Some(&held.run_id),
                Some(&held.step_id),
                serde_json::json!({
                    "attempt": held.attempt,
                    "agent": held.agent,
                    "reason": cause.as_str(),
                }),
            )?;
        }
    }
    Ok(())
}
