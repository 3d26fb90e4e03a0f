//! The hash-chained audit trail (DESIGN §7). Each record's hash is
//! `SHA-256(prev_hash || canonical JSON of the record without its hash)`, so editing, deleting,
//! reordering or inserting a record breaks the chain from that point. Appends happen inside the
//! mutation's own transaction: if the audit write fails, the mutation fails (fail closed).
//!
//! - [`access`]: what the audit tools need from a store (the store implements it; no SQL here).
//! - [`canonical`]: the bytes a record's hash covers.
//! - [`chain`]: streaming verification (archive boundary, signed checkpoints).
//! - [`checkpoint`]: the ed25519 key and signed checkpoint log kept outside the store.
//! - [`interrupted`]: log entries that an interrupted checkpoint of an older imx left for records
//!   the store never committed (proven, then withdrawn by `audit checkpoint --repair`).
//! - [`query`]: filtered reads for `audit list|tail|show|export`.
//! - [`report`] and [`render`]: `audit report` and its formats.
//! - [`prune`]: retention with an archive and a boundary hash.

pub mod access;
pub mod canonical;
pub mod chain;
pub mod checkpoint;
pub mod interrupted;
pub mod prune;
pub mod query;
pub mod render;
pub mod report;

use crate::Result;
use crate::auth::Principal;
use crate::model::{AuditRecord, now_ms};

pub use access::{AuditStore, RawRecord};
pub use chain::{Base, ChainReport, Problem, ProblemKind};
pub use checkpoint::{AuditKey, AuditPaths, Checkpoint, CheckpointKind};
pub use query::AuditFilter;
pub use report::{AuditReport, Window};

/// The `prev_hash` of the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hash of a record, given its fields and the previous hash.
pub fn record_hash(r: &AuditRecord) -> String {
    let details = r.details.to_string();
    let rec = canonical::RecordRef {
        seq: r.seq,
        time: r.time,
        actor: &r.actor,
        source: &r.source,
        action: &r.action,
        target: &r.target,
        outcome: &r.outcome,
        details: &details,
        prev_hash: &r.prev_hash,
        hash: "",
    };
    let mut out = [0u8; 64];
    canonical::hash_into(&mut Vec::with_capacity(256), &rec, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// Append one record to the chain inside `tx`.
pub fn append(
    tx: &dyn AuditStore,
    who: &Principal,
    action: &str,
    target: &str,
    outcome: &str,
    details: serde_json::Value,
) -> Result<AuditRecord> {
    let last = match tx.head()? {
        Some(head) => head,
        None => tx.base()?,
    };
    let mut rec = AuditRecord {
        seq: last.seq + 1,
        time: now_ms(),
        actor: who.name.clone(),
        source: who.source.clone(),
        action: action.into(),
        target: target.into(),
        outcome: outcome.into(),
        details,
        prev_hash: last.hash,
        hash: String::new(),
    };
    rec.hash = record_hash(&rec);
    tx.insert(&rec)?;
    Ok(rec)
}

/// Every record, in order.
pub fn list(tx: &dyn AuditStore) -> Result<Vec<AuditRecord>> {
    tx.records(&AuditFilter::default())
}

/// Check a chain that starts at genesis; `Err(seq)` names the first record that does not verify.
pub fn verify(records: &[AuditRecord]) -> std::result::Result<(), i64> {
    let mut prev = GENESIS.to_string();
    for (expected_seq, r) in (1..).zip(records) {
        if r.seq != expected_seq || r.prev_hash != prev || record_hash(r) != r.hash {
            return Err(r.seq);
        }
        prev = r.hash.clone();
    }
    Ok(())
}

/// The store's identity (kept across backups and restores): names its checkpoints and archives.
pub fn store_id(tx: &dyn AuditStore) -> Result<String> {
    tx.store_id()
}

/// Milliseconds since the epoch as RFC 3339 (UTC, seconds precision).
pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| ms.to_string())
}
