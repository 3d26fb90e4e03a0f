//! Users, tokens, login and credentials through the real binary: `init --admin`, the `user`
//! and `token` commands, `login`/`whoami`/`logout` with the 0600 file fallback, exit codes,
//! and a sweep that no password or token secret reaches the store, the audit trail or stderr.

use std::os::unix::fs::PermissionsExt;

use crate::env::{Outcome, TestEnv};

/// Start `imx server` for this environment's store (which must have an admin by now).
fn serve(env: &TestEnv) -> (crate::env::Background, String) {
    crate::server::serve(env, &[])
}

fn run(env: &TestEnv, args: &[&str]) -> Outcome {
    env.run_stdin(args, "")
}

fn credentials_file(env: &TestEnv) -> std::path::PathBuf {
    env.home().join(".config/imx/credentials.toml")
}

#[test]
fn init_admin_prints_a_one_time_token_and_creates_the_admin() {
    let env = TestEnv::new();
    let out = run(&env, &["init", "--admin", "alice"]);
    out.expect_code(0);
    let secret = out.stdout.trim();
    assert!(secret.starts_with("imx_") && secret.len() == 47, "{secret}");
    assert!(
        out.stderr.contains("Created admin user alice"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("only time"), "{}", out.stderr);
    let list = run(&env, &["user", "list", "-o", "json"]);
    list.expect_code(0);
    let users: serde_json::Value = serde_json::from_str(&list.stdout).unwrap_or_default();
    assert_eq!(users[0]["name"], "alice");
    assert_eq!(users[0]["role"], "admin");
    assert_eq!(users[0]["has_password"], false);
    // Again: the user exists (conflict), nothing new is printed.
    let again = run(&env, &["init", "--admin", "alice"]);
    again.expect_code(5);
    assert!(again.stdout.is_empty());
    // --password-stdin needs --admin.
    run(&env, &["init", "--password-stdin"]).expect_code(2);
}

#[test]
fn user_lifecycle_and_exit_codes() {
    let env = TestEnv::new();
    run(&env, &["user", "create", "bob", "--role", "operator"]).expect_code(0);
    let show = run(&env, &["user", "show", "bob"]);
    show.expect_code(0);
    assert!(show.stdout.contains("operator"), "{}", show.stdout);
    assert!(
        show.stdout.contains("none (tokens only)"),
        "{}",
        show.stdout
    );

    run(&env, &["user", "update", "bob", "--role", "viewer"]).expect_code(0);
    run(&env, &["user", "disable", "bob"]).expect_code(0);
    let list = run(&env, &["user", "list"]);
    assert!(
        list.stdout.contains("viewer") && list.stdout.contains("disabled"),
        "{}",
        list.stdout
    );
    run(&env, &["user", "enable", "bob"]).expect_code(0);
    env.run_stdin(
        &["user", "passwd", "bob", "--password-stdin"],
        "a long password\n",
    )
    .expect_code(0);
    assert!(
        run(&env, &["user", "show", "bob"])
            .stdout
            .contains("Password: set")
    );

    let short = env.run_stdin(&["user", "passwd", "bob", "--password-stdin"], "short\n");
    short.expect_code(2);
    assert!(short.stderr.contains("too short"), "{}", short.stderr);
    let missing = run(&env, &["user", "show", "bobb"]);
    missing.expect_code(3);
    assert!(
        missing.stderr.contains("did you mean \"bob\""),
        "{}",
        missing.stderr
    );
    run(&env, &["user", "create", "bob"]).expect_code(5);
    let role = run(&env, &["user", "create", "carl", "--role", "root"]);
    role.expect_code(2);
    assert!(
        role.stderr.contains("admin, operator, viewer, agent"),
        "{}",
        role.stderr
    );
    run(&env, &["user", "create", "bad name"]).expect_code(2);
    // No terminal and no --password-stdin: a usage error, not a hang.
    run(&env, &["user", "passwd", "bob"]).expect_code(2);

    run(&env, &["user", "delete", "bob"]).expect_code(2); // needs --yes off a terminal
    run(&env, &["user", "delete", "bob", "--yes"]).expect_code(0);
    run(&env, &["user", "show", "bob"]).expect_code(3);
}

#[test]
fn tokens_are_shown_once_listed_by_last_four_and_revocable() {
    let env = TestEnv::new();
    run(&env, &["user", "create", "dana", "--role", "operator"]).expect_code(0);
    let created = run(
        &env,
        &[
            "token",
            "create",
            "--name",
            "ci",
            "--user",
            "dana",
            "--expires",
            "7d",
        ],
    );
    created.expect_code(0);
    let secret = created.stdout.trim().to_string();
    assert!(secret.starts_with("imx_"), "{secret}");
    assert!(created.stderr.contains("only time"), "{}", created.stderr);

    let json = run(&env, &["token", "create", "--role", "agent", "-o", "json"]);
    json.expect_code(0);
    let issued: serde_json::Value = serde_json::from_str(&json.stdout).unwrap_or_default();
    assert!(
        issued["secret"]
            .as_str()
            .unwrap_or_default()
            .starts_with("imx_")
    );
    assert_eq!(issued["token"]["role"], "agent");
    // Without --expires: the longest a token may live, never forever.
    assert!(
        crate::env::millis(&issued["token"]["expires_at"]).is_some(),
        "{issued}"
    );

    let list = run(&env, &["token", "list"]);
    list.expect_code(0);
    assert!(!list.stdout.contains(&secret), "{}", list.stdout);
    assert!(
        list.stdout
            .contains(&format!("imx_…{}", &secret[secret.len() - 4..])),
        "{}",
        list.stdout
    );
    assert!(list.stdout.contains("user:dana"), "{}", list.stdout);
    let list_json = run(&env, &["token", "list", "-o", "json"]);
    assert!(!list_json.stdout.contains("secret"), "{}", list_json.stdout);

    run(&env, &["token", "revoke", "ci"]).expect_code(0);
    assert!(run(&env, &["token", "list"]).stdout.contains("revoked"));
    run(&env, &["token", "revoke", "ci"]).expect_code(5);
    run(&env, &["token", "revoke", "nope"]).expect_code(3);
    run(&env, &["token", "create"]).expect_code(2); // for whom?
    run(
        &env,
        &["token", "create", "--role", "agent", "--expires", "soon"],
    )
    .expect_code(2);
}

#[test]
fn whoami_locally_is_the_store_owner() {
    let env = TestEnv::new();
    let out = run(&env, &["whoami"]);
    out.expect_code(0);
    assert!(
        out.stdout.contains("User:    local:") && out.stdout.contains("admin (the store's owner)"),
        "{}",
        out.stdout
    );
    let json = run(&env, &["whoami", "-o", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap_or_default();
    assert_eq!(v["role"], "admin");
}

#[test]
fn login_keeps_the_token_in_a_0600_file_without_a_keyring_and_logout_revokes_it() {
    let env = TestEnv::new();
    run(&env, &["init", "--admin", "boss"]).expect_code(0);
    let (_server, url) = serve(&env);
    let server = url.as_str();
    env.run_stdin(
        &[
            "user",
            "create",
            "erin",
            "--role",
            "operator",
            "--password-stdin",
        ],
        "erins password\n",
    )
    .expect_code(0);

    let refused = env.run_stdin(
        &[
            "login",
            "--server",
            server,
            "--user",
            "erin",
            "--password-stdin",
            "--no-insecure-storage",
        ],
        "erins password\n",
    );
    refused.expect_code(2);
    assert!(
        refused.stderr.contains("--no-insecure-storage"),
        "{}",
        refused.stderr
    );
    assert!(!credentials_file(&env).exists());

    let login = env.run_stdin(
        &[
            "login",
            "--server",
            &format!("{server}/"),
            "--user",
            "erin",
            "--password-stdin",
        ],
        "erins password\n",
    );
    login.expect_code(0);
    assert!(
        login.stderr.contains("warning: no OS keyring"),
        "{}",
        login.stderr
    );
    assert!(
        login
            .stderr
            .contains(&format!("Logged in to {server} as erin (operator)")),
        "{}",
        login.stderr
    );
    let file = credentials_file(&env);
    let mode = std::fs::metadata(&file)
        .map(|m| m.permissions().mode() & 0o777)
        .unwrap_or(0);
    assert_eq!(mode, 0o600, "{file:?}");

    let who = run(
        &env,
        &[
            "whoami",
            "--server",
            server,
            "-o",
            "template={{ name }} ({{ role }})",
        ],
    );
    who.expect_code(0);
    assert_eq!(who.stdout.trim(), "user:erin (operator)");

    // IMX_TOKEN wins over the stored token.
    let ci = run(
        &env,
        &["token", "create", "--role", "viewer", "--name", "ci"],
    );
    let ci_secret = ci.stdout.trim().to_string();
    let via_env = env
        .cmd()
        .env_remove("IMX_STORE")
        .env("IMX_KEYRING", "off")
        .env("IMX_TOKEN", &ci_secret)
        .args([
            "whoami",
            "--server",
            server,
            "-o",
            "template={{ name }} ({{ role }})",
        ])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        String::from_utf8_lossy(&via_env.stdout).trim(),
        "token:ci (viewer)"
    );

    // A file others can read is refused.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap_or_default();
    let open = run(&env, &["whoami", "--server", server]);
    assert_ne!(open.code, 0);
    assert!(open.stderr.contains("chmod 600"), "{}", open.stderr);
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap_or_default();

    let logout = run(&env, &["logout", "--server", server]);
    logout.expect_code(0);
    assert!(
        !file.exists(),
        "the last token removed takes the file with it"
    );
    let after = run(&env, &["whoami", "--server", server]);
    after.expect_code(4);
    assert!(after.stderr.contains("imx login"), "{}", after.stderr);
    let tokens = run(&env, &["token", "list", "-o", "json"]);
    let list: serde_json::Value = serde_json::from_str(&tokens.stdout).unwrap_or_default();
    let login_token = list
        .as_array()
        .and_then(|a| a.iter().find(|t| t["user"] == "erin"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(login_token["state"], "revoked", "{}", tokens.stdout);
    run(&env, &["logout", "--server", server]).expect_code(0); // nothing to do

    run(&env, &["login", "--server", "ftp://x", "--password-stdin"]).expect_code(2);
}

#[test]
fn failed_logins_share_one_message_then_lock_the_account() {
    let env = TestEnv::new();
    run(&env, &["init", "--admin", "boss"]).expect_code(0);
    let (_server, url) = serve(&env);
    let server = url.as_str();
    env.run_stdin(
        &["user", "create", "fay", "--password-stdin"],
        "fays password\n",
    )
    .expect_code(0);
    let login = |user: &str, pw: &str| {
        env.run_stdin(
            &[
                "login",
                "--server",
                server,
                "--user",
                user,
                "--password-stdin",
            ],
            &format!("{pw}\n"),
        )
    };
    let unknown = login("nobody", "whatever pass");
    let wrong = login("fay", "wrong password");
    unknown.expect_code(4);
    wrong.expect_code(4);
    assert_eq!(unknown.stderr, wrong.stderr);
    assert!(
        wrong
            .stderr
            .contains("error: invalid user name or password"),
        "{}",
        wrong.stderr
    );
    for _ in 0..3 {
        login("fay", "wrong password").expect_code(4);
    }
    // The fifth failure in a row locks the account; then even the right password is refused.
    let fifth = login("fay", "wrong password");
    fifth.expect_code(4);
    assert!(fifth.stderr.contains("try again after"), "{}", fifth.stderr);
    let locked = login("fay", "fays password");
    locked.expect_code(4);
    assert!(
        locked.stderr.contains("try again after"),
        "{}",
        locked.stderr
    );
    assert!(run(&env, &["user", "list"]).stdout.contains("locked"));
    // An admin resetting the password unlocks it.
    env.run_stdin(
        &["user", "passwd", "fay", "--password-stdin"],
        "fays new password\n",
    )
    .expect_code(0);
    login("fay", "fays new password").expect_code(0);
}

#[test]
fn no_secret_reaches_the_store_the_audit_trail_or_stderr() {
    let env = TestEnv::new();
    let passwords = [
        "first-admin-pass",
        "operator-pass-42",
        "changed-pass-77",
        "wrong-guess-99",
    ];
    let mut secrets: Vec<String> = passwords.iter().map(|s| s.to_string()).collect();
    let mut stderr = String::new();
    let mut keep = |out: Outcome, secrets: &mut Vec<String>, prints_secret: bool| {
        stderr.push_str(&out.stderr);
        if prints_secret {
            secrets.push(out.stdout.trim().to_string());
        } else {
            for s in passwords {
                assert!(!out.stdout.contains(s), "{s} on stdout");
            }
        }
        out
    };
    let init = env.run_stdin(
        &["init", "--admin", "root", "--password-stdin"],
        "first-admin-pass\n",
    );
    keep(init, &mut secrets, true).expect_code(0);
    let (_server, url) = serve(&env);
    let server = url.as_str();
    let u = env.run_stdin(
        &[
            "user",
            "create",
            "op",
            "--role",
            "operator",
            "--password-stdin",
        ],
        "operator-pass-42\n",
    );
    keep(u, &mut secrets, false).expect_code(0);
    let p = env.run_stdin(
        &["user", "passwd", "op", "--password-stdin"],
        "changed-pass-77\n",
    );
    keep(p, &mut secrets, false).expect_code(0);
    let t = run(
        &env,
        &["token", "create", "--role", "agent", "--name", "agents"],
    );
    keep(t, &mut secrets, true).expect_code(0);
    let t = run(&env, &["token", "create", "--user", "op", "-o", "json"]);
    let issued: serde_json::Value = serde_json::from_str(&t.stdout).unwrap_or_default();
    secrets.push(issued["secret"].as_str().unwrap_or_default().to_string());
    keep(t, &mut secrets, false).expect_code(0);
    for (pw, code) in [("wrong-guess-99", 4), ("changed-pass-77", 0)] {
        let l = env.run_stdin(
            &[
                "login",
                "--server",
                server,
                "--user",
                "op",
                "--password-stdin",
                "-v",
            ],
            &format!("{pw}\n"),
        );
        keep(l, &mut secrets, false).expect_code(code);
    }
    let creds = std::fs::read_to_string(credentials_file(&env)).unwrap_or_default();
    let login_secret = creds
        .split('"')
        .find(|s| s.starts_with("imx_"))
        .unwrap_or_default()
        .to_string();
    assert!(!login_secret.is_empty(), "{creds}");
    secrets.push(login_secret);
    for args in [
        &["whoami", "--server", server, "-v"][..],
        &["token", "list", "-o", "wide"],
        &["user", "list"],
    ] {
        keep(run(&env, args), &mut secrets, false).expect_code(0);
    }
    let audit_and_logout = run(&env, &["logout", "--server", server]);
    keep(audit_and_logout, &mut secrets, false).expect_code(0);
    assert!(secrets.iter().all(|s| s.len() >= 14), "{secrets:?}");

    // Every file of the store (database, WAL, shared memory), byte for byte.
    let store_dir = env
        .store()
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    let mut checked_files = 0;
    for entry in std::fs::read_dir(&store_dir)
        .into_iter()
        .flatten()
        .flatten()
    {
        let bytes = std::fs::read(entry.path()).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        for s in &secrets {
            assert!(
                !text.contains(s.as_str()),
                "a secret is in {:?}",
                entry.path()
            );
        }
        checked_files += 1;
    }
    assert!(checked_files >= 1);
    // The audit table, read back through SQLite.
    let conn = rusqlite::Connection::open(env.store()).unwrap_or_else(|e| panic!("{e}"));
    let mut stmt = conn
        .prepare("SELECT actor || source || action || target || outcome || details FROM audit")
        .unwrap_or_else(|e| panic!("{e}"));
    let rows: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .and_then(|rows| rows.collect())
        .unwrap_or_else(|e| panic!("{e}"));
    let actions = rows.join("\n");
    for expected in [
        "user.create",
        "user.password",
        "token.create",
        "auth.login",
        "auth.logout",
    ] {
        assert!(
            actions.contains(expected),
            "{expected} not audited:\n{actions}"
        );
    }
    for s in &secrets {
        assert!(
            !actions.contains(s.as_str()),
            "a secret is in the audit table"
        );
        assert!(!stderr.contains(s.as_str()), "a secret is on stderr");
    }
}
