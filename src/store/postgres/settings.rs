//! Store-wide settings kept in `meta` on PostgreSQL (see `store::sqlite::settings`): the
//! store's default run timeout and the backup folder.

use super::tx::{PgTx, get};
use crate::Result;

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

const STORE_KEY_CHECK: &str = "store_key_check";

/// The store key's check value, if one was recorded.
pub fn store_key_check(tx: &PgTx<'_>) -> Result<Option<String>> {
    tx.query_opt("SELECT value FROM meta WHERE key = $1", &[&STORE_KEY_CHECK])?
        .map(|r| get(&r, 0))
        .transpose()
}

/// Replace the store key's check value (a rekey).
pub fn set_store_key_check(tx: &PgTx<'_>, check: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO meta (key, value) VALUES ($1, $2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        &[&STORE_KEY_CHECK, &check],
    )?;
    Ok(())
}

/// Record the store key's check value unless one is there; the one recorded.
pub fn init_store_key_check(tx: &PgTx<'_>, check: &str) -> Result<String> {
    tx.execute(
        "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        &[&STORE_KEY_CHECK, &check],
    )?;
    Ok(store_key_check(tx)?.unwrap_or_else(|| check.to_string()))
}
