//! Persistence: the local SQLite store. Every state transition is one short write transaction
//! (`BEGIN IMMEDIATE`); several processes (CLI, dashboard, agents) share one file in WAL mode.
//!
//! - [`open`](Store::open): identify the file, refuse foreign or newer stores, run migrations.
//! - [`api`]: the backend-neutral traits callers use ([`Backend`], [`StoreTx`]).
//! - [`flow`]: the transitions' orchestration (load, decide with the engine, apply), written
//!   once over [`flow::Rows`], which each backend implements.
//! - [`sqlite`]: the queries, grouped by what they touch.
//! - [`feed`]: wake-ups when the store changes (in-process and from other processes).
//! - `pool`: read connections beside the one writer connection, so reads neither queue
//!   behind writes nor behind each other.
//! - [`snapshot`]: physical snapshots of the file for backups, and checking restored ones.
//! - `wal`: keeping the `-wal` file small after bursts; durable writes.
//! - [`postgres`]: the PostgreSQL store's building blocks (cluster mode, DESIGN §12).
//! - [`retention`]: deleting finished runs past a retention period, in short batches.
//! - [`schedules`]: firing due schedule ticks, exactly once per (schedule, nominal time).
//!
//! SQL here stays portable (no SQLite-only syntax above this module) so a PostgreSQL store can
//! follow.

pub mod api;
#[doc(hidden)]
pub mod bench;
#[cfg(test)]
mod conformance;
pub mod copy;
mod errors;
pub mod feed;
pub mod flow;
mod open;
mod pool;
pub mod postgres;
pub mod retention;
pub mod schedules;
pub(crate) mod schema;
pub mod snapshot;
pub mod sqlite;
#[cfg(test)]
pub(crate) mod testing;
mod wal;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::{Connection, Transaction, TransactionBehavior};

pub use api::{Backend, StoreTx};
pub use errors::map_sqlite;
pub use schema::SCHEMA_VERSION;
pub use wal::wal_size;

use crate::{Error, Result};

/// One of the store's transactions, whichever backend, as [`Backend`]'s `write` and `read`
/// hand it out: callers outside the store call the methods of [`StoreTx`] on it (and pass it
/// to the audit tools as a [`crate::audit::AuditStore`]); they never run SQL on it.
pub type Tx<'a> = dyn StoreTx + 'a;

/// An open local store.
pub struct Store {
    /// Declared (so dropped) before the writer: the last connection to a WAL store to close
    /// checkpoints it and removes its `-wal` and `-shm` files, which a read-only one cannot.
    readers: pool::ReadPool,
    /// The writer (and, where read connections cannot be opened, the reader too).
    conn: Mutex<Connection>,
    /// Set when a read connection could not be opened: reads use the writer's from then on.
    no_readers: AtomicBool,
    path: PathBuf,
    created: bool,
    read_only: bool,
    /// Opened as immutable (a read-only user, no writer running): so are read connections.
    immutable: bool,
    feed: Arc<feed::ChangeFeed>,
    specs: crate::engine::SpecCache,
    /// Keeps the `-wal` file small (see `wal`).
    wal: wal::Wal,
}

impl Store {
    /// Where the store file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether opening it created it.
    pub fn created(&self) -> bool {
        self.created
    }

    /// Workflow versions indexed for transitions (immutable once stored, so cached).
    pub fn specs(&self) -> &crate::engine::SpecCache {
        &self.specs
    }

    /// The change feed: wake-ups when this or another process commits.
    pub fn feed(&self) -> &Arc<feed::ChangeFeed> {
        &self.feed
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A poisoned lock only means another thread panicked mid-call; SQLite rolled back its
        // transaction, so the connection is still sound.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Run `f` in one write transaction; commit if it returns `Ok`, and wake followers. Off the
    /// async workers (see [`off_runtime`]): a write may wait for another process's write lock.
    pub fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        if self.read_only {
            return Err(Error::ReadOnly {
                path: self.path.clone(),
                reason: "the file is not writable by this user".into(),
            });
        }
        let out = off_runtime(|| {
            let mut conn = self.lock();
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(|e| map_sqlite(&self.path, e))?;
            // The write lock is ours until the commit: see `ChangeFeed::writing`.
            let _own = self.feed.writing();
            let out = f(&tx)?;
            tx.commit().map_err(|e| map_sqlite(&self.path, e))?;
            Ok::<T, Error>(out)
        })?;
        self.wal.wrote();
        self.feed.notify_local();
        Ok(out)
    }

    /// Run `f` on a consistent read snapshot, on a read connection (WAL: it sees every commit
    /// made before it began, and never waits for the writer). Off the async workers (see
    /// [`off_runtime`]): reads may scan (counts, reports, audit checks, backups).
    pub fn read<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        off_runtime(|| self.read_here(f))
    }

    /// [`read`](Self::read) for the request hot path: a read bounded to a page or a few rows by
    /// an index (a page of runs, a run, a token) runs in place, even on an async worker. Moving
    /// it off the worker (`block_in_place`) cost more than the read itself: about 17 µs of CPU
    /// per request, a fifth of a `GET /runs?limit=50`. When every read connection is lent out
    /// it does not wait on the worker but becomes a [`read`](Self::read). Never for scans.
    pub fn read_quick<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        if self.no_readers.load(Ordering::Relaxed) {
            return self.read(f);
        }
        match self.readers.try_take() {
            Some(take) => self.read_taken(take, f),
            None => self.read(f),
        }
    }

    /// Read on a read connection (waiting for one), here.
    fn read_here<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        if self.no_readers.load(Ordering::Relaxed) {
            return read_on(&mut self.lock(), &self.path, f);
        }
        self.read_taken(self.readers.take(), f)
    }

    fn read_taken<T>(
        &self,
        take: pool::Take<'_>,
        f: impl FnOnce(&Transaction<'_>) -> Result<T>,
    ) -> Result<T> {
        let mut lent = match take {
            pool::Take::Lent(lent) => lent,
            pool::Take::Open => match open::open_reader(&self.path, self.immutable) {
                Ok(conn) => self.readers.lend(conn),
                Err(_) => {
                    self.readers.forget();
                    self.no_readers.store(true, Ordering::Relaxed);
                    return read_on(&mut self.lock(), &self.path, f);
                }
            },
        };
        match lent.conn() {
            Some(conn) => read_on(conn, &self.path, f),
            None => read_on(&mut self.lock(), &self.path, f),
        }
    }

    /// Close this store's connections, run `f` (which may replace the file, e.g. a restore),
    /// then reopen the file at the same path. Other callers wait meanwhile (writers on the
    /// connection lock, readers on the pool).
    pub fn with_closed<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let _quiet = self.wal.quiet();
        let mut conn = self.lock();
        self.readers.close();
        let placeholder = Connection::open_in_memory().map_err(|e| map_sqlite(&self.path, e));
        let placeholder = match placeholder {
            Ok(p) => p,
            Err(e) => {
                self.readers.reopen();
                return Err(e);
            }
        };
        // Dropping the real connection closes it (and checkpoints its WAL if it was the last).
        drop(std::mem::replace(&mut *conn, placeholder));
        let out = f();
        let fresh = Store::open(&self.path, false);
        self.readers.reopen();
        let fresh = fresh?;
        *conn = fresh.conn.into_inner().unwrap_or_else(|p| p.into_inner());
        drop(conn);
        self.feed.notify_local();
        out
    }

    /// The schema version recorded in the store.
    pub fn schema_version(&self) -> Result<i64> {
        let conn = self.lock();
        conn.query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| map_sqlite(&self.path, e))
    }
}

/// Run `f` in a read transaction on `conn`.
fn read_on<T>(
    conn: &mut Connection,
    path: &Path,
    f: impl FnOnce(&Transaction<'_>) -> Result<T>,
) -> Result<T> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Deferred)
        .map_err(|e| map_sqlite(path, e))?;
    let out = f(&tx)?;
    drop(tx);
    Ok(out)
}

/// Run blocking store work (SQLite calls, which may wait on locks, the disk or a long scan) so
/// it does not stall an async worker: on a worker of a multi-thread tokio runtime through
/// `block_in_place` (the worker's other tasks move to another thread meanwhile); anywhere else
/// (no runtime, a current-thread runtime, a blocking thread) in place.
pub(crate) fn off_runtime<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use std::time::{Duration, Instant};

    /// A write that waits for another process's write lock must not stall the runtime's (here
    /// only) worker: other tasks go on meanwhile.
    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn a_write_waiting_for_the_lock_does_not_stall_the_runtime() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("imx.db");
        let store = Arc::new(Store::open(&path, true).unwrap());
        // Another process holds the write lock.
        let other = Connection::open(&path).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        let writer = {
            let store = store.clone();
            tokio::spawn(async move {
                store.write(|tx| {
                    tx.execute("UPDATE meta SET value = value WHERE key = 'app'", [])?;
                    Ok(())
                })
            })
        };
        // The write is now waiting in SQLite's busy handler; a timer on the same runtime fires.
        let t = Instant::now();
        let ticked = tokio::spawn(async { tokio::time::sleep(Duration::from_millis(50)).await });
        tokio::time::timeout(Duration::from_secs(5), ticked)
            .await
            .expect("the runtime was stalled by a waiting write")
            .unwrap();
        assert!(t.elapsed() < Duration::from_secs(5));
        assert!(!writer.is_finished(), "the write waits for the lock");
        other.execute_batch("COMMIT").unwrap();
        tokio::time::timeout(Duration::from_secs(30), writer)
            .await
            .expect("the write finishes once the lock is free")
            .unwrap()
            .unwrap();
    }

    /// Closing a store after reads leaves no `-wal`/`-shm` files: the writer, which may remove
    /// them, closes last.
    #[test]
    fn closing_after_reads_leaves_the_store_at_rest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("imx.db");
        let store = Store::open(&path, true).unwrap();
        for _ in 0..3 {
            store
                .read(|tx| {
                    Ok(tx.query_row("SELECT count(*) FROM meta", [], |r| r.get::<_, i64>(0))?)
                })
                .unwrap();
        }
        drop(store);
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["imx.db"]);
    }

    /// Reads run beside a writer that holds its transaction open (WAL), on read connections.
    #[test]
    fn reads_do_not_wait_for_an_open_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("imx.db");
        let store = Arc::new(Store::open(&path, true).unwrap());
        let (in_write, go_on) = (
            std::sync::mpsc::channel::<()>(),
            std::sync::mpsc::channel::<()>(),
        );
        let (entered_tx, entered_rx) = in_write;
        let (release_tx, release_rx) = go_on;
        let writer = {
            let store = store.clone();
            std::thread::spawn(move || {
                store.write(|tx| {
                    tx.execute("UPDATE meta SET value = 'x' WHERE key = 'created_by'", [])?;
                    entered_tx.send(()).unwrap();
                    release_rx.recv().unwrap();
                    Ok(())
                })
            })
        };
        entered_rx.recv().unwrap();
        // The writer holds its transaction (and the writer connection) open: reads go on, and
        // see the last commit, not the open transaction.
        for _ in 0..3 {
            let by: String = store
                .read_quick(|tx| {
                    Ok(tx.query_row(
                        "SELECT value FROM meta WHERE key = 'created_by'",
                        [],
                        |r| r.get(0),
                    )?)
                })
                .unwrap();
            assert_ne!(by, "x");
            let n: i64 = store
                .read(|tx| Ok(tx.query_row("SELECT count(*) FROM meta", [], |r| r.get(0))?))
                .unwrap();
            assert!(n > 0);
        }
        release_tx.send(()).unwrap();
        writer.join().unwrap().unwrap();
        let by: String = store
            .read(|tx| {
                Ok(
                    tx.query_row("SELECT value FROM meta WHERE key = 'created_by'", [], |r| {
                        r.get(0)
                    })?,
                )
            })
            .unwrap();
        assert_eq!(by, "x", "a read after the commit sees it");
    }
}
