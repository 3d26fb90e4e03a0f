//! imx — the engine library of the Infinity Matrix control plane.
//!
//! Everything that is not terminal UI lives here; the CLI (`commands/`) and the dashboard (`tui/`)
//! belong to the binary and reach the engine only through this crate's public API.
//!
//! Module map:
//! - [`model`]: plain data types shared by everything (workflows, runs, steps, agents, events).
//! - [`spec`]: workflow files — parse, validate (with file:line:col errors), template.
//! - [`store`]: persistence — the SQLite store, its schema and append-only migrations.
//! - [`schedule`]: schedules — cron/every timing, DST policy, jitter, catch-up and overlap.
//! - [`engine`]: orchestration rules — claims, leases, retries, timeouts, cancellation, reaping.
//! - [`auth`]: principals, roles and permissions; passwords (argon2id), tokens, login throttling.
//! - [`audit`]: the hash-chained audit trail: verify, checkpoints, reports, retention.
//! - [`artifacts`]: step artifacts — storage (a folder or S3), upload limits, the agent's files.
//! - [`backup`]: snapshot, compress, encrypt, manifest, verify, restore, prune, schedule.
//! - [`control`]: the `ControlPlane` seam and its local implementation.
//! - [`agent`]: the agent runtime — worker loop and executors (`run`, `http`, `noop`).
//! - [`trigger`]: webhook and run-after triggers — param mapping, names.
//! - [`notify`]: notifications — channels, rules, the outbox and its delivery (issue 12).
//! - [`faults`]: fault injection points for the failure tests (hidden, test-only).
//! - [`keys`]: the store key that seals secrets kept in the store (AES-256-GCM), and where it
//!   comes from.
//! - [`config`]: paths and defaults (store location, OS user); client credentials (keyring, file).

pub mod agent;
pub mod artifacts;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod config;
pub mod control;
pub mod engine;
pub mod error;
pub mod faults;
pub mod keys;
pub mod model;
pub mod notify;
pub mod schedule;
pub mod server;
pub mod spec;
pub mod store;
pub mod suggest;
pub mod trigger;

pub use error::{Error, Result};
