//! Migrations: numbered, append-only SQL files run in order on open. `PRAGMA user_version`
//! records how far a store has been migrated.

use rusqlite::Connection;

use crate::Result;

/// Every migration, in order; index + 1 is the version it brings a store to (file numbers are
/// reserved per change and may be ahead of the position: 0012 was written before 0009–0011).
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_initial.sql"),
    include_str!("migrations/0002_users.sql"),
    include_str!("migrations/0003_dashboard.sql"),
    include_str!("migrations/0004_audit_backup.sql"),
    include_str!("migrations/0005_agent_binding.sql"),
    include_str!("migrations/0006_login_sources.sql"),
    include_str!("migrations/0007_run_timeout_source.sql"),
    include_str!("migrations/0008_agent_lease_and_log_bytes.sql"),
    include_str!("migrations/0012_workflow_source.sql"),
    include_str!("migrations/0013_steps_by_agent.sql"),
    include_str!("migrations/0014_triggers.sql"),
    include_str!("migrations/0015_concurrency.sql"),
    include_str!("migrations/0016_schedules.sql"),
    include_str!("migrations/0017_notifications.sql"),
    include_str!("migrations/0018_secrets.sql"),
    include_str!("migrations/0019_schedule_run_indexes.sql"),
    include_str!("migrations/0022_waiting_approvals.sql"),
    include_str!("migrations/0023_run_labels.sql"),
    include_str!("migrations/0024_artifacts.sql"),
    include_str!("migrations/0025_step_instances.sql"),
    include_str!("migrations/0026_trigger_labels.sql"),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Bring the store from `current` to [`SCHEMA_VERSION`], one transaction per migration.
/// Several processes may open a new store at once: each migration re-reads the version under
/// the write lock and is skipped when another process already applied it. Returns whether this
/// call initialised the store (applied migration 1).
pub fn migrate(conn: &mut Connection, current: i64) -> Result<bool> {
    migrate_to(conn, current, SCHEMA_VERSION)
}

/// Bring a store from `current` up to `target` only: tests build a store as an older imx left it.
pub(crate) fn migrate_to(conn: &mut Connection, current: i64, target: i64) -> Result<bool> {
    let mut initialised = false;
    for (i, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .take(usize::try_from(target).unwrap_or(0))
    {
        let version = i as i64 + 1;
        if version <= current {
            continue;
        }
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let applied: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if applied >= version {
            continue; // another process got there first; the transaction rolls back
        }
        initialised |= version == 1;
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
    Ok(initialised)
}
