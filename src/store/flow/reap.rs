//! Reaping and the lease-lost transition. [`lose`] loads one attempt whose agent is gone and
//! applies the engine's decision (`engine::transitions::lost`); every path uses it: the reaper
//! for expired leases, and [`lose_held`] for an agent that is replaced, stops or is removed
//! while it holds steps. The reaper also times out overdue runs (`engine::transitions::end`)
//! and approval steps past their `timeout` (`engine::transitions::approval`).

use super::Rows;
use super::decide::{decide, decide_on_run, index};
use crate::Result;
use crate::engine::transitions as engine;
use crate::engine::{HeldAttempt, Loaded, LostCause, SpecCache};
use crate::model::now_ms;

/// Expire lost leases, time out overdue runs and approvals. Returns how many things changed.
pub fn reap<T: Rows + ?Sized>(tx: &T, cache: &SpecCache) -> Result<usize> {
    let now = now_ms();
    let mut changed = 0;
    for held in &tx.expired_leases(now)? {
        if lose(tx, cache, held, &LostCause::Expired)? {
            changed += 1;
        }
    }
    for run_id in tx.overdue_runs(now)? {
        if decide_on_run(tx, cache, &run_id, now, engine::end::time_out)?.is_ok() {
            changed += 1;
        }
    }
    for (run_id, step) in tx.overdue_approvals(now)? {
        let time_out = |st: &Loaded<'_>| engine::approval::time_out(st, &step);
        if decide_on_run(tx, cache, &run_id, now, time_out)?.is_ok() {
            changed += 1;
        }
    }
    Ok(changed)
}

/// Every attempt `agent_id` holds is lost, for `cause`. Returns how many there were.
pub fn lose_held<T: Rows + ?Sized>(
    tx: &T,
    cache: &SpecCache,
    agent_id: &str,
    cause: &LostCause,
) -> Result<usize> {
    let held = tx.held_by(agent_id)?;
    for h in &held {
        lose(tx, cache, h, cause)?;
    }
    Ok(held.len())
}

/// The lease-lost transition for one held attempt (see [`crate::engine::lease_lost`]), decided
/// from its rows as they are now (locked; an earlier change in the same transaction, or another
/// transaction, may have ended it: such a step is left as it is). Whether it changed anything.
pub fn lose<T: Rows + ?Sized>(
    tx: &T,
    cache: &SpecCache,
    held: &HeldAttempt,
    cause: &LostCause,
) -> Result<bool> {
    let Some((head, row)) = tx.run_and_step_rows(&held.run_id, &held.step_id)? else {
        return Ok(false);
    };
    if row.attempt != held.attempt {
        return Ok(false);
    }
    let ix = index(tx, cache, &head.workflow, head.version)?;
    let mut st = Loaded::new(&ix, head, now_ms()).with_steps([row]);
    Ok(decide(tx, &mut st, |st| {
        engine::lost::lose(st, &held.step_id, cause)
    })?
    .is_ok())
}
