//! Keeping the write-ahead log small. SQLite copies the WAL into the store as it grows (a
//! checkpoint every 1000 pages) but never shrinks the `-wal` file: after a burst of writes that
//! readers kept from being checkpointed (a dashboard, `run logs -f`, a long report, a backup), the
//! file stayed as large as the burst (35 MB was seen) for as long as any process kept the store
//! open. Two things now bring it back down:
//!
//! - [`SIZE_LIMIT`] (`PRAGMA journal_size_limit` on the writer connection): whenever SQLite
//!   starts the WAL over from its beginning — at the first write after a complete checkpoint —
//!   it truncates the file to this size. Under steady writes that is at every checkpoint, so a
//!   burst no longer leaves a large file behind once writing goes on.
//! - When a process that wrote goes idle ([`IDLE`] without a write of its own), a background
//!   thread runs `PRAGMA wal_checkpoint(TRUNCATE)` on a connection of its own if the file is
//!   larger than [`IDLE_BOUND`]: the WAL goes back to zero bytes. It never waits (no busy
//!   handler): if a reader still needs the WAL or a writer is busy, it tries again later, backing
//!   off to [`MAX_RETRY`].
//!
//! The write path pays a clock read and two atomic operations per commit, and a wake-up only when
//! a clean store becomes dirty; the thread starts at the first write and ends with the store.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use super::feed::ChangeFeed;
use super::{Store, map_sqlite, off_runtime};
use crate::{Error, Result};

/// What the writer connection truncates the WAL to when it starts it over (bytes).
pub const SIZE_LIMIT: i64 = 4 << 20;

/// How long a process must not have written before its WAL is truncated.
pub const IDLE: Duration = Duration::from_millis(500);

/// WAL files up to this size are left alone when idle (a checkpoint would gain little).
pub const IDLE_BOUND: u64 = 1 << 20;

/// The longest wait between two tries while readers keep the WAL from being truncated.
pub const MAX_RETRY: Duration = Duration::from_secs(5);

/// A store's WAL upkeep: notes writes, and runs the idle checkpointer.
pub(super) struct Wal {
    shared: Arc<Shared>,
    started: OnceLock<()>,
}

struct Shared {
    path: PathBuf,
    /// The store's change feed: a checkpoint that empties the WAL holds the write lock, like a
    /// write of this process's own (see `ChangeFeed::writing`).
    feed: Arc<ChangeFeed>,
    /// When this process last committed, in ms since `epoch`.
    last_write: AtomicU64,
    epoch: Instant,
    /// Written since the last idle check.
    dirty: AtomicBool,
    state: Mutex<State>,
    wake: Condvar,
    /// Held while the idle checkpointer has the file open, and while the store's own
    /// connections are closed (the file may be being replaced: `Store::with_closed`).
    quiet: Mutex<()>,
}

#[derive(Default)]
struct State {
    /// The store was dropped: the thread ends.
    closed: bool,
    /// The thread waits for a write (a wake-up is owed when `dirty` turns true).
    waiting: bool,
}

impl Wal {
    pub(super) fn new(path: &Path, feed: Arc<ChangeFeed>) -> Self {
        Wal {
            shared: Arc::new(Shared {
                path: path.to_path_buf(),
                feed,
                last_write: AtomicU64::new(0),
                epoch: Instant::now(),
                dirty: AtomicBool::new(false),
                state: Mutex::new(State::default()),
                wake: Condvar::new(),
                quiet: Mutex::new(()),
            }),
            started: OnceLock::new(),
        }
    }

    /// A write was committed.
    pub(super) fn wrote(&self) {
        let s = &self.shared;
        s.last_write.store(s.now_ms(), Ordering::Relaxed);
        if !s.dirty.swap(true, Ordering::AcqRel) {
            self.started.get_or_init(|| {
                let shared = self.shared.clone();
                // Without the thread the WAL is only truncated at restarts (SIZE_LIMIT): no worse.
                let _ = std::thread::Builder::new()
                    .name("imx-wal".into())
                    .spawn(move || shared.run());
            });
            if s.lock().waiting {
                s.wake.notify_all();
            }
        }
    }

    /// Keep the idle checkpointer away from the file while the guard lives.
    pub(super) fn quiet(&self) -> MutexGuard<'_, ()> {
        self.shared.quiet.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for Wal {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.wake.notify_all();
        // Wait out a checkpoint in progress (it never waits itself), so that no connection of
        // ours is open on the file once the store is gone.
        drop(self.quiet());
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Wait up to `d`; false once the store is closed.
    fn pause(&self, d: Duration) -> bool {
        let s = self.lock();
        if s.closed {
            return false;
        }
        let (s, _) = self
            .wake
            .wait_timeout(s, d)
            .unwrap_or_else(|p| p.into_inner());
        !s.closed
    }

    /// Wait until something was written; false once the store is closed.
    fn until_dirty(&self) -> bool {
        let mut s = self.lock();
        loop {
            if s.closed {
                return false;
            }
            if self.dirty.load(Ordering::Acquire) {
                s.waiting = false;
                return true;
            }
            s.waiting = true;
            s = self.wake.wait(s).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// The idle checkpointer.
    fn run(&self) {
        let mut retry = IDLE;
        while self.until_dirty() {
            // Idle: no write for IDLE.
            loop {
                let since = Duration::from_millis(
                    self.now_ms()
                        .saturating_sub(self.last_write.load(Ordering::Relaxed)),
                );
                if since >= IDLE {
                    break;
                }
                if !self.pause(IDLE - since) {
                    return;
                }
            }
            self.dirty.store(false, Ordering::Release);
            if wal_size(&self.path) <= IDLE_BOUND || self.truncate() {
                retry = IDLE;
                continue;
            }
            // A reader or a writer is busy: try again later (a write meanwhile starts over).
            self.dirty.store(true, Ordering::Release);
            if !self.pause(retry) {
                return;
            }
            retry = (retry * 2).min(MAX_RETRY);
        }
    }

    /// `PRAGMA wal_checkpoint(TRUNCATE)` without waiting; whether it completed.
    fn truncate(&self) -> bool {
        let _quiet = self.quiet.lock().unwrap_or_else(|p| p.into_inner());
        if self.lock().closed {
            return false;
        }
        // No CREATE: never make a file where the store was; no busy handler: never wait.
        let Ok(conn) = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        ) else {
            return false;
        };
        // TRUNCATE holds the write lock while it copies the WAL into the store: no other
        // process commits meanwhile, and the pages it copies are not news to this one.
        let _own = self.feed.writing();
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
            r.get::<_, i64>(0)
        })
        .is_ok_and(|busy| busy == 0)
    }
}

impl Store {
    /// [`write`](Self::write), with the commit on disk before it returns. A WAL commit is
    /// otherwise synced only at the next checkpoint (`synchronous = NORMAL`): a crash never loses
    /// it, a power cut may. For commits that something outside the store relies on next, such as
    /// an audit checkpoint whose signature then goes into the checkpoint log.
    pub fn write_durable<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        if self.read_only {
            return Err(Error::ReadOnly {
                path: self.path.clone(),
                reason: "the file is not writable by this user".into(),
            });
        }
        let out = off_runtime(|| {
            let mut conn = self.lock();
            // Not inside a transaction (SQLite refuses), and set back whatever happens.
            conn.pragma_update(None, "synchronous", "FULL")
                .map_err(|e| map_sqlite(&self.path, e))?;
            let out = (|| {
                let tx = conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(|e| map_sqlite(&self.path, e))?;
                // The write lock is ours until the commit: see `ChangeFeed::writing`.
                let _own = self.feed.writing();
                let out = f(&tx)?;
                tx.commit().map_err(|e| map_sqlite(&self.path, e))?;
                Ok::<T, Error>(out)
            })();
            let normal = conn
                .pragma_update(None, "synchronous", "NORMAL")
                .map_err(|e| map_sqlite(&self.path, e));
            let out = out?;
            normal?;
            Ok::<T, Error>(out)
        })?;
        self.wal.wrote();
        self.feed.notify_local();
        Ok(out)
    }
}

/// The size of the store's `-wal` file (0 when there is none).
pub fn wal_size(store: &Path) -> u64 {
    let mut wal = store.as_os_str().to_os_string();
    wal.push("-wal");
    std::fs::metadata(PathBuf::from(wal)).map_or(0, |m| m.len())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::store::Store;

    /// A burst written while a reader holds an old snapshot grows the WAL past what checkpoints
    /// can copy; once the reader is gone and the writer idle, the file goes back to empty
    /// although the store stays open.
    #[test]
    fn the_wal_shrinks_after_a_burst_once_idle() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("imx.db");
        let store = Store::open(&path, true).unwrap();
        let reader = Connection::open(&path).unwrap();
        reader.execute_batch("BEGIN").unwrap();
        reader
            .query_row("SELECT count(*) FROM meta", [], |r| r.get::<_, i64>(0))
            .unwrap();
        for _ in 0..20 {
            store
                .write(|tx| {
                    let mut ins = tx.prepare(
                        "INSERT INTO logs (run_id, step_id, attempt, time, stream, line)
                         VALUES ('r', 's', 1, 0, 'stdout', ?1)",
                    )?;
                    for i in 0..2_000 {
                        ins.execute([format!("{i:0>200}")])?;
                    }
                    Ok(())
                })
                .unwrap();
        }
        let grown = wal_size(&path);
        assert!(grown > 8 * IDLE_BOUND, "the burst grew the WAL: {grown}");
        reader.execute_batch("COMMIT").unwrap();
        drop(reader);
        let deadline = Instant::now() + Duration::from_secs(60);
        while wal_size(&path) > IDLE_BOUND {
            assert!(
                Instant::now() < deadline,
                "the WAL stayed at {} bytes",
                wal_size(&path)
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        // The store still works, and holds everything.
        let n: i64 = store
            .read(|tx| Ok(tx.query_row("SELECT count(*) FROM logs", [], |r| r.get(0))?))
            .unwrap();
        assert_eq!(n, 40_000);
    }
}
