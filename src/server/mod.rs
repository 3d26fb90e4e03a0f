//! The HTTP API: a thin axum adapter over the local control plane (DESIGN §2, §9). Every route
//! authenticates its caller to a [`Principal`] and calls one [`ControlPlane`] method; the local
//! plane authorizes and audits, so the server adds no rules of its own.
//!
//! - [`routes`]: `/api/v1/...` handlers, one per ControlPlane method ([`routes_artifacts`]:
//!   artifacts, streamed both ways).
//! - [`error`]: `{ "error": { "code", "message", "details" } }` bodies with the right status.
//! - [`auth`]: bearer tokens → principals.
//! - `sse`: `/api/v1/events/stream`, the event feed (and `logs` marks for followers) as
//!   server-sent events, with keep-alive comments.
//! - [`tls`]: TLS 1.3 (rustls) for `--tls-cert`/`--tls-key`.
//! - [`conn`]: the accept loop: a cap on open connections, header-read and idle timeouts.
//! - [`limits`]: body size, request timeout, page size, rate limits (per token, per IP, logins,
//!   operations endpoints).
//! - [`hashing`]: at most one password hash per core at a time (503 with `Retry-After` over it).
//! - [`headers`]: `Cache-Control: no-store` on every response; HSTS under TLS.
//! - [`json`]: request bodies as JSON Schema reads them (`3.0` is an integer).
//! - [`metrics`]: `/metrics` (Prometheus text) and `/readyz`.
//! - [`log`]: one `tracing` line per request.
//! - [`openapi`]: `/api/v1/openapi.json`, generated from the same handlers the router serves.

pub mod auth;
pub mod conn;
pub mod error;
pub mod hashing;
pub mod headers;
pub mod json;
pub mod limits;
pub mod log;
pub mod metrics;
pub mod openapi;
mod routes;
pub mod routes_artifacts;
mod routes_secrets;
mod routes_triggers;
mod sse;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_headers;
#[cfg(test)]
mod tests_limits;
#[cfg(test)]
mod tests_metrics;
#[cfg(test)]
mod tests_openapi;
#[cfg(test)]
mod tests_sse;
#[cfg(test)]
mod tests_tls;
#[cfg(test)]
mod tests_tokens;
pub mod tls;

use std::sync::Arc;

use crate::Result;
use crate::control::Plane;

pub use auth::Authenticator;
pub use conn::ConnLimits;
pub use limits::Limits;
pub use routes::{AUDIT_PAGE, MAX_WAIT};

/// What the server needs: the plane it serves and how to authenticate callers.
#[derive(Clone)]
pub struct AppState {
    pub plane: Plane,
    pub auth: Arc<dyn Authenticator>,
}

/// The API router with the default [`Limits`] (also used in-process by tests).
pub fn router(state: AppState) -> axum::Router {
    router_with(state, Limits::default())
}

/// The API router with its limits and error bodies.
pub fn router_with(state: AppState, limits: Limits) -> axum::Router {
    app(state, limits, None)
}

/// [`router_with`], its document stating `max_token_ttl` as the longest token lifetime a
/// request may ask for.
fn app(
    state: AppState,
    limits: Limits,
    max_token_ttl: Option<std::time::Duration>,
) -> axum::Router {
    let rates = Arc::new(limits::RateLimits::new(limits));
    let tracked = Arc::new(metrics::Metrics::new());
    let plane = state.plane.clone();
    let (api, doc) = routes::api()
        .with_state(state)
        .merge(metrics::routes(tracked.clone(), plane))
        .split_for_parts();
    let mut doc = openapi::finish(doc);
    if let Some(ttl) = max_token_ttl {
        openapi::longest_token(&mut doc, ttl);
    }
    let doc = openapi::Document::render(&doc);
    let hashing = Arc::new(hashing::HashGate::for_this_machine());
    api.layer(axum::Extension(doc))
        .layer(axum::extract::DefaultBodyLimit::max(limits::MAX_BODY))
        .layer(axum::middleware::from_fn_with_state(hashing, hashing::gate))
        .layer(axum::middleware::from_fn(limits::timeout))
        .layer(axum::middleware::from_fn(error::json_errors))
        .layer(axum::middleware::from_fn_with_state(
            rates,
            limits::rate_limit,
        ))
        .layer(axum::middleware::from_fn_with_state(
            tracked,
            metrics::track,
        ))
        .layer(axum::middleware::from_fn(headers::no_store))
        .layer(axum::middleware::from_fn(log::requests))
}

/// How to serve, beyond the router: TLS or plain HTTP, and the limits.
#[derive(Clone, Default)]
pub struct ServeOptions {
    /// TLS 1.3 with this configuration (see [`tls::load_config`]); `None` serves plain HTTP.
    pub tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
    /// Rate limits.
    pub limits: Limits,
    /// Open connections and how long a client may keep one waiting.
    pub connections: ConnLimits,
    /// End each event stream after this long (clients resume with `Last-Event-ID`); `None`:
    /// streams last until the client or the server goes.
    pub stream_lifetime: Option<std::time::Duration>,
    /// The longest a long poll holds a request (at most, and by default,
    /// [`MAX_WAIT`](routes::MAX_WAIT)).
    pub long_poll: Option<std::time::Duration>,
    /// The longest token lifetime the plane grants, for the document to state.
    pub max_token_ttl: Option<std::time::Duration>,
}

/// Serve `state` over plain HTTP on `listener` until `shutdown` resolves, then finish in-flight
/// requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    serve_with(listener, state, ServeOptions::default(), shutdown).await
}

/// Serve `state` on `listener` as `options` say until `shutdown` resolves, then finish
/// in-flight requests.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    state: AppState,
    options: ServeOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    // Open event streams end when shutdown begins; other requests are finished gracefully.
    let (closing_tx, closing_rx) = tokio::sync::watch::channel(false);
    let mut app =
        app(state, options.limits, options.max_token_ttl).layer(axum::Extension(sse::Closing {
            shutdown: closing_rx,
            lifetime: options.stream_lifetime,
        }));
    if options.tls.is_some() {
        app = app.layer(axum::middleware::from_fn(headers::hsts));
    }
    if let Some(cap) = options.long_poll {
        app = app.layer(axum::Extension(limits::LongPoll(cap)));
    }
    let shutdown = async move {
        shutdown.await;
        let _ = closing_tx.send(true);
    };
    conn::serve(listener, options.tls, app, options.connections, shutdown).await;
    Ok(())
}
