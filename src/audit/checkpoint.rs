//! Signed checkpoints: the anchor outside the store that makes truncation detectable.
//!
//! `audit checkpoint` signs the chain head (store id, seq, hash, time) with an ed25519 key kept
//! outside the store (default `~/.config/imx/audit-key`, mode 0600) and appends the signed entry
//! to a log beside it (`~/.config/imx/audit-checkpoints.jsonl`). `audit verify` then requires the
//! chain to still contain every checkpointed record with the signed hash. A restore appends a
//! `restore` entry: the store's timeline restarts at the restored head, so checkpoints taken
//! before it no longer apply. `audit checkpoint --repair` appends a `void` entry that withdraws
//! an entry whose record was never committed (see [`super::interrupted`]).
//!
//! The record is committed before its entry is written to the log, so an interrupted checkpoint
//! leaves at worst a committed `audit.checkpoint` record without an entry: the chain still
//! verifies against the log (and `verify` notes the missing entry). Writing the log first, as
//! imx once did, left a signature for a record that never existed.
//!
//! ## On a store shared by replicas (PostgreSQL)
//!
//! Replicas and admins' hosts come and go, so the log cannot be one host's file: the entries
//! are kept in the database (`audit_checkpoints`, see [`STORED_LOG`]), written in the same
//! transaction as their `audit.checkpoint` record, and every replica or host reads the same
//! log. The signing key is a secret supplied to each of them like the database URL: the
//! `IMX_AUDIT_KEY` environment variable (64 hex digits) or the key file (default as above). It
//! is never stored in the database; only its public key is (`meta.audit_checkpoint_key`,
//! recorded by the first checkpoint), and a replica holding another key, or none, is refused
//! with an error naming both public keys rather than starting a second, unrelated log.
//!
//! What an attacker who can write the database can do: delete or reorder rows of the stored log
//! (rolling it back to an older checkpoint, then truncating the chain after it undetected), or
//! replace the recorded public key and every entry with ones signed by a key of their own. They
//! cannot forge an entry signed by the cluster's key. So `verify` on a host that holds the key
//! checks every entry against it (a replaced key or re-signed log is reported as tampering); on
//! a host without the key it can only check the entries against the public key they name, and
//! says so. Against rollback, keep what `audit checkpoint -o json` prints (the signed head)
//! somewhere the database's writers cannot reach (a log shipper, a ticket): an entry missing
//! from the stored log then shows. Anyone with the key can sign anything, so it belongs only on
//! the replicas and the admins' hosts.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

use super::chain::{Expectation, Problem, ProblemKind};
use crate::{Error, Result};

/// Where the signing key and the checkpoint log live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditPaths {
    pub key: PathBuf,
    pub checkpoints: PathBuf,
}

impl AuditPaths {
    /// `<config dir>/imx/audit-key` and `<config dir>/imx/audit-checkpoints.jsonl`.
    pub fn default_paths() -> Self {
        let dir = dirs::config_dir()
            .or_else(|| dirs::home_dir().map(|h| h.join(".config")))
            .unwrap_or_else(|| PathBuf::from("."))
            .join("imx");
        AuditPaths {
            key: dir.join("audit-key"),
            checkpoints: dir.join("audit-checkpoints.jsonl"),
        }
    }
}

/// Where the log's entries are when the store keeps them itself (PostgreSQL): what
/// `audit.checkpoint` records and messages name instead of a file.
pub const STORED_LOG: &str = "database:audit_checkpoints";

/// The ed25519 key that signs checkpoints.
#[derive(Clone)]
pub struct AuditKey {
    signing: SigningKey,
}

impl AuditKey {
    /// A key from its secret, 64 hex digits (`IMX_AUDIT_KEY`, a key file's content); `what`
    /// names it in the error.
    pub fn from_hex(text: &str, what: &str) -> Result<Self> {
        let bytes = hex::decode(text.trim()).ok();
        let seed: [u8; 32] = bytes.and_then(|b| b.try_into().ok()).ok_or_else(|| {
            Error::invalid(format!(
                "{what}: not an imx audit key (expected 64 hex digits)"
            ))
        })?;
        Ok(AuditKey {
            signing: SigningKey::from_bytes(&seed),
        })
    }

    /// Load the key at `path`; `None` if there is no file.
    pub fn load(path: &Path) -> Result<Option<Self>> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(Error::io(
                    format!("reading the audit key {}", path.display()),
                    e,
                ));
            }
        };
        Self::from_hex(&text, &path.display().to_string()).map(Some)
    }

    /// Load the key, or create one (mode 0600) if there is none. Returns whether it was created.
    pub fn load_or_create(path: &Path) -> Result<(Self, bool)> {
        if let Some(key) = Self::load(path)? {
            return Ok((key, false));
        }
        let mut seed = [0u8; 32];
        rand::Rng::fill(&mut rand::rng(), &mut seed);
        crate::backup::fsutil::write_private(path, format!("{}\n", hex::encode(seed)).as_bytes())?;
        Ok((
            AuditKey {
                signing: SigningKey::from_bytes(&seed),
            },
            true,
        ))
    }

    /// The public key, hex.
    pub fn public_hex(&self) -> String {
        hex::encode(self.signing.verifying_key().to_bytes())
    }

    fn verifying(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    /// Sign a checkpoint of (`store_id`, `seq`, `hash`).
    pub fn sign(
        &self,
        kind: CheckpointKind,
        store_id: &str,
        seq: i64,
        hash: &str,
        time: i64,
    ) -> Checkpoint {
        let mut cp = Checkpoint {
            kind,
            store_id: store_id.into(),
            seq,
            hash: hash.into(),
            time,
            public_key: self.public_hex(),
            signature: String::new(),
        };
        cp.signature = hex::encode(self.signing.sign(&cp.message()).to_bytes());
        cp
    }
}

/// A plain checkpoint, the restart of the timeline by a restore, or the withdrawal of an
/// earlier entry whose record was never committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckpointKind {
    #[default]
    Checkpoint,
    Restore,
    /// Withdraws the earlier entry with the same store, seq and hash (`audit checkpoint
    /// --repair`); its time is when it was withdrawn.
    Void,
}

/// One signed entry of the checkpoint log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    #[serde(default)]
    pub kind: CheckpointKind,
    pub store_id: String,
    pub seq: i64,
    pub hash: String,
    /// RFC 3339 in JSON; epoch milliseconds in the log itself ([`Checkpoint::stored_line`]).
    #[serde(with = "crate::model::time::rfc3339")]
    pub time: i64,
    pub public_key: String,
    pub signature: String,
}

impl Checkpoint {
    /// The entry as the log holds it: the JSON shown everywhere else, except that `time` stays
    /// epoch milliseconds, the form every imx version reads.
    pub fn stored_line(&self) -> Result<String> {
        let internal = |e: serde_json::Error| Error::Internal(e.to_string());
        let mut v = serde_json::to_value(self).map_err(internal)?;
        if let Some(fields) = v.as_object_mut() {
            fields.insert("time".into(), self.time.into());
        }
        serde_json::to_string(&v).map_err(internal)
    }

    fn message(&self) -> Vec<u8> {
        let kind = match self.kind {
            CheckpointKind::Checkpoint => "checkpoint",
            CheckpointKind::Restore => "restore",
            CheckpointKind::Void => "void",
        };
        format!(
            "imx-audit-checkpoint v1\n{kind}\n{}\n{}\n{}\n{}",
            self.store_id, self.seq, self.hash, self.time
        )
        .into_bytes()
    }

    /// Whether the signature verifies with the embedded public key (and, when given, that key is
    /// the trusted one).
    pub fn signature_ok(&self, trusted: Option<&AuditKey>) -> bool {
        let Some(pk) = hex::decode(&self.public_key)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .and_then(|b| VerifyingKey::from_bytes(&b).ok())
        else {
            return false;
        };
        if trusted.is_some_and(|k| k.verifying() != pk) {
            return false;
        }
        let Some(sig) = hex::decode(&self.signature)
            .ok()
            .and_then(|b| <[u8; 64]>::try_from(b).ok())
        else {
            return false;
        };
        pk.verify(&self.message(), &Signature::from_bytes(&sig))
            .is_ok()
    }
}

/// The details of an `audit.checkpoint` record: the signing key and the log its entry goes to
/// (also what [`super::interrupted`] reconstructs, so this shape stays).
pub fn record_details(public_key: &str, log: &Path) -> serde_json::Value {
    serde_json::json!({ "public_key": public_key, "log": log })
}

/// Append one entry to the log at `path` (created 0600, its folder 0700) and sync it.
pub fn append(path: &Path, cp: &Checkpoint) -> Result<()> {
    let line = cp.stored_line()?;
    let ctx = || format!("writing the checkpoint log {}", path.display());
    crate::backup::fsutil::ensure_private_dir(path)?;
    let mut opts = std::fs::OpenOptions::new();
    opts.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path).map_err(|e| Error::io(ctx(), e))?;
    writeln!(f, "{line}").map_err(|e| Error::io(ctx(), e))?;
    f.sync_all().map_err(|e| Error::io(ctx(), e))
}

/// The entries of the log for `store_id`, in order (none if there is no log).
pub fn load(path: &Path, store_id: &str) -> Result<Vec<Checkpoint>> {
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(Error::io(
                format!("reading the checkpoint log {}", path.display()),
                e,
            ));
        }
    };
    let mut lines = Vec::new();
    for line in std::io::BufReader::new(f).lines() {
        lines.push(line.map_err(|e| Error::io(format!("reading {}", path.display()), e))?);
    }
    parse(&lines, &path.display().to_string(), store_id)
}

/// The entries for `store_id` among a log's `lines` (from `origin`, for messages), in order.
pub fn parse(lines: &[String], origin: &str, store_id: &str) -> Result<Vec<Checkpoint>> {
    let mut out = Vec::new();
    for (n, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let cp: Checkpoint = serde_json::from_str(line)
            .map_err(|e| Error::invalid(format!("{origin}:{}: not a checkpoint: {e}", n + 1)))?;
        if cp.store_id == store_id {
            out.push(cp);
        }
    }
    Ok(out)
}

/// Turn the log into what the chain must contain: every entry's signature must verify (by the
/// trusted key when there is one); a `restore` entry replaces everything before it; a `void`
/// entry withdraws the earlier entry it names.
pub fn expectations(
    entries: &[Checkpoint],
    trusted: Option<&AuditKey>,
) -> std::result::Result<Vec<Expectation>, Problem> {
    let mut out = Vec::new();
    for cp in entries {
        if !cp.signature_ok(trusted) {
            return Err(Problem {
                seq: cp.seq,
                kind: ProblemKind::BadCheckpoint,
                message: format!(
                    "the checkpoint for record {} is not signed by the audit key: the checkpoint \
                     log was tampered with",
                    cp.seq
                ),
            });
        }
        match cp.kind {
            CheckpointKind::Restore => out.clear(),
            CheckpointKind::Void => {
                out.retain(|e: &Expectation| e.seq != cp.seq || e.hash != cp.hash);
                continue;
            }
            CheckpointKind::Checkpoint => {}
        }
        out.push(Expectation {
            seq: cp.seq,
            hash: cp.hash.clone(),
            time: cp.time,
        });
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_detect_tampering() {
        let dir = tempfile::tempdir().unwrap();
        let (key, created) = AuditKey::load_or_create(&dir.path().join("k")).unwrap();
        assert!(created);
        let cp = key.sign(CheckpointKind::Checkpoint, "s1", 7, "ab", 1);
        assert!(cp.signature_ok(Some(&key)));
        let mut forged = cp.clone();
        forged.seq = 6;
        assert!(!forged.signature_ok(None));
        let (other, _) = AuditKey::load_or_create(&dir.path().join("k2")).unwrap();
        let foreign = other.sign(CheckpointKind::Checkpoint, "s1", 7, "ab", 1);
        assert!(foreign.signature_ok(None));
        assert!(!foreign.signature_ok(Some(&key)));
        let log = dir.path().join("log.jsonl");
        append(&log, &cp).unwrap();
        append(&log, &key.sign(CheckpointKind::Restore, "s1", 3, "cd", 2)).unwrap();
        append(
            &log,
            &key.sign(CheckpointKind::Checkpoint, "s2", 9, "ef", 3),
        )
        .unwrap();
        let entries = load(&log, "s1").unwrap();
        assert_eq!(entries.len(), 2);
        let exp = expectations(&entries, Some(&key)).unwrap();
        assert_eq!(exp.len(), 1, "a restore replaces earlier checkpoints");
        assert_eq!(exp[0].seq, 3);
        // A void withdraws the entry it names (same seq and hash), and only that one.
        append(
            &log,
            &key.sign(CheckpointKind::Checkpoint, "s1", 5, "aa", 4),
        )
        .unwrap();
        append(&log, &key.sign(CheckpointKind::Void, "s1", 5, "bb", 5)).unwrap();
        let exp = expectations(&load(&log, "s1").unwrap(), Some(&key)).unwrap();
        assert_eq!(exp.len(), 2, "a void of another hash withdraws nothing");
        append(&log, &key.sign(CheckpointKind::Void, "s1", 5, "aa", 6)).unwrap();
        let exp = expectations(&load(&log, "s1").unwrap(), Some(&key)).unwrap();
        assert_eq!(exp.iter().map(|e| e.seq).collect::<Vec<_>>(), [3]);
        let mut forged = key.sign(CheckpointKind::Checkpoint, "s1", 5, "aa", 6);
        forged.kind = CheckpointKind::Void;
        assert!(!forged.signature_ok(None), "the kind is signed");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("k"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
