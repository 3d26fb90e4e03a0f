//! [`PgStore`]: the PostgreSQL store opened from a `postgres://` URL (its pool, its schema
//! migrated), and its transactions: [`write`](PgStore::write) runs a body in a READ COMMITTED
//! transaction and runs it again from the start on a serialization failure or a deadlock (the
//! body decides afresh from what it reads, so that is safe); [`read`](PgStore::read) runs one on
//! a read-only snapshot. Both are synchronous, as the SQLite store's, and keep off the async
//! workers the same way.
//!
//! Periodic maintenance (reaping, run timeouts) runs on one replica at a time: the store
//! competes for the `maintenance` lease ([`super::leader`]) from the first time it is asked
//! ([`PgStore::maintenance_leader`], [`PgStore::maintain`]), and a maintenance transaction
//! runs only while this replica holds it, fenced by its term. Dropping the store gives the
//! lease up, so another replica takes over at once.

use std::sync::OnceLock;
use std::time::Duration;

use super::bridge::Bridge;
use super::config::PgConfig;
use super::errors::PgError;
use super::inline::Inline;
use super::leader::{self, Elector};
use super::migrate::migrate;
use super::retry::{MAX_TRIES, backoff};
use super::sequence::sequence;
use super::tx::{Driver, PgTx};
use super::wake_feed::FeedWakeups;
use super::wakeup::WakeOptions;
use crate::engine::SpecCache;
use crate::store::api::Site;
use crate::{Error, Result};

/// An open PostgreSQL store.
pub struct PgStore {
    /// Declared before the bridge: the pool's connections go before the runtime driving them.
    pool: deadpool_postgres::Pool,
    /// The wake-up listener (started on demand), before the bridge too.
    wake: std::sync::Arc<FeedWakeups>,
    /// Connections for hot-path reads, driven by their callers (before the bridge as well).
    inline: Inline,
    /// Connections for writes, driven by their callers the same way (see [`PgStore::write`]).
    inline_writes: Inline,
    bridge: Bridge,
    config: PgConfig,
    created: bool,
    specs: SpecCache,
    feed: std::sync::Arc<crate::store::feed::ChangeFeed>,
    /// The maintenance lease's length.
    lease: Duration,
    /// Competes for the maintenance lease, from the first time maintenance is asked for.
    elector: OnceLock<Elector>,
    /// Passes of the feed sequencer: how many began, and the number of the latest that ended
    /// ([`PgStore::sync_feeds`]).
    passes: std::sync::Mutex<(u64, u64)>,
    /// Held for one pass of the sequencer: one at a time in this process.
    sequencing: std::sync::Mutex<()>,
    /// Which hot-path reads go bare (see [`PgStore::read_quick`]).
    sites: Sites,
}

/// For each place hot-path reads are made from, whether its last read ran one statement:
/// its next goes bare, its first query sent without BEGIN ([`PgTx::bare`]). A place never seen
/// is taken to: a guess wrong costs the read one round trip, once, and the place is then
/// known.
#[derive(Default)]
struct Sites(std::sync::RwLock<std::collections::HashMap<usize, bool>>);

impl Sites {
    /// The key of a place: its address (each call site has its own static `Location`; should
    /// one be duplicated, its copies only learn apart).
    fn key(site: Site) -> usize {
        std::ptr::from_ref(site) as usize
    }

    fn one_statement(&self, site: Site) -> bool {
        let known = self
            .0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        known.get(&Self::key(site)).copied().unwrap_or(true)
    }

    fn learn(&self, site: Site, one: bool) {
        if self.one_statement(site) != one {
            self.0
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(Self::key(site), one);
        }
    }
}

/// How a read's transaction begins.
const READ_BEGIN: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";

/// The maintenance lease's name.
const MAINTENANCE: &str = "maintenance";

/// The maintenance lease's length unless set ([`PgStore::with_maintenance_lease`]): a leader
/// that dies or stalls is replaced within it.
pub const DEFAULT_MAINTENANCE_LEASE: Duration = Duration::from_secs(10);

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("url", &self.config.display())
            .finish()
    }
}

impl PgStore {
    /// Open the database at `url` and bring its schema up to date. With `create` (`imx init`)
    /// an empty database is given a schema; otherwise it is [`Error::NoStore`].
    pub fn open(url: &str, create: bool) -> Result<PgStore> {
        PgStore::open_with(PgConfig::parse(url)?, create)
    }

    /// [`open`](Self::open) with a parsed configuration.
    pub fn open_with(config: PgConfig, create: bool) -> Result<PgStore> {
        let bridge = Bridge::new()?;
        let place = config.display().to_string();
        let migrated = crate::store::off_runtime(|| {
            bridge.block_on(async {
                let mut client = config
                    .connect(None)
                    .await
                    .map_err(|e| e.into_error(&place))?;
                migrate(&mut client, &place, create).await
            })
        })?;
        // A quarter of the connections (none of a pool under 4) serve hot-path reads, and an
        // eighth (none of a pool under 8) writes, driven by their callers (`super::inline`);
        // the pool has the rest, so the replica keeps to the database at most the pool size it
        // was given.
        let quick = config.pool_size / 4;
        let writes = config.pool_size / 8;
        let pool = config
            .clone()
            .with_pool_size(config.pool_size - quick - writes)
            .pool()?;
        let feed = std::sync::Arc::new(crate::store::feed::ChangeFeed::detached());
        let handle = bridge
            .handle()
            .cloned()
            .ok_or_else(|| Error::Store("the database runtime is gone".into()))?;
        let wake = FeedWakeups::new(config.clone(), handle, &feed);
        let inline = Inline::new(config.clone(), quick);
        let inline_writes = Inline::new(config.clone(), writes);
        Ok(PgStore {
            pool,
            wake,
            inline,
            inline_writes,
            bridge,
            config,
            created: migrated.initialised,
            specs: SpecCache::default(),
            feed,
            lease: DEFAULT_MAINTENANCE_LEASE,
            elector: OnceLock::new(),
            passes: std::sync::Mutex::new((0, 0)),
            sequencing: std::sync::Mutex::new(()),
            sites: Sites::default(),
        })
    }

    /// Hold the maintenance lease for `lease` (at least 100 ms) instead of
    /// [`DEFAULT_MAINTENANCE_LEASE`]: a leader that dies or stalls is replaced within it.
    /// Before maintenance is first asked for.
    pub fn with_maintenance_lease(mut self, lease: Duration) -> PgStore {
        self.lease = lease.max(Duration::from_millis(100));
        self
    }

    /// The maintenance lease's length.
    pub fn maintenance_lease(&self) -> Duration {
        self.lease
    }

    /// The elector, started on first use (on the bridge's runtime).
    fn elector(&self) -> &Elector {
        self.elector.get_or_init(|| {
            let _ctx = self.bridge.handle().map(tokio::runtime::Handle::enter);
            let holder = format!(
                "{}:{}:{:08x}",
                crate::config::hostname(),
                std::process::id(),
                rand::random::<u32>()
            );
            Elector::start(self.pool.clone(), MAINTENANCE, &holder, self.lease)
        })
    }

    /// Whether this replica holds the maintenance lease now (competing for it from the first
    /// call).
    pub fn maintenance_leader(&self) -> bool {
        self.elector().leading().is_some()
    }

    /// Run `f` as maintenance: only while this replica holds the maintenance lease, in a write
    /// transaction that first checks (and locks) the lease's term, so a replica that lost the
    /// lease without noticing (stalled past it) changes nothing. `None`: not run.
    pub fn maintain<T>(&self, mut f: impl FnMut(&PgTx<'_>) -> Result<T>) -> Result<Option<T>> {
        let elector = self.elector();
        let Some(term) = elector.leading() else {
            return Ok(None);
        };
        let mut fenced_off = false;
        let out = self.write(|tx| {
            // The fence holds the lease row until this transaction ends: a replica stalled in
            // the middle of it (SIGSTOP) would keep every other replica from taking the lease
            // over for as long as the stall lasts. The database ends such a session after one
            // lease of idling, which frees the row.
            // Sent with the fence's query, in its round trip (a scheduler pass is a maintenance
            // transaction per batch).
            tx.defer(
                "SELECT set_config('idle_in_transaction_session_timeout', $1, true)".into(),
                super::tx::owned![self.lease.as_millis().max(1).to_string()],
                None,
            );
            fenced_off = !leader::fence_in(tx, elector.name(), elector.holder(), term)?;
            if fenced_off {
                return Err(Error::Conflict("the maintenance lease was lost".into()));
            }
            f(tx)
        });
        match out {
            Err(_) if fenced_off => {
                tracing::info!(
                    "maintenance skipped: term {term} of the maintenance lease has ended"
                );
                Ok(None)
            }
            other => other.map(Some),
        }
    }

    /// Tests: the elector stalls (as a SIGSTOPped replica would), or goes on.
    #[cfg(test)]
    pub(crate) fn stall_maintenance(&self, on: bool) {
        self.elector().stall(on);
    }

    /// The database's URL without its password.
    pub fn display(&self) -> &str {
        self.config.display()
    }

    /// Whether opening it gave the database its schema.
    pub fn created(&self) -> bool {
        self.created
    }

    /// Workflow versions indexed for transitions.
    pub fn specs(&self) -> &SpecCache {
        &self.specs
    }

    /// Wake-ups on this process's commits, and (once the listener runs) on other replicas'.
    pub fn feed(&self) -> &crate::store::feed::ChangeFeed {
        &self.feed
    }

    /// How other replicas' commits reach [`feed`](Self::feed): LISTEN/NOTIFY, or with
    /// `opts.listen` off polling (PgBouncer). Call before they start.
    pub fn configure_wakeups(&self, opts: WakeOptions) {
        self.wake.configure(opts);
    }

    /// Start the wake-ups now (a server: its token cache must hear of revocations even before
    /// anyone waits); otherwise they start when the first waiter waits on the feed.
    pub fn start_wakeups(&self) {
        self.wake.start();
    }

    /// The wake-ups (tests: wait until they listen).
    pub fn wakeups(&self) -> &FeedWakeups {
        &self.wake
    }

    /// The pool (for the building blocks that take one: wake-ups, the leader's lease).
    pub fn pool(&self) -> &deadpool_postgres::Pool {
        &self.pool
    }

    /// Run `f` in one READ COMMITTED transaction and commit if it returns `Ok`. When a query
    /// or the commit fails with a serialization failure or a deadlock, the transaction is
    /// rolled back and `f` runs again from the start (a few times, after short pauses): it
    /// must decide from what it reads, never from what an earlier run of it saw.
    ///
    /// It runs on a connection this thread drives itself when one is free
    /// ([`super::inline`]): a write is a dozen round trips or more (a completion that leases
    /// the step it readied, say), and through the pool each costs hand-offs to the bridge's
    /// thread and back that take longer than the statement.
    pub fn write<T>(&self, mut f: impl FnMut(&PgTx<'_>) -> Result<T>) -> Result<T> {
        crate::store::off_runtime(|| {
            let mut tries = 0;
            loop {
                tries += 1;
                match self.attempt(false, &mut f) {
                    Err((e, true)) if tries < MAX_TRIES => {
                        tracing::debug!(tries, "transaction retried: {e}");
                        std::thread::sleep(backoff(tries));
                    }
                    Err((e, _)) => return Err(e),
                    Ok(out) => return Ok(out),
                }
            }
        })
    }

    /// Give every row committed to the event feed and the logs so far its place in them
    /// ([`super::sequence`]; one query when there are none), so a read begun afterwards pages
    /// them by cursor without skipping one. Only feed readers call it: numbering takes a lock
    /// shared by every replica, which no other read or write should queue for. Callers at once
    /// share a pass: one that began after a caller arrived serves it too.
    pub fn sync_feeds(&self) -> Result<()> {
        let lock = |m: &std::sync::Mutex<(u64, u64)>| {
            *m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        let (began, _) = lock(&self.passes);
        crate::store::off_runtime(|| {
            let _one = self
                .sequencing
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if lock(&self.passes).1 > began {
                return Ok(());
            }
            let pass = {
                let mut p = self
                    .passes
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                p.0 += 1;
                p.0
            };
            let place = self.config.display();
            self.bridge
                .block_on(async {
                    let mut client = self.pool.get().await.map_err(PgError::from)?;
                    sequence(&mut client).await
                })
                .map_err(|e| e.into_error(place))?;
            let mut p = self
                .passes
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            p.1 = p.1.max(pass);
            Ok(())
        })
    }

    /// [`read`](Self::read) after [`sync_feeds`](Self::sync_feeds): for readers of the feeds.
    pub fn read_feeds<T>(&self, f: impl FnMut(&PgTx<'_>) -> Result<T>) -> Result<T> {
        self.sync_feeds()?;
        self.read(f)
    }

    /// Run `f` on a consistent, read-only snapshot (REPEATABLE READ): it sees every commit
    /// made before it began and nothing after. Feed readers call [`sync_feeds`](Self::sync_feeds)
    /// first.
    pub fn read<T>(&self, mut f: impl FnMut(&PgTx<'_>) -> Result<T>) -> Result<T> {
        crate::store::off_runtime(|| self.attempt(true, &mut f).map_err(|(e, _)| e))
    }

    /// [`read`](Self::read) for the request hot path: on a connection this thread drives
    /// itself ([`super::inline`]), in place even on an async worker (its socket waited on
    /// here for a few milliseconds at most, then off the workers), so no other thread takes
    /// part in its round trips; on the pool's, off the workers, when all of those are lent or
    /// the database is reached through a Unix socket.
    ///
    /// A read that runs one query needs no transaction: a statement is its own snapshot. So a
    /// read from a place in the code whose last read ran one statement sends its first query
    /// without BEGIN (and so without the ROLLBACK that ends a read), and only if its body
    /// goes on to a second statement is the body run again in a transaction ([`Sites`]).
    #[track_caller]
    pub fn read_quick<T>(&self, f: impl FnMut(&PgTx<'_>) -> Result<T>) -> Result<T> {
        self.read_quick_at(std::panic::Location::caller(), f)
    }

    /// [`read_quick`](Self::read_quick) made from `site`.
    pub fn read_quick_at<T>(
        &self,
        site: Site,
        mut f: impl FnMut(&PgTx<'_>) -> Result<T>,
    ) -> Result<T> {
        let mut bare = self.sites.one_statement(site);
        loop {
            let ran = if let Some(lent) = self.inline.take()
                && let Some(conn) = lent.conn()
            {
                self.quick_on(conn.client(), Driver::Inline(conn), bare, &mut f)
            } else {
                crate::store::off_runtime(|| -> Result<_> {
                    let client = self
                        .bridge
                        .block_on(self.pool.get())
                        .map_err(|e| PgError::from(e).into_error(self.config.display()))?;
                    Ok(self.quick_on(&client, Driver::Bridge(&self.bridge), bare, &mut f))
                })?
            };
            match ran {
                Some((out, one)) => {
                    self.sites.learn(site, one);
                    return out;
                }
                // It went on past a bare query: again, in a transaction.
                None if bare => {
                    self.sites.learn(site, false);
                    bare = false;
                }
                None => {
                    return Err(Error::Internal(
                        "a read in a transaction was asked to begin one".into(),
                    ));
                }
            }
        }
    }

    /// One hot-path read on `client`: what the body returned and whether it ran one statement
    /// at most; `None` when it ran a second after a bare query, which it must not see the
    /// result of (it is to run again in a transaction).
    fn quick_on<T>(
        &self,
        client: &deadpool_postgres::ClientWrapper,
        driver: Driver<'_>,
        bare: bool,
        f: &mut impl FnMut(&PgTx<'_>) -> Result<T>,
    ) -> Option<(Result<T>, bool)> {
        let place = self.config.display();
        let tx = PgTx::new(client, READ_BEGIN, driver, place, &self.specs, true).bare(bare);
        let out = f(&tx);
        if tx.must_begin() {
            return None;
        }
        let one = tx.statements() <= 1;
        // Dropping a begun read rolls it back.
        drop(tx);
        Some((out, one))
    }

    /// One run of a transaction: the error, and whether running it again may succeed.
    fn attempt<T>(
        &self,
        read_only: bool,
        f: &mut impl FnMut(&PgTx<'_>) -> Result<T>,
    ) -> std::result::Result<T, (Error, bool)> {
        if !read_only
            && let Some(lent) = self.inline_writes.take()
            && let Some(conn) = lent.conn()
        {
            return self.attempt_on(conn.client(), Driver::Inline(conn), false, f);
        }
        let client = self.bridge.block_on(self.pool.get()).map_err(|e| {
            let e = PgError::from(e);
            let again = e.is_retryable();
            (e.into_error(self.config.display()), again)
        })?;
        self.attempt_on(&client, Driver::Bridge(&self.bridge), read_only, f)
    }

    /// [`attempt`](Self::attempt) on `client`, driven by `driver`.
    fn attempt_on<T>(
        &self,
        client: &deadpool_postgres::ClientWrapper,
        driver: Driver<'_>,
        read_only: bool,
        f: &mut impl FnMut(&PgTx<'_>) -> Result<T>,
    ) -> std::result::Result<T, (Error, bool)> {
        let place = self.config.display();
        // Begun with the body's first statement, in its round trip (see `PgTx`).
        let begin = if read_only {
            READ_BEGIN
        } else {
            "BEGIN ISOLATION LEVEL READ COMMITTED"
        };
        let mut tx = PgTx::new(client, begin, driver, place, &self.specs, read_only);
        if !read_only {
            tx = tx.hinted(self.wake.hinter());
        }
        match f(&tx) {
            Ok(out) => {
                if read_only {
                    // Nothing to keep: dropping it rolls back.
                    drop(tx);
                    Ok(out)
                } else {
                    tx.commit().map(|()| out)
                }
            }
            Err(e) => {
                let again = tx.retryable();
                Err((e, again))
            }
        }
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        // Give the maintenance lease up, so another replica need not wait for it to lapse.
        let Some(elector) = self.elector.take() else {
            return;
        };
        elector.stop();
        let Some(term) = elector.leading() else {
            return;
        };
        let pool = &self.pool;
        let release = async {
            let c = pool.get().await.map_err(PgError::from)?;
            leader::release(&**c, elector.name(), elector.holder(), term).await
        };
        let _ = crate::store::off_runtime(|| {
            self.bridge
                .block_on(async { tokio::time::timeout(Duration::from_secs(2), release).await })
        });
    }
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Duration;

    use super::*;
    use crate::store::postgres::testdb::TestDb;

    /// A fresh database, from synchronous code; `None` when there is no PostgreSQL.
    pub(crate) fn test_db() -> Option<TestDb> {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(TestDb::get())
    }

    /// A fresh database and a store opened (created) on it.
    pub(crate) fn test_store() -> Option<(TestDb, PgStore)> {
        let db = test_db()?;
        let store = PgStore::open(&db.url(), true).unwrap();
        Some((db, store))
    }

    fn count(store: &PgStore) -> i64 {
        store
            .read(|tx| {
                tx.query_one("SELECT count(*) FROM meta", &[])?
                    .try_get(0)
                    .map_err(|e| Error::Store(e.to_string()))
            })
            .unwrap()
    }

    fn insert(store: &PgStore, key: &str) -> Result<()> {
        store.write(|tx| {
            tx.execute("INSERT INTO meta (key, value) VALUES ($1, 'v')", &[&key])?;
            Ok(())
        })
    }

    #[test]
    fn opening_creates_the_schema_once_and_an_empty_database_needs_create() {
        let Some(db) = test_db() else { return };
        let e = PgStore::open(&db.url(), false).unwrap_err();
        assert!(matches!(e, Error::NoStore { .. }), "{e:?}");
        let store = PgStore::open(&db.url(), true).unwrap();
        assert!(store.created());
        let again = PgStore::open(&db.url(), false).unwrap();
        assert!(!again.created());
        assert!(!format!("{store:?}").is_empty());
    }

    #[test]
    fn a_write_commits_and_a_failed_one_rolls_back() {
        let Some((_db, store)) = test_store() else {
            return;
        };
        let before = count(&store);
        insert(&store, "a").unwrap();
        assert_eq!(count(&store), before + 1);
        let e = store
            .write(|tx| {
                tx.execute("INSERT INTO meta (key, value) VALUES ('b', 'v')", &[])?;
                Err::<(), _>(Error::Conflict("no".into()))
            })
            .unwrap_err();
        assert!(matches!(e, Error::Conflict(_)));
        assert_eq!(count(&store), before + 1, "the failed write kept nothing");
        // A query the server refuses is a store error, not retried.
        let e = insert(&store, "a").unwrap_err();
        assert!(matches!(e, Error::Store(_)), "{e:?}");
    }

    /// Writes run on connections their callers drive (two of the default pool's sixteen),
    /// kept between writes; one that fails leaves its connection fit for the next; with every
    /// such connection lent (writes nested in a write's body), a write takes the pool's.
    #[test]
    fn writes_take_the_callers_own_connections_then_the_pools() {
        let Some((_db, store)) = test_store() else {
            return;
        };
        let before = count(&store);
        let pid = |tx: &PgTx<'_>| -> Result<i32> {
            crate::store::postgres::tx::get(&tx.query_one("SELECT pg_backend_pid()", &[])?, 0)
        };
        let first = store.write(pid).unwrap();
        assert_eq!(store.inline_writes.open(), 1);
        let e = store.write(|tx| {
            tx.execute("INSERT INTO meta (key, value) VALUES ('x', 'v')", &[])?;
            Err::<(), _>(Error::Conflict("no".into()))
        });
        assert!(matches!(e, Err(Error::Conflict(_))));
        insert(&store, "y").unwrap();
        assert_eq!(
            store.write(pid).unwrap(),
            first,
            "the same connection, kept"
        );
        assert_eq!(count(&store), before + 1, "the failed write kept nothing");
        // Nested: the outer two take the two connections, the innermost the pool's.
        let pids = store
            .write(|outer| {
                let inner = store.write(|middle| {
                    let innermost = store.write(pid)?;
                    Ok((pid(middle)?, innermost))
                })?;
                Ok((pid(outer)?, inner.0, inner.1))
            })
            .unwrap();
        assert_eq!(store.inline_writes.open(), 2);
        let (a, b, c) = pids;
        assert!(a != b && b != c && a != c, "{pids:?}");
    }

    /// Deferred writes (`PgTx::defer`) are sent before the next query, in order, so it sees
    /// them; a guarded one that changes no row fails the transaction at that query or at the
    /// commit, and nothing of the transaction is kept.
    #[test]
    fn deferred_writes_are_seen_by_the_next_query_and_a_failed_guard_rolls_back() {
        use crate::store::postgres::tx::{get, owned};
        let Some((_db, store)) = test_store() else {
            return;
        };
        let before = count(&store);
        let seen = store
            .write(|tx| {
                for key in ["d1", "d2"] {
                    tx.defer(
                        "INSERT INTO meta (key, value) VALUES ($1, 'v')".into(),
                        owned![key.to_string()],
                        None,
                    );
                }
                let n: i64 = get(&tx.query_one("SELECT count(*) FROM meta", &[])?, 0)?;
                tx.defer(
                    "UPDATE meta SET value = 'w' WHERE key = $1".into(),
                    owned!["d2".to_string()],
                    Some("meta d2".into()),
                );
                Ok(n)
            })
            .unwrap();
        assert_eq!(seen, before + 2, "the query saw both inserts");
        assert_eq!(count(&store), before + 2, "committed, with the last write");
        // A failed guard before a query, or sent with the COMMIT (with and without the change
        // hint in front of it): the transaction keeps nothing.
        for (at_commit, hint) in [(false, false), (true, false), (true, true)] {
            let e = store
                .write(|tx| {
                    if hint {
                        tx.hint_changes();
                    }
                    tx.defer(
                        "INSERT INTO meta (key, value) VALUES ('d3', 'v')".into(),
                        owned![],
                        None,
                    );
                    tx.defer(
                        "UPDATE meta SET value = 'x' WHERE key = 'nothing'".into(),
                        owned![],
                        Some("meta nothing".into()),
                    );
                    if !at_commit {
                        tx.query_one("SELECT 1", &[])?;
                    }
                    Ok(())
                })
                .unwrap_err();
            assert!(
                matches!(&e, Error::Conflict(m) if m.contains("meta nothing")),
                "{e:?}"
            );
            assert_eq!(count(&store), before + 2, "the failed write kept nothing");
        }
    }

    /// `f(store, who)` called from every kind of caller, in turn: no runtime (`none`), a worker
    /// of a multi-thread runtime (`worker`), a blocking thread of one (`blocking`) and a
    /// current-thread runtime (`current`); what each call gave.
    fn from_every_caller<T: Send + 'static>(
        store: &Arc<PgStore>,
        f: impl Fn(&PgStore, &str) -> T + Send + Sync + Clone + 'static,
    ) -> Vec<T> {
        let mut out = vec![f(store, "none")];
        let multi = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (s, g) = (store.clone(), f.clone());
        out.push(
            multi.block_on(
                async move { tokio::spawn(async move { g(&s, "worker") }).await.unwrap() },
            ),
        );
        let (s, g) = (store.clone(), f.clone());
        out.push(multi.block_on(async move {
            tokio::task::spawn_blocking(move || g(&s, "blocking"))
                .await
                .unwrap()
        }));
        drop(multi);
        let current = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let s = store.clone();
        out.push(current.block_on(async move { f(&s, "current") }));
        out
    }

    /// The bridge from synchronous bodies to the driver works wherever the caller is: no
    /// runtime, a blocking thread, a worker of a multi-thread runtime (through
    /// `block_in_place`) and a current-thread runtime; it never panics.
    #[test]
    fn writes_work_from_every_kind_of_caller() {
        let Some((_db, store)) = test_store() else {
            return;
        };
        let store = Arc::new(store);
        for written in from_every_caller(&store, insert) {
            written.unwrap();
        }
        let keys: Vec<String> = store
            .read(|tx| {
                Ok(tx
                    .query("SELECT key FROM meta WHERE value = 'v' ORDER BY key", &[])?
                    .iter()
                    .map(|r| r.get(0))
                    .collect())
            })
            .unwrap();
        assert_eq!(keys, ["blocking", "current", "none", "worker"]);
    }

    /// A write waiting on the database does not stall the runtime's (here only) worker.
    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn a_waiting_write_does_not_stall_the_runtime() {
        let Some(db) = TestDb::get().await else {
            return;
        };
        let url = db.url();
        let store = tokio::task::spawn_blocking(move || PgStore::open(&url, true))
            .await
            .unwrap()
            .unwrap();
        let store = Arc::new(store);
        let (started_tx, started_rx) = tokio::sync::oneshot::channel();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let writer = {
            let store = store.clone();
            tokio::spawn(async move {
                let mut started = Some(started_tx);
                store.write(|tx| {
                    tx.execute("INSERT INTO meta (key, value) VALUES ('w', 'v')", &[])?;
                    if let Some(s) = started.take() {
                        s.send(()).unwrap();
                    }
                    release_rx.recv().unwrap();
                    Ok(())
                })
            })
        };
        started_rx.await.unwrap();
        // The write is inside its body, blocking its thread; a timer on the runtime fires.
        tokio::time::timeout(
            Duration::from_secs(10),
            tokio::spawn(tokio::time::sleep(Duration::from_millis(20))),
        )
        .await
        .expect("the runtime was stalled by a waiting write")
        .unwrap();
        assert!(!writer.is_finished());
        release_tx.send(()).unwrap();
        writer.await.unwrap().unwrap();
        let store2 = store.clone();
        let n = tokio::task::spawn_blocking(move || count(&store2))
            .await
            .unwrap();
        assert!(n >= 2);
    }

    /// The backend serving a hot-path read (on the caller's own connection).
    fn quick_pid(store: &PgStore) -> i32 {
        store
            .read_quick(|tx| {
                crate::store::postgres::tx::get(&tx.query_one("SELECT pg_backend_pid()", &[])?, 0)
            })
            .unwrap()
    }

    /// What the server says backend `pid` is doing (`None`: gone).
    fn backend_state(store: &PgStore, pid: i32) -> Option<String> {
        store
            .read(|tx| {
                Ok(tx
                    .query_opt("SELECT state FROM pg_stat_activity WHERE pid = $1", &[&pid])?
                    .map(|r| r.get::<_, Option<String>>(0).unwrap_or_default()))
            })
            .unwrap()
    }

    fn wait_until(what: &str, mut ok: impl FnMut() -> bool) {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !ok() {
            assert!(std::time::Instant::now() < deadline, "{what}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Hot-path reads, on connections their callers drive, work wherever the caller is: no
    /// runtime, a blocking thread, a worker of a multi-thread runtime (in place) and a
    /// current-thread runtime.
    #[test]
    fn quick_reads_work_from_every_kind_of_caller() {
        let Some((_db, store)) = test_store() else {
            return;
        };
        let store = Arc::new(store);
        insert(&store, "k").unwrap();
        let counts = from_every_caller(&store, |s, _| {
            s.read_quick(|tx| {
                crate::store::postgres::tx::get::<i64>(
                    &tx.query_one("SELECT count(*) FROM meta WHERE key = 'k'", &[])?,
                    0,
                )
            })
            .unwrap()
        });
        assert_eq!(counts, [1, 1, 1, 1]);
    }

    /// A hot-path read ends its transaction at once: its connection, waiting in the store for
    /// the next read, is idle, not idle in a transaction holding a snapshot (which would keep
    /// vacuum from cleaning up behind it).
    #[test]
    fn a_quick_read_leaves_its_connection_idle() {
        let Some((_db, store)) = test_store() else {
            return;
        };
        let pid = quick_pid(&store);
        wait_until("the read's connection went idle", || {
            backend_state(&store, pid).as_deref() == Some("idle")
        });
    }

    /// A connection for hot-path reads that the server closed while it waited is replaced:
    /// the next read is served.
    #[test]
    fn a_quick_read_after_its_connection_was_closed_is_served() {
        let Some((_db, store)) = test_store() else {
            return;
        };
        let pid = quick_pid(&store);
        store
            .write(|tx| {
                tx.query_one("SELECT pg_terminate_backend($1)", &[&pid])?;
                Ok(())
            })
            .unwrap();
        wait_until("the backend ended", || backend_state(&store, pid).is_none());
        let again = quick_pid(&store);
        assert_ne!(again, pid);
    }

    /// BEGIN goes with a read's first statement, yet every statement of the read sees one
    /// snapshot: a commit made between two of them is not seen.
    #[test]
    fn a_reads_statements_share_one_snapshot() {
        let Some((_db, store)) = test_store() else {
            return;
        };
        let before = count(&store);
        // A quick read's body may run twice (its first query sent without a transaction, then
        // again in one): each run inserts a row between its two statements.
        let mut runs = 0;
        for quick in [false, true] {
            let body = |tx: &PgTx<'_>| {
                let n = |tx: &PgTx<'_>| -> Result<i64> {
                    crate::store::postgres::tx::get(
                        &tx.query_one("SELECT count(*) FROM meta", &[])?,
                        0,
                    )
                };
                let first = n(tx)?;
                runs += 1;
                insert(&store, &format!("k{runs}"))?;
                Ok((first, n(tx)?))
            };
            let (first, second) = if quick {
                store.read_quick(body).unwrap()
            } else {
                store.read(body).unwrap()
            };
            assert_eq!(first, second, "quick: {quick}");
        }
        assert_eq!(count(&store), before + runs);
    }

    /// The isolation a read's statement runs in: "read committed" for a statement of its own
    /// (no BEGIN), "repeatable read" in a read's transaction.
    fn isolation(tx: &PgTx<'_>) -> Result<String> {
        crate::store::postgres::tx::get(
            &tx.query_one("SELECT current_setting('transaction_isolation')", &[])?,
            0,
        )
    }

    /// A quick read of one query is sent without BEGIN (nor a ROLLBACK after it): a statement
    /// is its own snapshot. A read of two runs both in one transaction, even when its body
    /// ignores the error of the second statement the first attempt refused to send.
    #[test]
    fn a_quick_read_of_one_query_needs_no_transaction() {
        let Some((_db, store)) = test_store() else {
            return;
        };
        for _ in 0..3 {
            let iso = store.read_quick(isolation).unwrap();
            assert_eq!(iso, "read committed");
        }
        let mut runs = 0;
        let (first, second) = store
            .read_quick(|tx| {
                runs += 1;
                Ok((isolation(tx)?, isolation(tx).ok()))
            })
            .unwrap();
        assert_eq!(first, "repeatable read");
        assert_eq!(second.as_deref(), Some("repeatable read"));
        assert_eq!(
            runs, 2,
            "the first run's result was dropped and the body run again"
        );
        // A plain read is always a transaction.
        assert_eq!(store.read(isolation).unwrap(), "repeatable read");
    }

    /// What a place's last read ran decides its next: after a read of two statements, one of
    /// one is begun (and its body run once); after that one, the next is sent bare.
    #[test]
    fn a_place_whose_reads_run_one_query_again_sends_it_bare() {
        let Some((_db, store)) = test_store() else {
            return;
        };
        let mut seen = Vec::new();
        for n in [1, 2, 2, 1, 1] {
            let mut runs = 0;
            let isos = store
                .read_quick(|tx| {
                    runs += 1;
                    (0..n).map(|_| isolation(tx)).collect::<Result<Vec<_>>>()
                })
                .unwrap();
            assert!(isos.windows(2).all(|w| w[0] == w[1]), "{isos:?}");
            seen.push((n, isos[0].clone(), runs));
        }
        let (rc, rr) = ("read committed".to_string(), "repeatable read".to_string());
        assert_eq!(
            seen,
            [
                (1, rc.clone(), 1),
                (2, rr.clone(), 2),
                (2, rr.clone(), 1),
                (1, rr, 1),
                (1, rc, 1),
            ]
        );
    }

    /// A write whose body runs no statement sends nothing and succeeds.
    #[test]
    fn an_empty_write_succeeds() {
        let Some((_db, store)) = test_store() else {
            return;
        };
        store.write(|_| Ok(())).unwrap();
        store
            .write(|tx| {
                tx.hint_changes();
                Ok(())
            })
            .unwrap();
    }

    /// Two writes locking two rows in opposite orders deadlock; the one the server rolls back
    /// runs again from the start, and both commit once.
    #[test]
    fn a_deadlocked_write_runs_again_and_commits_once() {
        let Some((_db, store)) = test_store() else {
            return;
        };
        store
            .write(|tx| {
                tx.execute("INSERT INTO meta VALUES ('1', '0'), ('2', '0')", &[])?;
                Ok(())
            })
            .unwrap();
        let store = Arc::new(store);
        let runs = Arc::new(AtomicU32::new(0));
        let barrier = Arc::new(std::sync::Barrier::new(2));
        let threads: Vec<_> = [("1", "2"), ("2", "1")]
            .into_iter()
            .map(|(first, second)| {
                let (store, runs, barrier) = (store.clone(), runs.clone(), barrier.clone());
                std::thread::spawn(move || {
                    store.write(|tx| {
                        let n = runs.fetch_add(1, Ordering::SeqCst);
                        let bump = "UPDATE meta SET value = (value::int + 1)::text WHERE key = $1";
                        tx.execute(bump, &[&first])?;
                        if n < 2 {
                            barrier.wait();
                        }
                        tx.execute(bump, &[&second])?;
                        Ok(())
                    })
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap().unwrap();
        }
        assert!(runs.load(Ordering::SeqCst) >= 3, "one write ran again");
        let values: Vec<String> = store
            .read(|tx| {
                Ok(tx
                    .query(
                        "SELECT value FROM meta WHERE key IN ('1', '2') ORDER BY key",
                        &[],
                    )?
                    .iter()
                    .map(|r| r.get(0))
                    .collect())
            })
            .unwrap();
        assert_eq!(values, ["2", "2"]);
    }
}
