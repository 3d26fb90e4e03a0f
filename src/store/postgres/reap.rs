//! Reaping and the lease-lost transition on PostgreSQL (see `store::sqlite::reap`): expired
//! leases are lost (`engine::transitions::lost`), overdue runs time out
//! (`engine::transitions::end`). Each decision locks its run row first; a held attempt another
//! transaction ended meanwhile is left as it is.

use tokio_postgres::types::ToSql;

use super::transitions::{decide, run_and_step, run_head};
use super::tx::{PgTx, get, get_u32};
use super::workflows;
use crate::Result;
use crate::engine::transitions as engine;
use crate::engine::{HeldAttempt, Loaded, LostCause, SpecCache};
use crate::model::now_ms;

/// Whether anything is due for reaping (a cheap read).
pub fn due(tx: &PgTx<'_>) -> Result<bool> {
    let now = now_ms();
    let r = tx.query_one(
        "SELECT EXISTS (SELECT 1 FROM steps WHERE status IN ('leased', 'running') AND lease_until < $1)
             OR EXISTS (SELECT 1 FROM runs WHERE status IN ('queued', 'running') AND deadline < $1)",
        &[&now],
    )?;
    get(&r, 0)
}

/// Expire lost leases and time out overdue runs. Returns how many things changed.
pub fn reap(tx: &PgTx<'_>, cache: &SpecCache) -> Result<usize> {
    let now = now_ms();
    let mut changed = 0;
    let expired = held_where(tx, "lease_until < $1", &[&now])?;
    for held in &expired {
        if lose(tx, cache, held, &LostCause::Expired)? {
            changed += 1;
        }
    }
    let overdue: Vec<String> = tx
        .query(
            "SELECT id FROM runs WHERE status IN ('queued', 'running') AND deadline < $1
             ORDER BY id",
            &[&now],
        )?
        .iter()
        .map(|r| get(r, 0))
        .collect::<Result<_>>()?;
    for run_id in overdue {
        let head = run_head(tx, &run_id)?;
        let ix = workflows::index(tx, cache, &head.workflow, head.version)?;
        let mut st = Loaded::new(&ix, head, now);
        if decide(tx, &mut st, engine::end::time_out)?.is_ok() {
            changed += 1;
        }
    }
    Ok(changed)
}

/// Every attempt `agent_id` holds is lost, for `cause`. Returns how many there were.
pub fn lose_held(
    tx: &PgTx<'_>,
    cache: &SpecCache,
    agent_id: &str,
    cause: &LostCause,
) -> Result<usize> {
    let held = held_where(tx, "agent_id = $1", &[&agent_id])?;
    for h in &held {
        lose(tx, cache, h, cause)?;
    }
    Ok(held.len())
}

/// Held (leased or running) attempts matching `filter`, a condition on `steps` with `$1`.
fn held_where(
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

/// The lease-lost transition for one held attempt, decided from its rows as they are now
/// (locked; another transaction may have ended it meanwhile). Whether it changed anything.
pub fn lose(
    tx: &PgTx<'_>,
    cache: &SpecCache,
    held: &HeldAttempt,
    cause: &LostCause,
) -> Result<bool> {
    let Some((head, row)) = run_and_step(tx, &held.run_id, &held.step_id)? else {
        return Ok(false);
    };
    if row.attempt != held.attempt {
        return Ok(false);
    }
    let ix = workflows::index(tx, cache, &head.workflow, head.version)?;
    let mut st = Loaded::new(&ix, head, now_ms()).with_steps([row]);
    Ok(decide(tx, &mut st, |st| {
        engine::lost::lose(st, &held.step_id, cause)
    })?
    .is_ok())
}
