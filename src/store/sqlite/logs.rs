//! Captured output, as followers see it: which runs' logs grew since a given line.

use rusqlite::{Transaction, params};

use crate::Result;
use crate::model::LogMark;

/// For each run with lines newer than `after`, its newest line id, in that order (at most
/// `limit` runs). A negative `after`: only the newest line's mark (none if there are no lines).
/// Reads only the new lines (a range of the primary key).
pub fn marks(tx: &Transaction<'_>, after: i64, limit: u32) -> Result<Vec<LogMark>> {
    let mut stmt = if after < 0 {
        tx.prepare_cached(
            "SELECT run_id, id FROM logs WHERE ?1 < 0 ORDER BY id DESC LIMIT min(?2, 1)",
        )?
    } else {
        tx.prepare_cached(
            "SELECT run_id, max(id) AS last FROM logs WHERE id > ?1
             GROUP BY run_id ORDER BY last LIMIT ?2",
        )?
    };
    let rows = stmt.query_map(params![after, limit], |r| {
        Ok(LogMark {
            run_id: r.get(0)?,
            last_id: r.get(1)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
