//! What a transition decides: guarded step and run updates, events and log lines, applied by
//! the store in one transaction, in order. Every update carries the state it was decided from
//! (a step's status and attempt, a run's status and counters); the store applies it only if the
//! row still holds that state, so a concurrent writer is detected instead of overwritten.
//! Transitions that match nothing (a stale attempt, a step or run already ended) are a
//! [`Rejection`], never a changeset.

use crate::Error;
use crate::model::{LogStream, RunStatus, StepStatus, short_id};

/// The state a step update expects to find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepGuard {
    pub status: StepStatus,
    pub attempt: u32,
}

/// One guarded change to one step of the changeset's run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepUpdate {
    pub step_id: String,
    pub expect: StepGuard,
    pub change: StepChange,
}

/// What changes in a step row. Columns not named keep their value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepChange {
    /// ready → leased: a new attempt for `agent`, started now; the attempt's log starts empty.
    Lease {
        attempt: u32,
        agent_id: String,
        agent_name: String,
        lease_until: i64,
        at: i64,
    },
    /// leased → running.
    Start,
    /// The lease is renewed.
    Renew { lease_until: i64 },
    /// → succeeded, with the attempt's exit code and outputs (JSON, none if empty).
    Succeed {
        at: i64,
        exit_code: Option<i32>,
        outputs: Option<String>,
    },
    /// A failed attempt is recorded (tries, exit code, error, outputs); the status is unchanged.
    RecordFailure {
        tries: u32,
        exit_code: Option<i32>,
        error: String,
        outputs: Option<String>,
    },
    /// → ready again, due at `not_before`, held by nobody (a retry after a failure or a lost
    /// agent). `lost` is the new lost count; `finished_at` the end of the attempt, if recorded.
    Requeue {
        not_before: i64,
        lost: u32,
        finished_at: Option<i64>,
    },
    /// The lost count only (before the step fails for having lost its agent too often).
    SetLost { lost: u32 },
    /// → a terminal status other than succeeded, held by nobody; `error` (if any) replaces the
    /// step's error.
    End {
        status: StepStatus,
        at: i64,
        error: Option<String>,
    },
    /// A pending step's needs were recounted: `ready` once none is pending, due at `not_before`.
    Release {
        pending_needs: u32,
        status: StepStatus,
        not_before: i64,
    },
    /// ready → waiting: an approval step waits for a person until `until` (none: the run's
    /// timeout). The store keeps `until` as the row's deadline (`lease_until`), which the
    /// reaper watches.
    Wait { until: Option<i64> },
    /// A retry resets the step: fresh budgets, nothing recorded, `status` from its needs.
    Reset {
        status: StepStatus,
        pending_needs: u32,
        not_before: i64,
    },
}

/// The state a run update expects to find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunGuard {
    pub status: RunStatus,
    pub steps_done: u32,
    pub steps_succeeded: u32,
}

/// One guarded change to the changeset's run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunUpdate {
    pub expect: RunGuard,
    pub change: RunChange,
}

/// What changes in a run row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunChange {
    /// queued → running.
    Start { at: i64 },
    /// Steps ended: the new counts.
    Count {
        steps_done: u32,
        steps_succeeded: u32,
    },
    /// The run ended (its start is set to `at` if it never started).
    End {
        status: RunStatus,
        at: i64,
        error: Option<String>,
    },
    /// Steps were added to the run (a `foreach:` step expanded) or removed from it (a retry
    /// expands one anew): the new total.
    Total { steps_total: u32 },
    /// A retry reopens an ended run: running again, with recounted steps and a new deadline.
    Reopen {
        steps_done: u32,
        steps_succeeded: u32,
        deadline: Option<i64>,
    },
}

/// A step row a transition adds to its run: an instance of a `foreach:` step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepInsert {
    pub step_id: String,
    pub idx: u32,
    /// `run`, `http` or `noop`.
    pub kind: String,
    /// `ready` or `pending` (waiting for a `max_parallel` slot).
    pub status: StepStatus,
    pub pending_needs: u32,
    /// The agent labels it needs, as a JSON object, if any.
    pub selector: Option<String>,
    /// What its templates see (`item`), as JSON.
    pub vars: String,
    pub not_before: i64,
}

/// A step row a transition removes from its run, if it still holds the state decided from:
/// an instance of a `foreach:` step that a retry expands anew.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRemove {
    pub step_id: String,
    pub expect: StepGuard,
}

/// A row for the durable event feed.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    pub kind: String,
    pub step_id: Option<String>,
    pub data: serde_json::Value,
}

/// A line for a step attempt's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    pub step_id: String,
    pub attempt: u32,
    pub stream: LogStream,
    pub line: String,
}

/// Everything one transition changes in one run, to apply in one transaction: removed step
/// rows, new step rows, step updates, then run updates, then events and log lines (each list
/// in order), then the release of a concurrency slot. Times are the transition's `now`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Changeset {
    pub run_id: String,
    /// Step rows removed first (a new row may take the same id).
    pub removes: Vec<StepRemove>,
    /// New step rows, inserted before the updates.
    pub inserts: Vec<StepInsert>,
    pub steps: Vec<StepUpdate>,
    pub runs: Vec<RunUpdate>,
    pub events: Vec<EventRecord>,
    pub logs: Vec<LogRecord>,
    /// The concurrency key whose slot the run's end frees: after the updates, the store admits
    /// the key's next waiting runs in the same transaction (`store::flow::concurrency`).
    pub release: Option<String>,
}

impl Changeset {
    pub fn new(run_id: &str) -> Self {
        Changeset {
            run_id: run_id.to_string(),
            ..Changeset::default()
        }
    }

    pub(crate) fn event(&mut self, kind: &str, step_id: Option<&str>, data: serde_json::Value) {
        self.events.push(EventRecord {
            kind: kind.to_string(),
            step_id: step_id.map(str::to_string),
            data,
        });
    }

    /// Whether applying it may leave a step ready to claim at `now`: a step made ready (its
    /// needs met, requeued, reset, or a new `foreach:` instance) and due, or a concurrency slot
    /// freed (the key's next waiting run is admitted with its ready steps). A cheap hint, never
    /// a promise: a claim decides.
    pub fn readies(&self, now: i64) -> bool {
        let due =
            |status: StepStatus, not_before: i64| status == StepStatus::Ready && not_before <= now;
        self.release.is_some()
            || self.inserts.iter().any(|i| due(i.status, i.not_before))
            || self.steps.iter().any(|u| match &u.change {
                StepChange::Release {
                    status, not_before, ..
                }
                | StepChange::Reset {
                    status, not_before, ..
                } => due(*status, *not_before),
                StepChange::Requeue { not_before, .. } => *not_before <= now,
                _ => false,
            })
    }

    pub(crate) fn system_line(&mut self, step_id: &str, attempt: u32, line: String) {
        self.logs.push(LogRecord {
            step_id: step_id.to_string(),
            attempt,
            stream: LogStream::System,
            line,
        });
    }
}

/// A report or request that matches no transition: nothing changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// The attempt is no longer held by the agent (a newer attempt, another agent, or the step
    /// has ended): reports from it are refused.
    Stale {
        run_id: String,
        step_id: String,
        attempt: u32,
    },
    /// A step to claim is no longer ready (or not yet due).
    NotReady { run_id: String, step_id: String },
    /// The run has already ended: nothing to cancel or time out.
    RunEnded { run_id: String, status: RunStatus },
    /// The run has not ended: nothing to retry yet.
    RunActive { run_id: String, status: RunStatus },
    /// An ended run with no failed, skipped or cancelled step.
    NothingToRetry { run_id: String },
    /// `retry --from` a step the run does not have (`suggestion`: the nearest id).
    NoSuchStep {
        run_id: String,
        step_id: String,
        suggestion: Option<String>,
    },
    /// `retry --from` would leave a step that can never become ready; the message says what
    /// to retry instead.
    Blocked(String),
    /// `approve`/`reject` of a step that is not an approval step waiting for a decision.
    NotWaiting {
        run_id: String,
        step_id: String,
        status: StepStatus,
        approval: bool,
    },
    /// An approval step's deadline has not passed (the reaper asked too early).
    NotDue { run_id: String, step_id: String },
}

impl Rejection {
    /// The typed error callers get (a conflict, or not found).
    pub fn into_error(self) -> Error {
        match self {
            Rejection::Stale {
                run_id,
                step_id,
                attempt,
            } => Error::Conflict(format!(
                "attempt {attempt} of step {step_id:?} in run {} is no longer held by this agent",
                short_id(&run_id)
            )),
            Rejection::NotReady { run_id, step_id } => Error::Conflict(format!(
                "step {step_id:?} in run {} is no longer ready",
                short_id(&run_id)
            )),
            Rejection::RunEnded { run_id, status } => Error::Conflict(format!(
                "run {} already {status}; nothing to cancel",
                short_id(&run_id)
            )),
            Rejection::RunActive { run_id, status } => Error::Conflict(format!(
                "run {} is still {status}; wait for it to end or cancel it first",
                short_id(&run_id)
            )),
            Rejection::NothingToRetry { run_id } => Error::Conflict(format!(
                "run {} has no failed, skipped or cancelled steps to retry (use --from STEP to rerun a step)",
                short_id(&run_id)
            )),
            Rejection::NoSuchStep {
                run_id,
                step_id,
                suggestion,
            } => match suggestion {
                Some(s) => Error::NotFoundHint {
                    message: format!("run {} has no step {step_id:?}", short_id(&run_id)),
                    hint: format!("did you mean {s:?}?"),
                },
                None => Error::not_found("step", &step_id),
            },
            Rejection::Blocked(message) => Error::Conflict(message),
            Rejection::NotWaiting {
                run_id,
                step_id,
                status,
                approval,
            } => Error::Conflict(if approval {
                format!(
                    "step {step_id:?} of run {} is {status}, not waiting for approval",
                    short_id(&run_id)
                )
            } else {
                format!(
                    "step {step_id:?} of run {} is not an approval step",
                    short_id(&run_id)
                )
            }),
            Rejection::NotDue { run_id, step_id } => Error::Conflict(format!(
                "approval step {step_id:?} of run {} has not timed out yet",
                short_id(&run_id)
            )),
        }
    }
}

/// Why a transition did not produce a changeset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// It matches no transition.
    Rejected(Rejection),
    /// It needs step rows it was not given: load them and decide again.
    Need(super::Need),
}

impl From<Rejection> for Refusal {
    fn from(r: Rejection) -> Self {
        Refusal::Rejected(r)
    }
}

/// A transition's outcome.
pub type Decision = std::result::Result<Changeset, Refusal>;
