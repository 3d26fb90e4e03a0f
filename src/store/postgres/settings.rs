//! Store-wide settings kept in `meta` on PostgreSQL (see `store::sqlite::settings`): the
//! store's default run timeout, the run timeout a new run gets, and the backup folder.

use super::tx::{PgTx, get};
use crate::Result;
use crate::model::{BUILT_IN_RUN_TIMEOUT_MS, RunTimeout, TimeoutSource};

const DEFAULT_RUN_TIMEOUT: &str = "default_run_timeout_ms";

/// The store's default run timeout, if one was set.
pub fn default_run_timeout(tx: &PgTx<'_>) -> Result<Option<u64>> {
    let value: Option<String> = match tx.query_opt(
        "SELECT value FROM meta WHERE key = $1",
        &[&DEFAULT_RUN_TIMEOUT],
    )? {
        Some(r) => Some(get(&r, 0)?),
        None => None,
    };
    Ok(value.and_then(|v| v.parse().ok()).filter(|&ms| ms > 0))
}

/// Set the store's default run timeout.
pub fn set_default_run_timeout(tx: &PgTx<'_>, ms: u64) -> Result<()> {
    tx.execute(
        "INSERT INTO meta (key, value) VALUES ($1, $2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        &[&DEFAULT_RUN_TIMEOUT, &ms.to_string()],
    )?;
    Ok(())
}

/// The run timeout of a new run: the run's own, the workflow's, the server's default, the
/// store's default, else the built-in 24 h.
pub fn run_timeout(
    tx: &PgTx<'_>,
    requested: Option<u64>,
    workflow: Option<u64>,
    server: Option<u64>,
) -> Result<RunTimeout> {
    let pick = |ms: Option<u64>, source| ms.filter(|&m| m > 0).map(|ms| RunTimeout { ms, source });
    Ok(pick(requested, TimeoutSource::Run)
        .or_else(|| pick(workflow, TimeoutSource::Workflow))
        .or_else(|| pick(server, TimeoutSource::Server))
        .or(pick(default_run_timeout(tx)?, TimeoutSource::Store))
        .unwrap_or(RunTimeout {
            ms: BUILT_IN_RUN_TIMEOUT_MS,
            source: TimeoutSource::BuiltIn,
        }))
}

const BACKUP_LOCATION: &str = "backup_location";

/// The store's backup folder, if one was set.
pub fn backup_location(tx: &PgTx<'_>) -> Result<Option<String>> {
    tx.query_opt("SELECT value FROM meta WHERE key = $1", &[&BACKUP_LOCATION])?
        .map(|r| get(&r, 0))
        .transpose()
}

/// Set (or, with `None`, unset) the store's backup folder.
pub fn set_backup_location(tx: &PgTx<'_>, dir: Option<&str>) -> Result<()> {
    match dir {
        Some(dir) => tx.execute(
            "INSERT INTO meta (key, value) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&BACKUP_LOCATION, &dir],
        )?,
        None => tx.execute("DELETE FROM meta WHERE key = $1", &[&BACKUP_LOCATION])?,
    };
    Ok(())
}
