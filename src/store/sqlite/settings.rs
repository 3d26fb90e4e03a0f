//! Store-wide settings kept in `meta`: the default run timeout (`imx init
//! --default-run-timeout`; the timeout a new run gets is chosen in `store::flow::runs`), the
//! store's backup folder (`imx backup location`), and the store key's check value.

use rusqlite::{OptionalExtension, Transaction, params};

use crate::Result;

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

const STORE_KEY_CHECK: &str = "store_key_check";

/// The store key's check value, if one was recorded.
pub fn store_key_check(tx: &Transaction<'_>) -> Result<Option<String>> {
    Ok(tx
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([STORE_KEY_CHECK], |r| r.get(0))
        .optional()?)
}

/// Replace the store key's check value (a rekey).
pub fn set_store_key_check(tx: &Transaction<'_>, check: &str) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![STORE_KEY_CHECK, check])?;
    Ok(())
}

/// Record the store key's check value unless one is there; the one recorded.
pub fn init_store_key_check(tx: &Transaction<'_>, check: &str) -> Result<String> {
    tx.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
    )?
    .execute(params![STORE_KEY_CHECK, check])?;
    Ok(store_key_check(tx)?.unwrap_or_else(|| check.to_string()))
}
