//! The SQLite store's [`Rows`]: loading the rows the engine's transitions read and applying
//! what they decide (`store::flow` decides with them). SQLite has one writer, which holds the
//! whole database for the transaction (`BEGIN IMMEDIATE`), so "locked" rows are plain reads
//! here: nobody else can change them before the transaction ends.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use rusqlite::{OptionalExtension, Row, Transaction, params};

use super::{apply, claims, insert_event, reap, runs};
use crate::engine::{Changeset, HeldAttempt, RunRow, StepRow};
use crate::model::{LogStream, Run, RunStatus, StepStatus};
use crate::store::flow::{ClaimAgent, Outputs, Rows};
use crate::{Error, Result};

/// The columns of [`RunRow`], in [`run_row`]'s order.
const RUN_ROW: &str = "id, workflow, workflow_version, status, steps_total, steps_done, \
                       steps_succeeded, timeout_ms, timeout_source, concurrency_key";
/// How many columns [`RUN_ROW`] has.
const RUN_ROW_LEN: usize = 10;
/// The columns of [`StepRow`], in [`step_row`]'s order.
pub(super) const STEP_ROW: &str = "step_id, idx, status, attempt, tries, lost, agent_id, agent_name, \
                        pending_needs, not_before, finished_at, error";

/// A [`RunRow`] from [`RUN_ROW`]'s columns starting at `at`.
fn run_row(r: &Row<'_>, at: usize) -> rusqlite::Result<RunRow> {
    let status: String = r.get(at + 3)?;
    Ok(RunRow {
        id: r.get(at)?,
        workflow: r.get(at + 1)?,
        version: r.get(at + 2)?,
        status: status.parse().unwrap_or(RunStatus::Failed),
        steps_total: r.get(at + 4)?,
        steps_done: r.get(at + 5)?,
        steps_succeeded: r.get(at + 6)?,
        timeout_ms: r.get(at + 7)?,
        timeout_source: r.get(at + 8)?,
        concurrency_key: r.get(at + 9)?,
    })
}

/// A [`StepRow`] from [`STEP_ROW`]'s columns starting at `at`.
pub(super) fn step_row(r: &Row<'_>, at: usize) -> rusqlite::Result<StepRow> {
    let status: String = r.get(at + 2)?;
    Ok(StepRow {
        step_id: r.get(at)?,
        idx: r.get(at + 1)?,
        status: status.parse().unwrap_or(StepStatus::Failed),
        attempt: r.get(at + 3)?,
        tries: r.get(at + 4)?,
        lost: r.get(at + 5)?,
        agent_id: r.get(at + 6)?,
        agent_name: r.get(at + 7)?,
        pending_needs: r.get(at + 8)?,
        not_before: r.get(at + 9)?,
        finished_at: r.get(at + 10)?,
        error: r.get(at + 11)?,
    })
}

/// `a, b` as `t.a, t.b`.
fn prefixed(table: &str, columns: &str) -> String {
    columns
        .split(',')
        .map(|c| format!("{table}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Rows for Transaction<'_> {
    fn run_row(&self, run_id: &str) -> Result<RunRow> {
        self.prepare_cached(&format!("SELECT {RUN_ROW} FROM runs WHERE id = ?1"))?
            .query_row([run_id], |r| run_row(r, 0))
            .optional()?
            .ok_or_else(|| Error::not_found("run", run_id))
    }

    /// One writer holds the whole database: every read is as good as locked.
    fn run_row_with_params(&self, run_id: &str, _lock: bool) -> Result<(RunRow, String)> {
        self.prepare_cached(&format!("SELECT {RUN_ROW}, params FROM runs WHERE id = ?1"))?
            .query_row([run_id], |r| Ok((run_row(r, 0)?, r.get(RUN_ROW_LEN)?)))
            .optional()?
            .ok_or_else(|| Error::not_found("run", run_id))
    }

    /// In one read (a join).
    fn run_and_step_rows(&self, run_id: &str, step_id: &str) -> Result<Option<(RunRow, StepRow)>> {
        let sql = format!(
            "SELECT {}, {} FROM steps s JOIN runs r ON r.id = s.run_id
             WHERE s.run_id = ?1 AND s.step_id = ?2",
            prefixed("r", RUN_ROW),
            prefixed("s", STEP_ROW)
        );
        Ok(self
            .prepare_cached(&sql)?
            .query_row(params![run_id, step_id], |r| {
                Ok((run_row(r, 0)?, step_row(r, RUN_ROW_LEN)?))
            })
            .optional()?)
    }

    fn step_row(&self, run_id: &str, step_id: &str) -> Result<Option<StepRow>> {
        Ok(self
            .prepare_cached(&format!(
                "SELECT {STEP_ROW} FROM steps WHERE run_id = ?1 AND step_id = ?2"
            ))?
            .query_row(params![run_id, step_id], |r| step_row(r, 0))
            .optional()?)
    }

    fn peek_step_row(&self, run_id: &str, step_id: &str) -> Result<Option<StepRow>> {
        self.step_row(run_id, step_id)
    }

    fn step_rows(&self, run_id: &str) -> Result<Vec<StepRow>> {
        let rows = self
            .prepare_cached(&format!(
                "SELECT {STEP_ROW} FROM steps WHERE run_id = ?1 ORDER BY idx"
            ))?
            .query_map([run_id], |r| step_row(r, 0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
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
        Ok(self
            .prepare_cached("SELECT spec FROM workflows WHERE name = ?1 AND version = ?2")?
            .query_row(params![name, version], |r| r.get(0))
            .optional()?)
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
        claims::draining(self, agent_id)
    }

    fn renew_agent(&self, agent_id: &str, now: i64, lease_ms: i64) -> Result<()> {
        claims::renew_agent(self, agent_id, now, lease_ms)
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

    fn step_vars(&self, run_id: &str, step_id: &str) -> Result<Option<String>> {
        Ok(self
            .prepare_cached("SELECT vars FROM steps WHERE run_id = ?1 AND step_id = ?2")?
            .query_row(params![run_id, step_id], |r| r.get(0))
            .optional()?
            .flatten())
    }

    fn next_due(&self) -> Result<Option<i64>> {
        Ok(self
            .prepare_cached("SELECT min(not_before) FROM steps WHERE status = 'ready'")?
            .query_row([], |r| r.get(0))?)
    }

    fn log_bytes(&self, run_id: &str, step_id: &str) -> Result<u64> {
        Ok(self
            .prepare_cached("SELECT log_bytes FROM steps WHERE run_id = ?1 AND step_id = ?2")?
            .query_row(params![run_id, step_id], |r| r.get(0))?)
    }

    fn set_log_bytes(&self, run_id: &str, step_id: &str, bytes: u64) -> Result<()> {
        self.prepare_cached("UPDATE steps SET log_bytes = ?3 WHERE run_id = ?1 AND step_id = ?2")?
            .execute(params![run_id, step_id, bytes])?;
        Ok(())
    }

    fn insert_logs(
        &self,
        run_id: &str,
        step_id: &str,
        attempt: u32,
        lines: &[(LogStream, Cow<'_, str>, i64)],
    ) -> Result<()> {
        let mut ins = self.prepare_cached(
            "INSERT INTO logs (run_id, step_id, attempt, time, stream, line) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for (stream, line, time) in lines {
            ins.execute(params![
                run_id,
                step_id,
                attempt,
                time,
                stream.as_str(),
                line.as_ref()
            ])?;
        }
        Ok(())
    }

    fn expired_leases(&self, now: i64) -> Result<Vec<HeldAttempt>> {
        reap::held_where(self, "lease_until < ?1", params![now])
    }

    fn held_by(&self, agent_id: &str) -> Result<Vec<HeldAttempt>> {
        reap::held_where(self, "agent_id = ?1", params![agent_id])
    }

    fn overdue_approvals(&self, now: i64) -> Result<Vec<(String, String)>> {
        let ids = self
            .prepare_cached(
                "SELECT run_id, step_id FROM steps WHERE status = 'waiting' AND lease_until < ?1
                 ORDER BY seq",
            )?
            .query_map([now], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(ids)
    }

    fn has_ready_approval(&self, run_id: &str) -> Result<bool> {
        Ok(self
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM steps
                 WHERE run_id = ?1 AND kind = 'approval' AND status = 'ready')",
            )?
            .query_row([run_id], |r| r.get(0))?)
    }

    fn overdue_runs(&self, now: i64) -> Result<Vec<String>> {
        let ids = self
            .prepare_cached(
                "SELECT id FROM runs WHERE status IN ('queued', 'running') AND deadline < ?1",
            )?
            .query_map([now], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(ids)
    }
}
