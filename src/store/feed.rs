//! Wake-ups when the store changes. Commits by this process bump the version directly; commits by
//! other processes are seen through a file-system watch on the store's directory (the WAL file
//! changes on every commit), with a slow poll as a safety net. Waiters may wake spuriously. On
//! Linux the watch is read on a thread of its own that does not read while this process writes
//! (see `inotify`): this process's own writes do not cost a wake-up per page written.
//!
//! Beside it, a second counter moves when tokens or users may have changed in another process
//! (PostgreSQL replicas learn it from a hint; see `store::postgres::wakeup`): token caches
//! compare it to forget what they verified. A third moves when this process changed schedules,
//! so that the scheduler wakes at once for those and looks at other commits only now and then.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Once, OnceLock};
use std::time::Duration;

#[cfg(not(target_os = "linux"))]
use notify::{RecursiveMode, Watcher};
use tokio::sync::watch;

#[cfg(target_os = "linux")]
mod inotify;

/// The file-system watch, while it runs.
#[cfg(target_os = "linux")]
type Watch = inotify::Watch;
#[cfg(not(target_os = "linux"))]
type Watch = notify::RecommendedWatcher;

/// A counter that moves whenever the store may have changed.
pub struct ChangeFeed {
    tx: watch::Sender<u64>,
    path: PathBuf,
    watcher: OnceLock<Option<Watch>>,
    /// Whether this process is inside a write transaction (the Linux watch waits it out).
    #[cfg(target_os = "linux")]
    own: std::sync::Arc<inotify::OwnWrites>,
    /// Moves when another process changed tokens or users.
    auth: AtomicU64,
    /// Moves when this process changed schedules (created, changed, paused or resumed one).
    schedules: watch::Sender<u64>,
    /// What to start the first time someone waits (a detached feed's source of wake-ups).
    starter: OnceLock<Box<dyn Fn() + Send + Sync>>,
    started: Once,
}

impl ChangeFeed {
    pub(super) fn new(path: &Path) -> Self {
        let (tx, _) = watch::channel(0);
        ChangeFeed {
            tx,
            path: path.to_path_buf(),
            watcher: OnceLock::new(),
            #[cfg(target_os = "linux")]
            own: std::sync::Arc::default(),
            auth: AtomicU64::new(0),
            schedules: watch::channel(0).0,
            starter: OnceLock::new(),
            started: Once::new(),
        }
    }

    /// Run `start` the first time anyone waits on this feed (not before: a command that
    /// never waits never pays for it). Set once; later calls are ignored.
    pub fn start_on_first_wait(&self, start: impl Fn() + Send + Sync + 'static) {
        let _ = self.starter.set(Box::new(start));
    }

    /// The tokens-and-users counter: it differs from a value read earlier when another process
    /// may have revoked a token or changed a user since.
    pub fn auth_version(&self) -> u64 {
        self.auth.load(Ordering::Acquire)
    }

    /// Move the tokens-and-users counter (another process changed them).
    pub fn notify_auth(&self) {
        self.auth.fetch_add(1, Ordering::AcqRel);
    }

    /// The schedules counter: it differs from a value read earlier when this process has
    /// changed a schedule since.
    pub fn schedules_version(&self) -> u64 {
        *self.schedules.borrow()
    }

    /// Move the schedules counter (this process created, changed, paused or resumed one).
    pub fn notify_schedules(&self) {
        self.schedules.send_modify(|v| *v = v.wrapping_add(1));
    }

    /// Wait until the schedules counter differs from `seen` (no timeout: select it against
    /// one).
    pub async fn wait_schedules_since(&self, seen: u64) {
        let mut rx = self.schedules.subscribe();
        let _ = rx.wait_for(|v| *v != seen).await;
    }

    /// A feed with no file-system watch: only [`notify_local`](Self::notify_local) moves it.
    /// For backends that learn of other processes' commits another way (PostgreSQL:
    /// LISTEN/NOTIFY and polling, which call `notify_local`).
    pub fn detached() -> Self {
        Self::new(Path::new(""))
    }

    /// The current version; pass it to [`wait_since`](Self::wait_since) after reading.
    pub fn version(&self) -> u64 {
        *self.tx.borrow()
    }

    /// Bump the version (this process committed).
    pub fn notify_local(&self) {
        self.tx.send_modify(|v| *v = v.wrapping_add(1));
    }

    /// This process's write transaction holds the store's write lock until the guard drops:
    /// no other process can commit meanwhile, so the watch need not read the events of the
    /// pages it writes one by one.
    pub(super) fn writing(&self) -> OwnWrite<'_> {
        #[cfg(target_os = "linux")]
        self.own.begin();
        OwnWrite { feed: self }
    }

    /// Wait until the version differs from `seen`, or `timeout` passes.
    pub async fn wait_since(&self, seen: u64, timeout: Duration) {
        self.ensure_watching();
        let mut rx = self.tx.subscribe();
        let _ = tokio::time::timeout(timeout, rx.wait_for(|v| *v != seen)).await;
    }

    fn ensure_watching(&self) {
        if let Some(start) = self.starter.get() {
            self.started.call_once(start);
        }
        self.watcher.get_or_init(|| {
            let dir = self.path.parent()?.to_path_buf();
            let dir = if dir.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                dir
            };
            let name = self.path.file_name()?.to_string_lossy().into_owned();
            Self::watch(&dir, name, self.tx.clone(), self)
        });
    }

    #[cfg(target_os = "linux")]
    fn watch(dir: &Path, name: String, tx: watch::Sender<u64>, feed: &Self) -> Option<Watch> {
        inotify::watch(dir, name, tx, feed.own.clone())
    }

    #[cfg(not(target_os = "linux"))]
    fn watch(dir: &Path, name: String, tx: watch::Sender<u64>, _: &Self) -> Option<Watch> {
        let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            let Ok(event) = res else { return };
            let ours = event.paths.iter().any(|p| {
                p.file_name()
                    .map(|f| f.to_string_lossy().starts_with(&name))
                    .unwrap_or(false)
            });
            if ours && !matches!(event.kind, notify::EventKind::Access(_)) {
                tx.send_modify(|v| *v = v.wrapping_add(1));
            }
        })
        .ok()?;
        watcher.watch(dir, RecursiveMode::NonRecursive).ok()?;
        Some(watcher)
    }
}

/// A write transaction of this process in progress (see [`ChangeFeed::writing`]).
pub(super) struct OwnWrite<'a> {
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    feed: &'a ChangeFeed,
}

impl Drop for OwnWrite<'_> {
    fn drop(&mut self) {
        #[cfg(target_os = "linux")]
        self.feed.own.end();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::time::Instant;

    use super::*;
    use crate::store::Store;

    /// Two stores on one file, as two processes: `a` watching, `b` writing.
    fn two() -> (tempfile::TempDir, Store, Store) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("imx.db");
        let a = Store::open(&path, true).unwrap();
        let b = Store::open(&path, false).unwrap();
        a.feed().ensure_watching();
        (dir, a, b)
    }

    fn log_lines(store: &Store, n: usize) {
        store
            .write(|tx| {
                let mut ins = tx.prepare(
                    "INSERT INTO logs (run_id, step_id, attempt, time, stream, line)
                     VALUES ('r', 's', 1, 0, 'stdout', ?1)",
                )?;
                for i in 0..n {
                    ins.execute([format!("{i:0>200}")])?;
                }
                Ok(())
            })
            .unwrap();
    }

    /// Wait until `feed`'s version differs from `seen`; how long that took.
    fn moved(feed: &ChangeFeed, seen: u64) -> Duration {
        let start = Instant::now();
        while feed.version() == seen {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "another process's commit never moved the feed"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        start.elapsed()
    }

    /// Another process's commit moves the feed (through the watch), also right after a write
    /// of this process's own.
    #[test]
    fn another_process_commit_moves_the_feed() {
        let (_dir, a, b) = two();
        for own_write_before in [false, true, false] {
            if own_write_before {
                log_lines(&a, 500);
            }
            let seen = a.feed().version();
            log_lines(&b, 1);
            let took = moved(a.feed(), seen);
            assert!(took < Duration::from_secs(5), "{took:?}");
        }
    }

    /// A write of this process's own that writes many pages moves its feed once for the commit
    /// and at most once more for the watch, not once per page written (the watch does not
    /// read while this process writes; `inotify`). Before, each page was an event read alone.
    #[cfg(target_os = "linux")]
    #[test]
    fn own_pages_written_do_not_each_move_the_feed() {
        let (_dir, a, _b) = two();
        let before = a.feed().version();
        // About 250 pages, each a write (two) to the `-wal` file.
        log_lines(&a, 5_000);
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            let moves = a.feed().version().wrapping_sub(before);
            assert!(moves <= 3, "the feed moved {moves} times for one write");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}
