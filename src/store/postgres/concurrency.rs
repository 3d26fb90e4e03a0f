//! The PostgreSQL store's [`ConcurrencyRows`], as the SQLite store's
//! (`store::sqlite::concurrency`), for replicas admitting runs of one key at the same time.
//!
//! A key is held with a transaction-level advisory lock on a hash of it
//! (`pg_advisory_xact_lock(namespace, hashtext(key))`), released at commit or rollback. Why
//! not a unique slot index: a limit above 1 and a first-come queue both need one consistent
//! view of the key's active and waiting runs while deciding, which a lock gives and a
//! constraint does not; and unlike a row per key it needs no table to create, back up or
//! clean. Two keys hashing alike only take turns. Under READ COMMITTED each statement after
//! the lock sees every run committed before it, so no transaction decides from a stale count.

use super::tx::{PgTx, get};
use crate::Result;
use crate::store::flow::concurrency::ConcurrencyRows;

/// The first half of the advisory lock's key ("imxc"), apart from imx's other advisory locks
/// (which use the one-`bigint` form).
const KEY_LOCKS: i32 = 0x696d_7863;

impl ConcurrencyRows for PgTx<'_> {
    fn lock_key(&self, key: &str) -> Result<()> {
        self.query_one(
            "SELECT pg_advisory_xact_lock($1, hashtext($2))::text",
            &[&KEY_LOCKS, &key],
        )?;
        Ok(())
    }

    fn active_runs(&self, key: &str) -> Result<Vec<String>> {
        self.query(
            "SELECT id FROM runs
             WHERE concurrency_key = $1 AND status IN ('queued', 'running')
               AND admitted_at IS NOT NULL
             ORDER BY admitted_at, concurrency_seq",
            &[&key],
        )?
        .iter()
        .map(|r| get(r, 0))
        .collect()
    }

    fn waiting_runs(&self, key: &str) -> Result<Vec<(String, u32)>> {
        self.query(
            "SELECT id, COALESCE(concurrency_limit, 1) FROM runs
             WHERE concurrency_key = $1 AND status = 'queued' AND admitted_at IS NULL
             ORDER BY concurrency_seq",
            &[&key],
        )?
        .iter()
        .map(|r| {
            let limit: i64 = get(r, 1)?;
            Ok((get(r, 0)?, u32::try_from(limit).unwrap_or(1)))
        })
        .collect()
    }

    fn next_ticket(&self, key: &str) -> Result<i64> {
        let r = self.query_one(
            "SELECT COALESCE(MAX(concurrency_seq), 0) + 1 FROM runs
             WHERE concurrency_key = $1 AND status IN ('queued', 'running')",
            &[&key],
        )?;
        get(&r, 0)
    }

    fn admit_run(&self, run_id: &str, now: i64) -> Result<bool> {
        let n = self.execute(
            "UPDATE runs SET admitted_at = $2, deadline = CASE WHEN timeout_ms > 0 THEN $2 + timeout_ms END
             WHERE id = $1 AND admitted_at IS NULL",
            &[&run_id, &now],
        )?;
        if n == 0 {
            return Ok(false);
        }
        self.execute(
            "UPDATE steps SET status = 'ready', not_before = $2
             WHERE run_id = $1 AND status = 'pending' AND pending_needs = 0",
            &[&run_id, &now],
        )?;
        self.hint_changes();
        Ok(true)
    }

    fn run_concurrency_key(&self, run_id: &str) -> Result<Option<String>> {
        match self.query_opt("SELECT concurrency_key FROM runs WHERE id = $1", &[&run_id])? {
            Some(r) => get(&r, 0),
            None => Ok(None),
        }
    }

    fn waiting_ahead(&self, key: &str, run_id: &str) -> Result<u32> {
        let r = self.query_one(
            "SELECT COUNT(*) FROM runs
             WHERE concurrency_key = $1 AND status = 'queued' AND admitted_at IS NULL
               AND concurrency_seq < (SELECT concurrency_seq FROM runs WHERE id = $2)",
            &[&key, &run_id],
        )?;
        let n: i64 = get(&r, 0)?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }
}
