//! Applying an engine changeset (`crate::engine::Changeset`) on PostgreSQL, as the SQLite store
//! does (`store::sqlite::apply`): each guarded removal is one DELETE, each guarded update one
//! UPDATE, that matches only the row in the state the engine decided from (a concurrent
//! change is an error, never overwritten); then the events and log lines are appended, and a concurrency slot the run's end frees
//! goes to the key's next waiting run. Other replicas hear of it at commit (a wake-up
//! hint: `super::wakeup`), unless it only renewed leases.

use super::events::insert_event;
use super::tx::{PgTx, owned};
use crate::Result;
use crate::engine::{Changeset, RunChange, RunUpdate, StepChange, StepUpdate};

/// Apply `cs` (decided at `now`).
pub fn apply(tx: &PgTx<'_>, cs: &Changeset, now: i64) -> Result<()> {
    if wakes_others(cs) {
        tx.hint_changes();
    }
    for r in &cs.removes {
        let (st, at) = (r.expect.status.as_str(), i64::from(r.expect.attempt));
        let guard = format!(
            "step {:?} of run {} (expected {st}, attempt {at})",
            r.step_id,
            crate::model::short_id(&cs.run_id)
        );
        tx.defer(
            format!("DELETE FROM steps {STEP_GUARD}"),
            owned![cs.run_id.clone(), r.step_id.clone(), st, at],
            Some(guard),
        );
    }
    if !cs.inserts.is_empty() {
        insert_steps(tx, &cs.run_id, &cs.inserts);
    }
    for u in &cs.steps {
        step(tx, &cs.run_id, u)?;
        if let StepChange::Wait { until } = &u.change {
            // An approval step starts waiting: the outbox, for `on: approval` rules.
            super::notify::step_waiting(tx, &cs.run_id, &u.step_id, *until, now);
        }
    }
    for u in &cs.runs {
        run(tx, &cs.run_id, u)?;
        if let RunChange::End { status, at, .. } = &u.change {
            // The notification outbox, in the run's final transaction (issue 12).
            super::notify::run_ended(tx, &cs.run_id, *status, *at);
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
    for l in &cs.logs {
        tx.defer(
            "INSERT INTO logs (run_id, step_id, attempt, time, stream, line)
             VALUES ($1, $2, $3, $4, $5, $6)"
                .into(),
            owned![
                cs.run_id.clone(),
                l.step_id.clone(),
                i64::from(l.attempt),
                now,
                l.stream.as_str(),
                l.line.clone(),
            ],
            None,
        );
    }
    if let Some(key) = &cs.release {
        crate::store::flow::concurrency::release(tx, key, now)?;
    }
    Ok(())
}

/// Whether other replicas' waiters care about `cs`: all of it but renewed leases (heartbeats).
fn wakes_others(cs: &Changeset) -> bool {
    let renewal = |u: &StepUpdate| matches!(u.change, StepChange::Renew { .. });
    !cs.runs.is_empty()
        || !cs.inserts.is_empty()
        || !cs.removes.is_empty()
        || !cs.events.is_empty()
        || !cs.logs.is_empty()
        || !cs.steps.iter().all(renewal)
}

/// New step rows (a `foreach:` step's instances), in statements of up to 5,000 rows (arrays
/// unnested), as a new run's.
fn insert_steps(tx: &PgTx<'_>, run_id: &str, rows: &[crate::engine::StepInsert]) {
    for chunk in rows.chunks(5_000) {
        let text = |f: &dyn Fn(&crate::engine::StepInsert) -> String| -> Vec<String> {
            chunk.iter().map(f).collect()
        };
        let int = |f: &dyn Fn(&crate::engine::StepInsert) -> i64| -> Vec<i64> {
            chunk.iter().map(f).collect()
        };
        let selectors: Vec<Option<String>> = chunk.iter().map(|s| s.selector.clone()).collect();
        tx.defer(
            "INSERT INTO steps (run_id, step_id, idx, kind, status, pending_needs, selector,
                                not_before, vars)
             SELECT $1, step_id, idx, kind, status, pending_needs, selector::jsonb, not_before,
                    vars
             FROM unnest($2::text[], $3::bigint[], $4::text[], $5::text[], $6::bigint[],
                         $7::text[], $8::bigint[], $9::text[])
                  AS s(step_id, idx, kind, status, pending_needs, selector, not_before, vars)"
                .into(),
            owned![
                run_id.to_string(),
                text(&|s| s.step_id.clone()),
                int(&|s| i64::from(s.idx)),
                text(&|s| s.kind.clone()),
                text(&|s| s.status.as_str().to_string()),
                int(&|s| i64::from(s.pending_needs)),
                selectors,
                int(&|s| s.not_before),
                text(&|s| s.vars.clone()),
            ],
            None,
        );
    }
}

/// The guard every step UPDATE ends with (`$1`..`$4`).
const STEP_GUARD: &str = "WHERE run_id = $1 AND step_id = $2 AND status = $3 AND attempt = $4";

fn step(tx: &PgTx<'_>, run_id: &str, u: &StepUpdate) -> Result<()> {
    let (id, st, at) = (
        u.step_id.clone(),
        u.expect.status.as_str(),
        i64::from(u.expect.attempt),
    );
    let sql = |set: &str| format!("UPDATE steps SET {set} {STEP_GUARD}");
    let guard = format!(
        "step {id:?} of run {} (expected {st}, attempt {at})",
        crate::model::short_id(run_id)
    );
    let run_id = run_id.to_string();
    let (sql, params) = match &u.change {
        StepChange::Lease {
            attempt,
            agent_id,
            agent_name,
            lease_until,
            at: started,
        } => (
            sql(
                "status = 'leased', attempt = $5, agent_id = $6, agent_name = $7, \
                  lease_until = $8, started_at = $9, finished_at = NULL, log_bytes = 0",
            ),
            owned![
                run_id,
                id,
                st,
                at,
                i64::from(*attempt),
                agent_id.clone(),
                agent_name.clone(),
                *lease_until,
                *started,
            ],
        ),
        StepChange::Start => (sql("status = 'running'"), owned![run_id, id, st, at]),
        // A waiting approval step's deadline is kept where a held step's lease ends.
        StepChange::Wait { until } => (
            sql("status = 'waiting', lease_until = $5"),
            owned![run_id, id, st, at, *until],
        ),
        StepChange::Renew { lease_until } => (
            sql("lease_until = $5"),
            owned![run_id, id, st, at, *lease_until],
        ),
        StepChange::Succeed {
            at: end,
            exit_code,
            outputs,
        } => (
            sql(
                "status = 'succeeded', finished_at = $5, exit_code = $6, outputs = $7, \
                  error = NULL, lease_until = NULL",
            ),
            owned![
                run_id,
                id,
                st,
                at,
                *end,
                exit_code.map(i64::from),
                outputs.clone(),
            ],
        ),
        StepChange::RecordFailure {
            tries,
            exit_code,
            error,
            outputs,
        } => (
            sql("tries = $5, exit_code = $6, error = $7, outputs = $8"),
            owned![
                run_id,
                id,
                st,
                at,
                i64::from(*tries),
                exit_code.map(i64::from),
                error.clone(),
                outputs.clone(),
            ],
        ),
        StepChange::Requeue {
            not_before,
            lost,
            finished_at,
        } => (
            sql(
                "status = 'ready', not_before = $5, lost = $6, agent_id = NULL, \
                  lease_until = NULL, finished_at = COALESCE($7, finished_at)",
            ),
            owned![
                run_id,
                id,
                st,
                at,
                *not_before,
                i64::from(*lost),
                *finished_at,
            ],
        ),
        StepChange::SetLost { lost } => (
            sql("lost = $5"),
            owned![run_id, id, st, at, i64::from(*lost)],
        ),
        StepChange::End {
            status,
            at: end,
            error,
        } => (
            sql("status = $5, finished_at = $6, error = COALESCE($7, error), lease_until = NULL"),
            owned![run_id, id, st, at, status.as_str(), *end, error.clone()],
        ),
        StepChange::Release {
            pending_needs,
            status,
            not_before,
        } => (
            sql("pending_needs = $5, status = $6, not_before = $7"),
            owned![
                run_id,
                id,
                st,
                at,
                i64::from(*pending_needs),
                status.as_str(),
                *not_before,
            ],
        ),
        StepChange::Reset {
            status,
            pending_needs,
            not_before,
        } => (
            sql(
                "status = $5, pending_needs = $6, not_before = $7, tries = 0, lost = 0, \
                  agent_id = NULL, agent_name = NULL, lease_until = NULL, started_at = NULL, \
                  finished_at = NULL, exit_code = NULL, outputs = NULL, error = NULL",
            ),
            owned![
                run_id,
                id,
                st,
                at,
                status.as_str(),
                i64::from(*pending_needs),
                *not_before,
            ],
        ),
    };
    tx.defer(sql, params, Some(guard));
    Ok(())
}

/// The guard every run UPDATE ends with (`$1`..`$4`).
const RUN_GUARD: &str =
    "WHERE id = $1 AND status = $2 AND steps_done = $3 AND steps_succeeded = $4";

fn run(tx: &PgTx<'_>, run_id: &str, u: &RunUpdate) -> Result<()> {
    let g = &u.expect;
    let (st, done, ok) = (
        g.status.as_str(),
        i64::from(g.steps_done),
        i64::from(g.steps_succeeded),
    );
    let sql = |set: &str| format!("UPDATE runs SET {set} {RUN_GUARD}");
    let guard = format!(
        "run {} (expected {st}, {done} steps done, {ok} succeeded)",
        crate::model::short_id(run_id)
    );
    let run_id = run_id.to_string();
    let (sql, params) = match &u.change {
        RunChange::Start { at } => (
            sql("status = 'running', started_at = $5"),
            owned![run_id, st, done, ok, *at],
        ),
        RunChange::Count {
            steps_done,
            steps_succeeded,
        } => (
            sql("steps_done = $5, steps_succeeded = $6"),
            owned![
                run_id,
                st,
                done,
                ok,
                i64::from(*steps_done),
                i64::from(*steps_succeeded),
            ],
        ),
        RunChange::End { status, at, error } => (
            sql("status = $5, finished_at = $6, error = $7, \
                  started_at = COALESCE(started_at, $6)"),
            owned![run_id, st, done, ok, status.as_str(), *at, error.clone()],
        ),
        RunChange::Total { steps_total } => (
            sql("steps_total = $5"),
            owned![run_id, st, done, ok, i64::from(*steps_total)],
        ),
        RunChange::Reopen {
            steps_done,
            steps_succeeded,
            deadline,
        } => (
            sql(
                "status = 'running', finished_at = NULL, error = NULL, steps_done = $5, \
                  steps_succeeded = $6, deadline = $7",
            ),
            owned![
                run_id,
                st,
                done,
                ok,
                i64::from(*steps_done),
                i64::from(*steps_succeeded),
                *deadline,
            ],
        ),
    };
    tx.defer(sql, params, Some(guard));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::StepGuard;
    use crate::model::StepStatus;

    fn update(change: StepChange) -> StepUpdate {
        StepUpdate {
            step_id: "s".into(),
            expect: StepGuard {
                status: StepStatus::Running,
                attempt: 1,
            },
            change,
        }
    }

    #[test]
    fn only_a_changeset_of_renewals_wakes_nobody_elsewhere() {
        let mut cs = Changeset::new("r");
        assert!(!wakes_others(&cs), "nothing changes");
        cs.steps.push(update(StepChange::Renew { lease_until: 1 }));
        assert!(!wakes_others(&cs), "a heartbeat");
        cs.steps.push(update(StepChange::Start));
        assert!(wakes_others(&cs), "a step transition");
        let mut cs = Changeset::new("r");
        cs.event("run.created", None, serde_json::Value::Null);
        assert!(wakes_others(&cs), "an event");
    }
}
