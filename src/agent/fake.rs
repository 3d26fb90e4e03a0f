//! A minimal in-memory control plane for testing the worker loop: a queue of tasks to grant,
//! a record of every call, and switches to make calls fail or leases go stale.

use std::collections::{HashSet, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::sync::Notify;

use crate::auth::{Principal, Secret};
use crate::control::{ApplyOutcome, ControlPlane, HeartbeatReply, StartRun, StatusReport};
use crate::model::{
    Agent, AgentRegistration, AgentState, CapturedLine, Event, IssuedToken, LeaseRef, LogLine,
    LogStream, NewToken, NewUser, Page, PasswordChange, Run, RunDetail, RunFilter, StepKind,
    StepResult, StepTask, Token, User, UserUpdate, Workflow, WorkflowSpec, WorkflowSummary,
};
use crate::{Error, Result};

#[derive(Default)]
pub(crate) struct FakeState {
    pub queue: VecDeque<StepTask>,
    pub claims: u32,
    pub started: Vec<LeaseRef>,
    /// Accepted completions.
    pub completed: Vec<(LeaseRef, StepResult)>,
    /// Every lease ever reported, accepted or not.
    pub reported: Vec<LeaseRef>,
    pub logs: Vec<(LeaseRef, LogStream, String)>,
    /// The capture time sent with each of `logs`.
    pub log_times: Vec<Option<i64>>,
    pub heartbeats: u32,
    /// Leases the next heartbeats revoke; their reports are rejected.
    pub revoked: HashSet<LeaseRef>,
    /// Leases whose log appends are rejected as stale.
    pub stale: HashSet<LeaseRef>,
    pub draining: bool,
    pub removed: bool,
    pub fail_claims: u32,
    pub fail_completes: u32,
    pub fail_heartbeats: u32,
    pub registered: u32,
    pub deregistered: u32,
    /// The lease length registration and heartbeats announce (`None`: an old server's silence).
    pub lease_ms: Option<u64>,
    /// Requests (results or log lines, as JSON) over this many bytes are refused as invalid,
    /// like a server's body limit.
    pub max_request: Option<usize>,
    /// Requests refused for their size.
    pub too_large: u32,
    done: HashSet<(String, String, u32)>,
    next: u64,
}

#[derive(Default)]
pub(crate) struct FakePlane {
    state: Mutex<FakeState>,
    work: Notify,
}

fn unavailable() -> Error {
    Error::Unavailable {
        path: "fake".into(),
        reason: "injected failure".into(),
    }
}

fn unsupported() -> Error {
    Error::Internal("not part of the fake control plane".into())
}

impl FakePlane {
    pub(crate) fn state(&self) -> MutexGuard<'_, FakeState> {
        self.state.lock().unwrap()
    }

    /// Queue a step of `kind` for any agent; returns its lease (agent id filled in at claim).
    pub(crate) fn grant(&self, kind: StepKind) -> LeaseRef {
        let lease = {
            let mut s = self.state();
            s.next += 1;
            let lease = LeaseRef {
                run_id: "01RUN".into(),
                step_id: format!("s{}", s.next),
                attempt: 1,
                agent_id: String::new(),
            };
            let mut task = super::executor::test_support::task(kind);
            task.lease = lease.clone();
            s.queue.push_back(task);
            lease
        };
        self.work.notify_waiters();
        lease
    }

    /// Wait (up to 10 s) until `cond` holds.
    pub(crate) async fn wait_until(&self, what: &str, cond: impl Fn(&FakeState) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !cond(&self.state()) {
            assert!(Instant::now() < deadline, "timed out waiting until {what}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    fn take(&self, agent_id: &str, max: u32) -> Vec<StepTask> {
        let mut s = self.state();
        if s.draining {
            return Vec::new();
        }
        let n = (max as usize).min(s.queue.len());
        let mut tasks: Vec<StepTask> = s.queue.drain(..n).collect();
        for t in &mut tasks {
            t.lease.agent_id = agent_id.to_string();
        }
        tasks
    }
}

impl FakeState {
    /// Refuse `body` as a server refuses a body over its limit (413, `invalid`).
    fn refuse_if_too_large<T: serde::Serialize + ?Sized>(&mut self, body: &T) -> Result<()> {
        let size = serde_json::to_vec(body).unwrap().len();
        if self.max_request.is_some_and(|max| size > max) {
            self.too_large += 1;
            return Err(Error::invalid(
                "the request body is larger than the limit of 4 MiB",
            ));
        }
        Ok(())
    }
}

/// A lease matches a granted one whatever agent holds it (tests know leases before claims).
fn same(a: &LeaseRef, b: &LeaseRef) -> bool {
    a.run_id == b.run_id && a.step_id == b.step_id && a.attempt == b.attempt
}

#[async_trait]
impl ControlPlane for FakePlane {
    fn location(&self) -> String {
        // One per live plane: agents name their temp files and cgroups after the location and
        // their name, and remove a same-named predecessor's at start; tests running side by
        // side with agents of the same name must not take each other for predecessors.
        format!("fake-{:p}", self)
    }
    async fn status(&self, _: &Principal) -> Result<StatusReport> {
        Err(unsupported())
    }
    async fn apply_workflow(
        &self,
        _: &Principal,
        _: WorkflowSpec,
        _: bool,
    ) -> Result<ApplyOutcome> {
        Err(unsupported())
    }
    async fn list_workflows(&self, _: &Principal) -> Result<Vec<WorkflowSummary>> {
        Err(unsupported())
    }
    async fn get_workflow(&self, _: &Principal, _: &str, _: Option<u32>) -> Result<Workflow> {
        Err(unsupported())
    }
    async fn delete_workflow(&self, _: &Principal, _: &str) -> Result<Workflow> {
        Err(unsupported())
    }
    async fn start_run(&self, _: &Principal, _: StartRun) -> Result<Run> {
        Err(unsupported())
    }
    async fn list_runs(&self, _: &Principal, _: RunFilter) -> Result<Page<Run>> {
        Err(unsupported())
    }
    async fn get_run(&self, _: &Principal, _: &str) -> Result<RunDetail> {
        Err(unsupported())
    }
    async fn cancel_run(&self, _: &Principal, _: &str) -> Result<Run> {
        Err(unsupported())
    }
    async fn retry_run(&self, _: &Principal, _: &str, _: Option<&str>) -> Result<Run> {
        Err(unsupported())
    }
    async fn run_logs(
        &self,
        _: &Principal,
        _: &str,
        _: Option<&str>,
        _: i64,
        _: u32,
    ) -> Result<Vec<LogLine>> {
        Err(unsupported())
    }
    async fn events(&self, _: &Principal, _: i64, _: u32) -> Result<Vec<Event>> {
        Err(unsupported())
    }
    async fn wait_for_change(&self, timeout: Duration) {
        tokio::time::sleep(timeout).await;
    }
    // --- dashboard (not used by agents) ---
    async fn overview(&self, _: &Principal) -> Result<crate::control::Overview> {
        Err(unsupported())
    }
    async fn dashboard_runs(
        &self,
        _: &Principal,
        _: crate::control::RunQuery,
    ) -> Result<Page<Run>> {
        Err(unsupported())
    }
    async fn dashboard_agents(
        &self,
        _: &Principal,
        _: crate::control::AgentQuery,
    ) -> Result<Page<Agent>> {
        Err(unsupported())
    }
    async fn dashboard_workflows(
        &self,
        _: &Principal,
        _: u32,
    ) -> Result<Vec<crate::control::WorkflowOutcomes>> {
        Err(unsupported())
    }
    async fn audit_tail(
        &self,
        _: &Principal,
        _: crate::control::AuditFilter,
        _: Option<i64>,
        _: u32,
    ) -> Result<Vec<crate::model::AuditRecord>> {
        Err(unsupported())
    }
    // --- end dashboard ---
    async fn list_agents(&self, _: &Principal) -> Result<Vec<Agent>> {
        Err(unsupported())
    }
    async fn get_agent(&self, _: &Principal, _: &str) -> Result<Agent> {
        Err(unsupported())
    }
    async fn drain_agent(&self, _: &Principal, _: &str) -> Result<Agent> {
        Err(unsupported())
    }
    async fn resume_agent(&self, _: &Principal, _: &str) -> Result<Agent> {
        Err(unsupported())
    }
    async fn remove_agent(&self, _: &Principal, _: &str, _: bool) -> Result<Agent> {
        Err(unsupported())
    }

    async fn register_agent(&self, _: &Principal, reg: AgentRegistration) -> Result<Agent> {
        let mut s = self.state();
        s.registered += 1;
        Ok(Agent {
            id: format!("agent-{}-{}", reg.name, s.registered),
            name: reg.name,
            labels: reg.labels,
            slots: reg.slots,
            state: AgentState::Online,
            draining: false,
            running: 0,
            registered_at: 0,
            last_heartbeat: 0,
            hostname: reg.hostname,
            pid: reg.pid,
            version: reg.version,
            current: Vec::new(),
            lease_ms: s.lease_ms,
            registered_by: None,
        })
    }

    async fn claim(
        &self,
        _: &Principal,
        agent_id: &str,
        max: u32,
        wait: Duration,
    ) -> Result<Vec<StepTask>> {
        {
            let mut s = self.state();
            s.claims += 1;
            if s.fail_claims > 0 {
                s.fail_claims -= 1;
                return Err(unavailable());
            }
        }
        let tasks = self.take(agent_id, max);
        if !tasks.is_empty() {
            return Ok(tasks);
        }
        let _ = tokio::time::timeout(wait, self.work.notified()).await;
        Ok(self.take(agent_id, max))
    }

    async fn start_step(&self, _: &Principal, lease: &LeaseRef) -> Result<()> {
        let mut s = self.state();
        if s.revoked.iter().any(|r| same(r, lease)) {
            return Err(Error::Conflict("stale attempt".into()));
        }
        s.started.push(lease.clone());
        Ok(())
    }

    async fn heartbeat(
        &self,
        _: &Principal,
        _: &str,
        leases: &[LeaseRef],
    ) -> Result<HeartbeatReply> {
        let mut s = self.state();
        s.heartbeats += 1;
        if s.fail_heartbeats > 0 {
            s.fail_heartbeats -= 1;
            return Err(unavailable());
        }
        let (revoked, renewed) = leases
            .iter()
            .cloned()
            .partition(|l| s.revoked.iter().any(|r| same(r, l)));
        Ok(HeartbeatReply {
            renewed,
            revoked,
            draining: s.draining,
            removed: s.removed,
            lease_ms: s.lease_ms,
        })
    }

    async fn check_leases(
        &self,
        _: &Principal,
        _: &str,
        leases: &[LeaseRef],
    ) -> Result<HeartbeatReply> {
        let s = self.state();
        let (revoked, renewed) = leases
            .iter()
            .cloned()
            .partition(|l| s.revoked.iter().any(|r| same(r, l)));
        Ok(HeartbeatReply {
            renewed,
            revoked,
            draining: s.draining,
            removed: s.removed,
            lease_ms: s.lease_ms,
        })
    }

    async fn append_logs(
        &self,
        _: &Principal,
        lease: &LeaseRef,
        lines: &[CapturedLine],
    ) -> Result<()> {
        let mut s = self.state();
        if s.stale.iter().any(|r| same(r, lease)) {
            return Err(Error::Conflict("stale attempt".into()));
        }
        s.refuse_if_too_large(&crate::control::wire::LogsBody::new(lease, lines))?;
        for l in lines {
            s.logs.push((lease.clone(), l.stream, l.line.clone()));
            s.log_times.push(l.at);
        }
        Ok(())
    }

    async fn complete_steps(
        &self,
        _: &Principal,
        results: &[(LeaseRef, StepResult)],
    ) -> Result<Vec<bool>> {
        let mut s = self.state();
        if s.fail_completes > 0 {
            s.fail_completes -= 1;
            return Err(unavailable());
        }
        s.refuse_if_too_large(results)?;
        let mut accepted = Vec::with_capacity(results.len());
        for (lease, result) in results {
            s.reported.push(lease.clone());
            let key = (lease.run_id.clone(), lease.step_id.clone(), lease.attempt);
            let ok = !s.revoked.iter().any(|r| same(r, lease)) && !s.done.contains(&key);
            if ok {
                s.done.insert(key);
                s.completed.push((lease.clone(), result.clone()));
            }
            accepted.push(ok);
        }
        Ok(accepted)
    }

    async fn deregister_agent(&self, _: &Principal, _: &str) -> Result<()> {
        self.state().deregistered += 1;
        Ok(())
    }

    // --- users, tokens, login: not part of the worker loop ---
    async fn create_user(&self, _: &Principal, _: NewUser) -> Result<User> {
        Err(unsupported())
    }
    async fn list_users(&self, _: &Principal) -> Result<Vec<User>> {
        Err(unsupported())
    }
    async fn get_user(&self, _: &Principal, _: &str) -> Result<User> {
        Err(unsupported())
    }
    async fn update_user(&self, _: &Principal, _: &str, _: UserUpdate) -> Result<User> {
        Err(unsupported())
    }
    async fn delete_user(&self, _: &Principal, _: &str) -> Result<User> {
        Err(unsupported())
    }
    async fn set_password(&self, _: &Principal, _: &str, _: PasswordChange) -> Result<User> {
        Err(unsupported())
    }
    async fn create_token(&self, _: &Principal, _: NewToken) -> Result<IssuedToken> {
        Err(unsupported())
    }
    async fn list_tokens(&self, _: &Principal) -> Result<Vec<Token>> {
        Err(unsupported())
    }
    async fn revoke_token(&self, _: &Principal, _: &str) -> Result<Token> {
        Err(unsupported())
    }
    async fn login(&self, _: &str, _: &Secret, _: &str) -> Result<IssuedToken> {
        Err(unsupported())
    }
    async fn logout(&self, _: &Secret, _: &str) -> Result<()> {
        Err(unsupported())
    }
    async fn whoami(&self, who: &Principal) -> Result<Principal> {
        Ok(who.clone())
    }
}
