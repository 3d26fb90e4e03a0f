//! Wake-ups when the store changes. Commits by this process bump the version directly; commits by
//! other processes are seen through a file-system watch on the store's directory (the WAL file
//! changes on every commit), with a slow poll as a safety net. Waiters may wake spuriously.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use notify::{RecursiveMode, Watcher};
use tokio::sync::watch;

/// A counter that moves whenever the store may have changed.
pub struct ChangeFeed {
    tx: watch::Sender<u64>,
    path: PathBuf,
    watcher: OnceLock<Option<notify::RecommendedWatcher>>,
}

impl ChangeFeed {
    pub(super) fn new(path: &Path) -> Self {
        let (tx, _) = watch::channel(0);
        ChangeFeed {
            tx,
            path: path.to_path_buf(),
            watcher: OnceLock::new(),
        }
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
