//! Identity and place (issue 14): `imx whoami` / `imx auth status` (context, server, user,
//! role, token expiry, where the token is kept), `context add` that says it does not switch
//! (or switches with `--use`), `imx login --with-token`, several logins per server and
//! `imx auth switch`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::env::{Outcome, TestEnv};

fn run(env: &TestEnv, args: &[&str]) -> Outcome {
    env.run_stdin(args, "")
}

#[test]
fn auth_status_locally_names_the_store_and_the_owner() {
    let env = TestEnv::new();
    for cmd in [&["whoami"][..], &["auth", "status"]] {
        let out = run(&env, cmd);
        out.expect_code(0);
        assert!(out.stdout.contains("User:"), "{}", out.stdout);
        assert!(out.stdout.contains("local:"), "{}", out.stdout);
        assert!(
            out.stdout.contains("admin (the store's owner)"),
            "{}",
            out.stdout
        );
        assert!(
            out.stdout.contains(&env.store().display().to_string()),
            "{}",
            out.stdout
        );
    }
    let v: serde_json::Value =
        serde_json::from_str(&run(&env, &["auth", "status", "-o", "json"]).stdout).unwrap();
    assert_eq!(v["role"], "admin");
    assert!(v["store"].is_string());
    assert!(v.get("token_expires_at").is_none());
}

#[test]
fn login_with_token_several_logins_and_switch() {
    let env = TestEnv::new();
    let init = run(&env, &["init", "--admin", "root"]);
    init.expect_code(0);
    let root_token = init.stdout.trim().to_string();
    let (_server, url) = crate::server::serve(&env, &[]);
    let server = url.as_str();
    for (user, pw) in [("alice", "alices password"), ("bob", "bobs password")] {
        env.run_stdin(
            &[
                "user",
                "create",
                user,
                "--role",
                "viewer",
                "--password-stdin",
            ],
            &format!("{pw}\n"),
        )
        .expect_code(0);
    }

    // The bootstrap admin has no password: its token from `init --admin` logs it in.
    let login = env.run_stdin(
        &["login", "--server", server, "--with-token"],
        &format!("{root_token}\n"),
    );
    login.expect_code(0);
    assert!(
        login
            .stderr
            .contains(&format!("Logged in to {server} as root (admin)")),
        "{}",
        login.stderr
    );
    // A token that is not valid is refused and kept nowhere.
    let bad = env.run_stdin(
        &["login", "--server", server, "--with-token"],
        "imx_notavalidtoken\n",
    );
    bad.expect_code(4);

    let status = run(&env, &["auth", "status", "--server", server]);
    status.expect_code(0);
    for want in [
        "Server:",
        server,
        "user:root",
        "admin",
        "Token:",
        "expires ",
        "credentials.toml",
    ] {
        assert!(status.stdout.contains(want), "{want}:\n{}", status.stdout);
    }
    let v: serde_json::Value = serde_json::from_str(
        &run(&env, &["auth", "status", "--server", server, "-o", "json"]).stdout,
    )
    .unwrap();
    assert_eq!(v["name"], "user:root");
    assert_eq!(v["token_kept_in"], "file");
    assert!(
        v["token_expires_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')),
        "{v}"
    );

    // Logging in as alice, then bob, keeps the earlier logins.
    for (user, pw) in [("alice", "alices password"), ("bob", "bobs password")] {
        env.run_stdin(
            &["login", "--server", server, "-u", user, "--password-stdin"],
            &format!("{pw}\n"),
        )
        .expect_code(0);
    }
    let who = |env: &TestEnv| -> serde_json::Value {
        serde_json::from_str(&run(env, &["whoami", "--server", server, "-o", "json"]).stdout)
            .unwrap()
    };
    let v = who(&env);
    assert_eq!(v["name"], "user:bob");
    assert_eq!(v["other_logins"], serde_json::json!(["alice", "root"]));

    // Three logins: switch needs a name; a wrong one gets a suggestion.
    run(&env, &["auth", "switch", "--server", server]).expect_code(2);
    let typo = run(&env, &["auth", "switch", "alcie", "--server", server]);
    typo.expect_code(3);
    assert!(
        typo.stderr.contains("did you mean \"alice\""),
        "{}",
        typo.stderr
    );
    run(&env, &["auth", "switch", "alice", "--server", server]).expect_code(0);
    assert_eq!(who(&env)["name"], "user:alice");

    // Logging out of the active login makes another one active.
    let out = run(&env, &["logout", "--server", server]);
    out.expect_code(0);
    assert!(
        out.stderr.contains("is now the active login"),
        "{}",
        out.stderr
    );
    let v = who(&env);
    assert_ne!(v["name"], "user:alice");
    run(&env, &["logout", "--server", server, "--user", "bob"]).expect_code(0);
    assert_eq!(who(&env)["name"], "user:root");
    // With two left of which one is active, switch needs no name.
    env.run_stdin(
        &[
            "login",
            "--server",
            server,
            "-u",
            "alice",
            "--password-stdin",
        ],
        "alices password\n",
    )
    .expect_code(0);
    run(&env, &["auth", "switch", "--server", server]).expect_code(0);
    assert_eq!(who(&env)["name"], "user:root");
}

#[test]
fn context_add_says_it_does_not_switch_unless_told() {
    let env = TestEnv::bare();
    let a = env.home().join("a.db");
    let b = env.home().join("b.db");
    let c = env.home().join("c.db");
    run(
        &env,
        &["context", "add", "a", "--store", a.to_str().unwrap()],
    )
    .expect_code(0);
    let out = run(
        &env,
        &["context", "add", "b", "--store", b.to_str().unwrap()],
    );
    out.expect_code(0);
    assert!(
        out.stderr.contains("The current context is still a"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("imx context use b"), "{}", out.stderr);
    let out = run(
        &env,
        &[
            "context",
            "add",
            "c",
            "--store",
            c.to_str().unwrap(),
            "--use",
        ],
    );
    out.expect_code(0);
    assert!(
        out.stderr.contains("c is now the current context"),
        "{}",
        out.stderr
    );
    let shown = env.json(["context", "show"]);
    assert_eq!(shown[0]["name"], "c");
}
