//! API errors: the library's [`Error`] as a status code and a JSON body
//! `{ "error": { "code", "message", "details": { "hint" } } }`. The remote client turns the same
//! body back into the same [`Error`], so a CLI error reads the same locally and remotely.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::error::ErrorKind;

/// The JSON error body.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong, in a stable shape.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// `invalid`, `not_found`, `unauthenticated`, `forbidden`, `conflict`, `unavailable`,
    /// `internal`.
    pub code: String,
    pub message: String,
    #[serde(default)]
    pub details: serde_json::Value,
}

/// An error on its way out of a handler.
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e)
    }
}

/// The wire code and HTTP status of an error kind.
pub fn code_and_status(kind: ErrorKind) -> (&'static str, StatusCode) {
    match kind {
        ErrorKind::Invalid => ("invalid", StatusCode::BAD_REQUEST),
        ErrorKind::NotFound => ("not_found", StatusCode::NOT_FOUND),
        ErrorKind::Unauthenticated => ("unauthenticated", StatusCode::UNAUTHORIZED),
        ErrorKind::Forbidden => ("forbidden", StatusCode::FORBIDDEN),
        ErrorKind::Conflict => ("conflict", StatusCode::CONFLICT),
        ErrorKind::Unavailable => ("unavailable", StatusCode::SERVICE_UNAVAILABLE),
        ErrorKind::Internal => ("internal", StatusCode::INTERNAL_SERVER_ERROR),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (code, mut status) = code_and_status(self.0.kind());
        // A locked account is told when to come back.
        let retry_after = match &self.0 {
            Error::LockedOut { until } => {
                status = StatusCode::TOO_MANY_REQUESTS;
                Some(((*until - crate::model::now_ms()).max(0) / 1000 + 1).to_string())
            }
            _ => None,
        };
        let mut details = match self.0.hint() {
            Some(h) => serde_json::json!({ "hint": h }),
            None => serde_json::Value::Null,
        };
        // Where a held agent name's holder runs: a replacement on that host checks its pid.
        if let Error::NameHeld {
            name,
            hostname,
            pid,
        } = &self.0
        {
            details["holder"] =
                serde_json::json!({ "name": name, "hostname": hostname, "pid": pid });
        }
        // The ids an ambiguous prefix matches: the client lists them.
        if let Error::Ambiguous {
            kind, candidates, ..
        } = &self.0
        {
            details["kind"] = serde_json::json!(kind);
            details["candidates"] = serde_json::json!(candidates);
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: code.into(),
                message: self.0.to_string(),
                details,
            },
        };
        let mut resp = (status, Json(body)).into_response();
        if let Some(secs) = retry_after.and_then(|s| s.parse().ok()) {
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs);
        }
        resp
    }
}

impl ErrorBody {
    /// The library error this body stands for (used by the remote client).
    pub fn into_error(self) -> Error {
        let hint = self
            .error
            .details
            .get("hint")
            .and_then(|h| h.as_str())
            .map(str::to_string);
        let message = self.error.message;
        match self.error.code.as_str() {
            "invalid" => match ambiguous(&self.error.details, &message) {
                Some(e) => e,
                None => Error::Invalid { message, hint },
            },
            "not_found" => match hint {
                Some(hint) => Error::NotFoundHint { message, hint },
                None => Error::Remote {
                    kind: ErrorKind::NotFound,
                    message,
                },
            },
            // A bad login has no "log in" hint; a missing or bad token has one.
            "unauthenticated" if hint.is_some() => Error::Unauthenticated(message),
            "unauthenticated" => Error::Remote {
                kind: ErrorKind::Unauthenticated,
                message,
            },
            "forbidden" => Error::Remote {
                kind: ErrorKind::Forbidden,
                message,
            },
            "conflict" => match holder(&self.error.details) {
                Some((name, hostname, pid)) => Error::NameHeld {
                    name,
                    hostname,
                    pid,
                },
                None => Error::Conflict(message),
            },
            "unavailable" => Error::Remote {
                kind: ErrorKind::Unavailable,
                message,
            },
            _ => Error::Internal(message),
        }
    }
}

/// An ambiguous prefix, from an invalid request's details (see [`Error::Ambiguous`]).
fn ambiguous(details: &serde_json::Value, message: &str) -> Option<Error> {
    let candidates: Vec<String> = details
        .get("candidates")?
        .as_array()?
        .iter()
        .filter_map(|c| c.as_str().map(str::to_string))
        .collect();
    let kind = match details.get("kind")?.as_str()? {
        "run" => "run",
        "backup" => "backup",
        "agent" => "agent",
        _ => "object",
    };
    // `{kind} prefix "P" is ambiguous: ...`
    let prefix = message.split('"').nth(1).unwrap_or_default().to_string();
    Some(Error::Ambiguous {
        kind,
        prefix,
        candidates,
    })
}

/// The holder of an agent name, from a conflict's details (see [`Error::NameHeld`]).
fn holder(details: &serde_json::Value) -> Option<(String, String, u32)> {
    let h = details.get("holder")?;
    Some((
        h.get("name")?.as_str()?.to_string(),
        h.get("hostname")?.as_str()?.to_string(),
        u32::try_from(h.get("pid")?.as_u64()?).ok()?,
    ))
}

/// Middleware: give every error response the JSON body, including those made outside our
/// handlers (axum's extractor rejections for malformed JSON, a wrong content type or unknown
/// fields; unknown routes and methods; the body-size limit; the request timeout). Extractor
/// data errors (422) become 400 `invalid`, like every other invalid input.
pub async fn json_errors(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let (code, status) = match status {
        StatusCode::UNPROCESSABLE_ENTITY => ("invalid", StatusCode::BAD_REQUEST),
        StatusCode::NOT_FOUND => ("not_found", status),
        StatusCode::UNAUTHORIZED => ("unauthenticated", status),
        StatusCode::FORBIDDEN => ("forbidden", status),
        StatusCode::CONFLICT => ("conflict", status),
        StatusCode::REQUEST_TIMEOUT | StatusCode::TOO_MANY_REQUESTS => ("unavailable", status),
        StatusCode::SERVICE_UNAVAILABLE => ("unavailable", status),
        s if s.is_client_error() => ("invalid", status),
        _ => ("internal", status),
    };
    let message = match parts.status {
        StatusCode::PAYLOAD_TOO_LARGE => format!(
            "the request body is larger than the limit of {} MiB",
            super::limits::MAX_BODY / (1024 * 1024)
        ),
        StatusCode::REQUEST_TIMEOUT => format!(
            "the request took longer than {}s",
            super::limits::REQUEST_TIMEOUT.as_secs()
        ),
        StatusCode::NOT_FOUND if text.is_empty() => "no such API route".to_string(),
        StatusCode::METHOD_NOT_ALLOWED => "this route does not take that method".to_string(),
        s if text.is_empty() => s.canonical_reason().unwrap_or("error").to_string(),
        _ => text,
    };
    let body = ErrorBody {
        error: ErrorDetail {
            code: code.into(),
            message,
            details: serde_json::Value::Null,
        },
    };
    let mut out = (status, Json(body)).into_response();
    // Keep what the original said beyond its body (Allow, Retry-After, ...).
    for (name, value) in &parts.headers {
        if name != axum::http::header::CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    out
}
