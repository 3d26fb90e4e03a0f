//! Following a server live: one background task holds the server's event stream
//! (`GET /api/v1/events/stream`, server-sent events) open and counts what arrives — events, and
//! the `logs` marks the server sends when runs get new output — so
//! [`RemoteControlPlane::wait_for_change`](super::RemoteControlPlane) wakes within moments of a
//! change instead of polling. The task starts on the first wait, reconnects with a backoff
//! when the stream drops (every reconnection counts as a change: something may have happened
//! meanwhile), and ends with the plane. A server without the stream (404) is long-polled
//! instead.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::agent::backoff::Backoff;

/// No bytes for this long (the server sends a keep-alive comment every 15 s): the connection
/// is dead; reconnect.
const SILENCE: Duration = Duration::from_secs(45);

/// The first and the longest pause between reconnections (jittered, see [`Backoff`]).
const RETRY_FIRST: Duration = Duration::from_millis(100);
const RETRY_MAX: Duration = Duration::from_secs(5);

/// What the stream task shares with the plane.
struct Shared {
    /// Counts messages and (re)connections.
    changes: watch::Sender<u64>,
    /// The server has no event stream: long-poll instead.
    unsupported: AtomicBool,
}

/// The plane's side: the task, the counter and how far this plane's waits have seen.
pub(super) struct Follower {
    shared: Arc<Shared>,
    task: Mutex<Option<JoinHandle<()>>>,
    seen: AtomicU64,
}

/// Where and as whom to open the stream.
pub(super) struct Target {
    pub client: reqwest::Client,
    /// The server, or the cluster's replicas: a stream that cannot connect moves on.
    pub servers: Arc<super::Servers>,
    pub token: Option<String>,
}

impl Follower {
    pub fn new() -> Self {
        Follower {
            shared: Arc::new(Shared {
                changes: watch::channel(0).0,
                unsupported: AtomicBool::new(false),
            }),
            task: Mutex::new(None),
            seen: AtomicU64::new(0),
        }
    }

    /// Whether the server turned out to have no event stream.
    pub fn unsupported(&self) -> bool {
        self.shared.unsupported.load(Ordering::Relaxed)
    }

    /// Wait until the stream brings something new since this plane's last wait (or since it
    /// connected), or `timeout` passes. Starts the stream task if it is not running.
    pub async fn wait(&self, target: impl FnOnce() -> Target, timeout: Duration) {
        self.ensure_running(target);
        let mut rx = self.shared.changes.subscribe();
        let seen = self.seen.load(Ordering::Relaxed);
        let _ = tokio::time::timeout(timeout, rx.wait_for(|n| *n != seen)).await;
        self.seen.store(*rx.borrow(), Ordering::Relaxed);
    }

    fn ensure_running(&self, target: impl FnOnce() -> Target) {
        let mut task = self.task.lock().unwrap_or_else(|p| p.into_inner());
        if task.as_ref().is_some_and(|t| !t.is_finished()) {
            return;
        }
        // Not started, or ended with the runtime that ran it: (re)start on this one.
        *task = Some(tokio::spawn(run(target(), self.shared.clone())));
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        let task = self.task.get_mut().unwrap_or_else(|p| p.into_inner());
        if let Some(t) = task.take() {
            t.abort();
        }
    }
}

impl Shared {
    fn bump(&self) {
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }
}

/// The stream task: connect, count, reconnect.
async fn run(target: Target, shared: Arc<Shared>) {
    let mut backoff = Backoff::new(RETRY_FIRST, RETRY_MAX);
    loop {
        let base = target.servers.current().clone();
        let mut url = base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty()
                .extend(["api", "v1", "events", "stream"]);
        }
        // From the newest event on: history is the caller's to read; the first event sent (the
        // newest) tells that the stream is up.
        url.query_pairs_mut().append_pair("after", "-1");
        let mut req = target.client.get(url);
        if let Some(t) = &target.token {
            req = req.bearer_auth(t);
        }
        match req.send().await {
            Ok(resp) if resp.status().is_success() => {
                shared.bump();
                backoff.reset();
                read(resp, &shared).await;
                // Dropped: whatever happened meanwhile, waiters should look again.
                shared.bump();
            }
            Ok(resp)
                if matches!(
                    resp.status(),
                    StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
                ) =>
            {
                shared.unsupported.store(true, Ordering::Relaxed);
                shared.bump();
                return;
            }
            // Refused (e.g. a revoked token): waits time out meanwhile, and the callers' own
            // requests report why.
            Ok(_) => {}
            // Unreachable: try the next replica, if there is one.
            Err(_) => {
                target.servers.failed(&base);
            }
        }
        tokio::time::sleep(backoff.next_delay()).await;
    }
}

/// Read the stream until it ends or goes silent, counting the messages (a chunk's worth at a
/// time: waiters need to know that something came, not how much).
async fn read(mut resp: reqwest::Response, shared: &Shared) {
    let mut buf = Vec::new();
    loop {
        let chunk = match tokio::time::timeout(SILENCE, resp.chunk()).await {
            Ok(Ok(Some(chunk))) => chunk,
            // Ended, broken, or silent for too long.
            Ok(Ok(None)) | Ok(Err(_)) | Err(_) => return,
        };
        buf.extend_from_slice(&chunk);
        if take_messages(&mut buf) > 0 {
            shared.bump();
        }
    }
}

/// Remove the complete SSE frames from the front of `buf`; how many carried data (events and
/// log marks; comments, the keep-alives, carry none).
fn take_messages(buf: &mut Vec<u8>) -> usize {
    let mut messages = 0;
    while let Some(end) = frame_end(buf) {
        let frame: Vec<u8> = buf.drain(..end).collect();
        let has_data = frame
            .split(|b| *b == b'\n')
            .any(|line| line.starts_with(b"data:"));
        if has_data {
            messages += 1;
        }
    }
    messages
}

/// Where the first frame ends (after its blank line), if it is complete.
fn frame_end(buf: &[u8]) -> Option<usize> {
    // Lines may end with \n or \r\n; a frame ends at an empty line.
    let mut i = 0;
    while let Some(n) = buf[i..].iter().position(|b| *b == b'\n') {
        let next = i + n + 1;
        let line = &buf[i..i + n];
        if line.is_empty() || line == b"\r" {
            return Some(next);
        }
        i = next;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_with_data_are_counted_and_comments_are_not() {
        let mut buf =
            b"id: 7\ndata: {\"id\":7}\n\n:\n\nevent: logs\ndata: {}\n\ndata: partial".to_vec();
        assert_eq!(take_messages(&mut buf), 2);
        assert_eq!(buf, b"data: partial");
        buf.extend_from_slice(b"\r\n\r\n");
        assert_eq!(take_messages(&mut buf), 1);
        assert!(buf.is_empty());
        assert_eq!(take_messages(&mut buf), 0);
    }
}
