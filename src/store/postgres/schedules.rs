//! Schedules on PostgreSQL ([`SchedulesTx`]; see `store::sqlite::schedules`). Ticks fire on the
//! replica holding the maintenance lease, in its fenced maintenance transaction; should two
//! transactions still fire the same schedule (a lease handed over mid-pass), the due rows are
//! locked `FOR UPDATE SKIP LOCKED` and the tick's insert under its primary key makes the
//! second one's do nothing (it waits for the first to commit, then finds the row).

use tokio_postgres::Row;

use super::tx::{PgTx, get, owned};
use crate::model::{ScheduleInfo, Tick, TickCounts, TickOutcome};
use crate::schedule::{CompiledSchedules, MissReason, ScheduleSpec};
use crate::store::api::schedules::{Advance, DueSchedule, NewTick, SchedulesTx};
use crate::{Error, Result};

const COLUMNS: &str = "name, workflow, spec, origin, paused, note, created_at, updated_at, \
     last_nominal, next_fire, fired, checked_at, missed, skipped, dropped";

fn schedule_from_row(r: &Row) -> Result<ScheduleInfo> {
    let name: String = get(r, 0)?;
    let spec: &str = get(r, 2)?;
    let spec: ScheduleSpec = serde_json::from_str(spec)
        .map_err(|e| Error::Store(format!("schedule {name:?}: bad spec: {e}")))?;
    let count = |i| get::<i64>(r, i).map(|n| u64::try_from(n).unwrap_or(0));
    Ok(ScheduleInfo {
        name,
        workflow: get(r, 1)?,
        spec,
        origin: get(r, 3)?,
        paused: get(r, 4)?,
        note: get(r, 5)?,
        created_at: get(r, 6)?,
        updated_at: get(r, 7)?,
        last_nominal: get(r, 8)?,
        next_fire: get(r, 9)?,
        fired: count(10)?,
        checked_at: get(r, 11)?,
        missed: count(12)?,
        skipped: count(13)?,
        dropped: count(14)?,
    })
}

fn tick_from_row(r: &Row) -> Result<Tick> {
    let outcome: &str = get(r, 2)?;
    let reason: Option<&str> = get(r, 3)?;
    Ok(Tick {
        schedule: get(r, 0)?,
        nominal_time: get(r, 1)?,
        outcome: TickOutcome::parse(outcome).unwrap_or(TickOutcome::Missed),
        reason: reason.and_then(MissReason::parse),
        run_id: get(r, 4)?,
        recorded_at: get(r, 5)?,
    })
}

fn i64_of(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The due schedules, earliest first, locked, with what a pass needs of each: one round trip
/// for the batch. Each one's runs not ended come from the partial index of active scheduled
/// runs and its buffered ticks from theirs, searched by name for each row (as a join of a
/// batch's names, `schedule = ANY($1)`, the planner, with statistics not yet caught up with a
/// pass's thousands of new queued runs, walked every queued run by status instead: 50-60 ms
/// a batch of 250 in `cargo bench --bench schedules`).
const DUE: &str = "SELECT s.name, s.workflow, s.spec, s.paused, s.checked_at, s.last_nominal,
         s.fired,
         ARRAY(SELECT r.id FROM runs r
               WHERE r.schedule = s.name AND r.schedule IS NOT NULL
                 AND r.status IN ('queued', 'running')
               ORDER BY r.id COLLATE \"C\") AS going,
         (SELECT count(*) FROM schedule_ticks t
          WHERE t.schedule = s.name AND t.outcome = 'buffered') AS buffered
     FROM schedules s WHERE s.next_fire IS NOT NULL AND s.next_fire <= $1
     ORDER BY s.next_fire LIMIT $2 FOR UPDATE OF s SKIP LOCKED";

impl SchedulesTx for PgTx<'_> {
    fn insert_schedule(&self, s: &ScheduleInfo) -> Result<bool> {
        let n = self.execute(
            &format!(
                "INSERT INTO schedules ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
                 ON CONFLICT (name) DO NOTHING"
            ),
            &[
                &s.name,
                &s.workflow,
                &s.spec.to_stored_json()?,
                &s.origin,
                &s.paused,
                &s.note,
                &s.created_at,
                &s.updated_at,
                &s.last_nominal,
                &s.next_fire,
                &i64_of(s.fired),
                &s.checked_at,
                &i64_of(s.missed),
                &i64_of(s.skipped),
                &i64_of(s.dropped),
            ],
        )?;
        Ok(n == 1)
    }

    fn update_schedule(&self, s: &ScheduleInfo) -> Result<()> {
        self.execute(
            "UPDATE schedules SET workflow = $2, spec = $3, origin = $4, updated_at = $5,
                 next_fire = $6 WHERE name = $1",
            &[
                &s.name,
                &s.workflow,
                &s.spec.to_stored_json()?,
                &s.origin,
                &s.updated_at,
                &s.next_fire,
            ],
        )?;
        Ok(())
    }

    fn delete_schedule(&self, name: &str) -> Result<bool> {
        self.execute("DELETE FROM schedule_ticks WHERE schedule = $1", &[&name])?;
        Ok(self.execute("DELETE FROM schedules WHERE name = $1", &[&name])? == 1)
    }

    fn get_schedule(&self, name: &str) -> Result<Option<ScheduleInfo>> {
        self.query_opt(
            &format!("SELECT {COLUMNS} FROM schedules WHERE name = $1"),
            &[&name],
        )?
        .as_ref()
        .map(schedule_from_row)
        .transpose()
    }

    fn list_schedules(&self) -> Result<Vec<ScheduleInfo>> {
        self.query(
            &format!("SELECT {COLUMNS} FROM schedules ORDER BY name COLLATE \"C\""),
            &[],
        )?
        .iter()
        .map(schedule_from_row)
        .collect()
    }

    /// See [`DUE`].
    fn due_schedules(
        &self,
        now: i64,
        limit: u32,
        compiled: &CompiledSchedules,
    ) -> Result<Vec<DueSchedule>> {
        self.query(DUE, &[&now, &i64::from(limit)])?
            .iter()
            .map(|r| {
                let name: String = get(r, 0)?;
                let spec = compiled
                    .get(&name, get(r, 2)?, now)
                    .map_err(|e| Error::Store(format!("schedule {name:?}: bad spec: {e}")))?;
                let fired: i64 = get(r, 6)?;
                let buffered: i64 = get(r, 8)?;
                Ok(DueSchedule {
                    row: None,
                    workflow: get(r, 1)?,
                    compiled: spec,
                    paused: get(r, 3)?,
                    checked_at: get(r, 4)?,
                    last_nominal: get(r, 5)?,
                    fired: u64::try_from(fired).unwrap_or(0),
                    going: get(r, 7)?,
                    buffered: u32::try_from(buffered).unwrap_or(u32::MAX),
                    name,
                })
            })
            .collect()
    }

    fn advance_schedule(
        &self,
        name: &str,
        last_nominal: i64,
        next_fire: Option<i64>,
        c: &TickCounts,
    ) -> Result<()> {
        self.execute(
            "UPDATE schedules SET last_nominal = GREATEST(last_nominal, $2), next_fire = $3,
                 fired = fired + $4, missed = missed + $5, skipped = skipped + $6,
                 dropped = dropped + $7
             WHERE name = $1",
            &[
                &name,
                &last_nominal,
                &next_fire,
                &i64_of(c.fired + c.buffered),
                &i64_of(c.missed),
                &i64_of(c.skipped),
                &i64_of(c.dropped),
            ],
        )?;
        Ok(())
    }

    /// One deferred statement for the batch (arrays unnested).
    fn advance_schedules(&self, advances: &[Advance<'_>]) -> Result<()> {
        if advances.is_empty() {
            return Ok(());
        }
        let col = |f: &dyn Fn(&Advance<'_>) -> i64| advances.iter().map(f).collect::<Vec<i64>>();
        let names: Vec<String> = advances.iter().map(|a| a.name.to_string()).collect();
        let next: Vec<Option<i64>> = advances.iter().map(|a| a.next_fire).collect();
        self.defer(
            "UPDATE schedules s SET last_nominal = GREATEST(s.last_nominal, a.last_nominal),
                 next_fire = a.next_fire, fired = s.fired + a.fired,
                 missed = s.missed + a.missed, skipped = s.skipped + a.skipped,
                 dropped = s.dropped + a.dropped
             FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[],
                         $6::bigint[], $7::bigint[])
                  AS a(name, last_nominal, next_fire, fired, missed, skipped, dropped)
             WHERE s.name = a.name"
                .into(),
            owned![
                names,
                col(&|a| a.last_nominal),
                next,
                col(&|a| i64_of(a.counts.fired + a.counts.buffered)),
                col(&|a| i64_of(a.counts.missed)),
                col(&|a| i64_of(a.counts.skipped)),
                col(&|a| i64_of(a.counts.dropped)),
            ],
            None,
        );
        Ok(())
    }

    fn set_schedule_paused(
        &self,
        name: &str,
        paused: bool,
        note: Option<&str>,
        now: i64,
    ) -> Result<bool> {
        let n = self.execute(
            "UPDATE schedules SET paused = $2, note = $3, updated_at = $4,
                 checked_at = CASE WHEN $2 THEN checked_at ELSE $4 END
             WHERE name = $1",
            &[&name, &paused, &note, &now],
        )?;
        Ok(n == 1)
    }

    fn next_schedule_fire(&self) -> Result<Option<i64>> {
        get(
            &self.query_one(
                "SELECT min(next_fire) FROM schedules WHERE next_fire IS NOT NULL",
                &[],
            )?,
            0,
        )
    }

    fn schedule_active_runs(&self, name: &str) -> Result<Vec<String>> {
        self.query(
            "SELECT id FROM runs WHERE schedule = $1 AND status IN ('queued', 'running')
             ORDER BY id COLLATE \"C\"",
            &[&name],
        )?
        .iter()
        .map(|r| get(r, 0))
        .collect()
    }

    fn insert_tick(&self, t: &NewTick<'_>) -> Result<bool> {
        let n = self.execute(
            "INSERT INTO schedule_ticks
                 (schedule, nominal_time, outcome, reason, recorded_at, run_id)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (schedule, nominal_time) DO NOTHING",
            &[
                &t.schedule,
                &t.nominal_time,
                &t.outcome.as_str(),
                &t.reason.map(MissReason::as_str),
                &t.recorded_at,
                &t.run_id,
            ],
        )?;
        Ok(n == 1)
    }

    /// One statement for the batch: the ticks it recorded come back.
    fn insert_ticks(&self, ticks: &[NewTick<'_>]) -> Result<Vec<bool>> {
        if ticks.is_empty() {
            return Ok(Vec::new());
        }
        let names: Vec<&str> = ticks.iter().map(|t| t.schedule).collect();
        let nominal: Vec<i64> = ticks.iter().map(|t| t.nominal_time).collect();
        let outcomes: Vec<&str> = ticks.iter().map(|t| t.outcome.as_str()).collect();
        let reasons: Vec<Option<&str>> = ticks
            .iter()
            .map(|t| t.reason.map(MissReason::as_str))
            .collect();
        let recorded_at: Vec<i64> = ticks.iter().map(|t| t.recorded_at).collect();
        let run_ids: Vec<Option<&str>> = ticks.iter().map(|t| t.run_id).collect();
        // Only the ticks another transaction recorded come back (by position): in a pass's
        // usual case none, so nothing to read.
        let taken = self.query(
            "WITH t AS (
                 SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[],
                                      $5::bigint[], $6::text[])
                     WITH ORDINALITY AS t(schedule, nominal_time, outcome, reason, recorded_at,
                                          run_id, n)
             ), i AS (
                 INSERT INTO schedule_ticks
                     (schedule, nominal_time, outcome, reason, recorded_at, run_id)
                 SELECT schedule, nominal_time, outcome, reason, recorded_at, run_id FROM t
                 ON CONFLICT (schedule, nominal_time) DO NOTHING
                 RETURNING schedule, nominal_time
             )
             SELECT t.n FROM t WHERE NOT EXISTS (
                 SELECT 1 FROM i WHERE i.schedule = t.schedule AND i.nominal_time = t.nominal_time
             )",
            &[
                &names,
                &nominal,
                &outcomes,
                &reasons,
                &recorded_at,
                &run_ids,
            ],
        )?;
        let mut recorded = vec![true; ticks.len()];
        for r in &taken {
            let n: i64 = get(r, 0)?;
            if let Some(slot) = usize::try_from(n - 1)
                .ok()
                .and_then(|i| recorded.get_mut(i))
            {
                *slot = false;
            }
        }
        Ok(recorded)
    }

    fn delete_tick(&self, schedule: &str, nominal_time: i64) -> Result<()> {
        self.execute(
            "DELETE FROM schedule_ticks WHERE schedule = $1 AND nominal_time = $2",
            &[&schedule, &nominal_time],
        )?;
        Ok(())
    }

    fn claim_tick(&self, t: &NewTick<'_>) -> Result<bool> {
        let n = self.execute(
            "INSERT INTO schedule_ticks
                 (schedule, nominal_time, outcome, reason, recorded_at, run_id)
             VALUES ($1, $2, $3, NULL, $4, $5)
             ON CONFLICT (schedule, nominal_time) DO UPDATE
             SET outcome = EXCLUDED.outcome, reason = NULL, recorded_at = EXCLUDED.recorded_at,
                 run_id = EXCLUDED.run_id
             WHERE schedule_ticks.run_id IS NULL
               AND schedule_ticks.outcome IN ('missed', 'skipped', 'dropped')",
            &[
                &t.schedule,
                &t.nominal_time,
                &t.outcome.as_str(),
                &t.recorded_at,
                &t.run_id,
            ],
        )?;
        Ok(n == 1)
    }

    fn take_buffered_tick(&self, schedule: &str, nominal_time: i64, now: i64) -> Result<bool> {
        let n = self.execute(
            "UPDATE schedule_ticks SET outcome = 'fired', recorded_at = $3
             WHERE schedule = $1 AND nominal_time = $2 AND outcome = 'buffered'",
            &[&schedule, &nominal_time, &now],
        )?;
        Ok(n == 1)
    }

    fn link_tick_runs(&self, links: &[(&str, i64, &str)]) -> Result<()> {
        if links.is_empty() {
            return Ok(());
        }
        let names: Vec<String> = links.iter().map(|l| l.0.to_string()).collect();
        let nominal: Vec<i64> = links.iter().map(|l| l.1).collect();
        let runs: Vec<String> = links.iter().map(|l| l.2.to_string()).collect();
        self.defer(
            "UPDATE schedule_ticks t SET run_id = l.run_id
             FROM unnest($1::text[], $2::bigint[], $3::text[]) AS l(schedule, nominal_time, run_id)
             WHERE t.schedule = l.schedule AND t.nominal_time = l.nominal_time"
                .into(),
            owned![names, nominal, runs],
            None,
        );
        Ok(())
    }

    fn oldest_buffered_tick(&self, schedule: &str) -> Result<Option<i64>> {
        get(
            &self.query_one(
                "SELECT min(nominal_time) FROM schedule_ticks
                 WHERE schedule = $1 AND outcome = 'buffered'",
                &[&schedule],
            )?,
            0,
        )
    }

    fn buffered_ticks(&self, schedule: &str) -> Result<u32> {
        let n: i64 = get(
            &self.query_one(
                "SELECT count(*) FROM schedule_ticks WHERE schedule = $1 AND outcome = 'buffered'",
                &[&schedule],
            )?,
            0,
        )?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    fn schedules_with_buffered(&self) -> Result<Vec<String>> {
        self.query(
            "SELECT DISTINCT schedule FROM schedule_ticks WHERE outcome = 'buffered'
             ORDER BY 1",
            &[],
        )?
        .iter()
        .map(|r| get(r, 0))
        .collect()
    }

    fn ticks(&self, schedule: &str, from: i64, to: i64, limit: u32) -> Result<Vec<Tick>> {
        self.query(
            "SELECT schedule, nominal_time, outcome, reason, run_id, recorded_at
             FROM schedule_ticks WHERE schedule = $1 AND nominal_time BETWEEN $2 AND $3
             ORDER BY nominal_time LIMIT $4",
            &[&schedule, &from, &to, &i64::from(limit)],
        )?
        .iter()
        .map(tick_from_row)
        .collect()
    }

    fn failed_run_after(&self, schedule: &str, after: i64) -> Result<Option<String>> {
        self.query_opt(
            "SELECT id FROM runs WHERE schedule = $1 AND status IN ('failed', 'timed_out')
               AND finished_at > $2
             ORDER BY finished_at DESC LIMIT 1",
            &[&schedule, &after],
        )?
        .map(|r| get(&r, 0))
        .transpose()
    }

    fn hold_scheduler_lease(&self, _holder: &str, _now: i64, _until: i64) -> Result<bool> {
        // The maintenance transaction this runs in is already fenced by the leader lease.
        Ok(true)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::store::postgres::store::tests::test_store;

    /// A pass's batch reads 250 due schedules with their runs not ended while thousands of
    /// runs are queued, more have ended, and the table's statistics have not caught up (a pass
    /// makes 10,000 runs in a few seconds): each schedule's runs come from the partial index of
    /// active scheduled runs. As `schedule = ANY($1)` the planner walked every queued run by
    /// status for each batch.
    #[test]
    fn a_pass_searches_active_runs_by_schedule_while_thousands_are_queued() {
        let Some((_db, store)) = test_store() else {
            return;
        };
        let now = 1_000_000;
        store
            .write(|tx| {
                tx.execute("ALTER TABLE runs SET (autovacuum_enabled = false)", &[])?;
                tx.execute(
                    "INSERT INTO runs (id, workflow, workflow_version, status, params, created_at,
                                       created_by, steps_total, schedule, nominal_time)
                     SELECT 'r' || lpad(g::text, 6, '0'), 'w', 1,
                            CASE WHEN g < 10000 THEN 'queued' ELSE 'succeeded' END, '{}', g, 't',
                            1, 's' || lpad((g % 10000)::text, 5, '0'), g
                     FROM generate_series(0, 29999) AS g",
                    &[],
                )?;
                for i in 5000..5250 {
                    let mut spec = ScheduleSpec::new(format!("s{i:05}"), "w");
                    spec.every_ms = Some(60_000);
                    let info = crate::store::schedules::new_info(spec, "command", now - 60_000)?;
                    tx.insert_schedule(&info)?;
                }
                Ok(())
            })
            .unwrap();
        let (plan, due) = store
            .write(|tx| {
                let plan = tx
                    .query(&format!("EXPLAIN {DUE}"), &[&now, &500_i64])?
                    .iter()
                    .map(|r| get::<String>(r, 0))
                    .collect::<Result<Vec<_>>>()?;
                Ok((
                    plan,
                    tx.due_schedules(now, 500, &CompiledSchedules::default())?,
                ))
            })
            .unwrap();
        let plan = plan.join("\n");
        assert!(plan.contains("runs_active_by_schedule"), "{plan}");
        assert!(!plan.contains("runs_by_status"), "{plan}");
        assert_eq!(due.len(), 250);
        let first = due.iter().find(|d| d.name == "s05000").unwrap();
        assert_eq!(first.going, vec!["r005000".to_string()]);
        assert_eq!(first.buffered, 0);
        assert_eq!(first.compiled.spec().every_ms, Some(60_000));
    }
}
