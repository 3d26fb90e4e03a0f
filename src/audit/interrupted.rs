//! Checkpoints interrupted by an older imx, which wrote the signed entry to the checkpoint log
//! before committing its `audit.checkpoint` record: a kill -9 or a full disk in between left a
//! signature for a record the store never held. `verify` then reported truncation (or, once more
//! records were written, a rewritten chain) and `checkpoint` refused for good.
//!
//! Such an entry is recognised, never assumed. [`find`] recomputes the record the entry must
//! have signed — an `audit.checkpoint` record with the entry's time, public key and store id, the
//! log's path, by one of the principals the store knows, chained onto the record the store holds
//! at `seq - 1` — and takes the entry for an interrupted checkpoint only if that record's hash is
//! exactly the signed one. Then every record the entry anchored (all those before its own) is
//! still in the store unchanged, and the only record missing is the checkpoint record itself,
//! whose whole contents the proof reconstructs. A chain truncated or rewritten anywhere below it
//! never matches, so `--repair` cannot hide that. (Deleting exactly that one record, and what
//! came after it, looks the same; but what follows a checkpoint's own record was never covered
//! by it, and the record itself is known in full.)

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::AuditStore;
use super::checkpoint::{Checkpoint, CheckpointKind, record_details};
use crate::Result;
use crate::auth::Principal;
use crate::model::AuditRecord;

/// How many (actor, source) combinations are tried at most when the pairs seen together in the
/// store do not match.
const MAX_COMBINATIONS: usize = 100_000;

/// A log entry that signs an `audit.checkpoint` record the store never committed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Interrupted {
    /// The record's sequence number and hash, as signed.
    pub seq: i64,
    pub hash: String,
    /// When the checkpoint was taken.
    #[serde(with = "crate::model::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub time: i64,
    /// Who took it, as reconstructed.
    pub actor: String,
    pub source: String,
}

impl Interrupted {
    /// "record 12 (a checkpoint taken at 2025-01-02T03:04:05Z by local:ops)".
    pub fn describe(&self) -> String {
        format!(
            "record {} (a checkpoint taken at {} by {})",
            self.seq,
            super::rfc3339(self.time),
            self.actor
        )
    }
}

/// The entries of this store's log that are in effect (after the last restore, not
/// withdrawn), in order.
fn in_effect(entries: &[Checkpoint]) -> Vec<&Checkpoint> {
    let mut out: Vec<&Checkpoint> = Vec::new();
    for cp in entries {
        match cp.kind {
            CheckpointKind::Restore => {
                out.clear();
                out.push(cp);
            }
            CheckpointKind::Void => out.retain(|e| e.seq != cp.seq || e.hash != cp.hash),
            CheckpointKind::Checkpoint => out.push(cp),
        }
    }
    out
}

/// The entries in effect that sign a checkpoint record the store does not hold, proven (see the
/// module doc) to be interrupted checkpoints. `log` is the checkpoint log's path (recorded in
/// each checkpoint record); `who` is tried as the checkpoint's author too.
pub fn find(
    tx: &dyn AuditStore,
    entries: &[Checkpoint],
    log: &Path,
    who: &Principal,
) -> Result<Vec<Interrupted>> {
    let base = tx.base()?;
    let mut candidates: Option<Vec<(String, String)>> = None;
    let mut out = Vec::new();
    for cp in in_effect(entries) {
        if cp.kind != CheckpointKind::Checkpoint || !cp.signature_ok(None) {
            continue;
        }
        if tx.hash_at(cp.seq)?.as_deref() == Some(cp.hash.as_str()) {
            continue;
        }
        let prev = if cp.seq - 1 == base.seq {
            Some(base.hash.clone())
        } else if cp.seq - 1 > base.seq {
            tx.hash_at(cp.seq - 1)?
        } else {
            None
        };
        let Some(prev) = prev else { continue };
        let candidates = match &mut candidates {
            Some(c) => c,
            None => candidates.insert(principals(tx, who)?),
        };
        let mut rec = AuditRecord {
            seq: cp.seq,
            time: cp.time,
            actor: String::new(),
            source: String::new(),
            action: "audit.checkpoint".into(),
            target: cp.store_id.clone(),
            outcome: "ok".into(),
            details: record_details(&cp.public_key, log),
            prev_hash: prev,
            hash: String::new(),
        };
        for (actor, source) in candidates.iter() {
            rec.actor.clone_from(actor);
            rec.source.clone_from(source);
            if super::record_hash(&rec) == cp.hash {
                out.push(Interrupted {
                    seq: cp.seq,
                    hash: cp.hash.clone(),
                    time: cp.time,
                    actor: actor.clone(),
                    source: source.clone(),
                });
                break;
            }
        }
    }
    Ok(out)
}

/// Who may have taken a checkpoint: the pairs seen in the store and `who` first, then every
/// actor with every source (bounded).
fn principals(tx: &dyn AuditStore, who: &Principal) -> Result<Vec<(String, String)>> {
    let mut pairs = tx.principals()?;
    let owner = Principal::local_owner();
    for p in [who, &owner] {
        pairs.push((p.name.clone(), p.source.clone()));
    }
    let mut actors: Vec<String> = pairs.iter().map(|(a, _)| a.clone()).collect();
    let mut sources: Vec<String> = pairs.iter().map(|(_, s)| s.clone()).collect();
    actors.sort();
    actors.dedup();
    sources.sort();
    sources.dedup();
    let mut seen: std::collections::HashSet<(String, String)> = pairs.iter().cloned().collect();
    let mut out: Vec<(String, String)> = Vec::with_capacity(seen.len());
    for pair in pairs {
        if seen.remove(&pair) {
            out.push(pair);
        }
    }
    if actors.len().saturating_mul(sources.len()) <= MAX_COMBINATIONS {
        let tried: std::collections::HashSet<(String, String)> = out.iter().cloned().collect();
        for a in &actors {
            for s in &sources {
                let pair = (a.clone(), s.clone());
                if !tried.contains(&pair) {
                    out.push(pair);
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::audit::{AuditKey, append};
    use crate::store::Store;
    use crate::store::testing::tamper;

    fn who(name: &str) -> Principal {
        Principal {
            name: name.into(),
            role: crate::auth::Role::Admin,
            source: "10.0.0.7".into(),
        }
    }

    /// A store with three records and a key; returns the entry an older imx would have signed
    /// for a checkpoint record at seq 4 by `by` — committed or not, as asked.
    fn setup(by: &Principal, commit: bool) -> (tempfile::TempDir, Store, Checkpoint) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("imx.db"), true).unwrap();
        let (key, _) = AuditKey::load_or_create(&dir.path().join("key")).unwrap();
        let log = dir.path().join("log.jsonl");
        for i in 0..3 {
            store
                .write(|tx| {
                    append(
                        tx,
                        &who("user:a"),
                        "run.start",
                        &i.to_string(),
                        "ok",
                        serde_json::Value::Null,
                    )
                })
                .unwrap();
        }
        let result = store.write(|tx| {
            let id = crate::audit::store_id(tx)?;
            let rec = append(
                tx,
                by,
                "audit.checkpoint",
                &id,
                "ok",
                record_details(&key.public_hex(), &log),
            )?;
            let cp = key.sign(
                CheckpointKind::Checkpoint,
                &id,
                rec.seq,
                &rec.hash,
                rec.time,
            );
            if commit {
                Ok(cp)
            } else {
                Err(crate::Error::Internal(serde_json::to_string(&cp).unwrap()))
            }
        });
        let cp = match result {
            Ok(cp) => cp,
            Err(crate::Error::Internal(json)) => serde_json::from_str(&json).unwrap(),
            Err(e) => panic!("{e}"),
        };
        (dir, store, cp)
    }

    fn found(store: &Store, dir: &Path, entries: &[Checkpoint], me: &Principal) -> Vec<i64> {
        store
            .read(|tx| find(tx, entries, &dir.join("log.jsonl"), me))
            .unwrap()
            .iter()
            .map(|i| i.seq)
            .collect()
    }

    #[test]
    fn an_entry_for_a_record_never_committed_is_proven_interrupted() {
        // The author is seen elsewhere in the store, or is the one repairing.
        let (dir, store, cp) = setup(&who("user:a"), false);
        assert_eq!(
            found(
                &store,
                dir.path(),
                std::slice::from_ref(&cp),
                &who("user:z")
            ),
            [4]
        );
        let (dir, store, cp) = setup(&who("user:ops"), false);
        assert_eq!(
            found(
                &store,
                dir.path(),
                std::slice::from_ref(&cp),
                &who("user:ops")
            ),
            [4]
        );
        // More records were written since: record 4 is another one; still proven.
        store
            .write(|tx| {
                append(
                    tx,
                    &who("user:a"),
                    "run.start",
                    "x",
                    "ok",
                    serde_json::Value::Null,
                )
            })
            .unwrap();
        assert_eq!(
            found(
                &store,
                dir.path(),
                std::slice::from_ref(&cp),
                &who("user:ops")
            ),
            [4]
        );
        // An author nobody knows cannot be reconstructed: not proven.
        let (dir, store, cp) = setup(&who("user:ghost"), false);
        assert!(found(&store, dir.path(), &[cp], &who("user:z")).is_empty());
    }

    #[test]
    fn a_committed_checkpoint_or_a_truncated_chain_is_never_taken_for_one() {
        let (dir, store, cp) = setup(&who("user:a"), true);
        assert!(
            found(
                &store,
                dir.path(),
                std::slice::from_ref(&cp),
                &who("user:a")
            )
            .is_empty()
        );
        // Records below the checkpoint record were deleted: record 3 is gone, nothing chains.
        store.write(|tx| tamper::delete(tx, 3, i64::MAX)).unwrap();
        assert!(
            found(
                &store,
                dir.path(),
                std::slice::from_ref(&cp),
                &who("user:a")
            )
            .is_empty()
        );
        // A rewritten record 3 (its hash recomputed): the signed hash no longer follows from it.
        let (dir, store, cp) = setup(&who("user:a"), false);
        store
            .write(|tx| {
                let mut r = crate::audit::query::get(tx, 3)?;
                r.target = "forged".into();
                r.hash = crate::audit::record_hash(&r);
                tamper::delete(tx, 3, 3)?;
                tamper::insert_raw(tx, &[r])
            })
            .unwrap();
        assert!(
            found(
                &store,
                dir.path(),
                std::slice::from_ref(&cp),
                &who("user:a")
            )
            .is_empty()
        );
        // A withdrawn entry is not in effect.
        let (dir, store, cp) = setup(&who("user:a"), false);
        let mut void = cp.clone();
        void.kind = CheckpointKind::Void;
        assert!(found(&store, dir.path(), &[cp, void], &who("user:a")).is_empty());
    }
}
