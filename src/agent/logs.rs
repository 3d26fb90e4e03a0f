//! The log sink a step writes to: lines are buffered per step and shipped to the control plane
//! in batches bounded by bytes (every ~100 ms, whenever a batch is ready, and at the end).
//!
//! Nothing is dropped for want of room. A step's output is read through
//! [`send`](LogSink::send), which waits while [`CAPACITY`] bytes are buffered and not yet
//! shipped: the step's pipe is then read more slowly, and the step waits on its writes, until
//! the control plane has taken a batch (back-pressure). Once the step's process is gone,
//! [`release`](LogSink::release) lifts the wait, so what is left in its pipes is read at once.
//! imx's own lines ([`push`](LogSink::push)) never wait.
//!
//! The one limit is the control plane's cap on one attempt's log (`max_log_bytes`): output
//! past it is counted, not kept, and [`finish`](LogSink::finish) adds one line saying how much
//! was cut.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::Notify;

use crate::engine::limits::log_cut_line;
use crate::model::{CapturedLine, LogStream, now_ms};

/// Lines buffered past this many start a flush at once.
pub(crate) const FLUSH_LINES: usize = 200;
/// The most bytes of line text in one batch sent to the control plane. JSON at worst takes
/// six bytes per byte of text (`\u0000`), so a batch stays under a server's 4 MiB body limit.
pub(crate) const BATCH_BYTES: usize = 512 * 1024;
/// What one line costs in a batch besides its text: its JSON framing, stream and capture time.
/// Counted so that a batch of many short (or empty) lines is bounded too.
pub(crate) const LINE_COST: usize = 40;
/// Bytes of output buffered before the step's output is read more slowly.
pub(crate) const CAPACITY: usize = 2 * BATCH_BYTES;

/// Whether a line appended still needs masking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Masking {
    Mask,
    /// Checked by the reader already: it holds no secret.
    Clean,
}

/// A cheap, cloneable handle for appending a step's output lines.
#[derive(Clone, Default)]
pub struct LogSink {
    inner: Arc<SinkInner>,
}

#[derive(Default)]
struct SinkInner {
    buf: Mutex<Buffer>,
    /// Masks the step's secrets in every line before it is kept (see [`super::mask`]).
    masker: Option<Arc<super::mask::Masker>>,
    /// Wakes the flusher: a batch is ready.
    full: Notify,
    /// Wakes writers waiting for room.
    room: Notify,
}

#[derive(Default)]
struct Buffer {
    /// Lines with the time each was read.
    lines: VecDeque<CapturedLine>,
    /// Bytes of text in `lines`.
    bytes: usize,
    /// Output bytes allowed for this attempt (`None`: no cap).
    max_bytes: Option<u64>,
    /// Output bytes kept so far (stdout and stderr; imx's own lines do not count).
    kept: u64,
    cut_bytes: u64,
    cut_lines: u64,
    /// Writers no longer wait for room (the step's process is gone).
    released: bool,
    /// The most bytes of one batch; smaller if the control plane refused a batch as too large.
    batch_bytes: usize,
}

impl LogSink {
    /// A sink without a cap.
    pub fn new() -> Self {
        LogSink::default()
    }

    /// A sink that keeps at most `max_bytes` of output (stdout and stderr lines).
    pub fn with_limit(max_bytes: Option<u64>) -> Self {
        let sink = LogSink::default();
        sink.lock().max_bytes = max_bytes;
        sink
    }

    /// A sink that keeps at most `max_bytes` of output and masks `masker`'s secrets in every
    /// line appended to it.
    pub fn masked(max_bytes: Option<u64>, masker: Option<Arc<super::mask::Masker>>) -> Self {
        let sink = LogSink {
            inner: Arc::new(SinkInner {
                masker,
                ..SinkInner::default()
            }),
        };
        sink.lock().max_bytes = max_bytes;
        sink
    }

    /// Append one line now, stamped with the time: never waits (imx's own lines, an `http`
    /// step's summary).
    pub fn push(&self, stream: LogStream, line: impl Into<String>) {
        self.push_at(stream, line.into(), now_ms(), Masking::Mask);
    }

    /// Append one line read at `at` (ms since the epoch), masked unless `masking` says it
    /// holds no secret.
    fn push_at(&self, stream: LogStream, line: String, at: i64, masking: Masking) {
        let line = match &self.inner.masker {
            Some(m) if masking == Masking::Mask => match m.mask(&line) {
                std::borrow::Cow::Owned(masked) => masked,
                std::borrow::Cow::Borrowed(_) => line,
            },
            _ => line,
        };
        let ready = {
            let mut buf = self.lock();
            buf.append(CapturedLine::at(stream, line, at));
            buf.ready()
        };
        if ready {
            self.inner.full.notify_one();
        }
    }

    /// Append one line of the step's output, stamped with the time it was read (now, before
    /// any wait), first waiting while the buffer is full (until a batch has been shipped, or
    /// [`release`](Self::release)). Lines past the cap are counted at once, without waiting.
    pub async fn send(&self, stream: LogStream, line: String) {
        self.send_as(stream, line, Masking::Mask).await;
    }

    /// [`send`](Self::send) a line the sink's masker has already found to hold no secret
    /// (the check of the block it was read in: `executor::lines`).
    pub(crate) async fn send_clean(&self, stream: LogStream, line: String) {
        self.send_as(stream, line, Masking::Clean).await;
    }

    async fn send_as(&self, stream: LogStream, line: String, masking: Masking) {
        let at = now_ms();
        loop {
            let room = self.inner.room.notified();
            tokio::pin!(room);
            // Registered before the check, so a batch taken in between still wakes us.
            room.as_mut().enable();
            {
                let buf = self.lock();
                if buf.released || buf.bytes < CAPACITY || buf.would_cut(stream, &line) {
                    break;
                }
            }
            // Make sure the flusher knows; then wait for it to make room.
            self.inner.full.notify_one();
            room.await;
        }
        self.push_at(stream, line, at, masking);
    }

    /// The step's process is gone: writers no longer wait (what is left in its pipes is
    /// bounded, and must be read to the end without waiting for the control plane).
    pub fn release(&self) {
        self.lock().released = true;
        self.inner.room.notify_waiters();
    }

    /// The step ended: if output was cut, add the one line that says how much.
    pub(crate) fn finish(&self) {
        let line = {
            let buf = self.lock();
            (buf.cut_lines > 0)
                .then(|| log_cut_line(buf.cut_bytes, buf.cut_lines, buf.max_bytes.unwrap_or(0)))
        };
        if let Some(line) = line {
            self.push(LogStream::System, line);
        }
    }

    /// The masker this sink applies to every line, if any.
    pub(crate) fn masker(&self) -> Option<Arc<super::mask::Masker>> {
        self.inner.masker.clone()
    }

    /// Take the oldest lines, up to one batch (at least one line, however long): their text and
    /// [`LINE_COST`] each.
    pub fn take_batch(&self) -> Vec<CapturedLine> {
        let lines = {
            let mut buf = self.lock();
            let limit = buf.batch_limit();
            let mut size = 0;
            let mut n = 0;
            let mut text = 0;
            for l in &buf.lines {
                let cost = l.line.len() + LINE_COST;
                if n > 0 && size + cost > limit {
                    break;
                }
                size += cost;
                text += l.line.len();
                n += 1;
            }
            buf.bytes -= text;
            buf.lines.drain(..n).collect()
        };
        self.inner.room.notify_waiters();
        lines
    }

    /// Take every buffered line.
    pub(crate) fn take(&self) -> Vec<CapturedLine> {
        let lines = {
            let mut buf = self.lock();
            buf.bytes = 0;
            std::mem::take(&mut buf.lines).into()
        };
        self.inner.room.notify_waiters();
        lines
    }

    /// Put lines that could not be sent back in front of newer ones, to retry later.
    pub(crate) fn put_back(&self, lines: Vec<CapturedLine>) {
        let mut buf = self.lock();
        for entry in lines.into_iter().rev() {
            buf.bytes += entry.line.len();
            buf.lines.push_front(entry);
        }
    }

    /// The control plane refused a batch of `n` lines as too large: send smaller batches.
    /// Returns false when the batch was a single line (it cannot be split).
    pub(crate) fn shrink_batches(&self, n: usize, bytes: usize) -> bool {
        if n <= 1 {
            return false;
        }
        let mut buf = self.lock();
        buf.batch_bytes = (bytes / 2).max(1);
        true
    }

    /// Resolves when enough lines are buffered to flush early.
    pub async fn filled(&self) {
        self.inner.full.notified().await;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Buffer> {
        self.inner
            .buf
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Buffer {
    /// Whether an output line would be cut rather than kept: past the cap, everything is.
    fn would_cut(&self, stream: LogStream, line: &str) -> bool {
        stream != LogStream::System
            && (self.cut_lines > 0
                || self
                    .max_bytes
                    .is_some_and(|max| self.kept.saturating_add(line.len() as u64) > max))
    }

    fn append(&mut self, l: CapturedLine) {
        let size = l.line.len();
        if self.would_cut(l.stream, &l.line) {
            self.cut_bytes += size as u64;
            self.cut_lines += 1;
            return;
        }
        if l.stream != LogStream::System {
            self.kept += size as u64;
        }
        self.bytes += size;
        self.lines.push_back(l);
    }

    fn batch_limit(&self) -> usize {
        if self.batch_bytes == 0 {
            BATCH_BYTES
        } else {
            self.batch_bytes
        }
    }

    /// Whether a batch is ready to send.
    fn ready(&self) -> bool {
        self.lines.len() >= FLUSH_LINES || self.bytes >= self.batch_limit()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn text(lines: Vec<CapturedLine>) -> Vec<String> {
        lines.into_iter().map(|l| l.line).collect()
    }

    /// Each line carries the time it was read, not the time it is taken to be shipped (a
    /// control plane that is slow or away must not move a line's time).
    #[tokio::test]
    async fn lines_are_stamped_when_read_not_when_shipped() {
        let sink = LogSink::new();
        let before = now_ms();
        sink.send(LogStream::Stdout, "read".into()).await;
        sink.push(LogStream::System, "imx: note");
        let read = now_ms();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while now_ms() < read + 50 {
            assert!(std::time::Instant::now() < deadline);
            tokio::task::yield_now().await;
        }
        let lines = sink.take();
        for l in &lines {
            let at = l.at.expect("every line is stamped");
            assert!((before..=read).contains(&at), "{l:?}");
        }
        // Put back after a failed send, a line keeps its time.
        sink.put_back(lines.clone());
        assert_eq!(sink.take(), lines);
    }

    #[test]
    fn take_and_put_back_keep_order() {
        let sink = LogSink::new();
        sink.push(LogStream::Stdout, "a");
        let first = sink.take();
        sink.push(LogStream::Stdout, "b");
        sink.put_back(first);
        assert_eq!(text(sink.take()), ["a", "b"]);
        assert!(sink.take().is_empty());
    }

    #[test]
    fn batches_are_bounded_by_bytes_but_hold_at_least_one_line() {
        let sink = LogSink::new();
        let long = "x".repeat(BATCH_BYTES / 3 - LINE_COST);
        for _ in 0..4 {
            sink.push(LogStream::Stdout, long.clone());
        }
        assert_eq!(sink.take_batch().len(), 3);
        assert_eq!(sink.take_batch().len(), 1);
        assert!(sink.take_batch().is_empty());
        sink.push(LogStream::Stdout, "y".repeat(BATCH_BYTES * 2));
        assert_eq!(
            sink.take_batch().len(),
            1,
            "one line over a batch still goes"
        );
        // Refused as too large: batches halve.
        for _ in 0..4 {
            sink.push(LogStream::Stdout, long.clone());
        }
        assert!(sink.shrink_batches(3, BATCH_BYTES));
        assert_eq!(sink.take_batch().len(), 1);
        assert!(!sink.shrink_batches(1, long.len()));
    }

    /// Empty lines cost something too: a batch of them is bounded, and every line arrives.
    #[test]
    fn batches_of_empty_lines_are_bounded() {
        let sink = LogSink::new();
        let n = 3 * BATCH_BYTES / LINE_COST;
        for _ in 0..n {
            sink.push(LogStream::Stdout, "");
        }
        let mut got = 0;
        loop {
            let batch = sink.take_batch();
            if batch.is_empty() {
                break;
            }
            assert!(batch.len() <= BATCH_BYTES / LINE_COST, "{}", batch.len());
            got += batch.len();
        }
        assert_eq!(got, n);
    }

    /// A writer waits while the buffer is full and goes on once a batch is taken; nothing is
    /// dropped.
    #[tokio::test]
    async fn a_full_buffer_makes_the_writer_wait_instead_of_dropping() {
        let sink = LogSink::new();
        let line = "z".repeat(1024);
        let n = CAPACITY / 1024 + 100;
        let writer = {
            let sink = sink.clone();
            let line = line.clone();
            tokio::spawn(async move {
                for _ in 0..n {
                    sink.send(LogStream::Stdout, line.clone()).await;
                }
            })
        };
        // It fills the buffer, then waits.
        tokio::time::timeout(Duration::from_secs(10), async {
            while sink.lock().bytes < CAPACITY {
                tokio::task::yield_now().await;
            }
        })
        .await
        .unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!writer.is_finished(), "the writer must wait for room");
        assert_eq!(sink.lock().bytes, CAPACITY);
        let mut got = 0;
        while got < n {
            let batch = sink.take_batch();
            got += batch.len();
            if batch.is_empty() {
                tokio::task::yield_now().await;
            }
        }
        writer.await.unwrap();
        assert_eq!(got, n, "every line arrives");
    }

    #[tokio::test]
    async fn released_writers_do_not_wait() {
        let sink = LogSink::new();
        sink.release();
        let n = CAPACITY / 1024 * 2;
        for _ in 0..n {
            sink.send(LogStream::Stdout, "w".repeat(1024)).await;
        }
        assert_eq!(sink.take().len(), n);
    }

    #[tokio::test]
    async fn output_past_the_cap_is_counted_and_said_once() {
        let sink = LogSink::with_limit(Some(10));
        for line in ["12345", "6789", "abc", "d"] {
            sink.send(LogStream::Stdout, line.into()).await;
        }
        sink.push(LogStream::System, "imx: a note");
        sink.finish();
        let lines = sink.take();
        assert_eq!(
            text(lines.clone())[..3],
            ["12345", "6789", "imx: a note"],
            "{lines:?}"
        );
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[3].stream, LogStream::System);
        assert_eq!(
            lines[3].line,
            log_cut_line(4, 2, 10),
            "after a cut, nothing is kept"
        );
    }
}
