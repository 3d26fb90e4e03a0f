//! Connections driven by the thread that uses them, for the request hot path's reads
//! ([`PgStore::read_quick`](super::PgStore::read_quick)).
//!
//! The pool's connections are driven by the [`Bridge`](super::bridge::Bridge)'s thread, and
//! a store call parks its thread off the async workers (`block_in_place`) meanwhile: each
//! round trip is then several hand-offs between threads (the worker's core to another
//! thread, the query to the bridge's, the reply back), which cost far more CPU than a short
//! query. An [`Inline`] connection has no runtime and no thread: its socket is non-blocking,
//! and the caller polls the driver's futures itself, waiting for the socket with `poll(2)`
//! when neither can go on. A read of one page is then one `write`, one `poll` and one `read`
//! on the request's own thread, in place (as the SQLite store's hot-path reads are).
//!
//! A wait longer than [`IN_PLACE`] (a slow or stalled database) goes on off the async workers
//! (`store::off_runtime`), so a stall never holds a worker for longer than that.
//!
//! Nothing drives an idle connection: a ROLLBACK sent as a read ends is written at once
//! ([`Conn::flush`]) and its reply read by the connection's next user, which first checks that
//! the server has not closed it ([`Conn::alive`]). Only TCP hosts are served this way (a
//! Unix-socket host's reads take the pool's connections); the connection's settings are the
//! URL's but for keepalives (a connection lives between short reads) and
//! `target_session_attrs` (the first host that answers is taken).

use std::future::Future;
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::config::Host;
use tokio_postgres::tls::MakeTlsConnect;

use super::config::PgConfig;
use super::errors::{PgError, PgResult};

/// How long a read waits for the database on the calling thread (an async worker, on the
/// server) before the rest of its wait moves off the workers.
pub const IN_PLACE: Duration = Duration::from_millis(5);

/// How long making a connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A connection's I/O, polled until the connection ends.
type Driven = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The socket, shared by the connection (which reads and writes it) and its driver (which
/// waits on it).
struct Shared {
    stream: TcpStream,
    /// The last write would have blocked: wait until the socket takes more.
    want_write: AtomicBool,
}

/// A non-blocking socket as tokio-postgres's stream, without a reactor: what would block is
/// `Pending`, and the driver, which polls everything again after waiting on the socket, does
/// not need a waker for it.
struct Sock(Arc<Shared>);

impl AsyncRead for Sock {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            match (&self.0.stream).read(buf.initialize_unfilled()) {
                Ok(n) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Poll::Pending,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl AsyncWrite for Sock {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            match (&self.0.stream).write(buf) {
                Ok(n) => return Poll::Ready(Ok(n)),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.0.want_write.store(true, Ordering::Relaxed);
                    return Poll::Pending;
                }
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.0.stream.shutdown(std::net::Shutdown::Write))
    }
}

/// Notes that something (a channel between the client and its connection) was woken, so
/// the driver polls again before waiting on the socket.
struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::Release);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.store(true, Ordering::Release);
    }
}

/// One connection: its client, its I/O, and the socket to wait on.
pub(super) struct Conn {
    client: deadpool_postgres::ClientWrapper,
    driven: Mutex<Driven>,
    shared: Arc<Shared>,
    /// The connection has ended (the server closed it, or it broke).
    ended: AtomicBool,
}

impl Conn {
    /// Connect to the first TCP host of `config` that answers; `None` when it names none.
    fn open(config: &PgConfig) -> PgResult<Option<Conn>> {
        let pg = &config.pg;
        let ports = pg.get_ports();
        let mut last = None;
        for (i, host) in pg.get_hosts().iter().enumerate() {
            let Host::Tcp(name) = host else { continue };
            let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
            let addrs = match pg.get_hostaddrs().get(i) {
                Some(ip) => vec![std::net::SocketAddr::new(*ip, port)],
                None => match (name.as_str(), port).to_socket_addrs() {
                    Ok(a) => a.collect(),
                    Err(e) => {
                        last = Some(e);
                        continue;
                    }
                },
            };
            for addr in addrs {
                let timeout = pg.get_connect_timeout().copied().unwrap_or(CONNECT_TIMEOUT);
                match TcpStream::connect_timeout(&addr, timeout) {
                    Ok(stream) => return Conn::start(config, name, stream).map(Some),
                    Err(e) => last = Some(e),
                }
            }
        }
        match last {
            Some(e) => Err(PgError::Imx(crate::Error::io(
                "connecting to the database",
                e,
            ))),
            None => Ok(None),
        }
    }

    /// Log in on `stream` (TLS as the URL says), on this thread.
    fn start(config: &PgConfig, host: &str, stream: TcpStream) -> PgResult<Conn> {
        let io = |e| PgError::Imx(crate::Error::io("connecting to the database", e));
        stream.set_nodelay(true).map_err(io)?;
        stream.set_nonblocking(true).map_err(io)?;
        let shared = Arc::new(Shared {
            stream,
            want_write: AtomicBool::new(false),
        });
        let sock = Sock(shared.clone());
        let pg = &config.pg;
        let (client, driven): (tokio_postgres::Client, Driven) =
            match config.connector().map_err(PgError::Imx)? {
                Some(mut tls) => {
                    let tls = match MakeTlsConnect::<Sock>::make_tls_connect(&mut tls, host) {
                        Ok(t) => t,
                        Err(never) => match never {},
                    };
                    let (client, conn) = wait_for(&shared, pg.connect_raw(sock, tls))??;
                    (client, Box::pin(super::config::drive(conn, None)))
                }
                None => {
                    let (client, conn) =
                        wait_for(&shared, pg.connect_raw(sock, tokio_postgres::NoTls))??;
                    (client, Box::pin(super::config::drive(conn, None)))
                }
            };
        Ok(Conn {
            client: deadpool_postgres::ClientWrapper::new(client, no_task()?),
            driven: Mutex::new(driven),
            shared,
            ended: AtomicBool::new(false),
        })
    }

    /// The client (its statement cache, and tokio-postgres's calls through `Deref`).
    pub(super) fn client(&self) -> &deadpool_postgres::ClientWrapper {
        &self.client
    }

    /// Run `fut` (a call on this connection's client) to completion on this thread, driving
    /// the connection meanwhile: its requests are written, and the replies read, here.
    pub(super) fn block_on<F: Future>(&self, fut: F) -> F::Output {
        let flag = Arc::new(Flag(AtomicBool::new(false)));
        let waker = Waker::from(flag.clone());
        let mut cx = Context::from_waker(&waker);
        let mut fut = pin!(fut);
        let mut driven = self.driven.lock().unwrap_or_else(PoisonError::into_inner);
        let mut waited = Duration::ZERO;
        loop {
            flag.0.store(false, Ordering::Release);
            if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
                return out;
            }
            // Writes what `fut` queued; delivers the replies that came.
            self.shared.want_write.store(false, Ordering::Relaxed);
            if !self.ended.load(Ordering::Relaxed) && driven.as_mut().poll(&mut cx).is_ready() {
                self.ended.store(true, Ordering::Relaxed);
            }
            if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
                return out;
            }
            if flag.0.load(Ordering::Acquire) {
                continue;
            }
            if self.ended.load(Ordering::Relaxed) {
                // Its calls fail once they see the connection gone; nothing to wait on.
                std::thread::sleep(Duration::from_millis(1));
                continue;
            }
            waited += wait(&self.shared, waited);
        }
    }

    /// Drive the connection once, without waiting: write what was queued (a ROLLBACK that
    /// nothing waits for) and read the replies (or the close) that have come.
    pub(super) fn flush(&self) {
        let waker = Waker::from(Arc::new(Flag(AtomicBool::new(false))));
        let mut cx = Context::from_waker(&waker);
        let mut driven = self.driven.lock().unwrap_or_else(PoisonError::into_inner);
        if !self.ended.load(Ordering::Relaxed) && driven.as_mut().poll(&mut cx).is_ready() {
            self.ended.store(true, Ordering::Relaxed);
        }
    }

    /// Whether the connection is still open (what came since it was last used is read first,
    /// so a close by the server is seen).
    fn alive(&self) -> bool {
        self.flush();
        !self.ended.load(Ordering::Relaxed) && !self.client.is_closed()
    }
}

/// The handle of a task that never runs, for the client wrapper (which aborts its
/// connection's task when dropped; this connection has none): spawned on a runtime without
/// I/O, timers or threads that nothing runs.
fn no_task() -> PgResult<tokio::task::JoinHandle<()>> {
    static IDLE: std::sync::OnceLock<Option<tokio::runtime::Runtime>> = std::sync::OnceLock::new();
    match IDLE.get_or_init(|| tokio::runtime::Builder::new_current_thread().build().ok()) {
        Some(rt) => Ok(rt.spawn(async {})),
        None => Err(PgError::Imx(crate::Error::Internal(
            "no runtime for a database connection".into(),
        ))),
    }
}

/// Wait (at most the rest of [`IN_PLACE`] here, then off the async workers) until the socket
/// has something to read, or takes more when a write would have blocked. How long it took.
fn wait(shared: &Shared, waited: Duration) -> Duration {
    let t0 = std::time::Instant::now();
    let left = IN_PLACE.saturating_sub(waited);
    let ms = u16::try_from(left.as_millis()).unwrap_or(u16::MAX);
    if ms == 0 || !poll_socket(shared, PollTimeout::from(ms)) {
        crate::store::off_runtime(|| poll_socket(shared, PollTimeout::NONE));
    }
    t0.elapsed()
}

/// Wait up to `timeout` until the socket has something to read, or takes more when a write
/// would have blocked: whether it is ready (or in error, which shows when it is next read or
/// written).
fn poll_socket(shared: &Shared, timeout: PollTimeout) -> bool {
    let mut flags = PollFlags::POLLIN;
    if shared.want_write.load(Ordering::Relaxed) {
        flags |= PollFlags::POLLOUT;
    }
    let mut fd = [PollFd::new(std::os::fd::AsFd::as_fd(&shared.stream), flags)];
    matches!(poll(&mut fd, timeout), Ok(n) if n > 0)
}

/// Run `fut` (making a connection) on this thread, off the async workers: the socket is
/// waited on as [`Conn::block_on`] does.
fn wait_for<F: Future>(shared: &Arc<Shared>, fut: F) -> PgResult<F::Output> {
    crate::store::off_runtime(|| {
        let flag = Arc::new(Flag(AtomicBool::new(false)));
        let waker = Waker::from(flag.clone());
        let mut cx = Context::from_waker(&waker);
        let mut fut = pin!(fut);
        let deadline = std::time::Instant::now() + CONNECT_TIMEOUT;
        loop {
            flag.0.store(false, Ordering::Release);
            shared.want_write.store(false, Ordering::Relaxed);
            if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
                return Ok(out);
            }
            if flag.0.load(Ordering::Acquire) {
                continue;
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Err(PgError::Imx(crate::Error::io(
                    "connecting to the database",
                    io::Error::from(io::ErrorKind::TimedOut),
                )));
            }
            let ms = u16::try_from(left.as_millis()).unwrap_or(u16::MAX);
            poll_socket(shared, PollTimeout::from(ms));
        }
    })
}

/// The connections for hot-path reads: up to `max` (a quarter of the replica's), made on
/// first use, kept while open.
pub(super) struct Inline {
    config: PgConfig,
    max: usize,
    idle: Mutex<Vec<Conn>>,
    /// Connections that exist (idle or lent).
    open: AtomicUsize,
    /// The URL names no TCP host: reads take the pool's connections.
    none: AtomicBool,
}

impl Inline {
    pub(super) fn new(config: PgConfig, max: usize) -> Inline {
        Inline {
            config,
            max,
            idle: Mutex::new(Vec::new()),
            open: AtomicUsize::new(0),
            none: AtomicBool::new(false),
        }
    }

    /// How many connections exist (idle or lent).
    #[cfg(test)]
    pub(super) fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// An open connection, lent until the returned guard is dropped; `None` when all `max` are
    /// lent or a new one cannot be made now (the caller uses the pool's instead: its error,
    /// if the database is down, is the one to report).
    pub(super) fn take(&self) -> Option<Lent<'_>> {
        if self.none.load(Ordering::Relaxed) {
            return None;
        }
        loop {
            let conn = self
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop();
            match conn {
                Some(c) if c.alive() => {
                    return Some(Lent {
                        conn: Some(c),
                        from: self,
                    });
                }
                Some(c) => {
                    self.open.fetch_sub(1, Ordering::Relaxed);
                    drop(c);
                }
                None => break,
            }
        }
        if self.open.fetch_add(1, Ordering::Relaxed) >= self.max {
            self.open.fetch_sub(1, Ordering::Relaxed);
            return None;
        }
        match crate::store::off_runtime(|| Conn::open(&self.config)) {
            Ok(Some(c)) => Some(Lent {
                conn: Some(c),
                from: self,
            }),
            Ok(None) => {
                self.open.fetch_sub(1, Ordering::Relaxed);
                self.none.store(true, Ordering::Relaxed);
                None
            }
            Err(e) => {
                self.open.fetch_sub(1, Ordering::Relaxed);
                tracing::debug!("a connection for reads could not be made: {e}");
                None
            }
        }
    }
}

/// A connection lent by [`Inline::take`]; back to it when dropped, unless it has ended.
pub(super) struct Lent<'a> {
    /// Always `Some` until dropped.
    conn: Option<Conn>,
    from: &'a Inline,
}

impl Lent<'_> {
    pub(super) fn conn(&self) -> Option<&Conn> {
        self.conn.as_ref()
    }
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        let Some(c) = self.conn.take() else { return };
        if c.ended.load(Ordering::Relaxed) || c.client.is_closed() {
            self.from.open.fetch_sub(1, Ordering::Relaxed);
            return;
        }
        self.from
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(c);
    }
}
