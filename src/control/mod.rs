//! The one seam: [`ControlPlane`] is every operation an operator or agent can do. The CLI, the
//! dashboard and the agent runtime hold an `Arc<dyn ControlPlane>` and never know whether it is
//! local (this process opens the store) or remote (an HTTP client; another issue adds it).

mod dashboard;
#[cfg(test)]
mod dashboard_tests;
mod local;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use dashboard::{
    AgentQuery, AuditFilter, DURATION_SAMPLE, MINUTE_MS, Outcomes, Overview, OverviewCache,
    RunQuery, RunSort, THROUGHPUT_MINUTES, WorkflowOutcomes, percentile,
};
pub use local::{LocalControlPlane, LocalOptions};

use crate::Result;
use crate::auth::Principal;
use crate::model::{
    Agent, AgentRegistration, AgentState, Event, LeaseRef, LogLine, Page, Run, RunDetail,
    RunFilter, RunStatus, StepResult, StepStatus, StepTask, Workflow, WorkflowSpec,
    WorkflowSummary,
};

/// A shared handle to a control plane.
pub type Plane = Arc<dyn ControlPlane>;

/// What `imx status` shows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatusReport {
    /// `local` or `remote`.
    pub mode: String,
    /// The store path or server URL.
    pub location: String,
    pub schema_version: i64,
    pub agents: BTreeMap<AgentState, u64>,
    pub runs: BTreeMap<RunStatus, u64>,
    pub steps_ready: u64,
    pub steps_running: u64,
    pub workflows: u64,
}

/// What `workflow apply` did to one workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApplyAction {
    Created,
    Updated,
    Unchanged,
}

/// The outcome of applying one workflow.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApplyOutcome {
    pub name: String,
    pub version: u32,
    pub action: ApplyAction,
    pub dry_run: bool,
}

/// Parameters for starting a run: raw strings from `-p k=v`, typed against the workflow.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StartRun {
    pub workflow: String,
    pub params: BTreeMap<String, String>,
    /// Overrides the workflow's run timeout.
    pub timeout_ms: Option<u64>,
}

/// What an agent learns from a heartbeat about the leases it holds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct HeartbeatReply {
    /// Leases renewed.
    pub renewed: Vec<LeaseRef>,
    /// Leases the agent must stop: run cancelled, step reassigned, or stale attempt.
    pub revoked: Vec<LeaseRef>,
    /// The operator asked this agent to drain.
    pub draining: bool,
    /// The agent was removed: it must stop.
    pub removed: bool,
}

/// Everything an operator or agent can do. Every method takes the acting principal; the local
/// implementation authorizes and audits.
#[async_trait]
pub trait ControlPlane: Send + Sync {
    /// `local <path>` or the server URL; for headers and messages.
    fn location(&self) -> String;

    /// Counts for `imx status`.
    async fn status(&self, who: &Principal) -> Result<StatusReport>;

    // --- workflows ---
    async fn apply_workflow(
        &self,
        who: &Principal,
        spec: WorkflowSpec,
        dry_run: bool,
    ) -> Result<ApplyOutcome>;
    async fn list_workflows(&self, who: &Principal) -> Result<Vec<WorkflowSummary>>;
    async fn get_workflow(
        &self,
        who: &Principal,
        name: &str,
        version: Option<u32>,
    ) -> Result<Workflow>;
    /// Deletes every version; past runs keep their history.
    async fn delete_workflow(&self, who: &Principal, name: &str) -> Result<Workflow>;

    // --- runs ---
    async fn start_run(&self, who: &Principal, req: StartRun) -> Result<Run>;
    async fn list_runs(&self, who: &Principal, filter: RunFilter) -> Result<Page<Run>>;
    /// A run by id or unique prefix, with its steps.
    async fn get_run(&self, who: &Principal, id: &str) -> Result<RunDetail>;
    async fn cancel_run(&self, who: &Principal, id: &str) -> Result<Run>;
    /// Rerun the failed (and skipped/cancelled) steps, or `from` and everything downstream.
    async fn retry_run(&self, who: &Principal, id: &str, from: Option<&str>) -> Result<Run>;
    /// Log lines of a run with id greater than `after`, oldest first.
    async fn run_logs(
        &self,
        who: &Principal,
        run_id: &str,
        step: Option<&str>,
        after: i64,
        limit: u32,
    ) -> Result<Vec<LogLine>>;
    /// Events with id greater than `after`, oldest first.
    async fn events(&self, who: &Principal, after: i64, limit: u32) -> Result<Vec<Event>>;
    /// Wait until something may have changed (or `timeout` passes). Cheap; spurious wake-ups
    /// are allowed. Followers (`run wait`, `logs -f`, `watch`) call it between reads.
    async fn wait_for_change(&self, timeout: Duration);

    // --- agents (operator side) ---
    async fn list_agents(&self, who: &Principal) -> Result<Vec<Agent>>;
    async fn get_agent(&self, who: &Principal, name_or_id: &str) -> Result<Agent>;
    async fn drain_agent(&self, who: &Principal, name_or_id: &str) -> Result<Agent>;
    async fn resume_agent(&self, who: &Principal, name_or_id: &str) -> Result<Agent>;
    /// Removes an agent; its leases are returned to the queue.
    async fn remove_agent(&self, who: &Principal, name_or_id: &str) -> Result<Agent>;

    // --- agents (worker side) ---
    async fn register_agent(&self, who: &Principal, reg: AgentRegistration) -> Result<Agent>;
    /// Grant up to `max` ready steps that match the agent's labels; waits up to `wait` for work.
    async fn claim(
        &self,
        who: &Principal,
        agent_id: &str,
        max: u32,
        wait: Duration,
    ) -> Result<Vec<StepTask>>;
    /// leased → running. A stale attempt is a conflict.
    async fn start_step(&self, who: &Principal, lease: &LeaseRef) -> Result<()>;
    /// Renew the agent and its leases; says which leases to stop.
    async fn heartbeat(
        &self,
        who: &Principal,
        agent_id: &str,
        leases: &[LeaseRef],
    ) -> Result<HeartbeatReply>;
    /// Append captured output; lines of a stale attempt are rejected.
    async fn append_logs(
        &self,
        who: &Principal,
        lease: &LeaseRef,
        lines: &[(crate::model::LogStream, String)],
    ) -> Result<()>;
    /// Report the end of attempts, in one transaction. Each element says whether it was accepted
    /// (`false`: stale attempt or step no longer held — nothing changed).
    async fn complete_steps(
        &self,
        who: &Principal,
        results: &[(LeaseRef, StepResult)],
    ) -> Result<Vec<bool>>;
    /// The agent is stopping: release its leases (steps go back to ready) and mark it offline.
    async fn deregister_agent(&self, who: &Principal, agent_id: &str) -> Result<()>;

    // --- dashboard (read-only; `imx dashboard`, see control::dashboard) ---
    /// Agents by state, active runs, outcomes in the last hour and day, step throughput per
    /// minute, step duration percentiles, the latest failures and the newest event id.
    async fn overview(&self, who: &Principal) -> Result<Overview>;
    /// One window of runs (filtered, newest or oldest first, cursor-paged).
    async fn dashboard_runs(&self, who: &Principal, query: RunQuery) -> Result<Page<Run>>;
    /// One window of agents by name, with the steps each holds.
    async fn dashboard_agents(&self, who: &Principal, query: AgentQuery) -> Result<Page<Agent>>;
    /// Live workflows with their versions and the statuses of their latest `recent` runs.
    async fn dashboard_workflows(
        &self,
        who: &Principal,
        recent: u32,
    ) -> Result<Vec<WorkflowOutcomes>>;
    /// The newest audit records matching `filter` (with `seq` below `before`), newest first.
    async fn audit_tail(
        &self,
        who: &Principal,
        filter: AuditFilter,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<crate::model::AuditRecord>>;
    // --- end dashboard ---
}

/// A step's state as a compact symbol, shared by tables and progress displays.
pub fn step_symbol(status: StepStatus) -> &'static str {
    match status {
        StepStatus::Pending => "·",
        StepStatus::Ready => "○",
        StepStatus::Leased | StepStatus::Running => "◐",
        StepStatus::Succeeded => "✓",
        StepStatus::Failed => "✗",
        StepStatus::Skipped => "↷",
        StepStatus::Cancelled => "⊘",
    }
}
