//! Reaping: leases whose agents stopped heartbeating go back to the queue (or fail the step once
//! its lost-agent budget is spent), and runs past their deadline time out.

use rusqlite::{Transaction, params};

use super::runs::end_run;
use super::transitions::{run_head, step_ended};
use super::{insert_event, workflows};
use crate::Result;
use crate::engine::{LOST_BUDGET, SpecCache};
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
    let expired: Vec<(String, String, u32, u32, Option<String>)> = tx
        .prepare_cached(
            "SELECT run_id, step_id, attempt, lost, agent_name FROM steps
             WHERE status IN ('leased', 'running') AND lease_until < ?1",
        )?
        .query_map([now], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    for (run_id, step_id, attempt, lost, agent) in expired {
        let agent = agent.unwrap_or_else(|| "?".into());
        let lost = lost + 1;
        let line = format!("attempt {attempt} lost: agent {agent} stopped renewing its lease");
        super::claims::insert_logs(tx, &run_id, &step_id, attempt, &[(LogStream::System, line)])?;
        if lost > LOST_BUDGET {
            let head = run_head(tx, &run_id)?;
            let ix = workflows::index(tx, cache, &head.workflow, head.version)?;
            let why = format!("lost its agent {lost} times (last: {agent})");
            tx.prepare_cached("UPDATE steps SET lost = ?3 WHERE run_id = ?1 AND step_id = ?2")?
                .execute(params![run_id, step_id, lost])?;
            step_ended(tx, &ix, &head, &step_id, StepStatus::Failed, Some(&why))?;
        } else {
            tx.prepare_cached(
                "UPDATE steps SET status = 'ready', lost = ?3, agent_id = NULL, lease_until = NULL, not_before = ?4
                 WHERE run_id = ?1 AND step_id = ?2",
            )?
            .execute(params![run_id, step_id, lost, now])?;
            insert_event(
                tx,
                "step.lease_expired",
                Some(&run_id),
                Some(&step_id),
                serde_json::json!({ "attempt": attempt, "agent": agent }),
            )?;
        }
        changed += 1;
    }
    let overdue: Vec<(String, Option<i64>)> = tx
        .prepare_cached(
            "SELECT id, timeout_ms FROM runs WHERE status IN ('queued', 'running') AND deadline < ?1",
        )?
        .query_map([now], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (run_id, timeout_ms) in overdue {
        let head = run_head(tx, &run_id)?;
        let why = match timeout_ms {
            Some(t) => format!(
                "run timed out after {}",
                humantime::format_duration(std::time::Duration::from_millis(
                    u64::try_from(t).unwrap_or(0)
                ))
            ),
            None => "run timed out".into(),
        };
        end_run(tx, cache, &head, RunStatus::TimedOut, &why)?;
        changed += 1;
    }
    Ok(changed)
}
