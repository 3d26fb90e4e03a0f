//! Test helpers for tests outside the store that need the file in a state no store method
//! produces (a store as an older imx left it) or need to look at rows no method returns, and
//! the store's migration tests.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use rusqlite::Connection;

use super::{Backend, Store};

/// The SQLite store's transaction, for tests that tamper with rows directly.
pub(crate) type SqliteTx<'a> = rusqlite::Transaction<'a>;

/// Direct edits of the audit table, for tests of what verification finds.
pub(crate) use super::sqlite::audit::tamper;

/// A store at `path` as imx with schema 4 left it, holding an online agent "w" with `id`
/// (registered before agents were bound to principals).
pub(crate) fn schema4_store_with_agent(path: &Path, id: &str) {
    let mut conn = Connection::open(path).unwrap();
    super::schema::migrate_to(&mut conn, 0, 4).unwrap();
    conn.execute(
        "INSERT INTO agents (id, name, labels, slots, registered_at, last_heartbeat, hostname, pid, version)
         VALUES (?1, 'w', '{}', 1, ?2, ?2, 'h', 100, 'old')",
        rusqlite::params![id, crate::model::now_ms()],
    )
    .unwrap();
}

/// Every name in the login throttle tables (per account and per source) of a SQLite store.
pub(crate) fn throttled_names(store: &dyn Backend) -> Vec<String> {
    let store = store.as_sqlite().expect("a SQLite store");
    store
        .read(|tx| {
            let mut all = Vec::new();
            for table in ["login_throttle", "login_source_throttle"] {
                let mut stmt = tx.prepare(&format!("SELECT name FROM {table}"))?;
                let names = stmt.query_map([], |r| r.get::<_, String>(0))?;
                for n in names {
                    all.push(n?);
                }
            }
            Ok(all)
        })
        .unwrap()
}

/// Insert captured lines for `run_id`/`step_id` (attempt 1, stdout) as they are, with no run
/// behind them: bulk for backup tests.
pub(crate) fn insert_log_lines(
    tx: &rusqlite::Transaction<'_>,
    run_id: &str,
    step_id: &str,
    lines: impl IntoIterator<Item = String>,
) -> crate::Result<()> {
    let mut ins = tx.prepare(
        "INSERT INTO logs (run_id, step_id, attempt, time, stream, line)
         VALUES (?1, ?2, 1, 0, 'stdout', ?3)",
    )?;
    for line in lines {
        ins.execute(rusqlite::params![run_id, step_id, line])?;
    }
    Ok(())
}

/// What migration 0006 does to a store written before it: names that are no user leave the
/// throttle table (they held whatever was typed, passwords at times), and tokens without an
/// expiry get one, 90 days on.
#[test]
fn the_upgrade_forgets_unknown_names_and_ends_endless_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("imx.db");
    drop(Store::open(&path, true).unwrap());
    let conn = Connection::open(&path).unwrap();
    // The store as it was before the migration.
    conn.execute_batch(
        "DROP TABLE login_source_throttle;
         INSERT INTO users (name, role, disabled, created_at, updated_at)
           VALUES ('kim', 'viewer', 0, 0, 0);
         INSERT INTO login_throttle (name, failures, lockouts, locked_until, last_failure)
           VALUES ('S3cret-Passw0rd!', 3, 0, NULL, 1), ('kim', 2, 0, NULL, 1);
         INSERT INTO tokens (id, name, user_name, role, secret_hash, last4, created_at,
                             created_by, expires_at, revoked_at)
           VALUES ('T1', 'forever', NULL, 'agent', 'h1', 'abcd', 0, 'x', NULL, NULL),
                  ('T2', 'dated', NULL, 'agent', 'h2', 'abcd', 0, 'x', 12345, NULL),
                  ('T3', 'gone', NULL, 'agent', 'h3', 'abcd', 0, 'x', NULL, 7);",
    )
    .unwrap();
    conn.execute_batch(include_str!("migrations/0006_login_sources.sql"))
        .unwrap();
    let names: Vec<String> = conn
        .prepare("SELECT name FROM login_throttle")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(names, ["kim"]);
    let expiry = |id: &str| -> Option<i64> {
        conn.query_row("SELECT expires_at FROM tokens WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .unwrap()
    };
    let in_90_days = crate::model::now_ms() + 90 * 86_400_000;
    let forever = expiry("T1").unwrap();
    assert!(
        (forever - in_90_days).abs() < 60_000,
        "{forever} vs {in_90_days}"
    );
    assert_eq!(expiry("T2"), Some(12345));
    assert_eq!(expiry("T3"), None, "revoked tokens stay as they were");
}

/// The storage boundary (DESIGN §2): nothing in the crate (library, `commands/`, `tui/`) outside
/// `src/store/` names the SQLite driver, writes SQL or calls the SQLite store's functions
/// (`store::sqlite::…`): callers go through the backend-neutral traits of `store::api`, so a
/// second backend replaces the store alone. What only a SQLite file can do goes through
/// `Backend::as_sqlite`. (The CLI tests and the benches open the file directly on purpose: they
/// poke at what the SQLite store leaves on disk.)
#[test]
fn nothing_outside_the_store_names_rusqlite_or_writes_sql() {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let store = root.join("src").join("store");
    let mut files = Vec::new();
    for dir in ["src", "commands", "tui"] {
        walk(&root.join(dir), &mut files);
    }
    let sql = [
        "\"SELECT ",
        "\"INSERT INTO",
        "\"UPDATE ",
        "\"DELETE FROM",
        "\"PRAGMA ",
        "\"CREATE TABLE",
    ];
    let mut offenders = Vec::new();
    for f in files.iter().filter(|f| !f.starts_with(&store)) {
        let text = std::fs::read_to_string(f).unwrap();
        let name = f.strip_prefix(root).unwrap().display().to_string();
        if text.contains("rusqlite") {
            offenders.push(format!("{name} names rusqlite"));
        }
        if text.contains("store::sqlite") {
            offenders.push(format!(
                "{name} calls the SQLite store directly (use the traits of store::api)"
            ));
        }
        if let Some(s) = sql.iter().find(|s| text.contains(*s)) {
            offenders.push(format!("{name} writes SQL ({s}…)"));
        }
    }
    assert!(files.len() > 50, "the sources were found");
    assert!(offenders.is_empty(), "{offenders:#?}");
}

/// A store created at `path` holding one audit record (seq 1): the smallest store a backup or
/// snapshot can be checked against.
pub(crate) fn store_with_one_record(path: &Path) -> Store {
    let store = Store::open(path, true).unwrap();
    store
        .write(|tx| {
            crate::audit::append(
                tx,
                &crate::auth::Principal::local_owner(),
                "test",
                "t",
                "ok",
                serde_json::Value::Null,
            )
        })
        .unwrap();
    store
}

/// What migration 0012 does to a store written before it: workflow versions keep their specs
/// and digests and have no source; applying the same workflow again keeps its version and
/// gives it the file; a changed one is a new version with its file.
#[test]
fn workflow_versions_from_before_sources_were_kept_have_none_until_reapplied() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("imx.db");
    let mut conn = Connection::open(&path).unwrap();
    super::schema::migrate_to(&mut conn, 0, 8).unwrap();
    let file = "name: w\nsteps:\n  - id: a\n    noop: true\n";
    let spec = crate::spec::parse_str(file, "w.yaml").unwrap();
    let bare = crate::model::WorkflowSpec {
        source: None,
        ..spec.clone()
    };
    conn.execute(
        "INSERT INTO workflows (name, version, digest, spec, created_at) VALUES ('w', 1, ?1, ?2, 0)",
        rusqlite::params![
            super::sqlite::workflows::digest(&spec).unwrap(),
            serde_json::to_string(&bare).unwrap()
        ],
    )
    .unwrap();
    drop(conn);

    let store = Store::open(&path, false).unwrap();
    let old = store
        .read(|tx| super::sqlite::workflows::get(tx, "w", None))
        .unwrap();
    assert_eq!(old.spec, bare);
    let again = store
        .write(|tx| super::sqlite::workflows::apply(tx, &spec, false))
        .unwrap();
    assert_eq!(
        (again.version, again.action),
        (1, crate::control::ApplyAction::Unchanged)
    );
    let kept = store
        .read(|tx| super::sqlite::workflows::get(tx, "w", Some(1)))
        .unwrap();
    assert_eq!(kept.spec.source.as_deref(), Some(file));

    let file2 = "name: w\nsteps:\n  - id: b\n    noop: true\n";
    let spec2 = crate::spec::parse_str(file2, "w.yaml").unwrap();
    let v2 = store
        .write(|tx| super::sqlite::workflows::apply(tx, &spec2, false))
        .unwrap();
    assert_eq!(v2.version, 2);
    let got = store
        .read(|tx| super::sqlite::workflows::get(tx, "w", None))
        .unwrap();
    assert_eq!(got.spec, spec2);
}
