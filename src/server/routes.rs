//! `/api/v1/...`: one handler per [`ControlPlane`](crate::control::ControlPlane) method. Bodies
//! and responses are the model types (serde), so the remote client shares them.

use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};

use super::AppState;
use super::auth::{Caller, Presented, Source};
use super::error::ApiError;
use crate::audit::{AuditFilter, AuditReport, ChainReport};
use crate::auth::Principal;
use crate::backup::catalog::Catalog;
use crate::backup::{BackupInfo, CreateOptions, KeySource, NoProgress, VerifyReport};
use crate::control::wire::{
    ApplyQuery, ClaimBody, CompleteBody, EventsQuery, LeasesBody, LogsBody, LogsQuery, RetryBody,
    RunsQuery, VersionQuery,
};
use crate::control::wire::{AuditReportBody, BackupCreateBody, BackupVerifyBody, backup_id};
use crate::control::wire::{AuditTailBody, LoginBody, PasswordBody, RecentQuery};
use crate::control::{AgentQuery, CheckpointOutcome, Overview, RunQuery, WorkflowOutcomes};
use crate::control::{ApplyOutcome, HeartbeatReply, StartRun, StatusReport};
use crate::model::{
    Agent, AgentRegistration, Event, IssuedToken, LeaseRef, LogLine, NewToken, NewUser, Page, Run,
    RunDetail, RunFilter, StepTask, Token, User, UserUpdate, Workflow, WorkflowSpec,
    WorkflowSummary,
};

type Api<T> = Result<Json<T>, ApiError>;

/// The longest a long-poll (`claim`, `events?wait_ms=`) may hold a request.
pub const MAX_WAIT: Duration = Duration::from_secs(30);

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/v1/status", get(status))
        .route(
            "/api/v1/workflows",
            get(list_workflows).post(apply_workflow),
        )
        .route(
            "/api/v1/workflows/{name}",
            get(get_workflow).delete(delete_workflow),
        )
        .route("/api/v1/runs", get(list_runs).post(start_run))
        .route("/api/v1/runs/{id}", get(get_run))
        .route("/api/v1/runs/{id}/cancel", post(cancel_run))
        .route("/api/v1/runs/{id}/retry", post(retry_run))
        .route("/api/v1/runs/{id}/logs", get(run_logs))
        .route("/api/v1/events", get(events))
        .route("/api/v1/events/stream", get(super::sse::stream))
        .route("/api/v1/agents", get(list_agents).post(register_agent))
        .route("/api/v1/agents/{name}", get(get_agent).delete(remove_agent))
        .route("/api/v1/agents/{name}/drain", post(drain_agent))
        .route("/api/v1/agents/{name}/resume", post(resume_agent))
        .route("/api/v1/agents/{id}/claim", post(claim))
        .route("/api/v1/agents/{id}/heartbeat", post(heartbeat))
        .route("/api/v1/agents/{id}/check", post(check_leases))
        .route("/api/v1/agents/{id}/deregister", post(deregister))
        .route("/api/v1/leases/start", post(start_step))
        .route("/api/v1/leases/logs", post(append_logs))
        .route("/api/v1/leases/complete", post(complete_steps))
        .route("/api/v1/users", get(list_users).post(create_user))
        .route(
            "/api/v1/users/{name}",
            get(get_user).patch(update_user).delete(delete_user),
        )
        .route("/api/v1/users/{name}/password", put(set_password))
        .route("/api/v1/tokens", get(list_tokens).post(create_token))
        .route("/api/v1/tokens/{id}", delete(revoke_token))
        .route("/api/v1/login", post(login))
        .route("/api/v1/logout", post(logout))
        .route("/api/v1/whoami", get(whoami))
        .route("/api/v1/dashboard/overview", get(overview))
        .route("/api/v1/dashboard/runs", post(dashboard_runs))
        .route("/api/v1/dashboard/agents", post(dashboard_agents))
        .route("/api/v1/dashboard/workflows", get(dashboard_workflows))
        .route("/api/v1/audit/tail", post(audit_tail))
        .route("/api/v1/backups", get(list_backups).post(create_backup))
        .route("/api/v1/backups/{id}", get(show_backup))
        .route("/api/v1/backups/{id}/verify", post(verify_backup))
        .route("/api/v1/backups/{id}/file", get(download_backup))
        .route("/api/v1/audit/records", post(audit_list))
        .route("/api/v1/audit/records/{seq}", get(audit_get))
        .route("/api/v1/audit/verify", get(audit_verify))
        .route("/api/v1/audit/checkpoint", post(audit_checkpoint))
        .route("/api/v1/audit/report", post(audit_report))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(state)
}

async fn status(State(s): State<AppState>, Caller(who): Caller) -> Api<StatusReport> {
    Ok(Json(s.plane.status(&who).await?))
}

async fn list_workflows(
    State(s): State<AppState>,
    Caller(who): Caller,
) -> Api<Vec<WorkflowSummary>> {
    Ok(Json(s.plane.list_workflows(&who).await?))
}

async fn apply_workflow(
    State(s): State<AppState>,
    Caller(who): Caller,
    Query(q): Query<ApplyQuery>,
    Json(spec): Json<WorkflowSpec>,
) -> Api<ApplyOutcome> {
    Ok(Json(s.plane.apply_workflow(&who, spec, q.dry_run).await?))
}

async fn get_workflow(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(name): Path<String>,
    Query(q): Query<VersionQuery>,
) -> Api<Workflow> {
    Ok(Json(s.plane.get_workflow(&who, &name, q.version).await?))
}

async fn delete_workflow(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(name): Path<String>,
) -> Api<Workflow> {
    Ok(Json(s.plane.delete_workflow(&who, &name).await?))
}

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

async fn list_runs(
    State(s): State<AppState>,
    Caller(who): Caller,
    Query(q): Query<RunsQuery>,
) -> Api<Page<Run>> {
    let filter = RunFilter {
        workflow: q.workflow,
        status: q.status,
        since: q.since,
        limit: q.limit.map(|l| l.min(super::limits::MAX_PAGE)),
        cursor: q.cursor,
    };
    Ok(Json(s.plane.list_runs(&who, filter).await?))
}

async fn get_run(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Api<RunDetail> {
    Ok(Json(s.plane.get_run(&who, &id).await?))
}

async fn cancel_run(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Api<Run> {
    Ok(Json(s.plane.cancel_run(&who, &id).await?))
}

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

async fn run_logs(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    Query(q): Query<LogsQuery>,
) -> Api<Vec<LogLine>> {
    let limit = super::limits::page(q.limit);
    Ok(Json(
        s.plane
            .run_logs(&who, &id, q.step.as_deref(), q.after, limit)
            .await?,
    ))
}

async fn events(
    State(s): State<AppState>,
    Caller(who): Caller,
    Query(q): Query<EventsQuery>,
) -> Api<Vec<Event>> {
    let limit = super::limits::page(q.limit);
    let wait = Duration::from_millis(q.wait_ms.unwrap_or(0)).min(MAX_WAIT);
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let events = s.plane.events(&who, q.after, limit).await?;
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if !events.is_empty() || left.is_zero() {
            return Ok(Json(events));
        }
        s.plane.wait_for_change(left).await;
    }
}

async fn list_agents(State(s): State<AppState>, Caller(who): Caller) -> Api<Vec<Agent>> {
    Ok(Json(s.plane.list_agents(&who).await?))
}

async fn get_agent(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(name): Path<String>,
) -> Api<Agent> {
    Ok(Json(s.plane.get_agent(&who, &name).await?))
}

async fn drain_agent(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(name): Path<String>,
) -> Api<Agent> {
    Ok(Json(s.plane.drain_agent(&who, &name).await?))
}

async fn resume_agent(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(name): Path<String>,
) -> Api<Agent> {
    Ok(Json(s.plane.resume_agent(&who, &name).await?))
}

async fn remove_agent(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(name): Path<String>,
) -> Api<Agent> {
    Ok(Json(s.plane.remove_agent(&who, &name).await?))
}

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

async fn claim(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    Json(body): Json<ClaimBody>,
) -> Api<Vec<StepTask>> {
    let wait = Duration::from_millis(body.wait_ms).min(MAX_WAIT);
    Ok(Json(s.plane.claim(&who, &id, body.max, wait).await?))
}

async fn heartbeat(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    Json(body): Json<LeasesBody>,
) -> Api<HeartbeatReply> {
    Ok(Json(s.plane.heartbeat(&who, &id, &body.leases).await?))
}

async fn check_leases(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    Json(body): Json<LeasesBody>,
) -> Api<HeartbeatReply> {
    Ok(Json(s.plane.check_leases(&who, &id, &body.leases).await?))
}

async fn deregister(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.plane.deregister_agent(&who, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn start_step(
    State(s): State<AppState>,
    Caller(who): Caller,
    Json(lease): Json<LeaseRef>,
) -> Result<StatusCode, ApiError> {
    s.plane.start_step(&who, &lease).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn append_logs(
    State(s): State<AppState>,
    Caller(who): Caller,
    Json(body): Json<LogsBody>,
) -> Result<StatusCode, ApiError> {
    s.plane.append_logs(&who, &body.lease, &body.lines).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn complete_steps(
    State(s): State<AppState>,
    Caller(who): Caller,
    Json(body): Json<CompleteBody>,
) -> Api<Vec<bool>> {
    Ok(Json(s.plane.complete_steps(&who, &body.results).await?))
}

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

async fn list_users(State(s): State<AppState>, Caller(who): Caller) -> Api<Vec<User>> {
    Ok(Json(s.plane.list_users(&who).await?))
}

async fn get_user(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(name): Path<String>,
) -> Api<User> {
    Ok(Json(s.plane.get_user(&who, &name).await?))
}

async fn update_user(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(name): Path<String>,
    Json(change): Json<UserUpdate>,
) -> Api<User> {
    Ok(Json(s.plane.update_user(&who, &name, change).await?))
}

async fn delete_user(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(name): Path<String>,
) -> Api<User> {
    Ok(Json(s.plane.delete_user(&who, &name).await?))
}

async fn set_password(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(name): Path<String>,
    Json(body): Json<PasswordBody>,
) -> Api<User> {
    Ok(Json(
        s.plane.set_password(&who, &name, body.password).await?,
    ))
}

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

async fn list_tokens(State(s): State<AppState>, Caller(who): Caller) -> Api<Vec<Token>> {
    Ok(Json(s.plane.list_tokens(&who).await?))
}

async fn revoke_token(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Api<Token> {
    Ok(Json(s.plane.revoke_token(&who, &id).await?))
}

/// Unauthenticated: a user name and password for a token.
async fn login(
    State(s): State<AppState>,
    Source(source): Source,
    Json(body): Json<LoginBody>,
) -> Result<(StatusCode, Json<IssuedToken>), ApiError> {
    let issued = s.plane.login(&body.user, &body.password, &source).await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

/// Revokes the bearer token presented.
async fn logout(
    State(s): State<AppState>,
    Source(source): Source,
    Presented(token): Presented,
) -> Result<StatusCode, ApiError> {
    s.plane.logout(&token, &source).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn whoami(State(s): State<AppState>, Caller(who): Caller) -> Api<Principal> {
    Ok(Json(s.plane.whoami(&who).await?))
}

async fn overview(State(s): State<AppState>, Caller(who): Caller) -> Api<Overview> {
    Ok(Json(s.plane.overview(&who).await?))
}

async fn dashboard_runs(
    State(s): State<AppState>,
    Caller(who): Caller,
    Json(q): Json<RunQuery>,
) -> Api<Page<Run>> {
    Ok(Json(s.plane.dashboard_runs(&who, q).await?))
}

async fn dashboard_agents(
    State(s): State<AppState>,
    Caller(who): Caller,
    Json(q): Json<AgentQuery>,
) -> Api<Page<Agent>> {
    Ok(Json(s.plane.dashboard_agents(&who, q).await?))
}

async fn dashboard_workflows(
    State(s): State<AppState>,
    Caller(who): Caller,
    Query(q): Query<RecentQuery>,
) -> Api<Vec<WorkflowOutcomes>> {
    Ok(Json(s.plane.dashboard_workflows(&who, q.recent).await?))
}

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

async fn list_backups(State(s): State<AppState>, Caller(who): Caller) -> Api<Catalog> {
    Ok(Json(s.plane.list_backups(&who, None).await?))
}

async fn show_backup(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Api<BackupInfo> {
    let id = backup_id(&id)?;
    Ok(Json(s.plane.show_backup(&who, None, id).await?))
}

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

/// The backup file's bytes, streamed (`backup.show` permission: an operator).
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

async fn audit_get(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(seq): Path<i64>,
) -> Api<crate::model::AuditRecord> {
    Ok(Json(s.plane.audit_get(&who, seq).await?))
}

async fn audit_verify(State(s): State<AppState>, Caller(who): Caller) -> Api<ChainReport> {
    Ok(Json(s.plane.audit_verify(&who).await?))
}

async fn audit_checkpoint(
    State(s): State<AppState>,
    Caller(who): Caller,
) -> Api<CheckpointOutcome> {
    Ok(Json(s.plane.audit_checkpoint(&who).await?))
}

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
