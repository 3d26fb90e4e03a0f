//! Every response says `Cache-Control: no-store` — above all those carrying a token (a login, a
//! new token's secret) — and plain HTTP sends no `Strict-Transport-Security` (the TLS tests
//! check that HTTPS does).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::json;

use super::tests::OneToken;
use super::{AppState, Limits, ServeOptions};
use crate::auth::{Principal, Role, Secret};
use crate::control::{ControlPlane, LocalControlPlane, LocalOptions};
use crate::model::NewUser;

#[tokio::test]
async fn every_response_says_no_store_and_plain_http_sends_no_hsts() {
    let dir = tempfile::tempdir().unwrap();
    let local =
        LocalControlPlane::open(&dir.path().join("imx.db"), LocalOptions::default()).unwrap();
    local
        .create_user(
            &Principal::local_owner(),
            NewUser {
                name: "carol".into(),
                role: Role::Viewer,
                password: Some(Secret::new("carol's password")),
            },
        )
        .await
        .unwrap();
    let state = AppState {
        plane: Arc::new(local),
        auth: Arc::new(OneToken),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let options = ServeOptions {
        limits: Limits {
            per_ip: 1,
            ..Limits::default()
        },
        ..ServeOptions::default()
    };
    tokio::spawn(super::serve_with(listener, state, options, async move {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::new();

    let login = http
        .post(format!("{url}/api/v1/login"))
        .json(&json!({ "user": "carol", "password": "carol's password" }))
        .send()
        .await
        .unwrap();
    let token = http
        .post(format!("{url}/api/v1/tokens"))
        .bearer_auth("imx_test")
        .json(&json!({ "role": "viewer" }))
        .send()
        .await
        .unwrap();
    let mut responses = vec![("login", login), ("token create", token)];
    for (what, path, bearer) in [
        ("a read", "/api/v1/status", Some("imx_test")),
        ("an unknown route", "/api/v1/nothing-here", Some("imx_test")),
        ("a missing token", "/api/v1/runs", None),
        ("health", "/healthz", None),
        ("metrics", "/metrics", None),
        ("the document", "/api/v1/openapi.json", None),
    ] {
        let mut req = http.get(format!("{url}{path}"));
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        responses.push((what, req.send().await.unwrap()));
    }
    // Over the anonymous rate: the 429 too.
    let mut limited = None;
    for _ in 0..10 {
        let resp = http.get(format!("{url}/api/v1/runs")).send().await.unwrap();
        if resp.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(resp);
            break;
        }
    }
    responses.push(("a 429", limited.expect("the anonymous limit")));

    assert_eq!(responses[0].1.status(), StatusCode::CREATED, "login");
    assert_eq!(responses[1].1.status(), StatusCode::CREATED, "token create");
    for (what, resp) in &responses {
        assert_eq!(
            resp.headers()
                .get("cache-control")
                .map(|v| v.to_str().unwrap()),
            Some("no-store"),
            "{what}: {:?}",
            resp.headers()
        );
        assert!(
            !resp.headers().contains_key("strict-transport-security"),
            "{what}: HSTS over plain HTTP"
        );
    }
}
