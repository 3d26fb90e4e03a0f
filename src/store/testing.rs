//! Test helpers for tests outside the store that need the file in a state no store method
//! produces (a store as an older imx left it) or need to look at rows no method returns, and
//! the store's migration tests.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use rusqlite::Connection;

use super::Store;

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

/// Every name in the login throttle tables (per account and per source).
pub(crate) fn throttled_names(store: &Store) -> Vec<String> {
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
