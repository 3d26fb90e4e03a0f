//! The audit trail in remote mode: mutations and auth events made through a real `imx server`
//! (login ok and failed, lockout, logout, token created and revoked, permission denied, user,
//! workflow, run and agent changes) are each recorded with the principal that made them and the
//! address they came from, and the chain still verifies. Commands on the store itself are
//! recorded as `local`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};

use crate::env::{SLOW, TestEnv, wait_until};
use crate::http::Api;
use crate::server::{remote, serve};

/// `imx ARGS` with `stdin`, through the server at `url` (the OS keyring off).
fn remote_in(env: &TestEnv, url: &str, token: Option<&str>, args: &[&str], stdin: &str) -> i32 {
    let mut cmd = env.cmd();
    cmd.env_remove("IMX_STORE").args(["--server", url]);
    if let Some(t) = token {
        cmd.env("IMX_TOKEN", t);
    }
    let out = cmd.args(args).write_stdin(stdin).output().unwrap();
    out.status.code().unwrap_or(-1)
}

/// The audit records (oldest first), read from the store.
fn records(env: &TestEnv) -> Vec<Value> {
    env.json(["audit", "list"]).as_array().unwrap().clone()
}

/// The one record matching `action`, `outcome` and `target` (panics if none or several).
#[track_caller]
fn the<'a>(all: &'a [Value], action: &str, outcome: &str, target: &str) -> &'a Value {
    let found: Vec<&Value> = all
        .iter()
        .filter(|r| r["action"] == action && r["outcome"] == outcome && r["target"] == target)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "{action} {outcome} {target}: {found:#?}\nall: {all:#?}"
    );
    found[0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_mutations_and_auth_events_are_audited_with_principal_and_source() {
    let env = TestEnv::new().with_var("IMX_KEYRING", "off");
    let init = env.run(["init", "--admin", "root"]);
    init.expect_code(0);
    let root = init.stdout.trim().to_string();
    let (_server, url) = serve(&env, &[]);
    let api = Api::new(&url);
    let wf = env.write("w.yaml", "name: w\nsteps:\n  - id: a\n    run: sleep 30\n");
    let wf = wf.to_str().unwrap();

    // Through the server, as the admin: users, tokens, a workflow and a run.
    assert_eq!(
        remote_in(
            &env,
            &url,
            Some(&root),
            &[
                "user",
                "create",
                "vera",
                "--role",
                "viewer",
                "--password-stdin"
            ],
            "vera's password\n"
        ),
        0
    );
    remote(
        &env,
        &url,
        &root,
        &["token", "create", "--name", "ci", "--role", "operator"],
    )
    .expect_code(0);
    remote(&env, &url, &root, &["token", "revoke", "ci"]).expect_code(0);
    remote(&env, &url, &root, &["workflow", "apply", "-f", wf]).expect_code(0);
    let run = remote(&env, &url, &root, &["workflow", "run", "w", "-o", "name"]);
    run.expect_code(0);
    let run = run.stdout.trim().to_string();
    remote(&env, &url, &root, &["run", "cancel", &run]).expect_code(0);

    // Logins: a failure, then success; a viewer's denied write; logout.
    let login = |pw: &str| {
        remote_in(
            &env,
            &url,
            None,
            &["login", "--user", "vera", "--password-stdin"],
            &format!("{pw}\n"),
        )
    };
    assert_eq!(login("not the password"), 4);
    assert_eq!(login("vera's password"), 0);
    let out = env.run_without_store(["--server", url.as_str(), "workflow", "delete", "w", "--yes"]);
    out.expect_code(4);
    env.run_without_store(["--server", url.as_str(), "logout"])
        .expect_code(0);
    // An unknown account locked by repeated failures (over raw HTTP, like a script would).
    for _ in 0..5 {
        let r = api
            .post(
                "/api/v1/login",
                None,
                &json!({ "user": "mallory", "password": "guess guess" }),
            )
            .await;
        assert!([401, 429].contains(&r.status), "{r:?}");
    }
    // An agent registers and stops, with a role-only token.
    let agent = remote(
        &env,
        &url,
        &root,
        &[
            "token", "create", "--role", "agent", "--name", "agents", "-q",
        ],
    );
    agent.expect_code(0);
    let agent_token = agent.stdout.trim().to_string();
    let mut agent_cmd = env.std_cmd();
    agent_cmd
        .env_remove("IMX_STORE")
        .env("IMX_TOKEN", &agent_token)
        .args(["--server", &url, "agent", "run", "--name", "auditee"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = agent_cmd.spawn().unwrap();
    wait_until("the agent to register", SLOW, || {
        records(&env)
            .iter()
            .any(|r| r["action"] == "agent.register")
    });
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap()),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    assert!(child.wait().unwrap().success());
    // And one change made on the store itself.
    env.run(["user", "create", "local-made"]).expect_code(0);

    let all = records(&env);
    let from_server = |r: &Value, actor: &str| {
        assert_eq!(r["actor"], actor, "{r:#}");
        assert_eq!(r["source"], "127.0.0.1", "{r:#}");
    };
    from_server(the(&all, "user.create", "ok", "vera"), "user:root");
    from_server(the(&all, "token.create", "ok", "ci"), "user:root");
    from_server(the(&all, "token.revoke", "ok", "ci"), "user:root");
    from_server(the(&all, "workflow.apply", "ok", "w"), "user:root");
    from_server(the(&all, "run.start", "ok", &run), "user:root");
    from_server(the(&all, "run.cancel", "ok", &run), "user:root");
    from_server(the(&all, "auth.login", "failed", "vera"), "user:vera");
    // A successful login's target is the session token it issued.
    let ok = all
        .iter()
        .find(|r| r["action"] == "auth.login" && r["outcome"] == "ok")
        .expect("a login record");
    from_server(ok, "user:vera");
    assert!(
        ok["target"].as_str().unwrap().starts_with("login-vera-"),
        "{ok:#}"
    );
    let denied = the(&all, "workflow.delete", "denied", "w");
    from_server(denied, "user:vera");
    let logout = all
        .iter()
        .find(|r| r["action"] == "auth.logout")
        .expect("a logout record");
    from_server(logout, "user:vera");
    // A name that is no user is recorded by its keyed hash, never as typed (issue 9).
    let lockout = all
        .iter()
        .find(|r| r["action"] == "auth.lockout")
        .expect("a lockout record");
    let hashed = lockout["target"].as_str().unwrap().to_string();
    assert!(hashed.starts_with("unknown:"), "{lockout:#}");
    from_server(lockout, &format!("user:{hashed}"));
    // A time in details is RFC 3339, like every time in JSON.
    let until = lockout["details"]["until"].as_str().unwrap_or_default();
    assert!(
        chrono::DateTime::parse_from_rfc3339(until).is_ok(),
        "{lockout:#}"
    );
    let failed_mallory = all
        .iter()
        .filter(|r| r["action"] == "auth.login" && r["target"] == hashed.as_str())
        .count();
    assert_eq!(failed_mallory, 5, "{all:#?}");
    assert!(!serde_json::to_string(&all).unwrap().contains("mallory"));
    from_server(the(&all, "agent.register", "ok", "auditee"), "token:agents");
    let stopped = all
        .iter()
        .find(|r| r["action"] == "agent.deregister")
        .expect("a deregister record");
    from_server(stopped, "token:agents");
    // Secrets never appear; the chain still verifies; local changes say so.
    let text = serde_json::to_string(&all).unwrap();
    for secret in [&root, &agent_token, &"vera's password".to_string()] {
        assert!(
            !text.contains(secret.as_str()),
            "a secret is in the audit trail"
        );
    }
    let local = the(&all, "user.create", "ok", "local-made");
    assert_eq!(local["source"], "local", "{local:#}");
    assert!(
        local["actor"].as_str().unwrap().starts_with("local:"),
        "{local:#}"
    );
    env.run(["audit", "verify"]).expect_code(0);
}
