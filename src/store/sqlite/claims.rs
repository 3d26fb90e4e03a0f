//! The worker side's reads and writes on SQLite that are not a transition's rows (see
//! `store::flow::claims` for claims, heartbeats, logs and completions): the agent asking, the
//! ready steps it may take, upstream outputs for its inputs.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::{OptionalExtension, Transaction, params};

use super::transitions::{STEP_ROW, step_row};
use crate::Result;
use crate::engine::StepRow;
use crate::store::flow::{ClaimAgent, Outputs};

/// The agent a claim is for.
pub(super) fn agent(tx: &Transaction<'_>, agent_id: &str) -> Result<Option<ClaimAgent>> {
    Ok(tx
        .prepare_cached("SELECT name, labels, draining FROM agents WHERE id = ?1")?
        .query_row([agent_id], |r| {
            let labels: String = r.get(1)?;
            Ok(ClaimAgent {
                name: r.get(0)?,
                labels: serde_json::from_str(&labels).unwrap_or_default(),
                draining: r.get(2)?,
            })
        })
        .optional()?)
}

/// Whether an agent is draining; `None` if there is no such agent.
pub(super) fn draining(tx: &Transaction<'_>, agent_id: &str) -> Result<Option<bool>> {
    Ok(tx
        .prepare_cached("SELECT draining FROM agents WHERE id = ?1")?
        .query_row([agent_id], |r| r.get(0))
        .optional()?)
}

/// The agent was heard from: it is online for another lease of `lease_ms`.
pub(super) fn renew_agent(
    tx: &Transaction<'_>,
    agent_id: &str,
    now: i64,
    lease_ms: i64,
) -> Result<()> {
    tx.prepare_cached(
        "UPDATE agents SET last_heartbeat = ?2, stopped_at = NULL, lease_ms = ?3 WHERE id = ?1",
    )?
    .execute(params![agent_id, now, lease_ms])?;
    Ok(())
}

/// Up to `max` ready steps due at `now` whose selectors `labels` satisfy, in due order. The
/// selectors are matched here rather than in SQL (SQLite has no JSON containment); no lock is
/// needed: the one writer is this transaction.
pub(super) fn ready(
    tx: &Transaction<'_>,
    labels: &BTreeMap<String, String>,
    max: u32,
    now: i64,
) -> Result<Vec<(String, StepRow)>> {
    let mut chosen: Vec<(String, StepRow)> = Vec::new();
    let mut stmt = tx.prepare_cached(&format!(
        "SELECT selector, run_id, {STEP_ROW} FROM steps
         WHERE status = 'ready' AND not_before <= ?1 ORDER BY not_before, seq"
    ))?;
    let mut rows = stmt.query([now])?;
    while let Some(r) = rows.next()? {
        let selector: Option<String> = r.get(0)?;
        if let Some(sel) = selector {
            let want: BTreeMap<String, String> = serde_json::from_str(&sel).unwrap_or_default();
            if !want.iter().all(|(k, v)| labels.get(k) == Some(v)) {
                continue;
            }
        }
        chosen.push((r.get(1)?, step_row(r, 2)?));
        if chosen.len() >= max as usize {
            break;
        }
    }
    Ok(chosen)
}

/// The outputs of the succeeded steps among `step_ids` of a run.
pub(super) fn succeeded_outputs(
    tx: &Transaction<'_>,
    run_id: &str,
    step_ids: &BTreeSet<&str>,
) -> Result<Outputs> {
    let mut out = BTreeMap::new();
    let mut stmt = tx.prepare_cached(
        "SELECT outputs FROM steps WHERE run_id = ?1 AND step_id = ?2 AND status = 'succeeded'",
    )?;
    for id in step_ids {
        let outputs: Option<Option<String>> = stmt
            .query_row(params![run_id, id], |r| r.get(0))
            .optional()?;
        if let Some(outputs) = outputs {
            let map = outputs
                .and_then(|o| serde_json::from_str(&o).ok())
                .unwrap_or_default();
            out.insert(id.to_string(), map);
        }
    }
    Ok(out)
}
