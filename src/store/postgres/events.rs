//! The durable change feed on PostgreSQL: one row per transition (its `txid` is filled in by
//! the table's default, for the feed's visibility horizon: see [`super::feed`]).

use super::tx::PgTx;
use crate::Result;
use crate::model::now_ms;

/// Append an event inside `tx`.
pub fn insert_event(
    tx: &PgTx<'_>,
    kind: &str,
    run_id: Option<&str>,
    step_id: Option<&str>,
    data: serde_json::Value,
) -> Result<()> {
    tx.execute(
        "INSERT INTO events (time, kind, run_id, step_id, data) VALUES ($1, $2, $3, $4, $5)",
        &[&now_ms(), &kind, &run_id, &step_id, &data.to_string()],
    )?;
    Ok(())
}
