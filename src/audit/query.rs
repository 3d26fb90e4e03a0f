//! Reading records: `audit list|tail|show|export` with filters (time window, actor, action,
//! target, outcome), paged by sequence number.

use serde::{Deserialize, Serialize};

use super::AuditStore;
use crate::Result;
use crate::model::AuditRecord;

/// Which records to read. Text filters match exactly, except `action`, which also matches a
/// prefix ending in `.` or `*` (`backup.` or `backup.*` matches `backup.create`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditFilter {
    /// At or after this time (ms).
    pub since: Option<i64>,
    /// Before this time (ms).
    pub until: Option<i64>,
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target: Option<String>,
    pub outcome: Option<String>,
    /// Only records with a larger seq (for paging and `tail -f`).
    pub after_seq: Option<i64>,
    /// At most this many (0: no limit).
    pub limit: u32,
    /// Newest first (then `limit` keeps the newest); results are still returned oldest first.
    pub newest: bool,
}

/// The records matching `f`, oldest first.
pub fn list(tx: &dyn AuditStore, f: &AuditFilter) -> Result<Vec<AuditRecord>> {
    tx.records(f)
}

/// One record by sequence number.
pub fn get(tx: &dyn AuditStore, seq: i64) -> Result<AuditRecord> {
    tx.record(seq)
}
