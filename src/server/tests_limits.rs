//! Limits and error bodies over real HTTP: oversized bodies (413), malformed JSON, unknown
//! fields and wrong types (400), a wrong content type (415), unknown routes (404), absurd page
//! sizes (clamped), and rate limits (429 with Retry-After) — every one with the JSON body.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use reqwest::StatusCode;

use super::tests::OneToken;
use super::{AppState, Limits, ServeOptions};
use crate::control::{LocalControlPlane, LocalOptions};

pub(super) struct Served {
    _dir: tempfile::TempDir,
    pub(super) url: String,
    _stop: tokio::sync::oneshot::Sender<()>,
}

pub(super) async fn serve(limits: Limits) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let local =
        LocalControlPlane::open(&dir.path().join("imx.db"), LocalOptions::default()).unwrap();
    let state = AppState {
        plane: Arc::new(local),
        auth: Arc::new(OneToken),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let options = ServeOptions {
        limits,
        ..ServeOptions::default()
    };
    tokio::spawn(super::serve_with(listener, state, options, async move {
        let _ = stopped.await;
    }));
    Served {
        _dir: dir,
        url,
        _stop: stop,
    }
}

/// The status and the `error.code` of a response, checking the body has our shape.
async fn error_of(resp: reqwest::Response) -> (StatusCode, String, String) {
    let status = resp.status();
    let body: serde_json::Value = resp.json().await.expect("a JSON error body");
    let code = body["error"]["code"]
        .as_str()
        .expect("error.code")
        .to_string();
    let message = body["error"]["message"]
        .as_str()
        .expect("error.message")
        .to_string();
    (status, code, message)
}

#[tokio::test]
async fn bad_requests_get_the_json_error_body() {
    let s = serve(Limits::default()).await;
    let http = reqwest::Client::new();
    let post = |path: &str| {
        http.post(format!("{}{path}", s.url))
            .bearer_auth("imx_test")
    };

    let big = vec![b'x'; super::limits::MAX_BODY + 1];
    let resp = post("/api/v1/agents/a1/claim")
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    let (status, code, message) = error_of(resp).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "invalid")
    );
    assert!(message.contains("4 MiB"), "{message}");

    let resp = post("/api/v1/agents/a1/claim")
        .header("content-type", "application/json")
        .body("{\"max\": ")
        .send()
        .await
        .unwrap();
    let (status, code, _) = error_of(resp).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::BAD_REQUEST, "invalid")
    );

    for body in ["{\"max\": 1, \"evil\": true}", "{\"max\": \"one\"}"] {
        let resp = post("/api/v1/agents/a1/claim")
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let (status, code, message) = error_of(resp).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::BAD_REQUEST, "invalid"),
            "{body}"
        );
        assert!(!message.is_empty());
    }

    let resp = post("/api/v1/agents/a1/claim")
        .header("content-type", "text/plain")
        .body("{\"max\": 1}")
        .send()
        .await
        .unwrap();
    let (status, code, _) = error_of(resp).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "invalid")
    );

    let resp = http
        .get(format!("{}/api/v1/nothing-here", s.url))
        .send()
        .await
        .unwrap();
    let (status, code, _) = error_of(resp).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::NOT_FOUND, "not_found")
    );

    let resp = http
        .get(format!("{}/api/v1/events?limit=4000000000", s.url))
        .bearer_auth("imx_test")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = http
        .get(format!("{}/api/v1/events?limit=-1", s.url))
        .bearer_auth("imx_test")
        .send()
        .await
        .unwrap();
    let (status, code, _) = error_of(resp).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::BAD_REQUEST, "invalid")
    );
}

/// A client whose requests come from `from` (any 127.0.0.0/8 address).
fn client_from(from: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(from.parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap()
}

#[tokio::test]
async fn callers_over_their_rate_get_429_with_retry_after() {
    let s = serve(Limits {
        per_token: 2,
        per_ip: 1,
        ..Limits::default()
    })
    .await;
    let http = client_from("127.0.0.1");

    // A bucket holds twice the rate: 2 for an address, 4 for a token, which has a bucket of its
    // own once it authenticated (its first request is its address's).
    let mut statuses = Vec::new();
    for _ in 0..7 {
        let resp = http
            .get(format!("{}/api/v1/status", s.url))
            .bearer_auth("imx_test")
            .send()
            .await
            .unwrap();
        statuses.push(resp.status());
        if resp.status() == StatusCode::TOO_MANY_REQUESTS {
            let retry: u64 = resp.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=2).contains(&retry), "{retry}");
            let (_, code, message) = error_of(resp).await;
            assert_eq!(code, "unavailable");
            assert!(message.contains("this token"), "{message}");
        }
    }
    assert_eq!(statuses[..5], [StatusCode::OK; 5]);
    assert_eq!(statuses[5..], [StatusCode::TOO_MANY_REQUESTS; 2]);

    // The scheme's case does not make a new bucket.
    let lower = http
        .get(format!("{}/api/v1/status", s.url))
        .header("authorization", "bearer imx_test")
        .send()
        .await
        .unwrap();
    assert_eq!(lower.status(), StatusCode::TOO_MANY_REQUESTS);

    let anonymous_from = client_from("127.0.0.3");
    let mut anonymous = Vec::new();
    for _ in 0..3 {
        let resp = anonymous_from
            .get(format!("{}/api/v1/openapi.json", s.url))
            .send()
            .await
            .unwrap();
        anonymous.push(resp.status());
    }
    assert_eq!(
        anonymous,
        [
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
}

#[tokio::test]
async fn made_up_tokens_share_their_address_bucket_while_valid_tokens_keep_theirs() {
    let s = serve(Limits {
        per_ip: 5, // a burst of ten
        ..Limits::default()
    })
    .await;
    let http = client_from("127.0.0.1");
    let status = |token: String| {
        let req = http
            .get(format!("{}/api/v1/status", s.url))
            .bearer_auth(token);
        async move { req.send().await.unwrap().status() }
    };
    assert_eq!(status("imx_test".into()).await, StatusCode::OK);
    // A new made-up token per request: no fresh bucket each time.
    let mut refused = 0;
    let mut messages = Vec::new();
    for i in 0..60 {
        let resp = http
            .get(format!("{}/api/v1/status", s.url))
            .bearer_auth(format!("imx_made_up_{i}"))
            .send()
            .await
            .unwrap();
        if resp.status() == StatusCode::TOO_MANY_REQUESTS {
            refused += 1;
            messages.push(error_of(resp).await.2);
        }
    }
    assert!(refused >= 30, "only {refused} of 60 made-up tokens refused");
    assert!(messages[0].contains("this address"), "{messages:?}");
    // The token that authenticated keeps its own bucket; another address is not affected.
    for _ in 0..20 {
        assert_eq!(status("imx_test".into()).await, StatusCode::OK);
    }
    let elsewhere = client_from("127.0.0.4")
        .get(format!("{}/api/v1/status", s.url))
        .bearer_auth("imx_made_up_elsewhere")
        .send()
        .await
        .unwrap();
    assert_ne!(elsewhere.status(), StatusCode::TOO_MANY_REQUESTS);
}

/// A bad login from `from` (any 127.0.0.0/8 address), with a bearer token if given: the status.
async fn login_from(url: &str, from: &str, token: Option<&str>) -> StatusCode {
    let http = reqwest::Client::builder()
        .local_address(from.parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap();
    let mut req = http
        .post(format!("{url}/api/v1/login"))
        .json(&serde_json::json!({ "user": "nobody", "password": "not a password" }));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    if status == StatusCode::TOO_MANY_REQUESTS {
        assert!(resp.headers().contains_key("retry-after"));
        let (_, code, message) = error_of(resp).await;
        assert_eq!(code, "unavailable");
        assert!(message.contains("login attempts"), "{message}");
    }
    status
}

#[tokio::test]
async fn health_and_metrics_answer_while_logins_and_anonymous_calls_are_throttled() {
    let s = serve(Limits {
        per_ip: 1,
        login_per_ip: 6, // a burst of one
        ops_per_ip: 2,   // a burst of four
        ..Limits::default()
    })
    .await;
    let http = reqwest::Client::new();
    let get = |path: &str| http.get(format!("{}{path}", s.url)).send();

    // Logins from this address: one, then refused, whatever token the request carries.
    assert_eq!(
        login_from(&s.url, "127.0.0.1", None).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login_from(&s.url, "127.0.0.1", None).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        login_from(&s.url, "127.0.0.1", Some("imx_fresh_bucket")).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Other anonymous calls from this address: two, then refused.
    let mut anonymous = Vec::new();
    for _ in 0..3 {
        anonymous.push(get("/api/v1/status").await.unwrap().status());
    }
    assert_eq!(anonymous[2], StatusCode::TOO_MANY_REQUESTS, "{anonymous:?}");

    // A monitor on the same address still gets its answers...
    for path in ["/healthz", "/readyz", "/metrics"] {
        assert_eq!(get(path).await.unwrap().status(), StatusCode::OK, "{path}");
    }
    // ...within a limit of its own.
    let mut over = None;
    for _ in 0..200 {
        let resp = get("/healthz").await.unwrap();
        if resp.status() == StatusCode::TOO_MANY_REQUESTS {
            over = Some(resp);
            break;
        }
    }
    let (_, _, message) = error_of(over.expect("the operations bucket has a limit")).await;
    assert!(message.contains("this address"), "{message}");
}

#[tokio::test]
async fn logins_are_limited_per_address_and_for_the_whole_server() {
    // Buckets of one per address and two in all, refilled every 10 s and 5 s.
    let s = serve(Limits {
        login_per_ip: 6,
        login_global: 12,
        ..Limits::default()
    })
    .await;
    let mut statuses = Vec::new();
    for from in ["127.0.0.1", "127.0.0.1", "127.0.0.2", "127.0.0.3"] {
        statuses.push(login_from(&s.url, from, None).await);
    }
    use StatusCode as S;
    // One from the first address, its second refused; one from another address, and then the
    // server's bucket is empty for everyone.
    assert_eq!(
        statuses,
        [
            S::UNAUTHORIZED,
            S::TOO_MANY_REQUESTS,
            S::UNAUTHORIZED,
            S::TOO_MANY_REQUESTS
        ]
    );
}

#[test]
fn backup_create_and_verify_get_the_long_time_limit_and_nothing_else_does() {
    use super::limits::{BACKUP_TIMEOUT, REQUEST_TIMEOUT, time_limit};
    use axum::http::Method;
    for (method, path, limit) in [
        (Method::POST, "/api/v1/backups", BACKUP_TIMEOUT),
        (
            Method::POST,
            "/api/v1/backups/01J5Z3/verify",
            BACKUP_TIMEOUT,
        ),
        (Method::GET, "/api/v1/backups", REQUEST_TIMEOUT),
        (Method::GET, "/api/v1/backups/01J5Z3", REQUEST_TIMEOUT),
        (Method::GET, "/api/v1/backups/01J5Z3/file", REQUEST_TIMEOUT),
        (Method::POST, "/api/v1/backups//verify", REQUEST_TIMEOUT),
        (Method::POST, "/api/v1/backups/a/b/verify", REQUEST_TIMEOUT),
        (Method::POST, "/api/v1/runs", REQUEST_TIMEOUT),
        (Method::POST, "/api/v1/agents/x/claim", REQUEST_TIMEOUT),
    ] {
        assert_eq!(time_limit(&method, path), limit, "{method} {path}");
    }
    assert!(BACKUP_TIMEOUT > REQUEST_TIMEOUT);
}

#[tokio::test]
async fn a_request_past_its_time_limit_gets_408_with_the_json_body() {
    use axum::response::IntoResponse;
    let limit = std::time::Duration::from_millis(100);
    let slow = async {
        tokio::time::sleep(std::time::Duration::from_secs(30)).await;
        "done".into_response()
    };
    let resp = super::limits::within(limit, slow).await;
    assert_eq!(resp.status(), axum::http::StatusCode::REQUEST_TIMEOUT);
    let body = axum::body::to_bytes(resp.into_body(), 4096).await.unwrap();
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["error"]["code"], "unavailable", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("took longer than"),
        "{body}"
    );
    let quick = super::limits::within(limit, async { "done".into_response() }).await;
    assert_eq!(quick.status(), axum::http::StatusCode::OK);
}
