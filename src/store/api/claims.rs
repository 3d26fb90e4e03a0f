//! The agent protocol and maintenance inside one store transaction: claiming ready steps,
//! starting them, heartbeats, logs, completions; reaping lost leases and overdue runs.

use crate::Result;
use crate::control::HeartbeatReply;
use crate::engine::{SpecCache, StepLimits};
use crate::model::{CapturedLine, LeaseRef, StepResult, StepTask};

/// What a claim found.
#[derive(Debug, Default)]
pub struct Claimed {
    pub tasks: Vec<StepTask>,
    /// When the earliest ready-but-backing-off step becomes due, if nothing was granted.
    pub next_due: Option<i64>,
}

/// What recording step results did.
#[derive(Debug, Default)]
pub struct Completed {
    /// Per result, whether it was accepted (its lease still held).
    pub accepted: Vec<bool>,
    /// Whether a step may have become ready to claim (a hint: see `Changeset::readies`).
    pub readied: bool,
}

/// Claims, leases, step reports, and reaping.
pub trait ClaimsTx {
    /// Grant up to `max` ready steps to agent `agent_id`, each with a lease of `lease_ms`.
    fn claim(
        &self,
        cache: &SpecCache,
        agent_id: &str,
        max: u32,
        lease_ms: i64,
        limits: &StepLimits,
    ) -> Result<Claimed>;
    /// The agent started the step it holds under `lease`.
    fn start_step(&self, lease: &LeaseRef) -> Result<()>;
    /// Extend the agent's leases by `lease_ms`; say which it no longer holds.
    fn heartbeat(
        &self,
        agent_id: &str,
        leases: &[LeaseRef],
        lease_ms: i64,
    ) -> Result<HeartbeatReply>;
    /// Which of `leases` the agent still holds (nothing changes).
    fn check_leases(&self, agent_id: &str, leases: &[LeaseRef]) -> Result<HeartbeatReply>;
    /// Store captured lines of a held step, up to `max_bytes` per attempt.
    fn append_logs(&self, lease: &LeaseRef, lines: &[CapturedLine], max_bytes: u64) -> Result<()>;
    /// Record step results; whether each was accepted (its lease still held).
    fn complete_steps(
        &self,
        cache: &SpecCache,
        results: &[(LeaseRef, StepResult)],
        max_output_bytes: u64,
    ) -> Result<Vec<bool>> {
        self.complete_steps_detailed(cache, results, max_output_bytes)
            .map(|c| c.accepted)
    }
    /// [`complete_steps`](Self::complete_steps), saying also whether a step may have become
    /// ready.
    fn complete_steps_detailed(
        &self,
        cache: &SpecCache,
        results: &[(LeaseRef, StepResult)],
        max_output_bytes: u64,
    ) -> Result<Completed>;
    /// Whether any step is ready to claim at `now` (ms).
    fn any_ready(&self, now: i64) -> Result<bool>;
    /// Whether any lease has expired or run is overdue (a cheap check before [`reap`](Self::reap)).
    fn reap_due(&self) -> Result<bool>;
    /// Expire lost leases and time out overdue runs; how many were handled.
    fn reap(&self, cache: &SpecCache) -> Result<usize>;
}
