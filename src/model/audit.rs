//! Audit records: one per mutation, chained by SHA-256.

use serde::{Deserialize, Serialize};

/// One record of the hash-chained audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditRecord {
    pub seq: i64,
    #[serde(with = "crate::model::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub time: i64,
    /// Who: `local:<os-user>`, `user:<name>`, `token:<name>`.
    pub actor: String,
    /// Where from: `local` or a network address.
    pub source: String,
    /// What: `workflow.apply`, `run.cancel`, `agent.drain`, ...
    pub action: String,
    pub target: String,
    /// `ok` or `denied` or `error`.
    pub outcome: String,
    pub details: serde_json::Value,
    /// Hash of the previous record (hex), or 64 zeros for the first.
    pub prev_hash: String,
    pub hash: String,
}
