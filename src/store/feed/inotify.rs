//! The change feed's watch on Linux: an inotify watch on the store's directory, read on a
//! thread of its own — not while this process writes.
//!
//! SQLite writes a commit to the `-wal` file one page at a time (two `pwrite`s a frame), and
//! each write is an inotify event. Read as they come (as the `notify` crate's thread did), a
//! 10,000-run scheduler pass (some 8,000 writes) woke the reading thread once per write: the
//! reads, and the wake-ups on the writing thread's side, were 5–15 ms of CPU a pass. Yet while
//! this process holds the write transaction no other process can commit (SQLite has one
//! writer), so nothing read then can be news: the thread waits for the write to end, the
//! kernel meanwhile merges the write's events into one (an unread event identical to the
//! last one queued is dropped), and the thread reads them once — a wake-up or two per
//! transaction instead of one per page. Events still move the feed (once per batch read): a
//! commit by another process wakes waiters as promptly as before, and one that came just
//! before this process's write is seen when that write ends (and by its own wake-up).

use std::os::fd::AsFd;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use inotify::{EventMask, Inotify, WatchDescriptor, WatchMask, Watches};
use tokio::sync::watch;

/// Whether this process is inside a write transaction, shared by the writer and the watch.
#[derive(Default)]
pub(super) struct OwnWrites {
    state: Mutex<State>,
    idle: Condvar,
}

#[derive(Default)]
struct State {
    /// Writes of this process in progress (the writer's, the idle checkpointer's).
    writing: u32,
    /// The watch thread waits for the write to end (a wake-up is owed).
    waiting: bool,
    /// The feed is gone: the thread ends.
    closed: bool,
}

impl OwnWrites {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn begin(&self) {
        let mut s = self.lock();
        s.writing = s.writing.saturating_add(1);
    }

    pub(super) fn end(&self) {
        let mut s = self.lock();
        s.writing = s.writing.saturating_sub(1);
        if s.writing == 0 && s.waiting {
            s.waiting = false;
            self.idle.notify_all();
        }
    }

    /// Wait while this process writes: whether it was writing; `None` once closed.
    fn wait_idle(&self) -> Option<bool> {
        let mut s = self.lock();
        let mut waited = false;
        loop {
            if s.closed {
                return None;
            }
            if s.writing == 0 {
                return Some(waited);
            }
            waited = true;
            s.waiting = true;
            s = self.idle.wait(s).unwrap_or_else(|p| p.into_inner());
        }
    }

    fn close(&self) {
        self.lock().closed = true;
        self.idle.notify_all();
    }
}

/// The running watch; dropping it ends its thread.
pub(super) struct Watch {
    own: Arc<OwnWrites>,
    watches: Watches,
    wd: WatchDescriptor,
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.own.close();
        // Removing the watch queues an IN_IGNORED event: the thread, waiting for events,
        // wakes and sees the feed closed.
        let _ = self.watches.remove(self.wd.clone());
    }
}

/// What moves the feed: a change to a file whose name starts with the store's (the store, its
/// `-wal` and `-shm`), not a mere open or close.
const MASK: WatchMask = WatchMask::MODIFY
    .union(WatchMask::ATTRIB)
    .union(WatchMask::CREATE)
    .union(WatchMask::DELETE)
    .union(WatchMask::MOVED_FROM)
    .union(WatchMask::MOVED_TO)
    .union(WatchMask::DELETE_SELF)
    .union(WatchMask::MOVE_SELF);

/// Watch `dir` for changes to files named `name…`, moving `tx` once per batch of them read.
pub(super) fn watch(
    dir: &Path,
    name: String,
    tx: watch::Sender<u64>,
    own: Arc<OwnWrites>,
) -> Option<Watch> {
    let inotify = Inotify::init().ok()?;
    let mut watches = inotify.watches();
    let wd = watches.add(dir, MASK).ok()?;
    let thread_own = own.clone();
    std::thread::Builder::new()
        .name("imx-feed".into())
        .spawn(move || run(inotify, &name, &tx, &thread_own))
        .ok()?;
    Some(Watch { own, watches, wd })
}

/// What a batch of events read says.
#[derive(Default)]
struct Read {
    /// A file of the store changed.
    ours: bool,
    /// The watch is gone (removed, or its directory): no more events will come.
    gone: bool,
}

/// Read every event queued now (without waiting); `None` on an error other than none left.
fn drain(inotify: &mut Inotify, buf: &mut [u8], name: &str, read: &mut Read) -> Option<()> {
    loop {
        let events = match inotify.read_events(buf) {
            Ok(events) => events,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Some(()),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return None,
        };
        for e in events {
            if e.mask.contains(EventMask::IGNORED) {
                read.gone = true;
            }
            // Events were lost: one of them may have been a commit.
            if e.mask.contains(EventMask::Q_OVERFLOW)
                || e.name
                    .is_some_and(|n| n.to_string_lossy().starts_with(name))
            {
                read.ours = true;
            }
        }
    }
}

fn run(mut inotify: Inotify, name: &str, tx: &watch::Sender<u64>, own: &OwnWrites) {
    let mut buf = [0u8; 4096];
    loop {
        // Not while this process writes (see the module doc).
        if own.wait_idle().is_none() {
            return;
        }
        let mut fds = [nix::poll::PollFd::new(
            inotify.as_fd(),
            nix::poll::PollFlags::POLLIN,
        )];
        match nix::poll::poll(&mut fds, nix::poll::PollTimeout::NONE) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(_) => return,
        }
        let mut read = Read::default();
        if drain(&mut inotify, &mut buf, name, &mut read).is_none() {
            return;
        }
        if read.ours {
            // This process's write began meanwhile: its pages' events, merged, are read once
            // it ends (a commit of another process's just before it moves the feed then).
            match own.wait_idle() {
                None => return,
                Some(true) => {
                    if drain(&mut inotify, &mut buf, name, &mut read).is_none() {
                        return;
                    }
                }
                Some(false) => {}
            }
            tx.send_modify(|v| *v = v.wrapping_add(1));
        }
        if read.gone {
            return;
        }
    }
}
