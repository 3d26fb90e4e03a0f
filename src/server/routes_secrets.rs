//! `/api/v1/secrets` (issue 13): admins set, rotate and delete workflow secrets; anyone who
//! reads sees their names, scopes and who changed them when — never a value. And
//! `/api/v1/store/rekey`: seal every secret the store keeps under a new store key.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use super::json::Json;
use crate::control::wire::{RekeyBody, SecretScope};
use crate::model::{Rekeyed, SecretInfo, SecretValue};

type Api<T> = Result<Json<T>, ApiError>;

#[utoipa::path(get, path = "/api/v1/secrets", tag = "secrets", params(SecretScope), responses((status = 200, description = "Every secret (a workflow's only, with ?workflow=): names, scopes, versions, who changed them when; never a value", body = Vec<SecretInfo>)))]
pub(super) async fn list_secrets(
    State(s): State<AppState>,
    Caller(who): Caller,
    Query(q): Query<SecretScope>,
) -> Api<Vec<SecretInfo>> {
    Ok(Json(
        s.plane.list_secrets(&who, q.workflow.as_deref()).await?,
    ))
}

#[utoipa::path(put, path = "/api/v1/secrets/{name}", tag = "secrets", params(("name" = String, Path, description = "The secret's name", pattern = "^[A-Za-z_][A-Za-z0-9_]{0,127}$")), request_body = SecretValue, responses((status = 200, description = "The secret (never its value)", body = SecretInfo)))]
pub(super) async fn set_secret(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(name): Path<String>,
    Json(req): Json<SecretValue>,
) -> Api<SecretInfo> {
    Ok(Json(s.plane.set_secret(&who, &name, req).await?))
}

#[utoipa::path(delete, path = "/api/v1/secrets/{name}", tag = "secrets", params(("name" = String, Path, description = "The secret's name", pattern = "^[A-Za-z_][A-Za-z0-9_]{0,127}$"), SecretScope), responses((status = 204, description = "Deleted")))]
pub(super) async fn delete_secret(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(name): Path<String>,
    Query(q): Query<SecretScope>,
) -> Result<StatusCode, ApiError> {
    s.plane
        .delete_secret(&who, &name, q.workflow.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/store/rekey", tag = "secrets", request_body = RekeyBody, responses((status = 200, description = "How many sealed values were sealed again, and the new key's check value", body = Rekeyed)))]
pub(super) async fn rekey(
    State(s): State<AppState>,
    Caller(who): Caller,
    Json(body): Json<RekeyBody>,
) -> Api<Rekeyed> {
    Ok(Json(s.plane.rekey(&who, &body.new_key).await?))
}
