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

#[test]
fn the_format_follows_accept() {
    use super::metrics::Exposition as E;
    use super::metrics::Exposition::{Classic, OpenMetrics};
    for (accept, want) in [
        (None, OpenMetrics),
        (Some("*/*"), OpenMetrics),
        (Some("text/plain"), Classic),
        (Some("text/plain; version=0.0.4"), Classic),
        (Some("text/*;q=0.8, */*;q=0.1"), Classic),
        (
            Some("application/openmetrics-text; version=1.0.0"),
            OpenMetrics,
        ),
        // What Prometheus sends: OpenMetrics first.
        (
            Some(
                "application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2",
            ),
            OpenMetrics,
        ),
        (
            Some("application/openmetrics-text;q=0.2, text/plain;q=0.9"),
            Classic,
        ),
        (Some("text/plain;q=0"), OpenMetrics),
        (Some("application/json"), OpenMetrics),
    ] {
        assert_eq!(E::negotiate(accept), want, "{accept:?}");
    }
}

#[tokio::test]
async fn the_classic_format_is_served_when_asked_and_passes_promtool() {
    let s = serve(Limits::default()).await;
    let http = reqwest::Client::new();
    // Something in every family with labels.
    http.get(format!("{}/api/v1/status", s.url))
        .bearer_auth("imx_test")
        .send()
        .await
        .unwrap();
    let resp = http
        .get(format!("{}/metrics", s.url))
        .header("accept", "text/plain; version=0.0.4")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = resp.text().await.unwrap();
    assert!(!text.contains("# EOF"), "{text}");
    assert!(
        text.contains("# TYPE imx_http_requests_total counter"),
        "{text}"
    );
    // Every family has HELP and TYPE, named as its samples are.
    let types: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .collect();
    assert!(types.len() >= 6, "{text}");
    for family in &types {
        assert!(
            text.contains(&format!("# HELP {family} ")),
            "{family} has no HELP:\n{text}"
        );
        assert!(
            text.lines()
                .any(|l| !l.starts_with('#') && l.starts_with(family)),
            "{family} has no samples:\n{text}"
        );
    }
    // OpenMetrics stays the default.
    let open = http.get(format!("{}/metrics", s.url)).send().await.unwrap();
    assert!(
        open.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    assert!(open.text().await.unwrap().ends_with("# EOF\n"));

    // promtool, when installed (`.ci/run` installs it), has the last word.
    use std::io::Write;
    let Ok(mut child) = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
    else {
        eprintln!("promtool is not installed: skipped `promtool check metrics`");
        return;
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
