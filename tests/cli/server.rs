//! `imx server` and the same CLI against it: a store without an admin is refused; with one,
//! remote commands (token from IMX_TOKEN or `imx login`) apply, run, follow and list exactly as
//! locally, roles are enforced (exit 4), and SIGTERM stops the server cleanly.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use nix::sys::signal::Signal;

use crate::env::{Background, TestEnv, wait_until};

/// Start `imx server` on a free loopback port; returns the process and its URL.
pub fn serve(env: &TestEnv, extra: &[&str]) -> (Background, String) {
    let mut args = vec!["server", "--listen", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    let server = env.spawn(args);
    let mut url = String::new();
    wait_until(
        "the server to print its URL",
        Duration::from_secs(20),
        || {
            url = server.stdout().trim().to_string();
            url.starts_with("http://") || url.starts_with("https://")
        },
    );
    (server, url)
}

/// `imx --server URL ARGS...` with this token (and no local store).
pub fn remote(env: &TestEnv, url: &str, token: &str, args: &[&str]) -> crate::env::Outcome {
    let out = env
        .cmd()
        .env_remove("IMX_STORE")
        .env("IMX_TOKEN", token)
        .args(["--server", url])
        .args(args)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    crate::env::Outcome {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn a_store_without_an_admin_is_not_served() {
    let env = TestEnv::new();
    let out = env.run(["server", "--listen", "127.0.0.1:0"]);
    out.expect_code(1);
    assert!(out.stderr.contains("no admin user"), "{}", out.stderr);
    assert!(out.stderr.contains("init --admin"), "{}", out.stderr);
    let out = env.run(["server", "--listen", "0.0.0.0:0"]);
    out.expect_code(2);
    assert!(out.stderr.contains("loopback"), "{}", out.stderr);
}

#[test]
fn the_cli_works_against_a_server_and_roles_are_enforced() {
    let env = TestEnv::new().with_var("IMX_KEYRING", "off");
    let init = env.run(["init", "--admin", "alice"]);
    init.expect_code(0);
    let admin = init.stdout.trim().to_string();
    assert!(admin.starts_with("imx_"), "{}", init.stdout);
    // As root, embedded agents need a user to run steps as.
    let mut agents = vec!["--agents", "2"];
    if nix::unistd::geteuid().is_root() {
        agents.extend(["--agents-user", "nobody"]);
    }
    let (mut server, url) = serve(&env, &agents);

    let wf = env.write("wf.yaml", "name: hello\nsteps:\n  - id: greet\n    run: echo hello from $IMX_STEP_ID\n  - id: after\n    needs: [greet]\n    noop: true\n");
    remote(
        &env,
        &url,
        &admin,
        &["workflow", "apply", "-f", wf.to_str().unwrap()],
    )
    .expect_code(0);
    let run = remote(
        &env,
        &url,
        &admin,
        &["workflow", "run", "hello", "--wait", "-o", "name"],
    );
    run.expect_code(0);
    let id = run.stdout.trim().to_string();
    let shown: serde_json::Value = serde_json::from_str(
        &remote(&env, &url, &admin, &["run", "show", &id, "-o", "json"]).stdout,
    )
    .unwrap();
    assert_eq!(shown["status"], "succeeded");
    let logs = remote(&env, &url, &admin, &["run", "logs", &id]);
    assert!(logs.stdout.contains("hello from greet"), "{}", logs.stdout);
    let listed = remote(&env, &url, &admin, &["run", "list", "-o", "name"]);
    assert_eq!(listed.stdout.trim(), id);
    let agents = remote(&env, &url, &admin, &["agent", "list", "-o", "json"]);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&agents.stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let me = remote(&env, &url, &admin, &["whoami"]);
    assert!(
        me.stdout.contains("User:    user:alice") && me.stdout.contains("Role:    admin"),
        "{}",
        me.stdout
    );

    // Bad or missing tokens: exit 4 with a hint to log in.
    let bad = remote(&env, &url, "imx_not-a-real-token", &["run", "list"]);
    bad.expect_code(4);
    assert!(bad.stderr.contains("imx login"), "{}", bad.stderr);
    let none = env.run_without_store(["--server", url.as_str(), "run", "list"]);
    none.expect_code(4);

    // A viewer logs in with a password, reads, and may not change anything.
    let mut create = env.cmd();
    create
        .env_remove("IMX_STORE")
        .env("IMX_TOKEN", &admin)
        .args([
            "--server",
            &url,
            "user",
            "create",
            "vera",
            "--role",
            "viewer",
            "--password-stdin",
        ])
        .write_stdin("vera-secret-pw\n");
    assert!(create.output().unwrap().status.success());
    let mut login = env.cmd();
    login
        .env_remove("IMX_STORE")
        .args([
            "--server",
            &url,
            "login",
            "--user",
            "vera",
            "--password-stdin",
        ])
        .write_stdin("vera-secret-pw\n");
    let out = login.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let me = env.run_without_store([
        "--server",
        url.as_str(),
        "whoami",
        "-o",
        "template={{ name }} ({{ role }})",
    ]);
    assert_eq!(me.stdout.trim(), "user:vera (viewer)");
    env.run_without_store(["--server", url.as_str(), "run", "show", &id])
        .expect_code(0);
    let denied = env.run_without_store([
        "--server",
        url.as_str(),
        "workflow",
        "delete",
        "hello",
        "--yes",
    ]);
    denied.expect_code(4);
    assert!(
        denied.stderr.contains("permission denied"),
        "{}",
        denied.stderr
    );
    env.run_without_store(["--server", url.as_str(), "logout"])
        .expect_code(0);
    env.run_without_store(["--server", url.as_str(), "whoami"])
        .expect_code(4);

    // A wrong password gets the one message that does not say which part was wrong.
    let mut wrong = env.cmd();
    wrong
        .env_remove("IMX_STORE")
        .args([
            "--server",
            &url,
            "login",
            "--user",
            "vera",
            "--password-stdin",
        ])
        .write_stdin("nope-nope-nope\n");
    let out = wrong.output().unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid user name or password"));

    server.signal(Signal::SIGTERM);
    let status = server.wait_exit(Duration::from_secs(20));
    assert!(status.success(), "{status}: {}", server.stderr());
    assert!(
        server.stderr().contains("Server stopped."),
        "{}",
        server.stderr()
    );
}

#[tokio::test]
async fn sigterm_stops_the_server_even_with_an_event_stream_open() {
    let env = TestEnv::new();
    let init = env.run(["init", "--admin", "alice"]);
    init.expect_code(0);
    let token = init.stdout.trim().to_string();
    let (mut server, url) = serve(&env, &[]);
    let stream = reqwest::Client::new()
        .get(format!("{url}/api/v1/events/stream"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    server.signal(Signal::SIGTERM);
    let status = server.wait_exit(Duration::from_secs(15));
    assert!(status.success(), "{status}: {}", server.stderr());
    drop(stream);
}

#[test]
fn an_agent_on_another_machine_uses_a_token_file() {
    let env = TestEnv::new().with_var("IMX_KEYRING", "off");
    env.run(["init", "--admin", "root"]).expect_code(0);
    let token = env.run(["token", "create", "--role", "agent", "-q"]);
    token.expect_code(0);
    let token_file = env.write("agent-token", &format!("{}\n", token.stdout.trim()));
    env.apply(
        "hi.yaml",
        "name: hi\nsteps:\n  - id: say\n    run: echo hi\n",
    );
    let (_server, url) = serve(&env, &[]);

    // No IMX_TOKEN and nothing stored: the flag is the only credential.
    let mut cmd = env.std_cmd();
    cmd.env_remove("IMX_STORE").env_remove("IMX_TOKEN");
    let agent = env.spawn_with(
        cmd,
        [
            "--server",
            url.as_str(),
            "agent",
            "run",
            "--name",
            "far",
            "--token-file",
            token_file.to_str().unwrap(),
        ],
    );
    let run = env.start("hi", &[]);
    let shown = env.finish(&run);
    assert_eq!(
        shown["status"],
        "succeeded",
        "{shown:#}\n{}",
        agent.stderr()
    );
    assert_eq!(TestEnv::step(&shown, "say")["agent"], "far", "{shown:#}");

    // The flags are for a server's agent; an empty token file is refused.
    let out = env.run(["agent", "run", "--token", "imx_x"]);
    out.expect_code(2);
    assert!(out.stderr.contains("--server"), "{}", out.stderr);
    let empty = env.write("empty-token", "\n");
    let out = env.run_without_store([
        "--server",
        url.as_str(),
        "agent",
        "run",
        "--token-file",
        empty.to_str().unwrap(),
    ]);
    out.expect_code(2);
    assert!(out.stderr.contains("empty"), "{}", out.stderr);
}
