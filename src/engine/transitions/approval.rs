//! Approval steps (`approval:`): never given to an agent. Once its needs are met such a step
//! goes `ready → waiting` in the same changeset ([`hold_released`], hooked into the end of
//! every transition that releases steps, and [`hold`] for steps a new or admitted run starts
//! with); a person ends it with [`decide`] (`approved` → succeeded, `rejected` → failed with
//! the rejection as its error), or its `timeout` does ([`time_out`], from the reaper). Who may
//! decide is the control plane's check (`Approvers::allow`): the transition records who did.

use super::Work;
use crate::engine::changeset::{Decision, Refusal, Rejection, RunChange, StepChange};
use crate::engine::state::{Loaded, Need};
use crate::model::{ApprovalDecision, ApprovalSpec, RunStatus, StepKind, StepStatus};

/// A person's decision on an approval step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub decision: ApprovalDecision,
    /// The principal deciding (`user:alice`).
    pub by: String,
    pub comment: Option<String>,
}

/// The step's approval settings, if it is an approval step.
fn approval_of<'s>(st: &'s Loaded<'_>, step: &str) -> Option<&'s ApprovalSpec> {
    match &st.ix.step(step)?.kind {
        StepKind::Approval(a) => Some(a),
        _ => None,
    }
}

/// When a step that starts waiting at `now` times out.
fn deadline(spec: &ApprovalSpec, since: i64) -> Option<i64> {
    spec.timeout_ms
        .map(|t| since.saturating_add(i64::try_from(t).unwrap_or(i64::MAX)))
}

/// Turn the ready approval step `id` into a waiting one.
fn wait(w: &mut Work<'_, '_>, id: &str, spec: &ApprovalSpec) -> Result<(), Refusal> {
    let until = deadline(spec, w.now());
    w.update(id, StepChange::Wait { until })?;
    // A run whose first step waits has started (as a claim starts it): it is `running`.
    if w.run().status == RunStatus::Queued {
        let at = w.now();
        w.update_run(RunChange::Start { at });
        w.cs.event("run.started", None, serde_json::Value::Null);
    }
    // It was never ready for an agent: its `step.ready` event (from the release) goes.
    w.cs.events
        .retain(|e| !(e.kind == "step.ready" && e.step_id.as_deref() == Some(id)));
    w.cs.event(
        "step.waiting",
        Some(id),
        serde_json::json!({
            "approvers": spec.approvers,
            "deadline": until.map(crate::model::time::json),
        }),
    );
    Ok(())
}

/// The hook at the end of a transition: every approval step the changeset made ready waits
/// instead.
pub(crate) fn hold_released(w: &mut Work<'_, '_>) -> Result<(), Refusal> {
    let released: Vec<String> =
        w.cs.steps
            .iter()
            .filter(|u| {
                matches!(
                    u.change,
                    StepChange::Release {
                        status: StepStatus::Ready,
                        ..
                    } | StepChange::Reset {
                        status: StepStatus::Ready,
                        ..
                    }
                )
            })
            .map(|u| u.step_id.clone())
            .collect();
    let st = w.st;
    for id in released {
        let Some(spec) = approval_of(st, &id) else {
            continue;
        };
        if w.step(&id)?.status == StepStatus::Ready {
            wait(w, &id, spec)?;
        }
    }
    Ok(())
}

/// The approval steps of a run that are `ready` now (made ready outside the engine: a new
/// run's first steps, a run admitted to its concurrency slot) wait instead (an empty
/// changeset when there are none).
pub fn hold(st: &Loaded<'_>) -> Decision {
    let ids: Vec<&str> = st
        .ix
        .spec
        .steps
        .iter()
        .filter(|s| matches!(s.kind, StepKind::Approval(_)))
        .map(|s| s.id.as_str())
        .collect();
    let missing: Vec<String> = ids
        .iter()
        .filter(|id| !st.steps.contains_key(**id))
        .map(|id| (*id).to_string())
        .collect();
    if !missing.is_empty() {
        return Err(Refusal::Need(if st.all_steps {
            Need::AllSteps
        } else {
            Need::Steps(missing)
        }));
    }
    let mut w = Work::new(st);
    for id in ids {
        let Some(spec) = approval_of(st, id) else {
            continue;
        };
        if w.step(id)?.status == StepStatus::Ready {
            wait(&mut w, id, spec)?;
        }
    }
    Ok(w.cs)
}

/// Refuse unless `step` is an approval step that is waiting.
fn waiting<'s>(st: &'s Loaded<'_>, step: &str) -> Result<&'s ApprovalSpec, Refusal> {
    if st.ix.step(step).is_none() {
        let ids: Vec<&str> = st.ix.spec.steps.iter().map(|s| s.id.as_str()).collect();
        return Err(Rejection::NoSuchStep {
            run_id: st.run.id.clone(),
            step_id: step.to_string(),
            suggestion: crate::suggest::nearest(step, &ids).map(str::to_string),
        }
        .into());
    }
    let Some(row) = st.steps.get(step) else {
        return Err(Refusal::Need(Need::Steps(vec![step.to_string()])));
    };
    let spec = approval_of(st, step);
    match spec {
        Some(spec) if row.status == StepStatus::Waiting && !st.run.status.is_terminal() => Ok(spec),
        _ => Err(Rejection::NotWaiting {
            run_id: st.run.id.clone(),
            step_id: step.to_string(),
            status: row.status,
            approval: spec.is_some(),
        }
        .into()),
    }
}

/// A person approves or rejects the waiting approval step `step`: approved, it succeeds and
/// its dependents are released; rejected, it fails with the rejection (and comment) as its
/// error, and downstream follows the usual rules. Its outputs record the decision (`decision`,
/// `by`, `comment`), for `run show` and downstream templates.
pub fn decide(st: &Loaded<'_>, step: &str, verdict: &Verdict) -> Decision {
    waiting(st, step)?;
    let mut outputs = serde_json::Map::new();
    outputs.insert("decision".into(), verdict.decision.as_str().into());
    outputs.insert("by".into(), verdict.by.clone().into());
    if let Some(c) = &verdict.comment {
        outputs.insert("comment".into(), c.clone().into());
    }
    let outputs = Some(serde_json::Value::Object(outputs).to_string());
    let data = serde_json::json!({
        "decision": verdict.decision,
        "by": verdict.by,
        "comment": verdict.comment,
    });
    let mut w = Work::new(st);
    let now = st.now;
    match verdict.decision {
        ApprovalDecision::Approved => {
            w.update(
                step,
                StepChange::Succeed {
                    at: now,
                    exit_code: None,
                    outputs,
                },
            )?;
            w.cs.event("step.succeeded", Some(step), data);
            w.step_succeeded(step)?;
        }
        ApprovalDecision::Rejected => {
            let error = match &verdict.comment {
                Some(c) => format!("rejected by {}: {c}", verdict.by),
                None => format!("rejected by {}", verdict.by),
            };
            w.update(
                step,
                StepChange::RecordFailure {
                    tries: 1,
                    exit_code: None,
                    error: error.clone(),
                    outputs,
                },
            )?;
            w.cs.event("step.rejected", Some(step), data);
            w.step_ended(step, StepStatus::Failed, Some(&error))?;
        }
    }
    w.finish()
}

/// The waiting approval step `step` is past its `timeout`: it fails, saying so. Rejected when
/// it is not waiting or not yet due.
pub fn time_out(st: &Loaded<'_>, step: &str) -> Decision {
    let spec = waiting(st, step)?;
    let since = st.steps.get(step).map_or(st.now, |r| r.not_before);
    let (Some(ms), Some(due)) = (spec.timeout_ms, deadline(spec, since)) else {
        return Err(not_due(st, step));
    };
    if due > st.now {
        return Err(not_due(st, step));
    }
    let error = format!(
        "approval timed out after {}: nobody approved or rejected it (approvers: {})",
        crate::model::duration_text(ms),
        spec.approvers.describe()
    );
    let mut w = Work::new(st);
    w.step_ended(step, StepStatus::Failed, Some(&error))?;
    w.finish()
}

fn not_due(st: &Loaded<'_>, step: &str) -> Refusal {
    Rejection::NotDue {
        run_id: st.run.id.clone(),
        step_id: step.to_string(),
    }
    .into()
}
