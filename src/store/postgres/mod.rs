//! The PostgreSQL store's building blocks (DESIGN §12), for `imx server` replicas sharing one
//! database: each piece is here on its own, with tests against a real PostgreSQL, ready for a
//! `PgStore` behind the store boundary.
//!
//! - [`config`]: [`PgConfig`] from a `postgres://` URL; the pool (deadpool), TLS (rustls),
//!   dedicated connections.
//! - [`migrate`]: versioned, append-only migrations under an advisory lock; a newer schema is
//!   refused.
//! - [`retry`]: READ COMMITTED transactions, run again on serialization failure or deadlock.
//! - [`claims`]: picking ready steps with `FOR UPDATE SKIP LOCKED` (granted by
//!   `store::flow::claims`).
//! - [`transitions`]: the store's `store::flow::Rows` — the rows the engine's transitions read,
//!   locked (the run row first), and the changeset applied (`apply`) with guarded updates;
//!   [`workflows`], [`runs`], [`agents`], [`reap`], [`settings`], [`users`]: the rest of the
//!   store's SQL, as the SQLite store's (`store::sqlite`). The orchestration (load, decide
//!   with the engine, apply) is `store::flow`, shared with SQLite.
//! - [`wakeup`]: LISTEN/NOTIFY hints on a dedicated connection, debounced, with polling;
//!   [`wake_feed`] connects them to a store's change feed and token caches.
//! - [`leader`]: one maintenance leader at a time (a lease row), taken over within a lease;
//!   [`PgStore::maintain`] runs maintenance only on it, fenced by its term.
//! - [`sequence`]: `feed_seq`, the commit order the event feed and log lines are paged by
//!   (numbered after commit, one sequencer at a time), so no row committed out of id order is
//!   skipped.
//! - [`audit`]: appending to one linear audit chain from every replica (a locked head row).
//! - [`store`]: [`PgStore`], opened from a URL; its transactions ([`PgTx`]), synchronous like
//!   the SQLite store's, run again on serialization failure; `bridge` runs the driver's async
//!   calls from them.
//! - [`tables`]: every table row by row, for logical backups and `imx store copy`.
//! - `errors`: [`PgError`], its SQLSTATE, and how it reads as an imx error.
//! - [`stats`]: each table's size on disk and the backends serving this database (for the
//!   cluster bench and docs/scaling.md).
//! - `testdb` (tests): a fresh test database or a throwaway server.

pub mod agents;
mod api;
mod apply;
mod artifacts;
pub mod audit;
mod audit_store;
mod backend;
mod bridge;
#[cfg(test)]
mod checkpoint_tests;
pub mod claims;
mod concurrency;
pub mod config;
pub mod dashboard;
mod errors;
mod events;
pub mod hinter;
mod inline;
pub mod leader;
mod logs;
#[cfg(test)]
mod maintenance_tests;
pub mod migrate;
pub mod notify;
#[cfg(test)]
mod plane_tests;
pub mod reap;
#[cfg(test)]
mod replicas_tests;
pub mod reports;
pub mod retention;
pub mod retry;
mod rows;
pub mod runs;
mod schedules;
mod secrets;
pub mod sequence;
pub mod settings;
pub mod stats;
pub mod store;
pub mod tables;
#[cfg(test)]
pub(crate) mod testdb;
pub mod transitions;
mod triggers;
pub mod tx;
pub mod users;
pub mod wake_feed;
#[cfg(test)]
mod wake_tests;
pub mod wakeup;
pub mod workflows;

pub use config::{PgConfig, is_postgres_url};
pub use errors::{PgError, PgResult};
pub use migrate::{Migrated, PG_SCHEMA_VERSION, migrate};
pub use store::PgStore;
pub use tx::PgTx;
