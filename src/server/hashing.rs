//! Password hashing under load. One argon2id hash holds 19 MiB and a core for tens of
//! milliseconds, so requests that hash a password ([`hashes`]: `POST /api/v1/login`,
//! `POST /api/v1/users`, `PUT /api/v1/users/{name}/password`) first take a permit from the
//! server's [`HashGate`] (the [`gate`] middleware), sized to the machine's cores (less one, for
//! everything else): however many such requests arrive at once, at most that many hashes run,
//! and memory stays flat. A request that cannot get a permit within
//! [`QUEUE_WAIT`] is answered 503 with `Retry-After`, so a flood is refused quickly instead of
//! queueing without end. (Logins are also rate limited per address and globally; see `limits`.)

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::{Semaphore, SemaphorePermit};

use super::error::{ErrorBody, ErrorDetail};

/// How long a request waits for a hashing permit before it is refused (503).
pub const QUEUE_WAIT: Duration = Duration::from_secs(2);

/// What a refused request is told to wait before retrying, in seconds.
const RETRY_AFTER_SECS: u32 = 1;

/// The bound on concurrent password hashes.
pub struct HashGate {
    permits: Semaphore,
    size: usize,
    wait: Duration,
}

/// No permit came within the wait: answered 503 with `Retry-After`.
#[derive(Debug)]
pub struct Busy;

impl HashGate {
    /// At most `size` (at least 1) hashes at once; a request waits at most `wait` for a turn.
    pub fn new(size: usize, wait: Duration) -> Self {
        let size = size.max(1);
        HashGate {
            permits: Semaphore::new(size),
            size,
            wait,
        }
    }

    /// One permit per core this process may use but one (at least one), waiting at most
    /// [`QUEUE_WAIT`]: a core stays free for every other request while logins are hashed.
    pub fn for_this_machine() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        HashGate::new(cores.saturating_sub(1), QUEUE_WAIT)
    }

    /// How many hashes may run at once.
    pub fn size(&self) -> usize {
        self.size
    }

    /// A permit to hash, held until dropped; [`Busy`] if none came within the wait.
    pub async fn enter(&self) -> Result<SemaphorePermit<'_>, Busy> {
        match tokio::time::timeout(self.wait, self.permits.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            // Timed out, or closed (never: the gate lives as long as the router).
            _ => Err(Busy),
        }
    }
}

/// Whether a request to `path` hashes a password (a login, a new user, a password change).
pub fn hashes(method: &Method, path: &str) -> bool {
    let password_change = path
        .strip_prefix("/api/v1/users/")
        .and_then(|rest| rest.strip_suffix("/password"))
        .is_some_and(|name| !name.is_empty() && !name.contains('/'));
    (method == Method::POST && (path == "/api/v1/login" || path == "/api/v1/users"))
        || (method == Method::PUT && password_change)
}

/// Middleware: requests that [`hashes`] run only with a permit of `gate`, or get 503. The body
/// is read first, without a permit: a client sending it slowly holds a connection, never a turn
/// to hash.
pub async fn gate(State(gate): State<Arc<HashGate>>, req: Request, next: Next) -> Response {
    if !hashes(req.method(), req.uri().path()) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let Ok(body) = axum::body::to_bytes(body, super::limits::MAX_BODY).await else {
        // Over the limit (or cut short, and then nobody reads this).
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let req = Request::from_parts(parts, axum::body::Body::from(body));
    match gate.enter().await {
        Ok(_permit) => next.run(req).await,
        Err(busy) => busy.into_response(),
    }
}

impl IntoResponse for Busy {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: "unavailable".into(),
                message: format!(
                    "the server is busy checking other passwords; retry after {RETRY_AFTER_SECS}s"
                ),
                details: serde_json::json!({
                    "hint": format!("wait {RETRY_AFTER_SECS}s and retry")
                }),
            },
        };
        let mut resp = (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response();
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
        resp
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_gate_refuses_after_its_wait_and_admits_once_a_permit_is_back() {
        let gate = HashGate::new(1, Duration::from_millis(50));
        let held = gate.enter().await.unwrap();
        let started = std::time::Instant::now();
        assert!(gate.enter().await.is_err());
        assert!(started.elapsed() >= Duration::from_millis(50));
        let resp = Busy.into_response();
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(resp.headers()[header::RETRY_AFTER], "1");
        drop(held);
        assert!(gate.enter().await.is_ok());
        assert_eq!(HashGate::new(0, QUEUE_WAIT).size(), 1);
    }

    #[test]
    fn the_routes_that_hash_are_gated_and_nothing_else_is() {
        for (method, path, gated) in [
            (Method::POST, "/api/v1/login", true),
            (Method::POST, "/api/v1/users", true),
            (Method::PUT, "/api/v1/users/alice/password", true),
            (Method::GET, "/api/v1/users", false),
            (Method::PATCH, "/api/v1/users/alice", false),
            (Method::PUT, "/api/v1/users//password", false),
            (Method::PUT, "/api/v1/users/a/b/password", false),
            (Method::POST, "/api/v1/logout", false),
            (Method::GET, "/api/v1/runs", false),
        ] {
            assert_eq!(hashes(&method, path), gated, "{method} {path}");
        }
    }
}
