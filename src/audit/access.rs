//! What the audit tools need from a store, inside one of its transactions: the chain's rows,
//! its base and head, filtered reads, and the few writes (append, prune, identity). The store
//! implements it for its transactions (`store/sqlite/audit.rs`), so nothing here writes SQL and a
//! second backend provides the same.

use std::collections::BTreeMap;

use super::chain::Base;
use super::query::AuditFilter;
use crate::model::AuditRecord;
use crate::{Error, Result};

/// One stored row of the audit table as the store holds it, undecoded: a column that does not
/// hold the type the schema says (NULL, a blob, a number for text) is `None`, so verification
/// can call the record edited instead of failing the whole read.
#[derive(Debug, Clone, Copy)]
pub struct RawRecord<'a> {
    pub seq: Option<i64>,
    pub time: Option<i64>,
    /// actor, source, action, target, outcome, details, prev_hash, hash: the stored text bytes.
    pub text: [Option<&'a [u8]>; 8],
}

/// The audit table and its bookkeeping, read and written inside one transaction.
pub trait AuditStore {
    /// The store's identity (`"unknown"` when it has none).
    fn store_id(&self) -> Result<String>;
    /// Give the store a new identity (a restored copy gets its own).
    fn set_store_id(&self, id: &str) -> Result<()>;
    /// Where the chain starts: genesis, or the boundary left by `audit prune`.
    fn base(&self) -> Result<Base>;
    /// The last record's seq and hash, if the store holds any.
    fn head(&self) -> Result<Option<Base>>;
    /// Store one record (already chained and hashed).
    fn insert(&self, r: &AuditRecord) -> Result<()>;
    /// Every row in seq order, undecoded (verification reads millions).
    fn scan(&self, f: &mut dyn FnMut(&RawRecord<'_>)) -> Result<()>;
    /// The records matching `f`, oldest first.
    fn records(&self, f: &AuditFilter) -> Result<Vec<AuditRecord>>;
    /// One record by seq.
    fn record(&self, seq: i64) -> Result<AuditRecord>;
    /// Every record up to and including `seq`, in order.
    fn each_through(&self, seq: i64, f: &mut dyn FnMut(&AuditRecord) -> Result<()>) -> Result<()>;
    /// The hash of record `seq`, if the store holds it.
    fn hash_at(&self, seq: i64) -> Result<Option<String>>;
    /// Every distinct (actor, source) pair in the chain.
    fn principals(&self) -> Result<Vec<(String, String)>>;
    /// The last record older than `cutoff` (ms) and how many records go up to it.
    fn last_before(&self, cutoff: i64) -> Result<Option<(Base, u64)>>;
    /// Delete every record up to `boundary` and record it as the chain's new base.
    fn cut(&self, boundary: &Base) -> Result<()>;
    /// Runs created in `[since, until)` by status (for `audit report`).
    fn run_outcomes(&self, since: Option<i64>, until: Option<i64>)
    -> Result<BTreeMap<String, u64>>;

    /// Whether the store keeps the checkpoint log itself (a store shared by replicas on several
    /// hosts: PostgreSQL) rather than each host keeping a log file (SQLite).
    fn keeps_checkpoint_log(&self) -> bool {
        false
    }
    /// The stored checkpoint log's lines for `store_id`, in order.
    fn checkpoint_lines(&self, _store_id: &str) -> Result<Vec<String>> {
        Ok(Vec::new())
    }
    /// Append one line to the stored checkpoint log.
    fn append_checkpoint_line(&self, _store_id: &str, _line: &str) -> Result<()> {
        Err(Error::Internal("this store keeps no checkpoint log".into()))
    }
    /// The public key (hex) recorded as the one that signs the stored log's checkpoints.
    fn checkpoint_key(&self) -> Result<Option<String>> {
        Ok(None)
    }
    /// Record the public key that signs the stored log's checkpoints.
    fn set_checkpoint_key(&self, _public_hex: &str) -> Result<()> {
        Err(Error::Internal("this store keeps no checkpoint log".into()))
    }
}
