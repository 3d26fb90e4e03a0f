//! Agent tokens are bound to their agents (issue 9), over HTTP through a real `imx server` with
//! two agent tokens: while agent A runs a step, B's token tries every lease call against A and
//! A's lease — claim, heartbeat, check, deregister, start, logs, and a completion with forged
//! outputs (alone, and with a claim for A). Each is refused with 403, the step's state, outputs and log do not change, A keeps
//! running it, and the audit trail holds each denial.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use serde_json::json;

use crate::agent_takeover::{Files, start_agent};
use crate::env::TestEnv;
use crate::http::Api;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_agent_token_cannot_act_for_an_agent_or_its_leases() {
    let env = TestEnv::remote().with_var("IMX_LEASE", "60s");
    let files = Files::new(&env);
    env.apply("blocking.yaml", &files.workflow(1));
    let _a = start_agent(&env, "wa");
    let run = env.start("blocking", &[]);
    files.wait_started(1);
    let agent_id = env.json(["agent", "show", "wa"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let b = env.run([
        "token", "create", "--role", "agent", "--name", "agent-b", "-q",
    ]);
    b.expect_code(0);
    let b = b.stdout.trim().to_string();
    let before = TestEnv::step(&env.show_run(&run), "work").clone();
    assert_eq!(before["status"], "running", "{before:#}");
    let logs_before = env.run(["run", "logs", &run]).stdout;

    let lease = json!({ "run_id": run, "step_id": "work", "attempt": 1, "agent_id": agent_id });
    let forged = json!({
        "outcome": "succeeded", "exit_code": 0, "error": null,
        "outputs": { "who": "$(touch pwned)" }
    });
    let api = Api::new(env.url());
    let calls = [
        (
            format!("/api/v1/agents/{agent_id}/claim"),
            json!({ "max": 1, "wait_ms": 0 }),
        ),
        (
            format!("/api/v1/agents/{agent_id}/heartbeat"),
            json!({ "leases": [lease] }),
        ),
        (
            format!("/api/v1/agents/{agent_id}/check"),
            json!({ "leases": [lease] }),
        ),
        (format!("/api/v1/agents/{agent_id}/deregister"), json!(null)),
        ("/api/v1/leases/start".to_string(), lease.clone()),
        (
            "/api/v1/leases/logs".to_string(),
            json!({ "lease": lease, "lines": [["stdout", "forged line"]] }),
        ),
        (
            "/api/v1/leases/complete".to_string(),
            json!({ "results": [[lease, forged]] }),
        ),
        // The same, with a claim for A riding with it.
        (
            "/api/v1/leases/complete".to_string(),
            json!({ "results": [[lease, forged]], "claim": { "agent_id": agent_id, "max": 1 } }),
        ),
    ];
    for (path, body) in &calls {
        let reply = if body.is_null() {
            api.send("POST", path, Some(&b), crate::http::Body::None)
                .await
        } else {
            api.post(path, Some(&b), body).await
        };
        reply.expect_error(403, "forbidden", &["permission denied", "token:agent-b"]);
    }

    // Nothing changed: the step is A's, running, without outputs; the log has no forged line.
    let after = TestEnv::step(&env.show_run(&run), "work").clone();
    assert_eq!(after, before);
    assert_eq!(env.run(["run", "logs", &run]).stdout, logs_before);
    let agent = env.json(["agent", "show", "wa"]);
    assert_eq!(
        (agent["id"].as_str(), agent["running"].as_i64()),
        (Some(agent_id.as_str()), Some(1))
    );
    assert_ne!(agent["state"], "offline");

    // Every attempt is on the audit trail as denied.
    let denied = env.json([
        "audit",
        "list",
        "--actor",
        "token:agent-b",
        "--outcome",
        "denied",
    ]);
    let actions: BTreeSet<&str> = denied
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        BTreeSet::from([
            "step.claim",
            "agent.heartbeat",
            "agent.check_leases",
            "agent.deregister",
            "step.start",
            "step.logs",
            "step.complete",
        ]),
        "{denied:#}"
    );

    // A finishes its step with its own outputs.
    std::fs::write(&files.release, "").unwrap();
    let done = env.finish(&run);
    assert_eq!(done["status"], "succeeded", "{done:#}");
    assert_eq!(TestEnv::step(&done, "work")["outputs"]["who"], "attempt-1");
    assert!(!env.home().join("pwned").exists());
}

/// `agent show` (and its JSON) says which principal registered the agent — the one whose
/// token alone may act for it: the agent token through a server, the store's owner locally.
fn agent_show_names_the_principal_that_registered_it(env: TestEnv) {
    let _agent = start_agent(&env, "bound");
    let shown = env.json(["agent", "show", "bound"]);
    let expected = match env.mode() {
        crate::env::Mode::Remote => "token:agents".to_string(),
        crate::env::Mode::Local => env.json(["whoami"])["name"].as_str().unwrap().to_string(),
    };
    assert_eq!(shown["registered_by"], expected.as_str(), "{shown:#}");
    let listed = env.json(["agent", "list"]);
    assert_eq!(listed[0]["registered_by"], expected.as_str(), "{listed:#}");
    let table = env.run(["agent", "show", "bound"]);
    table.expect_code(0);
    assert!(
        table
            .stdout
            .lines()
            .any(|l| l.contains("Registered by") && l.contains(&expected)),
        "{}",
        table.stdout
    );
}

crate::both_modes!(agent_show_names_the_principal_that_registered_it);
