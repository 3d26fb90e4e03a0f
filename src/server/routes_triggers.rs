//! `/api/v1/triggers` (operators make, list, delete and rotate triggers) and
//! `/api/v1/hooks/{name}` (a webhook trigger's callers: no bearer token, the Standard Webhooks
//! signature is the credential).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};

use super::AppState;
use super::auth::{Caller, Source};
use super::error::ApiError;
use super::json::Json;
use crate::auth::webhook::{ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use crate::control::HookHeaders;
use crate::control::wire::RotateSecret;
use crate::model::{CreatedTrigger, HookOutcome, NewTrigger, Trigger};

type Api<T> = Result<Json<T>, ApiError>;

#[utoipa::path(post, path = "/api/v1/triggers", tag = "triggers", request_body = NewTrigger, responses((status = 201, description = "The trigger; a webhook trigger's path and secret, shown this once", body = CreatedTrigger)))]
pub(super) async fn create_trigger(
    State(s): State<AppState>,
    Caller(who): Caller,
    Json(req): Json<NewTrigger>,
) -> Result<(StatusCode, Json<CreatedTrigger>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(s.plane.create_trigger(&who, req).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/triggers", tag = "triggers", responses((status = 200, description = "Every trigger, by name (never a secret)", body = Vec<Trigger>)))]
pub(super) async fn list_triggers(
    State(s): State<AppState>,
    Caller(who): Caller,
) -> Api<Vec<Trigger>> {
    Ok(Json(s.plane.list_triggers(&who).await?))
}

#[utoipa::path(get, path = "/api/v1/triggers/{name}", tag = "triggers", params(("name" = String, Path, description = "The trigger's name")), responses((status = 200, description = "The trigger", body = Trigger)))]
pub(super) async fn get_trigger(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(name): Path<String>,
) -> Api<Trigger> {
    Ok(Json(s.plane.get_trigger(&who, &name).await?))
}

#[utoipa::path(delete, path = "/api/v1/triggers/{name}", tag = "triggers", params(("name" = String, Path, description = "The trigger's name")), responses((status = 200, description = "The deleted trigger", body = Trigger)))]
pub(super) async fn delete_trigger(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(name): Path<String>,
) -> Api<Trigger> {
    Ok(Json(s.plane.delete_trigger(&who, &name).await?))
}

#[utoipa::path(post, path = "/api/v1/triggers/{name}/rotate", tag = "triggers", params(("name" = String, Path, description = "The webhook trigger's name")), request_body = RotateSecret, responses((status = 200, description = "The trigger and its new secret, shown this once", body = CreatedTrigger)))]
pub(super) async fn rotate_trigger(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(name): Path<String>,
    Json(body): Json<RotateSecret>,
) -> Api<CreatedTrigger> {
    Ok(Json(
        s.plane
            .rotate_trigger_secret(&who, &name, body.secret)
            .await?,
    ))
}

/// A call to a webhook trigger: `webhook-id`, `webhook-timestamp` and `webhook-signature`
/// (Standard Webhooks) over the raw body; the JSON body's fields become the run's params.
/// Refused calls (bad or missing signature, a timestamp more than 5 minutes off, a
/// `webhook-id` seen before) are audited.
#[utoipa::path(post, path = "/api/v1/hooks/{name}", tag = "triggers", params(("name" = String, Path, description = "The webhook trigger's name"), ("webhook-id" = String, Header, description = "The message id: a call is acted on once per id"), ("webhook-timestamp" = String, Header, description = "Unix seconds; at most 5 minutes from the server's clock"), ("webhook-signature" = String, Header, description = "`v1,<base64 HMAC-SHA256 of id.timestamp.body>`, space-separated if several")), request_body(content = Object, description = "A JSON object (or empty)"), responses((status = 202, description = "The run it started", body = HookOutcome), (status = 401, description = "Signature or timestamp refused"), (status = 409, description = "This webhook-id was received before")), security(()))]
pub(super) async fn fire_webhook(
    State(s): State<AppState>,
    Source(source): Source,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<HookOutcome>), ApiError> {
    let header = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let hook = HookHeaders {
        id: header(ID_HEADER),
        timestamp: header(TIMESTAMP_HEADER),
        signature: header(SIGNATURE_HEADER),
    };
    let out = s.plane.fire_webhook(&name, &hook, &body, &source).await?;
    Ok((StatusCode::ACCEPTED, Json(out)))
}
