//! Moving a store between kinds through the real binary (issue 11): `backup create` on a
//! PostgreSQL store writes the logical format, which `backup verify` checks and `backup
//! restore` puts back (refusing a store holding data without --force), locally and through a
//! server on PostgreSQL; `imx store copy` refuses a target holding data without --force; and
//! failure test 6: SQLite → PostgreSQL → SQLite with finished, in-flight and queued runs, after
//! which the counts agree, the chains verify and the runs go on. Skipped (with a message)
//! without PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use crate::env::{SLOW, TestEnv, wait_until};
use crate::postgres::testdb::TestDb;
use crate::server::remote;

/// A fresh database, or `None` (the test then says it skipped).
fn database() -> Option<(TestDb, tokio::runtime::Runtime)> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let db = rt.block_on(TestDb::get())?;
    Some((db, rt))
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `imx store copy --from FROM --to TO EXTRA… -o json` by `env`: its report.
fn copied(env: &TestEnv, from: &str, to: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["store", "copy", "--from", from, "--to", to];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["-o", "json"]);
    json(&env.run(args))
}

fn json(out: &crate::env::Outcome) -> serde_json::Value {
    out.expect_code(0);
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {out:?}"))
}

#[test]
fn backups_of_a_postgres_store_are_logical_and_restore_into_it() {
    let Some((db, _rt)) = database() else { return };
    let pg = db.url();
    let env = TestEnv::new().with_var("IMX_KEYRING", "off");
    let init = env.run(["init", "--database", &pg, "--admin", "root"]);
    init.expect_code(0);
    let admin = init.stdout.trim().to_string();
    let wf = env.write("wf.yaml", "name: one\nsteps:\n  - id: a\n    noop: true\n");
    env.run(["--store", &pg, "workflow", "apply", "-f", s(&wf)])
        .expect_code(0);
    env.run(["--store", &pg, "workflow", "run", "one", "-q"])
        .expect_code(0);

    // The store's own format by default: logical on PostgreSQL.
    let dir = env.home().join("pg-backups");
    let out = format!("{}/", dir.display());
    let created = json(&env.run([
        "--store", &pg, "backup", "create", "--out", &out, "-o", "json",
    ]));
    assert_eq!(created["manifest"]["format"], "logical", "{created:#}");
    assert_eq!(created["manifest"]["tables"]["runs"], 1, "{created:#}");
    let id = created["manifest"]["id"].as_str().unwrap().to_string();
    env.run(["--store", &pg, "backup", "verify", "--dir", s(&dir), &id])
        .expect_code(0);
    // A page snapshot needs a SQLite file.
    env.run([
        "--store", &pg, "backup", "create", "--format", "sqlite", "--out", &out,
    ])
    .expect_error(2);

    // Restoring over the store: refused while it holds data, done with --force.
    env.run(["--store", &pg, "workflow", "run", "one", "-q"])
        .expect_code(0);
    env.run(["--store", &pg, "backup", "restore", "--dir", s(&dir), &id])
        .expect_error(5)
        .expect_stderr(&["already holds data", "--force"]);
    env.run([
        "--store",
        &pg,
        "backup",
        "restore",
        "--dir",
        s(&dir),
        &id,
        "--force",
    ])
    .expect_code(0);
    let runs = env.run(["--store", &pg, "run", "list", "-o", "name"]);
    runs.expect_code(0);
    assert_eq!(
        runs.stdout.lines().count(),
        1,
        "the backup's one run: {runs:?}"
    );
    env.run(["--store", &pg, "audit", "verify"]).expect_code(0);
    let restores = env.run([
        "--store",
        &pg,
        "audit",
        "list",
        "--action",
        "backup.restore",
        "-o",
        "json",
    ]);
    restores.expect_code(0);
    assert!(restores.stdout.contains("\"ok\""), "{restores:?}");
    // New ids do not collide with the restored ones.
    env.run(["--store", &pg, "workflow", "run", "one", "-q"])
        .expect_code(0);
    // The same backup restores into a new SQLite file as well.
    let file = env.home().join("from-pg.db");
    env.run([
        "--store",
        &pg,
        "backup",
        "restore",
        "--dir",
        s(&dir),
        &id,
        "--to",
        s(&file),
    ])
    .expect_code(0);
    let there = env.run(["--store", s(&file), "run", "list", "-o", "name"]);
    there.expect_code(0);
    assert_eq!(there.stdout.lines().count(), 1, "{there:?}");

    // Through a server on PostgreSQL: the same, by id in the server's folder.
    let served = env.home().join("served-backups");
    let server = env.spawn([
        "server",
        "--listen",
        "127.0.0.1:0",
        "--database",
        &pg,
        "--backup-dir",
        s(&served),
    ]);
    let mut url = String::new();
    wait_until("the replica to print its URL", SLOW, || {
        url = server.stdout().trim().to_string();
        url.starts_with("http://")
    });
    let made = json(&remote(
        &env,
        &url,
        &admin,
        &["backup", "create", "-o", "json"],
    ));
    assert_eq!(made["manifest"]["format"], "logical", "{made:#}");
    let id = made["manifest"]["id"].as_str().unwrap();
    remote(&env, &url, &admin, &["backup", "verify", id]).expect_code(0);
}

#[test]
fn store_copy_refuses_a_target_holding_data_unless_forced() {
    let Some((db, _rt)) = database() else { return };
    let pg = db.url();
    let env = TestEnv::new();
    let wf = env.write("wf.yaml", "name: one\nsteps:\n  - id: a\n    noop: true\n");
    env.run(["workflow", "apply", "-f", s(&wf)]).expect_code(0);
    let store = env.store();
    let up = copied(&env, s(&store), &pg, &[]);
    assert_eq!(up["tables"]["workflows"], 1, "{up:#}");
    assert_eq!(up["replaced"], false);
    assert_eq!(up["audit"]["ok"], true);
    env.run(["store", "copy", "--from", s(&store), "--to", &pg])
        .expect_error(5)
        .expect_stderr(&["already holds data", "--force"]);
    // The other way: the SQLite store holds data too.
    env.run(["store", "copy", "--from", &pg, "--to", s(&store)])
        .expect_error(5);
    env.run([
        "workflow",
        "apply",
        "-f",
        s(&env.write("two.yaml", "name: two\nsteps:\n  - id: b\n    noop: true\n")),
    ])
    .expect_code(0);
    let forced = copied(&env, s(&store), &pg, &["--force"]);
    assert_eq!(forced["replaced"], true);
    assert_eq!(forced["tables"]["workflows"], 2, "{forced:#}");
    let listed = env.run(["--store", &pg, "workflow", "list", "-o", "name"]);
    listed.expect_code(0);
    assert_eq!(listed.stdout.lines().count(), 2, "{listed:?}");
    // A store is not copied onto itself; a missing source is not created.
    env.run([
        "store",
        "copy",
        "--from",
        s(&store),
        "--to",
        s(&store),
        "--force",
    ])
    .expect_error(2);
    let missing = env.home().join("missing.db");
    env.run([
        "store",
        "copy",
        "--from",
        s(&missing),
        "--to",
        &pg,
        "--force",
    ])
    .expect_error(6);
    assert!(!missing.exists());
}

/// Failure test 6 of issue 11: a SQLite store with a finished run, one in flight (its step
/// running on an agent) and one queued is copied to PostgreSQL and back to a new SQLite file;
/// the rows per table agree at each step, the audit chains verify, and on the copied-back
/// store an agent finishes the in-flight and queued runs and a new run completes.
#[test]
fn sqlite_to_postgres_to_sqlite_keeps_everything_and_runs_go_on() {
    let Some((db, _rt)) = database() else { return };
    let pg = db.url();
    let env = TestEnv::new().with_var("IMX_LEASE", "3s");
    let go = env.home().join("go");
    env.apply(
        "rt.yaml",
        &format!(
            "name: rt\nsteps:\n  - id: a\n    run: test -e {} || sleep 600\n",
            go.display()
        ),
    );
    std::fs::write(&go, "").unwrap();
    let mut agent = env.agent("w1", 1);
    let finished = env.start("rt", &[]);
    assert_eq!(env.finish(&finished)["status"], "succeeded");
    std::fs::remove_file(&go).unwrap();
    let in_flight = env.start("rt", &[]);
    wait_until("the step to be running", SLOW, || {
        TestEnv::step(&env.show_run(&in_flight), "a")["status"] == "running"
    });
    let queued = env.start("rt", &[]);

    let store = env.store();
    let up = copied(&env, s(&store), &pg, &[]);
    agent.signal(nix::sys::signal::Signal::SIGKILL);
    let _ = agent.wait_exit(SLOW);
    let back = TestEnv::bare().with_var("IMX_LEASE", "3s");
    let down = copied(&back, &pg, s(&back.store()), &[]);
    assert_eq!(up["tables"], down["tables"], "counts agree both ways");
    assert_eq!(up["tables"]["runs"], 3, "{up:#}");
    assert_eq!(up["audit"]["head_hash"], down["audit"]["head_hash"]);
    env.run(["--store", &pg, "audit", "verify"]).expect_code(0);
    back.run(["audit", "verify"]).expect_code(0);
    let shown = back.show_run(&in_flight);
    assert_eq!(TestEnv::step(&shown, "a")["status"], "running", "{shown:#}");
    assert_eq!(back.show_run(&queued)["status"], "queued");

    // On the copied-back store the runs go on: the lost lease is reaped, both runs finish, and
    // a new one completes.
    std::fs::write(&go, "").unwrap();
    let _w2 = back.agent("w2", 2);
    assert_eq!(back.finish(&in_flight)["status"], "succeeded");
    assert_eq!(back.finish(&queued)["status"], "succeeded");
    let fresh = back.start("rt", &[]);
    assert_eq!(back.finish(&fresh)["status"], "succeeded");
    assert_eq!(back.show_run(&finished)["status"], "succeeded");
}
