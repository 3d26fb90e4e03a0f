//! Issue 9's credential findings through the real binary and server: token lifetimes are capped
//! (never "forever"), changing one's own password needs the current one and ends the other
//! sessions, a name typed at login that is no user is stored nowhere, repeated denials are
//! coalesced in the audit trail, `user unlock`, the bearer scheme in any case, user names unique
//! in any case, and non-admins see neither the store's path nor backup files.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use nix::sys::signal::Signal;
use serde_json::{Value, json};

use crate::env::{Mode, Outcome, TestEnv, millis};
use crate::http::{Api, Body};

const DAY_MS: i64 = 86_400_000;

/// `imx ARGS` with `stdin` (in remote mode through the server, as its admin).
fn run_in(env: &TestEnv, args: &[&str], stdin: &str) -> Outcome {
    let out = env
        .cmd()
        .env("IMX_KEYRING", "off")
        .args(args)
        .write_stdin(stdin)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    Outcome {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `imx --server URL ARGS` as `token`, with `stdin`, and no local store.
fn remote_in(env: &TestEnv, url: &str, token: &str, args: &[&str], stdin: &str) -> Outcome {
    let out = env
        .cmd()
        .env_remove("IMX_STORE")
        .env("IMX_KEYRING", "off")
        .env("IMX_TOKEN", token)
        .args(["--server", url])
        .args(args)
        .write_stdin(stdin)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    Outcome {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn now_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

/// A new token's expiry, from `token create -o json`.
fn expires_in_days(out: &Outcome) -> i64 {
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    let at =
        millis(&v["token"]["expires_at"]).unwrap_or_else(|| panic!("no expiry: {}", out.stdout));
    (at - now_ms() + DAY_MS / 2) / DAY_MS
}

/// An admin server over a fresh store: (env, server, url, admin token).
fn admin_server(extra: &[&str]) -> (TestEnv, crate::env::Background, String, String) {
    let env = TestEnv::new().with_var("IMX_KEYRING", "off");
    let init = env.run(["init", "--admin", "root"]);
    init.expect_code(0);
    let admin = init.stdout.trim().to_string();
    let (server, url) = crate::server::serve(&env, extra);
    (env, server, url, admin)
}

fn token_lifetimes_are_capped_and_never_forever(env: TestEnv) {
    let env = env.with_var("IMX_MAX_TOKEN_TTL", "30d");
    // No lifetime asked for: the longest allowed.
    let made = env.run(["token", "create", "--role", "viewer", "-o", "json"]);
    made.expect_code(0);
    assert_eq!(expires_in_days(&made), 30, "{}", made.stdout);
    let ok = env.run([
        "token",
        "create",
        "--role",
        "viewer",
        "--expires",
        "7d",
        "-o",
        "json",
    ]);
    ok.expect_code(0);
    assert_eq!(expires_in_days(&ok), 7);
    // Longer than the cap: refused, naming the cap.
    let long = env.run(["token", "create", "--role", "viewer", "--expires", "31d"]);
    long.expect_code(2);
    assert!(
        long.stderr.contains("at most 30d") && long.stderr.contains("not 31d"),
        "{}",
        long.stderr
    );
    // Never: refused.
    let never = env.run(["token", "create", "--role", "agent", "--expires", "never"]);
    never.expect_code(2);
    assert!(
        never.stderr.contains("tokens always expire"),
        "{}",
        never.stderr
    );
    let listed = env.json(["token", "list"]);
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .all(|t| millis(&t["expires_at"]).is_some()),
        "every token expires: {listed}"
    );
}

fn an_admin_resetting_a_password_revokes_the_users_tokens(env: TestEnv) {
    run_in(
        &env,
        &[
            "user",
            "create",
            "bob",
            "--role",
            "operator",
            "--password-stdin",
        ],
        "bobs first password\n",
    )
    .expect_code(0);
    let t1 = env.run(["token", "create", "--user", "bob", "--name", "bob-1", "-q"]);
    t1.expect_code(0);
    env.run(["token", "create", "--user", "bob", "--name", "bob-2", "-q"])
        .expect_code(0);
    run_in(
        &env,
        &["user", "passwd", "bob", "--password-stdin"],
        "bobs second password\n",
    )
    .expect_code(0);
    let tokens = env.json(["token", "list"]);
    for name in ["bob-1", "bob-2"] {
        let t = tokens
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap();
        assert_eq!(t["state"], "revoked", "{name}: {tokens}");
    }
    let audit = env.json(["audit", "list", "--action", "user.password"]);
    assert_eq!(audit[0]["details"]["tokens_revoked"], 2, "{audit}");
}

fn user_names_are_unique_in_any_case(env: TestEnv) {
    env.run(["user", "create", "alice"]).expect_code(0);
    let dup = env.run(["user", "create", "Alice"]);
    dup.expect_code(5);
    assert!(
        dup.stderr.contains("\"alice\" already exists"),
        "{}",
        dup.stderr
    );
    env.run(["user", "create", "ALICE2"]).expect_code(0);
    let names: Vec<String> = env
        .json(["user", "list"])
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap().to_string())
        .filter(|n| n.to_lowercase().starts_with("alice"))
        .collect();
    assert_eq!(names, ["ALICE2", "alice"]);
}

fn user_unlock_clears_every_lockout(env: TestEnv) {
    // Logins only go through a server: in local mode, one on this store.
    let served;
    let url = match env.mode() {
        Mode::Remote => env.url().to_string(),
        Mode::Local => {
            run_in(&env, &["init", "--admin", "root"], "").expect_code(0);
            served = crate::server::serve(&env, &[]);
            served.1.clone()
        }
    };
    run_in(
        &env,
        &["user", "create", "fay", "--password-stdin"],
        "fays password\n",
    )
    .expect_code(0);
    let login = |pw: &str| {
        assert_cmd::Command::from_std(env.local_cmd(&[]))
            .env_remove("IMX_STORE")
            .env("IMX_KEYRING", "off")
            .args([
                "login",
                "--server",
                &url,
                "--user",
                "fay",
                "--password-stdin",
            ])
            .write_stdin(format!("{pw}\n"))
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap()
    };
    for _ in 0..5 {
        assert_eq!(login("wrong password").status.code(), Some(4));
    }
    let locked = login("fays password");
    assert_eq!(locked.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&locked.stderr).contains("try again after"));
    assert!(millis(&env.json(["user", "show", "fay"])["locked_until"]).is_some());

    let unlock = env.run(["user", "unlock", "fay"]);
    unlock.expect_code(0);
    assert!(
        unlock.stderr.contains("Unlocked user fay"),
        "{}",
        unlock.stderr
    );
    assert!(env.json(["user", "show", "fay"])["locked_until"].is_null());
    assert_eq!(login("fays password").status.code(), Some(0));
    let audit = env.json(["audit", "list", "--action", "user.unlock"]);
    assert_eq!(audit[0]["target"], "fay", "{audit}");
    env.run(["user", "unlock", "nobody"]).expect_code(3);
}

crate::both_modes!(
    token_lifetimes_are_capped_and_never_forever,
    an_admin_resetting_a_password_revokes_the_users_tokens,
    user_names_are_unique_in_any_case,
    user_unlock_clears_every_lockout,
);

#[test]
fn the_server_caps_tokens_with_max_token_ttl_and_login_tokens_expire() {
    let (env, _server, url, admin) = admin_server(&["--max-token-ttl", "10d"]);
    let long = remote_in(
        &env,
        &url,
        &admin,
        &["token", "create", "--role", "viewer", "--expires", "11d"],
        "",
    );
    long.expect_code(2);
    assert!(long.stderr.contains("at most 10d"), "{}", long.stderr);
    let api = Api::new(&url);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let r = rt.block_on(api.post(
        "/api/v1/tokens",
        Some(&admin),
        &json!({ "role": "viewer", "expires_in_ms": 11 * DAY_MS }),
    ));
    r.expect_error(400, "invalid", &["at most 10d"]);
    // Login tokens: 30 days, or the cap when it is shorter.
    run_in(
        &env,
        &["user", "create", "lou", "--password-stdin"],
        "lous password\n",
    )
    .expect_code(0);
    let login = rt.block_on(api.post(
        "/api/v1/login",
        None,
        &json!({ "user": "lou", "password": "lous password" }),
    ));
    assert_eq!(login.status, 201, "{login:?}");
    let days =
        (millis(&login.json["token"]["expires_at"]).unwrap() - now_ms() + DAY_MS / 2) / DAY_MS;
    assert_eq!(days, 10);
}

#[test]
fn changing_ones_own_password_needs_the_current_one_and_ends_other_sessions() {
    let (env, mut server, url, admin) = admin_server(&[]);
    run_in(
        &env,
        &[
            "user",
            "create",
            "carol",
            "--role",
            "operator",
            "--password-stdin",
        ],
        "carols old password\n",
    )
    .expect_code(0);
    let api = Api::new(&url);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let login = || {
        let r = rt.block_on(api.post(
            "/api/v1/login",
            None,
            &json!({ "user": "carol", "password": "carols old password" }),
        ));
        assert_eq!(r.status, 201, "{r:?}");
        r.json["secret"].as_str().unwrap().to_string()
    };
    let (session, other) = (login(), login());

    // Without the current password: refused, before anything changes.
    let bare = remote_in(
        &env,
        &url,
        &session,
        &["user", "passwd", "carol", "--password-stdin"],
        "carols new password\n",
    );
    bare.expect_code(2);
    assert!(bare.stderr.contains("current password"), "{}", bare.stderr);
    let r = rt.block_on(api.send(
        "PUT",
        "/api/v1/users/carol/password",
        Some(&session),
        Body::Json(&json!({ "password": "carols new password" })),
    ));
    r.expect_error(400, "invalid", &["current password"]);

    // A wrong current password: 401 / exit 4, audited.
    let wrong = remote_in(
        &env,
        &url,
        &session,
        &[
            "user",
            "passwd",
            "carol",
            "--password-stdin",
            "--current-password-stdin",
        ],
        "not my password\ncarols new password\n",
    );
    wrong.expect_code(4);
    let r = rt.block_on(api.send(
        "PUT",
        "/api/v1/users/carol/password",
        Some(&session),
        Body::Json(&json!({ "password": "carols new password", "current_password": "nope nope" })),
    ));
    r.expect_error(401, "unauthenticated", &["current password"]);
    let failed = remote_in(
        &env,
        &url,
        &admin,
        &[
            "audit",
            "list",
            "--action",
            "user.password",
            "--outcome",
            "failed",
            "-o",
            "json",
        ],
        "",
    );
    failed.expect_code(0);
    let failed: Value = serde_json::from_str(&failed.stdout).unwrap();
    assert_eq!(failed.as_array().unwrap().len(), 2, "{failed}");

    // The right one: changed; this session goes on, the other one is revoked.
    let ok = remote_in(
        &env,
        &url,
        &session,
        &[
            "user",
            "passwd",
            "carol",
            "--password-stdin",
            "--current-password-stdin",
        ],
        "carols old password\ncarols new password\n",
    );
    ok.expect_code(0);
    remote_in(&env, &url, &session, &["whoami"], "").expect_code(0);
    let gone = remote_in(&env, &url, &other, &["whoami"], "");
    gone.expect_code(4);
    assert!(gone.stderr.contains("revoked"), "{}", gone.stderr);
    let relogin = rt.block_on(api.post(
        "/api/v1/login",
        None,
        &json!({ "user": "carol", "password": "carols new password" }),
    ));
    assert_eq!(relogin.status, 201, "{relogin:?}");
    server.signal(Signal::SIGTERM);
    assert!(server.wait_exit(Duration::from_secs(20)).success());
}

#[test]
fn a_password_typed_as_the_user_name_is_stored_nowhere_but_still_throttled() {
    const TYPED: &str = "S3cret-Passw0rd!";
    let (env, mut server, url, admin) = admin_server(&[]);
    let login = || {
        env.cmd()
            .env_remove("IMX_STORE")
            .env("IMX_KEYRING", "off")
            .args([
                "login",
                "--server",
                &url,
                "--user",
                TYPED,
                "--password-stdin",
            ])
            .write_stdin("whatever it was\n")
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap()
    };
    for _ in 0..5 {
        let out = login();
        assert_eq!(out.status.code(), Some(4));
        assert!(!String::from_utf8_lossy(&out.stderr).contains(TYPED));
    }
    // Throttled like any name: the sixth attempt is refused without a try.
    let sixth = login();
    assert_eq!(sixth.status.code(), Some(4));
    assert!(
        String::from_utf8_lossy(&sixth.stderr).contains("try again after"),
        "{}",
        String::from_utf8_lossy(&sixth.stderr)
    );
    let mut seen = String::new();
    for args in [
        &["audit", "list", "--all", "-o", "json"][..],
        &["audit", "report", "-o", "json"],
        &["user", "list", "-o", "json"],
    ] {
        let out = remote_in(&env, &url, &admin, args, "");
        out.expect_code(0);
        seen.push_str(&out.stdout);
    }
    assert!(
        seen.contains("auth.login") && seen.contains("unknown:"),
        "{seen}"
    );
    // Stopped, the server checkpoints the WAL into the file; then every file of the store.
    server.signal(Signal::SIGTERM);
    assert!(server.wait_exit(Duration::from_secs(20)).success());
    let dir = env.store().parent().unwrap().to_path_buf();
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        if entry.path().is_file() {
            let bytes = std::fs::read(entry.path()).unwrap();
            assert!(
                !String::from_utf8_lossy(&bytes).contains(TYPED),
                "{TYPED} is in {:?}",
                entry.path()
            );
            files += 1;
        }
    }
    assert!(files >= 1);
    let conn = rusqlite::Connection::open(env.store()).unwrap();
    let throttled: i64 = conn
        .query_row(
            "SELECT count(*) FROM login_source_throttle WHERE name LIKE 'unknown:%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(throttled, 1);
    let local = env.run(["audit", "list", "--all", "-o", "json"]);
    assert!(!local.stdout.contains(TYPED));
    env.run(["audit", "verify"]).expect_code(0);
}

#[test]
fn repeated_denials_are_coalesced_and_the_chain_verifies() {
    let (env, _server, url, admin) = admin_server(&[]);
    let viewer = remote_in(
        &env,
        &url,
        &admin,
        &[
            "token", "create", "--name", "peeker", "--role", "viewer", "-q",
        ],
        "",
    );
    viewer.expect_code(0);
    let viewer = viewer.stdout.trim().to_string();
    let api = Api::new(&url);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        for _ in 0..500 {
            let r = api.get("/api/v1/users", Some(&viewer)).await;
            assert_eq!(r.status, 403, "{r:?}");
        }
    });
    let out = remote_in(
        &env,
        &url,
        &admin,
        &[
            "audit",
            "list",
            "--actor",
            "token:peeker",
            "--outcome",
            "denied",
            "--all",
            "-o",
            "json",
        ],
        "",
    );
    out.expect_code(0);
    let records: Value = serde_json::from_str(&out.stdout).unwrap();
    let records = records.as_array().unwrap();
    assert!(
        (1..=3).contains(&records.len()),
        "500 denials in {} records",
        records.len()
    );
    let total: i64 = records
        .iter()
        .map(|r| r["details"]["count"].as_i64().unwrap())
        .sum();
    assert_eq!(total, 500, "{records:?}");
    assert!(records.iter().all(|r| r["action"] == "user.list"));
    remote_in(&env, &url, &admin, &["audit", "verify"], "").expect_code(0);
}

#[test]
fn the_bearer_scheme_is_case_insensitive() {
    let (_env, _server, url, admin) = admin_server(&[]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = reqwest::Client::new();
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let r = rt
            .block_on(
                client
                    .get(format!("{url}/api/v1/whoami"))
                    .header("Authorization", format!("{scheme} {admin}"))
                    .send(),
            )
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{scheme}");
    }
    let r = rt
        .block_on(
            client
                .get(format!("{url}/api/v1/whoami"))
                .header("Authorization", format!("Basic {admin}"))
                .send(),
        )
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
}

#[test]
fn non_admins_see_neither_the_store_path_nor_where_backups_are() {
    let (env, _server, url, admin) = admin_server(&[]);
    let store = env.store().display().to_string();
    let dir = env.store().parent().unwrap().display().to_string();
    let operator = remote_in(
        &env,
        &url,
        &admin,
        &[
            "token", "create", "--name", "ops", "--role", "operator", "-q",
        ],
        "",
    );
    operator.expect_code(0);
    let operator = operator.stdout.trim().to_string();
    let api = Api::new(&url);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let made = rt.block_on(api.post("/api/v1/backups", Some(&operator), &json!({})));
    assert_eq!(made.status, 201, "{made:?}");
    let id = made.json["manifest"]["id"].as_str().unwrap().to_string();
    let mut seen = vec![made.json.to_string()];
    for path in [
        "/api/v1/status".to_string(),
        "/api/v1/backups".into(),
        format!("/api/v1/backups/{id}"),
    ] {
        let r = rt.block_on(api.get(&path, Some(&operator)));
        assert_eq!(r.status, 200, "{path}: {r:?}");
        seen.push(r.json.to_string());
    }
    for (path, body) in [
        (format!("/api/v1/backups/{id}/verify"), json!({})),
        ("/api/v1/audit/report".into(), json!({})),
    ] {
        let r = rt.block_on(api.post(&path, Some(&operator), &body));
        assert_eq!(r.status, 200, "{path}: {r:?}");
        seen.push(r.json.to_string());
    }
    for text in &seen {
        assert!(!text.contains(&dir), "{dir} shown to an operator: {text}");
    }
    // Admins still see it.
    let r = rt.block_on(api.get("/api/v1/status", Some(&admin)));
    assert!(r.json.to_string().contains(&store), "{r:?}");
    // Downloading (every password hash) is for admins only.
    let r = rt.block_on(api.get(&format!("/api/v1/backups/{id}/file"), Some(&operator)));
    r.expect_error(403, "forbidden", &["permission denied"]);
    let r = rt.block_on(api.get(&format!("/api/v1/backups/{id}/file"), Some(&admin)));
    assert_eq!(r.status, 200);
}
