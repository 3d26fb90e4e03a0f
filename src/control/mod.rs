//! The one seam: [`ControlPlane`] is every operation an operator or agent can do. The CLI, the
//! dashboard and the agent runtime hold an `Arc<dyn ControlPlane>` and never know whether it is
//! local (this process opens the store) or remote (an HTTP client; another issue adds it).

mod local;
mod local_audit;
mod local_backup;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use local::{LocalControlPlane, LocalOptions};
// issue 5
pub use crate::backup::schedule::Schedule as BackupSchedule;

use crate::Result;
use crate::audit::prune::PruneOutcome;
use crate::audit::{AuditFilter, AuditReport, ChainReport, Checkpoint, Window};
use crate::auth::Principal;
use crate::backup::catalog::Catalog;
use crate::backup::{
    BackupInfo, CreateOptions, Integrity, KeySource, Progress, PruneReport, RestoreReport,
    RetentionPolicy, VerifyReport,
};
use crate::model::{
    Agent, AgentRegistration, AgentState, AuditRecord, Event, LeaseRef, LogLine, Page, Run,
    RunDetail, RunFilter, RunStatus, StepResult, StepStatus, StepTask, Workflow, WorkflowSpec,
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

    // --- backups (issue 5). `dir` is the backup folder; `None` means the store's default.
    // Defaults say "not supported" so test doubles need not implement them. ---
    /// Take a backup (operator). Audited as `backup.create`.
    #[allow(unused_variables)]
    async fn create_backup(
        &self,
        who: &Principal,
        opts: CreateOptions,
        progress: &dyn Progress,
    ) -> Result<BackupInfo> {
        Err(unsupported(self, "create_backup"))
    }
    /// The backups in `dir`, newest first (operator).
    #[allow(unused_variables)]
    async fn list_backups(&self, who: &Principal, dir: Option<PathBuf>) -> Result<Catalog> {
        Err(unsupported(self, "list_backups"))
    }
    /// One backup's manifest, by id, id prefix or path (operator).
    #[allow(unused_variables)]
    async fn show_backup(
        &self,
        who: &Principal,
        dir: Option<PathBuf>,
        what: &str,
    ) -> Result<BackupInfo> {
        Err(unsupported(self, "show_backup"))
    }
    /// Prove a backup restores (operator). Audited as `backup.verify`.
    #[allow(unused_variables)]
    async fn verify_backup(
        &self,
        who: &Principal,
        dir: Option<PathBuf>,
        what: &str,
        key: Option<KeySource>,
        integrity: Integrity,
        progress: &dyn Progress,
    ) -> Result<VerifyReport> {
        Err(unsupported(self, "verify_backup"))
    }
    /// Replace a store with a backup (admin). Audited as `backup.restore` in the restored store.
    #[allow(unused_variables)]
    async fn restore_backup(
        &self,
        who: &Principal,
        req: RestoreRequest,
        progress: &dyn Progress,
    ) -> Result<RestoreReport> {
        Err(unsupported(self, "restore_backup"))
    }
    /// Remove the backups a retention policy does not keep (admin). Audited as `backup.prune`.
    #[allow(unused_variables)]
    async fn prune_backups(
        &self,
        who: &Principal,
        dir: Option<PathBuf>,
        policy: RetentionPolicy,
        dry_run: bool,
    ) -> Result<PruneReport> {
        Err(unsupported(self, "prune_backups"))
    }

    // --- audit (issue 5) ---
    /// Records matching a filter, oldest first (read).
    #[allow(unused_variables)]
    async fn audit_list(&self, who: &Principal, filter: AuditFilter) -> Result<Vec<AuditRecord>> {
        Err(unsupported(self, "audit_list"))
    }
    /// One record (read).
    #[allow(unused_variables)]
    async fn audit_get(&self, who: &Principal, seq: i64) -> Result<AuditRecord> {
        Err(unsupported(self, "audit_get"))
    }
    /// Verify the chain against its archive boundary and the signed checkpoints (read).
    #[allow(unused_variables)]
    async fn audit_verify(&self, who: &Principal) -> Result<ChainReport> {
        Err(unsupported(self, "audit_verify"))
    }
    /// Sign the chain head with the audit key kept outside the store (admin).
    #[allow(unused_variables)]
    async fn audit_checkpoint(&self, who: &Principal) -> Result<CheckpointOutcome> {
        Err(unsupported(self, "audit_checkpoint"))
    }
    /// The auditor's report over a period, with the verification result (read).
    #[allow(unused_variables)]
    async fn audit_report(&self, who: &Principal, window: Window) -> Result<AuditReport> {
        Err(unsupported(self, "audit_report"))
    }
    /// Archive and remove records older than `keep` (admin). Audited as `audit.prune`.
    #[allow(unused_variables)]
    async fn audit_prune(
        &self,
        who: &Principal,
        keep: Duration,
        archive_dir: Option<PathBuf>,
        dry_run: bool,
    ) -> Result<PruneOutcome> {
        Err(unsupported(self, "audit_prune"))
    }
}

/// The error of a control plane that does not offer an operation.
fn unsupported(plane: &(impl ControlPlane + ?Sized), op: &str) -> crate::Error {
    crate::Error::invalid(format!("{} does not support {op}", plane.location()))
}

/// What `backup restore` asks for.
#[derive(Debug, Clone)]
pub struct RestoreRequest {
    /// A backup id, id prefix or file path.
    pub backup: String,
    /// The backup folder to look ids up in (default: the store's).
    pub dir: Option<PathBuf>,
    /// Where to restore (default: this control plane's store).
    pub to: Option<PathBuf>,
    pub force: bool,
    pub key: Option<KeySource>,
    pub integrity: Integrity,
}

/// What `audit checkpoint` did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckpointOutcome {
    pub checkpoint: Checkpoint,
    pub key_path: PathBuf,
    /// Whether the key was created by this checkpoint.
    pub key_created: bool,
    pub log_path: PathBuf,
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
