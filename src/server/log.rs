//! One log line per request through `tracing` (target `imx::server::log`): method, route
//! template, status, latency (`latency_us`, whole microseconds) and the principal's name once
//! authenticated — never the token. The dashboard's polls (`/api/v1/dashboard/...`, several a
//! second per open dashboard) are logged at DEBUG, everything else at INFO.
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
    let latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    let principal = who.0.get().map_or("-", String::as_str);
    let status = resp.status().as_u16();
    if is_poll(&route) {
        tracing::debug!(method = %method, route = %route, status, latency_us, principal, "request");
    } else {
        tracing::info!(method = %method, route = %route, status, latency_us, principal, "request");
    }
    resp
}

/// Routes the dashboard polls: logged at DEBUG so they do not drown the rest.
fn is_poll(route: &str) -> bool {
    route.starts_with("/api/v1/dashboard/")
}

#[cfg(test)]
mod tests {
    #[test]
    fn dashboard_polls_are_the_debug_ones() {
        assert!(super::is_poll("/api/v1/dashboard/overview"));
        assert!(super::is_poll("/api/v1/dashboard/runs"));
        assert!(!super::is_poll("/api/v1/runs"));
        assert!(!super::is_poll("unmatched"));
    }
}
