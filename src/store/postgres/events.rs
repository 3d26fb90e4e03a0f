//! The durable change feed on PostgreSQL: one row per transition, read in commit order by its
//! `feed_seq` (see [`super::sequence`]; rows not numbered yet are not read).

use super::tx::{PgTx, get};
use crate::Result;
use crate::model::{Event, now_ms};

/// Append an event inside `tx`.
pub fn insert_event(
    tx: &PgTx<'_>,
    kind: &str,
    run_id: Option<&str>,
    step_id: Option<&str>,
    data: serde_json::Value,
) -> Result<()> {
    tx.hint_changes();
    // Sent with the transaction's next query or its commit (nothing reads its id).
    tx.defer_event(now_ms(), kind, run_id, step_id, data.to_string());
    Ok(())
}

/// Events with `feed_seq` after `after`, oldest first (`after < 0`: only the latest one); each
/// event's `id` is its `feed_seq`, the cursor to continue from.
pub fn events_after(tx: &PgTx<'_>, after: i64, limit: u32) -> Result<Vec<Event>> {
    let limit = i64::from(limit);
    let rows = if after < 0 {
        tx.query(
            "SELECT feed_seq, time, kind, run_id, step_id, data FROM events
             WHERE feed_seq IS NOT NULL ORDER BY feed_seq DESC LIMIT least($1::bigint, 1)",
            &[&limit],
        )?
    } else {
        tx.query(
            "SELECT feed_seq, time, kind, run_id, step_id, data FROM events
             WHERE feed_seq > $1 ORDER BY feed_seq LIMIT $2",
            &[&after, &limit],
        )?
    };
    rows.iter()
        .map(|r| {
            let data: String = get(r, 5)?;
            Ok(Event {
                id: get(r, 0)?,
                time: get(r, 1)?,
                kind: get(r, 2)?,
                run_id: get(r, 3)?,
                step_id: get(r, 4)?,
                data: serde_json::from_str(&data).unwrap_or(serde_json::Value::Null),
            })
        })
        .collect()
}

/// The latest event's cursor (0 when there is none).
pub fn latest(tx: &PgTx<'_>) -> Result<i64> {
    get(
        &tx.query_one("SELECT coalesce(max(feed_seq), 0) FROM events", &[])?,
        0,
    )
}
