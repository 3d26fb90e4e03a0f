//! The SQLite store's [`ConcurrencyRows`]: a key's active and waiting runs, tickets and
//! admission (the decisions are `store::flow::concurrency`'s). One writer holds the whole
//! database for a write transaction (`BEGIN IMMEDIATE`), so holding a key takes nothing more.

use rusqlite::{OptionalExtension, Transaction, params};

use crate::Result;
use crate::store::flow::concurrency::ConcurrencyRows;

impl ConcurrencyRows for Transaction<'_> {
    /// The transaction already holds the only write lock there is.
    fn lock_key(&self, _key: &str) -> Result<()> {
        Ok(())
    }

    fn active_runs(&self, key: &str) -> Result<Vec<String>> {
        let ids = self
            .prepare_cached(
                "SELECT id FROM runs
                 WHERE concurrency_key = ?1 AND status IN ('queued', 'running')
                   AND admitted_at IS NOT NULL
                 ORDER BY admitted_at, concurrency_seq",
            )?
            .query_map([key], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(ids)
    }

    fn waiting_runs(&self, key: &str) -> Result<Vec<(String, u32)>> {
        let rows = self
            .prepare_cached(
                "SELECT id, COALESCE(concurrency_limit, 1) FROM runs
                 WHERE concurrency_key = ?1 AND status = 'queued' AND admitted_at IS NULL
                 ORDER BY concurrency_seq",
            )?
            .query_map([key], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    fn next_ticket(&self, key: &str) -> Result<i64> {
        Ok(self
            .prepare_cached(
                "SELECT COALESCE(MAX(concurrency_seq), 0) + 1 FROM runs
                 WHERE concurrency_key = ?1 AND status IN ('queued', 'running')",
            )?
            .query_row([key], |r| r.get(0))?)
    }

    fn admit_run(&self, run_id: &str, now: i64) -> Result<bool> {
        let n = self
            .prepare_cached(
                "UPDATE runs SET admitted_at = ?2, deadline = CASE WHEN timeout_ms > 0 THEN ?2 + timeout_ms END
                 WHERE id = ?1 AND admitted_at IS NULL",
            )?
            .execute(params![run_id, now])?;
        if n == 0 {
            return Ok(false);
        }
        self.prepare_cached(
            "UPDATE steps SET status = 'ready', not_before = ?2
             WHERE run_id = ?1 AND status = 'pending' AND pending_needs = 0",
        )?
        .execute(params![run_id, now])?;
        Ok(true)
    }

    fn run_concurrency_key(&self, run_id: &str) -> Result<Option<String>> {
        Ok(self
            .prepare_cached("SELECT concurrency_key FROM runs WHERE id = ?1")?
            .query_row([run_id], |r| r.get(0))
            .optional()?
            .flatten())
    }

    fn waiting_ahead(&self, key: &str, run_id: &str) -> Result<u32> {
        Ok(self
            .prepare_cached(
                "SELECT COUNT(*) FROM runs
                 WHERE concurrency_key = ?1 AND status = 'queued' AND admitted_at IS NULL
                   AND concurrency_seq < (SELECT concurrency_seq FROM runs WHERE id = ?2)",
            )?
            .query_row(params![key, run_id], |r| r.get(0))?)
    }
}
