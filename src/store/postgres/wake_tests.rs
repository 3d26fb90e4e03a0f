//! Wake-ups between replicas (tests only): two [`PgStore`]s on one database, as two `imx
//! server` replicas. A write through one moves the other's change feed (LISTEN/NOTIFY, or with
//! listening off the poller), a token change moves its auth counter, a listener whose
//! connection is killed comes back, a store that never waits makes no listener connection,
//! and a step made ready through one replica reaches an agent waiting on the other at once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::events::insert_event;
use super::store::PgStore;
use super::testdb::TestDb;
use super::wakeup::{CHANGES, CHANNEL, WakeOptions};
use crate::auth::Principal;
use crate::control::{ControlPlane, LocalControlPlane, LocalOptions, StartRun};
use crate::model::{AgentRegistration, StepKind, StepSpec, WorkflowSpec};
use crate::store::feed::ChangeFeed;

/// How long anything may take on a loaded machine.
const DEADLINE: Duration = Duration::from_secs(30);
/// What issue 11 asks of a wake-up across replicas.
const WITHIN: Duration = Duration::from_secs(1);

async fn open(db: &TestDb) -> PgStore {
    let url = db.url();
    tokio::task::spawn_blocking(move || PgStore::open(&url, true))
        .await
        .unwrap()
        .unwrap()
}

/// Open a replica and start its wake-ups; return once they have connected (and so took their
/// first look), with the feed's and the auth counter's values after that.
async fn replica(db: &TestDb, listen: bool) -> PgStore {
    let store = open(db).await;
    store.configure_wakeups(WakeOptions {
        listen,
        ..WakeOptions::default()
    });
    store.start_wakeups();
    tokio::time::timeout(DEADLINE, store.wakeups().listening(1))
        .await
        .expect("the wake-ups connect");
    // The first connection wakes everyone once; let that pass before looking for more.
    settle(store.feed()).await;
    store
}

/// Wait until the connection's wake-up has reached the feed.
async fn settle(feed: &ChangeFeed) {
    let start = Instant::now();
    while (feed.version() == 0 || feed.auth_version() == 0) && start.elapsed() < DEADLINE {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(feed.version() > 0 && feed.auth_version() > 0);
}

/// How long until `moved` holds, waiting on the feed (at most [`DEADLINE`]).
async fn until(feed: &ChangeFeed, moved: impl Fn(&ChangeFeed) -> bool) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < DEADLINE {
        if moved(feed) {
            return Some(start.elapsed());
        }
        feed.wait_since(feed.version(), Duration::from_millis(20))
            .await;
    }
    None
}

/// A write other replicas' waiters care about: an event.
async fn write_event(store: &Arc<PgStore>) {
    let s = store.clone();
    tokio::task::spawn_blocking(move || {
        s.write(|tx| insert_event(tx, "test.changed", None, None, serde_json::Value::Null))
    })
    .await
    .unwrap()
    .unwrap();
}

/// A write revoking tokens (none here: what counts is that it says so).
async fn write_revoke(store: &Arc<PgStore>) {
    let s = store.clone();
    tokio::task::spawn_blocking(move || {
        s.write(|tx| super::users::revoke_user_tokens(tx, "nobody", None))
    })
    .await
    .unwrap()
    .unwrap();
}

async fn a_write_wakes_the_other_replica(listen: bool) {
    let Some(db) = TestDb::get().await else {
        return;
    };
    let a = Arc::new(open(&db).await);
    let b = replica(&db, listen).await;

    let seen = b.feed().version();
    write_event(&a).await;
    let took = until(b.feed(), |f| f.version() != seen)
        .await
        .expect("the other replica's feed moved");
    eprintln!("feed woken after {took:?} (listen: {listen})");
    assert!(took < WITHIN, "woken after {took:?} (listen: {listen})");

    let seen = b.feed().auth_version();
    write_revoke(&a).await;
    let took = until(b.feed(), |f| f.auth_version() != seen)
        .await
        .expect("the other replica's auth counter moved");
    assert!(
        took < WITHIN,
        "tokens hint after {took:?} (listen: {listen})"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_through_one_replica_wakes_the_other_by_notify() {
    a_write_wakes_the_other_replica(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_listen_a_write_through_one_replica_wakes_the_other_by_polling() {
    a_write_wakes_the_other_replica(false).await;
}

/// A read wakes nobody elsewhere: the other replica's feed moves for the next write only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_send_no_hint() {
    let Some(db) = TestDb::get().await else {
        return;
    };
    let a = Arc::new(open(&db).await);
    let b = replica(&db, true).await;
    let seen = b.feed().version();
    let s = a.clone();
    tokio::task::spawn_blocking(move || {
        s.read(|tx| {
            super::events::events_after(tx, 0, 10)?;
            Ok(())
        })
    })
    .await
    .unwrap()
    .unwrap();
    // A write that hints afterwards: the feed moves once, for it (the read sent nothing).
    write_event(&a).await;
    until(b.feed(), |f| f.version() != seen).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(b.feed().version(), seen + 1, "one hint, from the write");
}

/// The listener's connection is killed (as by a failover or an idle-session reaper): it
/// connects again by itself, wakes its waiters once for what it may have missed, and a later
/// write still wakes them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_listener_reconnects_and_still_wakes() {
    let Some(db) = TestDb::get().await else {
        return;
    };
    let a = Arc::new(open(&db).await);
    let b = replica(&db, true).await;
    let seen = (b.feed().version(), b.feed().auth_version());
    let s = a.clone();
    let killed: i64 = tokio::task::spawn_blocking(move || {
        s.write(|tx| {
            let r = tx.query_one(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                 WHERE datname = current_database()
                   AND (query LIKE 'LISTEN%' OR query LIKE 'SET synchronous_commit%'
                        OR query LIKE 'NOTIFY \"%')",
                &[],
            )?;
            super::tx::get(&r, 0)
        })
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(killed, 1, "one listener connection");
    tokio::time::timeout(DEADLINE, b.wakeups().listening(2))
        .await
        .expect("the listener listens again");
    until(b.feed(), |f| {
        f.version() != seen.0 && f.auth_version() != seen.1
    })
    .await
    .expect("reconnecting woke the waiters and emptied token caches once");
    let seen = b.feed().version();
    write_event(&a).await;
    until(b.feed(), |f| f.version() != seen)
        .await
        .expect("a write after the reconnection wakes the feed");
}

/// A replica's change hint goes after its commit, from its listener's connection, not with
/// the commit: a NOTIFY in a transaction makes its commit wait for every other notifying
/// commit's flush (`super::hinter`). Notifications arrive in commit order, so with the
/// replica's hints held back, a marker notified after its write committed arrives first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_hint_is_sent_after_the_commit_not_with_it() {
    let Some(db) = TestDb::get().await else {
        return;
    };
    let b = Arc::new(replica(&db, true).await);
    let (msg_tx, mut msgs) = tokio::sync::mpsc::unbounded_channel();
    let observer = super::config::PgConfig::parse(&db.url())
        .unwrap()
        .connect(Some(msg_tx))
        .await
        .unwrap();
    observer
        .batch_execute(&format!("LISTEN {CHANNEL}"))
        .await
        .unwrap();
    let hinter = b.wakeups().hinter();
    let start = Instant::now();
    while !hinter.live() {
        assert!(start.elapsed() < DEADLINE, "the hinter never went live");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    hinter.hold(true);
    write_event(&b).await;
    observer
        .batch_execute(&format!("NOTIFY {CHANNEL}, 'marker'"))
        .await
        .unwrap();
    let mut next = async || loop {
        match tokio::time::timeout(DEADLINE, msgs.recv()).await {
            Ok(Some(tokio_postgres::AsyncMessage::Notification(n))) => {
                return n.payload().to_string();
            }
            Ok(Some(_)) => {}
            other => panic!("no notification: {other:?}"),
        }
    };
    assert_eq!(next().await, "marker", "the write's commit sent no hint");
    hinter.hold(false);
    assert_eq!(next().await, CHANGES, "its hint came after");
}

/// A replica's own commit wakes its waiters once: as the write returns, not again when its
/// hint comes back to its listener (the listener passes over the hints its own connection
/// sent). Notifications come in order, so once a tokens hint sent after the change hint
/// has been handled (twice, for the task passing both on), the change hint was too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replicas_own_hint_does_not_wake_it_again() {
    let Some(db) = TestDb::get().await else {
        return;
    };
    let b = Arc::new(replica(&db, true).await);
    let (msg_tx, mut msgs) = tokio::sync::mpsc::unbounded_channel();
    let observer = super::config::PgConfig::parse(&db.url())
        .unwrap()
        .connect(Some(msg_tx))
        .await
        .unwrap();
    observer
        .batch_execute(&format!("LISTEN {CHANNEL}"))
        .await
        .unwrap();
    let start = Instant::now();
    while !b.wakeups().hinter().live() {
        assert!(start.elapsed() < DEADLINE, "the hinter never went live");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let seen = b.feed().version();
    // Through the store's `Backend`, as the control plane writes (it wakes the replica's own
    // waiters as the write returns).
    let s = b.clone();
    tokio::task::spawn_blocking(move || {
        let backend: &dyn crate::store::api::Backend = &*s;
        backend.write(|tx| {
            tx.apply_workflow(
                &WorkflowSpec::new("w", vec![StepSpec::new("a", StepKind::Noop)]),
                false,
            )
        })
    })
    .await
    .unwrap()
    .unwrap();
    // The hint went out (the observer has it).
    loop {
        match tokio::time::timeout(DEADLINE, msgs.recv()).await {
            Ok(Some(tokio_postgres::AsyncMessage::Notification(n))) if n.payload() == CHANGES => {
                break;
            }
            Ok(Some(_)) => {}
            other => panic!("no hint: {other:?}"),
        }
    }
    for _ in 0..2 {
        let auth = b.feed().auth_version();
        observer
            .batch_execute(&format!("NOTIFY {CHANNEL}, 't'"))
            .await
            .unwrap();
        until(b.feed(), |f| f.auth_version() != auth)
            .await
            .expect("the tokens hint reached the replica");
    }
    assert_eq!(b.feed().version(), seen + 1, "woken once, by its write");
}

/// Opening the store (as a short command does) makes no listener connection; the first wait
/// on its feed starts one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_listener_starts_when_the_feed_is_first_waited_on() {
    let Some(db) = TestDb::get().await else {
        return;
    };
    let a = Arc::new(open(&db).await);
    let listeners = |s: Arc<PgStore>| async move {
        tokio::task::spawn_blocking(move || {
            s.read(|tx| {
                let r = tx.query_one(
                    "SELECT count(*) FROM pg_stat_activity
                     WHERE datname = current_database()
                   AND (query LIKE 'LISTEN%' OR query LIKE 'SET synchronous_commit%'
                        OR query LIKE 'NOTIFY \"%')",
                    &[],
                )?;
                super::tx::get::<i64>(&r, 0)
            })
        })
        .await
        .unwrap()
        .unwrap()
    };
    assert_eq!(listeners(a.clone()).await, 0);
    a.feed()
        .wait_since(a.feed().version(), Duration::ZERO)
        .await;
    tokio::time::timeout(DEADLINE, a.wakeups().listening(1))
        .await
        .expect("waiting started the listener");
    assert_eq!(listeners(a.clone()).await, 1);
}

/// A one-step run is started through replica A while an agent long-polls replica B: how long
/// until B hands the step out. Printed (min/median/max of several); with LISTEN it is a matter
/// of milliseconds, where polling alone would take up to the claim loop's wait (500 ms).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_made_ready_through_one_replica_is_claimed_through_the_other_at_once() {
    let Some(median) = dispatch_latency(true).await else {
        return;
    };
    // Polling alone would make this about 250 ms on average; a hint, a few milliseconds. A
    // loaded machine gets room, but not a poll interval's.
    assert!(median < Duration::from_millis(200), "median {median:?}");
}

/// The same without LISTEN (`--no-listen`): the step still reaches the agent, by polling.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_listen_a_step_made_ready_through_one_replica_is_claimed_by_polling() {
    let Some(median) = dispatch_latency(false).await else {
        return;
    };
    assert!(median < Duration::from_secs(5), "median {median:?}");
}

/// The median time from a run started through replica A to its step claimed through replica B
/// (listening or not); `None` without PostgreSQL.
async fn dispatch_latency(listen: bool) -> Option<Duration> {
    let db = TestDb::get().await?;
    let a = Arc::new(LocalControlPlane::with_backend(
        Arc::new(open(&db).await),
        LocalOptions::default(),
    ));
    let b_store = Arc::new(replica(&db, listen).await);
    let b = Arc::new(LocalControlPlane::with_backend(
        b_store.clone(),
        LocalOptions::default(),
    ));
    let who = Principal::local_owner();
    a.apply_workflow(
        &who,
        WorkflowSpec::new("one", vec![StepSpec::new("s", StepKind::Noop)]),
        false,
    )
    .await
    .unwrap();
    let reg = AgentRegistration {
        name: "on-b".into(),
        labels: BTreeMap::new(),
        slots: 1,
        hostname: "h".into(),
        pid: 1,
        version: "test".into(),
        instance: None,
        pid_scope: None,
        replaces_pid: None,
    };
    let agent = b.register_agent(&who, reg).await.unwrap().id;
    // From the run's commit to the claim's return, and from the request to start the run.
    let (mut took, mut total) = (Vec::new(), Vec::new());
    for _ in 0..9 {
        let (b2, who2, agent2) = (b.clone(), who.clone(), agent.clone());
        let claim = tokio::spawn(async move {
            let tasks = b2.claim(&who2, &agent2, 1, DEADLINE).await.unwrap();
            (Instant::now(), tasks)
        });
        // Let the claim find nothing and wait (it then waits on the feed, up to 500 ms).
        tokio::time::sleep(Duration::from_millis(100)).await;
        let started = Instant::now();
        a.start_run(
            &who,
            StartRun {
                workflow: "one".into(),
                params: BTreeMap::new(),
                timeout_ms: None,
                labels: BTreeMap::new(),
            },
        )
        .await
        .unwrap();
        let created = Instant::now();
        let (claimed, tasks) = claim.await.unwrap();
        assert_eq!(tasks.len(), 1);
        took.push(claimed.duration_since(created));
        total.push(claimed.duration_since(started));
        let results = [(
            tasks[0].lease.clone(),
            crate::model::StepResult::ok(BTreeMap::new()),
        )];
        b.start_step(&who, &tasks[0].lease).await.unwrap();
        b.complete_steps(&who, &results).await.unwrap();
    }
    took.sort();
    total.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let median = took[took.len() / 2];
    eprintln!(
        "cross-replica dispatch (listen: {listen}): committed to claimed min {:.1} ms, median \
         {:.1} ms, max {:.1} ms; start requested to claimed median {:.1} ms",
        ms(took[0]),
        ms(median),
        ms(took[took.len() - 1]),
        ms(total[total.len() / 2]),
    );
    Some(median)
}
