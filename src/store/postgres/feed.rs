//! Reading the event feed and log lines in order without ever skipping one, with many writers,
//! by a visibility horizon: an alternative kept with its tests. The store's feeds
//! (`ViewsTx::events_after`, `log_marks`, `log_page`) page by `feed_seq` instead
//! ([`super::sequence`]), which keeps the backend-neutral `i64` cursor and is not held back by
//! a long transaction elsewhere on the server.
//!
//! Ids come from a sequence when a row is inserted, but transactions commit in any order: a
//! reader that remembers "the last id I saw" misses a row whose transaction took a lower id and
//! committed later. So rows carry their transaction's id (`txid`, xid8 as a number) and feeds
//! read in `(txid, id)` order only below the *visibility horizon*, the snapshot's xmin: the
//! oldest transaction still running. Every transaction below it has ended, and every future one
//! gets a larger txid, so the rows below the horizon are final and a cursor `(txid, id)` never
//! passes a row that may still appear. A row shows up once its transaction and every older one
//! still running have ended (a long transaction anywhere on the server delays the feed; it
//! never loses rows).
//!
//! The order is not id order: two transactions' rows interleave by txid. A cursor handed to a
//! client as an event id is turned back into a position with [`cursor_at`].

use tokio_postgres::GenericClient;

use super::errors::PgResult;

/// A position in a feed: after the row `(txid, id)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Cursor {
    pub txid: i64,
    pub id: i64,
}

impl Cursor {
    /// Before everything.
    pub const START: Cursor = Cursor { txid: 0, id: 0 };
}

/// One event row.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    pub id: i64,
    pub time: i64,
    pub kind: String,
    pub run_id: Option<String>,
    pub step_id: Option<String>,
    pub data: String,
}

/// One log line.
#[derive(Debug, Clone, PartialEq)]
pub struct LogRow {
    pub id: i64,
    pub step_id: String,
    pub attempt: i64,
    pub time: i64,
    pub stream: String,
    pub line: String,
}

/// The oldest transaction still running, as a number (every row below it is final).
const HORIZON: &str = "pg_snapshot_xmin(pg_current_snapshot())::text::bigint";

/// Up to `limit` events after `after`, in feed order, and the cursor after the last one (or
/// `after` when there are none yet).
pub async fn events_after(
    c: &impl GenericClient,
    after: Cursor,
    limit: i64,
) -> PgResult<(Vec<EventRow>, Cursor)> {
    let rows = c
        .query(
            &format!(
                "SELECT id, txid, time, kind, run_id, step_id, data FROM events
                 WHERE (txid, id) > ($1, $2) AND txid < {HORIZON}
                 ORDER BY txid, id LIMIT $3"
            ),
            &[&after.txid, &after.id, &limit],
        )
        .await?;
    let mut cursor = after;
    let events = rows
        .iter()
        .map(|r| {
            cursor = Cursor {
                txid: r.get(1),
                id: r.get(0),
            };
            EventRow {
                id: r.get(0),
                time: r.get(2),
                kind: r.get(3),
                run_id: r.get(4),
                step_id: r.get(5),
                data: r.get(6),
            }
        })
        .collect();
    Ok((events, cursor))
}

/// Up to `limit` log lines of run `run_id` after `after`, in feed order.
pub async fn logs_after(
    c: &impl GenericClient,
    run_id: &str,
    after: Cursor,
    limit: i64,
) -> PgResult<(Vec<LogRow>, Cursor)> {
    let rows = c
        .query(
            &format!(
                "SELECT id, txid, step_id, attempt, time, stream, line FROM logs
                 WHERE run_id = $1 AND (txid, id) > ($2, $3) AND txid < {HORIZON}
                 ORDER BY txid, id LIMIT $4"
            ),
            &[&run_id, &after.txid, &after.id, &limit],
        )
        .await?;
    let mut cursor = after;
    let lines = rows
        .iter()
        .map(|r| {
            cursor = Cursor {
                txid: r.get(1),
                id: r.get(0),
            };
            LogRow {
                id: r.get(0),
                step_id: r.get(2),
                attempt: r.get(3),
                time: r.get(4),
                stream: r.get(5),
                line: r.get(6),
            }
        })
        .collect();
    Ok((lines, cursor))
}

/// The position of event `id` (a client's last seen id). For an id no longer stored (pruned),
/// after every event of the transactions up to the last one that wrote an id ≤ `id`.
pub async fn cursor_at(c: &impl GenericClient, id: i64) -> PgResult<Cursor> {
    let row = c
        .query_opt("SELECT txid FROM events WHERE id = $1", &[&id])
        .await?;
    if let Some(r) = row {
        return Ok(Cursor { txid: r.get(0), id });
    }
    let txid: i64 = c
        .query_one(
            "SELECT coalesce(max(txid), 0) FROM events WHERE id <= $1",
            &[&id],
        )
        .await?
        .get(0);
    Ok(Cursor { txid, id: i64::MAX })
}

/// The position "now": after every event already final, before any still being written (a
/// follower starting here sees every event that commits from now on).
pub async fn cursor_now(c: &impl GenericClient) -> PgResult<Cursor> {
    let h: i64 = c.query_one(&format!("SELECT {HORIZON}"), &[]).await?.get(0);
    Ok(Cursor {
        txid: h - 1,
        id: i64::MAX,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::collections::HashSet;
    use std::time::Duration;

    use super::*;
    use crate::store::postgres::testdb::TestDb;
    use crate::store::postgres::{PgConfig, migrate};

    async fn setup(db: &TestDb) -> PgConfig {
        let cfg = PgConfig::parse(&db.url()).unwrap().with_pool_size(12);
        let mut c = cfg.connect(None).await.unwrap();
        migrate(&mut c, "db", true).await.unwrap();
        cfg
    }

    async fn insert(tx: &tokio_postgres::Transaction<'_>, kind: &str) -> i64 {
        tx.query_one(
            "INSERT INTO events (time, kind, data) VALUES (0, $1, 'null') RETURNING id",
            &[&kind],
        )
        .await
        .unwrap()
        .get(0)
    }

    /// Read until `done` says so (with a deadline).
    async fn poll(
        c: &tokio_postgres::Client,
        after: Cursor,
        done: impl Fn(&[EventRow]) -> bool,
    ) -> (Vec<EventRow>, Cursor) {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let (got, next) = events_after(c, after, 100).await.unwrap();
            if done(&got) || std::time::Instant::now() > deadline {
                return (got, next);
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// The transaction holding the lower id commits last: a reader by id alone would have moved
    /// past it; the feed holds back the later row until the earlier commits, then gives both.
    #[tokio::test]
    async fn an_event_committed_out_of_id_order_is_not_skipped() {
        let Some(db) = TestDb::get().await else {
            return;
        };
        let cfg = setup(&db).await;
        let mut c1 = cfg.connect(None).await.unwrap();
        let mut c2 = cfg.connect(None).await.unwrap();
        let reader = cfg.connect(None).await.unwrap();

        let t1 = c1.transaction().await.unwrap();
        let low = insert(&t1, "first").await;
        let t2 = c2.transaction().await.unwrap();
        let high = insert(&t2, "second").await;
        assert!(low < high);
        t2.commit().await.unwrap();

        let visible: Vec<i64> = reader
            .query("SELECT id FROM events WHERE id > 0 ORDER BY id", &[])
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(visible, [high], "an id cursor would move past {low} now");
        let (got, cursor) = events_after(&reader, Cursor::START, 100).await.unwrap();
        assert!(got.is_empty(), "held back below the horizon: {got:?}");
        assert_eq!(cursor, Cursor::START);

        t1.commit().await.unwrap();
        // Another test's transaction on a shared server may hold the horizon back a moment.
        let (got, cursor) = poll(&reader, cursor, |got| !got.is_empty()).await;
        let ids: Vec<i64> = got.iter().map(|e| e.id).collect();
        assert_eq!(ids, [low, high]);
        let (more, _) = events_after(&reader, cursor, 100).await.unwrap();
        assert!(more.is_empty());
        assert_eq!(cursor_at(&reader, low).await.unwrap().id, low);
    }

    /// Many writers, transactions of random length, a follower reading all along: it sees every
    /// committed event exactly once and none of a rolled-back transaction.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_follower_sees_every_event_of_concurrent_writers_once() {
        let Some(db) = TestDb::get().await else {
            return;
        };
        let cfg = setup(&db).await;
        let reader = cfg.connect(None).await.unwrap();
        let start = cursor_now(&reader).await.unwrap();
        let mut writers = Vec::new();
        for w in 0..6 {
            let cfg = cfg.clone();
            writers.push(tokio::spawn(async move {
                let mut c = cfg.connect(None).await.unwrap();
                let mut committed = Vec::new();
                for i in 0..40 {
                    let tx = c.transaction().await.unwrap();
                    let mut ids = vec![insert(&tx, "e").await];
                    tokio::time::sleep(Duration::from_micros(rand::random_range(0..3000))).await;
                    ids.push(insert(&tx, "e").await);
                    if (w + i) % 7 == 0 {
                        tx.rollback().await.unwrap();
                    } else {
                        tx.commit().await.unwrap();
                        committed.extend(ids);
                    }
                }
                committed
            }));
        }
        let mut seen = Vec::new();
        let mut cursor = start;
        while !writers.iter().all(tokio::task::JoinHandle::is_finished) {
            let (got, next) = events_after(&reader, cursor, 50).await.unwrap();
            seen.extend(got.iter().map(|e| e.id));
            cursor = next;
        }
        let mut committed = HashSet::new();
        for w in writers {
            committed.extend(w.await.unwrap());
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while !committed.iter().all(|id| seen.contains(id)) && std::time::Instant::now() < deadline
        {
            let (got, next) = events_after(&reader, cursor, 50).await.unwrap();
            seen.extend(got.iter().map(|e| e.id));
            cursor = next;
            if got.is_empty() {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        let distinct: HashSet<i64> = seen.iter().copied().collect();
        assert_eq!(distinct.len(), seen.len(), "no event twice");
        assert_eq!(distinct, committed, "every committed event, nothing else");
    }
}
