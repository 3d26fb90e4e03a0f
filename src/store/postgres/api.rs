//! The backend-neutral transaction traits of [`crate::store::api`] on a PostgreSQL
//! transaction ([`PgTx`]): each method forwards to this module's functions (the logical
//! backup's [`Tables`](crate::backup::logical::Tables) are in `tables.rs`).

use std::sync::Arc;

use super::tx::PgTx;
use super::{
    agents, claims, dashboard, events, logs, reap, reports, runs, settings, users, workflows,
};
use crate::Result;
use crate::auth::Role;
use crate::auth::throttle::Throttle;
use crate::auth::unknown_name::KEY_LEN;
use crate::control::{
    AgentQuery, ApplyOutcome, AuditFilter, HeartbeatReply, Overview, RunQuery, WorkflowOutcomes,
};
use crate::engine::{SpecCache, SpecIndex, StepLimits};
use crate::model::{
    Agent, AgentRegistration, AgentStep, AuditRecord, Event, LeaseRef, LogLine, LogMark, Page, Run,
    RunDetail, RunFilter, RunStatus, RunTimeout, StepResult, Token, User, UserUpdate, Workflow,
    WorkflowSpec, WorkflowSummary,
};
use crate::store::api::{
    AgentsTx, Claimed, ClaimsTx, Completed, DashboardTx, LoginRow, RunRequest, RunsTx, SettingsTx,
    StatusCounts, TokenInsert, TokenRow, UsersTx, ViewsTx, WorkflowsTx,
};
use crate::store::flow;

impl RunsTx for PgTx<'_> {
    fn create_run_with(&self, cache: &SpecCache, req: &RunRequest<'_>) -> Result<Run> {
        flow::runs::create(self, cache, req)
    }
    fn start_runs(&self, cache: &SpecCache, reqs: &[RunRequest<'_>]) -> Result<Vec<String>> {
        flow::runs::start_many(self, cache, reqs)
    }
    fn resolve_run_id(&self, prefix: &str) -> Result<String> {
        runs::resolve_id(self, prefix)
    }
    fn run_detail(&self, cache: &SpecCache, prefix: &str) -> Result<RunDetail> {
        let mut detail = runs::detail(self, cache, prefix)?;
        flow::concurrency::place(self, &mut detail.run)?;
        Ok(detail)
    }
    fn list_runs(&self, filter: &RunFilter) -> Result<Page<Run>> {
        let mut page = runs::list(self, filter)?;
        flow::concurrency::place_all(self, &mut page.items)?;
        Ok(page)
    }
    fn cancel_run(&self, cache: &SpecCache, prefix: &str) -> Result<Run> {
        flow::runs::cancel(self, cache, prefix)
    }
    fn retry_run(&self, cache: &SpecCache, prefix: &str, from: Option<&str>) -> Result<Run> {
        flow::runs::retry(self, cache, prefix, from)
    }
    fn decide_approval(
        &self,
        cache: &SpecCache,
        prefix: &str,
        step: &str,
        verdict: &crate::engine::transitions::approval::Verdict,
    ) -> Result<Run> {
        flow::approvals::decide(self, cache, prefix, step, verdict)
    }
}

impl WorkflowsTx for PgTx<'_> {
    fn apply_workflow(&self, spec: &WorkflowSpec, dry_run: bool) -> Result<ApplyOutcome> {
        workflows::apply(self, spec, dry_run)
    }
    fn get_workflow(&self, name: &str, version: Option<u32>) -> Result<Workflow> {
        workflows::get_workflow(self, name, version)
    }
    fn workflow_index(
        &self,
        cache: &SpecCache,
        name: &str,
        version: u32,
    ) -> Result<Arc<SpecIndex>> {
        workflows::index(self, cache, name, version)
    }
    fn list_workflows(&self) -> Result<Vec<WorkflowSummary>> {
        workflows::list(self)
    }
    fn delete_workflow(&self, name: &str) -> Result<Workflow> {
        workflows::delete(self, name)
    }
}

impl AgentsTx for PgTx<'_> {
    fn register_agent(
        &self,
        cache: &SpecCache,
        reg: &AgentRegistration,
        principal: &str,
        lease_ms: i64,
    ) -> Result<Agent> {
        flow::agents::register(self, cache, reg, principal, lease_ms)
    }
    fn check_agent_bound(&self, agent_id: &str, principal: &str) -> Result<bool> {
        flow::agents::check_bound(self, agent_id, principal)
    }
    fn list_agents(&self) -> Result<Vec<Agent>> {
        flow::agents::list(self)
    }
    fn get_agent(&self, key: &str) -> Result<Agent> {
        flow::agents::get(self, key)
    }
    fn set_agent_draining(&self, key: &str, draining: bool) -> Result<Agent> {
        flow::agents::set_draining(self, key, draining)
    }
    fn remove_agent(&self, cache: &SpecCache, key: &str, force: bool) -> Result<Agent> {
        flow::agents::remove(self, cache, key, force)
    }
    fn deregister_agent(&self, cache: &SpecCache, agent_id: &str) -> Result<()> {
        flow::agents::deregister(self, cache, agent_id)
    }
    fn live_agents(&self) -> Result<Vec<Agent>> {
        agents::live(self)
    }
}

impl ClaimsTx for PgTx<'_> {
    fn claim(
        &self,
        cache: &SpecCache,
        agent_id: &str,
        max: u32,
        lease_ms: i64,
        limits: &StepLimits,
    ) -> Result<Claimed> {
        flow::claims::claim(self, cache, agent_id, max, lease_ms, limits)
    }
    fn start_step(&self, lease: &LeaseRef) -> Result<()> {
        flow::claims::start(self, lease)
    }
    fn heartbeat(
        &self,
        agent_id: &str,
        leases: &[LeaseRef],
        lease_ms: i64,
    ) -> Result<HeartbeatReply> {
        flow::claims::heartbeat(self, agent_id, leases, lease_ms)
    }
    fn check_leases(&self, agent_id: &str, leases: &[LeaseRef]) -> Result<HeartbeatReply> {
        flow::claims::check(self, agent_id, leases)
    }
    fn append_logs(
        &self,
        lease: &LeaseRef,
        lines: &[crate::model::CapturedLine],
        max_bytes: u64,
    ) -> Result<()> {
        flow::claims::append_logs(self, lease, lines, max_bytes)
    }
    fn complete_steps_detailed(
        &self,
        cache: &SpecCache,
        results: &[(LeaseRef, StepResult)],
        max_output_bytes: u64,
    ) -> Result<Completed> {
        flow::claims::complete(self, cache, results, max_output_bytes)
    }
    fn any_ready(&self, now: i64) -> Result<bool> {
        claims::any_ready(self, now)
    }
    fn reap_due(&self) -> Result<bool> {
        reap::due(self)
    }
    fn reap(&self, cache: &SpecCache) -> Result<usize> {
        flow::reap::reap(self, cache)
    }
}

impl UsersTx for PgTx<'_> {
    fn list_users(&self) -> Result<Vec<User>> {
        users::list(self)
    }
    fn get_user(&self, name: &str) -> Result<User> {
        users::get_user(self, name)
    }
    fn create_user(&self, name: &str, role: Role, password_hash: Option<&str>) -> Result<User> {
        users::create(self, name, role, password_hash)
    }
    fn update_user(&self, name: &str, change: &UserUpdate) -> Result<User> {
        users::update(self, name, change)
    }
    fn set_password_hash(&self, name: &str, hash: &str) -> Result<User> {
        users::set_password_hash(self, name, hash)
    }
    fn delete_user(&self, name: &str) -> Result<(User, usize)> {
        users::delete(self, name)
    }
    fn revoke_user_tokens(&self, name: &str, keep: Option<&str>) -> Result<usize> {
        users::revoke_user_tokens(self, name, keep)
    }
    fn enabled_admins(&self) -> Result<u64> {
        users::enabled_admins(self)
    }
    fn login_row(&self, name: &str) -> Result<Option<LoginRow>> {
        users::login_row(self, name)
    }
    fn throttle(&self, name: &str) -> Result<Throttle> {
        users::throttle(self, name)
    }
    fn save_throttle(&self, name: &str, t: &Throttle) -> Result<()> {
        users::save_throttle(self, name, t)
    }
    fn clear_throttle(&self, name: &str) -> Result<(bool, usize)> {
        users::clear_throttle(self, name)
    }
    fn source_throttle(&self, name: &str, source: &str) -> Result<Throttle> {
        users::source_throttle(self, name, source)
    }
    fn save_source_throttle(&self, name: &str, source: &str, t: &Throttle) -> Result<()> {
        users::save_source_throttle(self, name, source, t)
    }
    fn clear_source_throttle(&self, name: &str, source: &str) -> Result<()> {
        users::clear_source_throttle(self, name, source)
    }
    fn failing_sources(&self, name: &str, since: i64) -> Result<u64> {
        users::failing_sources(self, name, since)
    }
    fn unknown_name_key(&self, create: bool) -> Result<Option<[u8; KEY_LEN]>> {
        users::unknown_name_key(self, create)
    }
    fn insert_token(&self, t: &TokenInsert<'_>) -> Result<Token> {
        users::insert_token(self, t)
    }
    fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRow>> {
        users::token_by_hash(self, hash)
    }
    fn list_tokens(&self, user: Option<&str>) -> Result<Vec<Token>> {
        users::list_tokens(self, user)
    }
    fn get_token(&self, key: &str) -> Result<TokenRow> {
        users::get_token(self, key)
    }
    fn revoke_token(&self, id: &str) -> Result<Token> {
        users::revoke_token(self, id)
    }
    fn touch_token(&self, id: &str, now: i64) -> Result<()> {
        users::touch_token(self, id, now)
    }
}

impl ViewsTx for PgTx<'_> {
    fn status_counts(&self) -> Result<StatusCounts> {
        reports::status(self)
    }
    fn events_after(&self, after: i64, limit: u32) -> Result<Vec<Event>> {
        events::events_after(self, after, limit)
    }
    fn log_marks(&self, after: i64, limit: u32) -> Result<Vec<LogMark>> {
        logs::marks(self, after, limit)
    }
    fn log_page(
        &self,
        run_id: &str,
        step: Option<&str>,
        after: i64,
        limit: u32,
    ) -> Result<Vec<LogLine>> {
        logs::page(self, run_id, step, after, limit)
    }
    fn log_page_before(
        &self,
        run_id: &str,
        step: Option<&str>,
        before: i64,
        limit: u32,
    ) -> Result<Vec<LogLine>> {
        logs::page_before(self, run_id, step, before, limit)
    }
}

impl DashboardTx for PgTx<'_> {
    fn run_minutes(&self, from_ms: i64) -> Result<Vec<(i64, RunStatus, u64)>> {
        reports::run_minutes(self, from_ms)
    }
    fn step_minutes(&self, from_ms: i64) -> Result<Vec<(i64, u64)>> {
        reports::step_minutes(self, from_ms)
    }
    fn step_durations(&self, from_ms: i64, n: u32) -> Result<Vec<i64>> {
        reports::step_durations(self, from_ms, n)
    }
    fn overview_counts(&self, now: i64, failures: u32) -> Result<Overview> {
        reports::overview_counts(self, now, failures)
    }
    fn dashboard_runs(&self, q: &RunQuery) -> Result<Page<Run>> {
        let mut page = dashboard::runs(self, q)?;
        flow::concurrency::place_all(self, &mut page.items)?;
        Ok(page)
    }
    fn dashboard_agents(&self, q: &AgentQuery, now: i64) -> Result<Page<Agent>> {
        dashboard::agents_page(self, q, now)
    }
    fn agent_steps(&self, agent: &str, limit: u32) -> Result<Vec<AgentStep>> {
        dashboard::agent_steps(self, agent, limit)
    }
    fn dashboard_workflows(&self, recent: u32) -> Result<Vec<WorkflowOutcomes>> {
        reports::workflows(self, recent)
    }
    fn audit_tail(
        &self,
        filter: &AuditFilter,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditRecord>> {
        dashboard::audit_tail(self, filter, before, limit)
    }
}

impl SettingsTx for PgTx<'_> {
    fn default_run_timeout(&self) -> Result<Option<u64>> {
        settings::default_run_timeout(self)
    }
    fn set_default_run_timeout(&self, ms: u64) -> Result<()> {
        settings::set_default_run_timeout(self, ms)
    }
    fn backup_location(&self) -> Result<Option<String>> {
        settings::backup_location(self)
    }
    fn set_backup_location(&self, dir: Option<&str>) -> Result<()> {
        settings::set_backup_location(self, dir)
    }
    fn store_key_check(&self) -> Result<Option<String>> {
        settings::store_key_check(self)
    }
    fn init_store_key_check(&self, check: &str) -> Result<String> {
        settings::init_store_key_check(self, check)
    }
    fn run_timeout(
        &self,
        requested: Option<u64>,
        workflow: Option<u64>,
        server: Option<u64>,
    ) -> Result<RunTimeout> {
        flow::runs::run_timeout(self, requested, workflow, server)
    }
}
