//! One log line per request through `tracing` (target `imx::server::log`): method, route
//! template, status, latency and the principal's name once authenticated — never the token.
//! Where the lines go (stderr or daily files, text or JSON) is the binary's choice.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

/// Filled in by the [`Caller`](super::auth::Caller) extractor with the principal's name.
#[derive(Clone, Default)]
pub struct Who(pub Arc<OnceLock<String>>);

/// Middleware: log the request when its response is ready.
pub async fn requests(mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let who = Who::default();
    req.extensions_mut().insert(who.clone());
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let resp = next.run(req).await;
    tracing::info!(
        method = %method,
        route = %route,
        status = resp.status().as_u16(),
        latency_ms = started.elapsed().as_secs_f64() * 1000.0,
        principal = who.0.get().map_or("-", String::as_str),
        "request"
    );
    resp
}
