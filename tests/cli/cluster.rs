//! Cluster mode through the real binary: `imx init --database` creates the schema and the
//! first admin in a fresh PostgreSQL database; `imx server --database` serves it (two replicas
//! here), an agent given both replicas runs a workflow, and local commands open the database
//! directly with `--store postgres://…` or a context. Skipped (with a message) without
//! PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::env::{SLOW, TestEnv, wait_until};
use crate::postgres::testdb::TestDb;
use crate::server::remote;

/// A fresh database, or `None` (the test then says it skipped).
pub(crate) fn database() -> Option<(TestDb, tokio::runtime::Runtime)> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let db = rt.block_on(TestDb::get())?;
    Some((db, rt))
}

/// `imx server --database URL` on a free port, once it prints its URL.
pub(crate) fn replica(env: &TestEnv, db: &str) -> (crate::env::Background, String) {
    replica_with(env, db, &[])
}

/// [`replica`] with more flags.
fn replica_with(env: &TestEnv, db: &str, extra: &[&str]) -> (crate::env::Background, String) {
    let mut args = vec!["server", "--listen", "127.0.0.1:0", "--database", db];
    args.extend_from_slice(extra);
    let server = env.spawn(args);
    let mut url = String::new();
    wait_until("the replica to print its URL", SLOW, || {
        url = server.stdout().trim().to_string();
        url.starts_with("http://")
    });
    (server, url)
}

#[test]
fn replicas_over_postgres_run_workflows_and_local_commands_open_the_database() {
    let Some((db, _rt)) = database() else { return };
    let pg = db.url();
    let env = TestEnv::new().with_var("IMX_KEYRING", "off");

    let init = env.run(["init", "--database", &pg, "--admin", "root"]);
    init.expect_code(0);
    let admin = init.stdout.trim().to_string();
    assert!(admin.starts_with("imx_"), "{}", init.stderr);
    // Safe to run again; the schema is there.
    env.run(["init", "--database", &pg]).expect_code(0);

    let (_a, url_a) = replica(&env, &pg);
    let (_b, url_b) = replica(&env, &pg);
    let agent_token = remote(
        &env,
        &url_a,
        &admin,
        &["token", "create", "--role", "agent", "-q"],
    );
    agent_token.expect_code(0);
    let agent_token = agent_token.stdout.trim().to_string();
    let mut agent = env.std_cmd();
    agent
        .env_remove("IMX_STORE")
        .env("IMX_TOKEN", &agent_token)
        .args(["--server", &format!("{url_a},{url_b}")]);
    let _agent = env.spawn_with(agent, ["agent", "run", "--name", "pg-1", "--slots", "4"]);

    let wf = env.write(
        "wf.yaml",
        "name: fan\nsteps:\n  - id: a\n    run: echo hello from a\n  - id: b\n    needs: [a]\n    run: echo b\n  - id: c\n    needs: [a]\n    noop: true\n",
    );
    remote(
        &env,
        &url_b,
        &admin,
        &["workflow", "apply", "-f", wf.to_str().unwrap()],
    )
    .expect_code(0);
    let run = remote(
        &env,
        &url_b,
        &admin,
        &["workflow", "run", "fan", "--wait", "-o", "name"],
    );
    run.expect_code(0);
    let id = run.stdout.trim().to_string();
    // What one replica did, the other shows.
    let shown: serde_json::Value = serde_json::from_str(
        &remote(&env, &url_a, &admin, &["run", "show", &id, "-o", "json"]).stdout,
    )
    .unwrap();
    assert_eq!(shown["status"], "succeeded", "{shown:#}");
    let logs = remote(&env, &url_a, &admin, &["run", "logs", &id]);
    logs.expect_code(0);
    assert!(logs.stdout.contains("hello from a"), "{}", logs.stdout);

    // Local commands open the database directly: as its owner, like a local store.
    let listed = env.run(["--store", &pg, "run", "list", "-o", "name"]);
    listed.expect_code(0);
    assert_eq!(listed.stdout.trim(), id);
    env.run(["--store", &pg, "context", "add", "cluster", "--use"])
        .expect_code(0);
    let contexts = env.run_without_store(["context", "list"]);
    contexts.expect_code(0);
    assert!(
        contexts.stdout.contains("database postgres://"),
        "{}",
        contexts.stdout
    );
    let via_context = env.run_without_store(["run", "list", "-o", "name"]);
    via_context.expect_code(0);
    assert_eq!(via_context.stdout.trim(), id);
    // The audit chain is one chain across replicas and the CLI.
    env.run(["--store", &pg, "audit", "verify"]).expect_code(0);
}

#[test]
fn a_database_without_the_schema_is_not_created_by_accident() {
    let Some((db, _rt)) = database() else { return };
    let pg = db.url();
    let env = TestEnv::new();
    let out = env.run(["--store", &pg, "run", "list"]);
    assert_ne!(out.code, 0, "{}", out.stdout);
    assert!(out.stderr.contains("imx init"), "{}", out.stderr);
    let server = env.run(["server", "--listen", "127.0.0.1:0", "--database", &pg]);
    assert_ne!(server.code, 0);
}

/// A token revoked through replica A is refused by replica B within a second (issue 11), though
/// B had just accepted it and so holds it in its token cache (which alone would trust it for
/// two seconds): A's revocation tells every replica.
fn a_token_revoked_through_one_replica_is_refused_by_the_other_within_a_second(extra: &[&str]) {
    let Some((db, rt)) = database() else { return };
    let pg = db.url();
    let env = TestEnv::new().with_var("IMX_KEYRING", "off");
    let init = env.run(["init", "--database", &pg, "--admin", "root"]);
    init.expect_code(0);
    let admin = init.stdout.trim().to_string();
    let (_a, url_a) = replica_with(&env, &pg, extra);
    let (_b, url_b) = replica_with(&env, &pg, extra);
    let b = crate::http::Api::new(&url_b);
    for round in 0..3 {
        let name = format!("ci-{round}");
        let created = remote(
            &env,
            &url_a,
            &admin,
            &["token", "create", "--name", &name, "--role", "viewer", "-q"],
        );
        created.expect_code(0);
        let token = created.stdout.trim().to_string();
        let status = |token: &str| rt.block_on(b.get("/api/v1/status", Some(token))).status;
        assert_eq!(status(&token), 200, "replica B accepts the new token");
        remote(&env, &url_a, &admin, &["token", "revoke", &name]).expect_code(0);
        let revoked = std::time::Instant::now();
        wait_until("replica B to refuse the revoked token", SLOW, || {
            status(&token) == 401
        });
        let took = revoked.elapsed();
        assert!(
            took < std::time::Duration::from_secs(1),
            "replica B refused the revoked token only after {took:?} ({extra:?})"
        );
    }
}

#[test]
fn a_token_revoked_through_one_replica_is_refused_by_the_other_at_once() {
    a_token_revoked_through_one_replica_is_refused_by_the_other_within_a_second(&[]);
}

#[test]
fn without_listen_a_token_revoked_through_one_replica_is_refused_by_the_other_within_a_second() {
    a_token_revoked_through_one_replica_is_refused_by_the_other_within_a_second(&["--no-listen"]);
}
