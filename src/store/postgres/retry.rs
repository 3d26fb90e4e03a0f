//! Transactions on the PostgreSQL store: READ COMMITTED, run again from the start when the
//! server rolls them back for a serialization failure (40001) or a deadlock (40P01). Safe
//! because a transaction's body recomputes everything from what it reads (the engine's
//! transitions are pure functions of loaded state), so a second run is a fresh decision, never
//! a replay of the first one's.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use deadpool_postgres::Pool;
use deadpool_postgres::Transaction;
use tokio_postgres::IsolationLevel;

use super::errors::PgResult;

/// A boxed, sendable future borrowing the transaction (deadpool's: it caches prepared
/// statements per connection, and derefs to tokio-postgres's).
pub type TxFuture<'a, T> = Pin<Box<dyn Future<Output = PgResult<T>> + Send + 'a>>;

/// How many times a transaction runs at most.
pub const MAX_TRIES: u32 = 10;

/// Run `body` in a READ COMMITTED transaction on a pooled connection and commit; run it again
/// (after a short, growing, jittered pause) when it or the commit fails with 40001 or 40P01.
/// Any other error rolls back and is returned. The future owns what it uses (clone it in
/// the closure): it may run more than once.
///
/// ```ignore
/// let n = in_tx(&pool, |tx| Box::pin(async move {
///     Ok(tx.execute("UPDATE ...", &[]).await?)
/// })).await?;
/// ```
pub async fn in_tx<T, F>(pool: &Pool, mut body: F) -> PgResult<T>
where
    F: for<'t> FnMut(&'t Transaction<'t>) -> TxFuture<'t, T>,
{
    let mut tries = 0;
    loop {
        tries += 1;
        let mut client = pool.get().await?;
        let attempt: PgResult<T> = async {
            let tx = client
                .build_transaction()
                .isolation_level(IsolationLevel::ReadCommitted)
                .start()
                .await?;
            let out = body(&tx).await?;
            tx.commit().await?;
            Ok(out)
        }
        .await;
        match attempt {
            Err(e) if e.is_retryable() && tries < MAX_TRIES => {
                tracing::debug!(tries, "transaction retried: {e}");
                tokio::time::sleep(backoff(tries)).await;
            }
            other => return other,
        }
    }
}

/// The pause before try `n + 1`: 1 ms doubling to 128 ms at most, each with up to as much
/// again at random, so transactions that collided do not collide again in step.
pub(crate) fn backoff(n: u32) -> Duration {
    let base = 1u64 << n.min(7);
    Duration::from_millis(base + rand::random_range(0..=base))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::store::postgres::PgConfig;
    use crate::store::postgres::testdb::TestDb;

    /// Two transactions locking two rows in opposite orders deadlock; the one the server
    /// rolls back runs again and both end committed.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_deadlocked_transaction_runs_again_and_commits() {
        let Some(db) = TestDb::get().await else {
            return;
        };
        let pool = PgConfig::parse(&db.url()).unwrap().pool().unwrap();
        pool.get()
            .await
            .unwrap()
            .batch_execute(
                "CREATE TABLE t (id int PRIMARY KEY, n int NOT NULL);
                 INSERT INTO t VALUES (1, 0), (2, 0);",
            )
            .await
            .unwrap();
        let runs = Arc::new(AtomicU32::new(0));
        let barrier = Arc::new(tokio::sync::Barrier::new(2));
        let mut tasks = Vec::new();
        for (first, second) in [(1, 2), (2, 1)] {
            let (pool, runs, barrier) = (pool.clone(), runs.clone(), barrier.clone());
            tasks.push(tokio::spawn(async move {
                in_tx(&pool, |tx| {
                    let (runs, barrier) = (runs.clone(), barrier.clone());
                    Box::pin(async move {
                        let n = runs.fetch_add(1, Ordering::SeqCst);
                        tx.execute("UPDATE t SET n = n + 1 WHERE id = $1", &[&first])
                            .await?;
                        if n < 2 {
                            // Both first runs hold their first row before taking the second.
                            barrier.wait().await;
                        }
                        tx.execute("UPDATE t SET n = n + 1 WHERE id = $1", &[&second])
                            .await?;
                        Ok(())
                    })
                })
                .await
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        assert!(
            runs.load(Ordering::SeqCst) >= 3,
            "one transaction ran again"
        );
        let c = pool.get().await.unwrap();
        let rows = c.query("SELECT n FROM t ORDER BY id", &[]).await.unwrap();
        let ns: Vec<i32> = rows.iter().map(|r| r.get(0)).collect();
        assert_eq!(ns, [2, 2], "each transaction's updates committed once");
    }

    /// Other errors are not retried.
    #[tokio::test]
    async fn other_errors_end_the_transaction() {
        let Some(db) = TestDb::get().await else {
            return;
        };
        let pool = PgConfig::parse(&db.url()).unwrap().pool().unwrap();
        let runs = AtomicU32::new(0);
        let e = in_tx(&pool, |tx| {
            runs.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move {
                tx.execute("SELECT * FROM no_such_table", &[]).await?;
                Ok(())
            })
        })
        .await
        .unwrap_err();
        assert!(!e.is_retryable());
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }
}
