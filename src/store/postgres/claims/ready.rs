//! Granting ready steps on PostgreSQL: one statement picks up to N due, ready steps whose
//! selector the agent's labels satisfy (`labels @> selector`), in due order over the partial
//! index `steps_ready`, locking them `FOR UPDATE SKIP LOCKED` so concurrent claimers on every
//! replica take different steps without waiting for each other, and leases them (a new attempt
//! number: the fencing token). Under READ COMMITTED a step another claimer leased and committed
//! meanwhile is re-checked against `status = 'ready'` and left out: each step is granted once.

use deadpool_postgres::Transaction;

use crate::store::postgres::errors::PgResult;

/// The agent asking.
#[derive(Debug, Clone)]
pub struct Claimant<'a> {
    pub id: &'a str,
    pub name: &'a str,
    /// Its labels, a JSON object of strings.
    pub labels: &'a serde_json::Value,
}

/// One step granted: its lease's attempt number fences every later report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub seq: i64,
    pub run_id: String,
    pub step_id: String,
    pub attempt: i64,
}

/// Lease up to `max` ready steps due at `now` (epoch ms) to `agent` until `now + lease_ms`.
/// Returns the grants in due order. Run transitions that follow (a run's first step makes it
/// `running`) lock the run row after this, in run id order.
pub async fn claim_ready(
    tx: &Transaction<'_>,
    agent: &Claimant<'_>,
    max: i64,
    now: i64,
    lease_ms: i64,
) -> PgResult<Vec<Grant>> {
    let stmt = tx
        .prepare_cached(
            "WITH picked AS (
                 SELECT seq FROM steps
                 WHERE status = 'ready' AND not_before <= $1
                   AND (selector IS NULL OR $2::jsonb @> selector)
                 ORDER BY not_before, seq
                 LIMIT $3
                 FOR UPDATE SKIP LOCKED
             )
             UPDATE steps s
             SET status = 'leased', attempt = s.attempt + 1, agent_id = $4, agent_name = $5,
                 lease_until = $6, started_at = $1, finished_at = NULL, log_bytes = 0
             FROM picked
             WHERE s.seq = picked.seq
             RETURNING s.seq, s.run_id, s.step_id, s.attempt, s.not_before",
        )
        .await?;
    let lease_until = now.saturating_add(lease_ms);
    let rows = tx
        .query(
            &stmt,
            &[
                &now,
                agent.labels,
                &max,
                &agent.id,
                &agent.name,
                &lease_until,
            ],
        )
        .await?;
    let mut grants: Vec<(i64, Grant)> = rows
        .iter()
        .map(|r| {
            (
                r.get(4),
                Grant {
                    seq: r.get(0),
                    run_id: r.get(1),
                    step_id: r.get(2),
                    attempt: r.get(3),
                },
            )
        })
        .collect();
    // UPDATE ... RETURNING does not keep the CTE's order.
    grants.sort_by_key(|(due, g)| (*due, g.seq));
    Ok(grants.into_iter().map(|(_, g)| g).collect())
}

/// Pick up to `max` ready steps due at `now` whose selector `labels` satisfy, in due order,
/// and lock them (`FOR UPDATE SKIP LOCKED`: steps another claimer holds are passed over, not
/// waited for). Returns each step's run id and [`STEP_ROW`](crate::store::postgres::transitions::STEP_ROW)
/// columns from index 1; the engine then decides each lease (see `super::claim`).
pub async fn pick_ready(
    tx: &deadpool_postgres::ClientWrapper,
    labels: &serde_json::Value,
    max: i64,
    now: i64,
) -> PgResult<Vec<tokio_postgres::Row>> {
    let stmt = tx
        .prepare_cached(&format!(
            "SELECT run_id, {} FROM steps
             WHERE status = 'ready' AND not_before <= $1
               AND (selector IS NULL OR $2::jsonb @> selector)
             ORDER BY not_before, seq
             LIMIT $3
             FOR UPDATE SKIP LOCKED",
            crate::store::postgres::transitions::STEP_ROW
        ))
        .await?;
    Ok(tx.query(&stmt, &[&now, labels, &max]).await?)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::collections::HashSet;
    use std::time::Instant;

    use super::*;
    use crate::store::postgres::retry::in_tx;
    use crate::store::postgres::testdb::TestDb;
    use crate::store::postgres::{PgConfig, migrate};

    async fn store(db: &TestDb, pool_size: usize) -> deadpool_postgres::Pool {
        let cfg = PgConfig::parse(&db.url())
            .unwrap()
            .with_pool_size(pool_size);
        let mut c = cfg.connect(None).await.unwrap();
        migrate(&mut c, "db", true).await.unwrap();
        cfg.pool().unwrap()
    }

    async fn add_ready(pool: &deadpool_postgres::Pool, run: &str, n: i64, selector: Option<&str>) {
        let c = pool.get().await.unwrap();
        c.execute(
            "INSERT INTO steps (run_id, step_id, idx, kind, status, pending_needs, selector)
             SELECT $3 || (i / 100), 's' || i, i % 100, 'shell', 'ready', 0, $2::text::jsonb
             FROM generate_series(1, $1::bigint) AS i",
            &[&n, &selector, &run],
        )
        .await
        .unwrap();
    }

    async fn claim(
        pool: &deadpool_postgres::Pool,
        id: &str,
        labels: &serde_json::Value,
        max: i64,
    ) -> Vec<Grant> {
        in_tx(pool, |tx| {
            // The transaction's future owns what it uses (it may run again).
            let (id, labels) = (id.to_string(), labels.clone());
            Box::pin(async move {
                claim_ready(
                    tx,
                    &Claimant {
                        id: &id,
                        name: &id,
                        labels: &labels,
                    },
                    max,
                    crate::model::now_ms(),
                    30_000,
                )
                .await
            })
        })
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn a_claim_takes_matching_due_steps_in_order_with_a_new_attempt() {
        let Some(db) = TestDb::get().await else {
            return;
        };
        let pool = store(&db, 2).await;
        add_ready(&pool, "plain", 3, None).await;
        add_ready(&pool, "gpu", 2, Some(r#"{"os":"linux","gpu":"yes"}"#)).await;
        let c = pool.get().await.unwrap();
        // One step backing off (not yet due), one pending.
        c.execute(
            "UPDATE steps SET not_before = $1 WHERE seq = 1",
            &[&(crate::model::now_ms() + 60_000)],
        )
        .await
        .unwrap();
        c.execute("UPDATE steps SET status = 'pending' WHERE seq = 2", &[])
            .await
            .unwrap();
        let plain = serde_json::json!({"os": "linux"});
        let got = claim(&pool, "a1", &plain, 10).await;
        assert_eq!(
            got.iter().map(|g| g.seq).collect::<Vec<_>>(),
            [3],
            "due, ready, and no selector the labels miss"
        );
        assert_eq!(got[0].attempt, 1);
        let gpu = serde_json::json!({"os": "linux", "gpu": "yes", "zone": "b"});
        let got = claim(&pool, "a2", &gpu, 1).await;
        assert_eq!(got.iter().map(|g| g.seq).collect::<Vec<_>>(), [4]);
        let row = c
            .query_one(
                "SELECT status, agent_id, lease_until - started_at FROM steps WHERE seq = 4",
                &[],
            )
            .await
            .unwrap();
        assert_eq!(row.get::<_, String>(0), "leased");
        assert_eq!(row.get::<_, String>(1), "a2");
        assert_eq!(row.get::<_, i64>(2), 30_000);
        // Leased again after its lease is lost: the attempt grows.
        c.execute("UPDATE steps SET status = 'ready' WHERE seq = 4", &[])
            .await
            .unwrap();
        let got = claim(&pool, "a2", &gpu, 5).await;
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].seq, got[0].attempt), (4, 2));
    }

    /// DESIGN §12 / issue 11 failure test 4 at the store level: concurrent claimers (each its
    /// own connection, as replicas) over 10,000 ready steps; each step granted exactly once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_claimers_grant_each_of_10000_steps_exactly_once() {
        let Some(db) = TestDb::get().await else {
            return;
        };
        const STEPS: i64 = 10_000;
        const CLAIMERS: usize = 8;
        let pool = store(&db, CLAIMERS).await;
        add_ready(&pool, "r", STEPS, None).await;
        let (all, per_claimer, elapsed) = race(&pool, CLAIMERS, 32).await;
        let distinct: HashSet<i64> = all.iter().map(|(seq, _)| *seq).collect();
        assert_eq!(all.len(), STEPS as usize, "grants: {}", all.len());
        assert_eq!(distinct.len(), STEPS as usize, "no step granted twice");
        assert!(all.iter().all(|(_, attempt)| *attempt == 1));
        let c = pool.get().await.unwrap();
        let ready: i64 = c
            .query_one("SELECT count(*) FROM steps WHERE status = 'ready'", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(ready, 0);
        eprintln!(
            "{STEPS} steps claimed by {CLAIMERS} claimers (up to 32 a claim) in {elapsed:?}: {:.0} steps/s; per claimer {per_claimer:?}",
            STEPS as f64 / elapsed.as_secs_f64()
        );
        // One step a claim: the transactions per second the claim path sustains.
        const SINGLES: i64 = 1_000;
        add_ready(&pool, "single", SINGLES, None).await;
        let (all, _, elapsed) = race(&pool, CLAIMERS, 1).await;
        let distinct: HashSet<i64> = all.iter().map(|(seq, _)| *seq).collect();
        assert_eq!(
            (all.len(), distinct.len()),
            (SINGLES as usize, SINGLES as usize)
        );
        eprintln!(
            "{SINGLES} steps claimed one a claim by {CLAIMERS} claimers in {elapsed:?}: {:.0} claims/s",
            SINGLES as f64 / elapsed.as_secs_f64()
        );
    }

    /// `claimers` claim `max` at a time until nothing is left: every grant, how many each got,
    /// and how long it took.
    async fn race(
        pool: &deadpool_postgres::Pool,
        claimers: usize,
        max: i64,
    ) -> (Vec<(i64, i64)>, Vec<usize>, std::time::Duration) {
        let labels = serde_json::json!({});
        let t = Instant::now();
        let mut tasks = Vec::new();
        for i in 0..claimers {
            let (pool, labels) = (pool.clone(), labels.clone());
            tasks.push(tokio::spawn(async move {
                let id = format!("agent-{i}");
                let mut mine = Vec::new();
                loop {
                    let got = claim(&pool, &id, &labels, max).await;
                    if got.is_empty() {
                        return mine;
                    }
                    mine.extend(got.into_iter().map(|g| (g.seq, g.attempt)));
                }
            }));
        }
        let mut all = Vec::new();
        let mut per_claimer = Vec::new();
        for t in tasks {
            let mine = t.await.unwrap();
            per_claimer.push(mine.len());
            all.extend(mine);
        }
        (all, per_claimer, t.elapsed())
    }
}
