//! The store's orchestration of the engine's transitions, written once for every backend
//! (issue 11: "each backend only loads, locks and applies"). A backend implements [`Rows`]:
//! loading (and, where it has row locks, locking) the rows a transition reads, and applying
//! the changeset it returns. The functions here load through it, decide with
//! `engine::transitions` and apply, generic over the backend (static dispatch: one copy per
//! backend, no virtual call on the hot path).
//!
//! - [`decide`]: the load-decide-apply loop, a run's transitions decided from all its steps,
//!   and the workflow index cache.
//! - [`claims`]: claim, start, heartbeat, check, logs, completions.
//! - [`reap`]: expired leases, overdue runs and approvals, the lease-lost transition.
//! - [`approvals`]: approving and rejecting approval steps; holding them `waiting`.
//! - [`concurrency`]: concurrency limits — a new run admitted, queued, skipped or displacing
//!   older ones; a key's waiting runs admitted when a slot frees.
//! - [`runs`]: creating a run and choosing its timeout (over [`runs::RunRows`]); cancel and
//!   retry.
//! - `step_inputs`: what a claimed step is given (templates rendered, exports).
//! - [`agents`]: registering (taking a name over), draining, removing, deregistering and
//!   listing agents, over [`agents::AgentRows`].
//! - [`workflows`]: applying, getting and deleting workflow versions, over
//!   [`workflows::WorkflowRows`].
//!
//! Where the backends differ on purpose (PostgreSQL's `FOR UPDATE` and `SKIP LOCKED`,
//! SQLite's single writer that makes locks unnecessary), the difference stays in the
//! backend's [`Rows`] methods, which say why.

pub mod agents;
pub mod approvals;
pub mod claims;
pub mod concurrency;
pub mod decide;
pub mod reap;
pub mod runs;
pub(crate) mod step_inputs;
pub mod workflows;

use std::collections::{BTreeMap, BTreeSet};

use crate::Result;
use crate::engine::{Changeset, HeldAttempt, RunRow, StepRow};
use crate::model::{LeaseRef, LogStream, Run};

/// The agent a claim is for.
pub struct ClaimAgent {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub draining: bool,
}

/// Outputs of succeeded steps by step id.
pub type Outputs = BTreeMap<String, BTreeMap<String, String>>;

/// What a backend does for the transitions: load and lock rows, apply changesets. No
/// decision is made here; every method is SQL and row conversion.
///
/// "Locked" means: on a backend with row locks, locked for the rest of the transaction (a run
/// transition locks the run row first, then its steps, so every transaction takes them in
/// the same order); on SQLite, whose one writer holds the whole database, a plain read.
pub trait Rows {
    /// The run row, locked. Not found is an error.
    fn run_row(&self, run_id: &str) -> Result<RunRow>;
    /// The run row with its params (JSON), locked if `lock` (else as last committed: a claim
    /// reads it so, and locks it only when the run itself is to change).
    fn run_row_with_params(&self, run_id: &str, lock: bool) -> Result<(RunRow, String)>;
    /// A step's row and its run's, both locked (the run's first); `None` if there is no such
    /// step.
    fn run_and_step_rows(&self, run_id: &str, step_id: &str) -> Result<Option<(RunRow, StepRow)>>;
    /// [`Self::run_and_step_rows`], and the rows of `more` locked after them (those the run
    /// does not have are left out): a completion's step and the steps that need it, which its
    /// transition asks for, read with it (one round trip where the backend pipelines).
    fn run_and_step_rows_with(
        &self,
        run_id: &str,
        step_id: &str,
        more: &[&str],
    ) -> Result<Option<(RunRow, StepRow, Vec<StepRow>)>> {
        let Some((head, row)) = self.run_and_step_rows(run_id, step_id)? else {
            return Ok(None);
        };
        let mut rows = Vec::with_capacity(more.len());
        for id in more {
            rows.extend(self.step_row(run_id, id)?);
        }
        Ok(Some((head, row, rows)))
    }
    /// A step's row, locked.
    fn step_row(&self, run_id: &str, step_id: &str) -> Result<Option<StepRow>>;
    /// A step's row without a lock, for read-only transactions.
    fn peek_step_row(&self, run_id: &str, step_id: &str) -> Result<Option<StepRow>>;
    /// The rows of the steps `leases` name, in their order, without a lock (one read where
    /// each costs a round trip).
    fn peek_leased_rows(&self, leases: &[LeaseRef]) -> Result<Vec<Option<StepRow>>> {
        leases
            .iter()
            .map(|l| self.peek_step_row(&l.run_id, &l.step_id))
            .collect()
    }
    /// Every step row of a run in workflow order, locked.
    fn step_rows(&self, run_id: &str) -> Result<Vec<StepRow>>;
    /// Apply `cs`, decided at `now`, with guarded updates (see `engine::Changeset`).
    fn apply_changeset(&self, cs: &Changeset, now: i64) -> Result<()>;
    /// Append an event to the change feed.
    fn event(
        &self,
        kind: &str,
        run_id: Option<&str>,
        step_id: Option<&str>,
        data: serde_json::Value,
    ) -> Result<()>;
    /// A stored workflow version's spec (JSON), if there is one.
    fn workflow_spec(&self, name: &str, version: u32) -> Result<Option<String>>;

    /// A run id or unique prefix resolved to the full id.
    fn full_run_id(&self, prefix: &str) -> Result<String>;
    /// A run as callers see it.
    fn run_model(&self, id: &str) -> Result<Run>;

    /// The agent a claim or heartbeat is for, if it exists.
    fn claim_agent(&self, agent_id: &str) -> Result<Option<ClaimAgent>>;
    /// Whether the agent is draining; `None` if it does not exist.
    fn agent_draining(&self, agent_id: &str) -> Result<Option<bool>>;
    /// The agent was heard from at `now`: online for another lease of `lease_ms`.
    fn renew_agent(&self, agent_id: &str, now: i64, lease_ms: i64) -> Result<()>;
    /// Up to `max` steps ready at `now` whose selectors `labels` satisfy, in due order, each
    /// with its run id; locked where other claimers could take them at the same time.
    fn ready_steps(
        &self,
        labels: &BTreeMap<String, String>,
        max: u32,
        now: i64,
    ) -> Result<Vec<(String, StepRow)>>;
    /// The outputs of the succeeded steps among `step_ids` of a run.
    fn succeeded_outputs(&self, run_id: &str, step_ids: &BTreeSet<&str>) -> Result<Outputs>;
    /// A claim's reads of one run: its row and params as last committed
    /// ([`Self::run_row_with_params`] unlocked) and [`Self::succeeded_outputs`] of `step_ids`,
    /// in one round trip where the backend pipelines.
    fn run_with_outputs(
        &self,
        run_id: &str,
        step_ids: &BTreeSet<&str>,
    ) -> Result<((RunRow, String), Outputs)> {
        Ok((
            self.run_row_with_params(run_id, false)?,
            self.succeeded_outputs(run_id, step_ids)?,
        ))
    }
    /// What an instance of a `matrix:` or `foreach:` step sees in its templates (JSON), if
    /// the step is one.
    fn step_vars(&self, run_id: &str, step_id: &str) -> Result<Option<String>>;
    /// When the earliest ready step becomes due.
    fn next_due(&self) -> Result<Option<i64>>;

    /// Bytes of output stored for a step's current attempt.
    fn log_bytes(&self, run_id: &str, step_id: &str) -> Result<u64>;
    /// Set them.
    fn set_log_bytes(&self, run_id: &str, step_id: &str, bytes: u64) -> Result<()>;
    /// Append log lines of an attempt, taken at `now`.
    fn insert_logs(
        &self,
        run_id: &str,
        step_id: &str,
        attempt: u32,
        lines: &[(LogStream, std::borrow::Cow<'_, str>, i64)],
    ) -> Result<()>;

    /// Held (leased or running) attempts whose lease ended before `now`, in claim order.
    fn expired_leases(&self, now: i64) -> Result<Vec<HeldAttempt>>;
    /// Held attempts of an agent, in claim order.
    fn held_by(&self, agent_id: &str) -> Result<Vec<HeldAttempt>>;
    /// Runs not ended whose deadline passed before `now`.
    fn overdue_runs(&self, now: i64) -> Result<Vec<String>>;
    /// Waiting approval steps whose deadline passed before `now`: (run id, step id).
    fn overdue_approvals(&self, now: i64) -> Result<Vec<(String, String)>>;
    /// Whether run `run_id` has an approval step in status `ready` (made ready by a run's
    /// start or admission, which is not the engine's: it must wait instead).
    fn has_ready_approval(&self, run_id: &str) -> Result<bool>;
}
