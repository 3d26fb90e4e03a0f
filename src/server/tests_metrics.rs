//! `/metrics` counts requests by route template and status, times them, and reports runs,
//! steps and agents by state; `/readyz` answers when the store does.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::Limits;
use super::tests_limits::serve;

#[tokio::test]
async fn metrics_and_readiness_are_served_without_a_token() {
    let s = serve(Limits::default()).await;
    let http = reqwest::Client::new();
    let get = |path: &str| http.get(format!("{}{path}", s.url));

    let ready = get("/readyz").send().await.unwrap();
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.text().await.unwrap(), "ready");
    get("/api/v1/status")
        .bearer_auth("imx_test")
        .send()
        .await
        .unwrap();
    get("/api/v1/runs/01ABC")
        .bearer_auth("imx_test")
        .send()
        .await
        .unwrap();
    get("/api/v1/status").send().await.unwrap();

    let resp = get("/metrics").send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    for line in [
        "imx_http_requests_total{method=\"GET\",route=\"/api/v1/status\",status=\"200\"} 1",
        "imx_http_requests_total{method=\"GET\",route=\"/api/v1/status\",status=\"403\"} 1",
        "imx_http_requests_total{method=\"GET\",route=\"/api/v1/runs/{id}\",status=\"404\"} 1",
        "imx_http_requests_total{method=\"GET\",route=\"/readyz\",status=\"200\"} 1",
        "imx_runs{state=\"queued\"} 0",
        "imx_steps{state=\"ready\"} 0",
        "imx_agents{state=\"online\"} 0",
        "# TYPE imx_claim_duration_seconds histogram",
    ] {
        assert!(text.contains(line), "{line} missing from:\n{text}");
    }
    assert!(
        text.contains("imx_http_request_duration_seconds_bucket{le=\"0.0001\",method=\"GET\",route=\"/api/v1/status\"}")
            || text.contains("imx_http_request_duration_seconds_count{method=\"GET\",route=\"/api/v1/status\"} 2"),
        "{text}"
    );
}
