//! What the reaper reads on PostgreSQL: whether anything is due, and held attempts (the reaping
//! itself and the lease-lost transition are `store::flow::reap`; each decision locks its run
//! row first, and a held attempt another transaction ended meanwhile is left as it is).

use tokio_postgres::types::ToSql;

use super::tx::{PgTx, get, get_u32};
use crate::Result;
use crate::engine::HeldAttempt;
use crate::model::now_ms;

/// Whether anything is due for reaping (a cheap read).
pub fn due(tx: &PgTx<'_>) -> Result<bool> {
    let now = now_ms();
    let r = tx.query_one(
        "SELECT EXISTS (SELECT 1 FROM steps WHERE status IN ('leased', 'running') AND lease_until < $1)
             OR EXISTS (SELECT 1 FROM runs WHERE status IN ('queued', 'running') AND deadline < $1)
                 OR EXISTS (SELECT 1 FROM steps WHERE status = 'waiting' AND lease_until < $1)",
        &[&now],
    )?;
    get(&r, 0)
}

/// Held (leased or running) attempts matching `filter`, a condition on `steps` with `$1`.
pub(super) fn held_where(
    tx: &PgTx<'_>,
    filter: &str,
    args: &[&(dyn ToSql + Sync)],
) -> Result<Vec<HeldAttempt>> {
    let sql = format!(
        "SELECT run_id, step_id, attempt, lost, agent_name FROM steps
         WHERE status IN ('leased', 'running') AND {filter} ORDER BY seq"
    );
    tx.query(&sql, args)?
        .iter()
        .map(|r| {
            Ok(HeldAttempt {
                run_id: get(r, 0)?,
                step_id: get(r, 1)?,
                attempt: get_u32(r, 2)?,
                lost: get_u32(r, 3)?,
                agent: get::<Option<String>>(r, 4)?.unwrap_or_else(|| "?".into()),
            })
        })
        .collect()
}
