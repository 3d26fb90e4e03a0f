//! Wake-ups when the store changes. Commits by this process bump the version directly; commits by
//! other processes are seen through a file-system watch on the store's directory (the WAL file
//! changes on every commit), with a slow poll as a safety net. Waiters may wake spuriously.
//!
//! Beside it, a second counter moves when tokens or users may have changed in another process
//! (PostgreSQL replicas learn it from a hint; see `store::postgres::wakeup`): token caches
//! compare it to forget what they verified. A third moves when this process changed schedules,
//! so that the scheduler wakes at once for those and looks at other commits only now and then.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Once, OnceLock};
use std::time::Duration;

use notify::{RecursiveMode, Watcher};
use tokio::sync::watch;

/// A counter that moves whenever the store may have changed.
pub struct ChangeFeed {
    tx: watch::Sender<u64>,
    path: PathBuf,
    watcher: OnceLock<Option<notify::RecommendedWatcher>>,
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
            let tx = self.tx.clone();
            let mut watcher =
                notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
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
            watcher.watch(&dir, RecursiveMode::NonRecursive).ok()?;
            Some(watcher)
        });
    }
}
