//! The hash-chained audit trail (DESIGN §7). Each record's hash is
//! `SHA-256(prev_hash || canonical JSON of the record without its hash)`, so editing, deleting,
//! reordering or inserting a record breaks the chain from that point. Appends happen inside the
//! mutation's own transaction: if the audit write fails, the mutation fails (fail closed).

use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::Result;
use crate::auth::Principal;
use crate::model::{AuditRecord, now_ms};

/// The `prev_hash` of the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The fields that are hashed, in a fixed order (serde_json keeps struct order; `details` is a
/// `serde_json::Value` whose maps are sorted by key).
#[derive(Serialize)]
struct Canonical<'a> {
    seq: i64,
    time: i64,
    actor: &'a str,
    source: &'a str,
    action: &'a str,
    target: &'a str,
    outcome: &'a str,
    details: &'a serde_json::Value,
    prev_hash: &'a str,
}

/// The hash of a record, given its fields and the previous hash.
pub fn record_hash(r: &AuditRecord) -> String {
    let canonical = Canonical {
        seq: r.seq,
        time: r.time,
        actor: &r.actor,
        source: &r.source,
        action: &r.action,
        target: &r.target,
        outcome: &r.outcome,
        details: &r.details,
        prev_hash: &r.prev_hash,
    };
    let mut h = Sha256::new();
    h.update(r.prev_hash.as_bytes());
    // Serializing these plain types cannot fail.
    h.update(serde_json::to_vec(&canonical).unwrap_or_default());
    hex::encode(h.finalize())
}

/// Append one record to the chain inside `tx`.
pub fn append(
    tx: &Transaction<'_>,
    who: &Principal,
    action: &str,
    target: &str,
    outcome: &str,
    details: serde_json::Value,
) -> Result<AuditRecord> {
    let last: Option<(i64, String)> = tx
        .query_row(
            "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (seq, prev_hash) = match last {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, GENESIS.to_string()),
    };
    let mut rec = AuditRecord {
        seq,
        time: now_ms(),
        actor: who.name.clone(),
        source: who.source.clone(),
        action: action.into(),
        target: target.into(),
        outcome: outcome.into(),
        details,
        prev_hash,
        hash: String::new(),
    };
    rec.hash = record_hash(&rec);
    tx.execute(
        "INSERT INTO audit (seq, time, actor, source, action, target, outcome, details, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            rec.seq,
            rec.time,
            rec.actor,
            rec.source,
            rec.action,
            rec.target,
            rec.outcome,
            rec.details.to_string(),
            rec.prev_hash,
            rec.hash
        ],
    )?;
    Ok(rec)
}

/// Every record, in order.
pub fn list(tx: &Transaction<'_>) -> Result<Vec<AuditRecord>> {
    let mut stmt = tx.prepare(
        "SELECT seq, time, actor, source, action, target, outcome, details, prev_hash, hash
         FROM audit ORDER BY seq",
    )?;
    let rows = stmt.query_map([], |r| {
        let details: String = r.get(7)?;
        Ok(AuditRecord {
            seq: r.get(0)?,
            time: r.get(1)?,
            actor: r.get(2)?,
            source: r.get(3)?,
            action: r.get(4)?,
            target: r.get(5)?,
            outcome: r.get(6)?,
            details: serde_json::from_str(&details).unwrap_or(serde_json::Value::Null),
            prev_hash: r.get(8)?,
            hash: r.get(9)?,
        })
    })?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

/// Check the chain; `Err(seq)` names the first record that does not verify.
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
