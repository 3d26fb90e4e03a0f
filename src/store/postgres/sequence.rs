//! The commit order of the event feed and of log lines on PostgreSQL: `feed_seq`, assigned
//! after commit.
//!
//! Ids come from a sequence when a row is inserted, but transactions commit in any order: a
//! follower paging `id > after` would move past a row whose transaction took a lower id and
//! committed later, and never see it. So a row is also numbered *after* it commits: the
//! sequencer, in its own short transaction under an advisory lock (one at a time across
//! replicas), numbers every committed row not numbered yet, in id order, continuing from the
//! table's counter in `feed_counters`. It sees only committed rows and runs one at a time, so a
//! row that commits later always gets a larger `feed_seq` than every row numbered before it: a
//! reader paging `feed_seq > after` never skips one. (The counter, not `max(feed_seq)`, is
//! where numbering continues, so deleting the newest rows never hands a number out twice.)
//!
//! The numbering's commit does not wait for its WAL flush: numbers come from a range reserved
//! durably ahead, and after a database restart numbering continues above it (see [`sequence`]),
//! so a follower pays for one flush a change, the writer's.
//!
//! Feed readers ([`PgStore::sync_feeds`](super::PgStore::sync_feeds), called by the control
//! plane before a page of events or log lines) run the sequencer before they take their
//! snapshot, so such a read sees every row committed before it began, numbered; when nothing
//! is waiting that costs one indexed query ([`pending`]). No other read or write runs it: the
//! advisory lock is shared by every replica, and queueing every read behind it capped a
//! cluster at about a hundred steps a second. The cursors the feeds hand out
//! (`Event::id`, `LogLine::id`, `LogMark::last_id`) are `feed_seq` values, not row ids.

use tokio_postgres::{Client, GenericClient, SimpleQueryMessage};

use super::errors::{PgError, PgResult};

/// The advisory lock the sequencer holds ("imx_seq").
const SEQUENCE_LOCK: i64 = 0x0069_6d78_5f73_6571;

/// The tables numbered (each has a row in `feed_counters` of the same name).
const FEEDS: [&str; 2] = ["events", "logs"];

/// Whether any committed row waits for its number (index-only on the partial indexes).
pub async fn pending(c: &impl GenericClient) -> PgResult<bool> {
    Ok(c.query_one(
        "SELECT EXISTS (SELECT 1 FROM events WHERE feed_seq IS NULL)
             OR EXISTS (SELECT 1 FROM logs WHERE feed_seq IS NULL)",
        &[],
    )
    .await?
    .get(0))
}

/// How far past the numbers handed out a durable numbering reserves: numbering commits without
/// waiting for its WAL flush while it stays under the reserve, and durably (reserving this many
/// more) when it would pass it.
const RESERVE: i64 = 100_000;

/// Number every committed row that has no `feed_seq` yet, in its own transaction (commit any
/// transaction open on `client` first); how many rows it numbered. A no-op costing one query
/// when nothing is pending.
///
/// The commit does not wait for its WAL flush (`synchronous_commit = off`), unless it restarts
/// numbering after a database restart or moves the durable reserve (once every [`RESERVE`]
/// numbers): a follower waits for one flush a change, the writer's, not two. A crash can lose
/// such a commit after followers read its numbers; then the rows are numbered again, and the
/// first numbering after any restart (the server's start time differs from `epoch`) continues
/// above the reserve, which is durable and past every number handed out before the crash. A
/// follower may then see the last rows before a crash twice, never skip one.
pub async fn sequence(client: &mut Client) -> PgResult<u64> {
    if !pending(&*client).await? {
        return Ok(0);
    }
    // The lock, the restart check and both numberings as one simple query after BEGIN: one
    // round trip under the lock (the other replicas' passes queue for it), not one or two a
    // statement. They run in the order written, each on a snapshot taken when it starts.
    match number(client).await {
        Ok((numbered, durable)) => {
            let end = if durable {
                "COMMIT"
            } else {
                "SET LOCAL synchronous_commit = off; COMMIT"
            };
            client.batch_execute(end).await?;
            Ok(numbered)
        }
        Err(e) => {
            // Begun (or not): nothing of it is kept.
            let _ = client.batch_execute("ROLLBACK").await;
            Err(e)
        }
    }
}

/// BEGIN, then the numbering of [`sequence`] in one simple query: how many rows it numbered,
/// and whether its commit must be durable (a restart, or the reserve moved).
async fn number(client: &Client) -> PgResult<(u64, bool)> {
    let mut sql = format!(
        "BEGIN ISOLATION LEVEL READ COMMITTED;
         SELECT pg_advisory_xact_lock({SEQUENCE_LOCK});
         UPDATE feed_counters
         SET last = GREATEST(last, reserved), reserved = GREATEST(last, reserved),
             epoch = pg_postmaster_start_time()
         WHERE epoch IS DISTINCT FROM pg_postmaster_start_time();"
    );
    for table in FEEDS {
        // READ COMMITTED: this statement's snapshot is taken after the lock is held, so it sees
        // every earlier run's numbers and counter, and only committed rows. The data-modifying
        // CTEs run exactly once, on the same snapshot as `base`.
        sql.push_str(&format!(
            "WITH pending AS (
                 SELECT id, row_number() OVER (ORDER BY id) AS rn
                 FROM {table} WHERE feed_seq IS NULL
             ),
             n AS (SELECT count(*) AS n FROM pending),
             base AS (SELECT last, reserved FROM feed_counters WHERE feed = '{table}'),
             bump AS (
                 UPDATE feed_counters c
                 SET last = c.last + n.n,
                     reserved = CASE WHEN c.last + n.n > c.reserved
                                     THEN c.last + n.n + {RESERVE} ELSE c.reserved END
                 FROM n WHERE c.feed = '{table}'
             ),
             numbered AS (
                 UPDATE {table} r SET feed_seq = base.last + pending.rn
                 FROM pending, base WHERE r.id = pending.id
                 RETURNING 1
             )
             SELECT (SELECT count(*) FROM numbered),
                    (SELECT base.last + n.n > base.reserved FROM base, n);"
        ));
    }
    let mut done = Vec::new();
    let mut rows = Vec::new();
    for m in client.simple_query(&sql).await? {
        match m {
            SimpleQueryMessage::CommandComplete(n) => done.push(n),
            SimpleQueryMessage::Row(r) => rows.push(r),
            _ => {}
        }
    }
    // BEGIN, the lock, the restart check, then a row each numbering (after the lock's row).
    let restarted = done.get(2).copied().unwrap_or(0) > 0;
    let mut numbered = 0;
    let mut durable = restarted;
    for r in rows.iter().skip(1) {
        numbered += r.get(0).and_then(|n| n.parse::<u64>().ok()).unwrap_or(0);
        // NULL (no counter row) is durable, as is anything but false.
        durable |= r.get(1) != Some("f");
    }
    if rows.len() != 1 + FEEDS.len() {
        return Err(PgError::Imx(crate::Error::Internal(format!(
            "the feed numbering returned {} rows, not {}",
            rows.len(),
            1 + FEEDS.len()
        ))));
    }
    Ok((numbered, durable))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use crate::store::api::{DashboardTx, ViewsTx};
    use crate::store::postgres::PgConfig;
    use crate::store::postgres::store::tests::test_store;

    /// Two writers' transactions and the order they commit in: A takes the lower id and stays
    /// open while B commits and a follower reads; then A commits.
    struct OutOfOrder {
        rt: tokio::runtime::Runtime,
        a: tokio_postgres::Client,
        b: tokio_postgres::Client,
    }

    impl OutOfOrder {
        fn new(url: &str) -> OutOfOrder {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let cfg = PgConfig::parse(url).unwrap();
            let (a, b) = rt.block_on(async {
                (
                    cfg.connect(None).await.unwrap(),
                    cfg.connect(None).await.unwrap(),
                )
            });
            OutOfOrder { rt, a, b }
        }

        /// Run `first` in A (left open), then `second` in B (committed); return A's id and B's.
        fn insert(&mut self, sql: &str, first: &str, second: &str) -> (i64, i64) {
            self.rt.block_on(async {
                self.a.batch_execute("BEGIN").await.unwrap();
                let low: i64 = self.a.query_one(sql, &[&first]).await.unwrap().get(0);
                self.b.batch_execute("BEGIN").await.unwrap();
                let high: i64 = self.b.query_one(sql, &[&second]).await.unwrap().get(0);
                self.b.batch_execute("COMMIT").await.unwrap();
                (low, high)
            })
        }

        fn commit_a(&mut self) {
            self.rt.block_on(self.a.batch_execute("COMMIT")).unwrap();
        }
    }

    /// A follower paging the events by id would move past A's event once it read B's; by
    /// `feed_seq` it sees A's event after A commits.
    #[test]
    fn an_event_committed_out_of_id_order_is_not_skipped() {
        let Some((db, store)) = test_store() else {
            return;
        };
        let mut w = OutOfOrder::new(&db.url());
        let (low, high) = w.insert(
            "INSERT INTO events (time, kind, data) VALUES (0, $1, 'null') RETURNING id",
            "a",
            "b",
        );
        assert!(low < high);

        let got = store.read_feeds(|tx| tx.events_after(0, 100)).unwrap();
        let kinds: Vec<&str> = got.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["b"]);
        let cursor = got[0].id;

        w.commit_a();
        let got = store.read_feeds(|tx| tx.events_after(cursor, 100)).unwrap();
        let kinds: Vec<&str> = got.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(
            kinds,
            ["a"],
            "the event committed last comes after the cursor"
        );
        assert!(got[0].id > cursor);
        let latest = store.read_feeds(|tx| tx.events_after(-1, 100)).unwrap();
        assert_eq!(latest.len(), 1);
        assert_eq!(
            latest[0].id, got[0].id,
            "the latest is the one committed last"
        );
        let overview = store.read_feeds(|tx| tx.overview_counts(0, 0)).unwrap();
        assert_eq!(overview.event_id, got[0].id);
        assert!(
            store
                .read_feeds(|tx| tx.events_after(got[0].id, 100))
                .unwrap()
                .is_empty()
        );
    }

    /// The same for log lines: a run's page and the marks.
    #[test]
    fn a_log_line_committed_out_of_id_order_is_not_skipped() {
        let Some((db, store)) = test_store() else {
            return;
        };
        let mut w = OutOfOrder::new(&db.url());
        w.insert(
            "INSERT INTO logs (run_id, step_id, attempt, time, stream, line)
             VALUES ('r1', 's', 1, 0, 'stdout', $1) RETURNING id",
            "a",
            "b",
        );

        let page = store
            .read_feeds(|tx| tx.log_page("r1", None, 0, 100))
            .unwrap();
        let lines: Vec<&str> = page.iter().map(|l| l.line.as_str()).collect();
        assert_eq!(lines, ["b"]);
        let marks = store.read_feeds(|tx| tx.log_marks(0, 100)).unwrap();
        assert_eq!(marks.len(), 1);
        assert_eq!(marks[0].last_id, page[0].id);

        w.commit_a();
        let more = store
            .read_feeds(|tx| tx.log_page("r1", Some("s"), page[0].id, 100))
            .unwrap();
        let lines: Vec<&str> = more.iter().map(|l| l.line.as_str()).collect();
        assert_eq!(
            lines,
            ["a"],
            "the line committed last comes after the cursor"
        );
        assert_eq!(more[0].attempt, 1);
        let marks = store
            .read_feeds(|tx| tx.log_marks(marks[0].last_id, 100))
            .unwrap();
        assert_eq!(marks.len(), 1, "the run's log grew");
        assert_eq!(marks[0].last_id, more[0].id);
        let head = store.read_feeds(|tx| tx.log_marks(-1, 100)).unwrap();
        assert_eq!(head[0].last_id, more[0].id);
    }

    /// The counters of `feed`: the last number handed out and the durable reserve.
    fn counters(w: &mut OutOfOrder, feed: &str) -> (i64, i64) {
        let r =
            w.rt.block_on(w.b.query_one(
                "SELECT last, reserved FROM feed_counters WHERE feed = $1",
                &[&feed],
            ))
            .unwrap();
        (r.get(0), r.get(1))
    }

    /// A crash can lose a numbering that committed without its flush after a follower read its
    /// numbers. Here A's event (the lower id) commits after B's was numbered and read; then
    /// the database "restarts" having lost that numbering. Numbering from the durable counter
    /// again would give A's event B's old number, which the follower has passed; numbering
    /// above the reserve gives both new ones past the follower's cursor.
    #[test]
    fn numbering_lost_in_a_crash_is_given_again_above_every_number_read() {
        let Some((db, store)) = test_store() else {
            return;
        };
        let mut w = OutOfOrder::new(&db.url());
        let sql = "INSERT INTO events (time, kind, data) VALUES (0, $1, 'null') RETURNING id";
        w.rt.block_on(w.b.query_one(sql, &[&"first"])).unwrap();
        let first = store.read_feeds(|tx| tx.events_after(0, 100)).unwrap();
        assert_eq!(first.len(), 1);
        let (last, reserved) = counters(&mut w, "events");
        assert_eq!(last, first[0].id);
        assert!(reserved >= last + 1000, "a numbering reserves ahead");

        w.insert(sql, "a", "b");
        let got = store
            .read_feeds(|tx| tx.events_after(first[0].id, 100))
            .unwrap();
        let kinds: Vec<&str> = got.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["b"]);
        let cursor = got[0].id;
        assert_eq!(counters(&mut w, "events").1, reserved, "within the reserve");
        w.commit_a();

        // The crash: B's numbering is lost, the counter is back where the last durable commit
        // left it, and the server's start time is not the one numbering last ran under.
        w.rt.block_on(w.b.batch_execute(&format!(
            "UPDATE events SET feed_seq = NULL WHERE feed_seq > {last};
             UPDATE feed_counters SET last = {last}, epoch = '2000-01-01' WHERE feed = 'events'"
        )))
        .unwrap();
        let after = store.read_feeds(|tx| tx.events_after(cursor, 100)).unwrap();
        let kinds: Vec<&str> = after.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(
            kinds,
            ["a", "b"],
            "both rows numbered again past the follower, in id order"
        );
        assert!(after[0].id > reserved);
        let (last_now, reserved_now) = counters(&mut w, "events");
        assert_eq!(last_now, after[1].id);
        assert!(reserved_now >= last_now + 1000, "the reserve moved durably");
    }

    /// Writers whose transactions overlap (some roll back) and followers paging all along,
    /// each read running the sequencer: every follower sees every committed event exactly once,
    /// in one order, and none of a rolled-back transaction.
    #[test]
    fn followers_see_every_event_of_concurrent_writers_once() {
        let Some((_db, store)) = test_store() else {
            return;
        };
        let store = std::sync::Arc::new(store);
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let store = store.clone();
                std::thread::spawn(move || {
                    let mut committed = Vec::new();
                    for i in 0..25 {
                        let kind = format!("w{w}-{i}");
                        let rollback = (w + i) % 7 == 0;
                        let r = store.write(|tx| {
                            tx.execute(
                                "INSERT INTO events (time, kind, data) VALUES (0, $1, 'null')",
                                &[&kind],
                            )?;
                            std::thread::sleep(std::time::Duration::from_micros(
                                rand::random_range(0..2000),
                            ));
                            if rollback {
                                return Err(crate::Error::Store("rolled back".into()));
                            }
                            Ok(())
                        });
                        if r.is_ok() {
                            committed.push(kind);
                        }
                    }
                    committed
                })
            })
            .collect();
        let followers: Vec<_> = (0..2)
            .map(|_| {
                let (store, done) = (store.clone(), done.clone());
                std::thread::spawn(move || {
                    let mut seen = Vec::new();
                    let mut after = 0;
                    loop {
                        // Read `done` first: a page read after it is set sees every commit.
                        let last = done.load(std::sync::atomic::Ordering::SeqCst);
                        let page = store.read_feeds(|tx| tx.events_after(after, 7)).unwrap();
                        if let Some(e) = page.last() {
                            assert!(e.id > after);
                            after = e.id;
                        } else if last {
                            return seen;
                        }
                        seen.extend(page.into_iter().map(|e| e.kind));
                    }
                })
            })
            .collect();
        let mut committed = std::collections::HashSet::new();
        for w in writers {
            committed.extend(w.join().unwrap());
        }
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        let orders: Vec<Vec<String>> = followers.into_iter().map(|f| f.join().unwrap()).collect();
        for seen in &orders {
            let distinct: std::collections::HashSet<String> = seen.iter().cloned().collect();
            assert_eq!(distinct.len(), seen.len(), "no event twice");
            assert_eq!(distinct, committed, "every committed event, nothing else");
        }
        assert_eq!(orders[0], orders[1], "one order for every follower");
    }
}
