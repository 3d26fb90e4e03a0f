//! Schedules on SQLite ([`SchedulesTx`]): schedule rows, tick records under their
//! (schedule, nominal time) key, and the scheduler's lease in `meta` — SQLite has no replicas
//! with a maintenance lease, but several processes (agents, servers) share one file, and one of
//! them at a time wakes for the ticks. The single writer makes row locks unnecessary.

use std::collections::BTreeMap;

use rusqlite::{OptionalExtension, Row, Transaction, params};

use crate::model::{ScheduleInfo, Tick, TickCounts, TickOutcome};
use crate::schedule::{CompiledSchedules, MissReason, ScheduleSpec};
use crate::store::api::schedules::{Advance, DueSchedule, NewTick, SchedulesTx};
use crate::{Error, Result};

const COLUMNS: &str = "name, workflow, spec, origin, paused, note, created_at, updated_at, \
     last_nominal, next_fire, fired, checked_at, missed, skipped, dropped";

/// A schedule's runs not ended (a pass asks for every due schedule): searches the partial
/// index of active scheduled runs, not the schedule's whole history.
const ACTIVE_RUNS: &str =
    "SELECT id FROM runs WHERE schedule = ?1 AND status IN ('queued', 'running')
     ORDER BY id";

/// The runs not ended of a batch of schedules (a JSON list of names): the same partial index,
/// searched once per name. Written as a join from the names: as `schedule IN (…)` the planner
/// walked every queued run by status instead, for each batch of a pass.
const ACTIVE_RUNS_OF: &str = "SELECT r.schedule, r.id FROM json_each(?1) AS j
     CROSS JOIN runs AS r INDEXED BY runs_active_by_schedule
     WHERE r.schedule = j.value AND r.status IN ('queued', 'running')
     ORDER BY r.schedule, r.id";

/// A schedule's latest failed run ended after a time (`pause_on_failure`): searches the
/// partial index of failed scheduled runs by end time.
const FAILED_AFTER: &str =
    "SELECT id FROM runs WHERE schedule = ?1 AND status IN ('failed', 'timed_out')
       AND finished_at > ?2
     ORDER BY finished_at DESC LIMIT 1";

fn schedule_from_row(r: &Row<'_>) -> rusqlite::Result<(ScheduleInfo, String)> {
    let spec: String = r.get(2)?;
    let fired: i64 = r.get(10)?;
    Ok((
        ScheduleInfo {
            name: r.get(0)?,
            workflow: r.get(1)?,
            spec: ScheduleSpec::new("", ""),
            origin: r.get(3)?,
            paused: r.get(4)?,
            note: r.get(5)?,
            created_at: r.get(6)?,
            updated_at: r.get(7)?,
            last_nominal: r.get(8)?,
            next_fire: r.get(9)?,
            fired: u64::try_from(fired).unwrap_or(0),
            checked_at: r.get(11)?,
            missed: count(r.get(12)?),
            skipped: count(r.get(13)?),
            dropped: count(r.get(14)?),
        },
        spec,
    ))
}

/// The row's spec read from its JSON.
fn with_spec((mut s, spec): (ScheduleInfo, String)) -> Result<ScheduleInfo> {
    s.spec = serde_json::from_str(&spec)
        .map_err(|e| Error::Store(format!("schedule {:?}: bad spec: {e}", s.name)))?;
    Ok(s)
}

fn tick_from_row(r: &Row<'_>) -> rusqlite::Result<Tick> {
    let outcome: String = r.get(2)?;
    let reason: Option<String> = r.get(3)?;
    Ok(Tick {
        schedule: r.get(0)?,
        nominal_time: r.get(1)?,
        outcome: TickOutcome::parse(&outcome).unwrap_or(TickOutcome::Missed),
        reason: reason.as_deref().and_then(MissReason::parse),
        run_id: r.get(4)?,
        recorded_at: r.get(5)?,
    })
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn i64_of(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// What a pass reads beside its due rows.
trait PassReads {
    /// Ids of the runs not ended of each of `names` (a pass's batch at once), by schedule;
    /// schedules without any are left out.
    fn schedules_active_runs(&self, names: &[&str]) -> Result<BTreeMap<String, Vec<String>>>;
    /// How many buffered ticks each schedule holding some holds.
    fn buffered_counts(&self) -> Result<BTreeMap<String, u32>>;
}

impl PassReads for Transaction<'_> {
    fn schedules_active_runs(&self, names: &[&str]) -> Result<BTreeMap<String, Vec<String>>> {
        let mut stmt = self.prepare_cached(ACTIVE_RUNS_OF)?;
        let rows = stmt.query_map([serde_json::to_string(names)?], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for row in rows {
            let (schedule, id) = row?;
            out.entry(schedule).or_default().push(id);
        }
        Ok(out)
    }

    fn buffered_counts(&self) -> Result<BTreeMap<String, u32>> {
        let mut stmt = self.prepare_cached(
            "SELECT schedule, count(*) FROM schedule_ticks WHERE outcome = 'buffered'
             GROUP BY schedule",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// The due schedules, earliest first: what a pass needs of each.
const DUE: &str = "SELECT name, workflow, spec, paused, checked_at, last_nominal, fired, rowid
     FROM schedules WHERE next_fire IS NOT NULL AND next_fire <= ?1
     ORDER BY next_fire LIMIT ?2";

/// An advance of a schedule (`?1` its rowid or NULL, `?2` its name), with this `WHERE`.
macro_rules! advance_where {
    ($where:literal) => {
        concat!(
            "UPDATE schedules SET last_nominal = max(last_nominal, ?3),
                 next_fire = ?4, fired = fired + ?5, missed = missed + ?6,
                 skipped = skipped + ?7, dropped = dropped + ?8
             WHERE ",
            $where
        )
    };
}

/// A pass's advance of a schedule it read as due in the same transaction: found by its rowid
/// (the name checked on the row), not searched for by name.
const ADVANCE_BY_ROW: &str = advance_where!("rowid = ?1 AND name = ?2");

/// The same by name (`?1` is NULL).
const ADVANCE_BY_NAME: &str = advance_where!("name = ?2 AND ?1 IS NULL");

/// The lease's key in `meta`.
const LEASE: &str = "scheduler_lease";

impl SchedulesTx for Transaction<'_> {
    fn insert_schedule(&self, s: &ScheduleInfo) -> Result<bool> {
        let n = self
            .prepare_cached(&format!(
                "INSERT INTO schedules ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
                 ON CONFLICT (name) DO NOTHING"
            ))?
            .execute(params![
                s.name,
                s.workflow,
                s.spec.to_stored_json()?,
                s.origin,
                s.paused,
                s.note,
                s.created_at,
                s.updated_at,
                s.last_nominal,
                s.next_fire,
                i64_of(s.fired),
                s.checked_at,
                i64_of(s.missed),
                i64_of(s.skipped),
                i64_of(s.dropped)
            ])?;
        Ok(n == 1)
    }

    fn update_schedule(&self, s: &ScheduleInfo) -> Result<()> {
        self.prepare_cached(
            "UPDATE schedules SET workflow = ?2, spec = ?3, origin = ?4, updated_at = ?5,
                 next_fire = ?6 WHERE name = ?1",
        )?
        .execute(params![
            s.name,
            s.workflow,
            s.spec.to_stored_json()?,
            s.origin,
            s.updated_at,
            s.next_fire
        ])?;
        Ok(())
    }

    fn delete_schedule(&self, name: &str) -> Result<bool> {
        self.prepare_cached("DELETE FROM schedule_ticks WHERE schedule = ?1")?
            .execute([name])?;
        let n = self
            .prepare_cached("DELETE FROM schedules WHERE name = ?1")?
            .execute([name])?;
        Ok(n == 1)
    }

    fn get_schedule(&self, name: &str) -> Result<Option<ScheduleInfo>> {
        self.prepare_cached(&format!("SELECT {COLUMNS} FROM schedules WHERE name = ?1"))?
            .query_row([name], schedule_from_row)
            .optional()?
            .map(with_spec)
            .transpose()
    }

    fn list_schedules(&self) -> Result<Vec<ScheduleInfo>> {
        let mut stmt =
            self.prepare_cached(&format!("SELECT {COLUMNS} FROM schedules ORDER BY name"))?;
        let rows = stmt.query_map([], schedule_from_row)?;
        rows.map(|r| with_spec(r?)).collect()
    }

    /// One query for the rows (only the columns a pass needs; a spec whose text was seen
    /// before is not parsed again), one for their runs not ended, one for the buffered ticks.
    fn due_schedules(
        &self,
        now: i64,
        limit: u32,
        compiled: &CompiledSchedules,
    ) -> Result<Vec<DueSchedule>> {
        let mut stmt = self.prepare_cached(DUE)?;
        let mut rows = stmt.query(params![now, limit])?;
        let mut due = Vec::new();
        while let Some(r) = rows.next()? {
            let name: String = r.get(0)?;
            let bad = |e: &dyn std::fmt::Display| {
                Error::Store(format!("schedule {name:?}: bad spec: {e}"))
            };
            let json = r.get_ref(2)?.as_str().map_err(|e| bad(&e))?;
            let spec = compiled.get(&name, json, now).map_err(|e| bad(&e))?;
            due.push(DueSchedule {
                row: Some(r.get(7)?),
                workflow: r.get(1)?,
                compiled: spec,
                paused: r.get(3)?,
                checked_at: r.get(4)?,
                last_nominal: r.get(5)?,
                fired: count(r.get(6)?),
                going: Vec::new(),
                buffered: 0,
                name,
            });
        }
        if due.is_empty() {
            return Ok(due);
        }
        let names: Vec<&str> = due.iter().map(|d| d.name.as_str()).collect();
        let mut active = self.schedules_active_runs(&names)?;
        let buffered = self.buffered_counts()?;
        for d in &mut due {
            d.going = active.remove(&d.name).unwrap_or_default();
            d.buffered = buffered.get(&d.name).copied().unwrap_or(0);
        }
        Ok(due)
    }

    fn advance_schedule(
        &self,
        name: &str,
        last_nominal: i64,
        next_fire: Option<i64>,
        c: &TickCounts,
    ) -> Result<()> {
        self.advance_schedules(&[Advance {
            name,
            row: None,
            last_nominal,
            next_fire,
            counts: *c,
        }])
    }

    /// One statement, prepared once, run for each schedule: on SQLite a statement costs no
    /// round trip. A row read as due in this transaction is found by its rowid (the name
    /// checked on it), not looked up again by name in the name's index: a tenth of a pass's
    /// tick work, 10,000 schedules a minute.
    fn advance_schedules(&self, advances: &[Advance<'_>]) -> Result<()> {
        let mut by_row = self.prepare_cached(ADVANCE_BY_ROW)?;
        let mut by_name = self.prepare_cached(ADVANCE_BY_NAME)?;
        for a in advances {
            let c = &a.counts;
            let stmt = if a.row.is_some() {
                &mut by_row
            } else {
                &mut by_name
            };
            stmt.execute(params![
                a.row,
                a.name,
                a.last_nominal,
                a.next_fire,
                i64_of(c.fired + c.buffered),
                i64_of(c.missed),
                i64_of(c.skipped),
                i64_of(c.dropped)
            ])?;
        }
        Ok(())
    }

    fn set_schedule_paused(
        &self,
        name: &str,
        paused: bool,
        note: Option<&str>,
        now: i64,
    ) -> Result<bool> {
        let n = self
            .prepare_cached(
                "UPDATE schedules SET paused = ?2, note = ?3, updated_at = ?4,
                     checked_at = CASE WHEN ?2 THEN checked_at ELSE ?4 END
                 WHERE name = ?1",
            )?
            .execute(params![name, paused, note, now])?;
        Ok(n == 1)
    }

    fn next_schedule_fire(&self) -> Result<Option<i64>> {
        Ok(self
            .prepare_cached("SELECT min(next_fire) FROM schedules WHERE next_fire IS NOT NULL")?
            .query_row([], |r| r.get(0))?)
    }

    fn schedule_active_runs(&self, name: &str) -> Result<Vec<String>> {
        let mut stmt = self.prepare_cached(ACTIVE_RUNS)?;
        let rows = stmt.query_map([name], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn insert_tick(&self, t: &NewTick<'_>) -> Result<bool> {
        Ok(self.insert_ticks(std::slice::from_ref(t))?[0])
    }

    /// One statement, prepared once, run for each tick.
    fn insert_ticks(&self, ticks: &[NewTick<'_>]) -> Result<Vec<bool>> {
        let mut stmt = self.prepare_cached(
            "INSERT INTO schedule_ticks
                 (schedule, nominal_time, outcome, reason, recorded_at, run_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (schedule, nominal_time) DO NOTHING",
        )?;
        ticks
            .iter()
            .map(|t| {
                let n = stmt.execute(params![
                    t.schedule,
                    t.nominal_time,
                    t.outcome.as_str(),
                    t.reason.map(MissReason::as_str),
                    t.recorded_at,
                    t.run_id
                ])?;
                Ok(n == 1)
            })
            .collect()
    }

    fn delete_tick(&self, schedule: &str, nominal_time: i64) -> Result<()> {
        self.prepare_cached(
            "DELETE FROM schedule_ticks WHERE schedule = ?1 AND nominal_time = ?2",
        )?
        .execute(params![schedule, nominal_time])?;
        Ok(())
    }

    fn claim_tick(&self, t: &NewTick<'_>) -> Result<bool> {
        let n = self
            .prepare_cached(
                "INSERT INTO schedule_ticks
                     (schedule, nominal_time, outcome, reason, recorded_at, run_id)
                 VALUES (?1, ?2, ?3, NULL, ?4, ?5)
                 ON CONFLICT (schedule, nominal_time) DO UPDATE
                 SET outcome = excluded.outcome, reason = NULL, recorded_at = excluded.recorded_at,
                     run_id = excluded.run_id
                 WHERE schedule_ticks.run_id IS NULL
                   AND schedule_ticks.outcome IN ('missed', 'skipped', 'dropped')",
            )?
            .execute(params![
                t.schedule,
                t.nominal_time,
                t.outcome.as_str(),
                t.recorded_at,
                t.run_id
            ])?;
        Ok(n == 1)
    }

    fn take_buffered_tick(&self, schedule: &str, nominal_time: i64, now: i64) -> Result<bool> {
        let n = self
            .prepare_cached(
                "UPDATE schedule_ticks SET outcome = 'fired', recorded_at = ?3
                 WHERE schedule = ?1 AND nominal_time = ?2 AND outcome = 'buffered'",
            )?
            .execute(params![schedule, nominal_time, now])?;
        Ok(n == 1)
    }

    fn link_tick_runs(&self, links: &[(&str, i64, &str)]) -> Result<()> {
        let mut stmt = self.prepare_cached(
            "UPDATE schedule_ticks SET run_id = ?3 WHERE schedule = ?1 AND nominal_time = ?2",
        )?;
        for (schedule, nominal_time, run_id) in links {
            stmt.execute(params![schedule, nominal_time, run_id])?;
        }
        Ok(())
    }

    fn oldest_buffered_tick(&self, schedule: &str) -> Result<Option<i64>> {
        Ok(self
            .prepare_cached(
                "SELECT min(nominal_time) FROM schedule_ticks
                 WHERE schedule = ?1 AND outcome = 'buffered'",
            )?
            .query_row([schedule], |r| r.get(0))?)
    }

    fn buffered_ticks(&self, schedule: &str) -> Result<u32> {
        Ok(self
            .prepare_cached(
                "SELECT count(*) FROM schedule_ticks WHERE schedule = ?1 AND outcome = 'buffered'",
            )?
            .query_row([schedule], |r| r.get(0))?)
    }

    fn schedules_with_buffered(&self) -> Result<Vec<String>> {
        let mut stmt = self.prepare_cached(
            "SELECT DISTINCT schedule FROM schedule_ticks WHERE outcome = 'buffered' ORDER BY 1",
        )?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn ticks(&self, schedule: &str, from: i64, to: i64, limit: u32) -> Result<Vec<Tick>> {
        let mut stmt = self.prepare_cached(
            "SELECT schedule, nominal_time, outcome, reason, run_id, recorded_at
             FROM schedule_ticks WHERE schedule = ?1 AND nominal_time BETWEEN ?2 AND ?3
             ORDER BY nominal_time LIMIT ?4",
        )?;
        let rows = stmt.query_map(params![schedule, from, to, limit], tick_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn failed_run_after(&self, schedule: &str, after: i64) -> Result<Option<String>> {
        Ok(self
            .prepare_cached(FAILED_AFTER)?
            .query_row(params![schedule, after], |r| r.get(0))
            .optional()?)
    }

    fn hold_scheduler_lease(&self, holder: &str, now: i64, until: i64) -> Result<bool> {
        let current: Option<String> = self
            .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
            .query_row([LEASE], |r| r.get(0))
            .optional()?;
        if let Some((other, other_until)) = current.as_deref().and_then(|v| v.rsplit_once(' '))
            && other != holder
            && other_until.parse::<i64>().is_ok_and(|u| u > now)
        {
            return Ok(false);
        }
        self.prepare_cached(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )?
        .execute(params![LEASE, format!("{holder} {until}")])?;
        Ok(true)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::store::Store;

    /// A pass asks its due schedules for their active runs (and, with `pause_on_failure`, its
    /// latest failure): both search their partial index, also where statistics say one
    /// schedule holds thousands of ended runs (a walk of the schedule's runs would visit its
    /// whole history, every minute, for every schedule).
    #[test]
    fn a_pass_searches_active_and_failed_runs_by_index_not_the_history() {
        assert_plans(
            |i| match i % 100 {
                0 => "queued",
                1 => "failed",
                _ => "succeeded",
            },
            true,
        );
    }

    /// The same without statistics while thousands of runs are queued (a minute of 10,000
    /// schedules with no agent to run them): the batch's query once walked every queued run
    /// by status for each batch of a pass.
    #[test]
    fn a_pass_searches_active_runs_by_schedule_while_thousands_are_queued() {
        assert_plans(|_| "queued", false);
    }

    /// A pass reports the CPU it took on its thread, and the part of it spent making runs:
    /// what `cargo bench --bench schedules` takes the tick work from.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_pass_reports_its_cpu_and_its_runs_part() {
        use crate::model::{StepKind, StepSpec, WorkflowSpec};
        use crate::store::schedules::{PASS_BATCH, fire_due_batched, new_info};
        let dir = tempfile::tempdir().unwrap();
        let store: std::sync::Arc<dyn crate::store::Backend> =
            std::sync::Arc::new(Store::open(&dir.path().join("imx.db"), true).unwrap());
        let t0 = 1_000_000;
        store
            .write(|tx| {
                tx.apply_workflow(
                    &WorkflowSpec::new("w", vec![StepSpec::new("a", StepKind::Noop)]),
                    false,
                )?;
                for i in 0..200 {
                    let mut spec = ScheduleSpec::new(format!("s{i}"), "w");
                    spec.every_ms = Some(60_000);
                    tx.insert_schedule(&new_info(spec, "command", t0)?)?;
                }
                Ok(())
            })
            .unwrap();
        let report = fire_due_batched(store.as_ref(), t0 + 60_000, None, PASS_BATCH, |_| Ok(true))
            .unwrap()
            .unwrap();
        assert_eq!(report.ticks.len(), 200);
        assert!(
            report.cpu.runs > std::time::Duration::ZERO,
            "{:?}",
            report.cpu
        );
        assert!(report.cpu.total > report.cpu.runs, "{:?}", report.cpu);
    }

    /// A pass advances the schedules it read as due by their rowid, without a search of the
    /// names' index; one advanced by name alone (`advance_schedule`) is searched by name.
    #[test]
    fn a_pass_advances_its_due_schedules_by_rowid() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("imx.db");
        drop(Store::open(&path, true).unwrap());
        let conn = rusqlite::Connection::open(&path).unwrap();
        for (sql, want) in [
            (ADVANCE_BY_ROW, "INTEGER PRIMARY KEY (rowid=?)"),
            (ADVANCE_BY_NAME, "sqlite_autoindex_schedules_1 (name=?)"),
        ] {
            let plan: Vec<String> = conn
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .unwrap()
                .query_map(params![1, "s", 0, 0, 0, 0, 0, 0], |r| r.get::<_, String>(3))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            assert!(plan.iter().any(|p| p.contains(want)), "{sql}: {plan:?}");
        }
    }

    fn assert_plans(status_of: impl Fn(i64) -> &'static str, analyze: bool) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("imx.db");
        drop(Store::open(&path, true).unwrap());
        let mut conn = rusqlite::Connection::open(&path).unwrap();
        let tx = conn.transaction().unwrap();
        {
            let mut ins = tx
                .prepare(
                    "INSERT INTO runs (id, workflow, workflow_version, status, params, created_at,
                                       finished_at, created_by, steps_total, schedule,
                                       nominal_time)
                     VALUES (printf('r%06d', ?1), 'w', 1, ?2, '{}', ?1, ?1, 't', 1, 's', ?1)",
                )
                .unwrap();
            for i in 0..3_000 {
                ins.execute(params![i, status_of(i)]).unwrap();
            }
        }
        if analyze {
            tx.execute_batch("ANALYZE").unwrap();
        }
        for (sql, index, args) in [
            (ACTIVE_RUNS, "runs_active_by_schedule", params!["s"]),
            (
                ACTIVE_RUNS_OF,
                "runs_active_by_schedule",
                params![r#"["s","t"]"#],
            ),
            (FAILED_AFTER, "runs_failed_by_schedule", params!["s", 0]),
        ] {
            let plan: Vec<String> = tx
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .unwrap()
                .query_map(args, |r| r.get::<_, String>(3))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            assert!(plan.iter().any(|p| p.contains(index)), "{sql}: {plan:?}");
        }
    }
}
