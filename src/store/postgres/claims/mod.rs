//! The worker side on PostgreSQL: claim ready steps (`ready`: picked and locked with
//! `FOR UPDATE SKIP LOCKED`, so claimers on every replica take different steps without
//! waiting), mark them running, renew leases, take logs and completions — each report fenced
//! by its attempt number, each lease decided by the engine (`engine::transitions::claim`), as
//! in the SQLite store (`store::sqlite::claims`).

pub mod ready;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

pub use ready::{Claimant, Grant, claim_ready, pick_ready};

use super::apply::apply;
use super::transitions::{self as load, decide, run_with_params, step_row};
use super::tx::{PgTx, get};
use super::workflows;
use crate::control::HeartbeatReply;
use crate::engine::transitions::{self as engine, claim::Prepared};
use crate::engine::{Loaded, Rejection, RunRow, SpecCache, SpecIndex, StepLimits, StepRow};
use crate::model::{LeaseRef, LogStream, StepResult, StepTask, now_ms};
use crate::store::sqlite::claims::Claimed;
use crate::store::sqlite::step_inputs;
use crate::{Error, Result};

/// A run's head, workflow index and params, loaded once per claim.
type RunCtx = (RunRow, Arc<SpecIndex>, BTreeMap<String, serde_json::Value>);

/// Grant up to `max` ready steps whose selectors match the agent's labels, each with a lease of
/// `lease_ms` and the `limits` of what it may produce.
pub fn claim(
    tx: &PgTx<'_>,
    cache: &SpecCache,
    agent_id: &str,
    max: u32,
    lease_ms: i64,
    limits: &StepLimits,
) -> Result<Claimed> {
    let now = now_ms();
    let agent = tx
        .query_opt(
            "SELECT name, labels, draining FROM agents WHERE id = $1",
            &[&agent_id],
        )?
        .ok_or_else(|| Error::not_found("agent", agent_id))?;
    let (name, labels, draining): (String, serde_json::Value, bool) =
        (get(&agent, 0)?, get(&agent, 1)?, get(&agent, 2)?);
    renew_agent(tx, agent_id, now, lease_ms)?;
    let mut out = Claimed::default();
    if draining || max == 0 {
        return Ok(out);
    }
    let picked = tx.block(pick_ready(tx.inner(), &labels, i64::from(max), now))?;
    let mut chosen: Vec<(String, StepRow)> = Vec::with_capacity(picked.len());
    for r in &picked {
        chosen.push((get(r, 0)?, step_row(r, 1)?));
    }
    // The runs' rows, locked in id order (every claimer takes them in the same order).
    let mut run_ids: Vec<&str> = chosen.iter().map(|(r, _)| r.as_str()).collect();
    run_ids.sort_unstable();
    run_ids.dedup();
    let mut runs: HashMap<String, RunCtx> = HashMap::new();
    for run_id in run_ids {
        let (head, params_json) = run_with_params(tx, run_id)?;
        let ix = workflows::index(tx, cache, &head.workflow, head.version)?;
        let params_json = serde_json::from_str(&params_json).unwrap_or_default();
        runs.insert(run_id.to_string(), (head, ix, params_json));
    }
    let claimant = crate::engine::Claimant {
        id: agent_id.to_string(),
        name: name.clone(),
    };
    let lease_until = now.saturating_add(lease_ms);
    for (run_id, row) in chosen {
        let Some((head, ix, params_json)) = runs.get_mut(&run_id) else {
            continue;
        };
        let step_id = row.step_id.clone();
        let attempt = row.attempt.saturating_add(1);
        let spec = ix.step(&step_id);
        let inputs = match spec {
            Some(step) => {
                let upstream = upstream_outputs(tx, &run_id, ix, &step_id)?;
                step_inputs::render(head, ix, params_json, step, upstream)
            }
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
        let r = tx.query_one(
            "SELECT min(not_before) FROM steps WHERE status = 'ready'",
            &[],
        )?;
        out.next_due = get(&r, 0)?;
    }
    Ok(out)
}

/// The outputs of every succeeded step upstream of `step_id`.
fn upstream_outputs(
    tx: &PgTx<'_>,
    run_id: &str,
    ix: &SpecIndex,
    step_id: &str,
) -> Result<BTreeMap<String, BTreeMap<String, String>>> {
    let ids: Vec<String> = step_inputs::upstream_ids(ix, step_id)
        .into_iter()
        .map(str::to_string)
        .collect();
    let mut out = BTreeMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    for r in tx.query(
        "SELECT step_id, outputs FROM steps
         WHERE run_id = $1 AND step_id = ANY($2) AND status = 'succeeded'",
        &[&run_id, &ids],
    )? {
        let outputs: Option<String> = get(&r, 1)?;
        let map = outputs
            .and_then(|o| serde_json::from_str(&o).ok())
            .unwrap_or_default();
        out.insert(get::<String>(&r, 0)?, map);
    }
    Ok(out)
}

/// Whether any step is ready to claim at `now` (ms).
pub fn any_ready(tx: &PgTx<'_>, now: i64) -> Result<bool> {
    let r = tx.query_one(
        "SELECT EXISTS (SELECT 1 FROM steps WHERE status = 'ready' AND not_before <= $1)",
        &[&now],
    )?;
    get(&r, 0)
}

/// leased → running. Repeating it for the same attempt is harmless.
pub fn start(tx: &PgTx<'_>, lease: &LeaseRef) -> Result<()> {
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
fn held(tx: &PgTx<'_>, lease: &LeaseRef) -> Result<bool> {
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

/// The agent was heard from: online for another lease of `lease_ms`.
fn renew_agent(tx: &PgTx<'_>, agent_id: &str, now: i64, lease_ms: i64) -> Result<()> {
    tx.execute(
        "UPDATE agents SET last_heartbeat = $2, stopped_at = NULL, lease_ms = $3 WHERE id = $1",
        &[&agent_id, &now, &lease_ms],
    )?;
    Ok(())
}

fn draining(tx: &PgTx<'_>, agent_id: &str) -> Result<Option<bool>> {
    tx.query_opt("SELECT draining FROM agents WHERE id = $1", &[&agent_id])?
        .map(|r| get(&r, 0))
        .transpose()
}

fn removed(leases: &[LeaseRef]) -> HeartbeatReply {
    HeartbeatReply {
        renewed: Vec::new(),
        revoked: leases.to_vec(),
        draining: true,
        removed: true,
        lease_ms: None,
    }
}

/// Renew the agent and the leases it still holds.
pub fn heartbeat(
    tx: &PgTx<'_>,
    agent_id: &str,
    leases: &[LeaseRef],
    lease_ms: i64,
) -> Result<HeartbeatReply> {
    let now = now_ms();
    let Some(draining) = draining(tx, agent_id)? else {
        return Ok(removed(leases));
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

/// Which leases are no longer held, read-only.
pub fn check(tx: &PgTx<'_>, agent_id: &str, leases: &[LeaseRef]) -> Result<HeartbeatReply> {
    let Some(draining) = draining(tx, agent_id)? else {
        return Ok(removed(leases));
    };
    let mut reply = HeartbeatReply {
        draining,
        ..HeartbeatReply::default()
    };
    for lease in leases {
        let holds = lease.agent_id == agent_id
            && tx
                .query_opt(
                    &format!(
                        "SELECT {} FROM steps WHERE run_id = $1 AND step_id = $2",
                        load::STEP_ROW
                    ),
                    &[&lease.run_id, &lease.step_id],
                )?
                .map(|r| step_row(&r, 0))
                .transpose()?
                .is_some_and(|row| engine::holds(&row, lease));
        if holds {
            reply.renewed.push(lease.clone());
        } else {
            reply.revoked.push(lease.clone());
        }
    }
    Ok(reply)
}

/// Append captured lines for a held attempt, capped by the engine
/// (`engine::limits::cap_log`).
pub fn append_logs(
    tx: &PgTx<'_>,
    lease: &LeaseRef,
    lines: &[(LogStream, String)],
    max_bytes: u64,
) -> Result<()> {
    if !held(tx, lease)? {
        return Err(stale(lease));
    }
    let r = tx.query_one(
        "SELECT log_bytes FROM steps WHERE run_id = $1 AND step_id = $2",
        &[&lease.run_id, &lease.step_id],
    )?;
    let stored = u64::try_from(get::<i64>(&r, 0)?).unwrap_or(0);
    let (keep, total) = crate::engine::limits::cap_log(stored, lines, max_bytes);
    if total != stored {
        tx.execute(
            "UPDATE steps SET log_bytes = $3 WHERE run_id = $1 AND step_id = $2",
            &[
                &lease.run_id,
                &lease.step_id,
                &i64::try_from(total).unwrap_or(i64::MAX),
            ],
        )?;
    }
    let now = now_ms();
    if !keep.is_empty() {
        tx.hint_changes();
    }
    for (stream, line) in &keep {
        let line: &str = line.as_ref();
        tx.execute(
            "INSERT INTO logs (run_id, step_id, attempt, time, stream, line)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &lease.run_id,
                &lease.step_id,
                &i64::from(lease.attempt),
                &now,
                &stream.as_str(),
                &line,
            ],
        )?;
    }
    Ok(())
}

/// Record the end of attempts; each result is accepted only if its lease still holds the step
/// (see `store::sqlite::claims::complete`).
pub fn complete(
    tx: &PgTx<'_>,
    cache: &SpecCache,
    results: &[(LeaseRef, StepResult)],
    max_output_bytes: u64,
) -> Result<Vec<bool>> {
    let now = now_ms();
    let mut accepted = Vec::with_capacity(results.len());
    let mut runs: HashMap<&str, Arc<SpecIndex>> = HashMap::new();
    for (lease, result) in results {
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
