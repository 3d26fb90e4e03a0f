//! What the audit tools read and write beside the chain itself: the principals seen in it
//! (to reconstruct an interrupted checkpoint's record) and the store's identity (a restored
//! copy gets its own).

use rusqlite::{OptionalExtension, Transaction};

use crate::Result;

/// Every distinct (actor, source) pair in the audit table.
pub fn principals(tx: &Transaction<'_>) -> Result<Vec<(String, String)>> {
    let mut stmt = tx.prepare("SELECT DISTINCT actor, source FROM audit")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The hash of record `seq`, if the store holds it.
pub fn hash_at(tx: &Transaction<'_>, seq: i64) -> Result<Option<String>> {
    Ok(tx
        .query_row("SELECT hash FROM audit WHERE seq = ?1", [seq], |r| r.get(0))
        .optional()?)
}

/// Give the store a new identity (`meta.store_id`).
pub fn set_store_id(tx: &Transaction<'_>, id: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO meta (key, value) VALUES ('store_id', ?1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [id],
    )?;
    Ok(())
}
