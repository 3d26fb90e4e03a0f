//! Retention on PostgreSQL ([`RetentionTx`]): finished runs deleted a batch at a time with their
//! steps (the batch's run rows locked, skipping any another transaction holds, so neither side
//! waits), then the event and log rows left without a run, walked by id and deleted by id in
//! one statement per batch; then schedules' tick records whose run is gone. The feeds page by `feed_seq`, numbered from `feed_counters`, so
//! deleting rows never changes where numbering goes on.

use std::collections::{BTreeSet, HashSet};

use super::tx::{PgTx, get};
use crate::Result;
use crate::store::api::retention::{FINISHED, FeedTable, RetentionTx, Walked, next_cursor};

/// Runs considered per batch (the batch then takes as many as its step budget allows).
const RUNS_PER_BATCH: i64 = 500;

/// The finished runs that ended before `$1` and hold no leased or running step (over the
/// `runs_by_finished` index).
fn finished_before(select: &str) -> String {
    let statuses = FINISHED.map(|s| format!("'{s}'")).join(", ");
    format!(
        "SELECT {select} FROM runs r
         WHERE r.finished_at IS NOT NULL AND r.finished_at < $1 AND r.status IN ({statuses})
           AND NOT EXISTS (SELECT 1 FROM steps s
                           WHERE s.run_id = r.id AND s.status IN ('leased', 'running'))"
    )
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

impl RetentionTx for PgTx<'_> {
    fn count_finished_before(&self, cutoff: i64) -> Result<(u64, u64)> {
        let row = self.query_one(
            &finished_before("count(*), COALESCE(sum(r.steps_total), 0)::bigint"),
            &[&cutoff],
        )?;
        Ok((count(get(&row, 0)?), count(get(&row, 1)?)))
    }

    fn delete_finished_runs(&self, cutoff: i64, max_steps: u32) -> Result<(u64, u64)> {
        // Locked, and re-checked once locked (READ COMMITTED): a run retried meanwhile is
        // running again and drops out; one another transaction holds is skipped, not waited on.
        let sql = format!(
            "{} ORDER BY r.finished_at LIMIT $2 FOR UPDATE OF r SKIP LOCKED",
            finished_before("r.id, r.steps_total")
        );
        let mut ids = Vec::new();
        let mut budget = i64::from(max_steps);
        for row in self.query(&sql, &[&cutoff, &RUNS_PER_BATCH])? {
            let total: i64 = get(&row, 1)?;
            if !ids.is_empty() && total > budget {
                break;
            }
            budget -= total;
            ids.push(get::<String>(&row, 0)?);
        }
        if ids.is_empty() {
            return Ok((0, 0));
        }
        let steps = self.execute("DELETE FROM steps WHERE run_id = ANY($1)", &[&ids])?;
        self.execute("DELETE FROM run_labels WHERE run_id = ANY($1)", &[&ids])?;
        let runs = self.execute("DELETE FROM runs WHERE id = ANY($1)", &[&ids])?;
        Ok((runs, steps))
    }

    fn prune_feed(&self, table: FeedTable, after: i64, cutoff: i64, limit: u32) -> Result<Walked> {
        let t = table.table();
        let newest: Option<i64> = get(
            &self.query_one(&format!("SELECT max(id) FROM {t}"), &[])?,
            0,
        )?;
        let Some(newest) = newest else {
            return Ok(Walked::default());
        };
        let rows: Vec<(i64, Option<String>, i64)> = self
            .query(
                &format!("SELECT id, run_id, time FROM {t} WHERE id > $1 ORDER BY id LIMIT $2"),
                &[&after, &i64::from(limit)],
            )?
            .iter()
            .map(|r| Ok((get(r, 0)?, get(r, 1)?, get(r, 2)?)))
            .collect::<Result<_>>()?;
        let old = |(id, _, time): &&(i64, Option<String>, i64)| *time < cutoff && *id < newest;
        let named: Vec<String> = rows
            .iter()
            .filter(old)
            .filter_map(|(_, run, _)| run.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let live: HashSet<String> = if named.is_empty() {
            HashSet::new()
        } else {
            self.query("SELECT id FROM runs WHERE id = ANY($1)", &[&named])?
                .iter()
                .map(|r| get(r, 0))
                .collect::<Result<_>>()?
        };
        let gone: Vec<i64> = rows
            .iter()
            .filter(old)
            .filter(|(_, run, _)| run.as_ref().is_none_or(|r| !live.contains(r)))
            .map(|(id, _, _)| *id)
            .collect();
        let deleted = if gone.is_empty() {
            0
        } else {
            self.execute(&format!("DELETE FROM {t} WHERE id = ANY($1)"), &[&gone])?
        };
        Ok(Walked {
            deleted,
            next: next_cursor(&rows, limit, cutoff),
        })
    }

    fn prune_ticks(&self, schedule: &str, before: i64, limit: u32) -> Result<u64> {
        self.execute(
            "DELETE FROM schedule_ticks WHERE schedule = $1 AND nominal_time IN (
                 SELECT t.nominal_time FROM schedule_ticks t
                 WHERE t.schedule = $1 AND t.nominal_time < $2 AND t.outcome <> 'buffered'
                   AND t.nominal_time < (SELECT max(nominal_time) FROM schedule_ticks
                                         WHERE schedule = $1)
                   AND (t.run_id IS NULL
                        OR NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = t.run_id))
                 ORDER BY t.nominal_time LIMIT $3)",
            &[&schedule, &before, &i64::from(limit)],
        )
    }

    fn prune_notifications(&self, cutoff: i64, limit: u32) -> Result<u64> {
        let limit = i64::from(limit);
        // Rows another replica's delivery pass holds are left for the next batch.
        let deliveries = self.execute(
            "WITH gone AS (
                 SELECT id FROM notify_deliveries
                 WHERE state IN ('delivered', 'failed', 'suppressed') AND created_at < $1
                 ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED),
             attempts AS (
                 DELETE FROM notify_attempts WHERE delivery_id IN (SELECT id FROM gone))
             DELETE FROM notify_deliveries WHERE id IN (SELECT id FROM gone)",
            &[&cutoff, &limit],
        )?;
        let outbox = self.execute(
            "DELETE FROM notify_outbox WHERE id IN (
                 SELECT o.id FROM notify_outbox o
                 WHERE o.processed_at IS NOT NULL AND o.at < $1
                   AND (o.run_id IS NULL
                        OR NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = o.run_id))
                 ORDER BY o.at LIMIT $2 FOR UPDATE SKIP LOCKED)",
            &[&cutoff, &limit],
        )?;
        Ok(deliveries + outbox)
    }
}
