//! Verifying the chain in one streaming pass over the store: every record's hash against its
//! contents, every link against the previous record, sequence numbers without gaps, the archive
//! boundary left by `audit prune`, and the signed checkpoints kept outside the store (which is
//! what detects truncation: a chain that is merely shorter still links up).
//!
//! One thread reads the rows (an SQLite connection stays on its thread) and checks order and
//! links; each record's hash depends only on its own stored fields, so recomputing hashes is
//! spread over every core, batch by batch. The first bad record is named whichever thread
//! found it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::GENESIS;
use super::access::{AuditStore, RawRecord};
use super::canonical::{self, RecordRef};
use crate::Result;

/// Where the chain starts: genesis, or the last record archived by `audit prune`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Base {
    pub seq: i64,
    pub hash: String,
}

impl Default for Base {
    fn default() -> Self {
        Base {
            seq: 0,
            hash: GENESIS.into(),
        }
    }
}

/// What kind of damage was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// A record's contents do not match its hash.
    Edited,
    /// A gap in the sequence numbers.
    Missing,
    /// A record does not chain to the one before it (inserted, deleted, reordered or rewritten).
    BrokenLink,
    /// The chain ends before a signed checkpoint.
    Truncated,
    /// The record at a checkpoint has a different hash than the one signed.
    CheckpointMismatch,
    /// A checkpoint's signature does not verify (or is not by the audit key).
    BadCheckpoint,
    /// A signed checkpoint names a record that the store never committed: an older imx was
    /// interrupted between writing the checkpoint log and committing (proven, not assumed:
    /// see [`super::interrupted`]). `audit checkpoint --repair` withdraws it.
    InterruptedCheckpoint,
}

/// The first problem found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// The first bad sequence number.
    pub seq: i64,
    pub kind: ProblemKind,
    pub message: String,
}

/// The result of verifying the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainReport {
    pub ok: bool,
    /// Records in the store.
    pub records: u64,
    pub first_seq: Option<i64>,
    /// The last record's seq and hash (the base when the store has none).
    pub head_seq: i64,
    pub head_hash: String,
    /// Where the chain starts (seq 0 = genesis; higher after `audit prune`).
    pub base: Base,
    /// Signed checkpoints that were checked.
    pub checkpoints: u64,
    pub problem: Option<Problem>,
    /// What the operator should know that is not a problem (e.g. a checkpoint whose signature
    /// never reached the log).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// One expectation from a signed checkpoint: the record `seq` has `hash`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectation {
    pub seq: i64,
    pub hash: String,
    /// When the checkpoint was taken (ms), for messages.
    pub time: i64,
}

/// A record seen by the visitor, with whether it verified so far.
pub type Visit<'v> = dyn FnMut(&RecordRef<'_>) + 'v;

/// Records per batch handed to the hashing threads.
const BATCH: usize = 4096;

/// Copied records for the hashing threads: their text fields back to back in one buffer, as
/// stored (bytes; UTF-8 is checked once per batch by whoever reads it, see [`Batch::decode`]).
#[derive(Default)]
struct Batch {
    arena: Vec<u8>,
    slots: Vec<Slot>,
}

struct Slot {
    seq: i64,
    time: i64,
    /// End offsets in `arena` of actor, source, action, target, outcome, details, prev_hash, hash.
    ends: [usize; 8],
    /// A column does not hold the type the schema says (NULL, a blob, a number for text...).
    bad_type: bool,
}

impl Batch {
    /// Copy one row without decoding its text.
    fn push_row(&mut self, row: &RawRecord<'_>) {
        let mut bad_type = row.seq.is_none() || row.time.is_none();
        let mut ends = [0usize; 8];
        for (text, end) in row.text.iter().zip(ends.iter_mut()) {
            match text {
                Some(b) => self.arena.extend_from_slice(b),
                None => bad_type = true,
            }
            *end = self.arena.len();
        }
        self.slots.push(Slot {
            seq: row.seq.unwrap_or(0),
            time: row.time.unwrap_or(0),
            ends,
            bad_type,
        });
    }

    fn clear(&mut self) {
        self.arena.clear();
        self.slots.clear();
    }

    /// The records with their text as `&str`, and whether each is well-formed: a field that is
    /// not text or not UTF-8 reads as `""` and makes its record not well-formed. UTF-8 is
    /// validated once over the whole arena (field by field only if that fails); slicing at a
    /// field boundary that is not a character boundary fails like an invalid field would.
    fn decode(&self) -> impl Iterator<Item = (RecordRef<'_>, bool)> + '_ {
        let text = std::str::from_utf8(&self.arena).ok();
        let mut start = 0;
        self.slots.iter().map(move |slot| {
            let mut ok = !slot.bad_type;
            let mut f = [""; 8];
            for (field, &end) in f.iter_mut().zip(&slot.ends) {
                let decoded = match text {
                    Some(t) => t.get(start..end),
                    None => std::str::from_utf8(&self.arena[start..end]).ok(),
                };
                match decoded {
                    Some(s) => *field = s,
                    None => ok = false,
                }
                start = end;
            }
            let r = RecordRef {
                seq: slot.seq,
                time: slot.time,
                actor: f[0],
                source: f[1],
                action: f[2],
                target: f[3],
                outcome: f[4],
                details: f[5],
                prev_hash: f[6],
                hash: f[7],
            };
            (r, ok)
        })
    }

    /// The first record whose contents do not match its hash (or that is not well-formed).
    fn first_mismatch(&self, buf: &mut Vec<u8>) -> Option<i64> {
        self.decode()
            .find(|(r, ok)| !ok || !canonical::matches(buf, r))
            .map(|(r, _)| r.seq)
    }
}

/// How many threads hash records: every core (the reading thread mostly waits on SQLite).
fn hash_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .clamp(1, 4)
}

/// Read the archive boundary from the store.
pub fn base(tx: &dyn AuditStore) -> Result<Base> {
    tx.base()
}

/// Verify every record in `tx`'s audit table against `base` and the checkpoint expectations,
/// calling `visit` on each record (all of them, even after a problem: reports count them).
pub fn verify(
    tx: &dyn AuditStore,
    expectations: &[Expectation],
    visit: &mut Visit<'_>,
) -> Result<ChainReport> {
    let base = tx.base()?;
    let expected: BTreeMap<i64, &Expectation> = expectations.iter().map(|e| (e.seq, e)).collect();
    let mut problem: Option<Problem> = None;
    let mut next_seq = base.seq + 1;
    let mut prev_hash = base.hash.clone();
    let mut records = 0u64;
    let mut first_seq = None;
    let mut checked = 0u64;

    for (seq, e) in expected.range(..=base.seq) {
        checked += 1;
        if *seq == base.seq && e.hash != base.hash && problem.is_none() {
            problem = Some(Problem {
                seq: *seq,
                kind: ProblemKind::CheckpointMismatch,
                message: format!(
                    "the archive boundary (record {seq}) does not have the hash signed in a checkpoint"
                ),
            });
        }
    }

    // This thread reads rows into batches (SQLite connections stay on their thread), then checks
    // sequence numbers, links and checkpoints and visits each record, batch by batch; hashing
    // runs on worker threads (each record's hash depends only on its own stored fields), which
    // hand the batches back for reuse.
    let mut walk = |batch: &Batch| {
        for (r, _) in batch.decode() {
            records += 1;
            first_seq.get_or_insert(r.seq);
            visit(&r);
            if problem.is_none() {
                problem = check(&r, next_seq, &prev_hash, &expected);
                if problem.is_none() && expected.contains_key(&r.seq) {
                    checked += 1;
                }
            }
            next_seq = r.seq + 1;
            prev_hash.clear();
            prev_hash.push_str(r.hash);
        }
    };
    let threads = hash_threads();
    let (edited, read) = std::thread::scope(|s| -> Result<(Option<i64>, Result<()>)> {
        let (send, recv) = std::sync::mpsc::sync_channel::<Batch>(threads * 2);
        // Shared by the workers and dropped with the last of them, so sends cannot block forever.
        let recv = std::sync::Arc::new(std::sync::Mutex::new(recv));
        let (give_back, spare) = std::sync::mpsc::channel::<Batch>();
        let hashers: Vec<_> = (0..threads)
            .map(|_| {
                let (recv, give_back) = (recv.clone(), give_back.clone());
                s.spawn(move || {
                    let mut buf = Vec::with_capacity(512);
                    // A worker sees its batches in order, so its first mismatch is its lowest.
                    let mut found = None;
                    loop {
                        let next = match recv.lock() {
                            Ok(r) => r.recv(),
                            Err(_) => break,
                        };
                        let Ok(mut batch) = next else { break };
                        if found.is_none() {
                            found = batch.first_mismatch(&mut buf);
                        }
                        batch.clear();
                        let _ = give_back.send(batch);
                    }
                    found
                })
            })
            .collect();
        drop((recv, give_back));
        let mut batch = Batch::default();
        let read = tx.scan(&mut |row| {
            batch.push_row(row);
            if batch.slots.len() == BATCH {
                walk(&batch);
                let next = spare.try_recv().unwrap_or_default();
                // Workers run until the channel closes, so a send only fails if one panicked
                // (reported below).
                let _ = send.send(std::mem::replace(&mut batch, next));
            }
        });
        if read.is_ok() && !batch.slots.is_empty() {
            walk(&batch);
            let _ = send.send(batch);
        }
        drop(send);
        let mut edited: Option<i64> = None;
        for h in hashers {
            let found = h
                .join()
                .map_err(|_| crate::Error::Internal("an audit hashing thread panicked".into()))?;
            edited = match (edited, found) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        Ok((edited, read))
    })?;
    read?;
    if let Some(seq) = edited
        && problem.as_ref().is_none_or(|p| seq <= p.seq)
    {
        problem = Some(Problem {
            seq,
            kind: ProblemKind::Edited,
            message: format!("record {seq} does not match its hash (its contents were edited)"),
        });
    }
    let head_seq = next_seq - 1;
    if problem.is_none()
        && let Some((seq, e)) = expected.range(head_seq + 1..).next()
    {
        problem = Some(Problem {
            seq: head_seq + 1,
            kind: ProblemKind::Truncated,
            message: format!(
                "the chain ends at record {head_seq}, but a signed checkpoint taken at {} covers \
                 record {seq}: records {}..{seq} were deleted (truncated)",
                crate::audit::rfc3339(e.time),
                head_seq + 1
            ),
        });
    }
    Ok(ChainReport {
        ok: problem.is_none(),
        records,
        first_seq,
        head_seq,
        head_hash: prev_hash,
        base,
        checkpoints: checked,
        problem,
        notes: Vec::new(),
    })
}

fn check(
    r: &RecordRef<'_>,
    next_seq: i64,
    prev_hash: &str,
    expected: &BTreeMap<i64, &Expectation>,
) -> Option<Problem> {
    let seq = r.seq;
    if seq > next_seq {
        let what = if next_seq + 1 == seq {
            format!("record {next_seq} is missing")
        } else {
            format!("records {next_seq}..{} are missing", seq - 1)
        };
        return Some(Problem {
            seq: next_seq,
            kind: ProblemKind::Missing,
            message: format!("{what} (deleted)"),
        });
    }
    if r.prev_hash != prev_hash {
        return Some(Problem {
            seq,
            kind: ProblemKind::BrokenLink,
            message: format!(
                "record {seq} does not chain to record {}: records were inserted, deleted, \
                 reordered or rewritten before it",
                seq - 1
            ),
        });
    }
    if let Some(e) = expected.get(&seq)
        && e.hash != r.hash
    {
        return Some(Problem {
            seq,
            kind: ProblemKind::CheckpointMismatch,
            message: format!(
                "record {seq} is not the record signed in the checkpoint taken at {}: the chain \
                 was rewritten from here or earlier",
                crate::audit::rfc3339(e.time)
            ),
        });
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::audit::AuditStore;
    use crate::store::Store;
    use crate::store::testing::tamper;

    /// A store with a valid chain of `n` records (several batches, so several hashing threads).
    fn chain(n: i64) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("imx.db"), true).unwrap();
        let mut prev = crate::audit::GENESIS.to_string();
        let mut records = Vec::new();
        for seq in 1..=n {
            let mut r = crate::model::AuditRecord {
                seq,
                time: 1_000 * seq,
                actor: format!("user:u{}", seq % 7),
                source: "local".into(),
                action: "run.start".into(),
                target: format!("t\"{seq}\\é"),
                outcome: "ok".into(),
                details: serde_json::json!({ "n": seq, "s": "line\nbreak" }),
                prev_hash: prev,
                hash: String::new(),
            };
            r.hash = crate::audit::record_hash(&r);
            prev = r.hash.clone();
            records.push(r);
        }
        store.write(|tx| tamper::insert_raw(tx, &records)).unwrap();
        (dir, store)
    }

    const N: i64 = 3 * BATCH as i64 + 100;

    fn verified(store: &Store) -> (ChainReport, u64) {
        let mut visited = 0u64;
        let report = store
            .read(|tx| verify(tx, &[], &mut |_: &RecordRef<'_>| visited += 1))
            .unwrap();
        (report, visited)
    }

    fn tamper(
        store: &Store,
        f: impl FnOnce(&crate::store::testing::SqliteTx<'_>) -> crate::Result<()>,
    ) {
        store.write(f).unwrap();
    }

    fn first_problem(store: &Store) -> (i64, ProblemKind) {
        let (report, visited) = verified(store);
        assert!(!report.ok);
        assert_eq!(visited, report.records, "every record is visited");
        let p = report.problem.unwrap();
        (p.seq, p.kind)
    }

    #[test]
    fn a_long_valid_chain_verifies_and_every_record_is_visited() {
        let (_dir, store) = chain(N);
        let (report, visited) = verified(&store);
        assert!(report.ok, "{:?}", report.problem);
        assert_eq!((report.records, visited), (N as u64, N as u64));
        assert_eq!((report.first_seq, report.head_seq), (Some(1), N));
        let head = store.read(|tx| tx.hash_at(N)).unwrap();
        assert_eq!(Some(report.head_hash), head);
    }

    #[test]
    fn the_first_edited_record_is_named_whichever_thread_hashed_it() {
        // Edits in three different batches: the lowest wins.
        let (_dir, store) = chain(N);
        tamper(&store, |tx| {
            for seq in [9000, 4097, 12000] {
                tamper::set(tx, seq, "target", "x")?;
            }
            Ok(())
        });
        assert_eq!(first_problem(&store), (4097, ProblemKind::Edited));
        // The last record of a batch, and the very last record.
        let (_dir, store) = chain(N);
        tamper(&store, |tx| tamper::set(tx, 4096, "time", 1));
        assert_eq!(first_problem(&store), (4096, ProblemKind::Edited));
        let (_dir, store) = chain(N);
        tamper(&store, |tx| tamper::set(tx, N, "outcome", "denied"));
        assert_eq!(first_problem(&store), (N, ProblemKind::Edited));
    }

    #[test]
    fn deleted_and_relinked_records_are_caught_across_batches() {
        let (_dir, store) = chain(N);
        tamper(&store, |tx| tamper::delete(tx, 8193, 8193));
        assert_eq!(first_problem(&store), (8193, ProblemKind::Missing));
        // A record whose prev_hash was rewritten (and its own hash recomputed elsewhere) no
        // longer links; the edited-hash check names the same record.
        let (_dir, store) = chain(N);
        tamper(&store, |tx| {
            let hash = tx.hash_at(5000)?;
            tamper::set(tx, 6000, "prev_hash", hash)
        });
        assert_eq!(first_problem(&store).0, 6000);
    }

    #[test]
    fn text_that_is_not_utf8_or_not_text_is_an_edit() {
        // Invalid UTF-8 in one field.
        let (_dir, store) = chain(N);
        tamper(&store, |tx| {
            tamper::set_text_bytes(tx, 7000, "actor", b"\xff")
        });
        assert_eq!(first_problem(&store), (7000, ProblemKind::Edited));
        // A character split across two fields: the batch as a whole is valid UTF-8, but
        // neither field is.
        let (_dir, store) = chain(N);
        tamper(&store, |tx| {
            tamper::set_text_bytes(tx, 6000, "actor", b"\x61\xc3")?;
            tamper::set_text_bytes(tx, 6000, "source", b"\xa9\x62")
        });
        assert_eq!(first_problem(&store), (6000, ProblemKind::Edited));
        // A blob where text belongs, with the same bytes as the original text.
        let (_dir, store) = chain(N);
        tamper(&store, |tx| {
            tamper::set(tx, 10, "source", b"local".to_vec())
        });
        assert_eq!(first_problem(&store), (10, ProblemKind::Edited));
    }
}
