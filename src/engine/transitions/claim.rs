//! An agent takes a step: claim (ready → leased, a new attempt; the run starts with its first
//! claim), start (leased → running) and heartbeat (the lease is renewed).

use super::{Work, holds};
use crate::engine::changeset::{Changeset, Decision, Rejection, RunChange, StepChange, StepGuard};
use crate::engine::state::{Claimant, Loaded, StepRow};
use crate::model::{LeaseRef, RunStatus, StepStatus};

/// What the store prepared for a step it grants: its inputs rendered (with notes for the
/// attempt's log about exports left out), or why they cannot be.
#[derive(Debug, Clone, Copy)]
pub enum Prepared<'p> {
    Ready { notes: &'p [String] },
    Failed(&'p str),
}

/// Grant step `step_id` (loaded) to `agent` with a lease of `lease_ms`: a new attempt, the
/// run's start if it was queued. A step missing from its workflow version, or whose inputs
/// cannot be prepared, fails at once (leased first, so its attempt is counted).
pub fn claim(
    st: &Loaded<'_>,
    step_id: &str,
    agent: &Claimant,
    lease_ms: i64,
    prepared: Prepared<'_>,
) -> Decision {
    let mut w = Work::new(st);
    let row = w.step(step_id)?;
    if row.status != StepStatus::Ready || row.not_before > st.now {
        return Err(Rejection::NotReady {
            run_id: st.run.id.clone(),
            step_id: step_id.to_string(),
        }
        .into());
    }
    let attempt = row.attempt.saturating_add(1);
    let now = st.now;
    w.update(
        step_id,
        StepChange::Lease {
            attempt,
            agent_id: agent.id.clone(),
            agent_name: agent.name.clone(),
            lease_until: now.saturating_add(lease_ms),
            at: now,
        },
    )?;
    if w.run().status == RunStatus::Queued {
        w.update_run(RunChange::Start { at: now });
        w.cs.event("run.started", None, serde_json::Value::Null);
    }
    let failure = if st.ix.step(step_id).is_none() {
        Some("step missing from its workflow version")
    } else {
        match prepared {
            Prepared::Failed(why) => Some(why),
            Prepared::Ready { notes } => {
                for note in notes {
                    w.cs.system_line(step_id, attempt, format!("imx: {note}"));
                }
                None
            }
        }
    };
    match failure {
        Some(why) => w.step_ended(step_id, StepStatus::Failed, Some(why))?,
        None => w.cs.event(
            "step.leased",
            Some(step_id),
            serde_json::json!({ "agent": agent.name, "attempt": attempt }),
        ),
    }
    w.finish()
}

/// leased → running. `None` when it already runs (repeating a start is harmless).
pub fn start(
    run_id: &str,
    row: &StepRow,
    lease: &LeaseRef,
) -> Result<Option<Changeset>, Rejection> {
    if !holds(row, lease) {
        return Err(stale(lease));
    }
    if row.status == StepStatus::Running {
        return Ok(None);
    }
    let mut cs = Changeset::new(run_id);
    cs.steps.push(crate::engine::changeset::StepUpdate {
        step_id: row.step_id.clone(),
        expect: guard(row),
        change: StepChange::Start,
    });
    cs.event(
        "step.running",
        Some(&row.step_id),
        serde_json::json!({ "attempt": lease.attempt }),
    );
    Ok(Some(cs))
}

/// Renew the lease `agent_id` holds on `row` (the attempt `lease` names) until `lease_until`.
pub fn heartbeat(
    run_id: &str,
    row: &StepRow,
    lease: &LeaseRef,
    agent_id: &str,
    lease_until: i64,
) -> Result<Changeset, Rejection> {
    let held = LeaseRef {
        agent_id: agent_id.to_string(),
        ..lease.clone()
    };
    if !holds(row, &held) {
        return Err(stale(lease));
    }
    let mut cs = Changeset::new(run_id);
    cs.steps.push(crate::engine::changeset::StepUpdate {
        step_id: row.step_id.clone(),
        expect: guard(row),
        change: StepChange::Renew { lease_until },
    });
    Ok(cs)
}

fn guard(row: &StepRow) -> StepGuard {
    StepGuard {
        status: row.status,
        attempt: row.attempt,
    }
}

pub(super) fn stale(lease: &LeaseRef) -> Rejection {
    Rejection::Stale {
        run_id: lease.run_id.clone(),
        step_id: lease.step_id.clone(),
        attempt: lease.attempt,
    }
}
