//! Persistence: the local SQLite store. Every state transition is one short write transaction
//! (`BEGIN IMMEDIATE`); several processes (CLI, dashboard, agents) share one file in WAL mode.
//!
//! - [`open`](Store::open): identify the file, refuse foreign or newer stores, run migrations.
//! - [`sqlite`]: the queries and transitions, grouped by what they touch.
//! - [`feed`]: wake-ups when the store changes (in-process and from other processes).
//!
//! SQL here stays portable (no SQLite-only syntax above this module) so a PostgreSQL store can
//! follow.

mod errors;
pub mod feed;
mod open;
mod schema;
pub mod sqlite;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::{Connection, Transaction, TransactionBehavior};

pub use errors::map_sqlite;
pub use schema::SCHEMA_VERSION;

use crate::{Error, Result};

/// An open local store.
pub struct Store {
    conn: Mutex<Connection>,
    path: PathBuf,
    created: bool,
    read_only: bool,
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

    /// Run `f` on a consistent read snapshot.
    pub fn read<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Deferred)
            .map_err(|e| map_sqlite(&self.path, e))?;
        let out = f(&tx)?;
        drop(tx);
        Ok(out)
    }

    /// Close this store's connection, run `f` (which may replace the file, e.g. a restore), then
    /// reopen the file at the same path. Other callers wait on the connection lock meanwhile.
    pub fn with_closed<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let mut conn = self.lock();
        let placeholder = Connection::open_in_memory().map_err(|e| map_sqlite(&self.path, e))?;
        // Dropping the real connection closes it (and checkpoints its WAL if it was the last).
        drop(std::mem::replace(&mut *conn, placeholder));
        let out = f();
        let fresh = Store::open(&self.path, false)?;
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
