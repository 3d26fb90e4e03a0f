//! The HTTP API: a thin axum adapter over the local control plane (DESIGN §2, §9). Every route
//! authenticates its caller to a [`Principal`] and calls one [`ControlPlane`] method; the local
//! plane authorizes and audits, so the server adds no rules of its own.
//!
//! - [`routes`]: `/api/v1/...` handlers, one per ControlPlane method.
//! - [`error`]: `{ "error": { "code", "message", "details" } }` bodies with the right status.
//! - [`auth`]: bearer tokens → principals.
//! - `sse`: `/api/v1/events/stream`, the event feed as server-sent events.

pub mod auth;
pub mod error;
mod routes;
mod sse;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::sync::Arc;

use crate::control::Plane;
use crate::{Error, Result};

pub use auth::Authenticator;

/// What the server needs: the plane it serves and how to authenticate callers.
#[derive(Clone)]
pub struct AppState {
    pub plane: Plane,
    pub auth: Arc<dyn Authenticator>,
}

/// The API router (also used in-process by tests).
pub fn router(state: AppState) -> axum::Router {
    routes::router(state)
}

/// Serve `state` on `listener` until `shutdown` resolves, then finish in-flight requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| Error::io("serving the API", e))
}
