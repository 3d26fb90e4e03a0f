//! [`PgTx`]: one transaction of the PostgreSQL store, as the store's synchronous operations
//! use it. Each query runs to completion on the calling thread through the store's
//! [`Bridge`]; its error becomes an imx [`Error`], and whether it was a serialization failure
//! or a deadlock is remembered, so [`PgStore::write`](super::PgStore::write) runs the whole
//! body again rather than returning it.
//!
//! The transaction begins with its first statement: BEGIN is sent with it, in the same round
//! trip (the server takes a REPEATABLE READ snapshot at the first statement after BEGIN, not
//! at BEGIN, so nothing is seen differently). A read of one query is then one round trip, and
//! a transaction that runs no statement sends nothing. Dropped without
//! [`commit`](PgTx::commit), a begun transaction sends ROLLBACK without waiting for it: the
//! connection's next user's statements queue behind it.
//!
//! A read may also go *bare* ([`PgTx::bare`]): its first query is sent without BEGIN, as a
//! statement of its own, which is its own snapshot. A read of one query then costs the
//! database one statement instead of three (BEGIN, the query, the ROLLBACK sent as it ends)
//! and its backend one wake-up instead of two. Should the body run a second statement, that
//! statement is not sent: it fails, and the body is to be run again in a transaction
//! ([`PgTx::must_begin`]), as its statements must share one snapshot.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, Ordering};
use std::sync::{Mutex, PoisonError};

use futures_util::future::{join, join_all};

use tokio_postgres::Row;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;

use super::bridge::Bridge;
use super::errors::{PgError, PgResult};
use super::hinter::Hinter;
use super::inline::Conn;
use crate::engine::SpecCache;
use crate::{Error, Result};

/// Query parameters.
pub type Params<'p> = [&'p (dyn ToSql + Sync)];

/// A query parameter owned by a [`Deferred`] write.
pub type Owned = Box<dyn ToSql + Sync + Send>;

/// Owned parameters for [`PgTx::defer`]: each expression boxed as it is.
macro_rules! owned {
    ($($p:expr),* $(,)?) => {
        vec![$(Box::new($p) as $crate::store::postgres::tx::Owned),*]
    };
}
pub(crate) use owned;

/// A write whose result nothing waits for, sent with the transaction's next query (see
/// [`PgTx::defer`]).
pub struct Deferred {
    pub sql: String,
    pub params: Vec<Owned>,
    /// For a guarded update: it must change exactly one row, else it raced another writer
    /// (this says which row, for the error).
    pub guard: Option<String>,
}

/// A transaction on the PostgreSQL store (READ COMMITTED for writes, a read-only snapshot for
/// reads). Dropped without [`commit`](Self::commit), it rolls back.
pub struct PgTx<'a> {
    /// The pooled connection the transaction runs on.
    client: &'a deadpool_postgres::ClientWrapper,
    /// The statement that begins the transaction; sent with the first statement.
    begin: &'static str,
    /// BEGIN was sent: the transaction must end (commit, or ROLLBACK when dropped).
    begun: AtomicBool,
    /// COMMIT was sent (or the transaction otherwise ended): nothing to roll back.
    ended: AtomicBool,
    driver: Driver<'a>,
    /// The database, for messages (no password).
    place: &'a str,
    specs: &'a SpecCache,
    read_only: bool,
    /// A query failed with 40001 or 40P01: the transaction is lost, and worth running again.
    retryable: AtomicBool,
    /// Send other replicas a change hint at commit (see [`super::wakeup`]).
    hint_changes: AtomicBool,
    /// Send other replicas a tokens hint at commit.
    hint_tokens: AtomicBool,
    /// Where a change hint goes after commit instead of with it, while it can send one.
    hinter: Option<&'a Hinter>,
    /// Writes not sent yet (see [`defer`](Self::defer)).
    pending: Mutex<Vec<Deferred>>,
    /// Events not inserted yet (see [`defer_event`](Self::defer_event)).
    events: Mutex<Vec<EventRow>>,
    /// Whether the first query goes without BEGIN, and what came of it (`BARE_*`).
    bare: AtomicU8,
    /// How many times the body sent statements (or tried to).
    statements: AtomicU32,
}

/// Not bare: BEGIN goes with the first statement.
const BARE_NO: u8 = 0;
/// Bare: the first query goes without BEGIN.
const BARE_MAY: u8 = 1;
/// The first query went without BEGIN.
const BARE_SENT: u8 = 2;
/// A second statement came after a bare query: the body must run again in a transaction.
const BARE_AGAIN: u8 = 3;

/// The error of a statement not sent because it would have followed a bare query.
const AGAIN: &str = "a second statement after a query sent without a transaction";

/// What runs a transaction's driver calls to completion on the calling thread.
#[derive(Clone, Copy)]
pub(super) enum Driver<'a> {
    /// A pooled connection, driven by the bridge's thread.
    Bridge(&'a Bridge),
    /// A connection the caller drives itself (see [`super::inline`]).
    Inline(&'a Conn),
}

impl Driver<'_> {
    fn block_on<F: Future>(&self, fut: F) -> F::Output {
        match self {
            Driver::Bridge(b) => b.block_on(fut),
            Driver::Inline(c) => c.block_on(fut),
        }
    }
}

/// An event to insert: time, kind, run, step, data (JSON text).
type EventRow = (i64, String, Option<String>, Option<String>, String);

impl<'a> PgTx<'a> {
    /// A transaction on `client`, not begun yet: `begin` is sent with its first statement.
    pub(super) fn new(
        client: &'a deadpool_postgres::ClientWrapper,
        begin: &'static str,
        driver: Driver<'a>,
        place: &'a str,
        specs: &'a SpecCache,
        read_only: bool,
    ) -> PgTx<'a> {
        PgTx {
            client,
            begin,
            begun: AtomicBool::new(false),
            ended: AtomicBool::new(false),
            driver,
            place,
            specs,
            read_only,
            retryable: AtomicBool::new(false),
            hint_changes: AtomicBool::new(false),
            hint_tokens: AtomicBool::new(false),
            hinter: None,
            pending: Mutex::new(Vec::new()),
            events: Mutex::new(Vec::new()),
            bare: AtomicU8::new(BARE_NO),
            statements: AtomicU32::new(0),
        }
    }

    /// With `bare`, a read-only transaction sends its first query without BEGIN (see the
    /// module's doc): for a body expected to run one query.
    pub(super) fn bare(self, bare: bool) -> Self {
        if bare && self.read_only {
            self.bare.store(BARE_MAY, Ordering::Relaxed);
        }
        self
    }

    /// Change hints go to `hinter` after the commit, not with it, while it is live (see
    /// [`super::hinter`]).
    pub(super) fn hinted(mut self, hinter: &'a Hinter) -> Self {
        self.hinter = Some(hinter);
        self
    }

    /// Whether the body ran a second statement after a bare query, which was not sent: what
    /// the body returned is to be dropped, and the body run again in a transaction.
    pub(super) fn must_begin(&self) -> bool {
        self.bare.load(Ordering::Relaxed) == BARE_AGAIN
    }

    /// How many times the body sent statements (a query, a batch of them, deferred writes).
    pub(super) fn statements(&self) -> u32 {
        self.statements.load(Ordering::Relaxed)
    }

    /// Queue an event for the feed, inserted with the transaction's next query or its commit:
    /// all the events queued by then in one statement, in the order they were queued.
    pub fn defer_event(
        &self,
        time: i64,
        kind: &str,
        run_id: Option<&str>,
        step_id: Option<&str>,
        data: String,
    ) {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((
                time,
                kind.to_string(),
                run_id.map(str::to_string),
                step_id.map(str::to_string),
                data,
            ));
    }

    /// The queued writes, the queued events last as one insert.
    fn take_pending(&self) -> Vec<Deferred> {
        let mut pending =
            std::mem::take(&mut *self.pending.lock().unwrap_or_else(PoisonError::into_inner));
        let events =
            std::mem::take(&mut *self.events.lock().unwrap_or_else(PoisonError::into_inner));
        if events.is_empty() {
            return pending;
        }
        let mut cols = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (time, kind, run, step, data) in events {
            cols.0.push(time);
            cols.1.push(kind);
            cols.2.push(run);
            cols.3.push(step);
            cols.4.push(data);
        }
        pending.push(Deferred {
            sql: "INSERT INTO events (time, kind, run_id, step_id, data)
                  SELECT time, kind, run_id, step_id, data
                  FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[])
                       WITH ORDINALITY AS e(time, kind, run_id, step_id, data, n)
                  ORDER BY n"
                .into(),
            params: owned![cols.0, cols.1, cols.2, cols.3, cols.4],
            guard: None,
        });
        pending
    }

    /// Queue a write to be sent with the next query or the commit, pipelined with them (one
    /// round trip, one wait on this thread, for all of them). For writes nothing reads the
    /// result of but a guard: its failure is reported by that next query or the commit, which
    /// fail the transaction as the write itself would have.
    ///
    /// A guarded write (an UPDATE or DELETE that must change exactly one row) is sent as
    /// [`guarded`] makes it: one that changes no row fails in the server and aborts the
    /// transaction, so it can go in the same round trip as COMMIT (which then rolls back).
    pub fn defer(&self, sql: String, params: Vec<Owned>, guard: Option<String>) {
        let sql = match guard {
            Some(_) => guarded(&sql),
            None => sql,
        };
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Deferred { sql, params, guard });
    }

    /// This transaction changes what waiters wait for (runs, steps, events, log lines): other
    /// replicas are told when it commits.
    pub fn hint_changes(&self) {
        self.hint_changes.store(true, Ordering::Relaxed);
    }

    /// This transaction revokes tokens or changes users: other replicas' token caches forget
    /// what they verified when it commits.
    pub fn hint_tokens(&self) {
        self.hint_tokens.store(true, Ordering::Relaxed);
    }

    /// Workflow versions indexed for transitions (the store's cache).
    pub fn specs(&self) -> &SpecCache {
        self.specs
    }

    /// Whether this is a read-only snapshot (no row locks can be taken in it).
    pub fn read_only(&self) -> bool {
        self.read_only
    }

    /// Whether a query of this transaction failed in a way that running it again may fix.
    pub(super) fn retryable(&self) -> bool {
        self.retryable.load(Ordering::Relaxed)
    }

    /// `fut`, after BEGIN when the transaction has not begun: BEGIN is queued on the connection
    /// when this is first polled, before anything `fut` sends, so both go in one round trip.
    /// `query`: `fut` is one query, which a bare transaction sends without BEGIN if it is its
    /// first (a second is not sent at all: see [`must_begin`](Self::must_begin)).
    async fn begun_with<T>(
        &self,
        query: bool,
        fut: impl Future<Output = PgResult<T>>,
    ) -> PgResult<T> {
        self.statements.fetch_add(1, Ordering::Relaxed);
        if self.begun.load(Ordering::Relaxed) {
            return fut.await;
        }
        match self.bare.load(Ordering::Relaxed) {
            BARE_MAY if query => {
                self.bare.store(BARE_SENT, Ordering::Relaxed);
                return fut.await;
            }
            BARE_SENT | BARE_AGAIN => {
                self.bare.store(BARE_AGAIN, Ordering::Relaxed);
                return Err(PgError::Imx(Error::Internal(AGAIN.into())));
            }
            // Not bare, or its first statement is more than one query: a transaction.
            _ => {}
        }
        self.begun.store(true, Ordering::Relaxed);
        let (begun, out) = join(self.client.batch_execute(self.begin), fut).await;
        // A failed BEGIN is the error, not what it made of the statement after it.
        begun?;
        out
    }

    /// Run `fut` (a driver call on this transaction) to completion here, after the deferred
    /// writes (sent first, in order, in the same round trip).
    /// `query`: `fut` is one query (see [`begun_with`](Self::begun_with)).
    fn run<T>(&self, query: bool, fut: impl Future<Output = PgResult<T>>) -> Result<T> {
        let pending = self.take_pending();
        if pending.is_empty() {
            return self
                .driver
                .block_on(self.begun_with(query, fut))
                .map_err(|e| self.error(e));
        }
        let (written, out) = self
            .driver
            .block_on(self.begun_with(false, self.with_writes(&pending, fut)))
            .map_err(|e| self.error(e))?;
        self.check_writes(&pending, written)?;
        out.map_err(|e| self.error(e))
    }

    /// The deferred writes `pending`, then `fut`: every write is queued on the connection when
    /// first polled, in order, and `fut`'s statement after them, so all go in one round trip.
    /// Each write's outcome, and `fut`'s.
    async fn with_writes<T>(
        &self,
        pending: &[Deferred],
        fut: impl Future<Output = T>,
    ) -> PgResult<(Vec<std::result::Result<u64, tokio_postgres::Error>>, T)> {
        let mut stmts = Vec::with_capacity(pending.len());
        for d in pending {
            stmts.push(self.client.prepare_cached(&d.sql).await?);
        }
        let writes = join_all(pending.iter().zip(&stmts).map(|(d, stmt)| {
            let params: Vec<&(dyn ToSql + Sync)> = d
                .params
                .iter()
                .map(|p| p.as_ref() as &(dyn ToSql + Sync))
                .collect();
            async move { self.client.execute(stmt, &params).await }
        }));
        Ok(join(writes, fut).await)
    }

    /// The outcome of deferred writes sent together: a failed write aborted the transaction,
    /// so its error (not a later statement's) is the one; a guard that matched no row is a
    /// conflict.
    fn check_writes(
        &self,
        pending: &[Deferred],
        written: Vec<std::result::Result<u64, tokio_postgres::Error>>,
    ) -> Result<()> {
        for (d, n) in pending.iter().zip(written) {
            let conflict = |what: &str| {
                Error::Conflict(format!(
                    "{what} changed while the transition was applied; try again"
                ))
            };
            match (n, &d.guard) {
                (Err(e), Some(what)) if e.code() == Some(&SqlState::DIVISION_BY_ZERO) => {
                    return Err(conflict(what));
                }
                (Err(e), _) => return Err(self.error(e.into())),
                (Ok(n), Some(what)) if n != 1 => return Err(conflict(what)),
                (Ok(_), _) => {}
            }
        }
        Ok(())
    }

    /// Send the deferred writes now (before a driver call made without
    /// [`block`](Self::block)).
    pub fn flush(&self) -> Result<()> {
        let nothing = self
            .pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_empty()
            && self
                .events
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .is_empty();
        if self.read_only && nothing {
            // Nothing to send: a read is not begun for nothing (nor its bare query followed).
            return Ok(());
        }
        self.run(false, async { Ok(()) })
    }

    fn error(&self, e: PgError) -> Error {
        if e.is_retryable() {
            self.retryable.store(true, Ordering::Relaxed);
        }
        e.into_error(self.place)
    }

    /// Run a statement; how many rows it changed.
    pub fn execute(&self, sql: &str, params: &Params<'_>) -> Result<u64> {
        self.run(false, async {
            let stmt = self.client.prepare_cached(sql).await?;
            Ok(self.client.execute(&stmt, params).await?)
        })
    }

    /// Every row of a query.
    pub fn query(&self, sql: &str, params: &Params<'_>) -> Result<Vec<Row>> {
        self.run(true, async {
            let stmt = self.client.prepare_cached(sql).await?;
            Ok(self.client.query(&stmt, params).await?)
        })
    }

    /// The row of a query that returns at most one.
    pub fn query_opt(&self, sql: &str, params: &Params<'_>) -> Result<Option<Row>> {
        self.run(true, async {
            let stmt = self.client.prepare_cached(sql).await?;
            Ok(self.client.query_opt(&stmt, params).await?)
        })
    }

    /// The row of a query that returns exactly one.
    pub fn query_one(&self, sql: &str, params: &Params<'_>) -> Result<Row> {
        self.run(true, async {
            let stmt = self.client.prepare_cached(sql).await?;
            Ok(self.client.query_one(&stmt, params).await?)
        })
    }

    /// The transaction's connection, for the module's async building blocks (claims, audit,
    /// feed); run what they return with [`block`](Self::block), which begins the transaction
    /// first.
    pub fn inner(&self) -> &deadpool_postgres::ClientWrapper {
        self.client
    }

    /// Run a future of the module's async building blocks on this transaction to completion.
    pub fn block<T>(&self, fut: impl Future<Output = PgResult<T>>) -> Result<T> {
        self.run(false, fut)
    }

    /// Commit; on failure, the error and whether running the transaction again may succeed.
    /// The deferred writes, the change hints and COMMIT go in one round trip (after BEGIN if
    /// nothing was sent yet). A write that fails (a guard that matched no row fails in the
    /// server: see [`guarded`]) aborts the transaction, so the COMMIT after it commits nothing
    /// (the server answers it with a rollback, or skips it after a failed hint; this is then
    /// rolled back when dropped), and the write's error is returned. A transaction that never
    /// began and has nothing to send has nothing to commit.
    pub(super) fn commit(self) -> std::result::Result<(), (Error, bool)> {
        let pending = self.take_pending();
        let changes = self.hint_changes.load(Ordering::Relaxed);
        // The change hint after the commit: see `super::hinter`.
        let after = self.hinter.filter(|h| changes && h.live());
        let hints = super::wakeup::commit_sql(
            changes && after.is_none(),
            self.hint_tokens.load(Ordering::Relaxed),
        );
        if pending.is_empty() && hints.is_none() && !self.begun.load(Ordering::Relaxed) {
            return Ok(());
        }
        // One simple query (the hints end in "; "): should they fail, the server skips the
        // COMMIT.
        let mut sql = hints.unwrap_or_default();
        sql.push_str("COMMIT");
        let (written, committed) = self
            .driver
            .block_on(self.begun_with(
                false,
                self.with_writes(&pending, self.client.batch_execute(&sql)),
            ))
            .map_err(|e| (self.error(e), self.retryable()))?;
        self.check_writes(&pending, written)
            .map_err(|e| (e, self.retryable()))?;
        committed.map_err(|e| {
            let e = PgError::from(e);
            let again = e.is_retryable();
            (e.into_error(self.place), again)
        })?;
        self.ended.store(true, Ordering::Relaxed);
        if let Some(h) = after {
            h.poke();
        }
        Ok(())
    }
}

/// `sql`, an UPDATE or DELETE without RETURNING, made to fail (division by zero, SQLSTATE
/// 22012) unless it changes exactly one row: a guard the server enforces, so a transition
/// applied from rows that changed meanwhile aborts its transaction even when its COMMIT was
/// sent with it.
fn guarded(sql: &str) -> String {
    format!("WITH guarded AS ({sql} RETURNING 1) SELECT 1 / (count(*) = 1)::int FROM guarded")
}

impl Drop for PgTx<'_> {
    /// Roll a begun transaction back, without waiting: the ROLLBACK is queued on the
    /// connection now (polling the call once sends it), and its reply is read and dropped by
    /// the connection's driver, before any later statement's.
    fn drop(&mut self) {
        if self.begun.load(Ordering::Relaxed) && !self.ended.load(Ordering::Relaxed) {
            let _ = futures_util::FutureExt::now_or_never(self.client.batch_execute("ROLLBACK"));
            if let Driver::Inline(conn) = self.driver {
                conn.flush();
            }
        }
    }
}

/// A column read as a `u32` (PostgreSQL BIGINT); out of range reads as a store error.
pub fn get_u32(row: &Row, idx: usize) -> Result<u32> {
    let v: i64 = row.try_get(idx).map_err(|e| Error::Store(e.to_string()))?;
    u32::try_from(v).map_err(|_| Error::Store(format!("column {idx}: {v} is out of range")))
}

/// A column of any type, its error a store error.
pub fn get<'r, T: tokio_postgres::types::FromSql<'r>>(row: &'r Row, idx: usize) -> Result<T> {
    row.try_get(idx)
        .map_err(|e| Error::Store(format!("column {idx}: {e}")))
}
