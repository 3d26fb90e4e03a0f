//! Persistence: the local SQLite store. Every state transition is one short write transaction
//! (`BEGIN IMMEDIATE`); several processes (CLI, dashboard, agents) share one file in WAL mode.
//!
//! - [`open`](Store::open): identify the file, refuse foreign or newer stores, run migrations.
//! - [`sqlite`]: the queries and transitions, grouped by what they touch.
//! - [`feed`]: wake-ups when the store changes (in-process and from other processes).
//! - `pool`: read connections beside the one writer connection, so reads neither queue
//!   behind writes nor behind each other.
//!
//! SQL here stays portable (no SQLite-only syntax above this module) so a PostgreSQL store can
//! follow.

mod errors;
pub mod feed;
mod open;
mod pool;
mod schema;
pub mod sqlite;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::{Connection, Transaction, TransactionBehavior};

pub use errors::map_sqlite;
pub use schema::SCHEMA_VERSION;

use crate::{Error, Result};

/// An open local store.
pub struct Store {
    /// The writer (and, where read connections cannot be opened, the reader too).
    conn: Mutex<Connection>,
    readers: pool::ReadPool,
    /// Set when a read connection could not be opened: reads use the writer's from then on.
    no_readers: AtomicBool,
    path: PathBuf,
    created: bool,
    read_only: bool,
    /// Opened as immutable (a read-only user, no writer running): so are read connections.
    immutable: bool,
    feed: Arc<feed::ChangeFeed>,
    specs: crate::engine::SpecCache,
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

    /// Run `f` in one write transaction; commit if it returns `Ok`, and wake followers.
    pub fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        if self.read_only {
            return Err(Error::ReadOnly {
                path: self.path.clone(),
                reason: "the file is not writable by this user".into(),
            });
        }
        let out = {
            let mut conn = self.lock();
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(|e| map_sqlite(&self.path, e))?;
            let out = f(&tx)?;
            tx.commit().map_err(|e| map_sqlite(&self.path, e))?;
            out
        };
        self.feed.notify_local();
        Ok(out)
    }

    /// Run `f` on a consistent read snapshot, on a read connection (WAL: it sees every commit
    /// made before it began, and never waits for the writer).
    pub fn read<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        if self.no_readers.load(Ordering::Relaxed) {
            return self.read_on_writer(f);
        }
        let mut lent = match self.readers.take() {
            pool::Take::Lent(lent) => lent,
            pool::Take::Open => match open::open_reader(&self.path, self.immutable) {
                Ok(conn) => self.readers.lend(conn),
                Err(_) => {
                    self.readers.forget();
                    self.no_readers.store(true, Ordering::Relaxed);
                    return self.read_on_writer(f);
                }
            },
        };
        match lent.conn() {
            Some(conn) => read_on(conn, &self.path, f),
            None => self.read_on_writer(f),
        }
    }

    fn read_on_writer<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        read_on(&mut self.lock(), &self.path, f)
    }

    /// Close this store's connections, run `f` (which may replace the file, e.g. a restore),
    /// then reopen the file at the same path. Other callers wait meanwhile (writers on the
    /// connection lock, readers on the pool).
    pub fn with_closed<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
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
