//! Retention on SQLite ([`RetentionTx`]): finished runs deleted a batch at a time with their
//! steps and labels, then the event and log rows left without a run, walked by id, and schedules' tick
//! records whose run is gone.

use rusqlite::{OptionalExtension, Transaction, params};

use crate::Result;
use crate::store::api::retention::{FINISHED, FeedTable, RetentionTx, Walked, next_cursor};

/// Runs considered per batch (the batch then takes as many as its step budget allows).
const RUNS_PER_BATCH: i64 = 500;

/// The finished runs that ended before `?1` and hold no leased or running step, oldest end
/// first (over the `runs_by_finished` index).
fn finished_before(select: &str) -> String {
    let statuses = FINISHED.map(|s| format!("'{s}'")).join(", ");
    format!(
        "SELECT {select} FROM runs r
         WHERE r.finished_at IS NOT NULL AND r.finished_at < ?1 AND r.status IN ({statuses})
           AND NOT EXISTS (SELECT 1 FROM steps s
                           WHERE s.run_id = r.id AND s.status IN ('leased', 'running'))"
    )
}

impl RetentionTx for Transaction<'_> {
    fn count_finished_before(&self, cutoff: i64) -> Result<(u64, u64)> {
        let (runs, steps): (i64, i64) = self.query_row(
            &finished_before("count(*), COALESCE(sum(r.steps_total), 0)"),
            params![cutoff],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok((
            u64::try_from(runs).unwrap_or(0),
            u64::try_from(steps).unwrap_or(0),
        ))
    }

    fn delete_finished_runs(&self, cutoff: i64, max_steps: u32) -> Result<(u64, u64)> {
        let sql = format!(
            "{} ORDER BY r.finished_at LIMIT ?2",
            finished_before("r.id, r.steps_total")
        );
        let candidates: Vec<(String, i64)> = self
            .prepare_cached(&sql)?
            .query_map(params![cutoff, RUNS_PER_BATCH], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let (mut runs, mut steps, mut budget) = (0u64, 0u64, i64::from(max_steps));
        let mut del_steps = self.prepare_cached("DELETE FROM steps WHERE run_id = ?1")?;
        let mut del_run = self.prepare_cached("DELETE FROM runs WHERE id = ?1")?;
        let mut del_labels = self.prepare_cached("DELETE FROM run_labels WHERE run_id = ?1")?;
        for (id, total) in candidates {
            if runs > 0 && total > budget {
                break;
            }
            budget -= total;
            steps += del_steps.execute(params![id])? as u64;
            del_labels.execute(params![id])?;
            runs += del_run.execute(params![id])? as u64;
        }
        Ok((runs, steps))
    }

    fn prune_feed(&self, table: FeedTable, after: i64, cutoff: i64, limit: u32) -> Result<Walked> {
        let t = table.table();
        let newest: Option<i64> = self
            .query_row(&format!("SELECT max(id) FROM {t}"), [], |r| r.get(0))
            .optional()?
            .flatten();
        let Some(newest) = newest else {
            return Ok(Walked::default());
        };
        let rows: Vec<(i64, Option<String>, i64)> = self
            .prepare_cached(&format!(
                "SELECT id, run_id, time FROM {t} WHERE id > ?1 ORDER BY id LIMIT ?2"
            ))?
            .query_map(params![after, limit], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut run_exists = self.prepare_cached("SELECT 1 FROM runs WHERE id = ?1")?;
        let mut delete = self.prepare_cached(&format!("DELETE FROM {t} WHERE id = ?1"))?;
        let mut known: std::collections::HashMap<String, bool> = Default::default();
        let mut deleted = 0;
        for (id, run, time) in &rows {
            if *time >= cutoff || *id >= newest {
                continue;
            }
            let gone = match run {
                None => true,
                Some(run) => match known.get(run) {
                    Some(exists) => !exists,
                    None => {
                        let exists = run_exists.exists(params![run])?;
                        known.insert(run.clone(), exists);
                        !exists
                    }
                },
            };
            if gone {
                deleted += delete.execute(params![id])? as u64;
            }
        }
        Ok(Walked {
            deleted,
            next: next_cursor(&rows, limit, cutoff),
        })
    }

    fn prune_ticks(&self, schedule: &str, before: i64, limit: u32) -> Result<u64> {
        let n = self
            .prepare_cached(
                "DELETE FROM schedule_ticks WHERE schedule = ?1 AND nominal_time IN (
                     SELECT t.nominal_time FROM schedule_ticks t
                     WHERE t.schedule = ?1 AND t.nominal_time < ?2 AND t.outcome <> 'buffered'
                       AND t.nominal_time < (SELECT max(nominal_time) FROM schedule_ticks
                                             WHERE schedule = ?1)
                       AND (t.run_id IS NULL
                            OR NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = t.run_id))
                     ORDER BY t.nominal_time LIMIT ?3)",
            )?
            .execute(params![schedule, before, limit])?;
        Ok(n as u64)
    }

    fn prune_notifications(&self, cutoff: i64, limit: u32) -> Result<u64> {
        // The same batch twice in one write transaction (the one writer): its attempts, then it.
        const BATCH: &str = "SELECT id FROM notify_deliveries \
             WHERE state IN ('delivered', 'failed', 'suppressed') AND created_at < ?1 \
             ORDER BY created_at, id LIMIT ?2";
        self.prepare_cached(&format!(
            "DELETE FROM notify_attempts WHERE delivery_id IN ({BATCH})"
        ))?
        .execute(params![cutoff, limit])?;
        let deliveries = self
            .prepare_cached(&format!(
                "DELETE FROM notify_deliveries WHERE id IN ({BATCH})"
            ))?
            .execute(params![cutoff, limit])?;
        let outbox = self
            .prepare_cached(
                "DELETE FROM notify_outbox WHERE id IN (
                     SELECT o.id FROM notify_outbox o
                     WHERE o.processed_at IS NOT NULL AND o.at < ?1
                       AND (o.run_id IS NULL
                            OR NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = o.run_id))
                     ORDER BY o.at LIMIT ?2)",
            )?
            .execute(params![cutoff, limit])?;
        Ok((deliveries + outbox) as u64)
    }
}
