//! An attempt ends: it succeeded (dependents are released), or it failed and is retried after
//! a backoff while retries are left, else the step fails (and its dependents are skipped).

use super::Work;
use super::claim::stale;
use crate::engine::changeset::{Decision, StepChange};
use crate::engine::state::{Loaded, Need};
use crate::engine::{FailureDecision, on_failure};
use crate::model::{LeaseRef, StepOutcome, StepResult, StepStatus};

/// Record `result` for the attempt `lease` names, if it still holds its step. A result whose
/// outputs are larger than `max_output_bytes` is recorded as a failed attempt that says so
/// (see [`crate::engine::limits::check_outputs`]).
pub fn complete(
    st: &Loaded<'_>,
    lease: &LeaseRef,
    result: &StepResult,
    max_output_bytes: u64,
) -> Decision {
    let Some(row) = st.steps.get(&lease.step_id) else {
        return Err(crate::engine::Refusal::Need(Need::Steps(vec![
            lease.step_id.clone(),
        ])));
    };
    if !super::holds(row, lease) {
        return Err(stale(lease).into());
    }
    let refused = crate::engine::limits::check_outputs(result, max_output_bytes);
    let result = refused.as_ref().unwrap_or(result);
    // A failed attempt's outputs (e.g. an http step's status and body) are kept for `run
    // show`; templates only ever read the outputs of succeeded steps.
    let outputs = if result.outputs.is_empty() {
        None
    } else {
        Some(serde_json::to_string(&result.outputs).unwrap_or_default())
    };
    let mut w = Work::new(st);
    let step = lease.step_id.as_str();
    let now = st.now;
    match result.outcome {
        StepOutcome::Succeeded => {
            w.update(
                step,
                StepChange::Succeed {
                    at: now,
                    exit_code: result.exit_code,
                    outputs,
                },
            )?;
            w.cs.event(
                "step.succeeded",
                Some(step),
                serde_json::json!({ "attempt": lease.attempt }),
            );
            w.succeeded_with(step, &result.outputs);
            w.step_succeeded(step)?;
        }
        StepOutcome::Failed => {
            let error = result.error.clone().unwrap_or_else(|| "failed".into());
            let tries = row.tries.saturating_add(1);
            w.update(
                step,
                StepChange::RecordFailure {
                    tries,
                    exit_code: result.exit_code,
                    error: error.clone(),
                    outputs,
                },
            )?;
            let retry = st
                .ix
                .step(step)
                .map(|s| s.retry.clone())
                .unwrap_or_default();
            match on_failure(tries, &retry) {
                FailureDecision::Retry { delay_ms } if !st.run.status.is_terminal() => {
                    let due = now.saturating_add(i64::try_from(delay_ms).unwrap_or(i64::MAX));
                    w.update(
                        step,
                        StepChange::Requeue {
                            not_before: due,
                            lost: row.lost,
                            finished_at: Some(now),
                        },
                    )?;
                    w.cs.event(
                        "step.retrying",
                        Some(step),
                        serde_json::json!({ "attempt": lease.attempt, "error": error, "delay_ms": delay_ms }),
                    );
                    w.cs.system_line(
                        step,
                        lease.attempt,
                        format!(
                            "attempt {} failed: {error}; retry {tries} of {} in {}",
                            lease.attempt,
                            retry.max,
                            humantime::format_duration(std::time::Duration::from_millis(delay_ms))
                        ),
                    );
                }
                _ => w.step_ended(step, StepStatus::Failed, Some(&error))?,
            }
        }
    }
    w.finish()
}
