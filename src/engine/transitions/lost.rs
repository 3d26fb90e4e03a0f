//! The lease-lost transition applied to a run: the decision of [`crate::engine::lease_lost`]
//! (requeue, or fail once the lost budget is spent) as a changeset, with the line for the
//! attempt's log.

use super::Work;
use crate::engine::changeset::{Decision, Rejection, StepChange};
use crate::engine::lost::{HeldAttempt, LostCause, LostOutcome, lease_lost};
use crate::engine::state::Loaded;
use crate::model::StepStatus;

/// The attempt that holds `step_id` (loaded) lost its agent, for `cause`.
pub fn lose(st: &Loaded<'_>, step_id: &str, cause: &LostCause) -> Decision {
    let mut w = Work::new(st);
    let row = w.step(step_id)?.clone();
    if !matches!(row.status, StepStatus::Leased | StepStatus::Running) {
        return Err(Rejection::Stale {
            run_id: st.run.id.clone(),
            step_id: step_id.to_string(),
            attempt: row.attempt,
        }
        .into());
    }
    let held = HeldAttempt {
        run_id: st.run.id.clone(),
        step_id: step_id.to_string(),
        attempt: row.attempt,
        lost: row.lost,
        agent: row.agent_name.clone().unwrap_or_else(|| "?".into()),
    };
    let change = lease_lost(&held, cause);
    w.cs.system_line(step_id, held.attempt, change.line);
    match change.outcome {
        LostOutcome::Fail(why) => {
            w.update(step_id, StepChange::SetLost { lost: change.lost })?;
            w.step_ended(step_id, StepStatus::Failed, Some(&why))?;
        }
        LostOutcome::Requeue => {
            w.update(
                step_id,
                StepChange::Requeue {
                    not_before: st.now,
                    lost: change.lost,
                    finished_at: None,
                },
            )?;
            w.cs.event(
                "step.lease_expired",
                Some(step_id),
                serde_json::json!({
                    "attempt": held.attempt,
                    "agent": held.agent,
                    "reason": cause.as_str(),
                }),
            );
        }
    }
    w.finish()
}
