//! The lease-lost transition (DESIGN §3): an attempt whose agent is gone — its lease expired, a
//! new process took its name over, it stopped or was removed while holding the step — is marked
//! lost. A lost agent is not the step's fault, so it has its own budget ([`LOST_BUDGET`]), apart
//! from `retry.max`: the step goes back to `ready` until the budget is spent, then fails.
//!
//! This is the one place that decides it; every path (the reaper, a takeover at registration,
//! deregistration and `agent remove`) goes through `transitions::lost::lose`, which turns
//! [`lease_lost`]'s [`LostChange`] into a changeset the store applies.

use super::LOST_BUDGET;

/// Why an attempt lost its agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LostCause {
    /// The agent stopped renewing its lease (the reaper).
    Expired,
    /// A new process registered under the agent's name and took it over; says why it could.
    Replaced(String),
    /// The agent deregistered while it still held the step.
    Stopped,
    /// An operator removed the agent.
    Removed,
}

impl LostCause {
    /// A word for events: `expired`, `replaced`, `stopped`, `removed`.
    pub fn as_str(&self) -> &'static str {
        match self {
            LostCause::Expired => "expired",
            LostCause::Replaced(_) => "replaced",
            LostCause::Stopped => "stopped",
            LostCause::Removed => "removed",
        }
    }

    /// What happened to `agent`, for the step's log.
    fn describe(&self, agent: &str) -> String {
        match self {
            LostCause::Expired => format!("agent {agent} stopped renewing its lease"),
            LostCause::Replaced(why) => format!("agent {agent} was replaced: {why}"),
            LostCause::Stopped => format!("agent {agent} stopped while it held the step"),
            LostCause::Removed => format!("agent {agent} was removed"),
        }
    }
}

/// An attempt held (leased or running) by an agent that is gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldAttempt {
    pub run_id: String,
    pub step_id: String,
    pub attempt: u32,
    /// How many times the step lost its agent before.
    pub lost: u32,
    /// The agent's name (`?` if unknown).
    pub agent: String,
}

/// What becomes of the step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LostOutcome {
    /// Back to `ready`, due at once.
    Requeue,
    /// The budget is spent: the step fails with this error.
    Fail(String),
}

/// The changes the store applies for one lost attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LostChange {
    /// The step's new lost count.
    pub lost: u32,
    /// The system line for the attempt's log: `attempt N lost: ...`.
    pub line: String,
    pub outcome: LostOutcome,
}

/// Decide what losing `held`'s agent does to the step.
pub fn lease_lost(held: &HeldAttempt, cause: &LostCause) -> LostChange {
    let lost = held.lost.saturating_add(1);
    let line = format!(
        "attempt {} lost: {}",
        held.attempt,
        cause.describe(&held.agent)
    );
    let outcome = if lost > LOST_BUDGET {
        LostOutcome::Fail(format!(
            "lost its agent {lost} times (last: {})",
            held.agent
        ))
    } else {
        LostOutcome::Requeue
    };
    LostChange {
        lost,
        line,
        outcome,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(attempt: u32, lost: u32) -> HeldAttempt {
        HeldAttempt {
            run_id: "r".into(),
            step_id: "s".into(),
            attempt,
            lost,
            agent: "w1".into(),
        }
    }

    #[test]
    fn a_lost_attempt_is_requeued_until_the_budget_is_spent() {
        for lost in 0..LOST_BUDGET {
            let change = lease_lost(&held(lost + 1, lost), &LostCause::Expired);
            assert_eq!(change.lost, lost + 1);
            assert_eq!(change.outcome, LostOutcome::Requeue);
        }
        let last = lease_lost(&held(LOST_BUDGET + 1, LOST_BUDGET), &LostCause::Removed);
        assert_eq!(last.lost, LOST_BUDGET + 1);
        assert_eq!(
            last.outcome,
            LostOutcome::Fail(format!(
                "lost its agent {} times (last: w1)",
                LOST_BUDGET + 1
            ))
        );
    }

    #[test]
    fn the_log_line_names_the_attempt_the_agent_and_the_cause() {
        let line = |cause| lease_lost(&held(2, 0), &cause).line;
        assert_eq!(
            line(LostCause::Expired),
            "attempt 2 lost: agent w1 stopped renewing its lease"
        );
        assert_eq!(
            line(LostCause::Replaced(
                "its process (pid 7 on h) is gone".into()
            )),
            "attempt 2 lost: agent w1 was replaced: its process (pid 7 on h) is gone"
        );
        assert_eq!(
            line(LostCause::Stopped),
            "attempt 2 lost: agent w1 stopped while it held the step"
        );
        assert_eq!(
            line(LostCause::Removed),
            "attempt 2 lost: agent w1 was removed"
        );
    }
}
