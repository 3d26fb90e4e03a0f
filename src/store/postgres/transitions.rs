//! The PostgreSQL store's [`Rows`]: loading the rows the engine's transitions read, with row
//! locks, and applying what they decide (`store::flow` decides with them). Replicas write
//! concurrently, so a run transition locks the run row first (`FOR UPDATE`), then the step
//! rows it reads: the rows a decision was made from cannot change before its guarded updates
//! (`super::apply`) run, and every transaction takes the locks in the same order. A deadlock
//! between such transactions is retried by [`PgStore::write`](super::PgStore::write).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use tokio_postgres::Row;

use super::events::insert_event;
use super::tx::{PgTx, get, get_u32};
use super::{apply, claims, reap, runs};
use crate::engine::{Changeset, HeldAttempt, RunRow, StepRow};
use crate::model::{LeaseRef, LogStream, Run, RunStatus, StepStatus};
use crate::store::flow::{ClaimAgent, Outputs, Rows};
use crate::{Error, Result};

/// The columns of [`RunRow`], in [`run_row`]'s order.
pub const RUN_ROW: &str = "id, workflow, workflow_version, status, steps_total, steps_done, \
                       steps_succeeded, timeout_ms, timeout_source, concurrency_key";
/// How many columns [`RUN_ROW`] has.
const RUN_ROW_LEN: usize = 10;
/// [`STEP_ROW`] with each column taken from `s` (for a join).
fn prefixed_step_row() -> String {
    STEP_ROW
        .split(',')
        .map(|c| format!("s.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// At most this many steps of a run named in one read are looked up one by one: an index
/// lookup of each `(run_id, step_id)`, in one statement whose shape leaves the planner no
/// other way (a `LATERAL` subquery that `OFFSET 0` keeps from being flattened). As `step_id
/// = ANY($2)`, the planner, whose statistics lag a run's steps inserted moments before (a row
/// or two a run), walked every step of the run and filtered: 10,000 rows a read in a
/// 10,000-step run. More than this many are read with `ANY`, which then reads a good part
/// of the run anyway.
pub(super) const ONE_BY_ONE: usize = 256;

/// One step's row, locked.
static STEP_FOR_UPDATE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!("SELECT {STEP_ROW} FROM steps WHERE run_id = $1 AND step_id = $2 FOR UPDATE")
});

/// The columns of [`StepRow`], in [`step_row`]'s order.
pub const STEP_ROW: &str = "step_id, idx, status, attempt, tries, lost, agent_id, agent_name, \
                        pending_needs, not_before, finished_at, error";

/// A [`RunRow`] from [`RUN_ROW`]'s columns starting at `at`.
pub fn run_row(r: &Row, at: usize) -> Result<RunRow> {
    let status: String = get(r, at + 3)?;
    Ok(RunRow {
        id: get(r, at)?,
        workflow: get(r, at + 1)?,
        version: get_u32(r, at + 2)?,
        status: status.parse().unwrap_or(RunStatus::Failed),
        steps_total: get_u32(r, at + 4)?,
        steps_done: get_u32(r, at + 5)?,
        steps_succeeded: get_u32(r, at + 6)?,
        timeout_ms: get(r, at + 7)?,
        timeout_source: get(r, at + 8)?,
        concurrency_key: get(r, at + 9)?,
    })
}

/// A [`StepRow`] from [`STEP_ROW`]'s columns starting at `at`.
pub fn step_row(r: &Row, at: usize) -> Result<StepRow> {
    let status: String = get(r, at + 2)?;
    Ok(StepRow {
        step_id: get(r, at)?,
        idx: get_u32(r, at + 1)?,
        status: status.parse().unwrap_or(StepStatus::Failed),
        attempt: get_u32(r, at + 3)?,
        tries: get_u32(r, at + 4)?,
        lost: get_u32(r, at + 5)?,
        agent_id: get(r, at + 6)?,
        agent_name: get(r, at + 7)?,
        pending_needs: get_u32(r, at + 8)?,
        not_before: get(r, at + 9)?,
        finished_at: get(r, at + 10)?,
        error: get(r, at + 11)?,
    })
}

impl Rows for PgTx<'_> {
    fn run_row(&self, run_id: &str) -> Result<RunRow> {
        let row = self
            .query_opt(
                &format!("SELECT {RUN_ROW} FROM runs WHERE id = $1 FOR UPDATE"),
                &[&run_id],
            )?
            .ok_or_else(|| Error::not_found("run", run_id))?;
        run_row(&row, 0)
    }

    fn run_row_with_params(&self, run_id: &str, lock: bool) -> Result<(RunRow, String)> {
        let sql = if lock {
            format!("SELECT {RUN_ROW}, params FROM runs WHERE id = $1 FOR UPDATE")
        } else {
            format!("SELECT {RUN_ROW}, params FROM runs WHERE id = $1")
        };
        let row = self
            .query_opt(&sql, &[&run_id])?
            .ok_or_else(|| Error::not_found("run", run_id))?;
        Ok((run_row(&row, 0)?, get(&row, RUN_ROW_LEN)?))
    }

    fn run_and_step_rows(&self, run_id: &str, step_id: &str) -> Result<Option<(RunRow, StepRow)>> {
        Ok(self
            .run_and_step_rows_with(run_id, step_id, &[])?
            .map(|(head, row, _)| (head, row)))
    }

    /// The reads pipelined (one round trip): the run's row is locked before the steps' (a
    /// join would lock them all at once, in no order another transaction agrees with); the
    /// server runs them in the order they were sent. Up to [`ONE_BY_ONE`] of `more` are read
    /// one by one (see there), more in one statement.
    fn run_and_step_rows_with(
        &self,
        run_id: &str,
        step_id: &str,
        more: &[&str],
    ) -> Result<Option<(RunRow, StepRow, Vec<StepRow>)>> {
        let c = self.inner();
        let (head, step, rows) = self.block(async {
            let run_sql = format!("SELECT {RUN_ROW} FROM runs WHERE id = $1 FOR UPDATE");
            let (run_st, step_st) = (
                c.prepare_cached(&run_sql).await?,
                c.prepare_cached(&STEP_FOR_UPDATE).await?,
            );
            let more_sql = if more.len() > ONE_BY_ONE {
                format!(
                    "SELECT {STEP_ROW} FROM steps WHERE run_id = $1 AND step_id = ANY($2)
                     ORDER BY idx FOR UPDATE"
                )
            } else {
                format!(
                    "SELECT s.* FROM unnest($2::text[]) AS w(step_id),
                     LATERAL (SELECT {STEP_ROW} FROM steps
                              WHERE run_id = $1 AND step_id = w.step_id
                              OFFSET 0 FOR UPDATE) s"
                )
            };
            let more_st = if more.is_empty() {
                None
            } else {
                Some(c.prepare_cached(&more_sql).await?)
            };
            let more_q = async {
                match &more_st {
                    Some(st) => c.query(st, &[&run_id, &more]).await,
                    None => Ok(Vec::new()),
                }
            };
            let (head, step, rows) = futures_util::future::join3(
                c.query_opt(&run_st, &[&run_id]),
                c.query_opt(&step_st, &[&run_id, &step_id]),
                more_q,
            )
            .await;
            Ok((head?, step?, rows?))
        })?;
        let (Some(head), Some(step)) = (head, step) else {
            return Ok(None);
        };
        let rows = rows
            .iter()
            .map(|r| step_row(r, 0))
            .collect::<Result<Vec<_>>>()?;
        Ok(Some((run_row(&head, 0)?, step_row(&step, 0)?, rows)))
    }

    fn step_row(&self, run_id: &str, step_id: &str) -> Result<Option<StepRow>> {
        self.query_opt(&STEP_FOR_UPDATE, &[&run_id, &step_id])?
            .map(|r| step_row(&r, 0))
            .transpose()
    }

    /// Without `FOR UPDATE`: a read-only snapshot cannot take row locks.
    fn peek_step_row(&self, run_id: &str, step_id: &str) -> Result<Option<StepRow>> {
        self.query_opt(
            &format!("SELECT {STEP_ROW} FROM steps WHERE run_id = $1 AND step_id = $2"),
            &[&run_id, &step_id],
        )?
        .map(|r| step_row(&r, 0))
        .transpose()
    }

    /// One query for them all (an agent checks every lease it holds at once).
    fn peek_leased_rows(&self, leases: &[LeaseRef]) -> Result<Vec<Option<StepRow>>> {
        if leases.len() < 2 {
            return leases
                .iter()
                .map(|l| self.peek_step_row(&l.run_id, &l.step_id))
                .collect();
        }
        let runs: Vec<&str> = leases.iter().map(|l| l.run_id.as_str()).collect();
        let steps: Vec<&str> = leases.iter().map(|l| l.step_id.as_str()).collect();
        let rows = self.query(
            &format!(
                "SELECT w.i, {} FROM unnest($1::text[], $2::text[]) WITH ORDINALITY
                     AS w(run_id, step_id, i)
                 JOIN steps s ON s.run_id = w.run_id AND s.step_id = w.step_id",
                prefixed_step_row()
            ),
            &[&runs, &steps],
        )?;
        let mut out = vec![None; leases.len()];
        for r in &rows {
            let i: i64 = get(r, 0)?;
            if let Some(slot) = usize::try_from(i - 1).ok().and_then(|i| out.get_mut(i)) {
                *slot = Some(step_row(r, 1)?);
            }
        }
        Ok(out)
    }

    fn step_rows(&self, run_id: &str) -> Result<Vec<StepRow>> {
        self.query(
            &format!("SELECT {STEP_ROW} FROM steps WHERE run_id = $1 ORDER BY idx FOR UPDATE"),
            &[&run_id],
        )?
        .iter()
        .map(|r| step_row(r, 0))
        .collect()
    }

    fn apply_changeset(&self, cs: &Changeset, now: i64) -> Result<()> {
        apply::apply(self, cs, now)
    }

    fn event(
        &self,
        kind: &str,
        run_id: Option<&str>,
        step_id: Option<&str>,
        data: serde_json::Value,
    ) -> Result<()> {
        insert_event(self, kind, run_id, step_id, data)
    }

    fn workflow_spec(&self, name: &str, version: u32) -> Result<Option<String>> {
        self.query_opt(
            "SELECT spec FROM workflows WHERE name = $1 AND version = $2",
            &[&name, &i64::from(version)],
        )?
        .map(|r| get(&r, 0))
        .transpose()
    }

    fn full_run_id(&self, prefix: &str) -> Result<String> {
        runs::resolve_id(self, prefix)
    }

    fn run_model(&self, id: &str) -> Result<Run> {
        runs::get_run(self, id)
    }

    fn claim_agent(&self, agent_id: &str) -> Result<Option<ClaimAgent>> {
        claims::agent(self, agent_id)
    }

    fn agent_draining(&self, agent_id: &str) -> Result<Option<bool>> {
        self.query_opt("SELECT draining FROM agents WHERE id = $1", &[&agent_id])?
            .map(|r| get(&r, 0))
            .transpose()
    }

    /// Sent with the claim's next statement (its pick of ready steps): one round trip less.
    fn renew_agent(&self, agent_id: &str, now: i64, lease_ms: i64) -> Result<()> {
        self.defer(
            "UPDATE agents SET last_heartbeat = $2, stopped_at = NULL, lease_ms = $3 WHERE id = $1"
                .into(),
            super::tx::owned![agent_id.to_string(), now, lease_ms],
            None,
        );
        Ok(())
    }

    fn ready_steps(
        &self,
        labels: &BTreeMap<String, String>,
        max: u32,
        now: i64,
    ) -> Result<Vec<(String, StepRow)>> {
        claims::ready(self, labels, max, now)
    }

    fn succeeded_outputs(&self, run_id: &str, step_ids: &BTreeSet<&str>) -> Result<Outputs> {
        claims::succeeded_outputs(self, run_id, step_ids)
    }

    /// Both reads pipelined: one round trip.
    fn run_with_outputs(
        &self,
        run_id: &str,
        step_ids: &BTreeSet<&str>,
    ) -> Result<((RunRow, String), Outputs)> {
        if step_ids.is_empty() {
            return Ok((self.run_row_with_params(run_id, false)?, Outputs::new()));
        }
        let c = self.inner();
        let ids: Vec<&str> = step_ids.iter().copied().collect();
        let (head, outputs) = self.block(async {
            let run_st = c
                .prepare_cached(&format!("SELECT {RUN_ROW}, params FROM runs WHERE id = $1"))
                .await?;
            let (head, outputs) = futures_util::future::join(
                c.query_opt(&run_st, &[&run_id]),
                claims::outputs_rows(c, run_id, &ids),
            )
            .await;
            Ok((head?, outputs?))
        })?;
        let head = head.ok_or_else(|| Error::not_found("run", run_id))?;
        let head = (run_row(&head, 0)?, get(&head, RUN_ROW_LEN)?);
        Ok((head, claims::outputs_of(&outputs)?))
    }

    fn step_vars(&self, run_id: &str, step_id: &str) -> Result<Option<String>> {
        let row = self.query_opt(
            "SELECT vars FROM steps WHERE run_id = $1 AND step_id = $2",
            &[&run_id, &step_id],
        )?;
        match row {
            Some(r) => get(&r, 0),
            None => Ok(None),
        }
    }

    fn next_due(&self) -> Result<Option<i64>> {
        let r = self.query_one(
            "SELECT min(not_before) FROM steps WHERE status = 'ready'",
            &[],
        )?;
        get(&r, 0)
    }

    fn log_bytes(&self, run_id: &str, step_id: &str) -> Result<u64> {
        let r = self.query_one(
            "SELECT log_bytes FROM steps WHERE run_id = $1 AND step_id = $2",
            &[&run_id, &step_id],
        )?;
        Ok(u64::try_from(get::<i64>(&r, 0)?).unwrap_or(0))
    }

    fn set_log_bytes(&self, run_id: &str, step_id: &str, bytes: u64) -> Result<()> {
        self.execute(
            "UPDATE steps SET log_bytes = $3 WHERE run_id = $1 AND step_id = $2",
            &[&run_id, &step_id, &i64::try_from(bytes).unwrap_or(i64::MAX)],
        )?;
        Ok(())
    }

    fn insert_logs(
        &self,
        run_id: &str,
        step_id: &str,
        attempt: u32,
        lines: &[(LogStream, Cow<'_, str>, i64)],
    ) -> Result<()> {
        if lines.is_empty() {
            return Ok(());
        }
        // Log followers on other replicas hear of them at commit.
        self.hint_changes();
        // One statement for the whole batch (a round trip per line made a chatty step's output
        // arrive far more slowly than it was printed); rows are numbered in the batch's order.
        let times: Vec<i64> = lines.iter().map(|(_, _, t)| *t).collect();
        let streams: Vec<&str> = lines.iter().map(|(s, _, _)| s.as_str()).collect();
        let texts: Vec<&str> = lines.iter().map(|(_, l, _)| l.as_ref()).collect();
        self.execute(
            "INSERT INTO logs (run_id, step_id, attempt, time, stream, line)
             SELECT $1, $2, $3, t, s, l
             FROM unnest($4::bigint[], $5::text[], $6::text[]) WITH ORDINALITY AS b(t, s, l, n)
             ORDER BY n",
            &[
                &run_id,
                &step_id,
                &i64::from(attempt),
                &times,
                &streams,
                &texts,
            ],
        )?;
        Ok(())
    }

    fn expired_leases(&self, now: i64) -> Result<Vec<HeldAttempt>> {
        reap::held_where(self, "lease_until < $1", &[&now])
    }

    fn held_by(&self, agent_id: &str) -> Result<Vec<HeldAttempt>> {
        reap::held_where(self, "agent_id = $1", &[&agent_id])
    }

    fn overdue_approvals(&self, now: i64) -> Result<Vec<(String, String)>> {
        self.query(
            "SELECT run_id, step_id FROM steps WHERE status = 'waiting' AND lease_until < $1
             ORDER BY run_id COLLATE \"C\", seq",
            &[&now],
        )?
        .iter()
        .map(|r| Ok((get(r, 0)?, get(r, 1)?)))
        .collect()
    }

    fn has_ready_approval(&self, run_id: &str) -> Result<bool> {
        let r = self.query_one(
            "SELECT EXISTS (SELECT 1 FROM steps
             WHERE run_id = $1 AND kind = 'approval' AND status = 'ready')",
            &[&run_id],
        )?;
        get(&r, 0)
    }

    /// In id order: each is locked in turn, as every reaper takes them.
    fn overdue_runs(&self, now: i64) -> Result<Vec<String>> {
        self.query(
            "SELECT id FROM runs WHERE status IN ('queued', 'running') AND deadline < $1
             ORDER BY id",
            &[&now],
        )?
        .iter()
        .map(|r| get(r, 0))
        .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::collections::{BTreeMap, BTreeSet};

    use crate::model::{StepKind, StepSpec, WorkflowSpec};
    use crate::store::api::{RunRequest, RunsTx, WorkflowsTx};
    use crate::store::flow::Rows;
    use crate::store::postgres::store::PgStore;
    use crate::store::postgres::store::tests::test_store;
    use crate::store::postgres::tx::get;

    /// Start a run of a workflow of `n` independent noop steps `s0`, `s1`, …: its id.
    fn run_of(store: &PgStore, name: &str, n: usize) -> String {
        let steps: Vec<StepSpec> = (0..n)
            .map(|i| StepSpec::new(format!("s{i}"), StepKind::Noop))
            .collect();
        let (params, labels) = (BTreeMap::new(), BTreeMap::new());
        store
            .write(|tx| {
                tx.apply_workflow(&WorkflowSpec::new(name, steps.clone()), false)?;
                let req = RunRequest {
                    workflow: name,
                    version: None,
                    params: &params,
                    timeout_ms: None,
                    default_timeout_ms: None,
                    created_by: "test",
                    labels: &labels,
                    rerun_of: None,
                    schedule: None,
                    id: None,
                };
                tx.start_runs(store.specs(), &[req])
            })
            .unwrap()
            .remove(0)
    }

    /// A few named steps of a big run (a batch of results, the outputs a step needs) are read
    /// by their keys, not by walking every step of the run: the planner, its statistics taken
    /// while runs were small, walked the run's 10,000 steps for `step_id = ANY($2)`. Counted
    /// as the index tuples the transaction fetched.
    #[test]
    fn a_few_steps_of_a_big_run_are_read_by_their_keys() {
        let Some((_db, store)) = test_store() else {
            return;
        };
        // Statistics of small runs, kept (autovacuum would refresh them at its own time).
        run_of(&store, "small", 2);
        store
            .write(|tx| {
                tx.execute("ALTER TABLE steps SET (autovacuum_enabled = false)", &[])?;
                tx.execute("ANALYZE steps", &[])
            })
            .unwrap();
        let run = run_of(&store, "big", 10_000);
        let named: Vec<String> = (1..9).map(|i| format!("s{}", i * 1000)).collect();
        let more: Vec<&str> = named.iter().map(String::as_str).collect();
        let wanted: BTreeSet<&str> = more.iter().copied().collect();
        let fetched = store
            .write(|tx| {
                // Past the reads a prepared statement is planned afresh for (five).
                for _ in 0..8 {
                    let (_, _, rows) = tx.run_and_step_rows_with(&run, "s0", &more)?.unwrap();
                    assert_eq!(rows.len(), more.len());
                    assert!(tx.succeeded_outputs(&run, &wanted)?.is_empty());
                }
                let r = tx.query_one(
                    "SELECT idx_tup_fetch FROM pg_stat_xact_user_tables WHERE relname = 'steps'",
                    &[],
                )?;
                get::<i64>(&r, 0)
            })
            .unwrap();
        assert!(
            fetched < 1_000,
            "{fetched} step rows fetched for 16 reads of 9 and 8 steps"
        );
    }
}
