//! Backups (DESIGN §8): one file holding a consistent snapshot of the store — zstd-compressed,
//! SHA-256 checksummed, optionally encrypted — and a manifest that says what is inside.
//!
//! - [`manifest`]: what a backup says about itself (id, time, versions, counts, checksum, key).
//! - [`container`]: the file layout (header, payload, manifest, footer) and reading it back.
//! - [`crypto`]: keys (key file, OS keyring or passphrase) and chunked AES-256-GCM.
//! - [`keyring`]: backup keys kept in the OS keyring.
//! - the SQLite snapshot itself (taken while writers keep going) is the store's:
//!   [`crate::store::snapshot`].
//! - [`logical`]: the versioned JSONL export that any store kind can import.
//! - [`create`], [`verify`], [`restore`]: the lifecycle.
//! - [`catalog`]: finding backups in a folder by id or path.
//! - [`retention`] and [`schedule`]: which backups to keep, and periodic backups for the server.
//! - [`live`]: whether another process has a store open.
//! - [`scratch`]: temporary files of backup operations, locked while in use and removed once
//!   their process is gone.
//! - [`fsutil`]: private files and folders, atomic writes.

pub mod catalog;
pub mod container;
pub mod create;
pub mod crypto;
pub mod fsutil;
pub mod keyring;
pub mod live;
pub mod logical;
pub mod manifest;
pub mod restore;
pub mod retention;
pub mod schedule;
pub mod scratch;
pub mod verify;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use catalog::BackupEntry;
pub use create::CreateOptions;
pub use crypto::KeySource;
pub use manifest::{BackupFormat, Manifest};
pub use restore::{CopyIdentity, RestoreOptions, RestoreReport};
pub use retention::{PruneReport, RetentionPolicy};
pub use verify::{Integrity, VerifyReport};

/// The file extension of backups.
pub const EXTENSION: &str = "imxb";

/// A backup file and its manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupInfo {
    pub path: PathBuf,
    /// File size in bytes.
    pub size: u64,
    pub manifest: Manifest,
    /// How long creating it took (only known right after `create`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<i64>,
}

/// The phases a long operation reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Snapshot,
    Compress,
    Export,
    Read,
    Check,
    Count,
    Audit,
}

impl Phase {
    pub fn label(self) -> &'static str {
        match self {
            Phase::Snapshot => "snapshot",
            Phase::Compress => "compress",
            Phase::Export => "export",
            Phase::Read => "read",
            Phase::Check => "check",
            Phase::Count => "count",
            Phase::Audit => "audit",
        }
    }
}

/// Where long operations report progress (the CLI draws a bar; the server may ignore it).
pub trait Progress: Send + Sync {
    /// A phase starts; `total` bytes are expected (0: unknown).
    fn start(&self, phase: Phase, total: u64);
    /// `n` more bytes are done.
    fn advance(&self, n: u64);
}

/// Progress that goes nowhere.
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _: Phase, _: u64) {}
    fn advance(&self, _: u64) {}
}

/// The default backup folder for a store: `backups/` beside it.
pub fn default_dir(store: &std::path::Path) -> PathBuf {
    store
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."))
        .join("backups")
}
