//! Issue 12's triggers through the real binary: webhook triggers called over HTTP with
//! Standard Webhooks signatures (good, bad, stale, replayed), and run-after triggers declared in
//! a workflow file (`on:`) or made by command, starting their runs once with the upstream run's
//! outputs as params — locally, through a server, and through a server on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use imx::auth::Secret;
use imx::auth::webhook::{ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign};
use serde_json::{Value, json};

use crate::env::{Mode, TestEnv, wait_until};
use crate::http::{Api, Reply};

/// The store key every server in these tests is given (a database needs one named).
const STORE_KEY: &str = "8f1d3c5e7a9b0d2f4a6c8e0b1d3f5a7c9e1b3d5f7a9c0e2b4d6f8a0c2e4b6d8f";

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

const DEPLOY: &str = "name: deploy
params:
  version: { type: string, required: true }
  env: { type: string, default: staging }
steps:
  - id: go
    run: echo deploying {{ params.version }} to {{ params.env }}
";

fn keyed(env: TestEnv) -> TestEnv {
    env.with_var("IMX_STORE_KEY", STORE_KEY)
}

fn now_secs() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

/// A signed call to `/api/v1/hooks/NAME` with `id`, at `ts`, signed with `secret`.
fn call(api: &Api, name: &str, id: &str, ts: i64, secret: &str, body: &Value) -> Reply {
    let bytes = serde_json::to_vec(body).unwrap();
    let sig = sign(&Secret::new(secret), id, ts, &bytes);
    let headers = [
        (ID_HEADER, id.to_string()),
        (TIMESTAMP_HEADER, ts.to_string()),
        (SIGNATURE_HEADER, sig),
    ];
    rt().block_on(api.post_signed(&format!("/api/v1/hooks/{name}"), &headers, &bytes))
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The runs of `workflow`, newest first.
fn runs_of(env: &TestEnv, workflow: &str) -> Vec<Value> {
    env.json(["run", "list", "--workflow", workflow])
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// A webhook trigger starts one run per signed call, with params from the body; a replayed id,
/// a bad signature, a stale timestamp and a missing header start nothing and are audited.
/// (Servers only: a local store receives no calls; `trigger_commands` covers it.)
fn webhook_calls_start_runs_once(env: TestEnv) {
    let env = keyed(env);
    env.apply("deploy.yaml", DEPLOY);
    env.run_stdin(
        &[
            "trigger",
            "create",
            "release",
            "--workflow",
            "deploy",
            "--param-map",
            "version=release.tag_name",
            "--secret-stdin",
        ],
        &format!("{SECRET}\n"),
    )
    .expect_code(0);
    let api = Api::new(env.url());
    let body = json!({ "release": { "tag_name": "v1.2.3" }, "env": "prod" });
    let now = now_secs();

    let ok = call(&api, "release", "msg_1", now, SECRET, &body);
    assert_eq!(ok.status, 202, "{ok:?}");
    let run_id = ok.json["run_id"].as_str().unwrap().to_string();
    let run = env.show_run(&run_id);
    assert_eq!(run["params"]["version"], "v1.2.3", "{run}");
    assert_eq!(run["params"]["env"], "prod", "{run}");
    assert_eq!(run["created_by"], "trigger:release", "{run}");

    // The same id again: refused, and no second run.
    let again = call(&api, "release", "msg_1", now, SECRET, &body);
    again.expect_error(409, "conflict", &["msg_1", &run_id]);
    // A wrong secret, a stale and a future timestamp, a missing signature: 401.
    let wrong = call(&api, "release", "msg_2", now, "whsec_b3RoZXI=", &body);
    wrong.expect_error(401, "unauthenticated", &["signature"]);
    let stale = call(&api, "release", "msg_3", now - 400, SECRET, &body);
    stale.expect_error(401, "unauthenticated", &["timestamp"]);
    let future = call(&api, "release", "msg_4", now + 400, SECRET, &body);
    future.expect_error(401, "unauthenticated", &["timestamp"]);
    let bytes = serde_json::to_vec(&body).unwrap();
    let unsigned = rt().block_on(api.post_signed(
        "/api/v1/hooks/release",
        &[
            (ID_HEADER, "msg_5".into()),
            (TIMESTAMP_HEADER, now.to_string()),
        ],
        &bytes,
    ));
    unsigned.expect_error(401, "unauthenticated", &["webhook-signature"]);
    // An unknown trigger: 404.
    call(&api, "nope", "msg_6", now, SECRET, &body).expect_error(404, "not_found", &["nope"]);
    // A body whose params do not fit the workflow: 400, no run.
    let bad = call(
        &api,
        "release",
        "msg_7",
        now,
        SECRET,
        &json!({ "env": "prod" }),
    );
    assert_eq!(bad.status, 400, "{bad:?}");

    assert_eq!(runs_of(&env, "deploy").len(), 1, "one call, one run");
    let shown = env.json(["trigger", "show", "release"]);
    assert_eq!(shown["fired"], 1, "{shown}");

    // Each refusal is on record with why; the secret is nowhere in the audit trail.
    let audit = env.run(["audit", "list", "-o", "json"]);
    audit.expect_code(0);
    assert!(!audit.stdout.contains("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
    let records: Vec<Value> = serde_json::from_str(&audit.stdout).unwrap();
    let hooks: Vec<&Value> = records
        .iter()
        .filter(|r| r["action"] == "trigger.webhook")
        .collect();
    let reasons: Vec<String> = hooks
        .iter()
        .filter(|r| r["outcome"] == "denied")
        .map(|r| {
            r["details"]["reason"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    for want in [
        "replayed",
        "no v1 signature",
        "away from the server's clock",
        "missing header",
    ] {
        assert!(
            reasons.iter().any(|r| r.contains(want)),
            "no denial saying {want:?}: {reasons:?}"
        );
    }
    assert!(
        hooks
            .iter()
            .any(|r| r["outcome"] == "ok" && r["details"]["run"] == run_id)
    );
}

/// `trigger create|list|show|rotate|delete`: the secret is printed once and never again, and
/// is not in the store in the clear.
fn trigger_commands(env: TestEnv) {
    let env = keyed(env);
    env.apply("deploy.yaml", DEPLOY);
    let made = env.run(["trigger", "create", "release", "--workflow", "deploy"]);
    made.expect_code(0);
    let secret = made.stdout.trim().to_string();
    assert!(secret.starts_with("whsec_"), "{made:?}");
    assert!(made.stderr.contains("/api/v1/hooks/release"), "{made:?}");
    assert!(made.stderr.contains("only time"), "{made:?}");

    let list = env.run(["trigger", "list", "-o", "json"]);
    list.expect_code(0);
    assert!(!list.stdout.contains(&secret));
    let listed: Vec<Value> = serde_json::from_str(&list.stdout).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["kind"], "webhook");
    assert_eq!(listed[0]["param_map"], json!({}));
    let show = env.run(["trigger", "show", "release"]);
    show.expect_code(0);
    assert!(show.stdout.contains("/api/v1/hooks/release") && !show.stdout.contains(&secret));

    // Rotating prints a new secret once.
    let rotated = env.run(["trigger", "rotate", "release"]);
    rotated.expect_code(0);
    let new = rotated.stdout.trim().to_string();
    assert!(new.starts_with("whsec_") && new != secret, "{rotated:?}");

    // Bad input: a param the workflow lacks, an unknown workflow, a taken name, a bad name.
    env.run([
        "trigger",
        "create",
        "x",
        "--workflow",
        "deploy",
        "--param-map",
        "verison=a",
    ])
    .expect_error(2)
    .expect_stderr(&["verison", "version"]);
    env.run(["trigger", "create", "y", "--workflow", "nope"])
        .expect_error(3);
    env.run(["trigger", "create", "release", "--workflow", "deploy"])
        .expect_error(5);
    env.run(["trigger", "create", "Bad Name", "--workflow", "deploy"])
        .expect_error(2);
    env.run([
        "trigger",
        "create",
        "z",
        "--workflow",
        "deploy",
        "--param-map",
        "noequals",
    ])
    .expect_code(2);

    env.run(["trigger", "delete", "release"]).expect_code(0);
    env.run(["trigger", "show", "release"]).expect_code(3);
    if env.mode() == Mode::Local {
        // The secrets are sealed: neither is in the store file in the clear.
        let bytes = std::fs::read(env.store()).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(&secret) && !text.contains(&new));
    }
}

const BUILD: &str = "name: build
steps:
  - id: compile
    run: |
      echo \"version=v9.$IMX_ATTEMPT\" >> \"$IMX_OUTPUT\"
";

const BUILD_FAILS: &str = "name: build
params:
  fail: { type: bool, default: false }
steps:
  - id: compile
    run: |
      echo \"version=v7\" >> \"$IMX_OUTPUT\"
      test {{ params.fail }} = false
";

/// `on:` in a workflow file: a build that succeeds starts one deploy, with the build's output
/// as its `version`; re-applying the file without `on:` removes the trigger.
fn run_after_declared_in_the_file(env: TestEnv) {
    let env = keyed(env);
    env.apply("build.yaml", BUILD);
    env.apply(
        "deploy.yaml",
        &format!("{DEPLOY}on:\n  - workflow: build\n    status: succeeded\n"),
    );
    let listed = env.json(["trigger", "list"]);
    assert_eq!(listed[0]["name"], "deploy-after-build", "{listed}");
    assert_eq!(listed[0]["managed_by"], "deploy", "{listed}");
    // A trigger the file declares is the file's to remove.
    env.run(["trigger", "delete", "deploy-after-build"])
        .expect_code(5);

    let _agent = env.agent("a1", 2);
    let build = env.start("build", &[]);
    assert_eq!(env.finish(&build)["status"], "succeeded");
    let mut deploys = Vec::new();
    wait_until(
        "the deploy the build's end starts",
        Duration::from_secs(60),
        || {
            deploys = runs_of(&env, "deploy");
            !deploys.is_empty()
        },
    );
    let deploy = deploys[0]["id"].as_str().unwrap().to_string();
    let done = env.finish(&deploy);
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["params"]["version"], "v9.1", "{done}");
    assert_eq!(done["created_by"], "trigger:deploy-after-build");
    // Exactly one, however often maintenance runs.
    let shown = env.json(["trigger", "show", "deploy-after-build"]);
    assert_eq!(shown["fired"], 1, "{shown}");
    assert_eq!(runs_of(&env, "deploy").len(), 1);

    env.apply("deploy.yaml", DEPLOY);
    assert_eq!(env.json(["trigger", "list"]), json!([]));
}

/// A run-after trigger made by command fires only on the states it names; a firing whose
/// params do not fit records why on the trigger and starts nothing.
fn run_after_by_command_fires_on_its_states(env: TestEnv) {
    let env = keyed(env);
    env.apply("build.yaml", BUILD_FAILS);
    env.apply("deploy.yaml", DEPLOY);
    env.apply(
        "page.yaml",
        "name: page\nparams:\n  version: { type: string }\nsteps:\n  - id: p\n    run: echo paging {{ params.version }}\n",
    );
    env.run([
        "trigger",
        "create",
        "page-on-failure",
        "--workflow",
        "page",
        "--after",
        "build",
        "--status",
        "failed,timed_out",
    ])
    .expect_code(0);
    env.run([
        "trigger",
        "create",
        "deploy-on-success",
        "--workflow",
        "deploy",
        "--after",
        "build",
        "--param-map",
        "version=steps.compile.outputs.version",
    ])
    .expect_code(0);

    let _agent = env.agent("a1", 2);
    let failed = env.start("build", &["fail=true"]);
    assert_eq!(env.finish(&failed)["status"], "failed");
    let mut pages = Vec::new();
    wait_until(
        "the page the failure starts",
        Duration::from_secs(60),
        || {
            pages = runs_of(&env, "page");
            !pages.is_empty()
        },
    );
    let page = env.finish(pages[0]["id"].as_str().unwrap());
    assert_eq!(page["params"]["version"], "v7", "{page}");

    let ok = env.start("build", &[]);
    assert_eq!(env.finish(&ok)["status"], "succeeded");
    let mut deploys = Vec::new();
    wait_until(
        "the deploy the success starts",
        Duration::from_secs(60),
        || {
            deploys = runs_of(&env, "deploy");
            !deploys.is_empty()
        },
    );
    assert_eq!(deploys[0]["params"]["version"], "v7");
    // One of each: the failure started no deploy, the success no page.
    assert_eq!(runs_of(&env, "page").len(), 1);
    assert_eq!(runs_of(&env, "deploy").len(), 1);
}

#[test]
fn webhook_calls_through_a_server_start_runs_once() {
    webhook_calls_start_runs_once(TestEnv::remote());
}

#[test]
fn webhook_calls_through_a_server_on_postgres_start_runs_once() {
    if let Some(env) = TestEnv::on_postgres() {
        webhook_calls_start_runs_once(env);
    }
}

crate::both_modes!(
    trigger_commands,
    run_after_declared_in_the_file,
    run_after_by_command_fires_on_its_states,
);
