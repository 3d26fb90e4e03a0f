//! Migrations: numbered, append-only SQL files run in order on open. `PRAGMA user_version`
//! records how far a store has been migrated.

use rusqlite::Connection;

use crate::Result;

/// Every migration, in order; index + 1 is the version it brings a store to.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_initial.sql"),
    include_str!("migrations/0002_audit_backup.sql"),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Bring the store from `current` to [`SCHEMA_VERSION`], one transaction per migration.
pub fn migrate(conn: &mut Connection, current: i64) -> Result<()> {
    for (i, sql) in MIGRATIONS.iter().enumerate() {
        let version = i as i64 + 1;
        if version <= current {
            continue;
        }
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute_batch(sql)?;
        if version == 1 {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('app', 'imx'), ('created_at', ?1), ('created_by', ?2)",
                rusqlite::params![
                    crate::model::now_ms().to_string(),
                    format!("imx {}", env!("CARGO_PKG_VERSION"))
                ],
            )?;
        }
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
    }
    Ok(())
}
