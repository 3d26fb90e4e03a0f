//! The manifest: what a backup says about itself. Stored as JSON at the end of the file (see
//! [`super::container`]) so it can record the payload's size and checksum after streaming it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::audit::Base;

/// The manifest version this build writes (and the newest it reads). Version 2 seals the
/// manifest (see [`super::container`]); version 1 is still read.
pub const MANIFEST_VERSION: u32 = 2;

/// What the payload holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BackupFormat {
    /// A page-level SQLite snapshot (fast; restores into a SQLite store).
    #[default]
    Sqlite,
    /// Versioned JSONL of every table (restores into any store kind).
    Logical,
}

impl std::fmt::Display for BackupFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BackupFormat::Sqlite => "sqlite",
            BackupFormat::Logical => "logical",
        })
    }
}

/// How the key was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyKind {
    /// A random 256-bit key: a key file, or an OS keyring entry ([`Encryption::keyring`] names
    /// it; the same key in a file opens the backup too).
    File,
    /// A passphrase stretched with argon2id ([`Encryption::kdf`]).
    Passphrase,
}

/// Passphrase stretching parameters (argon2id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kdf {
    pub algorithm: String,
    /// Hex.
    pub salt: String,
    pub m_cost_kib: u32,
    pub t_cost: u32,
    pub p_cost: u32,
}

/// How the payload is encrypted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Encryption {
    /// `aes-256-gcm-stream-be32`: STREAM construction, 1 MiB chunks, the backup id as AAD.
    pub algorithm: String,
    pub chunk_size: u32,
    /// The 7-byte STREAM nonce prefix, hex.
    pub nonce_prefix: String,
    pub key: KeyKind,
    /// A short digest of the key, to tell "wrong key" from "damaged" before decrypting.
    pub key_check: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kdf: Option<Kdf>,
    /// The OS keyring entry the key was taken from (`--keyring NAME`), so a missing key can be
    /// named. Older manifests lack it; older imx versions ignore it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyring: Option<String>,
}

/// Everything a backup says about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub manifest_version: u32,
    /// ULID.
    pub id: String,
    /// RFC 3339 in JSON; epoch milliseconds in the file itself ([`Manifest::stored_json`]).
    #[serde(with = "crate::model::time::rfc3339")]
    pub created_at: i64,
    pub created_by: String,
    pub imx_version: String,
    pub schema_version: i64,
    /// The store's identity (kept across restores).
    pub store_id: String,
    /// Where the store was.
    pub source: String,
    pub format: BackupFormat,
    /// `zstd`.
    pub compression: String,
    /// Bytes of the snapshot (or export) before compression.
    pub snapshot_bytes: u64,
    /// Bytes of the payload as stored (compressed, maybe encrypted).
    pub payload_bytes: u64,
    /// SHA-256 of the payload as stored, hex.
    pub payload_sha256: String,
    /// Rows per table in the snapshot.
    pub tables: BTreeMap<String, u64>,
    /// The audit chain's head in the snapshot.
    pub audit_head: Base,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<Encryption>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Manifest {
    /// The manifest as a backup file holds it: the JSON shown everywhere else, except that
    /// `created_at` stays epoch milliseconds, the form every imx version reads.
    pub fn stored_json(&self) -> crate::Result<Vec<u8>> {
        let internal = |e: serde_json::Error| crate::Error::Internal(e.to_string());
        let mut v = serde_json::to_value(self).map_err(internal)?;
        if let Some(fields) = v.as_object_mut() {
            fields.insert("created_at".into(), self.created_at.into());
        }
        serde_json::to_vec_pretty(&v).map_err(internal)
    }

    /// Total rows over every table.
    pub fn total_rows(&self) -> u64 {
        self.tables.values().sum()
    }
}
