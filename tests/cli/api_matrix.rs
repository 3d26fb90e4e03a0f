//! Every endpoint × every kind of caller, over HTTP through one real `imx server`: each role
//! (admin, operator, viewer, agent — user tokens — and a role-only agent token) gets 2xx or a
//! non-auth 4xx where DESIGN §6 allows it and 403 where it does not; no token, a revoked token
//! and an expired token get 401 on every endpoint that needs one. The endpoints come from the
//! server's own `/api/v1/openapi.json` (which is generated from the router): a route without a
//! row here, or a row for a route the server does not have, fails the test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value, json};

use crate::env::{TestEnv, wait_until};
use crate::http::{Api, Body, Reply};

/// The callers with a role, by column name.
const ADMIN: &str = "admin";
const OPERATOR: &str = "operator";
const VIEWER: &str = "viewer";
const AGENT: &str = "agent";
/// A token with the agent role of its own (not a user's): what agents run with.
const AGENT_TOKEN: &str = "agent-token";
const COLUMNS: [&str; 5] = [ADMIN, OPERATOR, VIEWER, AGENT, AGENT_TOKEN];

/// Who may call an endpoint (DESIGN §6, enforced in control::local).
#[derive(Clone, Copy)]
enum Who {
    /// No token needed.
    Public,
    /// These columns; the others get 403.
    Only(&'static [&'static str]),
    /// No token: the request's own signature is the credential (webhooks), so every caller
    /// without one gets 401.
    Signed,
}

/// Runs, logs, agents, workflows, audit: not agents (DESIGN §6: register, claim, report).
const READ: Who = Who::Only(&[ADMIN, OPERATOR, VIEWER]);
/// The change feed and the status summary: every role (agents wake up on it).
const WATCH: Who = Who::Only(&[ADMIN, OPERATOR, VIEWER, AGENT, AGENT_TOKEN]);
const MANAGE: Who = Who::Only(&[ADMIN, OPERATOR]); // workflows, runs, agents, backups (not download)
const WORK: Who = Who::Only(&[ADMIN, AGENT, AGENT_TOKEN]);
const USERS: Who = Who::Only(&[ADMIN]);
const ADMINISTER: Who = Who::Only(&[ADMIN]);
/// Any user (a user's own tokens); a role-only token has no user to act for.
const ANY_USER: Who = Who::Only(&[ADMIN, OPERATOR, VIEWER, AGENT]);
/// Anyone with a valid token.
const ANY: Who = Who::Only(&[ADMIN, OPERATOR, VIEWER, AGENT, AGENT_TOKEN]);

/// One endpoint: its method and path template (as the document names it), a concrete path,
/// a body that parses (so authorization, not body validation, decides), and who may call it.
struct Row {
    method: &'static str,
    template: &'static str,
    path: String,
    body: Option<Value>,
    who: Who,
    /// Consumes the caller's token (logout): each caller uses a throwaway token.
    consumes_token: bool,
}

fn row(method: &'static str, template: &'static str, who: Who) -> Row {
    Row {
        method,
        template,
        path: template.to_string(),
        body: None,
        who,
        consumes_token: false,
    }
}

impl Row {
    fn at(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }
    fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }
}

/// An id nothing has.
const NO_ID: &str = "01ZZZZZZZZZZZZZZZZZZZZZZZZ";

fn lease() -> Value {
    json!({ "run_id": NO_ID, "step_id": "s", "attempt": 1, "agent_id": NO_ID })
}

/// The matrix. Mutations an allowed caller may really make are harmless here (a dry-run apply,
/// made-up ids that are not found, a backup, a user named after the caller).
fn rows(run: &str) -> Vec<Row> {
    let spec = json!({ "name": "hello", "steps": [{ "id": "a", "kind": "noop" }] });
    vec![
        row("GET", "/api/v1/status", WATCH),
        row("GET", "/api/v1/workflows", READ),
        row("POST", "/api/v1/workflows", MANAGE)
            .at("/api/v1/workflows?dry_run=true")
            .body(spec),
        row("GET", "/api/v1/workflows/{name}", READ).at("/api/v1/workflows/hello"),
        row("DELETE", "/api/v1/workflows/{name}", MANAGE).at("/api/v1/workflows/no-such-wf"),
        row("GET", "/api/v1/runs", READ),
        row("POST", "/api/v1/runs", MANAGE).body(json!({ "workflow": "no-such-wf", "params": {} })),
        row("GET", "/api/v1/runs/{id}", READ).at(format!("/api/v1/runs/{run}")),
        row("POST", "/api/v1/runs/{id}/cancel", MANAGE).at(format!("/api/v1/runs/{NO_ID}/cancel")),
        row("POST", "/api/v1/runs/{id}/retry", MANAGE)
            .at(format!("/api/v1/runs/{NO_ID}/retry"))
            .body(json!({})),
        // Reading the run is the least an approver needs; the step's approvers decide the rest.
        row("POST", "/api/v1/runs/{id}/steps/{step}/approve", READ)
            .at(format!("/api/v1/runs/{NO_ID}/steps/s/approve"))
            .body(json!({ "comment": "ok" })),
        row("POST", "/api/v1/runs/{id}/steps/{step}/reject", READ)
            .at(format!("/api/v1/runs/{NO_ID}/steps/s/reject"))
            .body(json!({})),
        row("POST", "/api/v1/runs/{id}/rerun", MANAGE)
            .at(format!("/api/v1/runs/{NO_ID}/rerun"))
            .body(json!({ "params": {}, "labels": { "pr": "42" } })),
        row("POST", "/api/v1/runs/prune", ADMINISTER)
            .body(json!({ "older_than_ms": 86_400_000, "dry_run": true })),
        row("GET", "/api/v1/runs/{id}/logs", READ).at(format!("/api/v1/runs/{run}/logs")),
        row("GET", "/api/v1/runs/{id}/artifacts", READ).at(format!("/api/v1/runs/{run}/artifacts")),
        row("GET", "/api/v1/runs/{id}/artifacts/{what}", READ)
            .at(format!("/api/v1/runs/{run}/artifacts/no-such-file")),
        row("POST", "/api/v1/artifacts/prune", ADMINISTER)
            .body(json!({ "older_than_ms": 86_400_000, "dry_run": true })),
        row("PUT", "/api/v1/runs/{id}/steps/{step}/artifacts", WORK)
            .at(format!(
                "/api/v1/runs/{NO_ID}/steps/s/artifacts?attempt=1&agent={NO_ID}&path=a.txt"
            ))
            .body(json!("bytes")),
        row("GET", "/api/v1/runs/{id}/steps/{step}/inputs", WORK).at(format!(
            "/api/v1/runs/{NO_ID}/steps/s/inputs?attempt=1&agent={NO_ID}"
        )),
        row(
            "GET",
            "/api/v1/runs/{id}/steps/{step}/inputs/{artifact}",
            WORK,
        )
        .at(format!(
            "/api/v1/runs/{NO_ID}/steps/s/inputs/{NO_ID}?attempt=1&agent={NO_ID}"
        )),
        row("GET", "/api/v1/events", WATCH),
        row("GET", "/api/v1/events/stream", WATCH),
        row("GET", "/api/v1/agents", READ),
        row("POST", "/api/v1/agents", WORK).body(json!({
            "name": "matrix-agent", "labels": {}, "slots": 1,
            "hostname": "test", "pid": 1, "version": "0"
        })),
        row("GET", "/api/v1/agents/{name}", READ).at("/api/v1/agents/no-such-agent"),
        row("GET", "/api/v1/agents/{name}/steps", READ).at("/api/v1/agents/no-such-agent/steps"),
        row("DELETE", "/api/v1/agents/{name}", MANAGE).at("/api/v1/agents/no-such-agent"),
        row("POST", "/api/v1/agents/{name}/drain", MANAGE).at("/api/v1/agents/no-such-agent/drain"),
        row("POST", "/api/v1/agents/{name}/resume", MANAGE)
            .at("/api/v1/agents/no-such-agent/resume"),
        row("POST", "/api/v1/agents/{id}/claim", WORK)
            .at(format!("/api/v1/agents/{NO_ID}/claim"))
            .body(json!({ "max": 1, "wait_ms": 0 })),
        row("POST", "/api/v1/agents/{id}/heartbeat", WORK)
            .at(format!("/api/v1/agents/{NO_ID}/heartbeat"))
            .body(json!({ "leases": [] })),
        row("POST", "/api/v1/agents/{id}/check", WORK)
            .at(format!("/api/v1/agents/{NO_ID}/check"))
            .body(json!({ "leases": [] })),
        row("POST", "/api/v1/agents/{id}/deregister", WORK)
            .at(format!("/api/v1/agents/{NO_ID}/deregister")),
        row("POST", "/api/v1/leases/start", WORK).body(lease()),
        row("POST", "/api/v1/leases/logs", WORK)
            .body(json!({ "lease": lease(), "lines": [["stdout", "x"]] })),
        row("POST", "/api/v1/leases/complete", WORK).body(json!({ "results": [] })),
        row("GET", "/api/v1/users", USERS),
        row("POST", "/api/v1/users", USERS)
            .body(json!({ "name": "matrix-made", "role": "viewer" })),
        row("GET", "/api/v1/users/{name}", USERS).at("/api/v1/users/nobody-here"),
        row("PATCH", "/api/v1/users/{name}", USERS)
            .at("/api/v1/users/nobody-here")
            .body(json!({ "role": "viewer" })),
        row("DELETE", "/api/v1/users/{name}", USERS).at("/api/v1/users/nobody-here"),
        row("PUT", "/api/v1/users/{name}/password", USERS)
            .at("/api/v1/users/nobody-here/password")
            .body(json!({ "password": "a long enough password" })),
        row("POST", "/api/v1/users/{name}/unlock", USERS).at("/api/v1/users/nobody-here/unlock"),
        row("GET", "/api/v1/tokens", ANY_USER),
        row("POST", "/api/v1/tokens", USERS)
            .body(json!({ "role": "viewer", "expires_in_ms": 60_000 })),
        row("DELETE", "/api/v1/tokens/{id}", USERS).at("/api/v1/tokens/no-such-token"),
        row("POST", "/api/v1/login", Who::Public)
            .body(json!({ "user": "vera", "password": "vera's password" })),
        Row {
            consumes_token: true,
            ..row("POST", "/api/v1/logout", ANY)
        },
        row("GET", "/api/v1/whoami", ANY),
        row("GET", "/api/v1/dashboard/overview", READ),
        row("POST", "/api/v1/dashboard/runs", READ).body(json!({ "sort": "newest", "limit": 5 })),
        row("POST", "/api/v1/dashboard/agents", READ).body(json!({ "limit": 5 })),
        row("GET", "/api/v1/dashboard/workflows", READ),
        row("POST", "/api/v1/audit/tail", READ).body(json!({ "filter": {}, "limit": 5 })),
        row("GET", "/api/v1/backups", MANAGE),
        row("POST", "/api/v1/backups", MANAGE).body(json!({})),
        row("GET", "/api/v1/backups/{id}", MANAGE).at(format!("/api/v1/backups/{NO_ID}")),
        row("POST", "/api/v1/backups/{id}/verify", MANAGE)
            .at(format!("/api/v1/backups/{NO_ID}/verify"))
            .body(json!({})),
        // A backup holds every password hash: downloading one is for admins (issue 9).
        row("GET", "/api/v1/backups/{id}/file", ADMINISTER)
            .at(format!("/api/v1/backups/{NO_ID}/file")),
        row("GET", "/api/v1/settings/backup-location", READ),
        // Unsetting what was never set: harmless, and audited.
        row("PUT", "/api/v1/settings/backup-location", ADMINISTER).body(json!({ "dir": null })),
        row("POST", "/api/v1/audit/records", READ).body(json!({ "limit": 5, "newest": true })),
        row("GET", "/api/v1/audit/records/{seq}", READ).at("/api/v1/audit/records/1"),
        row("GET", "/api/v1/audit/verify", READ),
        row("POST", "/api/v1/audit/checkpoint", ADMINISTER),
        row("POST", "/api/v1/audit/checkpoint/repair", ADMINISTER),
        row("POST", "/api/v1/audit/report", READ).body(json!({})),
        row("GET", "/api/v1/schedules", READ),
        // An unknown workflow: not found for those allowed, nothing made.
        row("POST", "/api/v1/schedules", MANAGE)
            .body(json!({ "name": "matrix", "workflow": "no-such-wf", "every_ms": 60_000 })),
        row("GET", "/api/v1/schedules/{name}", READ).at("/api/v1/schedules/no-such-schedule"),
        row("DELETE", "/api/v1/schedules/{name}", MANAGE).at("/api/v1/schedules/no-such-schedule"),
        row("POST", "/api/v1/schedules/{name}/pause", MANAGE)
            .at("/api/v1/schedules/no-such-schedule/pause")
            .body(json!({})),
        row("POST", "/api/v1/schedules/{name}/resume", MANAGE)
            .at("/api/v1/schedules/no-such-schedule/resume"),
        row("POST", "/api/v1/schedules/{name}/trigger", MANAGE)
            .at("/api/v1/schedules/no-such-schedule/trigger"),
        row("POST", "/api/v1/schedules/{name}/backfill", MANAGE)
            .at("/api/v1/schedules/no-such-schedule/backfill")
            .body(json!({ "from": 0, "to": 1, "dry_run": true })),
        row("GET", "/api/v1/schedules/{name}/missed", READ)
            .at("/api/v1/schedules/no-such-schedule/missed?since=0"),
        row("GET", "/api/v1/triggers", READ),
        row("POST", "/api/v1/triggers", MANAGE)
            .body(json!({ "name": "matrix", "kind": "webhook", "workflow": "no-such-wf" })),
        row("GET", "/api/v1/triggers/{name}", READ).at("/api/v1/triggers/no-such-trigger"),
        row("DELETE", "/api/v1/triggers/{name}", MANAGE).at("/api/v1/triggers/no-such-trigger"),
        row("POST", "/api/v1/triggers/{name}/rotate", MANAGE)
            .at("/api/v1/triggers/no-such-trigger/rotate")
            .body(json!({})),
        row("POST", "/api/v1/hooks/{name}", Who::Signed)
            .at("/api/v1/hooks/no-such-trigger")
            .body(json!({})),
        row("GET", "/api/v1/secrets", READ),
        row("PUT", "/api/v1/secrets/{name}", ADMINISTER)
            .at("/api/v1/secrets/not-a-name")
            .body(json!({ "value": "matrix-value" })),
        row("DELETE", "/api/v1/secrets/{name}", ADMINISTER).at("/api/v1/secrets/NO_SUCH_SECRET"),
        row("POST", "/api/v1/store/rekey", ADMINISTER).body(json!({ "new_key": "not-a-key" })),
        row("GET", "/api/v1/notify/channels", READ),
        row("POST", "/api/v1/notify/channels", ADMINISTER)
            .body(json!({ "name": "matrix", "kind": "webhook", "target": "not a url" })),
        row("DELETE", "/api/v1/notify/channels/{name}", ADMINISTER)
            .at("/api/v1/notify/channels/no-such-channel"),
        row("POST", "/api/v1/notify/channels/{name}/test", MANAGE)
            .at("/api/v1/notify/channels/no-such-channel/test"),
        row("GET", "/api/v1/notify/rules", READ),
        row("POST", "/api/v1/notify/rules", MANAGE)
            .body(json!({ "on": "failed", "channel": "no-such-channel" })),
        row("DELETE", "/api/v1/notify/rules/{id}", MANAGE).at("/api/v1/notify/rules/no-such-rule"),
        row("GET", "/api/v1/notify/deliveries", READ),
        row("GET", "/api/v1/openapi.json", Who::Public),
        row("GET", "/healthz", Who::Public),
        row("GET", "/readyz", Who::Public),
        row("GET", "/metrics", Who::Public),
    ]
}

/// `imx ARGS` on the store; its trimmed stdout.
#[track_caller]
fn imx(env: &TestEnv, args: &[&str]) -> String {
    let out = env.run(args);
    out.expect_code(0);
    out.stdout.trim().to_string()
}

/// `imx ARGS` with `stdin` on the store.
#[track_caller]
fn imx_in(env: &TestEnv, args: &[&str], stdin: &str) {
    let out = env.cmd().args(args).write_stdin(stdin).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A fresh token for a column: its user's, or a role-only agent token.
fn token_for(env: &TestEnv, column: &str) -> String {
    let user = match column {
        ADMIN => "root",
        OPERATOR => "op",
        VIEWER => "vera",
        AGENT => "agt",
        _ => return imx(env, &["token", "create", "--role", "agent", "-q"]),
    };
    imx(env, &["token", "create", "--user", user, "-q"])
}

/// Panic unless an allowed caller got through: 2xx, or a 4xx that is not about who it is.
#[track_caller]
fn expect_allowed(what: &str, r: &Reply) {
    assert!(
        (200..300).contains(&r.status)
            || ((400..500).contains(&r.status) && ![401, 403].contains(&r.status)),
        "{what}: allowed, but got {}: {}",
        r.status,
        r.json
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_gets_exactly_what_its_permissions_allow_on_every_endpoint() {
    let env = TestEnv::new().with_var("IMX_KEYRING", "off");
    let admin = imx(&env, &["init", "--admin", "root"]);
    imx(&env, &["user", "create", "op", "--role", "operator"]);
    imx_in(
        &env,
        &[
            "user",
            "create",
            "vera",
            "--role",
            "viewer",
            "--password-stdin",
        ],
        "vera's password\n",
    );
    imx(&env, &["user", "create", "agt", "--role", "agent"]);
    env.apply(
        "hello.yaml",
        "name: hello\nsteps:\n  - id: a\n    noop: true\n",
    );
    let run = env.start("hello", &[]);
    let tokens: Vec<(&str, String)> = COLUMNS.iter().map(|c| (*c, token_for(&env, c))).collect();
    let revoked = imx(
        &env,
        &["token", "create", "--user", "root", "--name", "gone", "-q"],
    );
    imx(&env, &["token", "revoke", "gone"]);
    let expired = imx(
        &env,
        &[
            "token",
            "create",
            "--user",
            "root",
            "--name",
            "old",
            "--expires",
            "1ms",
            "-q",
        ],
    );
    wait_until("the token to expire", Duration::from_secs(10), || {
        env.json(["token", "list"])
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "old" && t["state"] == "expired")
    });
    // No per-address limit: many requests here carry no token.
    let (_server, url) = crate::server::serve(&env, &["--ip-rate-limit", "0"]);
    let api = Api::new(&url);

    // The endpoints are the server's own: every documented route has a row, and every row is a
    // documented route.
    let doc = api.get("/api/v1/openapi.json", None).await;
    assert_eq!(doc.status, 200, "{doc:?}");
    assert_eq!(doc.json["openapi"], "3.1.0");
    let mut documented = BTreeSet::new();
    for (path, item) in doc.json["paths"].as_object().unwrap() {
        for (method, _) in item.as_object().unwrap() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                documented.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    let rows = rows(&run);
    let listed: BTreeSet<String> = rows
        .iter()
        .map(|r| format!("{} {}", r.method, r.template))
        .collect();
    assert_eq!(listed.len(), rows.len(), "a route has two rows");
    let missing: Vec<_> = documented.difference(&listed).collect();
    assert!(
        missing.is_empty(),
        "routes without a row in the role matrix: {missing:?}"
    );
    let extra: Vec<_> = listed.difference(&documented).collect();
    assert!(
        extra.is_empty(),
        "rows for routes the server does not document: {extra:?}"
    );

    let mut checked = 0;
    for r in &rows {
        let body = || match &r.body {
            Some(v) => Body::Json(v),
            None => Body::None,
        };
        let what = |who: &str| format!("{} {} as {who}", r.method, r.path);
        for (column, token) in &tokens {
            let throwaway;
            let token = if r.consumes_token {
                throwaway = token_for(&env, column);
                &throwaway
            } else {
                token
            };
            let reply = api.send(r.method, &r.path, Some(token), body()).await;
            let allowed = match r.who {
                Who::Public => true,
                Who::Signed => {
                    assert_eq!(reply.status, 401, "{}: unsigned: {reply:?}", what(column));
                    checked += 1;
                    continue;
                }
                Who::Only(columns) => columns.contains(column),
            };
            if allowed {
                expect_allowed(&what(column), &reply);
            } else {
                assert_eq!(
                    reply.status,
                    403,
                    "{}: must be forbidden: {reply:?}",
                    what(column)
                );
                assert_eq!(reply.code(), "forbidden", "{}", what(column));
                assert!(reply.message().contains("permission denied"), "{reply:?}");
            }
            checked += 1;
        }
        for (who, token) in [
            ("no token", None),
            ("a revoked token", Some(revoked.as_str())),
            ("an expired token", Some(expired.as_str())),
        ] {
            let reply = api.send(r.method, &r.path, token, body()).await;
            match r.who {
                Who::Public => expect_allowed(&what(who), &reply),
                Who::Signed => assert_eq!(reply.status, 401, "{}: {reply:?}", what(who)),
                Who::Only(_) => {
                    reply.expect_error(401, "unauthenticated", &[]);
                    let hint = reply.json["error"]["details"]["hint"]
                        .as_str()
                        .unwrap_or_default();
                    assert!(hint.contains("imx login"), "{}: {reply:?}", what(who));
                }
            }
            checked += 1;
        }
    }
    assert_eq!(checked, rows.len() * (COLUMNS.len() + 3));

    // The 401s say why.
    let r = api.get("/api/v1/whoami", Some(&revoked)).await;
    r.expect_error(401, "unauthenticated", &["revoked"]);
    let r = api.get("/api/v1/whoami", Some(&expired)).await;
    r.expect_error(401, "unauthenticated", &["expired"]);

    // An agent's token cannot manage users or workflows, whatever it asks for.
    let agent = &tokens.iter().find(|(c, _)| *c == AGENT_TOKEN).unwrap().1;
    for (method, path, body) in [
        (
            "POST",
            "/api/v1/users",
            json!({ "name": "sneaky", "role": "admin" }),
        ),
        ("PATCH", "/api/v1/users/root", json!({ "disabled": true })),
        (
            "PUT",
            "/api/v1/users/root/password",
            json!({ "password": "taken over now" }),
        ),
        ("POST", "/api/v1/tokens", json!({ "user": "root" })),
        ("POST", "/api/v1/tokens", json!({ "role": "admin" })),
        (
            "POST",
            "/api/v1/workflows",
            json!({ "name": "evil", "steps": [{ "id": "a", "kind": "noop" }] }),
        ),
        (
            "POST",
            "/api/v1/runs",
            json!({ "workflow": "hello", "params": {} }),
        ),
        ("POST", &format!("/api/v1/runs/{run}/cancel"), json!({})),
    ] {
        let reply = api.send(method, path, Some(agent), Body::Json(&body)).await;
        reply.expect_error(403, "forbidden", &["permission denied"]);
    }
    for (method, path) in [
        ("DELETE", "/api/v1/users/root"),
        ("DELETE", "/api/v1/workflows/hello"),
        ("GET", "/api/v1/users"),
    ] {
        let reply = api.send(method, path, Some(agent), Body::None).await;
        reply.expect_error(403, "forbidden", &["permission denied"]);
    }
    // Nothing those attempts asked for happened.
    let users: Vec<String> = env
        .json(["user", "list"])
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap().to_string())
        .collect();
    assert!(!users.contains(&"sneaky".to_string()), "{users:?}");
    assert_eq!(env.json(["user", "show", "root"])["disabled"], false);
    env.json(["workflow", "show", "hello"]);
    assert_ne!(env.show_run(&run)["status"], "cancelled");
    let r = api.get("/api/v1/whoami", Some(&admin)).await;
    assert_eq!(r.json["name"], "user:root", "{r:?}");
}
