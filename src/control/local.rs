//! The local control plane: this process opens the store and applies the engine's transitions.
//! Authorization and audit live here, so every caller (CLI, dashboard, agents, the server) gets
//! them. Mutations and their audit records commit in one transaction (fail closed).
//!
//! Users, tokens and login live in [`users`] (`local/users.rs`); verified tokens are cached
//! briefly in [`token_cache`]; denials are coalesced for the audit trail in [`denials`]; what
//! non-admins are not shown of the server's paths is scrubbed by [`redact`].

mod combine;
pub(super) mod denials;
mod eager;
mod feed_cache;
pub(super) mod redact;
mod token_cache;
mod users;

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::{
    ApplyAction, ApplyOutcome, ControlPlane, HeartbeatReply, RerunRun, StartRun, StatusReport,
};
use crate::auth::{Permission, Principal, Secret};
// issue 5: backups and audit
use super::local_rerun::run_audit_details;
use super::{CheckpointOutcome, RestoreRequest};
use crate::audit::prune::PruneOutcome;
use crate::audit::{AuditReport, ChainReport, Window};
use crate::backup::catalog::Catalog;
use crate::backup::{
    BackupInfo, CreateOptions, Integrity, KeySource, Progress, PruneReport, RestoreReport,
    RetentionPolicy, VerifyReport,
};
use crate::engine::StepLimits;
use crate::model::AuditRecord;
use crate::model::{
    Agent, AgentRegistration, Event, IssuedToken, LeaseRef, LogLine, LogMark, NewToken, NewUser,
    Page, PasswordChange, Run, RunDetail, RunFilter, StepResult, StepTask, Token, User, UserUpdate,
    Workflow, WorkflowSpec, WorkflowSummary, now_ms,
};
use crate::store::api::RunRequest;
use crate::store::{Backend, Store, Tx};
use crate::{Error, Result, audit};
use combine::{Done, Job};
use std::path::PathBuf;

/// Options for opening a local store.
#[derive(Debug, Clone)]
pub struct LocalOptions {
    /// Lease length granted with each claim (default 30s). Agents learn it when they register
    /// and heartbeat at a third of it.
    pub lease_ms: u64,
    /// Create the store if it does not exist.
    pub create: bool,
    /// What one step attempt may produce (outputs and log), enforced on what agents report.
    pub limits: StepLimits,
}

impl Default for LocalOptions {
    fn default() -> Self {
        LocalOptions {
            lease_ms: 30_000,
            create: true,
            limits: StepLimits::default(),
        }
    }
}

/// The most agent bindings [`LocalControlPlane::check_agent`] remembers (then it starts over).
const BOUND_AGENTS_KEPT: usize = 4096;

/// How often one process looks for expired leases and overdue runs.
const REAP_EVERY: Duration = Duration::from_millis(250);

/// A control plane over a store this process opens (SQLite, or any other [`Backend`]).
pub struct LocalControlPlane {
    store: Arc<dyn Backend>,
    /// The audit signing key and checkpoint log, kept outside the store.
    audit_paths: crate::audit::AuditPaths,
    /// The audit signing key supplied to this process (`IMX_AUDIT_KEY`), over the key file.
    audit_key: Option<crate::audit::AuditKey>,
    /// The default backup folder (none: `backups/` beside the store).
    backup_dir: Option<PathBuf>,
    lease_ms: i64,
    /// The server's default run timeout (`imx server --default-run-timeout`), over the store's.
    pub(super) default_run_timeout_ms: Option<u64>,
    limits: StepLimits,
    last_reap: Mutex<Option<Instant>>,
    last_seen: AtomicU64,
    overview: super::OverviewCache,
    /// Bearer tokens verified recently (see [`token_cache`]).
    tokens: token_cache::TokenCache,
    /// The longest a token may live (`imx server --max-token-ttl`).
    max_token_ttl_ms: i64,
    /// Repeated denials not yet on record (see [`denials`]).
    denials: denials::Denials,
    /// The agents' hot-path writes waiting to share a transaction (see [`combine`]).
    combiner: combine::Combiner,
    /// (agent id, principal) pairs known bound (see [`Self::check_agent`]): a binding never
    /// changes.
    bound_agents: Mutex<std::collections::HashSet<(String, String)>>,
    /// Claims waiting for work, to which a completion leases the steps it readies (see
    /// [`eager`]).
    waiting: eager::Waiting,
    /// The last event and log-mark pages read, shared by this process's followers.
    event_pages: feed_cache::FeedCache<Event>,
    mark_pages: feed_cache::FeedCache<LogMark>,
    /// Where the store key comes from (`None`: the default for the backend, see
    /// [`super::local_store_key`]), and the key once checked against the store.
    store_key_source: Option<crate::keys::StoreKeySource>,
    store_key: Mutex<Option<crate::keys::StoreKey>>,
    /// Where artifacts are kept (see [`super::local_artifacts`]): given (`--artifacts`), or
    /// made on first use beside a SQLite store.
    pub(super) artifacts: std::sync::OnceLock<crate::artifacts::ArtifactStorage>,
    /// How much a step and a run may upload.
    pub(super) artifact_limits: crate::artifacts::ArtifactLimits,
}

impl LocalControlPlane {
    /// How long a verified bearer token is trusted without reading the store again: the longest
    /// a revoke (or a user's disable or role change) made by another process on the same SQLite
    /// store takes to apply here. Made through this plane, such a change applies at once; made
    /// through another replica of a PostgreSQL store, within a second (its tokens hint).
    pub const TOKEN_CACHE_TTL: Duration = token_cache::TTL;

    /// Open (and, with `create`, initialise) the store at `path`.
    pub fn open(path: &Path, opts: LocalOptions) -> Result<Self> {
        let store = Store::open(path, opts.create)?;
        Ok(Self::with_backend(Arc::new(store), opts))
    }

    /// A control plane over an open store (`opts.create` is the opener's business).
    pub fn with_backend(store: Arc<dyn Backend>, opts: LocalOptions) -> Self {
        LocalControlPlane {
            store,
            audit_paths: crate::audit::AuditPaths::default_paths(),
            audit_key: None,
            backup_dir: None,
            lease_ms: i64::try_from(opts.lease_ms.max(100)).unwrap_or(30_000),
            default_run_timeout_ms: None,
            limits: opts.limits,
            last_reap: Mutex::new(None),
            last_seen: AtomicU64::new(0),
            overview: super::OverviewCache::default(),
            tokens: token_cache::TokenCache::default(),
            max_token_ttl_ms: users::DEFAULT_MAX_TOKEN_TTL_MS,
            denials: denials::Denials::default(),
            combiner: combine::Combiner::default(),
            waiting: eager::Waiting::default(),
            bound_agents: Mutex::new(std::collections::HashSet::new()),
            event_pages: feed_cache::FeedCache::default(),
            mark_pages: feed_cache::FeedCache::default(),
            store_key_source: None,
            store_key: Mutex::new(None),
            artifacts: std::sync::OnceLock::new(),
            artifact_limits: crate::artifacts::ArtifactLimits::default(),
        }
    }

    /// Keep artifacts in `storage` (`imx server --artifacts`, `IMX_ARTIFACTS`) rather than in a
    /// folder beside a SQLite store.
    pub fn with_artifact_storage(mut self, storage: crate::artifacts::ArtifactStorage) -> Self {
        self.artifacts = std::sync::OnceLock::from(storage);
        self
    }

    /// Limit artifacts to `limits` (`IMX_ARTIFACT_MAX_STEP`, `IMX_ARTIFACT_MAX_RUN`).
    pub fn with_artifact_limits(mut self, limits: crate::artifacts::ArtifactLimits) -> Self {
        self.artifact_limits = limits;
        self
    }

    /// Tokens may live at most `ttl` (default 90 days): longer lifetimes are refused, and
    /// `imx login` tokens live 30 days or `ttl` if shorter. (`imx server --max-token-ttl`;
    /// `IMX_MAX_TOKEN_TTL` for a local store.)
    pub fn with_max_token_ttl(mut self, ttl: Duration) -> Self {
        self.max_token_ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX).max(1);
        self
    }

    /// The longest a token may live.
    pub fn max_token_ttl(&self) -> Duration {
        Duration::from_millis(u64::try_from(self.max_token_ttl_ms).unwrap_or(0))
    }

    /// Put every coalesced denial on record (before the audit trail is read).
    pub(super) fn flush_denials(&self) {
        self.denials.flush_all(self.store());
    }

    /// Use this audit key and checkpoint log instead of the ones under the config folder.
    pub fn with_audit_paths(mut self, paths: crate::audit::AuditPaths) -> Self {
        self.audit_paths = paths;
        self
    }

    /// Sign audit checkpoints with `key` (supplied as a secret: `IMX_AUDIT_KEY`) instead of
    /// the key file's. Every replica of a store shared by replicas needs the same key.
    pub fn with_audit_key(mut self, key: crate::audit::AuditKey) -> Self {
        self.audit_key = Some(key);
        self
    }

    /// Take the store key from `source` (`imx server --store-key-file`, `IMX_STORE_KEY`)
    /// instead of the backend's default (for SQLite, the OS keyring; otherwise none).
    pub fn with_store_key(mut self, source: crate::keys::StoreKeySource) -> Self {
        self.store_key_source = Some(source);
        self
    }

    pub(super) fn store_key_source(&self) -> Option<&crate::keys::StoreKeySource> {
        self.store_key_source.as_ref()
    }

    pub(super) fn store_key_cache(&self) -> &Mutex<Option<crate::keys::StoreKey>> {
        &self.store_key
    }

    /// The audit key supplied with [`Self::with_audit_key`], if any.
    pub(super) fn supplied_audit_key(&self) -> Option<&crate::audit::AuditKey> {
        self.audit_key.as_ref()
    }

    /// Keep backups in `dir` by default instead of `backups/` beside the store (`imx server
    /// --backup-dir`): where backups are made and ids are looked up when no folder is given.
    pub fn with_backup_dir(mut self, dir: PathBuf) -> Self {
        self.backup_dir = Some(dir);
        self
    }

    /// Give runs started through this plane this default run timeout (`imx server
    /// --default-run-timeout`), over the store's own default; a workflow's `timeout:` and a
    /// run's `--timeout` still win.
    pub fn with_default_run_timeout(mut self, ms: u64) -> Self {
        self.default_run_timeout_ms = Some(ms).filter(|&m| m > 0);
        self
    }

    /// Set the store's default run timeout (`imx init --default-run-timeout`): for runs of
    /// workflows without `timeout:`, started by any process on this store (unless a server
    /// sets its own). Admin only; audited as `store.configure`.
    pub fn set_default_run_timeout(&self, who: &Principal, ms: u64) -> Result<()> {
        self.authorize(who, Permission::Administer, "store.configure", "")?;
        self.mutate(
            who,
            "store.configure",
            |_: &()| "default_run_timeout".to_string(),
            |_| serde_json::json!({ "default_run_timeout_ms": ms }),
            |tx| tx.set_default_run_timeout(ms),
        )
    }

    /// The default backup folder, if one was set with [`Self::with_backup_dir`].
    pub fn default_backup_dir(&self) -> Option<&Path> {
        self.backup_dir.as_deref()
    }

    /// Where the audit key and checkpoint log are.
    pub fn audit_paths(&self) -> &crate::audit::AuditPaths {
        &self.audit_paths
    }

    /// The store (for this module's other files).
    /// Denials waiting to be put on record together (see [`denials`]).
    pub(super) fn denials(&self) -> &denials::Denials {
        &self.denials
    }

    /// The server's default run timeout (`imx server --default-run-timeout`), if set.
    pub(super) fn default_run_timeout(&self) -> Option<u64> {
        self.default_run_timeout_ms
    }

    pub(super) fn store(&self) -> &dyn Backend {
        &*self.store
    }

    /// Forget every cached token verification: after a change to tokens or users (or the whole
    /// store) has committed, or failed, so it takes effect on the next request.
    pub(super) fn forget_verified_tokens(&self) {
        self.tokens.invalidate();
    }

    /// Whether `open` created a new store.
    pub fn created(&self) -> bool {
        self.store.created()
    }

    /// Where the store is, for people: a SQLite store's path; a database URL without its
    /// password.
    pub fn location(&self) -> String {
        self.store.location()
    }

    /// Where the store's file is (a SQLite store; other backends have none).
    pub fn path(&self) -> Option<&Path> {
        self.store.as_sqlite().map(Store::path)
    }

    /// Where the store's file is, for `what`, which only a SQLite store has (`instead`: what
    /// to do on other backends).
    pub(super) fn sqlite_path(&self, what: &str, instead: &str) -> Result<&Path> {
        self.path().ok_or_else(|| Error::NeedsSqlite {
            what: what.into(),
            instead: instead.into(),
        })
    }

    /// The lease length granted with claims.
    pub fn lease_ms(&self) -> i64 {
        self.lease_ms
    }

    /// What one step attempt may produce.
    pub fn limits(&self) -> StepLimits {
        self.limits
    }

    /// Check a permission; a denial is itself audited.
    pub(super) fn authorize(
        &self,
        who: &Principal,
        perm: Permission,
        action: &str,
        target: &str,
    ) -> Result<()> {
        match who.require(perm) {
            Ok(()) => Ok(()),
            Err(e) => {
                // Coalesced: the first denial of a minute at once, repeats as one record.
                self.denials.record(self.store(), who, action, target);
                Err(e)
            }
        }
    }

    /// Record a permission denial decided outside [`authorize`](Self::authorize) (coalesced
    /// like every other).
    pub(super) fn denied(&self, who: &Principal, action: &str, target: &str) {
        self.denials.record(self.store(), who, action, target);
    }

    /// A mutation and its audit record, in one transaction.
    pub(super) fn mutate<T>(
        &self,
        who: &Principal,
        action: &str,
        target: impl Fn(&T) -> String,
        details: impl Fn(&T) -> serde_json::Value,
        mut f: impl FnMut(&Tx<'_>) -> Result<T>,
    ) -> Result<T> {
        self.store.write(|tx| {
            let out = f(tx)?;
            audit::append(tx, who, action, &target(&out), "ok", details(&out))?;
            Ok(out)
        })
    }

    /// Expire lost leases and time out overdue runs, at most every [`REAP_EVERY`].
    fn maybe_reap(&self) {
        self.denials.flush_ended(self.store());
        {
            let mut last = self.last_reap.lock().unwrap_or_else(|p| p.into_inner());
            if last.is_some_and(|t| t.elapsed() < REAP_EVERY) {
                return;
            }
            *last = Some(Instant::now());
        }
        let _ = self.maintain_now();
    }

    /// Do the store's periodic maintenance now (fire `after` triggers for runs that ended,
    /// expire lost leases, time out overdue runs), if
    /// it is this process's to do: `None` when another replica holds the maintenance lease
    /// (PostgreSQL), else how many things changed. `imx server` on PostgreSQL calls it on a
    /// timer, so the leader reaps even when no request comes in.
    pub fn maintain_now(&self) -> Result<Option<usize>> {
        if self.store.maintenance_leader() == Some(false) {
            return Ok(None);
        }
        // Runs that ended start the runs their `after` triggers name; a failure here (a bad
        // trigger, the store busy) must not stop the reaping below, and is tried again next time.
        let fired = self.fire_after_triggers().unwrap_or_else(|e| {
            tracing::warn!(error = %e, "firing `after` triggers failed; retrying on the next pass");
            0
        });
        if !self.store.read_quick(|tx| tx.reap_due())? {
            return Ok(Some(fired));
        }
        let specs = self.store.specs();
        Ok(self.store.maintain(|tx| tx.reap(specs))?.map(|n| n + fired))
    }

    /// Refuse `who` acting for agent `agent_id` unless it registered it (DESIGN §3); the
    /// denial is audited like any other and nothing changes. Unknown agents pass: the call then
    /// fails or answers as it does for any unknown agent. An agent's binding never changes
    /// (a name taken over gets a new id), so checking it before the call is enough.
    pub(super) fn check_agent(
        &self,
        who: &Principal,
        action: &str,
        target: &str,
        agent_id: &str,
    ) -> Result<()> {
        let key = (agent_id.to_string(), who.name.clone());
        if self
            .bound_agents
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&key)
        {
            return Ok(());
        }
        let bound = self
            .store
            .read_quick(|tx| tx.check_agent_bound(agent_id, &who.name));
        match bound {
            Ok(true) => {
                // Remembered: the agent's every request checks it (two a step on the hot path).
                let mut known = self.bound_agents.lock().unwrap_or_else(|p| p.into_inner());
                if known.len() >= BOUND_AGENTS_KEPT {
                    known.clear();
                }
                known.insert(key);
                Ok(())
            }
            Ok(false) => Ok(()),
            Err(e) => {
                if matches!(e, Error::Forbidden { .. }) {
                    // Coalesced like every other denial (one record a minute per
                    // principal+action+target).
                    self.denials.record(self.store(), who, action, target);
                }
                Err(e)
            }
        }
    }

    /// Lease steps made ready in `tx` to the claims waiting here (see [`eager`]), with the
    /// store's ordinary claim; the grants are to be delivered once `tx` has committed.
    pub(super) fn grant_waiting(&self, tx: &crate::store::Tx<'_>) -> Result<eager::Grants> {
        let specs = self.store.specs();
        self.waiting
            .grant(|agent_id, max| tx.claim(specs, agent_id, max, self.lease_ms, &self.limits))
    }

    /// Each agent whose leases `results` report is bound to `who` (checked once per agent;
    /// those in `checked` already were).
    fn check_reporters<'r>(
        &self,
        who: &Principal,
        results: &'r [(LeaseRef, StepResult)],
        mut checked: Vec<&'r str>,
    ) -> Result<()> {
        for (lease, _) in results {
            if !checked.contains(&lease.agent_id.as_str()) {
                self.check_agent(who, "step.complete", &lease.run_id, &lease.agent_id)?;
                checked.push(&lease.agent_id);
            }
        }
        Ok(())
    }

    /// Steps granted to a claim, made ready to hand to its agent: secrets filled in (a step
    /// whose secrets cannot be is failed, and left out), artifact limits set.
    async fn prepare_tasks(&self, who: &Principal, tasks: Vec<StepTask>) -> Result<Vec<StepTask>> {
        let mut tasks = self.fill_secrets(who, tasks).await?;
        for t in &mut tasks {
            if !t.artifacts.is_empty() {
                t.max_artifact_bytes = Some(self.artifact_limits.max_step_bytes);
            }
        }
        Ok(tasks)
    }

    /// A claim ends without having claimed: what a completion granted it meanwhile, if any.
    async fn close_claim(
        &self,
        who: &Principal,
        park: &eager::Parked<'_>,
    ) -> Result<Vec<StepTask>> {
        match park.close().await {
            Some(tasks) => self.prepare_tasks(who, tasks).await,
            None => Ok(Vec::new()),
        }
    }

    /// How many claims wait here for a completion to grant them steps (see [`eager`]).
    #[cfg(test)]
    pub(crate) fn parked_claims(&self) -> usize {
        self.waiting.parked()
    }

    fn ready_now(&self) -> Result<bool> {
        self.store.read_quick(|tx| tx.any_ready(now_ms()))
    }
}

#[async_trait]
impl ControlPlane for LocalControlPlane {
    fn location(&self) -> String {
        format!("local {}", self.store.location())
    }

    fn maintenance_leader(&self) -> Option<bool> {
        self.store.maintenance_leader()
    }

    async fn status(&self, who: &Principal) -> Result<StatusReport> {
        self.authorize(who, Permission::Watch, "status", "")?;
        self.maybe_reap();
        // The report names the latest event, a follower's starting point.
        self.store.sync_feeds()?;
        let counts = self.store.read(|tx| tx.status_counts())?;
        Ok(StatusReport {
            mode: "local".into(),
            location: self.store_location(who),
            schema_version: self.store.schema_version()?,
            agents: counts.agents,
            runs: counts.runs,
            steps_ready: counts.steps_ready,
            steps_running: counts.steps_running,
            workflows: counts.workflows,
        })
    }

    async fn apply_workflow(
        &self,
        who: &Principal,
        spec: WorkflowSpec,
        dry_run: bool,
    ) -> Result<ApplyOutcome> {
        self.authorize(
            who,
            Permission::ManageWorkflows,
            "workflow.apply",
            &spec.name,
        )?;
        // Files are checked when parsed; a spec sent over the API is checked here.
        crate::spec::check_spec(&spec)?;
        if dry_run {
            return self.store.read(|tx| {
                crate::notify::file::check_channels(tx, &spec)?;
                tx.apply_workflow(&spec, true)
            });
        }
        self.store
            .write(|tx| {
                let out = tx.apply_workflow(&spec, false)?;
                // The file's `schedules:` (issue 12), in the same transaction.
                let synced = crate::store::schedules::sync_file_schedules(
                    tx,
                    &spec.name,
                    &spec.schedules,
                    crate::model::now_ms(),
                )?;
                // The file's `notify:`, likewise; a channel it names must exist.
                let rules = crate::notify::file::sync_file_rules(
                    tx,
                    &spec,
                    &who.name,
                    crate::model::now_ms(),
                )?;
                if out.action != ApplyAction::Unchanged || synced.any() || rules.any() {
                    let mut details =
                        serde_json::json!({ "version": out.version, "action": out.action });
                    if out.action != ApplyAction::Unchanged {
                        let triggers = super::local_triggers::sync_declared(tx, who, &spec)?;
                        if !triggers.is_empty() {
                            details["triggers"] = serde_json::json!(triggers);
                        }
                    }
                    if synced.any() {
                        details["schedules"] = serde_json::json!(synced);
                    }
                    if rules.any() {
                        details["notify"] = serde_json::json!(rules);
                    }
                    audit::append(tx, who, "workflow.apply", &out.name, "ok", details)?;
                }
                Ok(out)
            })
            // The file's schedules may have changed: the scheduler looks at once.
            .inspect(|_| self.store.feed().notify_schedules())
    }

    async fn list_workflows(&self, who: &Principal) -> Result<Vec<WorkflowSummary>> {
        self.authorize(who, Permission::Read, "workflow.list", "")?;
        self.store.read(|tx| tx.list_workflows())
    }

    async fn get_workflow(
        &self,
        who: &Principal,
        name: &str,
        version: Option<u32>,
    ) -> Result<Workflow> {
        self.authorize(who, Permission::Read, "workflow.get", name)?;
        let server = self.default_run_timeout_ms;
        self.store.read_quick(|tx| {
            let mut wf = tx.get_workflow(name, version)?;
            wf.run_timeout = Some(tx.run_timeout(None, wf.spec.timeout_ms, server)?);
            Ok(wf)
        })
    }

    async fn delete_workflow(&self, who: &Principal, name: &str) -> Result<Workflow> {
        self.authorize(who, Permission::ManageWorkflows, "workflow.delete", name)?;
        self.mutate(
            who,
            "workflow.delete",
            |w: &Workflow| w.name.clone(),
            |w| serde_json::json!({ "version": w.version }),
            |tx| {
                let wf = tx.delete_workflow(name)?;
                tx.delete_declared_triggers(name, &[])?;
                // Its rules from the file go with it (they could fire on nothing).
                tx.notify_replace_workflow_rules(name, &[])?;
                Ok(wf)
            },
        )
    }

    async fn start_run(&self, who: &Principal, req: StartRun) -> Result<Run> {
        self.authorize(who, Permission::ManageWorkflows, "run.start", &req.workflow)?;
        crate::model::labels::check(&req.labels)?;
        super::local_rerun::check_run_timeout(req.timeout_ms)?;
        let wf = self.store.read(|tx| tx.get_workflow(&req.workflow, None))?;
        let typed = crate::spec::resolve_params(&wf.spec, &req.params)?;
        let specs = self.store.specs();
        let mut grants = None;
        let run = self.mutate(
            who,
            "run.start",
            |r: &Run| r.id.clone(),
            run_audit_details,
            |tx| {
                // A transaction run again starts over: what an earlier run granted was not kept.
                grants = None;
                let run = tx.create_run_with(
                    specs,
                    &RunRequest {
                        workflow: &req.workflow,
                        version: None,
                        params: &typed,
                        timeout_ms: req.timeout_ms,
                        default_timeout_ms: self.default_run_timeout_ms,
                        created_by: &who.name,
                        labels: &req.labels,
                        rerun_of: None,
                        schedule: None,
                        id: None,
                    },
                )?;
                // Its first steps are ready (unless it waits for a concurrency slot): lease
                // them to claims waiting here, in this transaction.
                let waits = run
                    .concurrency
                    .as_ref()
                    .is_some_and(|c| c.admitted_at.is_none());
                if !run.status.is_terminal() && !waits {
                    grants = Some(self.grant_waiting(tx)?);
                }
                Ok(run)
            },
        )?;
        if let Some(grants) = grants {
            grants.deliver();
        }
        Ok(run)
    }

    async fn rerun_run(&self, who: &Principal, id: &str, req: RerunRun) -> Result<Run> {
        self.rerun(who, id, req)
    }

    async fn list_runs(&self, who: &Principal, filter: RunFilter) -> Result<Page<Run>> {
        self.authorize(who, Permission::Read, "run.list", "")?;
        self.store.read_quick(|tx| tx.list_runs(&filter))
    }

    async fn get_run(&self, who: &Principal, id: &str) -> Result<RunDetail> {
        self.authorize(who, Permission::Read, "run.get", id)?;
        self.maybe_reap();
        let specs = self.store.specs();
        self.store.read_quick(|tx| {
            let mut detail = tx.run_detail(specs, id)?;
            // Why steps wait (engine::placement): only a live run with steps not yet taken.
            let open = |s: &crate::model::StepState| {
                matches!(
                    s.status,
                    crate::model::StepStatus::Ready | crate::model::StepStatus::Pending
                )
            };
            if detail.steps.iter().any(|s| s.kind == "approval") {
                let (run, version) = (&detail.run.workflow, detail.run.workflow_version);
                let ix = tx.workflow_index(specs, run, version)?;
                super::local_approvals::describe(&mut detail, &ix);
            }
            if !detail.run.status.is_terminal() && detail.steps.iter().any(open) {
                let (run, version) = (&detail.run.workflow, detail.run.workflow_version);
                let ix = tx.workflow_index(specs, run, version)?;
                let agents = tx.live_agents()?;
                detail.waiting = crate::engine::placement::waiting(
                    &detail.steps,
                    |step| Some(&ix.step(step)?.agent.as_ref()?.labels),
                    &agents,
                    now_ms(),
                );
            }
            Ok(detail)
        })
    }

    async fn decide_approval(
        &self,
        who: &Principal,
        id: &str,
        step: &str,
        decision: crate::model::ApprovalDecision,
        comment: Option<String>,
    ) -> Result<Run> {
        crate::store::off_runtime(|| self.do_decide_approval(who, id, step, decision, comment))
    }

    async fn cancel_run(&self, who: &Principal, id: &str) -> Result<Run> {
        self.authorize(who, Permission::ManageWorkflows, "run.cancel", id)?;
        let specs = self.store.specs();
        self.mutate(
            who,
            "run.cancel",
            |r: &Run| r.id.clone(),
            |r| serde_json::json!({ "workflow": r.workflow }),
            |tx| tx.cancel_run(specs, id),
        )
    }

    async fn retry_run(&self, who: &Principal, id: &str, from: Option<&str>) -> Result<Run> {
        self.authorize(who, Permission::ManageWorkflows, "run.retry", id)?;
        let specs = self.store.specs();
        self.mutate(
            who,
            "run.retry",
            |r: &Run| r.id.clone(),
            |r| serde_json::json!({ "workflow": r.workflow, "from": from }),
            |tx| tx.retry_run(specs, id, from),
        )
    }

    async fn run_logs(
        &self,
        who: &Principal,
        run_id: &str,
        step: Option<&str>,
        after: i64,
        limit: u32,
    ) -> Result<Vec<LogLine>> {
        self.authorize(who, Permission::Read, "run.logs", run_id)?;
        self.store.read_feeds(|tx| {
            let id = tx.resolve_run_id(run_id)?;
            tx.log_page(&id, step, after, limit.clamp(1, 10_000))
        })
    }

    async fn run_logs_before(
        &self,
        who: &Principal,
        run_id: &str,
        step: Option<&str>,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<LogLine>> {
        self.authorize(who, Permission::Read, "run.logs", run_id)?;
        self.store.read_feeds(|tx| {
            let id = tx.resolve_run_id(run_id)?;
            let before = before.unwrap_or(i64::MAX);
            tx.log_page_before(&id, step, before, limit.clamp(1, 10_000))
        })
    }

    async fn events(&self, who: &Principal, after: i64, limit: u32) -> Result<Vec<Event>> {
        self.authorize(who, Permission::Watch, "events", "")?;
        let limit = limit.clamp(1, 10_000);
        let version = self.store.feed().version();
        crate::store::off_runtime(|| {
            self.event_pages.page(version, after, limit, || {
                self.store.read_feeds(|tx| tx.events_after(after, limit))
            })
        })
    }

    async fn log_marks(&self, who: &Principal, after: i64, limit: u32) -> Result<Vec<LogMark>> {
        self.authorize(who, Permission::Watch, "log.marks", "")?;
        let limit = limit.clamp(1, 10_000);
        let version = self.store.feed().version();
        crate::store::off_runtime(|| {
            self.mark_pages.page(version, after, limit, || {
                self.store.read_feeds(|tx| tx.log_marks(after, limit))
            })
        })
    }

    async fn wait_for_change(&self, timeout: Duration) {
        self.maybe_reap();
        let seen = self.last_seen.load(Ordering::Relaxed);
        // Never sleep past the next reap: overdue runs and lost leases must surface.
        self.store
            .feed()
            .wait_since(seen, timeout.min(Duration::from_millis(500)))
            .await;
        self.last_seen
            .store(self.store.feed().version(), Ordering::Relaxed);
    }

    fn change_seq(&self) -> u64 {
        self.store.feed().version()
    }

    async fn wait_for_change_since(&self, seen: u64, timeout: Duration) {
        self.maybe_reap();
        // Never sleep past the next reap, as above.
        self.store
            .feed()
            .wait_since(seen, timeout.min(Duration::from_millis(500)))
            .await;
    }

    async fn list_agents(&self, who: &Principal) -> Result<Vec<Agent>> {
        self.authorize(who, Permission::Read, "agent.list", "")?;
        self.store.read(|tx| tx.list_agents())
    }

    async fn get_agent(&self, who: &Principal, name_or_id: &str) -> Result<Agent> {
        self.authorize(who, Permission::Read, "agent.get", name_or_id)?;
        self.store.read_quick(|tx| tx.get_agent(name_or_id))
    }

    async fn drain_agent(&self, who: &Principal, name_or_id: &str) -> Result<Agent> {
        self.authorize(who, Permission::ManageAgents, "agent.drain", name_or_id)?;
        self.mutate(
            who,
            "agent.drain",
            |a: &Agent| a.name.clone(),
            |a| serde_json::json!({ "id": a.id }),
            |tx| tx.set_agent_draining(name_or_id, true),
        )
    }

    async fn resume_agent(&self, who: &Principal, name_or_id: &str) -> Result<Agent> {
        self.authorize(who, Permission::ManageAgents, "agent.resume", name_or_id)?;
        self.mutate(
            who,
            "agent.resume",
            |a: &Agent| a.name.clone(),
            |a| serde_json::json!({ "id": a.id }),
            |tx| tx.set_agent_draining(name_or_id, false),
        )
    }

    async fn remove_agent(&self, who: &Principal, name_or_id: &str, force: bool) -> Result<Agent> {
        self.authorize(who, Permission::ManageAgents, "agent.remove", name_or_id)?;
        let specs = self.store.specs();
        self.mutate(
            who,
            "agent.remove",
            |a: &Agent| a.name.clone(),
            |a| serde_json::json!({ "id": a.id, "released": a.current, "force": force }),
            |tx| tx.remove_agent(specs, name_or_id, force),
        )
    }

    async fn register_agent(&self, who: &Principal, reg: AgentRegistration) -> Result<Agent> {
        self.authorize(who, Permission::Work, "agent.register", &reg.name)?;
        if reg.name.trim().is_empty() {
            return Err(Error::invalid("an agent needs a name"));
        }
        if reg.slots == 0 {
            return Err(Error::invalid("an agent needs at least one slot"));
        }
        let specs = self.store.specs();
        self.mutate(
            who,
            "agent.register",
            |a: &Agent| a.name.clone(),
            |a| serde_json::json!({ "id": a.id, "labels": a.labels, "slots": a.slots, "host": a.hostname }),
            |tx| tx.register_agent(specs, &reg, &who.name, self.lease_ms),
        )
    }

    async fn claim(
        &self,
        who: &Principal,
        agent_id: &str,
        max: u32,
        wait: Duration,
    ) -> Result<Vec<StepTask>> {
        self.authorize(who, Permission::Work, "step.claim", agent_id)?;
        self.check_agent(who, "step.claim", agent_id, agent_id)?;
        let deadline = Instant::now() + wait;
        // Parked from the start: a completion that readies a step while this claim looks or
        // waits leases it here in its own transaction (see `eager`).
        let park = self.waiting.park(agent_id, max, deadline);
        let mut first = true;
        loop {
            if let Some(tasks) = park.take().await {
                let tasks = self.prepare_tasks(who, tasks).await?;
                if !tasks.is_empty() {
                    return Ok(tasks);
                }
                park.reopen();
            }
            self.maybe_reap();
            let seen = self.store.feed().version();
            let mut next_due = None;
            let ready = self.ready_now()?;
            // Past the deadline (this process was stalled, e.g. SIGSTOPped, while the agent
            // waited) the agent may have given up or died: leasing steps to it now would only
            // strand them until their lease ends. The first look always claims.
            if !first && Instant::now() >= deadline {
                return self.close_claim(who, &park).await;
            }
            let first_look = std::mem::replace(&mut first, false);
            if ready {
                if let Some(tasks) = park.own().await {
                    let tasks = self.prepare_tasks(who, tasks).await?;
                    if !tasks.is_empty() {
                        return Ok(tasks);
                    }
                    park.reopen();
                    continue;
                }
                let claimed = match self.hot_write(Job::Claim {
                    agent_id: agent_id.to_string(),
                    max,
                })? {
                    Done::Claimed(claimed) => claimed,
                    other => return Err(other.mismatch()),
                };
                if !claimed.tasks.is_empty() {
                    let tasks = self.prepare_tasks(who, claimed.tasks).await?;
                    if !tasks.is_empty() {
                        return Ok(tasks);
                    }
                    park.reopen();
                    continue;
                }
                park.reopen();
                next_due = claimed.next_due;
            } else if first_look {
                // Make sure the agent still exists, so a removed agent learns it: once a
                // claim, not at every change it wakes for (each step's commits wake every
                // parked claim); a claim of an agent removed meanwhile ends at its deadline
                // and the next one learns it. One row read (a lease check of no leases), not
                // the agent's listing, which reads every agent and every held step.
                let reply = self.store.read_quick(|tx| tx.check_leases(agent_id, &[]))?;
                if reply.removed {
                    return Err(Error::not_found("agent", agent_id));
                }
            }
            let now = Instant::now();
            if now >= deadline {
                return self.close_claim(who, &park).await;
            }
            let mut sleep = deadline - now;
            if let Some(due) = next_due {
                let until = due - now_ms();
                if until > 0 {
                    sleep = sleep.min(Duration::from_millis(u64::try_from(until).unwrap_or(0)));
                }
            }
            tokio::select! {
                () = self.store.feed().wait_since(seen, sleep.min(REAP_EVERY * 2)) => {}
                () = park.settled() => {}
            }
        }
    }

    async fn start_step(&self, who: &Principal, lease: &LeaseRef) -> Result<()> {
        self.authorize(who, Permission::Work, "step.start", &lease.run_id)?;
        self.check_agent(who, "step.start", &lease.run_id, &lease.agent_id)?;
        self.hot_write(Job::Start(lease.clone())).map(|_| ())
    }

    async fn heartbeat(
        &self,
        who: &Principal,
        agent_id: &str,
        leases: &[LeaseRef],
    ) -> Result<HeartbeatReply> {
        self.authorize(who, Permission::Work, "agent.heartbeat", agent_id)?;
        self.check_agent(who, "agent.heartbeat", agent_id, agent_id)?;
        self.maybe_reap();
        self.store
            .write(|tx| tx.heartbeat(agent_id, leases, self.lease_ms))
    }

    async fn check_leases(
        &self,
        who: &Principal,
        agent_id: &str,
        leases: &[LeaseRef],
    ) -> Result<HeartbeatReply> {
        self.authorize(who, Permission::Work, "agent.check_leases", agent_id)?;
        self.check_agent(who, "agent.check_leases", agent_id, agent_id)?;
        self.store
            .read_quick(|tx| tx.check_leases(agent_id, leases))
    }

    async fn append_logs(
        &self,
        who: &Principal,
        lease: &LeaseRef,
        lines: &[crate::model::CapturedLine],
    ) -> Result<()> {
        self.authorize(who, Permission::Work, "step.logs", &lease.run_id)?;
        self.check_agent(who, "step.logs", &lease.run_id, &lease.agent_id)?;
        if lines.is_empty() {
            return Ok(());
        }
        self.hot_write(Job::Logs {
            lease: lease.clone(),
            lines: lines.to_vec(),
        })
        .map(|_| ())
    }

    async fn complete_steps(
        &self,
        who: &Principal,
        results: &[(LeaseRef, StepResult)],
    ) -> Result<Vec<bool>> {
        self.authorize(who, Permission::Work, "step.complete", "")?;
        self.check_reporters(who, results, Vec::new())?;
        match self.hot_write(Job::Complete(results.to_vec()))? {
            Done::Completed(accepted, grants) => {
                grants.deliver();
                Ok(accepted)
            }
            other => Err(other.mismatch()),
        }
    }

    async fn complete_and_claim(
        &self,
        who: &Principal,
        agent_id: &str,
        results: &[(LeaseRef, StepResult)],
        max: u32,
    ) -> Result<(Vec<bool>, Vec<StepTask>)> {
        self.authorize(who, Permission::Work, "step.complete", "")?;
        self.authorize(who, Permission::Work, "step.claim", agent_id)?;
        self.check_agent(who, "step.claim", agent_id, agent_id)?;
        self.check_reporters(who, results, vec![agent_id])?;
        let job = Job::CompleteClaim {
            results: results.to_vec(),
            agent_id: agent_id.to_string(),
            max,
        };
        match self.hot_write(job)? {
            Done::CompletedClaimed(accepted, grants, claimed) => {
                grants.deliver();
                let tasks = self.prepare_tasks(who, claimed.tasks).await?;
                Ok((accepted, tasks))
            }
            other => Err(other.mismatch()),
        }
    }

    async fn deregister_agent(&self, who: &Principal, agent_id: &str) -> Result<()> {
        self.authorize(who, Permission::Work, "agent.deregister", agent_id)?;
        self.check_agent(who, "agent.deregister", agent_id, agent_id)?;
        let specs = self.store.specs();
        // Audited like registration (an agent's start and stop); the claim/report protocol in
        // between is recorded as events, not audit records.
        self.store.write(|tx| {
            tx.deregister_agent(specs, agent_id)?;
            audit::append(
                tx,
                who,
                "agent.deregister",
                agent_id,
                "ok",
                serde_json::Value::Null,
            )
            .map(|_| ())
        })
    }

    // --- users, tokens, login: implemented in local/users.rs ---

    async fn create_user(&self, who: &Principal, user: NewUser) -> Result<User> {
        self.users_create(who, user).await
    }

    async fn list_users(&self, who: &Principal) -> Result<Vec<User>> {
        self.users_list(who)
    }

    async fn get_user(&self, who: &Principal, name: &str) -> Result<User> {
        self.users_get(who, name)
    }

    async fn update_user(&self, who: &Principal, name: &str, change: UserUpdate) -> Result<User> {
        self.users_update(who, name, change)
    }

    async fn delete_user(&self, who: &Principal, name: &str) -> Result<User> {
        self.users_delete(who, name)
    }

    async fn set_password(
        &self,
        who: &Principal,
        name: &str,
        change: PasswordChange,
    ) -> Result<User> {
        self.users_set_password(who, name, change).await
    }

    async fn unlock_user(&self, who: &Principal, name: &str) -> Result<User> {
        self.users_unlock(who, name)
    }

    async fn create_token(&self, who: &Principal, req: NewToken) -> Result<IssuedToken> {
        self.tokens_create(who, req)
    }

    async fn list_tokens(&self, who: &Principal) -> Result<Vec<Token>> {
        self.tokens_list(who)
    }

    async fn revoke_token(&self, who: &Principal, name_or_id: &str) -> Result<Token> {
        self.tokens_revoke(who, name_or_id)
    }

    async fn login(&self, user: &str, password: &Secret, source: &str) -> Result<IssuedToken> {
        self.auth_login(user, password, source).await
    }

    async fn logout(&self, token: &Secret, source: &str) -> Result<()> {
        self.auth_logout(token, source)
    }

    async fn whoami(&self, who: &Principal) -> Result<Principal> {
        Ok(who.clone())
    }

    // --- dashboard (read-only; see control::dashboard) ---
    async fn overview(&self, who: &Principal) -> Result<super::Overview> {
        self.authorize(who, Permission::Read, "dashboard.overview", "")?;
        self.maybe_reap();
        let now = now_ms();
        // The overview names the latest event, the dashboard's starting point.
        self.store.sync_feeds()?;
        self.store.read(|tx| {
            let mut o = tx.overview_counts(now, 5)?;
            let (hour, day, throughput) = self.overview.with(|b| -> Result<_> {
                let from = b.start_minute(now) * super::MINUTE_MS;
                let runs = tx.run_minutes(from)?;
                let steps_from =
                    from.max(now - super::THROUGHPUT_MINUTES as i64 * super::MINUTE_MS);
                let steps = tx.step_minutes(steps_from)?;
                Ok(b.fold(now, &runs, &steps))
            })?;
            o.last_hour = hour;
            o.last_day = day;
            o.throughput = throughput;
            let durations = tx.step_durations(now - 3_600_000, super::DURATION_SAMPLE)?;
            o.step_p50_ms = super::percentile(&durations, 50);
            o.step_p95_ms = super::percentile(&durations, 95);
            Ok(o)
        })
    }

    async fn dashboard_runs(&self, who: &Principal, query: super::RunQuery) -> Result<Page<Run>> {
        self.authorize(who, Permission::Read, "run.list", "")?;
        crate::model::labels::check(&query.labels)?;
        self.store.read(|tx| tx.dashboard_runs(&query))
    }

    async fn dashboard_agents(
        &self,
        who: &Principal,
        query: super::AgentQuery,
    ) -> Result<Page<Agent>> {
        self.authorize(who, Permission::Read, "agent.list", "")?;
        self.store.read(|tx| tx.dashboard_agents(&query, now_ms()))
    }

    async fn agent_steps(
        &self,
        who: &Principal,
        name_or_id: &str,
        limit: u32,
    ) -> Result<Vec<crate::model::AgentStep>> {
        self.authorize(who, Permission::Read, "agent.get", name_or_id)?;
        self.store.read_quick(|tx| {
            let agent = tx.get_agent(name_or_id)?;
            tx.agent_steps(&agent.name, limit)
        })
    }

    async fn dashboard_workflows(
        &self,
        who: &Principal,
        recent: u32,
    ) -> Result<Vec<super::WorkflowOutcomes>> {
        self.authorize(who, Permission::Read, "workflow.list", "")?;
        self.store
            .read(|tx| tx.dashboard_workflows(recent.min(100)))
    }

    async fn audit_tail(
        &self,
        who: &Principal,
        filter: super::AuditFilter,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<crate::model::AuditRecord>> {
        self.authorize(who, Permission::Read, "audit.tail", "")?;
        self.flush_denials();
        let mut records = self
            .store
            .read(|tx| tx.audit_tail(&filter, before, limit))?;
        if let Some(r) = self.redactor(who) {
            records.iter_mut().for_each(|rec| r.record(rec));
        }
        Ok(records)
    }
    // --- end dashboard ---

    // --- backups and audit (issue 5): implemented in local_backup.rs and local_audit.rs ---

    async fn create_backup(
        &self,
        who: &Principal,
        opts: CreateOptions,
        progress: &dyn Progress,
    ) -> Result<BackupInfo> {
        self.flush_denials();
        self.do_create_backup(who, opts, progress)
    }

    async fn list_backups(&self, who: &Principal, dir: Option<PathBuf>) -> Result<Catalog> {
        self.do_list_backups(who, dir)
    }

    async fn show_backup(
        &self,
        who: &Principal,
        dir: Option<PathBuf>,
        what: &str,
    ) -> Result<BackupInfo> {
        self.do_show_backup(who, dir, what)
    }

    async fn download_backup_file(
        &self,
        who: &Principal,
        dir: Option<PathBuf>,
        what: &str,
    ) -> Result<BackupInfo> {
        self.do_download_backup_file(who, dir, what)
    }

    async fn verify_backup(
        &self,
        who: &Principal,
        dir: Option<PathBuf>,
        what: &str,
        key: Option<KeySource>,
        integrity: Integrity,
        progress: &dyn Progress,
    ) -> Result<VerifyReport> {
        self.do_verify_backup(who, dir, what, key, integrity, progress)
    }

    async fn restore_backup(
        &self,
        who: &Principal,
        req: RestoreRequest,
        progress: &dyn Progress,
    ) -> Result<RestoreReport> {
        self.do_restore_backup(who, req, progress)
    }

    async fn backup_location(&self, who: &Principal) -> Result<super::BackupLocation> {
        self.authorize(who, Permission::Read, "backup.location", "")?;
        let mut location = self.do_backup_location()?;
        if !who.can(Permission::Administer) {
            for p in [&mut location.setting, &mut location.effective]
                .into_iter()
                .flatten()
            {
                *p = PathBuf::from(HIDDEN);
            }
        }
        Ok(location)
    }

    async fn set_backup_location(
        &self,
        who: &Principal,
        dir: Option<PathBuf>,
    ) -> Result<super::BackupLocation> {
        self.do_set_backup_location(who, dir)
    }

    async fn notify_channel_add(
        &self,
        who: &Principal,
        channel: crate::notify::NewChannel,
    ) -> Result<crate::notify::Channel> {
        self.do_notify_channel_add(who, channel)
    }

    async fn notify_channels(&self, who: &Principal) -> Result<Vec<crate::notify::Channel>> {
        self.do_notify_channels(who)
    }

    async fn notify_channel_remove(
        &self,
        who: &Principal,
        name: &str,
    ) -> Result<crate::notify::Channel> {
        self.do_notify_channel_remove(who, name)
    }

    async fn notify_channel_test(
        &self,
        who: &Principal,
        name: &str,
    ) -> Result<crate::notify::Delivery> {
        self.do_notify_channel_test(who, name).await
    }

    async fn notify_rule_add(
        &self,
        who: &Principal,
        rule: crate::notify::NewRule,
    ) -> Result<crate::notify::Rule> {
        self.do_notify_rule_add(who, rule, crate::notify::RuleSource::Command)
    }

    async fn notify_rules(&self, who: &Principal) -> Result<Vec<crate::notify::Rule>> {
        self.do_notify_rules(who)
    }

    async fn notify_rule_remove(&self, who: &Principal, id: &str) -> Result<crate::notify::Rule> {
        self.do_notify_rule_remove(who, id)
    }

    async fn notify_deliveries(
        &self,
        who: &Principal,
        limit: u32,
    ) -> Result<Vec<crate::notify::Delivery>> {
        self.do_notify_deliveries(who, limit)
    }

    async fn prune_backups(
        &self,
        who: &Principal,
        dir: Option<PathBuf>,
        policy: RetentionPolicy,
        dry_run: bool,
    ) -> Result<PruneReport> {
        self.do_prune_backups(who, dir, policy, dry_run)
    }

    async fn create_schedule(
        &self,
        who: &Principal,
        spec: crate::schedule::ScheduleSpec,
    ) -> Result<crate::model::ScheduleInfo> {
        self.do_create_schedule(who, spec)
    }

    async fn list_schedules(&self, who: &Principal) -> Result<Vec<crate::model::ScheduleInfo>> {
        self.do_list_schedules(who)
    }

    async fn get_schedule(&self, who: &Principal, name: &str) -> Result<super::ScheduleDetail> {
        self.do_get_schedule(who, name)
    }

    async fn pause_schedule(
        &self,
        who: &Principal,
        name: &str,
        note: Option<String>,
    ) -> Result<crate::model::ScheduleInfo> {
        self.do_pause_schedule(who, name, true, note)
    }

    async fn resume_schedule(
        &self,
        who: &Principal,
        name: &str,
    ) -> Result<crate::model::ScheduleInfo> {
        self.do_pause_schedule(who, name, false, None)
    }

    async fn delete_schedule(
        &self,
        who: &Principal,
        name: &str,
    ) -> Result<crate::model::ScheduleInfo> {
        self.do_delete_schedule(who, name)
    }

    async fn trigger_schedule(&self, who: &Principal, name: &str) -> Result<Run> {
        self.do_trigger_schedule(who, name)
    }

    async fn backfill_schedule(
        &self,
        who: &Principal,
        name: &str,
        req: super::Backfill,
    ) -> Result<super::BackfillReport> {
        self.do_backfill_schedule(who, name, req)
    }

    async fn missed_ticks(
        &self,
        who: &Principal,
        name: &str,
        since: i64,
    ) -> Result<Vec<super::MissedTick>> {
        self.do_missed_ticks(who, name, since)
    }

    async fn prune_runs(
        &self,
        who: &Principal,
        req: super::RunPrune,
        progress: &(dyn for<'r> Fn(&'r super::RunPruneReport) + Send + Sync),
    ) -> Result<super::RunPruneReport> {
        self.flush_denials();
        if !req.dry_run {
            // The pruned runs' artifacts go too (stored before the runs ended, so before the
            // cutoff), audited as their own `artifact.prune` when there were any.
            self.authorize(who, Permission::Administer, "run.prune", "")?;
            let cutoff = super::local_retention::cutoff(req.older_than_ms);
            self.prune_artifacts_before(who, req.older_than_ms, cutoff, false)
                .await?;
        }
        self.do_prune_runs(who, req, progress)
    }

    async fn upload_artifact(
        &self,
        who: &Principal,
        lease: &LeaseRef,
        path: &str,
        body: crate::artifacts::ByteStream,
    ) -> Result<crate::model::Artifact> {
        self.do_upload_artifact(who, lease, path, body).await
    }

    async fn list_artifacts(
        &self,
        who: &Principal,
        run: &str,
    ) -> Result<Vec<crate::model::Artifact>> {
        self.do_list_artifacts(who, run)
    }

    async fn download_artifact(
        &self,
        who: &Principal,
        run: &str,
        what: &str,
    ) -> Result<(crate::model::Artifact, crate::artifacts::ByteStream)> {
        self.do_download_artifact(who, run, what).await
    }

    async fn lease_artifacts(
        &self,
        who: &Principal,
        lease: &LeaseRef,
    ) -> Result<Vec<crate::model::Artifact>> {
        self.do_lease_artifacts(who, lease)
    }

    async fn download_lease_artifact(
        &self,
        who: &Principal,
        lease: &LeaseRef,
        id: &str,
    ) -> Result<crate::artifacts::ByteStream> {
        self.do_download_lease_artifact(who, lease, id).await
    }

    async fn prune_artifacts(
        &self,
        who: &Principal,
        req: crate::model::ArtifactPrune,
    ) -> Result<crate::model::ArtifactPruneReport> {
        self.flush_denials();
        self.do_prune_artifacts(who, req).await
    }

    async fn set_secret(
        &self,
        who: &Principal,
        name: &str,
        req: crate::model::SecretValue,
    ) -> Result<crate::model::SecretInfo> {
        crate::store::off_runtime(|| self.do_set_secret(who, name, req))
    }

    async fn list_secrets(
        &self,
        who: &Principal,
        workflow: Option<&str>,
    ) -> Result<Vec<crate::model::SecretInfo>> {
        self.do_list_secrets(who, workflow)
    }

    async fn delete_secret(
        &self,
        who: &Principal,
        name: &str,
        workflow: Option<&str>,
    ) -> Result<()> {
        self.do_delete_secret(who, name, workflow)
    }

    async fn rekey(&self, who: &Principal, new_key: &Secret) -> Result<crate::model::Rekeyed> {
        self.authorize(who, Permission::Administer, "store.rekey", "")?;
        let key = crate::keys::StoreKey::from_hex(new_key.expose()).ok_or_else(|| {
            Error::invalid_with_hint(
                "the new store key is not 64 hex digits",
                "make one with: openssl rand -hex 32",
            )
        })?;
        crate::store::off_runtime(|| self.do_rekey(who, &key))
    }

    async fn create_trigger(
        &self,
        who: &Principal,
        req: crate::model::NewTrigger,
    ) -> Result<crate::model::CreatedTrigger> {
        self.do_create_trigger(who, req)
    }

    async fn list_triggers(&self, who: &Principal) -> Result<Vec<crate::model::Trigger>> {
        self.do_list_triggers(who)
    }

    async fn get_trigger(&self, who: &Principal, name: &str) -> Result<crate::model::Trigger> {
        self.do_get_trigger(who, name)
    }

    async fn delete_trigger(&self, who: &Principal, name: &str) -> Result<crate::model::Trigger> {
        self.do_delete_trigger(who, name)
    }

    async fn rotate_trigger_secret(
        &self,
        who: &Principal,
        name: &str,
        secret: Option<Secret>,
    ) -> Result<crate::model::CreatedTrigger> {
        self.do_rotate_trigger_secret(who, name, secret)
    }

    async fn fire_webhook(
        &self,
        name: &str,
        headers: &super::HookHeaders,
        body: &[u8],
        source: &str,
    ) -> Result<crate::model::HookOutcome> {
        crate::store::off_runtime(|| self.do_fire_webhook(name, headers, body, source))
    }

    async fn audit_list(
        &self,
        who: &Principal,
        filter: crate::audit::AuditFilter,
    ) -> Result<Vec<AuditRecord>> {
        self.flush_denials();
        self.do_audit_list(who, filter)
    }

    async fn audit_get(&self, who: &Principal, seq: i64) -> Result<AuditRecord> {
        self.flush_denials();
        self.do_audit_get(who, seq)
    }

    async fn audit_verify(&self, who: &Principal) -> Result<ChainReport> {
        self.flush_denials();
        self.do_audit_verify(who)
    }

    async fn audit_checkpoint(&self, who: &Principal) -> Result<CheckpointOutcome> {
        self.flush_denials();
        self.do_audit_checkpoint(who)
    }

    async fn audit_repair(&self, who: &Principal) -> Result<super::RepairOutcome> {
        self.do_audit_repair(who)
    }

    async fn audit_report(&self, who: &Principal, window: Window) -> Result<AuditReport> {
        self.flush_denials();
        self.do_audit_report(who, window)
    }

    async fn audit_prune(
        &self,
        who: &Principal,
        keep: Duration,
        archive_dir: Option<PathBuf>,
        dry_run: bool,
    ) -> Result<PruneOutcome> {
        self.flush_denials();
        self.do_audit_prune(who, keep, archive_dir, dry_run)
    }
}

impl LocalControlPlane {
    /// Every audit record, in order (reports and `verify` come in a later issue).
    pub fn audit_records(&self) -> Result<Vec<crate::model::AuditRecord>> {
        self.flush_denials();
        self.store.read(|tx| audit::list(tx))
    }

    /// The store's path for those who may see it (admins); `(hidden)` for anyone else.
    pub(super) fn store_location(&self, who: &Principal) -> String {
        if who.can(Permission::Administer) {
            self.store.location()
        } else {
            HIDDEN.into()
        }
    }
}

/// What non-admins see instead of the store's path (and other paths on the server).
pub const HIDDEN: &str = "(hidden)";

impl Drop for LocalControlPlane {
    fn drop(&mut self) {
        self.denials.flush_all(self.store());
    }
}
