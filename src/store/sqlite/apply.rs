//! Applying an engine changeset (`crate::engine::Changeset`) in the current transaction: each
//! guarded removal one DELETE, each guarded update one UPDATE that matches only the row in the state the engine decided
//! from, so a concurrent change is an error rather than overwritten; then the events and log
//! lines are appended, and a concurrency slot the run's end frees goes to the key's next
//! waiting run.

use rusqlite::{Transaction, params};

use super::insert_event;
use crate::engine::{Changeset, RunChange, RunUpdate, StepChange, StepUpdate};
use crate::{Error, Result};

/// Apply `cs` (decided at `now`).
pub fn apply(tx: &Transaction<'_>, cs: &Changeset, now: i64) -> Result<()> {
    for r in &cs.removes {
        let n = tx
            .prepare_cached(&format!("DELETE FROM steps {STEP_GUARD}"))?
            .execute(params![
                cs.run_id,
                r.step_id,
                r.expect.status.as_str(),
                r.expect.attempt
            ])?;
        one_row(n, || {
            format!(
                "step {:?} of run {} (expected {}, attempt {})",
                r.step_id,
                crate::model::short_id(&cs.run_id),
                r.expect.status,
                r.expect.attempt
            )
        })?;
    }
    if !cs.inserts.is_empty() {
        let mut ins = tx.prepare_cached(
            "INSERT INTO steps (run_id, step_id, idx, kind, status, pending_needs, selector,
                                not_before, vars)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        for s in &cs.inserts {
            ins.execute(params![
                cs.run_id,
                s.step_id,
                s.idx,
                s.kind,
                s.status.as_str(),
                s.pending_needs,
                s.selector,
                s.not_before,
                s.vars
            ])?;
        }
    }
    for u in &cs.steps {
        step(tx, &cs.run_id, u)?;
        if let StepChange::Wait { until } = &u.change {
            // An approval step starts waiting: the outbox, for `on: approval` rules.
            super::notify::step_waiting(tx, &cs.run_id, &u.step_id, *until, now)?;
        }
    }
    for u in &cs.runs {
        run(tx, &cs.run_id, u)?;
        if let RunChange::End { status, at, .. } = &u.change {
            // The notification outbox, in the run's final transaction (issue 12).
            super::notify::run_ended(tx, &cs.run_id, *status, *at)?;
        }
    }
    for e in &cs.events {
        insert_event(
            tx,
            &e.kind,
            Some(&cs.run_id),
            e.step_id.as_deref(),
            e.data.clone(),
        )?;
    }
    if !cs.logs.is_empty() {
        let mut ins = tx.prepare_cached(
            "INSERT INTO logs (run_id, step_id, attempt, time, stream, line) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for l in &cs.logs {
            ins.execute(params![
                cs.run_id,
                l.step_id,
                l.attempt,
                now,
                l.stream.as_str(),
                l.line
            ])?;
        }
    }
    if let Some(key) = &cs.release {
        crate::store::flow::concurrency::release(tx, key, now)?;
    }
    Ok(())
}

/// The guard every step UPDATE ends with (`?1`..`?4`).
const STEP_GUARD: &str = "WHERE run_id = ?1 AND step_id = ?2 AND status = ?3 AND attempt = ?4";

fn step(tx: &Transaction<'_>, run_id: &str, u: &StepUpdate) -> Result<()> {
    let (id, st, at) = (&u.step_id, u.expect.status.as_str(), u.expect.attempt);
    let sql = |set: &str| format!("UPDATE steps SET {set} {STEP_GUARD}");
    let n = match &u.change {
        StepChange::Lease {
            attempt,
            agent_id,
            agent_name,
            lease_until,
            at: started,
        } => tx
            .prepare_cached(&sql(
                "status = 'leased', attempt = ?5, agent_id = ?6, agent_name = ?7, \
                 lease_until = ?8, started_at = ?9, finished_at = NULL, log_bytes = 0",
            ))?
            .execute(params![
                run_id,
                id,
                st,
                at,
                attempt,
                agent_id,
                agent_name,
                lease_until,
                started
            ])?,
        StepChange::Start => tx
            .prepare_cached(&sql("status = 'running'"))?
            .execute(params![run_id, id, st, at])?,
        // A waiting approval step's deadline is kept where a held step's lease ends.
        StepChange::Wait { until } => tx
            .prepare_cached(&sql("status = 'waiting', lease_until = ?5"))?
            .execute(params![run_id, id, st, at, until])?,
        StepChange::Renew { lease_until } => tx
            .prepare_cached(&sql("lease_until = ?5"))?
            .execute(params![run_id, id, st, at, lease_until])?,
        StepChange::Succeed {
            at: end,
            exit_code,
            outputs,
        } => tx
            .prepare_cached(&sql(
                "status = 'succeeded', finished_at = ?5, exit_code = ?6, outputs = ?7, \
                 error = NULL, lease_until = NULL",
            ))?
            .execute(params![run_id, id, st, at, end, exit_code, outputs])?,
        StepChange::RecordFailure {
            tries,
            exit_code,
            error,
            outputs,
        } => tx
            .prepare_cached(&sql("tries = ?5, exit_code = ?6, error = ?7, outputs = ?8"))?
            .execute(params![
                run_id, id, st, at, tries, exit_code, error, outputs
            ])?,
        StepChange::Requeue {
            not_before,
            lost,
            finished_at,
        } => tx
            .prepare_cached(&sql(
                "status = 'ready', not_before = ?5, lost = ?6, agent_id = NULL, \
                 lease_until = NULL, finished_at = COALESCE(?7, finished_at)",
            ))?
            .execute(params![run_id, id, st, at, not_before, lost, finished_at])?,
        StepChange::SetLost { lost } => tx
            .prepare_cached(&sql("lost = ?5"))?
            .execute(params![run_id, id, st, at, lost])?,
        StepChange::End {
            status,
            at: end,
            error,
        } => tx
            .prepare_cached(&sql(
                "status = ?5, finished_at = ?6, error = COALESCE(?7, error), lease_until = NULL",
            ))?
            .execute(params![run_id, id, st, at, status.as_str(), end, error])?,
        StepChange::Release {
            pending_needs,
            status,
            not_before,
        } => tx
            .prepare_cached(&sql("pending_needs = ?5, status = ?6, not_before = ?7"))?
            .execute(params![
                run_id,
                id,
                st,
                at,
                pending_needs,
                status.as_str(),
                not_before
            ])?,
        StepChange::Reset {
            status,
            pending_needs,
            not_before,
        } => tx
            .prepare_cached(&sql(
                "status = ?5, pending_needs = ?6, not_before = ?7, tries = 0, lost = 0, \
                 agent_id = NULL, agent_name = NULL, lease_until = NULL, started_at = NULL, \
                 finished_at = NULL, exit_code = NULL, outputs = NULL, error = NULL",
            ))?
            .execute(params![
                run_id,
                id,
                st,
                at,
                status.as_str(),
                pending_needs,
                not_before
            ])?,
    };
    one_row(n, || {
        format!(
            "step {id:?} of run {} (expected {st}, attempt {at})",
            crate::model::short_id(run_id)
        )
    })
}

/// The guard every run UPDATE ends with (`?1`..`?4`).
const RUN_GUARD: &str =
    "WHERE id = ?1 AND status = ?2 AND steps_done = ?3 AND steps_succeeded = ?4";

fn run(tx: &Transaction<'_>, run_id: &str, u: &RunUpdate) -> Result<()> {
    let g = &u.expect;
    let (st, done, ok) = (g.status.as_str(), g.steps_done, g.steps_succeeded);
    let sql = |set: &str| format!("UPDATE runs SET {set} {RUN_GUARD}");
    let n = match &u.change {
        RunChange::Start { at } => tx
            .prepare_cached(&sql("status = 'running', started_at = ?5"))?
            .execute(params![run_id, st, done, ok, at])?,
        RunChange::Count {
            steps_done,
            steps_succeeded,
        } => tx
            .prepare_cached(&sql("steps_done = ?5, steps_succeeded = ?6"))?
            .execute(params![run_id, st, done, ok, steps_done, steps_succeeded])?,
        RunChange::End { status, at, error } => tx
            .prepare_cached(&sql(
                "status = ?5, finished_at = ?6, error = ?7, started_at = COALESCE(started_at, ?6)",
            ))?
            .execute(params![run_id, st, done, ok, status.as_str(), at, error])?,
        RunChange::Total { steps_total } => tx
            .prepare_cached(&sql("steps_total = ?5"))?
            .execute(params![run_id, st, done, ok, steps_total])?,
        RunChange::Reopen {
            steps_done,
            steps_succeeded,
            deadline,
        } => tx
            .prepare_cached(&sql(
                "status = 'running', finished_at = NULL, error = NULL, steps_done = ?5, \
                 steps_succeeded = ?6, deadline = ?7",
            ))?
            .execute(params![
                run_id,
                st,
                done,
                ok,
                steps_done,
                steps_succeeded,
                deadline
            ])?,
    };
    one_row(n, || {
        format!(
            "run {} (expected {st}, {done} steps done, {ok} succeeded)",
            crate::model::short_id(run_id)
        )
    })
}

/// A guarded UPDATE changed its one row, or the state it expected had changed: raced.
fn one_row(n: usize, what: impl FnOnce() -> String) -> Result<()> {
    if n == 1 { Ok(()) } else { Err(raced(what())) }
}

/// A row no longer holds the state a transition was decided from: another writer changed it.
/// Nothing of the transaction is kept; deciding again from a fresh load is safe.
fn raced(what: String) -> Error {
    Error::Conflict(format!(
        "{what} changed while the transition was applied; try again"
    ))
}
