//! The worker side: claim ready steps (granting a lease and a new attempt number), mark them
//! running, renew leases, take logs and completions — each report fenced by its attempt number.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use rusqlite::{OptionalExtension, Transaction, params};

use super::transitions::{RunHead, run_head, step_ended, step_succeeded};
use super::{insert_event, workflows};
use crate::control::HeartbeatReply;
use crate::engine::{FailureDecision, SpecCache, SpecIndex, StepLimits, on_failure};
use crate::model::{
    LeaseRef, LogStream, RunStatus, StepOutcome, StepResult, StepStatus, StepTask, now_ms,
};
use crate::{Error, Result};

/// What a claim found.
#[derive(Debug, Default)]
pub struct Claimed {
    pub tasks: Vec<StepTask>,
    /// When the earliest ready-but-backing-off step becomes due, if nothing was granted.
    pub next_due: Option<i64>,
}

/// A run's head, workflow index and params, loaded once per claim.
type RunCtx = (RunHead, Arc<SpecIndex>, BTreeMap<String, serde_json::Value>);

struct AgentRow {
    name: String,
    labels: BTreeMap<String, String>,
    draining: bool,
}

/// Grant up to `max` ready steps whose selectors match the agent's labels, each with a lease of
/// `lease_ms` and the `limits` of what it may produce.
pub fn claim(
    tx: &Transaction<'_>,
    cache: &SpecCache,
    agent_id: &str,
    max: u32,
    lease_ms: i64,
    limits: &StepLimits,
) -> Result<Claimed> {
    let now = now_ms();
    let agent = tx
        .prepare_cached("SELECT name, labels, draining FROM agents WHERE id = ?1")?
        .query_row([agent_id], |r| {
            let labels: String = r.get(1)?;
            Ok(AgentRow {
                name: r.get(0)?,
                labels: serde_json::from_str(&labels).unwrap_or_default(),
                draining: r.get(2)?,
            })
        })
        .optional()?
        .ok_or_else(|| Error::not_found("agent", agent_id))?;
    renew_agent(tx, agent_id, now, lease_ms)?;
    let mut out = Claimed::default();
    if agent.draining || max == 0 {
        return Ok(out);
    }

    let mut chosen: Vec<(i64, String, String)> = Vec::new();
    {
        let mut stmt = tx.prepare_cached(
            "SELECT seq, run_id, step_id, selector FROM steps
             WHERE status = 'ready' AND not_before <= ?1 ORDER BY not_before, seq",
        )?;
        let mut rows = stmt.query([now])?;
        while let Some(r) = rows.next()? {
            let selector: Option<String> = r.get(3)?;
            if let Some(sel) = selector {
                let want: BTreeMap<String, String> = serde_json::from_str(&sel).unwrap_or_default();
                if !want.iter().all(|(k, v)| agent.labels.get(k) == Some(v)) {
                    continue;
                }
            }
            chosen.push((r.get(0)?, r.get(1)?, r.get(2)?));
            if chosen.len() >= max as usize {
                break;
            }
        }
    }

    let lease_until = now.saturating_add(lease_ms);
    let mut runs: HashMap<String, RunCtx> = HashMap::new();
    for (seq, run_id, step_id) in chosen {
        let attempt: u32 = tx
            .prepare_cached(
                "UPDATE steps SET status = 'leased', attempt = attempt + 1, agent_id = ?2,
                        agent_name = ?3, lease_until = ?4, started_at = ?5, finished_at = NULL,
                        log_bytes = 0
                 WHERE seq = ?1 RETURNING attempt",
            )?
            .query_row(params![seq, agent_id, agent.name, lease_until, now], |r| {
                r.get(0)
            })?;
        if !runs.contains_key(&run_id) {
            let head = run_head(tx, &run_id)?;
            let ix = workflows::index(tx, cache, &head.workflow, head.version)?;
            let params_json: String = tx
                .prepare_cached("SELECT params FROM runs WHERE id = ?1")?
                .query_row([&run_id], |r| r.get(0))?;
            if head.status == RunStatus::Queued {
                tx.prepare_cached(
                    "UPDATE runs SET status = 'running', started_at = ?2 WHERE id = ?1 AND status = 'queued'",
                )?
                .execute(params![run_id, now])?;
                insert_event(
                    tx,
                    "run.started",
                    Some(&run_id),
                    None,
                    serde_json::Value::Null,
                )?;
            }
            runs.insert(
                run_id.clone(),
                (
                    head,
                    ix,
                    serde_json::from_str(&params_json).unwrap_or_default(),
                ),
            );
        }
        let Some((head, ix, params_json)) = runs.get(&run_id) else {
            continue;
        };
        let Some(step) = ix.step(&step_id) else {
            step_ended(
                tx,
                ix,
                head,
                &step_id,
                StepStatus::Failed,
                Some("step missing from its workflow version"),
            )?;
            continue;
        };
        let lease = LeaseRef {
            run_id: run_id.clone(),
            step_id: step_id.clone(),
            attempt,
            agent_id: agent_id.to_string(),
        };
        let inputs = match super::step_inputs::inputs(tx, head, ix, params_json, step)? {
            Ok(inputs) => inputs,
            Err(msg) => {
                step_ended(tx, ix, head, &step_id, StepStatus::Failed, Some(&msg))?;
                continue;
            }
        };
        if !inputs.notes.is_empty() {
            let lines: Vec<(LogStream, String)> = inputs
                .notes
                .iter()
                .map(|n| (LogStream::System, format!("imx: {n}")))
                .collect();
            insert_logs(tx, &run_id, &step_id, attempt, &lines)?;
        }
        insert_event(
            tx,
            "step.leased",
            Some(&run_id),
            Some(&step_id),
            serde_json::json!({ "agent": agent.name, "attempt": attempt }),
        )?;
        out.tasks.push(StepTask {
            idempotency_key: format!("{run_id}/{step_id}"),
            workflow: head.workflow.clone(),
            kind: inputs.kind,
            env: inputs.env,
            workdir: inputs.workdir,
            timeout_ms: step.timeout_ms,
            lease,
            lease_until,
            max_output_bytes: Some(limits.max_output_bytes),
            max_log_bytes: Some(limits.max_log_bytes),
        });
    }
    if out.tasks.is_empty() {
        out.next_due = tx
            .prepare_cached("SELECT min(not_before) FROM steps WHERE status = 'ready'")?
            .query_row([], |r| r.get(0))?;
    }
    Ok(out)
}

/// leased → running. Repeating it for the same attempt is harmless.
pub fn start(tx: &Transaction<'_>, lease: &LeaseRef) -> Result<()> {
    let status = held_status(tx, lease)?;
    match status {
        Some(StepStatus::Leased) => {
            tx.prepare_cached(
                "UPDATE steps SET status = 'running' WHERE run_id = ?1 AND step_id = ?2",
            )?
            .execute(params![lease.run_id, lease.step_id])?;
            insert_event(
                tx,
                "step.running",
                Some(&lease.run_id),
                Some(&lease.step_id),
                serde_json::json!({ "attempt": lease.attempt }),
            )?;
            Ok(())
        }
        Some(StepStatus::Running) => Ok(()),
        _ => Err(stale(lease)),
    }
}

fn stale(lease: &LeaseRef) -> Error {
    Error::Conflict(format!(
        "attempt {} of step {:?} in run {} is no longer held by this agent",
        lease.attempt,
        lease.step_id,
        crate::model::short_id(&lease.run_id)
    ))
}

/// The step's status if `lease` still holds it (right attempt, right agent, leased or running).
fn held_status(tx: &Transaction<'_>, lease: &LeaseRef) -> Result<Option<StepStatus>> {
    let row: Option<(String, u32, Option<String>)> = tx
        .prepare_cached(
            "SELECT status, attempt, agent_id FROM steps WHERE run_id = ?1 AND step_id = ?2",
        )?
        .query_row(params![lease.run_id, lease.step_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    Ok(row.and_then(|(status, attempt, agent)| {
        let status: StepStatus = status.parse().ok()?;
        let held = matches!(status, StepStatus::Leased | StepStatus::Running)
            && attempt == lease.attempt
            && agent.as_deref() == Some(lease.agent_id.as_str());
        held.then_some(status)
    }))
}

/// The agent was heard from: it is online for another lease of `lease_ms` (recorded with it, so
/// its state reads the same to everyone, and follows the control plane's current setting).
fn renew_agent(tx: &Transaction<'_>, agent_id: &str, now: i64, lease_ms: i64) -> Result<()> {
    tx.prepare_cached(
        "UPDATE agents SET last_heartbeat = ?2, stopped_at = NULL, lease_ms = ?3 WHERE id = ?1",
    )?
    .execute(params![agent_id, now, lease_ms])?;
    Ok(())
}

/// Renew the agent and the leases it still holds.
pub fn heartbeat(
    tx: &Transaction<'_>,
    agent_id: &str,
    leases: &[LeaseRef],
    lease_ms: i64,
) -> Result<HeartbeatReply> {
    let now = now_ms();
    let draining: Option<bool> = tx
        .prepare_cached("SELECT draining FROM agents WHERE id = ?1")?
        .query_row([agent_id], |r| r.get(0))
        .optional()?;
    let Some(draining) = draining else {
        return Ok(HeartbeatReply {
            renewed: Vec::new(),
            revoked: leases.to_vec(),
            draining: true,
            removed: true,
            lease_ms: None,
        });
    };
    renew_agent(tx, agent_id, now, lease_ms)?;
    let mut reply = HeartbeatReply {
        draining,
        lease_ms: u64::try_from(lease_ms).ok(),
        ..HeartbeatReply::default()
    };
    for lease in leases {
        let n = tx
            .prepare_cached(
                "UPDATE steps SET lease_until = ?5 WHERE run_id = ?1 AND step_id = ?2 AND attempt = ?3
                 AND agent_id = ?4 AND status IN ('leased', 'running')",
            )?
            .execute(params![lease.run_id, lease.step_id, lease.attempt, agent_id, now.saturating_add(lease_ms)])?;
        if n == 1 && lease.agent_id == agent_id {
            reply.renewed.push(lease.clone());
        } else {
            reply.revoked.push(lease.clone());
        }
    }
    Ok(reply)
}

/// Which leases are no longer held, read-only (see `ControlPlane::check_leases`).
pub fn check(tx: &Transaction<'_>, agent_id: &str, leases: &[LeaseRef]) -> Result<HeartbeatReply> {
    let draining: Option<bool> = tx
        .prepare_cached("SELECT draining FROM agents WHERE id = ?1")?
        .query_row([agent_id], |r| r.get(0))
        .optional()?;
    let Some(draining) = draining else {
        return Ok(HeartbeatReply {
            renewed: Vec::new(),
            revoked: leases.to_vec(),
            draining: true,
            removed: true,
            lease_ms: None,
        });
    };
    let mut reply = HeartbeatReply {
        draining,
        ..HeartbeatReply::default()
    };
    for lease in leases {
        if lease.agent_id == agent_id && held_status(tx, lease)?.is_some() {
            reply.renewed.push(lease.clone());
        } else {
            reply.revoked.push(lease.clone());
        }
    }
    Ok(reply)
}

/// Append captured lines for a held attempt, keeping at most `max_bytes` of output per attempt.
/// Past it, output lines are not stored; the first time, one line says so. imx's own lines
/// (`system`) are always kept: an agent that cuts its log itself says how much it cut in one.
pub fn append_logs(
    tx: &Transaction<'_>,
    lease: &LeaseRef,
    lines: &[(LogStream, String)],
    max_bytes: u64,
) -> Result<()> {
    if held_status(tx, lease)?.is_none() {
        return Err(stale(lease));
    }
    let stored: u64 = tx
        .prepare_cached("SELECT log_bytes FROM steps WHERE run_id = ?1 AND step_id = ?2")?
        .query_row(params![lease.run_id, lease.step_id], |r| r.get(0))?;
    let mut total = stored;
    let mut over = false;
    let mut keep: Vec<&(LogStream, String)> = Vec::with_capacity(lines.len());
    for entry in lines {
        if entry.0 == LogStream::System {
            keep.push(entry);
            continue;
        }
        let size = entry.1.len() as u64;
        // Past the limit everything is cut: the log is truncated, never left with gaps.
        if over || total.saturating_add(size) > max_bytes {
            over = true;
            continue;
        }
        total += size;
        keep.push(entry);
    }
    let cut_line;
    if over && stored <= max_bytes {
        // The first lines past the limit: say so once (the count moves past the limit).
        cut_line = (
            LogStream::System,
            crate::engine::limits::log_limit_reached_line(max_bytes),
        );
        keep.push(&cut_line);
        total = max_bytes.saturating_add(1);
    }
    if total != stored {
        tx.prepare_cached("UPDATE steps SET log_bytes = ?3 WHERE run_id = ?1 AND step_id = ?2")?
            .execute(params![lease.run_id, lease.step_id, total])?;
    }
    insert_log_refs(tx, &lease.run_id, &lease.step_id, lease.attempt, &keep)
}

/// Insert log lines (no lease check: for imx's own system lines).
pub fn insert_logs(
    tx: &Transaction<'_>,
    run_id: &str,
    step_id: &str,
    attempt: u32,
    lines: &[(LogStream, String)],
) -> Result<()> {
    let refs: Vec<&(LogStream, String)> = lines.iter().collect();
    insert_log_refs(tx, run_id, step_id, attempt, &refs)
}

fn insert_log_refs(
    tx: &Transaction<'_>,
    run_id: &str,
    step_id: &str,
    attempt: u32,
    lines: &[&(LogStream, String)],
) -> Result<()> {
    let now = now_ms();
    let mut ins = tx.prepare_cached(
        "INSERT INTO logs (run_id, step_id, attempt, time, stream, line) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for (stream, line) in lines.iter().copied() {
        ins.execute(params![
            run_id,
            step_id,
            attempt,
            now,
            stream.as_str(),
            line
        ])?;
    }
    Ok(())
}

/// Record the end of attempts; each result is accepted only if its lease still holds the step.
/// A result whose outputs are larger than `max_output_bytes` is recorded as a failed attempt
/// that says so (see [`crate::engine::limits::check_outputs`]).
pub fn complete(
    tx: &Transaction<'_>,
    cache: &SpecCache,
    results: &[(LeaseRef, StepResult)],
    max_output_bytes: u64,
) -> Result<Vec<bool>> {
    let now = now_ms();
    let mut accepted = Vec::with_capacity(results.len());
    let mut runs: HashMap<&str, Arc<SpecIndex>> = HashMap::new();
    for (lease, result) in results {
        if held_status(tx, lease)?.is_none() {
            accepted.push(false);
            continue;
        }
        let refused = crate::engine::limits::check_outputs(result, max_output_bytes);
        let result = refused.as_ref().unwrap_or(result);
        // Read the head afresh (an earlier result in this batch may have ended the run), but
        // look the workflow index up once per run.
        let head = run_head(tx, &lease.run_id)?;
        let ix = match runs.get(lease.run_id.as_str()) {
            Some(ix) => ix.clone(),
            None => {
                let ix = workflows::index(tx, cache, &head.workflow, head.version)?;
                runs.insert(&lease.run_id, ix.clone());
                ix
            }
        };
        match result.outcome {
            StepOutcome::Succeeded => {
                let outputs = if result.outputs.is_empty() {
                    None
                } else {
                    Some(serde_json::to_string(&result.outputs)?)
                };
                tx.prepare_cached(
                    "UPDATE steps SET status = 'succeeded', finished_at = ?3, exit_code = ?4, outputs = ?5,
                            error = NULL, lease_until = NULL
                     WHERE run_id = ?1 AND step_id = ?2",
                )?
                .execute(params![lease.run_id, lease.step_id, now, result.exit_code, outputs])?;
                insert_event(
                    tx,
                    "step.succeeded",
                    Some(&lease.run_id),
                    Some(&lease.step_id),
                    serde_json::json!({ "attempt": lease.attempt }),
                )?;
                step_succeeded(tx, &ix, &head, &lease.step_id)?;
            }
            StepOutcome::Failed => {
                let error = result.error.clone().unwrap_or_else(|| "failed".into());
                // A failed attempt's outputs (e.g. an http step's status and body) are kept for
                // `run show`; templates only ever read the outputs of succeeded steps.
                let outputs = if result.outputs.is_empty() {
                    None
                } else {
                    Some(serde_json::to_string(&result.outputs)?)
                };
                let tries: u32 = tx
                    .prepare_cached(
                        "UPDATE steps SET tries = tries + 1, exit_code = ?3, error = ?4, outputs = ?5
                         WHERE run_id = ?1 AND step_id = ?2 RETURNING tries",
                    )?
                    .query_row(
                        params![lease.run_id, lease.step_id, result.exit_code, error, outputs],
                        |r| r.get(0),
                    )?;
                let retry = ix
                    .step(&lease.step_id)
                    .map(|s| s.retry.clone())
                    .unwrap_or_default();
                match on_failure(tries, &retry) {
                    FailureDecision::Retry { delay_ms } if !head.status.is_terminal() => {
                        let due = now.saturating_add(i64::try_from(delay_ms).unwrap_or(i64::MAX));
                        tx.prepare_cached(
                            "UPDATE steps SET status = 'ready', not_before = ?3, agent_id = NULL,
                                    lease_until = NULL, finished_at = ?4
                             WHERE run_id = ?1 AND step_id = ?2",
                        )?
                        .execute(params![
                            lease.run_id,
                            lease.step_id,
                            due,
                            now
                        ])?;
                        insert_event(
                            tx,
                            "step.retrying",
                            Some(&lease.run_id),
                            Some(&lease.step_id),
                            serde_json::json!({ "attempt": lease.attempt, "error": error, "delay_ms": delay_ms }),
                        )?;
                        insert_logs(
                            tx,
                            &lease.run_id,
                            &lease.step_id,
                            lease.attempt,
                            &[(
                                LogStream::System,
                                format!(
                                    "attempt {} failed: {error}; retry {tries} of {} in {}",
                                    lease.attempt,
                                    retry.max,
                                    humantime::format_duration(std::time::Duration::from_millis(
                                        delay_ms
                                    ))
                                ),
                            )],
                        )?;
                    }
                    _ => step_ended(
                        tx,
                        &ix,
                        &head,
                        &lease.step_id,
                        StepStatus::Failed,
                        Some(&error),
                    )?,
                }
            }
        }
        accepted.push(true);
    }
    Ok(accepted)
}
