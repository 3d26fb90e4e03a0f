//! The worker side: claim ready steps (granting a lease and a new attempt number), mark them
//! running, renew leases, take logs and completions — each report fenced by its attempt number.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use rusqlite::{OptionalExtension, Transaction, params};

use super::apply::apply;
use super::transitions::{self as load, RunHead, STEP_ROW, decide, run_with_params, step_row};
use super::workflows;
use crate::control::HeartbeatReply;
use crate::engine::transitions::{self as engine, claim::Prepared};
use crate::engine::{Claimant, Loaded, Rejection, SpecCache, SpecIndex, StepLimits, StepRow};
use crate::model::{LeaseRef, LogStream, StepResult, StepTask, now_ms};
pub use crate::store::api::Claimed;
use crate::{Error, Result};

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

    let mut chosen: Vec<(String, StepRow)> = Vec::new();
    {
        let mut stmt = tx.prepare_cached(&format!(
            "SELECT selector, run_id, {STEP_ROW} FROM steps
             WHERE status = 'ready' AND not_before <= ?1 ORDER BY not_before, seq"
        ))?;
        let mut rows = stmt.query([now])?;
        while let Some(r) = rows.next()? {
            let selector: Option<String> = r.get(0)?;
            if let Some(sel) = selector {
                let want: BTreeMap<String, String> = serde_json::from_str(&sel).unwrap_or_default();
                if !want.iter().all(|(k, v)| agent.labels.get(k) == Some(v)) {
                    continue;
                }
            }
            chosen.push((r.get(1)?, step_row(r, 2)?));
            if chosen.len() >= max as usize {
                break;
            }
        }
    }

    let claimant = Claimant {
        id: agent_id.to_string(),
        name: agent.name.clone(),
    };
    let lease_until = now.saturating_add(lease_ms);
    let mut runs: HashMap<String, RunCtx> = HashMap::new();
    for (run_id, row) in chosen {
        if !runs.contains_key(&run_id) {
            let (head, params_json) = run_with_params(tx, &run_id)?;
            let ix = workflows::index(tx, cache, &head.workflow, head.version)?;
            runs.insert(
                run_id.clone(),
                (
                    head,
                    ix,
                    serde_json::from_str(&params_json).unwrap_or_default(),
                ),
            );
        }
        let Some((head, ix, params_json)) = runs.get_mut(&run_id) else {
            continue;
        };
        let step_id = row.step_id.clone();
        let attempt = row.attempt.saturating_add(1);
        let spec = ix.step(&step_id);
        let inputs = match spec {
            Some(step) => super::step_inputs::inputs(tx, head, ix, params_json, step)?,
            None => Err(String::new()),
        };
        let prepared = match &inputs {
            Ok(inputs) => Prepared::Ready {
                notes: &inputs.notes,
            },
            Err(msg) => Prepared::Failed(msg),
        };
        let mut st = Loaded::new(ix.as_ref(), head.clone(), now).with_steps([row]);
        let decided = decide(tx, &mut st, |st| {
            engine::claim::claim(st, &step_id, &claimant, lease_ms, prepared)
        })?;
        let Ok(cs) = decided else {
            continue;
        };
        for u in &cs.runs {
            head.apply(&u.change);
        }
        let (Some(step), Ok(inputs)) = (spec, inputs) else {
            continue;
        };
        let lease = LeaseRef {
            run_id: run_id.clone(),
            step_id: step_id.clone(),
            attempt,
            agent_id: agent_id.to_string(),
        };
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
    let row = load::step(tx, &lease.run_id, &lease.step_id)?;
    let decided = match &row {
        Some(row) => engine::claim::start(&lease.run_id, row, lease),
        None => Err(Rejection::Stale {
            run_id: lease.run_id.clone(),
            step_id: lease.step_id.clone(),
            attempt: lease.attempt,
        }),
    };
    match decided {
        Ok(Some(cs)) => apply(tx, &cs, now_ms()),
        Ok(None) => Ok(()),
        Err(r) => Err(r.into_error()),
    }
}

/// Whether `lease` still holds its step (right attempt, right agent, leased or running).
fn held(tx: &Transaction<'_>, lease: &LeaseRef) -> Result<bool> {
    Ok(
        load::step(tx, &lease.run_id, &lease.step_id)?
            .is_some_and(|row| engine::holds(&row, lease)),
    )
}

fn stale(lease: &LeaseRef) -> Error {
    Rejection::Stale {
        run_id: lease.run_id.clone(),
        step_id: lease.step_id.clone(),
        attempt: lease.attempt,
    }
    .into_error()
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
    let lease_until = now.saturating_add(lease_ms);
    for lease in leases {
        let renewed = match load::step(tx, &lease.run_id, &lease.step_id)? {
            Some(row) => {
                match engine::claim::heartbeat(&lease.run_id, &row, lease, agent_id, lease_until) {
                    Ok(cs) => {
                        apply(tx, &cs, now)?;
                        true
                    }
                    Err(_) => false,
                }
            }
            None => false,
        };
        if renewed && lease.agent_id == agent_id {
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
        if lease.agent_id == agent_id && held(tx, lease)? {
            reply.renewed.push(lease.clone());
        } else {
            reply.revoked.push(lease.clone());
        }
    }
    Ok(reply)
}

/// Append captured lines for a held attempt, capped by the engine (`engine::limits::cap_log`):
/// at most `max_bytes` of output per attempt, then one line that says so.
pub fn append_logs(
    tx: &Transaction<'_>,
    lease: &LeaseRef,
    lines: &[(LogStream, String)],
    max_bytes: u64,
) -> Result<()> {
    if !held(tx, lease)? {
        return Err(stale(lease));
    }
    let stored: u64 = tx
        .prepare_cached("SELECT log_bytes FROM steps WHERE run_id = ?1 AND step_id = ?2")?
        .query_row(params![lease.run_id, lease.step_id], |r| r.get(0))?;
    let (keep, total) = crate::engine::limits::cap_log(stored, lines, max_bytes);
    if total != stored {
        tx.prepare_cached("UPDATE steps SET log_bytes = ?3 WHERE run_id = ?1 AND step_id = ?2")?
            .execute(params![lease.run_id, lease.step_id, total])?;
    }
    let now = now_ms();
    let mut ins = tx.prepare_cached(
        "INSERT INTO logs (run_id, step_id, attempt, time, stream, line) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for (stream, line) in &keep {
        ins.execute(params![
            lease.run_id,
            lease.step_id,
            lease.attempt,
            now,
            stream.as_str(),
            line.as_ref()
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
        // Read the rows afresh (an earlier result in this batch may have changed them), but
        // look the workflow index up once per run.
        let Some((head, row)) = load::run_and_step(tx, &lease.run_id, &lease.step_id)? else {
            accepted.push(false);
            continue;
        };
        if !engine::holds(&row, lease) {
            accepted.push(false);
            continue;
        }
        let ix = match runs.get(lease.run_id.as_str()) {
            Some(ix) => ix.clone(),
            None => {
                let ix = workflows::index(tx, cache, &head.workflow, head.version)?;
                runs.insert(&lease.run_id, ix.clone());
                ix
            }
        };
        let mut st = Loaded::new(&ix, head, now).with_steps([row]);
        let decided = decide(tx, &mut st, |st| {
            engine::complete::complete(st, lease, result, max_output_bytes)
        })?;
        accepted.push(decided.is_ok());
    }
    Ok(accepted)
}
