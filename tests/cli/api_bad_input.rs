//! Bad input to a real `imx server`, over raw HTTP: malformed JSON, a wrong or missing content
//! type, oversized bodies, unknown fields (bodies and query strings), wrong types, invalid
//! workflows, invalid ids, SQL metacharacters in filters and absurd page sizes. Each gets the
//! right status and the JSON error body with a clear message, and the store is exactly as it
//! was (a dump of every table, see [`snapshot`]). Page sizes are clamped, never refused
//! (documented in openapi.json). And the CLI's side of a bad remote credential: an expired or
//! revoked token exits 4 and says to `imx login` (an unreachable server and an untrusted
//! certificate are covered in contexts.rs and server_ops.rs).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use serde_json::json;

use crate::env::{TestEnv, snapshot, wait_until};
use crate::http::{Api, Body};
use crate::server::{remote, serve};

const DEPLOY: &str = "name: deploy\nparams:\n  version: {type: string, required: true}\nsteps:\n  - id: build\n    noop: true\n  - id: test\n    needs: [build]\n    noop: true\n";

/// A store with an admin, the `deploy` workflow and `runs` runs of it, served; the admin token.
fn seeded(runs: usize) -> (TestEnv, crate::env::Background, String, String) {
    let env = TestEnv::new().with_var("IMX_KEYRING", "off");
    let init = env.run(["init", "--admin", "root"]);
    init.expect_code(0);
    let token = init.stdout.trim().to_string();
    env.apply("deploy.yaml", DEPLOY);
    for _ in 0..runs {
        env.start("deploy", &["version=1"]);
    }
    let (server, url) = serve(&env, &[]);
    (env, server, url, token)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_a_clear_json_error_and_change_nothing() {
    let (env, _server, url, token) = seeded(3);
    let api = Api::new(&url);
    let t = Some(token.as_str());
    // Touch the token (its last use is recorded at most once a minute) before the snapshot.
    assert_eq!(api.get("/api/v1/status", t).await.status, 200);
    let runs_before = env.json(["run", "list"]);
    let before = snapshot(&env.store());

    let json_body = |ct: Option<&'static str>, body: &str| Body::Raw(ct, body.as_bytes().to_vec());
    let ct = Some("application/json");

    // Malformed JSON.
    for body in ["{\"workflow\": ", "not json", "", "[1, 2]"] {
        api.send("POST", "/api/v1/runs", t, json_body(ct, body))
            .await
            .expect_error(400, "invalid", &[]);
    }
    api.send("POST", "/api/v1/runs", t, json_body(ct, "{\"workflow\": "))
        .await
        .expect_error(400, "invalid", &["JSON"]);

    // A wrong or missing content type.
    let body = r#"{"workflow": "deploy", "params": {"version": "2"}}"#;
    for ctype in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        api.send("POST", "/api/v1/runs", t, json_body(ctype, body))
            .await
            .expect_error(415, "invalid", &["application/json"]);
    }

    // Oversized bodies: refused, whatever the endpoint (a fresh connection each: the server
    // closes one whose body it did not read).
    let big = format!(
        r#"{{"workflow": "deploy", "params": {{"version": "{}"}}}}"#,
        "x".repeat(4 * 1024 * 1024)
    );
    for path in ["/api/v1/runs", "/api/v1/workflows", "/api/v1/login"] {
        Api::new(&url)
            .send("POST", path, t, json_body(ct, &big))
            .await
            .expect_error(413, "invalid", &["4 MiB"]);
    }

    // Unknown fields, in bodies (top level and nested) and query strings.
    for (path, body, field) in [
        (
            "/api/v1/runs",
            json!({ "workflow": "deploy", "params": { "version": "2" }, "priority": 9 }),
            "priority",
        ),
        (
            "/api/v1/workflows",
            json!({ "name": "w", "steps": [{ "id": "a", "kind": "noop", "retries": 3 }] }),
            "retries",
        ),
        (
            "/api/v1/users",
            json!({ "name": "eve", "role": "admin", "is_superuser": true }),
            "is_superuser",
        ),
        (
            "/api/v1/tokens",
            json!({ "role": "viewer", "expires": "never" }),
            "expires",
        ),
        (
            "/api/v1/audit/records",
            json!({ "limit": 1, "newest": true, "where": "1=1" }),
            "where",
        ),
    ] {
        api.post(path, t, &body).await.expect_error(
            400,
            "invalid",
            &[&format!("unknown field `{field}`")],
        );
    }
    api.get("/api/v1/runs?limt=5", t)
        .await
        .expect_error(400, "invalid", &["unknown field `limt`"]);

    // Wrong types and missing fields.
    for (path, body) in [
        ("/api/v1/runs", json!({ "workflow": 5, "params": {} })),
        ("/api/v1/runs", json!({ "params": {} })),
        ("/api/v1/users", json!({ "name": "eve", "role": "root" })),
        ("/api/v1/agents/x/claim", json!({ "max": -1 })),
    ] {
        api.post(path, t, &body)
            .await
            .expect_error(400, "invalid", &[]);
    }

    // A workflow the file parser would refuse is refused over the API too.
    for (spec, part) in [
        (
            json!({ "name": "loop", "steps": [
                { "id": "a", "kind": "noop", "needs": ["b"] },
                { "id": "b", "kind": "noop", "needs": ["a"] }] }),
            "cycle: ",
        ),
        (
            json!({ "name": "dup", "steps": [{ "id": "a", "kind": "noop" }, { "id": "a", "kind": "noop" }] }),
            "duplicate step id \"a\"",
        ),
        (
            json!({ "name": "w", "steps": [{ "id": "a", "kind": "noop", "needs": ["nope"] }] }),
            "needs unknown step \"nope\"",
        ),
        (json!({ "name": "w", "steps": [] }), "at least one step"),
        (
            json!({ "name": "../etc", "steps": [{ "id": "a", "kind": "noop" }] }),
            "workflow name",
        ),
        // A version keeps the file it was applied from: the file must be the spec's own.
        (
            json!({ "name": "w", "steps": [{ "id": "a", "kind": "noop" }],
                    "source": "name: w\nsteps:\n  - id: b\n    noop: true\n" }),
            "its source does not parse to the spec sent with it",
        ),
        (
            json!({ "name": "w", "steps": [{ "id": "a", "kind": "noop" }],
                    "source": "name: [" }),
            "its source is not a valid workflow file",
        ),
    ] {
        api.post("/api/v1/workflows", t, &spec)
            .await
            .expect_error(400, "invalid", &[part]);
    }

    // Invalid and unknown ids.
    api.get("/api/v1/runs/no%2Fsuch-id", t).await.expect_error(
        400,
        "invalid",
        &["is not a run id"],
    );
    api.post("/api/v1/runs/no%2Fsuch-id/cancel", t, &json!({}))
        .await
        .expect_error(400, "invalid", &["is not a run id"]);
    api.get("/api/v1/runs/01ZZZZZZZZ", t)
        .await
        .expect_error(404, "not_found", &["not found"]);
    api.get("/api/v1/audit/records/not-a-number", t)
        .await
        .expect_error(400, "invalid", &[]);
    api.get("/api/v1/backups/..%2F..%2Fetc%2Fpasswd", t)
        .await
        .expect_error(400, "invalid", &["is not a backup id"]);
    api.get("/api/v1/workflows/no-such-workflow", t)
        .await
        .expect_error(404, "not_found", &["not found"]);
    api.send("DELETE", "/api/v1/tokens/%00", t, Body::None)
        .await
        .expect_error(404, "not_found", &[]);

    // SQL metacharacters in filters are data, never SQL: they match nothing and break nothing.
    let nasty = "x' OR '1'='1'; DROP TABLE runs; --";
    let q: String = url_encode(nasty);
    let r = api.get(&format!("/api/v1/runs?workflow={q}"), t).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["items"], json!([]), "{r:?}");
    let r = api.get(&format!("/api/v1/runs/{q}/logs"), t).await;
    assert!([400, 404].contains(&r.status), "{r:?}");
    api.get(&format!("/api/v1/workflows/{q}"), t)
        .await
        .expect_error(404, "not_found", &[]);
    for (path, body) in [
        (
            "/api/v1/dashboard/runs",
            json!({ "text": nasty, "sort": "newest", "limit": 50 }),
        ),
        (
            "/api/v1/dashboard/runs",
            json!({ "text": "%", "sort": "newest", "limit": 50 }),
        ),
        (
            "/api/v1/dashboard/agents",
            json!({ "text": "%_%", "limit": 50 }),
        ),
        (
            "/api/v1/audit/tail",
            json!({ "filter": { "text": nasty }, "limit": 50 }),
        ),
        (
            "/api/v1/audit/records",
            json!({ "actor": nasty, "limit": 50, "newest": true }),
        ),
    ] {
        let r = api.post(path, t, &body).await;
        assert_eq!(r.status, 200, "{path} {body}: {r:?}");
        let items = r.json.get("items").unwrap_or(&r.json);
        assert_eq!(items, &json!([]), "{path} {body}: {r:?}");
    }

    // Absurd page sizes are clamped (not refused); sizes that are not a u32 are refused.
    let r = api.get("/api/v1/runs?limit=4294967295", t).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["items"].as_array().unwrap().len(), 3);
    let r = api.get("/api/v1/runs?limit=0", t).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        r.json["items"].as_array().unwrap().len(),
        1,
        "0 reads one: {r:?}"
    );
    assert!(r.json["next_cursor"].is_string(), "{r:?}");
    for path in [
        "/api/v1/events?limit=4294967295",
        "/api/v1/events?limit=0",
        "/api/v1/events?limit=10&wait_ms=18446744073709551615",
    ] {
        let r = api.get(path, t).await;
        assert_eq!(r.status, 200, "{path}: {r:?}");
        assert!(!r.json.as_array().unwrap().is_empty(), "{path}: {r:?}");
    }
    let r = api
        .post(
            "/api/v1/audit/records",
            t,
            &json!({ "limit": 4_294_967_295u64, "newest": false }),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    let r = api
        .post(
            "/api/v1/dashboard/runs",
            t,
            &json!({ "sort": "oldest", "limit": 4_294_967_295u64 }),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["items"].as_array().unwrap().len(), 3);
    for path in [
        "/api/v1/runs?limit=-1",
        "/api/v1/runs?limit=4294967296",
        "/api/v1/runs?limit=lots",
        "/api/v1/events?limit=1e9",
        "/api/v1/runs?status=exploded",
    ] {
        api.get(path, t).await.expect_error(400, "invalid", &[]);
    }

    // Nothing of that changed anything.
    assert_eq!(
        before,
        snapshot(&env.store()),
        "a bad request changed the store"
    );
    assert_eq!(runs_before, env.json(["run", "list"]));
    env.run(["audit", "verify"]).expect_code(0);
}

/// Percent-encode everything but letters and digits.
fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[test]
fn an_expired_or_revoked_token_exits_4_and_says_to_log_in() {
    let env = TestEnv::new().with_var("IMX_KEYRING", "off");
    env.run(["init", "--admin", "root"]).expect_code(0);
    let create = |extra: &[&str]| {
        let mut args = vec!["token", "create", "--user", "root", "-q"];
        args.extend_from_slice(extra);
        let out = env.run(&args);
        out.expect_code(0);
        out.stdout.trim().to_string()
    };
    let expired = create(&["--name", "short", "--expires", "1ms"]);
    let revoked = create(&["--name", "gone"]);
    env.run(["token", "revoke", "gone"]).expect_code(0);
    wait_until("the token to expire", Duration::from_secs(10), || {
        env.json(["token", "list"])
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "short" && t["state"] == "expired")
    });
    let (_server, url) = serve(&env, &[]);
    for (token, why) in [(&expired, "expired"), (&revoked, "revoked")] {
        for args in [&["run", "list"][..], &["whoami"]] {
            let out = remote(&env, &url, token, args);
            out.expect_error(4)
                .expect_stderr(&[why, "hint: log in with `imx login`"]);
        }
    }
}
