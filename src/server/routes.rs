//! `/api/v1/...`: one handler per [`ControlPlane`](crate::control::ControlPlane) method. Bodies
//! and responses are the model types (serde), so the remote client shares them.

use std::time::Duration;

use super::json::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::{Caller, Presented, Source};
use super::error::ApiError;
use crate::audit::{AuditFilter, AuditReport, ChainReport};
use crate::backup::catalog::Catalog;
use crate::backup::{BackupInfo, CreateOptions, KeySource, NoProgress, VerifyReport};
use crate::control::schedules::{MissedQuery, PauseBody};
use crate::control::wire::WhoAmI;
use crate::control::wire::{
    AgentStepsQuery, ApplyQuery, ApprovalBody, ClaimBody, CompleteBody, CompleteReply,
    CompletedClaim, EventsQuery, LeasesBody, LogsBody, LogsQuery, RetryBody, RunsQuery,
    VersionQuery,
};
use crate::control::wire::{
    AuditReportBody, BackupCreateBody, BackupLocationBody, BackupVerifyBody, backup_id,
};
use crate::control::wire::{AuditTailBody, LoginBody, PasswordBody, RecentQuery, RemoveQuery};
use crate::control::{
    AgentQuery, BackupLocation, CheckpointOutcome, Overview, RepairOutcome, RunQuery,
    WorkflowOutcomes,
};
use crate::control::{
    ApplyOutcome, HeartbeatReply, RerunRun, RunPrune, RunPruneReport, StartRun, StatusReport,
};
use crate::control::{Backfill, BackfillReport, MissedTick, ScheduleDetail};
use crate::model::ScheduleInfo;
use crate::model::{
    Agent, AgentRegistration, AgentStep, AuditRecord, Event, IssuedToken, LeaseRef, LogLine,
    NewToken, NewUser, Page, PasswordChange, Run, RunDetail, RunFilter, StepTask, Token, User,
    UserUpdate, Workflow, WorkflowSpec, WorkflowSummary,
};
use crate::schedule::ScheduleSpec;

type Api<T> = Result<Json<T>, ApiError>;

/// The longest a long-poll (`claim`, `events?wait_ms=`) may hold a request.
pub const MAX_WAIT: Duration = Duration::from_secs(30);

/// Every route with its OpenAPI operation, from one list: the router and the document
/// (`/api/v1/openapi.json`) are two views of it, so neither can name a route the other lacks.
/// Handlers that share a path share one `routes!` (it gives every path in it every method).
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(super::openapi::ApiDoc::openapi())
        .routes(routes!(status))
        .routes(routes!(list_workflows, apply_workflow))
        .routes(routes!(get_workflow, delete_workflow))
        .routes(routes!(list_runs, start_run))
        .routes(routes!(get_run))
        .routes(routes!(cancel_run))
        .routes(routes!(retry_run))
        .routes(routes!(approve_step))
        .routes(routes!(reject_step))
        .routes(routes!(rerun_run))
        .routes(routes!(prune_runs))
        .routes(routes!(
            super::routes_triggers::list_triggers,
            super::routes_triggers::create_trigger
        ))
        .routes(routes!(
            super::routes_triggers::get_trigger,
            super::routes_triggers::delete_trigger
        ))
        .routes(routes!(super::routes_triggers::rotate_trigger))
        .routes(routes!(super::routes_triggers::fire_webhook))
        .routes(routes!(super::routes_secrets::list_secrets))
        .routes(routes!(
            super::routes_secrets::set_secret,
            super::routes_secrets::delete_secret
        ))
        .routes(routes!(super::routes_secrets::rekey))
        .routes(routes!(super::routes_artifacts::upload_artifact))
        .routes(routes!(super::routes_artifacts::lease_artifacts))
        .routes(routes!(super::routes_artifacts::download_lease_artifact))
        .routes(routes!(super::routes_artifacts::list_artifacts))
        .routes(routes!(super::routes_artifacts::download_artifact))
        .routes(routes!(super::routes_artifacts::prune_artifacts))
        .routes(routes!(run_logs))
        .routes(routes!(events))
        .routes(routes!(events_stream))
        .routes(routes!(list_agents, register_agent))
        .routes(routes!(get_agent, remove_agent))
        .routes(routes!(drain_agent))
        .routes(routes!(resume_agent))
        .routes(routes!(agent_steps))
        .routes(routes!(claim))
        .routes(routes!(heartbeat))
        .routes(routes!(check_leases))
        .routes(routes!(deregister))
        .routes(routes!(start_step))
        .routes(routes!(append_logs))
        .routes(routes!(complete_steps))
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, update_user, delete_user))
        .routes(routes!(set_password))
        .routes(routes!(unlock_user))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(whoami))
        .routes(routes!(overview))
        .routes(routes!(dashboard_runs))
        .routes(routes!(dashboard_agents))
        .routes(routes!(dashboard_workflows))
        .routes(routes!(audit_tail))
        .routes(routes!(list_backups, create_backup))
        .routes(routes!(show_backup))
        .routes(routes!(verify_backup))
        .routes(routes!(download_backup))
        .routes(routes!(backup_location, set_backup_location))
        .routes(routes!(notify_channels, notify_channel_add))
        .routes(routes!(notify_channel_remove))
        .routes(routes!(notify_channel_test))
        .routes(routes!(notify_rules, notify_rule_add))
        .routes(routes!(notify_rule_remove))
        .routes(routes!(notify_deliveries))
        .routes(routes!(audit_list))
        .routes(routes!(audit_get))
        .routes(routes!(audit_verify))
        .routes(routes!(audit_checkpoint))
        .routes(routes!(audit_repair))
        .routes(routes!(audit_report))
        .routes(routes!(list_schedules, create_schedule))
        .routes(routes!(get_schedule, delete_schedule))
        .routes(routes!(pause_schedule))
        .routes(routes!(resume_schedule))
        .routes(routes!(trigger_schedule))
        .routes(routes!(backfill_schedule))
        .routes(routes!(missed_ticks))
        .routes(routes!(openapi_json))
        .routes(routes!(healthz))
}

#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "The server is up", content_type = "text/plain", body = String)), security(()))]
async fn healthz() -> &'static str {
    "ok"
}

/// The OpenAPI 3.1 document of this API (no token needed: it describes the API, not its data).
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "operations", responses((status = 200, description = "This document", content_type = "application/json", body = Object)), security(()))]
async fn openapi_json(
    axum::Extension(doc): axum::Extension<super::openapi::Document>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        doc.0.as_ref().clone(),
    )
        .into_response()
}

/// The event feed as server-sent events (see `sse`), resumable with `Last-Event-ID`.
#[utoipa::path(get, path = "/api/v1/events/stream", tag = "events", params(("after" = Option<i64>, Query, description = "Stream events with a larger id (0: from the start; negative: from the newest on)"), ("Last-Event-ID" = Option<i64>, Header, description = "Resume after this event id (wins over `after`)")), responses((status = 200, description = "Server-sent events: each `data:` is one Event as JSON, its `id:` the event id; `logs` events (no `id:`) carry a LogMark when runs get new output; comment lines keep an idle stream alive. The schema is that of each event.", content_type = "text/event-stream", body = super::sse::StreamEvent)))]
async fn events_stream(
    state: State<AppState>,
    closing: Option<axum::Extension<super::sse::Closing>>,
    keep_alive: Option<axum::Extension<super::sse::KeepAliveEvery>>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    query: Query<super::sse::StreamQuery>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    super::sse::stream(state, closing, keep_alive, caller, headers, query)
        .await
        .into_response()
}

#[utoipa::path(get, path = "/api/v1/status", tag = "status", responses((status = 200, description = "Counts of agents, runs and steps by state", body = StatusReport)))]
async fn status(State(s): State<AppState>, Caller(who): Caller) -> Api<StatusReport> {
    Ok(Json(s.plane.status(&who).await?))
}

#[utoipa::path(get, path = "/api/v1/workflows", tag = "workflows", responses((status = 200, description = "Live workflows", body = Vec<WorkflowSummary>)))]
async fn list_workflows(
    State(s): State<AppState>,
    Caller(who): Caller,
) -> Api<Vec<WorkflowSummary>> {
    Ok(Json(s.plane.list_workflows(&who).await?))
}

#[utoipa::path(post, path = "/api/v1/workflows", tag = "workflows", params(ApplyQuery), request_body = WorkflowSpec, responses((status = 200, description = "What the apply did", body = ApplyOutcome)))]
async fn apply_workflow(
    State(s): State<AppState>,
    Caller(who): Caller,
    Query(q): Query<ApplyQuery>,
    Json(spec): Json<WorkflowSpec>,
) -> Api<ApplyOutcome> {
    // A source sent with the spec is kept with the version: it must be the spec's own file.
    crate::spec::check_source(&spec)?;
    Ok(Json(s.plane.apply_workflow(&who, spec, q.dry_run).await?))
}

#[utoipa::path(get, path = "/api/v1/workflows/{name}", tag = "workflows", params(("name" = String, Path, description = "The workflow's name"), VersionQuery), responses((status = 200, description = "The workflow (latest version or `version`)", body = Workflow)))]
async fn get_workflow(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(name): Path<String>,
    Query(q): Query<VersionQuery>,
) -> Api<Workflow> {
    Ok(Json(s.plane.get_workflow(&who, &name, q.version).await?))
}

#[utoipa::path(delete, path = "/api/v1/workflows/{name}", tag = "workflows", params(("name" = String, Path, description = "The workflow's name")), responses((status = 200, description = "The deleted workflow", body = Workflow)))]
async fn delete_workflow(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(name): Path<String>,
) -> Api<Workflow> {
    Ok(Json(s.plane.delete_workflow(&who, &name).await?))
}

#[utoipa::path(post, path = "/api/v1/runs", tag = "runs", request_body = StartRun, responses((status = 201, description = "The new run: `queued`, or with a `concurrency` key at its limit `queued` with `concurrency.position` and `concurrency.waiting_for` (on_conflict: queue), or already `cancelled` with the reason as its `error` (on_conflict: skip)", body = Run)))]
async fn start_run(
    State(s): State<AppState>,
    Caller(who): Caller,
    Json(req): Json<StartRun>,
) -> Result<(StatusCode, Json<Run>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(s.plane.start_run(&who, req).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/runs", tag = "runs", params(RunsQuery), responses((status = 200, description = "One page of runs, newest first; a run waiting for a slot of its concurrency key has `concurrency.position` (1 = next) and `concurrency.waiting_for` (the runs holding the key's slots)", body = Page<Run>)))]
async fn list_runs(
    State(s): State<AppState>,
    Caller(who): Caller,
    Query(q): Query<RunsQuery>,
) -> Api<Page<Run>> {
    let filter = RunFilter {
        workflow: q.workflow,
        status: q.status,
        since: q.since,
        schedule: q.schedule,
        waiting: q.waiting,
        labels: match &q.label {
            Some(l) => crate::model::labels::parse_selector(l)?,
            None => Default::default(),
        },
        limit: q.limit.map(|l| l.min(super::limits::MAX_PAGE)),
        cursor: q.cursor,
    };
    Ok(Json(s.plane.list_runs(&who, filter).await?))
}

#[utoipa::path(get, path = "/api/v1/runs/{id}", tag = "runs", params(("id" = String, Path, description = "A run id or unique id prefix")), responses((status = 200, description = "The run with its steps", body = RunDetail)))]
async fn get_run(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Api<RunDetail> {
    Ok(Json(s.plane.get_run(&who, &id).await?))
}

#[utoipa::path(post, path = "/api/v1/runs/{id}/cancel", tag = "runs", params(("id" = String, Path, description = "A run id or unique id prefix")), responses((status = 200, description = "The cancelled run", body = Run)))]
async fn cancel_run(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Api<Run> {
    Ok(Json(s.plane.cancel_run(&who, &id).await?))
}

/// Start a new run of an old run's workflow with its params and labels, changed by the body's
/// (operators; audited as `run.rerun`). The old run is kept; the new one names it as `rerun_of`.
#[utoipa::path(post, path = "/api/v1/runs/{id}/rerun", tag = "runs", params(("id" = String, Path, description = "A run id or unique id prefix")), request_body = RerunRun, responses((status = 201, description = "The new run, with `rerun_of` the old run's id", body = Run)))]
async fn rerun_run(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    Json(req): Json<RerunRun>,
) -> Result<(StatusCode, Json<Run>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(s.plane.rerun_run(&who, &id, req).await?),
    ))
}

#[utoipa::path(post, path = "/api/v1/runs/{id}/retry", tag = "runs", params(("id" = String, Path, description = "A run id or unique id prefix")), request_body = RetryBody, responses((status = 200, description = "The run, running again", body = Run)))]
async fn retry_run(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    Json(body): Json<RetryBody>,
) -> Api<Run> {
    Ok(Json(
        s.plane.retry_run(&who, &id, body.from.as_deref()).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/runs/{id}/steps/{step}/approve", tag = "runs", params(("id" = String, Path, description = "A run id or unique id prefix"), ("step" = String, Path, description = "The id of a waiting approval step")), request_body = ApprovalBody, responses((status = 200, description = "The run, the step approved (it succeeded)", body = Run)))]
async fn approve_step(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path((id, step)): Path<(String, String)>,
    Json(body): Json<ApprovalBody>,
) -> Api<Run> {
    let decision = crate::model::ApprovalDecision::Approved;
    Ok(Json(
        s.plane
            .decide_approval(&who, &id, &step, decision, body.comment)
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/runs/{id}/steps/{step}/reject", tag = "runs", params(("id" = String, Path, description = "A run id or unique id prefix"), ("step" = String, Path, description = "The id of a waiting approval step")), request_body = ApprovalBody, responses((status = 200, description = "The run, the step rejected (it failed)", body = Run)))]
async fn reject_step(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path((id, step)): Path<(String, String)>,
    Json(body): Json<ApprovalBody>,
) -> Api<Run> {
    let decision = crate::model::ApprovalDecision::Rejected;
    Ok(Json(
        s.plane
            .decide_approval(&who, &id, &step, decision, body.comment)
            .await?,
    ))
}

/// Delete finished runs past a retention period, with their steps, events and log lines
/// (admins; audited as `run.prune`). Runs on the blocking pool, in short batches.
#[utoipa::path(post, path = "/api/v1/runs/prune", tag = "runs", request_body = RunPrune, responses((status = 200, description = "What was deleted (or, in a dry run, would be)", body = RunPruneReport)))]
async fn prune_runs(
    State(s): State<AppState>,
    Caller(who): Caller,
    Json(req): Json<RunPrune>,
) -> Api<RunPruneReport> {
    let plane = s.plane.clone();
    Ok(Json(
        off_the_workers(move |rt| {
            rt.block_on(plane.prune_runs(&who, req, &|_: &RunPruneReport| {}))
        })
        .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/runs/{id}/logs", tag = "runs", params(("id" = String, Path, description = "A run id or unique id prefix"), LogsQuery), responses((status = 200, description = "Log lines after `after` (or, with `before` or `tail`, the newest before it or the last), oldest first", body = Vec<LogLine>)))]
async fn run_logs(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    Query(q): Query<LogsQuery>,
) -> Api<Vec<LogLine>> {
    let limit = super::limits::page(q.limit);
    let step = q.step.as_deref();
    let lines = if q.before.is_some() || q.tail {
        s.plane
            .run_logs_before(&who, &id, step, q.before, limit)
            .await?
    } else {
        s.plane.run_logs(&who, &id, step, q.after, limit).await?
    };
    Ok(Json(lines))
}

#[utoipa::path(get, path = "/api/v1/events", tag = "events", params(EventsQuery), responses((status = 200, description = "Events after `after`, oldest first", body = Vec<Event>)))]
async fn events(
    State(s): State<AppState>,
    Caller(who): Caller,
    cap: Option<axum::Extension<super::limits::LongPoll>>,
    Query(q): Query<EventsQuery>,
) -> Api<Vec<Event>> {
    let limit = super::limits::page(q.limit);
    let wait = Duration::from_millis(q.wait_ms.unwrap_or(0)).min(super::limits::LongPoll::cap(cap));
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        // From where the feed was before this read, so a change another request saw first
        // still wakes this one (see `ControlPlane::change_seq`).
        let seen = s.plane.change_seq();
        let events = s.plane.events(&who, q.after, limit).await?;
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if !events.is_empty() || left.is_zero() {
            return Ok(Json(events));
        }
        s.plane.wait_for_change_since(seen, left).await;
    }
}

#[utoipa::path(get, path = "/api/v1/agents", tag = "agents", responses((status = 200, description = "Registered agents", body = Vec<Agent>)))]
async fn list_agents(State(s): State<AppState>, Caller(who): Caller) -> Api<Vec<Agent>> {
    Ok(Json(s.plane.list_agents(&who).await?))
}

#[utoipa::path(get, path = "/api/v1/agents/{name}", tag = "agents", params(("name" = String, Path, description = "An agent's name or id")), responses((status = 200, description = "The agent", body = Agent)))]
async fn get_agent(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(name): Path<String>,
) -> Api<Agent> {
    Ok(Json(s.plane.get_agent(&who, &name).await?))
}

/// Steps an agent takes when `?limit=` does not say.
const AGENT_STEPS: u32 = 50;

#[utoipa::path(get, path = "/api/v1/agents/{name}/steps", tag = "agents", params(("name" = String, Path, description = "An agent's name or id"), AgentStepsQuery), responses((status = 200, description = "The steps the agent holds now and ran last, the most recently taken first", body = Vec<AgentStep>)))]
async fn agent_steps(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(name): Path<String>,
    Query(q): Query<AgentStepsQuery>,
) -> Api<Vec<AgentStep>> {
    let limit = q.limit.unwrap_or(AGENT_STEPS).min(super::limits::MAX_PAGE);
    Ok(Json(s.plane.agent_steps(&who, &name, limit).await?))
}

#[utoipa::path(post, path = "/api/v1/agents/{name}/drain", tag = "agents", params(("name" = String, Path, description = "An agent's name or id")), responses((status = 200, description = "The draining agent", body = Agent)))]
async fn drain_agent(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(name): Path<String>,
) -> Api<Agent> {
    Ok(Json(s.plane.drain_agent(&who, &name).await?))
}

#[utoipa::path(post, path = "/api/v1/agents/{name}/resume", tag = "agents", params(("name" = String, Path, description = "An agent's name or id")), responses((status = 200, description = "The resumed agent", body = Agent)))]
async fn resume_agent(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(name): Path<String>,
) -> Api<Agent> {
    Ok(Json(s.plane.resume_agent(&who, &name).await?))
}

#[utoipa::path(delete, path = "/api/v1/agents/{name}", tag = "agents", params(("name" = String, Path, description = "An agent's name or id"), RemoveQuery), responses((status = 200, description = "The removed agent", body = Agent)))]
async fn remove_agent(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(name): Path<String>,
    Query(q): Query<RemoveQuery>,
) -> Api<Agent> {
    Ok(Json(s.plane.remove_agent(&who, &name, q.force).await?))
}

#[utoipa::path(post, path = "/api/v1/agents", tag = "work", request_body = AgentRegistration, responses((status = 201, description = "The registered agent", body = Agent)))]
async fn register_agent(
    State(s): State<AppState>,
    Caller(who): Caller,
    Json(reg): Json<AgentRegistration>,
) -> Result<(StatusCode, Json<Agent>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(s.plane.register_agent(&who, reg).await?),
    ))
}

#[utoipa::path(post, path = "/api/v1/agents/{id}/claim", tag = "work", params(("id" = String, Path, description = "The agent's id (from registration)")), request_body = ClaimBody, responses((status = 200, description = "Steps granted (possibly none)", body = Vec<StepTask>)))]
async fn claim(
    State(s): State<AppState>,
    Caller(who): Caller,
    cap: Option<axum::Extension<super::limits::LongPoll>>,
    Path(id): Path<String>,
    Json(body): Json<ClaimBody>,
) -> Api<Vec<StepTask>> {
    let wait = Duration::from_millis(body.wait_ms).min(super::limits::LongPoll::cap(cap));
    Ok(Json(s.plane.claim(&who, &id, body.max, wait).await?))
}

#[utoipa::path(post, path = "/api/v1/agents/{id}/heartbeat", tag = "work", params(("id" = String, Path, description = "The agent's id (from registration)")), request_body = LeasesBody, responses((status = 200, description = "Leases renewed and revoked", body = HeartbeatReply)))]
async fn heartbeat(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    Json(body): Json<LeasesBody>,
) -> Api<HeartbeatReply> {
    Ok(Json(s.plane.heartbeat(&who, &id, &body.leases).await?))
}

#[utoipa::path(post, path = "/api/v1/agents/{id}/check", tag = "work", params(("id" = String, Path, description = "The agent's id (from registration)")), request_body = LeasesBody, responses((status = 200, description = "Leases revoked (read-only)", body = HeartbeatReply)))]
async fn check_leases(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    Json(body): Json<LeasesBody>,
) -> Api<HeartbeatReply> {
    Ok(Json(s.plane.check_leases(&who, &id, &body.leases).await?))
}

#[utoipa::path(post, path = "/api/v1/agents/{id}/deregister", tag = "work", params(("id" = String, Path, description = "The agent's id (from registration)")), responses((status = 204, description = "Deregistered; its leases are released")))]
async fn deregister(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.plane.deregister_agent(&who, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/leases/start", tag = "work", request_body = LeaseRef, responses((status = 204, description = "The step is running")))]
async fn start_step(
    State(s): State<AppState>,
    Caller(who): Caller,
    Json(lease): Json<LeaseRef>,
) -> Result<StatusCode, ApiError> {
    s.plane.start_step(&who, &lease).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/leases/logs", tag = "work", request_body = LogsBody, responses((status = 204, description = "Lines stored")))]
async fn append_logs(
    State(s): State<AppState>,
    Caller(who): Caller,
    Json(body): Json<LogsBody>,
) -> Result<StatusCode, ApiError> {
    let (lease, lines) = body.into_lines()?;
    s.plane.append_logs(&who, &lease, &lines).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/leases/complete", tag = "work", request_body = CompleteBody, responses((status = 200, description = "Per result: whether it was accepted; with `claim`, also the steps granted", body = CompleteReply)))]
async fn complete_steps(
    State(s): State<AppState>,
    Caller(who): Caller,
    Json(body): Json<CompleteBody>,
) -> Api<CompleteReply> {
    Ok(Json(match body.claim {
        None => CompleteReply::Accepted(s.plane.complete_steps(&who, &body.results).await?),
        Some(c) => {
            let (accepted, tasks) = s
                .plane
                .complete_and_claim(&who, &c.agent_id, &body.results, c.max)
                .await?;
            CompleteReply::Claimed(CompletedClaim { accepted, tasks })
        }
    }))
}

#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUser, responses((status = 201, description = "The new user", body = User)))]
async fn create_user(
    State(s): State<AppState>,
    Caller(who): Caller,
    Json(user): Json<NewUser>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(s.plane.create_user(&who, user).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/users", tag = "users", responses((status = 200, description = "Every user", body = Vec<User>)))]
async fn list_users(State(s): State<AppState>, Caller(who): Caller) -> Api<Vec<User>> {
    Ok(Json(s.plane.list_users(&who).await?))
}

#[utoipa::path(get, path = "/api/v1/users/{name}", tag = "users", params(("name" = String, Path, description = "A user name")), responses((status = 200, description = "The user", body = User)))]
async fn get_user(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(name): Path<String>,
) -> Api<User> {
    Ok(Json(s.plane.get_user(&who, &name).await?))
}

#[utoipa::path(patch, path = "/api/v1/users/{name}", tag = "users", params(("name" = String, Path, description = "A user name")), request_body = UserUpdate, responses((status = 200, description = "The changed user", body = User)))]
async fn update_user(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(name): Path<String>,
    Json(change): Json<UserUpdate>,
) -> Api<User> {
    Ok(Json(s.plane.update_user(&who, &name, change).await?))
}

#[utoipa::path(delete, path = "/api/v1/users/{name}", tag = "users", params(("name" = String, Path, description = "A user name")), responses((status = 200, description = "The deleted user", body = User)))]
async fn delete_user(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(name): Path<String>,
) -> Api<User> {
    Ok(Json(s.plane.delete_user(&who, &name).await?))
}

/// A user's own password needs `current_password`; the token of this request stays valid and
/// the user's other tokens are revoked. An admin setting another user's revokes all of theirs.
#[utoipa::path(put, path = "/api/v1/users/{name}/password", tag = "users", params(("name" = String, Path, description = "A user name")), request_body = PasswordBody, responses((status = 200, description = "The user", body = User)))]
async fn set_password(
    State(s): State<AppState>,
    Caller(who): Caller,
    Presented(session): Presented,
    Path(name): Path<String>,
    Json(body): Json<PasswordBody>,
) -> Api<User> {
    let change = PasswordChange {
        password: body.password,
        current: body.current_password,
        session: Some(session),
    };
    Ok(Json(s.plane.set_password(&who, &name, change).await?))
}

/// Clears the user's login lockouts, from every source and account-wide (admin).
#[utoipa::path(post, path = "/api/v1/users/{name}/unlock", tag = "users", params(("name" = String, Path, description = "A user name")), responses((status = 200, description = "The user, unlocked", body = User)))]
async fn unlock_user(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(name): Path<String>,
) -> Api<User> {
    Ok(Json(s.plane.unlock_user(&who, &name).await?))
}

#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = NewToken, responses((status = 201, description = "The token and its secret, shown this once", body = IssuedToken)))]
async fn create_token(
    State(s): State<AppState>,
    Caller(who): Caller,
    Json(req): Json<NewToken>,
) -> Result<(StatusCode, Json<IssuedToken>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(s.plane.create_token(&who, req).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens", responses((status = 200, description = "Tokens (never their secrets)", body = Vec<Token>)))]
async fn list_tokens(State(s): State<AppState>, Caller(who): Caller) -> Api<Vec<Token>> {
    Ok(Json(s.plane.list_tokens(&who).await?))
}

#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens", params(("id" = String, Path, description = "A token's name, id or unique id prefix")), responses((status = 200, description = "The revoked token", body = Token)))]
async fn revoke_token(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Api<Token> {
    Ok(Json(s.plane.revoke_token(&who, &id).await?))
}

/// Unauthenticated: a user name and password for a token.
#[utoipa::path(post, path = "/api/v1/login", tag = "auth", request_body = LoginBody, responses((status = 201, description = "A session token", body = IssuedToken)), security(()))]
async fn login(
    State(s): State<AppState>,
    Source(source): Source,
    Json(body): Json<LoginBody>,
) -> Result<(StatusCode, Json<IssuedToken>), ApiError> {
    let issued = s.plane.login(&body.user, &body.password, &source).await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

/// Revokes the bearer token presented.
#[utoipa::path(post, path = "/api/v1/logout", tag = "auth", responses((status = 204, description = "The token presented is revoked")))]
async fn logout(
    State(s): State<AppState>,
    Source(source): Source,
    Presented(token): Presented,
) -> Result<StatusCode, ApiError> {
    s.plane.logout(&token, &source).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/whoami", tag = "auth", responses((status = 200, description = "The caller", body = WhoAmI)))]
async fn whoami(
    State(s): State<AppState>,
    Caller(who): Caller,
    Presented(token): Presented,
) -> Api<WhoAmI> {
    let principal = s.plane.whoami(&who).await?;
    Ok(Json(WhoAmI {
        principal,
        token_expires_at: s.auth.token_expires_at(token.expose()),
    }))
}

#[utoipa::path(get, path = "/api/v1/dashboard/overview", tag = "dashboard", responses((status = 200, description = "The overview", body = Overview)))]
async fn overview(State(s): State<AppState>, Caller(who): Caller) -> Api<Overview> {
    Ok(Json(s.plane.overview(&who).await?))
}

#[utoipa::path(post, path = "/api/v1/dashboard/runs", tag = "dashboard", request_body = RunQuery, responses((status = 200, description = "One window of runs", body = Page<Run>)))]
async fn dashboard_runs(
    State(s): State<AppState>,
    Caller(who): Caller,
    Json(q): Json<RunQuery>,
) -> Api<Page<Run>> {
    Ok(Json(s.plane.dashboard_runs(&who, q).await?))
}

#[utoipa::path(post, path = "/api/v1/dashboard/agents", tag = "dashboard", request_body = AgentQuery, responses((status = 200, description = "One window of agents", body = Page<Agent>)))]
async fn dashboard_agents(
    State(s): State<AppState>,
    Caller(who): Caller,
    Json(q): Json<AgentQuery>,
) -> Api<Page<Agent>> {
    Ok(Json(s.plane.dashboard_agents(&who, q).await?))
}

#[utoipa::path(get, path = "/api/v1/dashboard/workflows", tag = "dashboard", params(RecentQuery), responses((status = 200, description = "Workflows with their recent outcomes", body = Vec<WorkflowOutcomes>)))]
async fn dashboard_workflows(
    State(s): State<AppState>,
    Caller(who): Caller,
    Query(q): Query<RecentQuery>,
) -> Api<Vec<WorkflowOutcomes>> {
    Ok(Json(s.plane.dashboard_workflows(&who, q.recent).await?))
}

#[utoipa::path(post, path = "/api/v1/audit/tail", tag = "audit", request_body = AuditTailBody, responses((status = 200, description = "The newest matching records, newest first", body = Vec<AuditRecord>)))]
async fn audit_tail(
    State(s): State<AppState>,
    Caller(who): Caller,
    Json(b): Json<AuditTailBody>,
) -> Api<Vec<crate::model::AuditRecord>> {
    Ok(Json(
        s.plane
            .audit_tail(
                &who,
                b.filter,
                b.before,
                b.limit.min(super::limits::MAX_PAGE),
            )
            .await?,
    ))
}

// --- backups and audit (issue 5). Backups are named by id only and live in the server's backup
// folder; restore and prune stay on the server's machine (`imx backup restore|prune` there). ---

/// The most audit records one `POST /audit/records` returns (the client pages past it).
pub const AUDIT_PAGE: u32 = 10_000;

#[utoipa::path(post, path = "/api/v1/backups", tag = "backups", request_body = BackupCreateBody, responses((status = 201, description = "The new backup", body = BackupInfo)))]
async fn create_backup(
    State(s): State<AppState>,
    Caller(who): Caller,
    Json(b): Json<BackupCreateBody>,
) -> Result<(StatusCode, Json<BackupInfo>), ApiError> {
    let level = b.level.unwrap_or(1);
    if !(1..=19).contains(&level) {
        return Err(
            crate::Error::invalid(format!("the zstd level must be 1..=19, not {level}")).into(),
        );
    }
    let opts = CreateOptions {
        format: b.format,
        key: b
            .passphrase
            .map(|p| KeySource::Passphrase(p.expose().to_string())),
        note: b.note,
        level,
        ..CreateOptions::default()
    };
    let plane = s.plane.clone();
    let info = off_the_workers(move |rt| rt.block_on(plane.create_backup(&who, opts, &NoProgress)))
        .await?;
    Ok((StatusCode::CREATED, Json(info)))
}

#[utoipa::path(get, path = "/api/v1/backups", tag = "backups", responses((status = 200, description = "The server's backups, newest first", body = Catalog)))]
async fn list_backups(State(s): State<AppState>, Caller(who): Caller) -> Api<Catalog> {
    Ok(Json(s.plane.list_backups(&who, None).await?))
}

#[utoipa::path(get, path = "/api/v1/backups/{id}", tag = "backups", params(("id" = String, Path, description = "A backup id or unique id prefix (never a path)")), responses((status = 200, description = "The backup's manifest", body = BackupInfo)))]
async fn show_backup(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Api<BackupInfo> {
    let id = backup_id(&id)?;
    Ok(Json(s.plane.show_backup(&who, None, id).await?))
}

#[utoipa::path(post, path = "/api/v1/backups/{id}/verify", tag = "backups", params(("id" = String, Path, description = "A backup id or unique id prefix (never a path)")), request_body = BackupVerifyBody, responses((status = 200, description = "The verification", body = VerifyReport)))]
async fn verify_backup(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    Json(b): Json<BackupVerifyBody>,
) -> Api<VerifyReport> {
    let id = backup_id(&id)?.to_string();
    let key = b
        .passphrase
        .map(|p| KeySource::Passphrase(p.expose().to_string()));
    let plane = s.plane.clone();
    Ok(Json(
        off_the_workers(move |rt| {
            rt.block_on(plane.verify_backup(&who, None, &id, key, b.integrity, &NoProgress))
        })
        .await?,
    ))
}

/// The backup file's bytes, streamed (admins only: a backup holds every password hash).
#[utoipa::path(get, path = "/api/v1/backups/{id}/file", tag = "backups", params(("id" = String, Path, description = "A backup id or unique id prefix (never a path)")), responses((status = 200, description = "The backup file", content_type = "application/octet-stream", body = Vec<u8>)))]
async fn download_backup(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<axum::response::Response, ApiError> {
    use axum::http::header;
    let id = backup_id(&id)?;
    // Audited as `backup.download` before a byte is sent.
    let info = s.plane.download_backup_file(&who, None, id).await?;
    let file = tokio::fs::File::open(&info.path)
        .await
        .map_err(|e| crate::Error::io(format!("reading {}", info.path.display()), e))?;
    let chunks = futures_util::stream::try_unfold(file, |mut file| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 256 * 1024];
        let n = file.read(&mut buf).await?;
        if n == 0 {
            return Ok::<_, std::io::Error>(None);
        }
        buf.truncate(n);
        Ok(Some((axum::body::Bytes::from(buf), file)))
    });
    let name = crate::backup::create::file_name(&info.manifest.id);
    axum::response::Response::builder()
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(header::CONTENT_LENGTH, info.size)
        .header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        )
        .body(axum::body::Body::from_stream(chunks))
        .map_err(|e| crate::Error::Internal(format!("building the download: {e}")).into())
}

/// The store's backup location (paths for admins only).
#[utoipa::path(get, path = "/api/v1/settings/backup-location", tag = "backups", responses((status = 200, description = "The folder set for the store, and where this server puts backups when none is given", body = BackupLocation)))]
async fn backup_location(State(s): State<AppState>, Caller(who): Caller) -> Api<BackupLocation> {
    Ok(Json(s.plane.backup_location(&who).await?))
}

/// Set (an absolute folder) or unset (`null`) the store's backup location (admins; audited as
/// `store.configure`).
#[utoipa::path(put, path = "/api/v1/settings/backup-location", tag = "backups", request_body = BackupLocationBody, responses((status = 200, description = "The backup location now", body = BackupLocation)))]
async fn set_backup_location(
    State(s): State<AppState>,
    Caller(who): Caller,
    Json(b): Json<BackupLocationBody>,
) -> Api<BackupLocation> {
    let dir = b.dir.map(std::path::PathBuf::from);
    Ok(Json(s.plane.set_backup_location(&who, dir).await?))
}

/// Notification channels (never their secrets).
#[utoipa::path(get, path = "/api/v1/notify/channels", tag = "notify", responses((status = 200, description = "Channels, by name (never their secrets)", body = Vec<crate::notify::Channel>)))]
async fn notify_channels(
    State(s): State<AppState>,
    Caller(who): Caller,
) -> Api<Vec<crate::notify::Channel>> {
    Ok(Json(s.plane.notify_channels(&who).await?))
}

/// Add a channel (admins); its secret is sealed with the store key and never returned
/// (audited as `notify.channel.add`, without the secret).
#[utoipa::path(post, path = "/api/v1/notify/channels", tag = "notify", request_body = crate::notify::NewChannel, responses((status = 200, description = "The channel (without its secret)", body = crate::notify::Channel)))]
async fn notify_channel_add(
    State(s): State<AppState>,
    Caller(who): Caller,
    Json(c): Json<crate::notify::NewChannel>,
) -> Api<crate::notify::Channel> {
    Ok(Json(s.plane.notify_channel_add(&who, c).await?))
}

/// Remove a channel no rule sends to (admins).
#[utoipa::path(delete, path = "/api/v1/notify/channels/{name}", tag = "notify", params(("name" = String, Path, description = "The channel's name")), responses((status = 200, description = "The removed channel", body = crate::notify::Channel)))]
async fn notify_channel_remove(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(name): Path<String>,
) -> Api<crate::notify::Channel> {
    Ok(Json(s.plane.notify_channel_remove(&who, &name).await?))
}

/// Send a test message to a channel now.
#[utoipa::path(post, path = "/api/v1/notify/channels/{name}/test", tag = "notify", params(("name" = String, Path, description = "The channel's name")), responses((status = 200, description = "The test delivery and its attempt", body = crate::notify::Delivery)))]
async fn notify_channel_test(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(name): Path<String>,
) -> Api<crate::notify::Delivery> {
    Ok(Json(s.plane.notify_channel_test(&who, &name).await?))
}

/// Notification rules.
#[utoipa::path(get, path = "/api/v1/notify/rules", tag = "notify", responses((status = 200, description = "Rules, oldest first", body = Vec<crate::notify::Rule>)))]
async fn notify_rules(
    State(s): State<AppState>,
    Caller(who): Caller,
) -> Api<Vec<crate::notify::Rule>> {
    Ok(Json(s.plane.notify_rules(&who).await?))
}

/// Add a rule (audited as `notify.rule.add`).
#[utoipa::path(post, path = "/api/v1/notify/rules", tag = "notify", request_body = crate::notify::NewRule, responses((status = 200, description = "The rule", body = crate::notify::Rule)))]
async fn notify_rule_add(
    State(s): State<AppState>,
    Caller(who): Caller,
    Json(r): Json<crate::notify::NewRule>,
) -> Api<crate::notify::Rule> {
    Ok(Json(s.plane.notify_rule_add(&who, r).await?))
}

/// Remove a rule (audited as `notify.rule.remove`).
#[utoipa::path(delete, path = "/api/v1/notify/rules/{id}", tag = "notify", params(("id" = String, Path, description = "A rule's id or unique id prefix")), responses((status = 200, description = "The removed rule", body = crate::notify::Rule)))]
async fn notify_rule_remove(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Api<crate::notify::Rule> {
    Ok(Json(s.plane.notify_rule_remove(&who, &id).await?))
}

/// How many deliveries to list.
#[derive(Debug, serde::Deserialize, serde::Serialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeliveriesQuery {
    /// At most this many, newest first (default 50, at most 1,000; larger is clamped).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// The newest deliveries, each attempt and its result.
#[utoipa::path(get, path = "/api/v1/notify/deliveries", tag = "notify", params(DeliveriesQuery), responses((status = 200, description = "Deliveries, newest first", body = Vec<crate::notify::Delivery>)))]
async fn notify_deliveries(
    State(s): State<AppState>,
    Caller(who): Caller,
    Query(q): Query<DeliveriesQuery>,
) -> Api<Vec<crate::notify::Delivery>> {
    Ok(Json(
        s.plane
            .notify_deliveries(&who, q.limit.unwrap_or(50).min(super::limits::MAX_PAGE))
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/audit/records", tag = "audit", request_body = AuditFilter, responses((status = 200, description = "Matching records, oldest first (at most 10,000 per call; page with `after_seq`)", body = Vec<AuditRecord>)))]
async fn audit_list(
    State(s): State<AppState>,
    Caller(who): Caller,
    Json(mut filter): Json<AuditFilter>,
) -> Api<Vec<crate::model::AuditRecord>> {
    if filter.limit == 0 || filter.limit > AUDIT_PAGE {
        filter.limit = AUDIT_PAGE;
    }
    Ok(Json(s.plane.audit_list(&who, filter).await?))
}

#[utoipa::path(get, path = "/api/v1/audit/records/{seq}", tag = "audit", params(("seq" = i64, Path, description = "The record's sequence number")), responses((status = 200, description = "The record", body = AuditRecord)))]
async fn audit_get(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(seq): Path<i64>,
) -> Api<crate::model::AuditRecord> {
    Ok(Json(s.plane.audit_get(&who, seq).await?))
}

#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit", responses((status = 200, description = "The chain's verification", body = ChainReport)))]
async fn audit_verify(State(s): State<AppState>, Caller(who): Caller) -> Api<ChainReport> {
    Ok(Json(s.plane.audit_verify(&who).await?))
}

#[utoipa::path(post, path = "/api/v1/audit/checkpoint", tag = "audit", responses((status = 200, description = "The signed checkpoint", body = CheckpointOutcome)))]
async fn audit_checkpoint(
    State(s): State<AppState>,
    Caller(who): Caller,
) -> Api<CheckpointOutcome> {
    Ok(Json(s.plane.audit_checkpoint(&who).await?))
}

#[utoipa::path(post, path = "/api/v1/audit/checkpoint/repair", tag = "audit", responses((status = 200, description = "The withdrawn log entries and the new checkpoint", body = RepairOutcome)))]
async fn audit_repair(State(s): State<AppState>, Caller(who): Caller) -> Api<RepairOutcome> {
    Ok(Json(s.plane.audit_repair(&who).await?))
}

#[utoipa::path(post, path = "/api/v1/audit/report", tag = "audit", request_body = AuditReportBody, responses((status = 200, description = "The report", body = AuditReport)))]
async fn audit_report(
    State(s): State<AppState>,
    Caller(who): Caller,
    Json(b): Json<AuditReportBody>,
) -> Api<AuditReport> {
    Ok(Json(s.plane.audit_report(&who, b.window).await?))
}

/// Run a backup operation (it reads and writes the whole store) on the blocking pool, so it
/// holds up none of the server's async workers and its time limit
/// ([`BACKUP_TIMEOUT`](super::limits::BACKUP_TIMEOUT)) can fire. If the caller goes away or the
/// time runs out, the operation still finishes (and is audited).
async fn off_the_workers<T: Send + 'static>(
    f: impl FnOnce(&tokio::runtime::Handle) -> crate::Result<T> + Send + 'static,
) -> Result<T, ApiError> {
    let rt = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || f(&rt))
        .await
        .map_err(|e| crate::Error::Internal(format!("the backup task failed: {e}")))?
        .map_err(Into::into)
}

// --- schedules (issue 12) ---

#[utoipa::path(post, path = "/api/v1/schedules", tag = "schedules", request_body = ScheduleSpec, responses((status = 201, description = "The new schedule", body = ScheduleInfo)))]
async fn create_schedule(
    State(s): State<AppState>,
    Caller(who): Caller,
    Json(spec): Json<ScheduleSpec>,
) -> Result<(StatusCode, Json<ScheduleInfo>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(s.plane.create_schedule(&who, spec).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/schedules", tag = "schedules", responses((status = 200, description = "Every schedule, by name", body = Vec<ScheduleInfo>)))]
async fn list_schedules(State(s): State<AppState>, Caller(who): Caller) -> Api<Vec<ScheduleInfo>> {
    Ok(Json(s.plane.list_schedules(&who).await?))
}

#[utoipa::path(get, path = "/api/v1/schedules/{name}", tag = "schedules", params(("name" = String, Path, description = "A schedule's name")), responses((status = 200, description = "The schedule with its next fire times", body = ScheduleDetail)))]
async fn get_schedule(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(name): Path<String>,
) -> Api<ScheduleDetail> {
    Ok(Json(s.plane.get_schedule(&who, &name).await?))
}

#[utoipa::path(delete, path = "/api/v1/schedules/{name}", tag = "schedules", params(("name" = String, Path, description = "A schedule's name")), responses((status = 200, description = "The deleted schedule", body = ScheduleInfo)))]
async fn delete_schedule(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(name): Path<String>,
) -> Api<ScheduleInfo> {
    Ok(Json(s.plane.delete_schedule(&who, &name).await?))
}

#[utoipa::path(post, path = "/api/v1/schedules/{name}/pause", tag = "schedules", params(("name" = String, Path, description = "A schedule's name")), request_body = PauseBody, responses((status = 200, description = "The paused schedule", body = ScheduleInfo)))]
async fn pause_schedule(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(name): Path<String>,
    Json(body): Json<PauseBody>,
) -> Api<ScheduleInfo> {
    Ok(Json(s.plane.pause_schedule(&who, &name, body.note).await?))
}

#[utoipa::path(post, path = "/api/v1/schedules/{name}/resume", tag = "schedules", params(("name" = String, Path, description = "A schedule's name")), responses((status = 200, description = "The resumed schedule", body = ScheduleInfo)))]
async fn resume_schedule(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(name): Path<String>,
) -> Api<ScheduleInfo> {
    Ok(Json(s.plane.resume_schedule(&who, &name).await?))
}

#[utoipa::path(post, path = "/api/v1/schedules/{name}/trigger", tag = "schedules", params(("name" = String, Path, description = "A schedule's name")), responses((status = 201, description = "The run made now", body = Run)))]
async fn trigger_schedule(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(name): Path<String>,
) -> Result<(StatusCode, Json<Run>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(s.plane.trigger_schedule(&who, &name).await?),
    ))
}

#[utoipa::path(post, path = "/api/v1/schedules/{name}/backfill", tag = "schedules", params(("name" = String, Path, description = "A schedule's name")), request_body = Backfill, responses((status = 200, description = "The ticks of the range and what was done for each", body = BackfillReport)))]
async fn backfill_schedule(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(name): Path<String>,
    Json(req): Json<Backfill>,
) -> Api<BackfillReport> {
    Ok(Json(s.plane.backfill_schedule(&who, &name, req).await?))
}

#[utoipa::path(get, path = "/api/v1/schedules/{name}/missed", tag = "schedules", params(("name" = String, Path, description = "A schedule's name"), MissedQuery), responses((status = 200, description = "Expected ticks without a run, and why", body = Vec<MissedTick>)))]
async fn missed_ticks(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(name): Path<String>,
    Query(q): Query<MissedQuery>,
) -> Api<Vec<MissedTick>> {
    Ok(Json(s.plane.missed_ticks(&who, &name, q.since).await?))
}
