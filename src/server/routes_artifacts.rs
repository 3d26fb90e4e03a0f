//! Artifacts over HTTP (issue 13). Agents, holding a step's lease: `PUT
//! /api/v1/runs/{id}/steps/{step}/artifacts?path=` streams one file up (the body is the raw
//! bytes, any size up to the control plane's artifact limits: the 4 MiB JSON body limit does
//! not apply), and `.../inputs` lists and downloads the run's artifacts for the step's
//! `inputs:`. People: `GET /api/v1/runs/{id}/artifacts` lists a run's artifacts and
//! `.../artifacts/{what}` downloads one (by id or path), streamed; `POST
//! /api/v1/artifacts/prune` deletes old ones (admin, audited).

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::Response;
use futures_util::StreamExt;

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use super::json::Json;
use crate::artifacts::ByteStream;
use crate::control::wire::LeaseQuery;
use crate::model::{Artifact, ArtifactPrune, ArtifactPruneReport};

type Api<T> = Result<Json<T>, ApiError>;

/// The header a download carries its SHA-256 in (lowercase hex).
pub const SHA256_HEADER: &str = "x-imx-sha256";

/// A streamed response of `bytes` (`size` of them, when known).
fn stream(bytes: ByteStream, artifact: Option<&Artifact>) -> Result<Response, ApiError> {
    let mut resp = Response::builder().header(header::CONTENT_TYPE, "application/octet-stream");
    if let Some(a) = artifact {
        resp = resp
            .header(header::CONTENT_LENGTH, a.size)
            .header(SHA256_HEADER, &a.sha256);
    }
    resp.body(Body::from_stream(bytes))
        .map_err(|e| ApiError::from(crate::Error::Internal(format!("building a response: {e}"))))
}

#[utoipa::path(put, path = "/api/v1/runs/{id}/steps/{step}/artifacts", tag = "work", params(("id" = String, Path, description = "The run id"), ("step" = String, Path, description = "The step id"), LeaseQuery), request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file's bytes"), responses((status = 200, description = "The artifact as stored: size and SHA-256 of what arrived", body = Artifact)))]
pub(super) async fn upload_artifact(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path((run, step)): Path<(String, String)>,
    Query(q): Query<LeaseQuery>,
    body: Body,
) -> Api<Artifact> {
    let Some(path) = q.path.clone() else {
        return Err(crate::Error::invalid("the upload names no ?path= for the file").into());
    };
    let lease = q.lease(run, step);
    let bytes: ByteStream = Box::pin(
        body.into_data_stream()
            .map(|r| r.map_err(std::io::Error::other)),
    );
    Ok(Json(
        s.plane.upload_artifact(&who, &lease, &path, bytes).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/runs/{id}/steps/{step}/inputs", tag = "work", params(("id" = String, Path, description = "The run id"), ("step" = String, Path, description = "The step id"), LeaseQuery), responses((status = 200, description = "The artifacts of the run the lease is in (the agent keeps those of the step's inputs)", body = Vec<Artifact>)))]
pub(super) async fn lease_artifacts(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path((run, step)): Path<(String, String)>,
    Query(q): Query<LeaseQuery>,
) -> Api<Vec<Artifact>> {
    let lease = q.lease(run, step);
    Ok(Json(s.plane.lease_artifacts(&who, &lease).await?))
}

#[utoipa::path(get, path = "/api/v1/runs/{id}/steps/{step}/inputs/{artifact}", tag = "work", params(("id" = String, Path, description = "The run id"), ("step" = String, Path, description = "The step id"), ("artifact" = String, Path, description = "The artifact id"), LeaseQuery), responses((status = 200, description = "The artifact's bytes", content_type = "application/octet-stream", body = Vec<u8>)))]
pub(super) async fn download_lease_artifact(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path((run, step, id)): Path<(String, String, String)>,
    Query(q): Query<LeaseQuery>,
) -> Result<Response, ApiError> {
    let lease = q.lease(run, step);
    let bytes = s.plane.download_lease_artifact(&who, &lease, &id).await?;
    stream(bytes, None)
}

#[utoipa::path(get, path = "/api/v1/runs/{id}/artifacts", tag = "runs", params(("id" = String, Path, description = "A run id or unique id prefix")), responses((status = 200, description = "The run's artifacts, by step then path", body = Vec<Artifact>)))]
pub(super) async fn list_artifacts(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(run): Path<String>,
) -> Api<Vec<Artifact>> {
    Ok(Json(s.plane.list_artifacts(&who, &run).await?))
}

#[utoipa::path(get, path = "/api/v1/runs/{id}/artifacts/{what}", tag = "runs", params(("id" = String, Path, description = "A run id or unique id prefix"), ("what" = String, Path, description = "An artifact id (or unique prefix of 6 or more), or its path (URL-encoded)")), responses((status = 200, description = "The artifact's bytes, with its SHA-256 in X-Imx-Sha256", content_type = "application/octet-stream", body = Vec<u8>)))]
pub(super) async fn download_artifact(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path((run, what)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (artifact, bytes) = s.plane.download_artifact(&who, &run, &what).await?;
    stream(bytes, Some(&artifact))
}

#[utoipa::path(post, path = "/api/v1/artifacts/prune", tag = "runs", request_body = ArtifactPrune, responses((status = 200, description = "How many artifacts (and bytes) were deleted, or would be in a dry run", body = ArtifactPruneReport)))]
pub(super) async fn prune_artifacts(
    State(s): State<AppState>,
    Caller(who): Caller,
    Json(req): Json<ArtifactPrune>,
) -> Api<ArtifactPruneReport> {
    Ok(Json(s.plane.prune_artifacts(&who, req).await?))
}
