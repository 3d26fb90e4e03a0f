//! Verifying the chain in one streaming pass over the store: every record's hash against its
//! contents, every link against the previous record, sequence numbers without gaps, the archive
//! boundary left by `audit prune`, and the signed checkpoints kept outside the store (which is
//! what detects truncation: a chain that is merely shorter still links up).

use std::collections::BTreeMap;

use rusqlite::Transaction;
use serde::{Deserialize, Serialize};

use super::GENESIS;
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

/// Records per batch handed to the hashing thread.
const BATCH: usize = 2048;

/// Copied records for the hashing thread: their text fields back to back in one buffer.
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
    bad_type: bool,
}

impl Batch {
    fn push(&mut self, r: &RecordRef<'_>, bad_type: bool) {
        let mut ends = [0usize; 8];
        let fields = [
            r.actor,
            r.source,
            r.action,
            r.target,
            r.outcome,
            r.details,
            r.prev_hash,
            r.hash,
        ];
        for (end, f) in ends.iter_mut().zip(fields) {
            self.arena.extend_from_slice(f.as_bytes());
            *end = self.arena.len();
        }
        self.slots.push(Slot {
            seq: r.seq,
            time: r.time,
            ends,
            bad_type,
        });
    }

    /// The first record whose contents do not match its hash.
    fn first_mismatch(&self, buf: &mut Vec<u8>) -> Option<i64> {
        let mut start = 0;
        for slot in &self.slots {
            let mut f = [""; 8];
            let mut ok = !slot.bad_type;
            for (i, end) in slot.ends.iter().enumerate() {
                match std::str::from_utf8(&self.arena[start..*end]) {
                    Ok(s) => f[i] = s,
                    Err(_) => ok = false,
                }
                start = *end;
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
            if !ok || !canonical::matches(buf, &r) {
                return Some(slot.seq);
            }
        }
        None
    }
}

/// Read the archive boundary from the store's meta table.
pub fn base(tx: &Transaction<'_>) -> Result<Base> {
    let get = |key: &str| -> Result<Option<String>> {
        use rusqlite::OptionalExtension;
        Ok(tx
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    };
    match (get("audit_base_seq")?, get("audit_base_hash")?) {
        (Some(seq), Some(hash)) => Ok(Base {
            seq: seq.parse().unwrap_or(0),
            hash,
        }),
        _ => Ok(Base::default()),
    }
}

fn text<'r>(row: &'r rusqlite::Row<'_>, i: usize, bad: &mut bool) -> &'r str {
    match row.get_ref(i).ok().and_then(|v| v.as_str().ok()) {
        Some(s) => s,
        None => {
            *bad = true;
            ""
        }
    }
}

fn int(row: &rusqlite::Row<'_>, i: usize, bad: &mut bool) -> i64 {
    match row.get_ref(i).ok().and_then(|v| v.as_i64().ok()) {
        Some(n) => n,
        None => {
            *bad = true;
            0
        }
    }
}

/// Verify every record in `tx`'s audit table against `base` and the checkpoint expectations,
/// calling `visit` on each record (all of them, even after a problem: reports count them).
pub fn verify(
    tx: &Transaction<'_>,
    expectations: &[Expectation],
    visit: &mut Visit<'_>,
) -> Result<ChainReport> {
    let base = base(tx)?;
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

    let mut stmt = tx.prepare(
        "SELECT seq, time, actor, source, action, target, outcome, details, prev_hash, hash
         FROM audit ORDER BY seq",
    )?;
    let mut rows = stmt.query([])?;
    // Hashing runs on a second thread, fed batches of copied records; this thread reads rows,
    // checks sequence numbers, links and checkpoints, and visits each record.
    let (edited, read) = std::thread::scope(|s| -> Result<(Option<i64>, Result<()>)> {
        let (send, recv) = std::sync::mpsc::sync_channel::<Batch>(4);
        let hasher = s.spawn(move || {
            let mut buf = Vec::with_capacity(512);
            for batch in recv {
                if let Some(seq) = batch.first_mismatch(&mut buf) {
                    return Some(seq);
                }
            }
            None
        });
        let mut batch = Batch::default();
        let read = (|| -> Result<()> {
            while let Some(row) = rows.next()? {
                let mut bad_type = false;
                let r = RecordRef {
                    seq: int(row, 0, &mut bad_type),
                    time: int(row, 1, &mut bad_type),
                    actor: text(row, 2, &mut bad_type),
                    source: text(row, 3, &mut bad_type),
                    action: text(row, 4, &mut bad_type),
                    target: text(row, 5, &mut bad_type),
                    outcome: text(row, 6, &mut bad_type),
                    details: text(row, 7, &mut bad_type),
                    prev_hash: text(row, 8, &mut bad_type),
                    hash: text(row, 9, &mut bad_type),
                };
                records += 1;
                first_seq.get_or_insert(r.seq);
                visit(&r);
                if problem.is_none() {
                    problem = check(&r, next_seq, &prev_hash, &expected);
                    if problem.is_none() && expected.contains_key(&r.seq) {
                        checked += 1;
                    }
                }
                batch.push(&r, bad_type);
                if batch.slots.len() == BATCH && send.send(std::mem::take(&mut batch)).is_err() {
                    // The hasher stopped at a mismatch; keep reading for counts and visits.
                }
                next_seq = r.seq + 1;
                prev_hash.clear();
                prev_hash.push_str(r.hash);
            }
            Ok(())
        })();
        if !batch.slots.is_empty() {
            let _ = send.send(batch);
        }
        drop(send);
        let edited = hasher.join().unwrap_or(None);
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
