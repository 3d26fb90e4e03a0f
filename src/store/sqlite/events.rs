//! The durable change feed: one row per transition.

use rusqlite::{Transaction, params};

use crate::Result;
use crate::model::{Event, now_ms};

/// Append an event inside `tx`.
pub fn insert_event(
    tx: &Transaction<'_>,
    kind: &str,
    run_id: Option<&str>,
    step_id: Option<&str>,
    data: serde_json::Value,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO events (time, kind, run_id, step_id, data) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![now_ms(), kind, run_id, step_id, data.to_string()])?;
    Ok(())
}

impl crate::store::Store {
    /// Events after `after`, oldest first (a page: a quick read).
    pub fn events_after(&self, after: i64, limit: u32) -> Result<Vec<Event>> {
        self.read_quick(|tx| events_after(tx, after, limit))
    }
}

/// Events after `after`, oldest first, inside `tx` (`after < 0`: only the latest one).
pub(super) fn events_after(tx: &Transaction<'_>, after: i64, limit: u32) -> Result<Vec<Event>> {
    let mut stmt = if after < 0 {
        tx.prepare_cached(
            "SELECT id, time, kind, run_id, step_id, data FROM events
                     WHERE ?1 < 0 ORDER BY id DESC LIMIT min(?2, 1)",
        )?
    } else {
        tx.prepare_cached(
                "SELECT id, time, kind, run_id, step_id, data FROM events WHERE id > ?1 ORDER BY id LIMIT ?2",
            )?
    };
    let rows = stmt.query_map(params![after, limit], |r| {
        let data: String = r.get(5)?;
        Ok(Event {
            id: r.get(0)?,
            time: r.get(1)?,
            kind: r.get(2)?,
            run_id: r.get(3)?,
            step_id: r.get(4)?,
            data: serde_json::from_str(&data).unwrap_or(serde_json::Value::Null),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
