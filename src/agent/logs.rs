//! The log sink a step writes to: lines are buffered per step and flushed to the control plane
//! in batches (every ~100 ms, at 200 lines, and at the end of the step).

use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::Notify;

use crate::model::LogStream;

/// Lines buffered past this many start a flush at once.
pub(crate) const FLUSH_LINES: usize = 200;
/// Lines kept while the control plane cannot take them; older ones are dropped past this.
const MAX_BUFFERED: usize = 20_000;

/// A cheap, cloneable handle for appending a step's output lines.
#[derive(Clone, Default)]
pub struct LogSink {
    inner: Arc<SinkInner>,
}

#[derive(Default)]
struct SinkInner {
    lines: Mutex<Buffer>,
    full: Notify,
}

#[derive(Default)]
struct Buffer {
    lines: Vec<(LogStream, String)>,
    dropped: u64,
}

impl LogSink {
    pub fn new() -> Self {
        LogSink::default()
    }

    /// Append one line.
    pub fn push(&self, stream: LogStream, line: impl Into<String>) {
        let len = {
            let mut buf = self.lock();
            buf.lines.push((stream, line.into()));
            if buf.lines.len() > MAX_BUFFERED {
                let excess = buf.lines.len() - MAX_BUFFERED;
                buf.lines.drain(..excess);
                buf.dropped += excess as u64;
            }
            buf.lines.len()
        };
        if len >= FLUSH_LINES {
            self.inner.full.notify_one();
        }
    }

    /// Take every buffered line (with a note first if some were dropped).
    pub(crate) fn take(&self) -> Vec<(LogStream, String)> {
        let mut buf = self.lock();
        let mut lines = std::mem::take(&mut buf.lines);
        if buf.dropped > 0 {
            lines.insert(
                0,
                (
                    LogStream::System,
                    format!(
                        "imx: {} log lines were dropped while the control plane was unreachable",
                        buf.dropped
                    ),
                ),
            );
            buf.dropped = 0;
        }
        lines
    }

    /// Put lines that could not be sent back in front of newer ones, to retry later.
    pub(crate) fn put_back(&self, mut lines: Vec<(LogStream, String)>) {
        let mut buf = self.lock();
        lines.append(&mut buf.lines);
        if lines.len() > MAX_BUFFERED {
            let excess = lines.len() - MAX_BUFFERED;
            lines.drain(..excess);
            buf.dropped += excess as u64;
        }
        buf.lines = lines;
    }

    /// Resolves when enough lines are buffered to flush early.
    pub(crate) async fn filled(&self) {
        self.inner.full.notified().await;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Buffer> {
        self.inner
            .lines
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn take_and_put_back_keep_order() {
        let sink = LogSink::new();
        sink.push(LogStream::Stdout, "a");
        let first = sink.take();
        sink.push(LogStream::Stdout, "b");
        sink.put_back(first);
        let lines: Vec<String> = sink.take().into_iter().map(|(_, l)| l).collect();
        assert_eq!(lines, ["a", "b"]);
        assert!(sink.take().is_empty());
    }
}
