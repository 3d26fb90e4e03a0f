//! Connections: the accept loop under [`serve_with`](super::serve_with), with the limits that
//! keep slow or silent clients from holding the server ([`ConnLimits`]):
//!
//! - **A cap on open connections** (`--max-connections`), below the process's open-file limit
//!   ([`open_file_limit`]): a connection over the cap is answered 503 (plain HTTP) and closed at
//!   once, so the server keeps descriptors for its store, its logs and the clients it serves.
//! - **A header-read timeout**: a request head must arrive within `header_timeout` (10 s) of its
//!   first byte — of the connection's start, for a new connection — or the connection is closed.
//! - **An idle timeout**: a kept-alive connection with no request in flight is closed after
//!   `idle_timeout`. (A request in flight is bounded by `limits::REQUEST_TIMEOUT` instead.)
//! - **A write stall timeout**: a response (or event stream) the client stops reading is
//!   abandoned, and the connection closed, once no byte of it could be written for
//!   `write_timeout` (60 s): `REQUEST_TIMEOUT` ends when a response starts, so without this a
//!   client that never reads a large response would hold its connection forever. A slow reader
//!   that keeps reading is never cut off: each write that goes through starts the wait again.
//!
//! Both timeouts are one timer in hyper (it waits for a request head from the moment the
//! previous response is sent), so each connection gets a [`HeadTimer`] that measures that wait
//! as idle until the first byte of the next request arrives, and as reading a head from then on.
//! TLS handshakes happen in each connection's own task, inside the cap, with their own timeout.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;

/// How long a request head may take from its first byte (and a new connection from its start).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a kept-alive connection may wait for its next request. Above the idle timeouts of
/// common load balancers (60 s), so they close first and never reuse a connection being closed.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(75);

/// How long a write to a client may make no progress before the connection is closed.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(60);

/// The default cap on open connections never exceeds this (`--max-connections` may).
pub const MAX_CONNECTIONS_DEFAULT_CAP: usize = 10_000;

/// How long a client may take to finish its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// What a connection over the cap is told before it is closed (plain HTTP only).
static BUSY: std::sync::LazyLock<Vec<u8>> = std::sync::LazyLock::new(|| {
    let body = r#"{"error":{"code":"unavailable","message":"the server has too many open connections; retry after 1s","details":null}}"#;
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         retry-after: 1\r\ncache-control: no-store\r\nconnection: close\r\n\
         content-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
});

/// How many connections a server holds, and for how long it waits on a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnLimits {
    /// Open connections at most; more are refused.
    pub max_connections: usize,
    /// See [`HEADER_TIMEOUT`].
    pub header_timeout: Duration,
    /// See [`IDLE_TIMEOUT`].
    pub idle_timeout: Duration,
    /// See [`WRITE_TIMEOUT`].
    pub write_timeout: Duration,
}

impl Default for ConnLimits {
    fn default() -> Self {
        ConnLimits {
            max_connections: default_max_connections(open_file_limit()),
            header_timeout: HEADER_TIMEOUT,
            idle_timeout: IDLE_TIMEOUT,
            write_timeout: WRITE_TIMEOUT,
        }
    }
}

/// Connections the kernel may queue before the server accepts them. std's default (128) drops
/// the SYNs of a burst of new clients, which then wait a second to retry.
const BACKLOG: u32 = 1024;

/// A listener on `addr` (port 0 picks a free one) with room for bursts of new connections.
pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

/// The process's soft limit on open files (`RLIMIT_NOFILE`); `None` when unlimited or unknown.
pub fn open_file_limit() -> Option<u64> {
    use nix::sys::resource::{RLIM_INFINITY, Resource, getrlimit};
    getrlimit(Resource::RLIMIT_NOFILE)
        .ok()
        .map(|(soft, _)| soft)
        .filter(|&soft| soft != RLIM_INFINITY)
}

/// Descriptors to keep for everything but client connections (the store, its journal, log
/// files, backups, embedded agents' pipes) out of an open-file limit of `limit`.
pub fn reserved_descriptors(limit: u64) -> u64 {
    (limit / 4).max(64).min(limit / 2)
}

/// The default cap on connections for an open-file limit: the limit less
/// [`reserved_descriptors`], at most [`MAX_CONNECTIONS_DEFAULT_CAP`], at least 1.
pub fn default_max_connections(open_files: Option<u64>) -> usize {
    let cap = MAX_CONNECTIONS_DEFAULT_CAP;
    match open_files {
        Some(limit) => usize::try_from(limit - reserved_descriptors(limit))
            .unwrap_or(cap)
            .clamp(1, cap),
        None => cap,
    }
}

/// Accept connections on `listener` and serve `app` on each (over TLS with `tls`) until
/// `shutdown` resolves; then stop accepting, let every connection finish its request in
/// flight, and return when all are closed.
pub(super) async fn serve(
    listener: TcpListener,
    tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
    app: axum::Router,
    limits: ConnLimits,
    shutdown: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let tls = tls.map(TlsAcceptor::from);
    let mut shutdown = std::pin::pin!(shutdown);
    let mut refusals = Refusals::default();
    loop {
        let accepted = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(conn) => conn,
            Err(e) => {
                accept_failed(&e).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            refuse(&stream, tls.is_some());
            refusals.count(limits.max_connections);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let watcher = graceful.watcher();
        let app = app.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let _slot = slot;
            match tls {
                None => serve_one(stream, peer, app, limits, watcher).await,
                Some(tls) => {
                    // A failed or slow handshake only costs that client its connection.
                    if let Ok(Ok(stream)) =
                        tokio::time::timeout(HANDSHAKE_TIMEOUT, tls.accept(stream)).await
                    {
                        serve_one(stream, peer, app, limits, watcher).await;
                    }
                }
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// An accept error: a connection reset before it was accepted costs nothing; anything else
/// (out of descriptors) is logged and the loop backs off a little.
async fn accept_failed(e: &io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset, Interrupted};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset | Interrupted
    ) {
        return;
    }
    tracing::warn!(error = %e, "cannot accept a connection");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// Close a connection over the cap; a plain-HTTP client is told why first (if the socket takes
/// the bytes at once: nothing waits on a client that is not reading).
fn refuse(stream: &TcpStream, tls: bool) {
    if !tls {
        let _ = stream.try_write(&BUSY);
    }
}

/// Connections refused over the cap, logged at most every [`Refusals::EVERY`] so a flood of
/// them does not flood the log too.
#[derive(Default)]
struct Refusals {
    since_logged: u64,
    logged: Option<Instant>,
}

impl Refusals {
    const EVERY: Duration = Duration::from_secs(10);

    fn count(&mut self, cap: usize) {
        self.since_logged += 1;
        if self.logged.is_none_or(|at| at.elapsed() >= Self::EVERY) {
            tracing::warn!(
                refused = self.since_logged,
                max_connections = cap,
                "refused connections: --max-connections reached"
            );
            self.since_logged = 0;
            self.logged = Some(Instant::now());
        }
    }
}

/// Serve HTTP/1.1 on one connection until it closes, times out, or shutdown begins.
async fn serve_one<S>(
    stream: S,
    peer: SocketAddr,
    app: axum::Router,
    limits: ConnLimits,
    watcher: Watcher,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let read = Arc::new(AtomicU64::new(0));
    let io = TokioIo::new(Counted {
        inner: stream,
        read: read.clone(),
        write_timeout: limits.write_timeout,
        stalled: None,
    });
    let timer = HeadTimer {
        read,
        header: limits.header_timeout,
        idle: limits.idle_timeout,
    };
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        let mut app = app.clone();
        async move { tower_service::Service::call(&mut app, req).await }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(timer)
        .header_read_timeout(limits.header_timeout)
        .serve_connection(io, service);
    // Errors are the client's (a reset, a timeout, a malformed request): the connection ends.
    let _ = watcher.watch(conn).await;
}

/// A connection's stream, counting the bytes read from it (for [`HeadTimer`]), and failing a
/// write that has made no progress for `write_timeout` (the client stopped reading).
struct Counted<S> {
    inner: S,
    read: Arc<AtomicU64>,
    write_timeout: Duration,
    /// Since when writes have been waiting on the client (armed by the first write that could
    /// not go through, disarmed by the next that does).
    stalled: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<S> Counted<S> {
    /// `polled`, a write-side poll of the stream, unless the writes have been stuck for
    /// `write_timeout`: then an error, which ends the connection.
    fn unless_stalled<T>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        if polled.is_ready() {
            self.stalled = None;
            return polled;
        }
        let timeout = self.write_timeout;
        let stalled = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        match stalled.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client read nothing of the response for the write timeout",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Counted<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        let n = buf.filled().len().saturating_sub(before);
        if n > 0 {
            this.read.fetch_add(n as u64, Ordering::Relaxed);
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counted<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.unless_stalled(cx, polled)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.unless_stalled(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_flush(cx);
        this.unless_stalled(cx, polled)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_shutdown(cx);
        this.unless_stalled(cx, polled)
    }
}

/// One connection's timer for hyper, which uses a server's timer only to wait for a request
/// head. Each wait is idle (`idle` long) until a byte of the next request arrives, then reading
/// a head (`header` from that byte); on a new connection it is reading from the start.
#[derive(Clone)]
struct HeadTimer {
    read: Arc<AtomicU64>,
    header: Duration,
    idle: Duration,
}

impl hyper::rt::Timer for HeadTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        self.sleep_until(Instant::now() + duration)
    }

    /// The deadline hyper asks for (`header_read_timeout` from now) is replaced by the rule
    /// above.
    fn sleep_until(&self, _deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        let seen = self.read.load(Ordering::Relaxed);
        let reading = seen == 0;
        let wait = if reading { self.header } else { self.idle };
        Box::pin(HeadWait {
            read: self.read.clone(),
            seen,
            reading,
            header: self.header,
            sleep: Box::pin(tokio::time::sleep(wait)),
        })
    }
}

/// One wait for a request head (see [`HeadTimer`]).
struct HeadWait {
    read: Arc<AtomicU64>,
    /// Bytes read when the wait began.
    seen: u64,
    /// Whether a head is being read (else the connection is idle).
    reading: bool,
    header: Duration,
    sleep: Pin<Box<tokio::time::Sleep>>,
}

impl Future for HeadWait {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        // hyper polls this after each read that did not finish the head, so the first byte of
        // a request is noticed here as soon as it is read.
        if !this.reading && this.read.load(Ordering::Relaxed) != this.seen {
            this.reading = true;
            this.sleep
                .as_mut()
                .reset(tokio::time::Instant::now() + this.header);
        }
        this.sleep.as_mut().poll(cx)
    }
}

impl hyper::rt::Sleep for HeadWait {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_cap_leaves_descriptors_for_everything_else() {
        assert_eq!(default_max_connections(Some(256)), 192);
        assert_eq!(default_max_connections(Some(1024)), 768);
        assert_eq!(default_max_connections(Some(64)), 32);
        assert_eq!(default_max_connections(Some(1)), 1);
        assert_eq!(
            default_max_connections(Some(1 << 20)),
            MAX_CONNECTIONS_DEFAULT_CAP
        );
        assert_eq!(default_max_connections(None), MAX_CONNECTIONS_DEFAULT_CAP);
    }
}
