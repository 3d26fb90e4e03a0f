//! One log line per request through `tracing` (target `imx::server::log`): method, route
//! template, status, latency (`latency_us`, whole microseconds) and the principal's name once
//! authenticated — never the token. The dashboard's polls (`/api/v1/dashboard/...`, several a
//! second per open dashboard) are logged at DEBUG, everything else at INFO.
//! Where the lines go (stderr or daily files, text or JSON) is the binary's choice; they are
//! written by a thread of their own ([`batched`]), a batch at a time.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

/// Filled in by the [`Caller`](super::auth::Caller) extractor with the principal's name.
#[derive(Clone, Default)]
pub struct Who(pub Arc<OnceLock<String>>);

/// Middleware: log the request when its response is ready.
pub async fn requests(mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let who = Who::default();
    req.extensions_mut().insert(who.clone());
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let resp = next.run(req).await;
    let latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    let principal = who.0.get().map_or("-", String::as_str);
    let status = resp.status().as_u16();
    if is_poll(&route) {
        tracing::debug!(method = %method, route = %route, status, latency_us, principal, "request");
    } else {
        tracing::info!(method = %method, route = %route, status, latency_us, principal, "request");
    }
    resp
}

/// Routes the dashboard polls: logged at DEBUG so they do not drown the rest.
fn is_poll(route: &str) -> bool {
    route.starts_with("/api/v1/dashboard/")
}

/// The target of the request lines (the ones [`batched`] gathers before writing).
const TARGET: &str = module_path!();

/// How long a request line may wait to be written with the lines after it.
pub const BATCH_DELAY: Duration = Duration::from_millis(50);

/// Lines waiting past this many bytes are written at once.
const BATCH_BYTES: usize = 256 * 1024;

/// Lines waiting past this many bytes (the output takes them slower than they come) are
/// dropped, and counted, rather than held up a request or grown without bound.
const BACKLOG_BYTES: usize = 16 * 1024 * 1024;

/// Log lines written to `out` by a thread of their own, so a request never waits for the
/// output (a slow pipe or terminal) and costs no system call: a line is appended to a buffer
/// in memory. The request lines (one a request) are written a batch at a time, at most
/// [`BATCH_DELAY`] after they were logged (the thread is woken once a batch, not once a
/// line); any other line is written at once, with those before it. Every line is written, in
/// order, unless [`BACKLOG_BYTES`] are waiting (then the lines that do not fit are dropped,
/// and how many is written after the others). Dropping the [`LogFlusher`] writes what is left
/// and ends the thread.
pub fn batched<W: Write + Send + 'static>(out: W) -> std::io::Result<(BatchedLog, LogFlusher)> {
    batched_with(out, BATCH_DELAY)
}

/// [`batched`], request lines waiting up to `delay`.
fn batched_with<W: Write + Send + 'static>(
    out: W,
    delay: Duration,
) -> std::io::Result<(BatchedLog, LogFlusher)> {
    let shared = Arc::new(Batch {
        state: Mutex::new(Pending::default()),
        wake: Condvar::new(),
        delay,
    });
    let writer = shared.clone();
    let thread = std::thread::Builder::new()
        .name("imx-log".into())
        .spawn(move || writer.write_out(out))?;
    Ok((
        BatchedLog {
            shared: shared.clone(),
        },
        LogFlusher {
            shared,
            thread: Some(thread),
        },
    ))
}

/// Where `tracing`'s formatter writes the lines (see [`batched`]).
#[derive(Clone)]
pub struct BatchedLog {
    shared: Arc<Batch>,
}

/// Writes what is left and ends the writing thread when dropped (see [`batched`]).
pub struct LogFlusher {
    shared: Arc<Batch>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for LogFlusher {
    fn drop(&mut self) {
        self.shared.lock().stop = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

struct Batch {
    state: Mutex<Pending>,
    wake: Condvar,
    /// How long a request line may wait ([`BATCH_DELAY`]).
    delay: Duration,
}

#[derive(Default)]
struct Pending {
    /// The lines not written yet, in order.
    lines: Vec<u8>,
    /// Lines dropped since the last batch (the backlog was full).
    dropped: u64,
    /// The thread waits for a first line: the next one wakes it.
    idle: bool,
    /// Write what waits now (a line that is not a request's came, or a big batch).
    now: bool,
    /// Write what is left, and end.
    stop: bool,
}

impl Batch {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Append a line; `now`: to be written without waiting for the batch's delay.
    fn append(&self, line: &[u8], now: bool) {
        let mut p = self.lock();
        if p.lines.len() + line.len() > BACKLOG_BYTES {
            p.dropped += 1;
            return;
        }
        p.lines.extend_from_slice(line);
        let now = now || p.lines.len() >= BATCH_BYTES;
        // Once a batch: the thread is woken when it waits for a first line, or when it waits
        // out the delay and this line should not.
        let wake = p.idle || (now && !p.now);
        p.idle = false;
        p.now |= now;
        drop(p);
        if wake {
            self.wake.notify_one();
        }
    }

    /// The writing thread: a batch at a time until stopped, then what is left.
    fn write_out<W: Write>(&self, mut out: W) {
        let mut batch = Vec::new();
        loop {
            let mut p = self.lock();
            while p.lines.is_empty() && p.dropped == 0 && !p.stop {
                p.idle = true;
                p = self.wake.wait(p).unwrap_or_else(PoisonError::into_inner);
            }
            p.idle = false;
            if p.lines.is_empty() && p.dropped == 0 {
                // Stopped, and everything written.
                return;
            }
            // Let the batch gather for the delay, unless it is wanted now.
            let until = Instant::now() + self.delay;
            while !p.now && !p.stop {
                let left = until.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                p = self
                    .wake
                    .wait_timeout(p, left)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
            p.now = false;
            std::mem::swap(&mut p.lines, &mut batch);
            let dropped = std::mem::take(&mut p.dropped);
            drop(p);
            // Errors are not reported: there is nowhere to report them (as tracing's own
            // writers, which drop what cannot be written).
            let _ = out.write_all(&batch);
            if dropped > 0 {
                let _ = writeln!(
                    out,
                    "imx: {dropped} log lines dropped: the log's output took them slower than they came"
                );
            }
            let _ = out.flush();
            batch.clear();
            // Keep a big batch's buffer only up to a size worth keeping.
            batch.shrink_to(BATCH_BYTES);
        }
    }
}

/// One line, as the formatter writes it (whole, in one `write`).
pub struct LogLine<'a> {
    shared: &'a Batch,
    now: bool,
}

impl Write for LogLine<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.shared.append(buf, self.now);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for BatchedLog {
    type Writer = LogLine<'a>;

    fn make_writer(&'a self) -> LogLine<'a> {
        LogLine {
            shared: &self.shared,
            now: true,
        }
    }

    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> LogLine<'a> {
        LogLine {
            shared: &self.shared,
            now: meta.target() != TARGET,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    /// An output that keeps what is written and counts the flushes (one a batch).
    #[derive(Clone, Default)]
    struct Out(Arc<Mutex<(Vec<u8>, usize)>>);

    impl Write for Out {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().0.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            self.0.lock().unwrap().1 += 1;
            Ok(())
        }
    }

    impl Out {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().0.clone()).unwrap()
        }
        fn batches(&self) -> usize {
            self.0.lock().unwrap().1
        }
    }

    fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !ok() {
            assert!(Instant::now() < deadline, "{what}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Request lines are written a batch at a time, all of them, in order; a batch is
    /// written while the server runs (not only when it stops).
    #[test]
    fn request_lines_are_written_in_batches_in_order() {
        let out = Out::default();
        let (log, flusher) = super::batched(out.clone()).unwrap();
        let lines: Vec<String> = (0..2_000).map(|i| format!("request {i}\n")).collect();
        for l in &lines {
            log.shared.append(l.as_bytes(), false);
        }
        wait_for("the batch was written", || out.text() == lines.concat());
        // 2,000 lines came within far less than the delay: a few batches, not a line each.
        assert!(out.batches() < 50, "{} batches", out.batches());
        log.shared.append(b"last\n", false);
        drop(flusher);
        assert_eq!(out.text(), lines.concat() + "last\n");
    }

    /// A line that is not a request's goes out at once, with the request lines before it
    /// (through `tracing`, as the server writes them).
    #[test]
    fn other_lines_are_written_at_once_after_the_ones_before() {
        let out = Out::default();
        // Request lines alone would wait an hour.
        let (log, flusher) = super::batched_with(out.clone(), Duration::from_secs(3600)).unwrap();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(log)
            .with_ansi(false)
            .without_time()
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(target: super::TARGET, n = 1, "request");
            tracing::warn!(target: "imx::elsewhere", "something else");
        });
        wait_for("both lines were written", || {
            out.text().lines().count() == 2
        });
        let text = out.text();
        let (req, other) = (text.find("n=1").unwrap(), text.find("something").unwrap());
        assert!(req < other, "{text}");
        drop(flusher);
    }

    #[test]
    fn dashboard_polls_are_the_debug_ones() {
        assert!(super::is_poll("/api/v1/dashboard/overview"));
        assert!(super::is_poll("/api/v1/dashboard/runs"));
        assert!(!super::is_poll("/api/v1/runs"));
        assert!(!super::is_poll("unmatched"));
    }
}
