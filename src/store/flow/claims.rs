//! The worker side: claim ready steps (granting a lease and a new attempt number), mark them
//! running, renew leases, take logs and completions — each report fenced by its attempt number,
//! each decided by the engine (`engine::transitions::claim`, `complete`).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::Rows;
use super::decide::{decide, index};
use super::step_inputs::{render, upstream_ids};
use crate::control::HeartbeatReply;
use crate::engine::transitions::{self as engine, claim::Prepared};
use crate::engine::{
    Claimant, Loaded, Rejection, RunRow, SpecCache, SpecIndex, StepLimits, StepRow,
};
use crate::model::{CapturedLine, LeaseRef, RunStatus, StepResult, StepTask, now_ms};
use crate::store::api::{Claimed, Completed};
use crate::{Error, Result};

/// A run's head, workflow index and params, loaded once per claim, and whether its row is
/// locked.
type RunCtx = (
    RunRow,
    Arc<SpecIndex>,
    BTreeMap<String, serde_json::Value>,
    bool,
);

/// A run's head and params, locked or not.
fn load_run<T: Rows + ?Sized>(
    tx: &T,
    run_id: &str,
    lock: bool,
) -> Result<(RunRow, BTreeMap<String, serde_json::Value>)> {
    let (head, params_json) = tx.run_row_with_params(run_id, lock)?;
    Ok((head, serde_json::from_str(&params_json).unwrap_or_default()))
}

/// Grant up to `max` ready steps whose selectors match the agent's labels, each with a lease of
/// `lease_ms` and the `limits` of what it may produce.
pub fn claim<T: Rows + ?Sized>(
    tx: &T,
    cache: &SpecCache,
    agent_id: &str,
    max: u32,
    lease_ms: i64,
    limits: &StepLimits,
) -> Result<Claimed> {
    let now = now_ms();
    let agent = tx
        .claim_agent(agent_id)?
        .ok_or_else(|| Error::not_found("agent", agent_id))?;
    tx.renew_agent(agent_id, now, lease_ms)?;
    let mut out = Claimed::default();
    if agent.draining || max == 0 {
        return Ok(out);
    }
    let chosen = tx.ready_steps(&agent.labels, max, now)?;
    // The runs' rows, in id order (every claimer takes them in the same order). A lease
    // changes only its step (locked by the pick), so a running run's row is read as committed,
    // not locked: claims do not queue behind the run's completions, which lock it to count.
    // It is locked when the run itself changes: a queued run starts with its first lease; a
    // step missing from its version or whose inputs fail ends at once (see below).
    let mut run_ids: Vec<&str> = chosen.iter().map(|(r, _)| r.as_str()).collect();
    run_ids.sort_unstable();
    run_ids.dedup();
    let mut runs: HashMap<String, RunCtx> = HashMap::with_capacity(run_ids.len());
    // A run with one step picked whose workflow is known (the run was seen lately): that
    // step's upstream outputs are read with the run's row.
    let mut read_ahead: HashMap<String, (Arc<SpecIndex>, super::Outputs)> = HashMap::new();
    for run_id in run_ids {
        let mut picked = chosen.iter().filter(|(r, _)| r == run_id);
        let only = match (picked.next(), picked.next()) {
            (Some((_, row)), None) => Some(row.step_id.as_str()),
            _ => None,
        };
        let hint = only.and_then(|step_id| Some((step_id, cache.for_run(run_id)?)));
        let (mut head, mut params_json) = match hint {
            Some((step_id, ix)) => {
                let wanted = upstream_ids(&ix, step_id);
                let ((head, params), outputs) = tx.run_with_outputs(run_id, &wanted)?;
                read_ahead.insert(run_id.to_string(), (ix.clone(), outputs));
                (head, serde_json::from_str(&params).unwrap_or_default())
            }
            None => load_run(tx, run_id, false)?,
        };
        let lock = head.status == RunStatus::Queued;
        if lock {
            (head, params_json) = load_run(tx, run_id, true)?;
        }
        let ix = index(tx, cache, &head.workflow, head.version)?;
        cache.note_run(run_id, &ix);
        runs.insert(run_id.to_string(), (head, ix, params_json, lock));
    }
    let claimant = Claimant {
        id: agent_id.to_string(),
        name: agent.name,
    };
    let lease_until = now.saturating_add(lease_ms);
    for (run_id, row) in chosen {
        let Some((head, ix, params_json, locked)) = runs.get_mut(&run_id) else {
            continue;
        };
        let step_id = row.step_id.clone();
        let attempt = row.attempt.saturating_add(1);
        let spec = ix.step(&step_id);
        let inputs = match spec {
            Some(step) => {
                let upstream = match read_ahead.remove(&run_id) {
                    Some((seen, outputs)) if Arc::ptr_eq(&seen, ix) => outputs,
                    _ => tx.succeeded_outputs(&run_id, &upstream_ids(ix, &step_id))?,
                };
                let vars = if crate::model::is_instance_id(&step_id) {
                    tx.step_vars(&run_id, &step_id)?
                } else {
                    None
                };
                render(head, ix, params_json, step, upstream, vars.as_deref())
            }
            None => Err(String::new()),
        };
        if inputs.is_err() && !*locked {
            // The step fails at once, which counts in (and may end) the run: decide from its
            // row locked (its params do not change).
            *head = tx.run_row(&run_id)?;
            *locked = true;
        }
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
            mask: Vec::new(),
            secret_slots: inputs.secret_slots,
            artifacts: step.artifacts.clone(),
            inputs: step.inputs.clone(),
            max_artifact_bytes: None,
        });
    }
    if out.tasks.is_empty() {
        out.next_due = tx.next_due()?;
    }
    Ok(out)
}

/// leased → running. Repeating it for the same attempt is harmless.
pub fn start<T: Rows + ?Sized>(tx: &T, lease: &LeaseRef) -> Result<()> {
    let row = tx.step_row(&lease.run_id, &lease.step_id)?;
    let decided = match &row {
        Some(row) => engine::claim::start(&lease.run_id, row, lease),
        None => Err(stale(lease)),
    };
    match decided {
        Ok(Some(cs)) => tx.apply_changeset(&cs, now_ms()),
        Ok(None) => Ok(()),
        Err(r) => Err(r.into_error()),
    }
}

fn stale(lease: &LeaseRef) -> Rejection {
    Rejection::Stale {
        run_id: lease.run_id.clone(),
        step_id: lease.step_id.clone(),
        attempt: lease.attempt,
    }
}

/// The reply to an agent that no longer exists: every lease is revoked.
fn removed(leases: &[LeaseRef]) -> HeartbeatReply {
    HeartbeatReply {
        renewed: Vec::new(),
        revoked: leases.to_vec(),
        draining: true,
        removed: true,
        lease_ms: None,
    }
}

/// Renew the agent (recording `lease_ms` with it, so its state reads the same to everyone and
/// follows the control plane's current setting) and the leases it still holds.
pub fn heartbeat<T: Rows + ?Sized>(
    tx: &T,
    agent_id: &str,
    leases: &[LeaseRef],
    lease_ms: i64,
) -> Result<HeartbeatReply> {
    let now = now_ms();
    let Some(draining) = tx.agent_draining(agent_id)? else {
        return Ok(removed(leases));
    };
    tx.renew_agent(agent_id, now, lease_ms)?;
    let mut reply = HeartbeatReply {
        draining,
        lease_ms: u64::try_from(lease_ms).ok(),
        ..HeartbeatReply::default()
    };
    let lease_until = now.saturating_add(lease_ms);
    for lease in leases {
        let renewed = match tx.step_row(&lease.run_id, &lease.step_id)? {
            Some(row) => {
                match engine::claim::heartbeat(&lease.run_id, &row, lease, agent_id, lease_until) {
                    Ok(cs) => {
                        tx.apply_changeset(&cs, now)?;
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
pub fn check<T: Rows + ?Sized>(
    tx: &T,
    agent_id: &str,
    leases: &[LeaseRef],
) -> Result<HeartbeatReply> {
    let Some(draining) = tx.agent_draining(agent_id)? else {
        return Ok(removed(leases));
    };
    let mut reply = HeartbeatReply {
        draining,
        ..HeartbeatReply::default()
    };
    for (lease, row) in leases.iter().zip(tx.peek_leased_rows(leases)?) {
        let holds = lease.agent_id == agent_id && row.is_some_and(|row| engine::holds(&row, lease));
        if holds {
            reply.renewed.push(lease.clone());
        } else {
            reply.revoked.push(lease.clone());
        }
    }
    Ok(reply)
}

/// Append captured lines for a held attempt, capped by the engine (`engine::limits::cap_log`):
/// at most `max_bytes` of output per attempt, then one line that says so. Each line is stored
/// with the time the agent captured it (see [`log_time`]).
pub fn append_logs<T: Rows + ?Sized>(
    tx: &T,
    lease: &LeaseRef,
    lines: &[CapturedLine],
    max_bytes: u64,
) -> Result<()> {
    let held = tx
        .step_row(&lease.run_id, &lease.step_id)?
        .is_some_and(|row| engine::holds(&row, lease));
    if !held {
        return Err(stale(lease).into_error());
    }
    let stored = tx.log_bytes(&lease.run_id, &lease.step_id)?;
    let (keep, total) = crate::engine::limits::cap_log(stored, lines, max_bytes);
    if total != stored {
        tx.set_log_bytes(&lease.run_id, &lease.step_id, total)?;
    }
    let now = now_ms();
    let keep: Vec<_> = keep
        .into_iter()
        .map(|(stream, line, at)| (stream, line, log_time(at, now)))
        .collect();
    tx.insert_logs(&lease.run_id, &lease.step_id, lease.attempt, &keep)
}

/// The time stored for a line the agent captured at `at`, received at `now`: the capture
/// time, but never later than its receipt (an agent whose clock is ahead, or a bogus time, is
/// clamped to it); the receipt time when the agent gave none (older agents) or one before 1970.
pub fn log_time(at: Option<i64>, now: i64) -> i64 {
    at.filter(|t| *t > 0).map_or(now, |t| t.min(now))
}

/// Record the end of attempts; each result is accepted only if its lease still holds the step.
/// A result whose outputs are larger than `max_output_bytes` is recorded as a failed attempt
/// that says so (see [`crate::engine::limits::check_outputs`]).
pub fn complete<T: Rows + ?Sized>(
    tx: &T,
    cache: &SpecCache,
    results: &[(LeaseRef, StepResult)],
    max_output_bytes: u64,
) -> Result<Completed> {
    let now = now_ms();
    let mut accepted = Vec::with_capacity(results.len());
    let mut readied = false;
    // Each run's row is locked and read once, with the rows of every step of it the results
    // name (and, when the run's workflow is known from the cache of runs seen lately, the
    // steps that need them, which the transitions ask for): one read a run, not one a result.
    // Run and step rows are then kept up to date here with what each result changes in them.
    let mut runs: HashMap<&str, Loading> = HashMap::new();
    for (lease, result) in results {
        if !runs.contains_key(lease.run_id.as_str()) {
            match first_look(tx, cache, results, lease)? {
                Some(loading) => runs.insert(&lease.run_id, loading),
                None => {
                    accepted.push(false);
                    continue;
                }
            };
        }
        let Some(run) = runs.get_mut(lease.run_id.as_str()) else {
            accepted.push(false);
            continue;
        };
        let row = match run.rows.get(&lease.step_id) {
            Some(row) => Some(row.clone()),
            None => tx.step_row(&lease.run_id, &lease.step_id)?,
        };
        let Some(row) = row else {
            accepted.push(false);
            continue;
        };
        if !engine::holds(&row, lease) {
            accepted.push(false);
            continue;
        }
        let more = run
            .ix
            .dependents(&lease.step_id)
            .filter_map(|s| run.rows.get(&s.id).cloned());
        let mut st = Loaded::new(&run.ix, run.head.clone(), now)
            .with_steps([row])
            .with_steps(more);
        let decided = decide(tx, &mut st, |st| {
            engine::complete::complete(st, lease, result, max_output_bytes)
        })?;
        if let Ok(cs) = &decided {
            run.note(cs);
            readied |= cs.readies(now);
        }
        accepted.push(decided.is_ok());
    }
    Ok(Completed { accepted, readied })
}

/// A run as a batch of results sees it: its row and the step rows read so far, each as the
/// batch's changesets left it.
struct Loading {
    head: RunRow,
    ix: Arc<SpecIndex>,
    rows: HashMap<String, StepRow>,
}

impl Loading {
    /// What a changeset applied to the run changed in the rows kept.
    fn note(&mut self, cs: &crate::engine::Changeset) {
        for u in &cs.runs {
            self.head.apply(&u.change);
        }
        for u in &cs.steps {
            if let Some(row) = self.rows.get_mut(&u.step_id) {
                row.apply(&u.change);
            }
        }
        for r in &cs.removes {
            self.rows.remove(&r.step_id);
        }
    }
}

/// The first read of `lease`'s run for a batch of `results`: its row locked, then the rows of
/// `lease`'s step and of the other steps of the run the results name, and of the steps that
/// need them (those when the run's workflow is known). `None`: no such run, or no such step
/// as `lease`'s (the run is then looked at again for its next result).
fn first_look<T: Rows + ?Sized>(
    tx: &T,
    cache: &SpecCache,
    results: &[(LeaseRef, StepResult)],
    lease: &LeaseRef,
) -> Result<Option<Loading>> {
    let (run_id, first) = (lease.run_id.as_str(), lease.step_id.as_str());
    let hint = cache.for_run(run_id);
    let mut more: Vec<&str> = results
        .iter()
        .filter(|(l, _)| l.run_id == run_id)
        .map(|(l, _)| l.step_id.as_str())
        .collect();
    if let Some(ix) = &hint {
        let needers: Vec<&str> = std::iter::once(first)
            .chain(more.iter().copied())
            .flat_map(|id| ix.dependents(id).map(|s| s.id.as_str()))
            .collect();
        more.extend(needers);
    }
    more.sort_unstable();
    more.dedup();
    more.retain(|id| *id != first);
    let Some((head, row, rows)) = tx.run_and_step_rows_with(run_id, first, &more)? else {
        return Ok(None);
    };
    let ix = index(tx, cache, &head.workflow, head.version)?;
    cache.note_run(run_id, &ix);
    let rows = std::iter::once(row)
        .chain(rows)
        .map(|r| (r.step_id.clone(), r))
        .collect();
    Ok(Some(Loading { head, ix, rows }))
}
