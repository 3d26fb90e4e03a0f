//! Store-wide settings kept in `meta`: the default run timeout (`imx init
//! --default-run-timeout`), and the run timeout a new run gets — the first of: the run's own
//! (`--timeout`), the workflow's `timeout:`, the server's default (`imx server
//! --default-run-timeout`), the store's default, and the built-in 24 h. Also the store's backup
//! folder (`imx backup location`).

use rusqlite::{OptionalExtension, Transaction, params};

use crate::Result;
use crate::model::{BUILT_IN_RUN_TIMEOUT_MS, RunTimeout, TimeoutSource};

const DEFAULT_RUN_TIMEOUT: &str = "default_run_timeout_ms";

/// The store's default run timeout, if one was set.
pub fn default_run_timeout(tx: &Transaction<'_>) -> Result<Option<u64>> {
    let value: Option<String> = tx
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([DEFAULT_RUN_TIMEOUT], |r| r.get(0))
        .optional()?;
    Ok(value.and_then(|v| v.parse().ok()).filter(|&ms| ms > 0))
}

/// Set the store's default run timeout.
pub fn set_default_run_timeout(tx: &Transaction<'_>, ms: u64) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![DEFAULT_RUN_TIMEOUT, ms.to_string()])?;
    Ok(())
}

/// The run timeout of a new run: see the module doc.
pub fn run_timeout(
    tx: &Transaction<'_>,
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
pub fn backup_location(tx: &Transaction<'_>) -> Result<Option<String>> {
    Ok(tx
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([BACKUP_LOCATION], |r| r.get(0))
        .optional()?)
}

/// Set (or, with `None`, unset) the store's backup folder.
pub fn set_backup_location(tx: &Transaction<'_>, dir: Option<&str>) -> Result<()> {
    match dir {
        Some(dir) => tx
            .prepare_cached(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )?
            .execute(params![BACKUP_LOCATION, dir])?,
        None => tx
            .prepare_cached("DELETE FROM meta WHERE key = ?1")?
            .execute([BACKUP_LOCATION])?,
    };
    Ok(())
}
