//! Artifacts' metadata inside one store transaction (issue 13; the rules are in
//! `control::local_artifacts`): one `artifacts` row per file a step uploaded — run, step,
//! attempt, path, size, SHA-256, where the bytes are in the artifact storage, when.

use crate::Result;
use crate::model::Artifact;

/// Artifacts: SQL only, the same on every backend.
pub trait ArtifactsTx {
    /// Record `a`, replacing the artifact of the same run, step and path (a later attempt's);
    /// returns the replaced one's storage key, whose bytes the caller removes.
    fn put_artifact(&self, a: &Artifact) -> Result<Option<String>>;
    /// A run's artifacts, by step then path.
    fn list_artifacts(&self, run_id: &str) -> Result<Vec<Artifact>>;
    /// Up to `limit` artifacts stored before `cutoff`, oldest first.
    fn artifacts_before(&self, cutoff: i64, limit: u32) -> Result<Vec<Artifact>>;
    /// Delete an artifact's row; whether it was there.
    fn delete_artifact(&self, id: &str) -> Result<bool>;
}
