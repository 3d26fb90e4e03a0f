//! Reaping and the lease-lost transition. [`lose`] loads one attempt whose agent is gone and
//! applies the engine's decision (`engine::transitions::lost`); every path uses it: the reaper
//! for expired leases, and [`lose_held`] for an agent that is replaced, stops or is removed
//! while it holds steps. The reaper also times out overdue runs (`engine::transitions::end`).

use rusqlite::{Transaction, params};

use super::transitions::{decide, run_and_step, run_head};
use super::workflows;
use crate::Result;
use crate::engine::transitions as engine;
use crate::engine::{HeldAttempt, Loaded, LostCause, SpecCache};
use crate::model::now_ms;

/// Whether anything is due for reaping (a cheap read).
pub fn due(tx: &Transaction<'_>) -> Result<bool> {
    let now = now_ms();
    let due: bool = tx
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM steps WHERE status IN ('leased', 'running') AND lease_until < ?1)
                 OR EXISTS (SELECT 1 FROM runs WHERE status IN ('queued', 'running') AND deadline < ?1)",
        )?
        .query_row([now], |r| r.get(0))?;
    Ok(due)
}

/// Expire lost leases and time out overdue runs. Returns how many things changed.
pub fn reap(tx: &Transaction<'_>, cache: &SpecCache) -> Result<usize> {
    let now = now_ms();
    let mut changed = 0;
    let expired = held_where(tx, "lease_until < ?1", params![now])?;
    for held in &expired {
        lose(tx, cache, held, &LostCause::Expired)?;
        changed += 1;
    }
    let overdue: Vec<String> = tx
        .prepare_cached(
            "SELECT id FROM runs WHERE status IN ('queued', 'running') AND deadline < ?1",
        )?
        .query_map([now], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
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
    tx: &Transaction<'_>,
    cache: &SpecCache,
    agent_id: &str,
    cause: &LostCause,
) -> Result<usize> {
    let held = held_where(tx, "agent_id = ?1", params![agent_id])?;
    for h in &held {
        lose(tx, cache, h, cause)?;
    }
    Ok(held.len())
}

/// Held (leased or running) attempts matching `filter`, a condition on `steps` with `?1`.
fn held_where(
    tx: &Transaction<'_>,
    filter: &str,
    args: impl rusqlite::Params,
) -> Result<Vec<HeldAttempt>> {
    let sql = format!(
        "SELECT run_id, step_id, attempt, lost, agent_name FROM steps
         WHERE status IN ('leased', 'running') AND {filter} ORDER BY seq"
    );
    let held = tx
        .prepare_cached(&sql)?
        .query_map(args, |r| {
            Ok(HeldAttempt {
                run_id: r.get(0)?,
                step_id: r.get(1)?,
                attempt: r.get(2)?,
                lost: r.get(3)?,
                agent: r.get::<_, Option<String>>(4)?.unwrap_or_else(|| "?".into()),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(held)
}

/// The lease-lost transition for one held attempt (see [`crate::engine::lease_lost`]), decided
/// from its rows as they are now (an earlier change in the same transaction may have ended it).
pub fn lose(
    tx: &Transaction<'_>,
    cache: &SpecCache,
    held: &HeldAttempt,
    cause: &LostCause,
) -> Result<()> {
    let Some((head, row)) = run_and_step(tx, &held.run_id, &held.step_id)? else {
        return Ok(());
    };
    if row.attempt != held.attempt {
        return Ok(());
    }
    let ix = workflows::index(tx, cache, &head.workflow, head.version)?;
    let mut st = Loaded::new(&ix, head, now_ms()).with_steps([row]);
    // A step no longer held (ended meanwhile) is left as it is.
    let _ = decide(tx, &mut st, |st| {
        engine::lost::lose(st, &held.step_id, cause)
    })?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::{agents, claims, runs};
    use super::*;
    use crate::engine::{LOST_BUDGET, StepLimits};
    use crate::model::{AgentRegistration, StepKind, StepSpec, WorkflowSpec};
    use crate::store::Store;

    fn status(tx: &Transaction<'_>, step: &str) -> String {
        tx.query_row("SELECT status FROM steps WHERE step_id = ?1", [step], |r| {
            r.get(0)
        })
        .unwrap()
    }

    /// An agent holding two steps of a `fail_fast` run is removed: the first step has lost its
    /// agent too often and fails, which cancels the second. Losing the second must leave it
    /// cancelled — not put it back to `ready` in a run that has ended.
    #[test]
    fn a_step_cancelled_while_its_agent_is_lost_stays_cancelled() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("imx.db"), true).unwrap();
        let cache = store.specs();
        let mut wf = WorkflowSpec::new(
            "ff",
            vec![
                StepSpec::new("a", StepKind::Noop),
                StepSpec::new("b", StepKind::Noop),
            ],
        );
        wf.fail_fast = true;
        store
            .write(|tx| {
                super::super::workflows::apply(tx, &wf, false)?;
                runs::create(tx, cache, "ff", &BTreeMap::new(), None, None, "me")?;
                let reg = AgentRegistration {
                    name: "w1".into(),
                    labels: BTreeMap::new(),
                    slots: 2,
                    hostname: "h".into(),
                    pid: 1,
                    version: "test".into(),
                    instance: None,
                    pid_scope: None,
                    replaces_pid: None,
                };
                let agent = agents::register(tx, cache, &reg, "me", 30_000)?;
                let claimed =
                    claims::claim(tx, cache, &agent.id, 2, 30_000, &StepLimits::default())?;
                assert_eq!(claimed.tasks.len(), 2);
                tx.execute(
                    "UPDATE steps SET lost = ?1 WHERE step_id = 'a'",
                    [LOST_BUDGET],
                )?;
                lose_held(tx, cache, &agent.id, &LostCause::Removed)?;
                assert_eq!(status(tx, "a"), "failed");
                assert_eq!(status(tx, "b"), "cancelled");
                let run: String = tx.query_row("SELECT status FROM runs", [], |r| r.get(0))?;
                assert_eq!(run, "failed");
                Ok(())
            })
            .unwrap();
    }
}
