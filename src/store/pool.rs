//! Read connections. WAL lets readers run beside the one writer (and each other), so reads do
//! not queue behind writes or behind each other on the writer's connection: a small pool of
//! read-only connections, opened on first need (a one-command CLI process opens one), handed
//! out one per read transaction and returned when it ends.

use std::sync::{Condvar, Mutex, MutexGuard};

use rusqlite::Connection;

/// The most read connections one store opens.
pub const MAX_READERS: usize = 8;

/// Idle read connections and how many exist.
pub struct ReadPool {
    state: Mutex<PoolState>,
    returned: Condvar,
}

struct PoolState {
    idle: Vec<Connection>,
    /// Connections open, idle or lent out.
    open: usize,
    /// While closed (see [`ReadPool::close`]), nothing is lent and nothing new is opened.
    closed: bool,
    /// Threads waiting in [`ReadPool::take`] or [`ReadPool::close`]: a returned connection
    /// wakes them (a wake-up is a system call, so none when nobody waits).
    waiting: usize,
}

/// A connection lent by the pool; back to the pool on drop.
pub struct Lent<'a> {
    pool: &'a ReadPool,
    conn: Option<Connection>,
}

/// What [`ReadPool::take`] found.
pub enum Take<'a> {
    /// An idle connection.
    Lent(Lent<'a>),
    /// None idle, and the pool may grow: open one and [`ReadPool::lend`] it (the slot is
    /// counted already; [`ReadPool::forget`] it if opening fails).
    Open,
}

impl ReadPool {
    pub fn new() -> Self {
        ReadPool {
            state: Mutex::new(PoolState {
                idle: Vec::new(),
                open: 0,
                closed: false,
                waiting: 0,
            }),
            returned: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, PoolState> {
        // The state stays consistent across a panic (every change is one assignment).
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// An idle connection, or leave to open a new one; waits while every connection is lent
    /// out and the pool is full, or while it is closed.
    pub fn take(&self) -> Take<'_> {
        let mut s = self.lock();
        loop {
            if !s.closed {
                if let Some(conn) = s.idle.pop() {
                    return Take::Lent(self.lend(conn));
                }
                if s.open < MAX_READERS {
                    s.open += 1;
                    return Take::Open;
                }
            }
            s = self.wait(s);
        }
    }

    fn wait<'a>(&self, mut s: MutexGuard<'a, PoolState>) -> MutexGuard<'a, PoolState> {
        s.waiting += 1;
        let mut s = self.returned.wait(s).unwrap_or_else(|p| p.into_inner());
        s.waiting -= 1;
        s
    }

    /// Like [`take`](Self::take), but `None` instead of waiting.
    pub fn try_take(&self) -> Option<Take<'_>> {
        let mut s = self.lock();
        if s.closed {
            return None;
        }
        if let Some(conn) = s.idle.pop() {
            return Some(Take::Lent(self.lend(conn)));
        }
        if s.open < MAX_READERS {
            s.open += 1;
            return Some(Take::Open);
        }
        None
    }

    /// Lend `conn` (newly opened after [`Take::Open`]).
    pub fn lend(&self, conn: Connection) -> Lent<'_> {
        Lent {
            pool: self,
            conn: Some(conn),
        }
    }

    /// A slot given with [`Take::Open`] was not used (the open failed).
    pub fn forget(&self) {
        let mut s = self.lock();
        s.open = s.open.saturating_sub(1);
        let waiting = s.waiting > 0;
        drop(s);
        if waiting {
            self.returned.notify_all();
        }
    }

    /// Stop lending, wait until every connection is back, and close them all (e.g. before the
    /// store file is replaced). Reads wait until [`reopen`](Self::reopen).
    pub fn close(&self) {
        let mut s = self.lock();
        s.closed = true;
        while s.idle.len() < s.open {
            s = self.wait(s);
        }
        s.idle.clear();
        s.open = 0;
    }

    /// Lend again after [`close`](Self::close); connections are opened anew as needed.
    pub fn reopen(&self) {
        self.lock().closed = false;
        self.returned.notify_all();
    }
}

impl Default for ReadPool {
    fn default() -> Self {
        Self::new()
    }
}

impl Lent<'_> {
    /// The connection (always there until the `Lent` is dropped).
    pub fn conn(&mut self) -> Option<&mut Connection> {
        self.conn.as_mut()
    }
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            let mut s = self.pool.lock();
            s.idle.push(conn);
            let waiting = s.waiting > 0;
            drop(s);
            // All: `close` and `take` may both wait, and only one of them can use this.
            if waiting {
                self.pool.returned.notify_all();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    fn lend_new(pool: &ReadPool) -> Lent<'_> {
        match pool.take() {
            Take::Lent(l) => l,
            Take::Open => pool.lend(Connection::open_in_memory().unwrap()),
        }
    }

    #[test]
    fn connections_are_reused_and_the_pool_never_grows_past_its_size() {
        let pool = ReadPool::new();
        let lent: Vec<_> = (0..MAX_READERS).map(|_| lend_new(&pool)).collect();
        assert_eq!(pool.lock().open, MAX_READERS);
        drop(lent);
        assert_eq!(pool.lock().idle.len(), MAX_READERS);
        for _ in 0..10 {
            assert!(matches!(pool.take(), Take::Lent(_)));
            assert!(matches!(pool.try_take(), Some(Take::Lent(_))));
        }
        assert_eq!(pool.lock().open, MAX_READERS);
        let lent: Vec<_> = (0..MAX_READERS).map(|_| lend_new(&pool)).collect();
        assert!(pool.try_take().is_none(), "try_take does not wait");
        drop(lent);
    }

    #[test]
    fn a_full_pool_makes_readers_wait_for_a_returned_connection() {
        let pool = Arc::new(ReadPool::new());
        let lent: Vec<_> = (0..MAX_READERS).map(|_| lend_new(&pool)).collect();
        let (tx, rx) = std::sync::mpsc::channel();
        let waiter = {
            let pool = pool.clone();
            std::thread::spawn(move || {
                let got = matches!(pool.take(), Take::Lent(_));
                tx.send(got).unwrap();
            })
        };
        assert!(
            rx.recv_timeout(Duration::from_millis(100)).is_err(),
            "nothing is free yet"
        );
        drop(lent);
        assert!(rx.recv_timeout(Duration::from_secs(10)).unwrap());
        waiter.join().unwrap();
    }

    #[test]
    fn close_waits_for_lent_connections_and_reads_wait_until_reopen() {
        let pool = Arc::new(ReadPool::new());
        let one = lend_new(&pool);
        let (tx, rx) = std::sync::mpsc::channel();
        let closer = {
            let pool = pool.clone();
            std::thread::spawn(move || {
                pool.close();
                tx.send(()).unwrap();
            })
        };
        assert!(
            rx.recv_timeout(Duration::from_millis(100)).is_err(),
            "close waits for the lent connection"
        );
        drop(one);
        rx.recv_timeout(Duration::from_secs(10)).unwrap();
        closer.join().unwrap();
        assert_eq!(pool.lock().open, 0);
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = {
            let pool = pool.clone();
            std::thread::spawn(move || {
                let fresh = matches!(pool.take(), Take::Open);
                tx.send(fresh).unwrap();
            })
        };
        assert!(
            rx.recv_timeout(Duration::from_millis(100)).is_err(),
            "a closed pool lends nothing"
        );
        pool.reopen();
        assert!(rx.recv_timeout(Duration::from_secs(10)).unwrap());
        reader.join().unwrap();
    }
}
