//! The store behind backend-neutral traits (issue 11, DESIGN §2): what callers outside
//! `src/store/` do with a store, whichever backend holds it (SQLite, the default; PostgreSQL
//! for `imx server` replicas).
//!
//! - [`StoreTx`]: one transaction, with every operation callers use, grouped by what they touch
//!   ([`RunsTx`], [`WorkflowsTx`], [`AgentsTx`], [`ClaimsTx`], [`UsersTx`], [`ViewsTx`],
//!   [`DashboardTx`], [`SettingsTx`], [`TriggersTx`], [`RetentionTx`], [`NotifyTx`], [`SecretsTx`], [`ArtifactsTx`], and the audit and
//!   logical-backup access
//!   traits). Each method is one step inside the caller's transaction, with model types in and
//!   out.
//! - [`Backend`]: an open store: write and read transactions, the change feed, the workflow
//!   index cache, and [`Backend::as_sqlite`] for what only a SQLite file can do (physical
//!   snapshots and restores).
//!
//! The SQLite store implements every trait (`store::sqlite`, forwarding to its functions).

pub mod agents;
pub mod artifacts;
pub mod claims;
pub mod notify;
pub mod retention;
pub mod runs;
pub mod schedules;
pub mod secrets;
pub mod settings;
pub mod triggers;
pub mod users;
pub mod views;

pub use agents::AgentsTx;
pub use artifacts::ArtifactsTx;
pub use claims::{Claimed, ClaimsTx, Completed};
pub use notify::NotifyTx;
pub use retention::RetentionTx;
pub use runs::{RunRequest, RunsTx, WorkflowsTx};
pub use schedules::{NewTick, SchedulesTx};
pub use secrets::{SealedAt, SealedValue, SecretRecord, SecretsTx};
pub use settings::SettingsTx;
pub use triggers::{TriggerRecord, TriggersTx};
pub use users::{LoginRow, TokenInsert, TokenRow, UsersTx};
pub use views::{DashboardTx, StatusCounts, ViewsTx};

use crate::engine::SpecCache;
use crate::store::Store;
use crate::store::feed::ChangeFeed;
use crate::{Error, Result};

/// One transaction of a store, with everything callers may do inside it. Callers take it as
/// `&dyn StoreTx` (see [`crate::store::Tx`]); `&dyn StoreTx` also passes as
/// `&dyn AuditStore` and `&dyn Tables`.
pub trait StoreTx:
    RunsTx
    + WorkflowsTx
    + AgentsTx
    + ClaimsTx
    + UsersTx
    + ViewsTx
    + DashboardTx
    + SettingsTx
    + TriggersTx
    + RetentionTx
    + SchedulesTx
    + NotifyTx
    + SecretsTx
    + ArtifactsTx
    + crate::audit::AuditStore
    + crate::backup::logical::Tables
{
}

impl<T> StoreTx for T where
    T: RunsTx
        + WorkflowsTx
        + AgentsTx
        + ClaimsTx
        + UsersTx
        + ViewsTx
        + DashboardTx
        + SettingsTx
        + TriggersTx
        + RetentionTx
        + SchedulesTx
        + NotifyTx
        + SecretsTx
        + ArtifactsTx
        + crate::audit::AuditStore
        + crate::backup::logical::Tables
{
}

/// The body of a transaction, as the object-safe methods of [`Backend`] take it. It may run
/// more than once: a backend may run a write again after a serialization failure, so it must
/// not have effects outside the transaction it is given (or only idempotent ones).
pub type Body<'f> = &'f mut dyn FnMut(&dyn StoreTx) -> Result<()>;

/// Where in the code a read is made (its caller's place, as `#[track_caller]` gives it): a
/// backend may learn from a place's reads how to make its next ones.
pub type Site = &'static std::panic::Location<'static>;

/// An open store, whichever backend. Object safe: callers hold `Arc<dyn Backend>` and use the
/// generic wrappers on `dyn Backend` ([`write`](#method.write), [`read`](#method.read), …),
/// which hand results out of the body through a slot.
pub trait Backend: Send + Sync {
    /// Run `body` in one write transaction; commit if it returns `Ok`, and wake followers
    /// (the [`feed`](Self::feed)). On an error nothing is committed. The body may run again
    /// when the backend retries the transaction (serialization failure, deadlock).
    fn write_tx(&self, body: Body<'_>) -> Result<()>;
    /// [`write_tx`](Self::write_tx), with the commit durable (on disk) before it returns: for
    /// commits something outside the store relies on next (an audit checkpoint's signature).
    fn write_durable_tx(&self, body: Body<'_>) -> Result<()>;
    /// Run `body` on a consistent read snapshot (it never waits for writers). May scan.
    fn read_tx(&self, body: Body<'_>) -> Result<()>;
    /// [`read_tx`](Self::read_tx) for the request hot path: a read bounded to a page or a few
    /// rows by an index, which the backend may run in place on an async worker. Never scans.
    /// `site`: where it is made from (PostgreSQL sends a read of one query without a
    /// transaction when the last read from there ran one).
    fn read_quick_tx(&self, site: Site, body: Body<'_>) -> Result<()>;
    /// Wake-ups when the store changes (commits of this process and of others).
    fn feed(&self) -> &ChangeFeed;
    /// Workflow versions indexed for transitions (immutable once stored, so cached).
    fn specs(&self) -> &SpecCache;
    /// Where the store is, for people: a SQLite file's path; a database URL without its
    /// password.
    fn location(&self) -> String;
    /// Whether opening it created it.
    fn created(&self) -> bool;
    /// The schema version recorded in the store.
    fn schema_version(&self) -> Result<i64>;
    /// Run `body` as periodic maintenance (reaping expired leases, timing out overdue runs):
    /// `Ok(false)` when this process is not to do it now. On a store shared by replicas
    /// (PostgreSQL) only the replica holding the maintenance lease runs it, in a write
    /// transaction fenced by the lease's term; by default (SQLite, whose one writer serialises
    /// every process) it is a plain write.
    fn maintain_tx(&self, body: Body<'_>) -> Result<bool> {
        self.write_tx(body).map(|()| true)
    }
    /// Whether this process does the store's periodic maintenance now: `None` when every
    /// process does (SQLite), else whether this replica holds the maintenance lease (and from
    /// the first call, competes for it).
    fn maintenance_leader(&self) -> Option<bool> {
        None
    }
    /// Make every change committed so far readable by the feeds' cursors (`events_after`,
    /// `log_marks`, `log_page`): call it before a read that pages a feed. A no-op where ids
    /// already follow commit order (SQLite's one writer); on PostgreSQL it numbers committed
    /// rows in commit order (`store::postgres::sequence`), which only feed readers need, so
    /// other reads and writes never wait for it.
    fn sync_feeds(&self) -> Result<()> {
        Ok(())
    }
    /// Whether writes made at once on the agents' hot path (claims, step starts, logs,
    /// completions) should share a transaction (`control::local::combine`): where a commit
    /// costs a round trip and a disk flush, and concurrent transactions queue on a run's row
    /// lock (PostgreSQL). `false` where a commit is cheap and writers are serialised anyway
    /// (SQLite).
    fn combines_writes(&self) -> bool {
        false
    }
    /// The SQLite store, if this is one: for what only a SQLite file can do (physical
    /// snapshots, backups and restores of the file). `None` on every other backend.
    fn as_sqlite(&self) -> Option<&Store> {
        None
    }
}

/// Run `f` through one of the object-safe transaction methods (`run`), passing its result out
/// through a slot: `Ok` with no result means the backend never ran the body (its defect, not a
/// user's).
fn slotted<T>(
    run: impl FnOnce(Body<'_>) -> Result<()>,
    mut f: impl FnMut(&dyn StoreTx) -> Result<T>,
) -> Result<T> {
    let mut out = None;
    run(&mut |tx| {
        out = Some(f(tx)?);
        Ok(())
    })?;
    out.ok_or_else(|| Error::Internal("the store returned without running the transaction".into()))
}

impl dyn Backend + '_ {
    /// Run `f` in one write transaction and return what it returns (see
    /// [`Backend::write_tx`]; `f` may run more than once).
    pub fn write<T>(&self, f: impl FnMut(&dyn StoreTx) -> Result<T>) -> Result<T> {
        slotted(|body| self.write_tx(body), f)
    }

    /// [`write`](#method.write), durable before it returns (see [`Backend::write_durable_tx`]).
    pub fn write_durable<T>(&self, f: impl FnMut(&dyn StoreTx) -> Result<T>) -> Result<T> {
        slotted(|body| self.write_durable_tx(body), f)
    }

    /// Run `f` on a read snapshot and return what it returns (see [`Backend::read_tx`]).
    pub fn read<T>(&self, f: impl FnMut(&dyn StoreTx) -> Result<T>) -> Result<T> {
        slotted(|body| self.read_tx(body), f)
    }

    /// [`read_quick`](Self::read_quick) of a page of a feed (events, log lines and their
    /// cursors): the snapshot sees every change committed before the call in its place
    /// ([`Backend::sync_feeds`]).
    #[track_caller]
    pub fn read_feeds<T>(&self, f: impl FnMut(&dyn StoreTx) -> Result<T>) -> Result<T> {
        let site = std::panic::Location::caller();
        self.sync_feeds()?;
        slotted(|body| self.read_quick_tx(site, body), f)
    }

    /// Run `f` as periodic maintenance and return what it returns, or `None` when this
    /// process is not to do it now (see [`Backend::maintain_tx`]).
    pub fn maintain<T>(&self, f: impl FnMut(&dyn StoreTx) -> Result<T>) -> Result<Option<T>> {
        let mut skipped = false;
        let out = slotted(
            |body| {
                if self.maintain_tx(body)? {
                    Ok(())
                } else {
                    skipped = true;
                    Err(Error::Conflict("not this process's maintenance".into()))
                }
            },
            f,
        );
        match out {
            Err(_) if skipped => Ok(None),
            other => other.map(Some),
        }
    }

    /// A bounded read on the hot path (see [`Backend::read_quick_tx`]).
    #[track_caller]
    pub fn read_quick<T>(&self, f: impl FnMut(&dyn StoreTx) -> Result<T>) -> Result<T> {
        let site = std::panic::Location::caller();
        slotted(|body| self.read_quick_tx(site, body), f)
    }
}
