//! Schedules on PostgreSQL ([`SchedulesTx`]; see `store::sqlite::schedules`). Ticks fire on the
//! replica holding the maintenance lease, in its fenced maintenance transaction; should two
//! transactions still fire the same schedule (a lease handed over mid-pass), the due rows are
//! locked `FOR UPDATE SKIP LOCKED` and the tick's insert under its primary key makes the
//! second one's do nothing (it waits for the first to commit, then finds the row).

use tokio_postgres::Row;

use super::tx::{PgTx, get, owned};
use crate::model::{ScheduleInfo, Tick, TickCounts, TickOutcome};
use crate::schedule::{MissReason, ScheduleSpec};
use crate::store::api::schedules::{Advance, NewTick, SchedulesTx};
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

/// The runs not ended of a batch of schedules: the partial index of active scheduled runs
/// searched once per name. Written as a lateral join whose `LIMIT` keeps it a nested loop: as
/// `schedule = ANY($1)` the planner, with statistics not yet caught up with a pass's thousands
/// of new queued runs, walked every queued run by status instead (50-60 ms a batch of 250 in
/// `cargo bench --bench schedules`, 2 s of start lag over a pass).
const ACTIVE_RUNS_OF: &str = "SELECT r.schedule, r.id FROM unnest($1::text[]) AS n(name)
     CROSS JOIN LATERAL (
         SELECT schedule, id FROM runs
         WHERE schedule = n.name AND schedule IS NOT NULL AND status IN ('queued', 'running')
         ORDER BY id COLLATE \"C\" LIMIT 1000000
     ) AS r
     ORDER BY r.schedule, r.id COLLATE \"C\"";
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
                &serde_json::to_string(&s.spec)?,
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
                &serde_json::to_string(&s.spec)?,
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

    fn due_schedules(&self, now: i64, limit: u32) -> Result<Vec<ScheduleInfo>> {
        self.query(
            &format!(
                "SELECT {COLUMNS} FROM schedules WHERE next_fire IS NOT NULL AND next_fire <= $1
                 ORDER BY next_fire LIMIT $2 FOR UPDATE SKIP LOCKED"
            ),
            &[&now, &i64::from(limit)],
        )?
        .iter()
        .map(schedule_from_row)
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

    /// See [`ACTIVE_RUNS_OF`].
    fn schedules_active_runs(
        &self,
        names: &[String],
    ) -> Result<std::collections::BTreeMap<String, Vec<String>>> {
        let mut out: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for r in self.query(ACTIVE_RUNS_OF, &[&names])? {
            out.entry(get(&r, 0)?).or_default().push(get(&r, 1)?);
        }
        Ok(out)
    }

    fn buffered_counts(&self) -> Result<std::collections::BTreeMap<String, u32>> {
        self.query(
            "SELECT schedule, count(*) FROM schedule_ticks WHERE outcome = 'buffered'
             GROUP BY schedule",
            &[],
        )?
        .iter()
        .map(|r| {
            let n: i64 = get(r, 1)?;
            Ok((get(r, 0)?, u32::try_from(n).unwrap_or(u32::MAX)))
        })
        .collect()
    }

    fn insert_tick(&self, t: &NewTick<'_>) -> Result<bool> {
        let n = self.execute(
            "INSERT INTO schedule_ticks (schedule, nominal_time, outcome, reason, recorded_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (schedule, nominal_time) DO NOTHING",
            &[
                &t.schedule,
                &t.nominal_time,
                &t.outcome.as_str(),
                &t.reason.map(MissReason::as_str),
                &t.recorded_at,
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
        let recorded: std::collections::HashSet<(String, i64)> = self
            .query(
                "INSERT INTO schedule_ticks (schedule, nominal_time, outcome, reason, recorded_at)
                 SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[],
                                      $5::bigint[])
                 ON CONFLICT (schedule, nominal_time) DO NOTHING
                 RETURNING schedule, nominal_time",
                &[&names, &nominal, &outcomes, &reasons, &recorded_at],
            )?
            .iter()
            .map(|r| Ok((get(r, 0)?, get(r, 1)?)))
            .collect::<Result<_>>()?;
        Ok(ticks
            .iter()
            .map(|t| recorded.contains(&(t.schedule.to_string(), t.nominal_time)))
            .collect())
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
            "INSERT INTO schedule_ticks (schedule, nominal_time, outcome, reason, recorded_at)
             VALUES ($1, $2, $3, NULL, $4)
             ON CONFLICT (schedule, nominal_time) DO UPDATE
             SET outcome = EXCLUDED.outcome, reason = NULL, recorded_at = EXCLUDED.recorded_at
             WHERE schedule_ticks.run_id IS NULL
               AND schedule_ticks.outcome IN ('missed', 'skipped', 'dropped')",
            &[
                &t.schedule,
                &t.nominal_time,
                &t.outcome.as_str(),
                &t.recorded_at,
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

    /// A pass's batch asks 250 schedules for their runs not ended while thousands of runs are
    /// queued and the table's statistics have not caught up (a pass makes 10,000 runs in a few
    /// seconds): it searches the partial index once per name. As `schedule = ANY($1)` the
    /// planner walked every queued run by status for each batch.
    #[test]
    fn a_pass_searches_active_runs_by_schedule_while_thousands_are_queued() {
        let Some((_db, store)) = test_store() else {
            return;
        };
        store
            .write(|tx| {
                tx.execute("ALTER TABLE runs SET (autovacuum_enabled = false)", &[])?;
                tx.execute(
                    "INSERT INTO runs (id, workflow, workflow_version, status, params, created_at,
                                       created_by, steps_total, schedule, nominal_time)
                     SELECT 'r' || lpad(g::text, 6, '0'), 'w', 1, 'queued', '{}', g, 't', 1,
                            's' || lpad(g::text, 5, '0'), g
                     FROM generate_series(0, 9999) AS g",
                    &[],
                )?;
                Ok(())
            })
            .unwrap();
        let names: Vec<String> = (5000..5250).map(|i| format!("s{i:05}")).collect();
        let plan: Vec<String> = store
            .read(|tx| {
                tx.query(&format!("EXPLAIN {ACTIVE_RUNS_OF}"), &[&names])?
                    .iter()
                    .map(|r| get::<String>(r, 0))
                    .collect()
            })
            .unwrap();
        let plan = plan.join("\n");
        assert!(plan.contains("runs_active_by_schedule"), "{plan}");
        assert!(!plan.contains("runs_by_status"), "{plan}");
        let active = store.read(|tx| tx.schedules_active_runs(&names)).unwrap();
        assert_eq!(active.len(), 250);
        assert_eq!(active["s05000"], vec!["r005000".to_string()]);
    }
}
