//! The one seam: [`ControlPlane`] is every operation an operator or agent can do. The CLI, the
//! dashboard and the agent runtime hold an `Arc<dyn ControlPlane>` and never know whether it is
//! local (this process opens the store) or remote (an HTTP client; another issue adds it).

mod dashboard;
#[cfg(test)]
mod dashboard_tests;
mod local;
mod local_approvals;
mod local_artifacts;
mod local_audit;
mod local_backup;
mod local_notify;
mod local_rerun;
mod local_restore;
mod local_retention;
mod local_schedules;
mod local_secrets;
pub mod local_store_key;
mod local_triggers;
pub mod remote;
pub mod schedules;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_agents;
#[cfg(test)]
mod tests_auth;
#[cfg(test)]
mod tests_backend;
#[cfg(test)]
mod tests_eager;
#[cfg(test)]
mod tests_lockout;
#[cfg(test)]
mod tests_protocol;
#[cfg(test)]
mod tests_scheduler;
pub mod wire;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use dashboard::{
    AgentQuery, AuditFilter, DURATION_SAMPLE, MINUTE_MS, Outcomes, Overview, OverviewCache,
    RunQuery, RunSort, THROUGHPUT_MINUTES, WorkflowOutcomes, percentile, run_id_floor,
};
pub use local::{LocalControlPlane, LocalOptions};
pub use local_notify::{
    PassReport, deliver as deliver_notifications, http_client as notify_http_client,
};
pub use local_retention::{retain, retain_every};
pub use local_schedules::{SCHEDULER_LEASE, run_scheduler, scheduler_holder};
pub use local_triggers::{HookHeaders, hook_path};
// issue 5
pub use crate::backup::schedule::Schedule as BackupSchedule;

use crate::Result;
use crate::audit::prune::PruneOutcome;
use crate::audit::{AuditReport, ChainReport, Checkpoint, Window};
use crate::auth::{Principal, Secret};
use crate::backup::catalog::Catalog;
use crate::backup::{
    BackupInfo, CreateOptions, Integrity, KeySource, Progress, PruneReport, RestoreReport,
    RetentionPolicy, VerifyReport,
};
use crate::model::{
    Agent, AgentRegistration, AgentState, AuditRecord, Event, IssuedToken, LeaseRef, LogLine,
    LogMark, NewToken, NewUser, Page, PasswordChange, Run, RunDetail, RunFilter, RunStatus,
    ScheduleInfo, StepResult, StepStatus, StepTask, Token, User, UserUpdate, Workflow,
    WorkflowSpec, WorkflowSummary,
};
use crate::model::{CreatedTrigger, HookOutcome, NewTrigger, Trigger};
use crate::notify::{Channel, Delivery, NewChannel, NewRule, Rule};
use crate::schedule::ScheduleSpec;
pub use schedules::{
    Backfill, BackfillReport, BackfillTick, MissedTick, ScheduleDetail, UpcomingTick,
};

/// A shared handle to a control plane.
pub type Plane = Arc<dyn ControlPlane>;

/// What `imx status` shows.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ApplyAction {
    Created,
    Updated,
    Unchanged,
}

/// The outcome of applying one workflow.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ApplyOutcome {
    pub name: String,
    pub version: u32,
    pub action: ApplyAction,
    pub dry_run: bool,
}

/// Parameters for starting a run: raw strings from `-p k=v`, typed against the workflow.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartRun {
    pub workflow: String,
    pub params: BTreeMap<String, String>,
    /// Overrides the workflow's run timeout.
    pub timeout_ms: Option<u64>,
    /// The run's labels (`-l key=value`), to find it by; see `model::labels` for the rules.
    /// Left out when empty, so servers that predate labels take the request.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// What `imx run rerun` asks for: a new run of an old run's workflow with the old run's params
/// and labels, changed by these. The old run stays as it is; the new one records it as its
/// `rerun_of`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RerunRun {
    /// Params to set (raw strings, typed against the workflow as `-p` is); every other param is
    /// the old run's.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// Labels to add or change; the old run's others are kept.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Run the workflow's latest version; by default the new run runs the old run's version.
    #[serde(default)]
    pub latest: bool,
    /// The new run's timeout; by default chosen as for any new run (the workflow's, the
    /// server's, the store's), not carried over from the old run.
    #[serde(default)]
    pub timeout_ms: Option<u64>,
}

/// What an agent learns from a heartbeat about the leases it holds.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HeartbeatReply {
    /// Leases renewed.
    pub renewed: Vec<LeaseRef>,
    /// Leases the agent must stop: run cancelled, step reassigned, or stale attempt.
    pub revoked: Vec<LeaseRef>,
    /// The operator asked this agent to drain.
    pub draining: bool,
    /// The agent was removed: it must stop.
    pub removed: bool,
    /// The lease length (ms) the control plane grants now, so an agent heartbeats at a third
    /// of it even if the control plane was restarted with another setting. Only heartbeats
    /// carry it; absent from servers that predate it.
    #[serde(default)]
    pub lease_ms: Option<u64>,
}

/// [`ControlPlane::complete_and_claim`] as two calls: the results, then a claim of what is
/// ready now (no waiting).
pub(crate) async fn complete_then_claim<P: ControlPlane + ?Sized>(
    plane: &P,
    who: &Principal,
    agent_id: &str,
    results: &[(LeaseRef, StepResult)],
    max: u32,
) -> Result<(Vec<bool>, Vec<StepTask>)> {
    let accepted = plane.complete_steps(who, results).await?;
    let tasks = plane.claim(who, agent_id, max, Duration::ZERO).await?;
    Ok((accepted, tasks))
}

/// Everything an operator or agent can do. Every method takes the acting principal; the local
/// implementation authorizes and audits.
#[async_trait]
pub trait ControlPlane: Send + Sync {
    /// `local <path>` or the server URL; for headers and messages.
    fn location(&self) -> String;

    /// Whether this control plane does its store's periodic maintenance (reaping, run
    /// timeouts): `None` when it has no say (a remote plane) or every process does (SQLite);
    /// on PostgreSQL, whether this replica holds the maintenance lease.
    fn maintenance_leader(&self) -> Option<bool> {
        None
    }

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
    /// Start a new run of `id`'s workflow (its version, or with `latest` the latest) with its
    /// params and labels changed by `req`; `id` is kept as it is. Audited as `run.rerun`.
    #[allow(unused_variables)]
    async fn rerun_run(&self, who: &Principal, id: &str, req: RerunRun) -> Result<Run> {
        Err(unsupported(self, "rerun_run"))
    }
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
    /// The newest log lines of a run with id less than `before` (`None`: the last lines),
    /// oldest first, at most `limit`: reading a long log backwards from its end or from a line,
    /// without reading what comes earlier (the dashboard's jump to the end, scrolling up).
    #[allow(unused_variables)]
    async fn run_logs_before(
        &self,
        who: &Principal,
        run_id: &str,
        step: Option<&str>,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<LogLine>> {
        Err(unsupported(self, "reading logs backwards"))
    }
    /// Events with id greater than `after`, oldest first. A negative `after` returns only the
    /// newest event, to learn where the feed is without reading its history.
    async fn events(&self, who: &Principal, after: i64, limit: u32) -> Result<Vec<Event>>;
    /// Wait until something may have changed (or `timeout` passes). Cheap; spurious wake-ups
    /// are allowed. Followers (`run wait`, `logs -f`, `watch`) call it between reads.
    async fn wait_for_change(&self, timeout: Duration);
    /// Where the change feed is now, for [`wait_for_change_since`](Self::wait_for_change_since).
    /// Take it before reading and wait from it, so a change made between the read and the wait
    /// is not missed; unlike [`wait_for_change`](Self::wait_for_change), this stays exact when
    /// one plane has many followers at once (a server's event streams). Planes that cannot say
    /// return 0.
    fn change_seq(&self) -> u64 {
        0
    }
    /// Wait until something may have changed since `seen` (from
    /// [`change_seq`](Self::change_seq)), or `timeout` passes. Spurious wake-ups are allowed.
    async fn wait_for_change_since(&self, seen: u64, timeout: Duration) {
        let _ = seen;
        self.wait_for_change(timeout).await;
    }
    /// Which runs' output grew: for each run with log lines newer than `after` (a log line id),
    /// the id of its newest line, in that order, at most `limit` runs. A negative `after`
    /// returns only the newest line's mark, to learn where the logs stand without reading them.
    /// The server's event stream sends these as `logs` events, which is how remote followers
    /// (`run logs -f`) learn of new lines at once; a remote plane has no other use for them.
    /// Like the event feed, marks need only `Watch` (they name runs, never show output).
    async fn log_marks(&self, who: &Principal, after: i64, limit: u32) -> Result<Vec<LogMark>> {
        let _ = (who, after, limit);
        Err(unsupported(self, "log marks (follow the event stream)"))
    }

    // --- agents (operator side) ---
    async fn list_agents(&self, who: &Principal) -> Result<Vec<Agent>>;
    async fn get_agent(&self, who: &Principal, name_or_id: &str) -> Result<Agent>;
    async fn drain_agent(&self, who: &Principal, name_or_id: &str) -> Result<Agent>;
    async fn resume_agent(&self, who: &Principal, name_or_id: &str) -> Result<Agent>;
    /// Removes an agent; the steps it holds are lost (the lease-lost transition: back to the
    /// queue, or failed once their lost-agent budget is spent). An agent that is online and
    /// holds steps is refused (a conflict) unless `force`.
    async fn remove_agent(&self, who: &Principal, name_or_id: &str, force: bool) -> Result<Agent>;

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
    /// Which of these leases the agent no longer holds (cancelled, reassigned), and whether it
    /// should drain or stop — like a heartbeat, but read-only and renewing nothing. Agents call
    /// it when the control plane changes, so a cancel stops a running step within moments rather
    /// than at the next heartbeat.
    async fn check_leases(
        &self,
        who: &Principal,
        agent_id: &str,
        leases: &[LeaseRef],
    ) -> Result<HeartbeatReply>;
    /// Append captured output, each line stored with the time the agent captured it (never
    /// later than its receipt; the receipt time when the agent gave none); lines of a stale
    /// attempt are rejected.
    async fn append_logs(
        &self,
        who: &Principal,
        lease: &LeaseRef,
        lines: &[crate::model::CapturedLine],
    ) -> Result<()>;
    /// Report the end of attempts, in one transaction. Each element says whether it was accepted
    /// (`false`: stale attempt or step no longer held — nothing changed).
    async fn complete_steps(
        &self,
        who: &Principal,
        results: &[(LeaseRef, StepResult)],
    ) -> Result<Vec<bool>>;
    /// Report the end of attempts and claim up to `max` ready steps, without waiting: what
    /// [`Self::complete_steps`] then [`Self::claim`] do, in one request and one transaction
    /// where the plane can, so a step the results ready is leased in the results' own commit
    /// (an agent whose noop steps end at once claims their successors this way). Whether each
    /// result was accepted, and the steps granted: possibly none, even with steps ready (the
    /// local plane claims here only when the results readied one), so a caller that wants
    /// work claims as usual when granted none.
    async fn complete_and_claim(
        &self,
        who: &Principal,
        agent_id: &str,
        results: &[(LeaseRef, StepResult)],
        max: u32,
    ) -> Result<(Vec<bool>, Vec<StepTask>)> {
        complete_then_claim(self, who, agent_id, results, max).await
    }
    /// The agent is stopping: release its leases (steps go back to ready) and mark it offline.
    async fn deregister_agent(&self, who: &Principal, agent_id: &str) -> Result<()>;

    // --- users, tokens, login (DESIGN §6) ---
    // Managing users and other people's tokens needs `Permission::ManageUsers` (admin). Any
    // user may change their own password and create, list and revoke their own tokens.
    // Secrets go in (`Secret`) and come out once (`IssuedToken`); nothing else returns them.

    /// Create a user; with a password they can `imx login`, without one only use tokens.
    async fn create_user(&self, who: &Principal, user: NewUser) -> Result<User>;
    async fn list_users(&self, who: &Principal) -> Result<Vec<User>>;
    async fn get_user(&self, who: &Principal, name: &str) -> Result<User>;
    /// Change a user's role or enable/disable them. Refuses to leave no enabled admin.
    async fn update_user(&self, who: &Principal, name: &str, change: UserUpdate) -> Result<User>;
    /// Delete a user and revoke their tokens. Refuses to delete the last enabled admin.
    async fn delete_user(&self, who: &Principal, name: &str) -> Result<User>;
    /// Set a user's password: their own (with the current password; every other token of theirs
    /// is revoked, the one making the request is kept), or anyone's with ManageUsers (all of that
    /// user's tokens are revoked). Clears a lockout. A wrong current password is
    /// unauthenticated, audited and counted like a failed login.
    async fn set_password(
        &self,
        who: &Principal,
        name: &str,
        change: PasswordChange,
    ) -> Result<User>;
    /// Clear a user's login lockouts, from every source and account-wide (ManageUsers).
    /// Audited as `user.unlock`.
    #[allow(unused_variables)]
    async fn unlock_user(&self, who: &Principal, name: &str) -> Result<User> {
        Err(unsupported(self, "unlock_user"))
    }
    /// Issue a token; the secret is in the reply and nowhere else, ever.
    async fn create_token(&self, who: &Principal, req: NewToken) -> Result<IssuedToken>;
    /// Tokens (never secrets): all with ManageUsers, else the caller's own.
    async fn list_tokens(&self, who: &Principal) -> Result<Vec<Token>>;
    /// Revoke a token by name, id or unique id prefix.
    async fn revoke_token(&self, who: &Principal, name_or_id: &str) -> Result<Token>;
    /// Exchange a user name and password for a token (unauthenticated). Unknown user and wrong
    /// password give the same error; repeated failures lock the account for a growing time.
    /// `source` is where the attempt came from (a network address, or `local`).
    async fn login(&self, user: &str, password: &Secret, source: &str) -> Result<IssuedToken>;
    /// Revoke the token presented (the end of a login session).
    async fn logout(&self, token: &Secret, source: &str) -> Result<()>;
    /// Who the control plane takes the caller to be.
    async fn whoami(&self, who: &Principal) -> Result<Principal>;

    // --- dashboard (read-only; `imx dashboard`, see control::dashboard) ---
    /// Agents by state, active runs, outcomes in the last hour and day, step throughput per
    /// minute, step duration percentiles, the latest failures and the newest event id.
    async fn overview(&self, who: &Principal) -> Result<Overview>;
    /// One window of runs (filtered, newest or oldest first, cursor-paged).
    async fn dashboard_runs(&self, who: &Principal, query: RunQuery) -> Result<Page<Run>>;
    /// One window of agents by name, with the steps each holds.
    async fn dashboard_agents(&self, who: &Principal, query: AgentQuery) -> Result<Page<Agent>>;
    /// The steps an agent (by name or id) holds now and ran last, the most recently taken
    /// first, at most `limit` (the dashboard's agent drill-down, `imx agent show`).
    #[allow(unused_variables)]
    async fn agent_steps(
        &self,
        who: &Principal,
        name_or_id: &str,
        limit: u32,
    ) -> Result<Vec<crate::model::AgentStep>> {
        Err(unsupported(self, "agent_steps"))
    }
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
    /// Hand out a backup's file to download (operator): what the server calls before it streams
    /// the bytes. Audited as `backup.download` (who, from where, which backup, its size and
    /// SHA-256); if that record cannot be written, nothing is handed out.
    #[allow(unused_variables)]
    async fn download_backup_file(
        &self,
        who: &Principal,
        dir: Option<PathBuf>,
        what: &str,
    ) -> Result<BackupInfo> {
        Err(unsupported(self, "download_backup_file"))
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
    /// The store's backup location (`imx backup location`): the folder set for every replica
    /// and host, and where backups go through this plane when no folder is given.
    #[allow(unused_variables)]
    async fn backup_location(&self, who: &Principal) -> Result<BackupLocation> {
        Err(unsupported(self, "backup_location"))
    }
    /// Set the store's backup location (an absolute folder), or (`None`) unset it (admin).
    /// Audited as `store.configure`.
    #[allow(unused_variables)]
    async fn set_backup_location(
        &self,
        who: &Principal,
        dir: Option<PathBuf>,
    ) -> Result<BackupLocation> {
        Err(unsupported(self, "set_backup_location"))
    }
    /// Add a notification channel (admin); its secret is sealed with the store key and never
    /// returned. Audited as `notify.channel.add` (without the secret).
    #[allow(unused_variables)]
    async fn notify_channel_add(&self, who: &Principal, channel: NewChannel) -> Result<Channel> {
        Err(unsupported(self, "notify_channel_add"))
    }
    /// Every notification channel (never their secrets).
    #[allow(unused_variables)]
    async fn notify_channels(&self, who: &Principal) -> Result<Vec<Channel>> {
        Err(unsupported(self, "notify_channels"))
    }
    /// Remove a channel no rule sends to (admin). Audited as `notify.channel.remove`.
    #[allow(unused_variables)]
    async fn notify_channel_remove(&self, who: &Principal, name: &str) -> Result<Channel> {
        Err(unsupported(self, "notify_channel_remove"))
    }
    /// Send a test message to a channel now; the delivery and its attempt.
    #[allow(unused_variables)]
    async fn notify_channel_test(&self, who: &Principal, name: &str) -> Result<Delivery> {
        Err(unsupported(self, "notify_channel_test"))
    }
    /// Add a notification rule. Audited as `notify.rule.add`.
    #[allow(unused_variables)]
    async fn notify_rule_add(&self, who: &Principal, rule: NewRule) -> Result<Rule> {
        Err(unsupported(self, "notify_rule_add"))
    }
    /// Every notification rule.
    #[allow(unused_variables)]
    async fn notify_rules(&self, who: &Principal) -> Result<Vec<Rule>> {
        Err(unsupported(self, "notify_rules"))
    }
    /// Remove a rule (id or unique prefix). Audited as `notify.rule.remove`.
    #[allow(unused_variables)]
    async fn notify_rule_remove(&self, who: &Principal, id: &str) -> Result<Rule> {
        Err(unsupported(self, "notify_rule_remove"))
    }
    /// The newest deliveries, with every attempt.
    #[allow(unused_variables)]
    async fn notify_deliveries(&self, who: &Principal, limit: u32) -> Result<Vec<Delivery>> {
        Err(unsupported(self, "notify_deliveries"))
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

    // --- retention ---
    /// Delete the finished runs that ended more than `req.older_than_ms` ago, with their steps,
    /// events and log lines, in short batches (admin); a dry run only counts the runs and
    /// steps. Audited as `run.prune`, one record with the counts. `progress` hears the running
    /// totals while it works.
    #[allow(unused_variables)]
    async fn prune_runs(
        &self,
        who: &Principal,
        req: RunPrune,
        progress: &(dyn for<'r> Fn(&'r RunPruneReport) + Send + Sync),
    ) -> Result<RunPruneReport> {
        Err(unsupported(self, "prune_runs"))
    }

    // --- artifacts (issue 13) ---
    /// Store one file of a step attempt (agent, holding the lease; before it reports the step
    /// succeeded): streamed into the artifact storage, hashed, counted against the per-step
    /// and per-run limits (over either, nothing is kept and the error names the file and the
    /// limit), and recorded, replacing an earlier attempt's file of the same path.
    #[allow(unused_variables)]
    async fn upload_artifact(
        &self,
        who: &Principal,
        lease: &LeaseRef,
        path: &str,
        body: crate::artifacts::ByteStream,
    ) -> Result<crate::model::Artifact> {
        Err(unsupported(self, "upload_artifact"))
    }
    /// A run's artifacts (any unique run id prefix), by step then path (read).
    #[allow(unused_variables)]
    async fn list_artifacts(
        &self,
        who: &Principal,
        run: &str,
    ) -> Result<Vec<crate::model::Artifact>> {
        Err(unsupported(self, "list_artifacts"))
    }
    /// One artifact of a run, by path or id, and its bytes streamed (read). Audited as
    /// `artifact.get` (who, the run, the step, the path) before a byte is sent.
    #[allow(unused_variables)]
    async fn download_artifact(
        &self,
        who: &Principal,
        run: &str,
        what: &str,
    ) -> Result<(crate::model::Artifact, crate::artifacts::ByteStream)> {
        Err(unsupported(self, "download_artifact"))
    }
    /// The artifacts of the run a lease is in (agent, holding it): what `inputs:` draws from.
    #[allow(unused_variables)]
    async fn lease_artifacts(
        &self,
        who: &Principal,
        lease: &LeaseRef,
    ) -> Result<Vec<crate::model::Artifact>> {
        Err(unsupported(self, "lease_artifacts"))
    }
    /// One artifact (by id) of the run a lease is in, streamed (agent, holding the lease).
    #[allow(unused_variables)]
    async fn download_lease_artifact(
        &self,
        who: &Principal,
        lease: &LeaseRef,
        id: &str,
    ) -> Result<crate::artifacts::ByteStream> {
        Err(unsupported(self, "download_lease_artifact"))
    }
    /// Delete the artifacts stored longer ago than `req.older_than_ms`, bytes and rows (admin);
    /// a dry run only counts them. Audited as `artifact.prune`, one record with the counts.
    #[allow(unused_variables)]
    async fn prune_artifacts(
        &self,
        who: &Principal,
        req: crate::model::ArtifactPrune,
    ) -> Result<crate::model::ArtifactPruneReport> {
        Err(unsupported(self, "prune_artifacts"))
    }

    // --- triggers (issue 12) ---
    /// Make a trigger (operator): a webhook trigger's secret (given, or made) is returned this
    /// once. Audited as `trigger.create`, without the secret.
    #[allow(unused_variables)]
    async fn create_trigger(&self, who: &Principal, req: NewTrigger) -> Result<CreatedTrigger> {
        Err(unsupported(self, "triggers"))
    }
    /// Every trigger, by name (read).
    #[allow(unused_variables)]
    async fn list_triggers(&self, who: &Principal) -> Result<Vec<Trigger>> {
        Err(unsupported(self, "triggers"))
    }
    /// One trigger (read).
    #[allow(unused_variables)]
    async fn get_trigger(&self, who: &Principal, name: &str) -> Result<Trigger> {
        Err(unsupported(self, "triggers"))
    }
    /// Delete a trigger made by command (operator); one a workflow file declares is the file's.
    #[allow(unused_variables)]
    async fn delete_trigger(&self, who: &Principal, name: &str) -> Result<Trigger> {
        Err(unsupported(self, "triggers"))
    }
    /// Give a webhook trigger a new secret (given, or made), returned this once (operator).
    #[allow(unused_variables)]
    async fn rotate_trigger_secret(
        &self,
        who: &Principal,
        name: &str,
        secret: Option<Secret>,
    ) -> Result<CreatedTrigger> {
        Err(unsupported(self, "triggers"))
    }
    /// A call to a webhook trigger (`POST /api/v1/hooks/NAME`, no bearer token: the Standard
    /// Webhooks signature is the credential): checked, then the trigger's run started once per
    /// `webhook-id`. Only a server's local plane answers it.
    #[allow(unused_variables)]
    async fn fire_webhook(
        &self,
        name: &str,
        headers: &HookHeaders,
        body: &[u8],
        source: &str,
    ) -> Result<HookOutcome> {
        Err(unsupported(self, "webhooks"))
    }

    // --- approvals (issue 13) ---
    /// Approve or reject the waiting approval step `step` of run `id`, with an optional
    /// comment: only the step's listed users, holders of its listed roles, and admins may
    /// (others are refused and the denial audited). Audited as `run.approve` / `run.reject`
    /// with the step and comment.
    #[allow(unused_variables)]
    async fn decide_approval(
        &self,
        who: &Principal,
        id: &str,
        step: &str,
        decision: crate::model::ApprovalDecision,
        comment: Option<String>,
    ) -> Result<Run> {
        Err(unsupported(self, "approvals"))
    }

    // --- secrets (issue 13) ---
    /// Set a secret (admin): create or replace it, or with `req.rotate` give an existing one a
    /// new value. Audited as `secret.set` / `secret.rotate` with the name and scope only.
    #[allow(unused_variables)]
    async fn set_secret(
        &self,
        who: &Principal,
        name: &str,
        req: crate::model::SecretValue,
    ) -> Result<crate::model::SecretInfo> {
        Err(unsupported(self, "secrets"))
    }
    /// Every secret's name, scope, version and who changed it when, never a value (read);
    /// only `workflow`'s own when given.
    #[allow(unused_variables)]
    async fn list_secrets(
        &self,
        who: &Principal,
        workflow: Option<&str>,
    ) -> Result<Vec<crate::model::SecretInfo>> {
        Err(unsupported(self, "secrets"))
    }
    /// Delete a secret (admin), global or `workflow`'s. Audited as `secret.delete`.
    #[allow(unused_variables)]
    async fn delete_secret(
        &self,
        who: &Principal,
        name: &str,
        workflow: Option<&str>,
    ) -> Result<()> {
        Err(unsupported(self, "secrets"))
    }
    /// Seal every secret the store keeps under a new store key (admin), given as 64 hex
    /// digits. Audited as `store.rekey`.
    #[allow(unused_variables)]
    async fn rekey(&self, who: &Principal, new_key: &Secret) -> Result<crate::model::Rekeyed> {
        Err(unsupported(self, "rekey"))
    }

    // --- audit (issue 5) ---
    /// Records matching a filter, oldest first (read).
    #[allow(unused_variables)]
    async fn audit_list(
        &self,
        who: &Principal,
        filter: crate::audit::AuditFilter,
    ) -> Result<Vec<AuditRecord>> {
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
    /// Withdraw the checkpoint-log entries an interrupted checkpoint of an older imx left for
    /// records never committed (proven ones only), then sign the chain head (admin). Audited as
    /// `audit.checkpoint.repair`.
    #[allow(unused_variables)]
    async fn audit_repair(&self, who: &Principal) -> Result<RepairOutcome> {
        Err(unsupported(self, "audit_repair"))
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

    // --- schedules (issue 12) ---

    /// Create a schedule (`imx schedule create`).
    async fn create_schedule(&self, who: &Principal, spec: ScheduleSpec) -> Result<ScheduleInfo> {
        let _ = (who, spec);
        Err(unsupported(self, "create_schedule"))
    }
    /// Every schedule, by name.
    async fn list_schedules(&self, who: &Principal) -> Result<Vec<ScheduleInfo>> {
        let _ = who;
        Err(unsupported(self, "list_schedules"))
    }
    /// A schedule with its next fire times.
    async fn get_schedule(&self, who: &Principal, name: &str) -> Result<ScheduleDetail> {
        let _ = (who, name);
        Err(unsupported(self, "get_schedule"))
    }
    /// Pause a schedule (its ticks are recorded as missed), with a note saying why.
    async fn pause_schedule(
        &self,
        who: &Principal,
        name: &str,
        note: Option<String>,
    ) -> Result<ScheduleInfo> {
        let _ = (who, name, note);
        Err(unsupported(self, "pause_schedule"))
    }
    async fn resume_schedule(&self, who: &Principal, name: &str) -> Result<ScheduleInfo> {
        let _ = (who, name);
        Err(unsupported(self, "resume_schedule"))
    }
    /// Delete a schedule and its tick records (its runs stay).
    async fn delete_schedule(&self, who: &Principal, name: &str) -> Result<ScheduleInfo> {
        let _ = (who, name);
        Err(unsupported(self, "delete_schedule"))
    }
    /// Run the schedule's workflow now, as a tick of it.
    async fn trigger_schedule(&self, who: &Principal, name: &str) -> Result<Run> {
        let _ = (who, name);
        Err(unsupported(self, "trigger_schedule"))
    }
    /// Make the runs of the ticks in a range that have none.
    async fn backfill_schedule(
        &self,
        who: &Principal,
        name: &str,
        req: Backfill,
    ) -> Result<BackfillReport> {
        let _ = (who, name, req);
        Err(unsupported(self, "backfill_schedule"))
    }
    /// The expected ticks since `since` that have no run, and why.
    async fn missed_ticks(
        &self,
        who: &Principal,
        name: &str,
        since: i64,
    ) -> Result<Vec<MissedTick>> {
        let _ = (who, name, since);
        Err(unsupported(self, "missed_ticks"))
    }
}

/// The error of a control plane that does not offer an operation.
fn unsupported(plane: &(impl ControlPlane + ?Sized), op: &str) -> crate::Error {
    crate::Error::invalid(format!("{} does not support {op}", plane.location()))
}

/// Where backups go (`imx backup location`). Paths are shown to admins only: others see
/// `(hidden)` (as for the store's path).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BackupLocation {
    /// The folder set for the store, which every replica and host uses first; none when unset.
    #[schema(value_type = Option<String>)]
    pub setting: Option<PathBuf>,
    /// Where backups go through this control plane when no folder is given (none: one must
    /// be given). Through a server: where that server puts them.
    #[schema(value_type = Option<String>)]
    pub effective: Option<PathBuf>,
    /// Where `effective` comes from: `setting`, `server` (`imx server --backup-dir`) or `store`
    /// (`backups/` beside a SQLite store).
    pub source: Option<String>,
}

/// What `run prune` asks for (also the body of `POST /api/v1/runs/prune`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunPrune {
    /// Finished runs that ended longer ago than this (ms) go.
    pub older_than_ms: u64,
    /// Only count what would go.
    #[serde(default)]
    pub dry_run: bool,
}

/// What `run prune` deleted (or, in a dry run, would delete).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RunPruneReport {
    /// Finished runs that ended before this went.
    #[serde(with = "crate::model::time::rfc3339")]
    #[schema(value_type = String)]
    pub cutoff: i64,
    pub dry_run: bool,
    pub runs: u64,
    pub steps: u64,
    /// Log lines deleted (a dry run does not count them).
    pub log_lines: u64,
    /// Events deleted (a dry run does not count them).
    pub events: u64,
    /// Schedules' tick records deleted: older than the cutoff and than each schedule's
    /// catch-up window, their run gone (a dry run does not count them).
    #[serde(default)]
    pub ticks: u64,
    /// Notification deliveries that were over (with their attempts) and processed outbox
    /// entries whose run is gone (a dry run does not count them).
    #[serde(default)]
    pub notifications: u64,
    /// Every batch ran (false: the server stopped leading maintenance midway).
    pub complete: bool,
}

impl RunPruneReport {
    fn new(cutoff: i64, dry_run: bool, p: crate::store::retention::Pruned) -> Self {
        RunPruneReport {
            cutoff,
            dry_run,
            runs: p.runs,
            steps: p.steps,
            log_lines: p.log_lines,
            events: p.events,
            ticks: p.ticks,
            notifications: p.notifications,
            complete: p.complete,
        }
    }
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
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CheckpointOutcome {
    pub checkpoint: Checkpoint,
    #[schema(value_type = String)]
    pub key_path: PathBuf,
    /// Whether the key was created by this checkpoint.
    pub key_created: bool,
    #[schema(value_type = String)]
    pub log_path: PathBuf,
}

/// What `audit checkpoint --repair` did.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RepairOutcome {
    /// The log entries withdrawn (empty when nothing needed repair).
    pub withdrawn: Vec<crate::audit::interrupted::Interrupted>,
    /// The checkpoint taken afterwards.
    pub checkpoint: CheckpointOutcome,
}

/// A step's state as a compact symbol, shared by tables and progress displays.
pub fn step_symbol(status: StepStatus) -> &'static str {
    match status {
        StepStatus::Pending => "·",
        StepStatus::Ready => "○",
        StepStatus::Waiting => "⏸",
        StepStatus::Leased | StepStatus::Running => "◐",
        StepStatus::Succeeded => "✓",
        StepStatus::Failed => "✗",
        StepStatus::Skipped => "↷",
        StepStatus::Cancelled => "⊘",
    }
}
