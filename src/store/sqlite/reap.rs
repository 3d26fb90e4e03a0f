//! What the reaper reads on SQLite: whether anything is due, and held attempts (the reaping
//! itself and the lease-lost transition are `store::flow::reap`).

use rusqlite::Transaction;

use crate::Result;
use crate::engine::HeldAttempt;
use crate::model::now_ms;

/// Whether anything is due for reaping (a cheap read).
pub fn due(tx: &Transaction<'_>) -> Result<bool> {
    let now = now_ms();
    let due: bool = tx
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM steps WHERE status IN ('leased', 'running') AND lease_until < ?1)
                 OR EXISTS (SELECT 1 FROM runs WHERE status IN ('queued', 'running') AND deadline < ?1)
                 OR EXISTS (SELECT 1 FROM steps WHERE status = 'waiting' AND lease_until < ?1)",
        )?
        .query_row([now], |r| r.get(0))?;
    Ok(due)
}

/// Held (leased or running) attempts matching `filter`, a condition on `steps` with `?1`.
pub(super) fn held_where(
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::engine::{LOST_BUDGET, LostCause, StepLimits};
    use crate::model::{AgentRegistration, StepKind, StepSpec, WorkflowSpec};
    use crate::store::Store;
    use crate::store::flow::reap::lose_held;
    use crate::store::flow::{agents, claims};

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
                crate::store::api::RunsTx::create_run(
                    tx,
                    cache,
                    "ff",
                    &BTreeMap::new(),
                    None,
                    None,
                    "me",
                )?;
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
