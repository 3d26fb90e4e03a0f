//! `/metrics` and `/readyz`. Metrics are served as OpenMetrics text, or as the classic
//! Prometheus text format (0.0.4) to a scraper whose `Accept` prefers `text/plain` (see
//! [`Exposition`]); every family has a HELP line. Requests are counted by route template and status
//! and timed per route; claims get their own latency histogram (a claim is a long poll, so it
//! measures how long an agent waited for work); runs, steps and agents by state are read from
//! [`ControlPlane::status`](crate::control::ControlPlane::status) at each scrape, and whether
//! this replica leads maintenance (`imx_maintenance_leader`) from
//! [`ControlPlane::maintenance_leader`](crate::control::ControlPlane::maintenance_leader). Neither
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
    leader: Gauge,
    schedule_ticks: Family<Labels, Gauge>,
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
        let leader = Gauge::default();
        let schedule_ticks = Family::<Labels, Gauge>::default();
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
        registry.register(
            "maintenance_leader",
            "1 while this server does its store's periodic maintenance (reaping, run timeouts): \
             always on SQLite; on PostgreSQL only on the replica holding the maintenance lease",
            leader.clone(),
        );
        registry.register(
            "schedule_ticks",
            "Ticks of each schedule by what became of them (fired: a run was made or buffered; \
             missed; skipped: a run was going; dropped: buffer_one held one), counted in the store \
             since the schedule was created, so every replica reports the same",
            schedule_ticks.clone(),
        );
        Metrics {
            registry,
            schedule_ticks,
            requests,
            latency,
            claims,
            runs,
            steps,
            agents,
            leader,
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
        self.leader
            .set(i64::from(plane.maintenance_leader().unwrap_or(true)));
        self.schedule_ticks.clear();
        for s in plane.list_schedules(&Principal::local_owner()).await? {
            for (outcome, n) in [
                ("fired", s.fired),
                ("missed", s.missed),
                ("skipped", s.skipped),
                ("dropped", s.dropped),
            ] {
                let labels = vec![
                    ("schedule", s.name.clone()),
                    ("outcome", outcome.to_string()),
                ];
                self.schedule_ticks.get_or_create(&labels).set(gauge(n));
            }
        }
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
    responses((status = 200, description = "The metrics: the classic Prometheus text format 0.0.4 when `Accept` prefers `text/plain` to `application/openmetrics-text`, OpenMetrics 1.0 otherwise",
        content((String = "application/openmetrics-text"), (String = "text/plain")))))]
async fn scrape(
    State((metrics, plane)): State<(Arc<Metrics>, Plane)>,
    headers: axum::http::HeaderMap,
) -> Response {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let format = Exposition::negotiate(accept);
    match metrics.render(&plane).await {
        Ok(text) => (
            [(header::CONTENT_TYPE, format.content_type())],
            format.encode(text),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

/// The text formats `/metrics` speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exposition {
    /// OpenMetrics 1.0 text (the default, and what Prometheus asks for first).
    OpenMetrics,
    /// The classic Prometheus text format 0.0.4 (`promtool check metrics`, older scrapers).
    Classic,
}

impl Exposition {
    /// The format an `Accept` header prefers: classic when `text/plain` (or `text/*`) has a
    /// higher quality than `application/openmetrics-text`, OpenMetrics otherwise (also with no
    /// header, `*/*`, or neither named).
    pub fn negotiate(accept: Option<&str>) -> Exposition {
        let (mut open, mut text) = (None::<f32>, None::<f32>);
        for range in accept.unwrap_or_default().split(',') {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let slot = match media.as_str() {
                "application/openmetrics-text" => &mut open,
                "text/plain" | "text/*" => &mut text,
                _ => continue,
            };
            *slot = Some(slot.map_or(q, |best| best.max(q)));
        }
        match (open, text) {
            (Some(o), Some(t)) if t > o => Exposition::Classic,
            (None, Some(t)) if t > 0.0 => Exposition::Classic,
            _ => Exposition::OpenMetrics,
        }
    }

    /// The response's `Content-Type`.
    pub fn content_type(self) -> &'static str {
        match self {
            Exposition::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
            Exposition::Classic => "text/plain; version=0.0.4; charset=utf-8",
        }
    }

    /// `openmetrics` (the registry's encoding) in this format.
    pub fn encode(self, openmetrics: String) -> String {
        match self {
            Exposition::OpenMetrics => openmetrics,
            Exposition::Classic => classic(&openmetrics),
        }
    }
}

/// The classic text format of what the registry encoded as OpenMetrics. For the metric types
/// used here they differ in three ways: a counter family is named with its `_total` suffix (its
/// samples already are), there is no `# EOF`, and there are no `# UNIT` lines.
fn classic(openmetrics: &str) -> String {
    let counters: std::collections::HashSet<&str> = openmetrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|rest| rest.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(openmetrics.len() + 16 * counters.len());
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let meta = ["# HELP ", "# TYPE "]
            .into_iter()
            .find_map(|p| line.strip_prefix(p).map(|rest| (p, rest)));
        match meta {
            Some((prefix, rest)) => {
                let (name, tail) = rest.split_once(' ').unwrap_or((rest, ""));
                out.push_str(prefix);
                out.push_str(name);
                if counters.contains(name) {
                    out.push_str("_total");
                }
                out.push(' ');
                out.push_str(tail);
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// Ready when the store answers a cheap read.
#[utoipa::path(get, path = "/readyz", tag = "operations", security(()),
    responses((status = 200, description = "The store answers", content_type = "text/plain", body = String)))]
async fn ready(State((_, plane)): State<(Arc<Metrics>, Plane)>) -> Result<&'static str, ApiError> {
    plane.status(&Principal::local_owner()).await?;
    Ok("ready")
}
