//! Orchestration rules, independent of storage: the run/step state machine of DESIGN §3 as pure
//! functions ([`transitions`]: a [`Loaded`] run in, a [`Changeset`] of guarded updates, events
//! and log lines out, or a [`Rejection`]), how long to back off before a retry, whether a
//! failure is retried, what becomes of a step whose agent is lost, the workflow index that
//! finds a step's dependents, the limits on what a step may produce ([`limits`]), and why a
//! step is not running ([`placement`]: no agent can take it). A store loads the state, calls a
//! transition, and applies the changeset in its transaction; it decides nothing itself.

mod backoff;
pub mod changeset;
pub mod concurrency;
pub mod expand;
mod index;
pub mod limits;
mod lost;
pub mod placement;
pub mod state;
#[cfg(test)]
mod tests_fanout;
#[cfg(test)]
mod tests_fanout_retry;
#[cfg(test)]
mod tests_table;
pub mod transitions;

pub use backoff::retry_delay_ms;
pub use changeset::{
    Changeset, Decision, EventRecord, LogRecord, Refusal, Rejection, RunChange, RunGuard,
    RunUpdate, StepChange, StepGuard, StepInsert, StepRemove, StepUpdate,
};
pub use index::{SpecCache, SpecIndex};
pub use limits::StepLimits;
pub use lost::{HeldAttempt, LostCause, LostChange, LostOutcome, lease_lost};
pub use state::{Claimant, Facts, Loaded, Need, RunRow, StepRow};

/// How many times a step may lose its agent (lease expired) before it fails. Apart from
/// `retry.max`: a lost agent is not the step's fault.
pub const LOST_BUDGET: u32 = 3;

/// What happens to a step whose attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureDecision {
    /// Back to `ready`, not before `now + delay_ms`.
    Retry { delay_ms: u64 },
    /// No retries left: the step fails.
    Fail,
}

/// Decide a failed attempt's fate. `tries` counts failed attempts since the step was (re)set,
/// including this one.
pub fn on_failure(tries: u32, retry: &crate::model::RetrySpec) -> FailureDecision {
    if tries <= retry.max {
        FailureDecision::Retry {
            delay_ms: retry_delay_ms(retry, tries),
        }
    } else {
        FailureDecision::Fail
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RetrySpec;

    #[test]
    fn retries_until_max_then_fails() {
        let retry = RetrySpec {
            max: 2,
            ..RetrySpec::default()
        };
        assert!(matches!(
            on_failure(1, &retry),
            FailureDecision::Retry { .. }
        ));
        assert!(matches!(
            on_failure(2, &retry),
            FailureDecision::Retry { .. }
        ));
        assert_eq!(on_failure(3, &retry), FailureDecision::Fail);
        assert_eq!(on_failure(1, &RetrySpec::default()), FailureDecision::Fail);
    }
}
