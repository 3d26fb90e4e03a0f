//! `/metrics` (Prometheus text) and `/readyz`. Requests are counted by route template and status
//! and timed per route; claims get their own latency histogram (a claim is a long poll, so it
//! measures how long an agent waited for work); runs, steps and agents by state are read from
//! [`ControlPlane::status`](crate::control::ControlPlane::status) at each scrape. Neither
//! endpoint needs a token, as scrapers and load balancers have none; they expose counts only.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiError;
use crate::auth::Principal;
use crate::control::Plane;
use crate::model::{AgentState, RunStatus};

type Labels = Vec<(&'static str, String)>;
type Timings = Family<Labels, Histogram, fn() -> Histogram>;

/// The route template of the claim long poll.
const CLAIM_ROUTE: &str = "/api/v1/agents/{id}/claim";

/// 0.1 ms to about 26 s.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.000_1, 2.0, 19))
}

/// The server's metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<Labels, Counter>,
    latency: Timings,
    claims: Histogram,
    runs: Family<Labels, Gauge>,
    steps: Family<Labels, Gauge>,
    agents: Family<Labels, Gauge>,
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("imx");
        let requests = Family::<Labels, Counter>::default();
        let latency = Timings::new_with_constructor(latency_histogram);
        let claims = latency_histogram();
        let runs = Family::<Labels, Gauge>::default();
        let steps = Family::<Labels, Gauge>::default();
        let agents = Family::<Labels, Gauge>::default();
        registry.register(
            "http_requests",
            "API requests by method, route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "API request latency by method and route",
            latency.clone(),
        );
        registry.register(
            "claim_duration_seconds",
            "How long agents' claim long polls took to answer",
            claims.clone(),
        );
        registry.register("runs", "Runs by state", runs.clone());
        registry.register("steps", "Steps waiting or running, by state", steps.clone());
        registry.register("agents", "Agents by state", agents.clone());
        Metrics {
            registry,
            requests,
            latency,
            claims,
            runs,
            steps,
            agents,
        }
    }

    fn observe(&self, method: &str, route: &str, status: StatusCode, seconds: f64) {
        let labels = vec![("method", method.to_string()), ("route", route.to_string())];
        self.latency.get_or_create(&labels).observe(seconds);
        let mut labels = labels;
        labels.push(("status", status.as_u16().to_string()));
        self.requests.get_or_create(&labels).inc();
        if route == CLAIM_ROUTE {
            self.claims.observe(seconds);
        }
    }

    /// Refresh the state gauges from the plane and render everything.
    async fn render(&self, plane: &Plane) -> Result<String, ApiError> {
        let status = plane.status(&Principal::local_owner()).await?;
        let state = |s: &str| vec![("state", s.to_string())];
        for s in RunStatus::ALL {
            let n = status.runs.get(&s).copied().unwrap_or(0);
            self.runs.get_or_create(&state(s.as_str())).set(gauge(n));
        }
        for s in AgentState::ALL {
            let n = status.agents.get(&s).copied().unwrap_or(0);
            self.agents.get_or_create(&state(s.as_str())).set(gauge(n));
        }
        self.steps
            .get_or_create(&state("ready"))
            .set(gauge(status.steps_ready));
        self.steps
            .get_or_create(&state("running"))
            .set(gauge(status.steps_running));
        let mut text = String::new();
        encode(&mut text, &self.registry)
            .map_err(|e| crate::Error::Internal(format!("encoding metrics: {e}")))?;
        Ok(text)
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

fn gauge(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Middleware: count and time every request by its route template (never its concrete path,
/// which holds ids).
pub async fn track(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let resp = next.run(req).await;
    metrics.observe(
        method.as_str(),
        &route,
        resp.status(),
        started.elapsed().as_secs_f64(),
    );
    resp
}

/// `/metrics` and `/readyz`, with their OpenAPI operations (see `openapi`).
pub fn api() -> OpenApiRouter<(Arc<Metrics>, Plane)> {
    OpenApiRouter::default()
        .routes(routes!(scrape))
        .routes(routes!(ready))
}

/// [`api`] serving `metrics` and `plane`.
pub fn routes(metrics: Arc<Metrics>, plane: Plane) -> OpenApiRouter {
    api().with_state((metrics, plane))
}

#[utoipa::path(get, path = "/metrics", tag = "operations", security(()),
    responses((status = 200, description = "Prometheus/OpenMetrics text", content_type = "application/openmetrics-text", body = String)))]

async fn scrape(State((metrics, plane)): State<(Arc<Metrics>, Plane)>) -> Response {
    match metrics.render(&plane).await {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

/// Ready when the store answers a cheap read.
#[utoipa::path(get, path = "/readyz", tag = "operations", security(()),
    responses((status = 200, description = "The store answers", content_type = "text/plain", body = String)))]
async fn ready(State((_, plane)): State<(Arc<Metrics>, Plane)>) -> Result<&'static str, ApiError> {
    plane.status(&Principal::local_owner()).await?;
    Ok("ready")
}
