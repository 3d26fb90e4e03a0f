//! Artifacts (issue 13): files a `run` step leaves behind for the steps after it and for
//! people, as the store records them — which run, step and attempt made each, its path in the
//! step's working directory, size and SHA-256. The bytes are in the artifact storage (a folder
//! beside the store, or S3-compatible object storage), under `storage_key`.

use serde::{Deserialize, Serialize};

/// One stored artifact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Artifact {
    /// Its id (a ULID): `imx artifact get RUN ID` takes it as well as the path.
    pub id: String,
    pub run_id: String,
    /// The step that made it.
    pub step_id: String,
    /// The attempt of that step that uploaded it.
    pub attempt: u32,
    /// Where it was in the step's working directory (relative, `/`-separated); where
    /// `inputs:` puts it in a downstream step's.
    pub path: String,
    /// Bytes.
    pub size: u64,
    /// Lowercase hex SHA-256 of its bytes.
    pub sha256: String,
    /// When it was stored.
    #[serde(with = "crate::model::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
    /// Where its bytes are in the artifact storage (never sent: only the control plane reads it).
    #[serde(skip)]
    #[schema(ignore)]
    pub storage_key: String,
}

/// What `imx artifact prune` asks for (also the body of `POST /api/v1/artifacts/prune`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArtifactPrune {
    /// Artifacts stored longer ago than this (ms) go.
    pub older_than_ms: u64,
    /// Only count what would go.
    #[serde(default)]
    pub dry_run: bool,
}

/// What `imx artifact prune` did (or, in a dry run, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ArtifactPruneReport {
    /// Artifacts stored before this time were (or would be) deleted.
    #[serde(with = "crate::model::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub cutoff: i64,
    pub dry_run: bool,
    /// How many artifacts.
    pub artifacts: u64,
    /// Their bytes.
    pub bytes: u64,
}

/// Whether `path` may name an artifact: relative, `/`-separated, no empty, `.` or `..`
/// component, no NUL or backslash, at most 1024 bytes. Returns why not.
pub fn check_artifact_path(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err("an artifact's path is empty".into());
    }
    if path.len() > 1024 {
        return Err(format!(
            "the artifact path {:?}... is longer than 1024 bytes",
            &path[..path.floor_char_boundary(40)]
        ));
    }
    if path.starts_with('/') {
        return Err(format!(
            "the artifact path {path:?} is absolute; artifacts are relative to the step's working directory"
        ));
    }
    if path.contains('\0') || path.contains('\\') {
        return Err(format!(
            "the artifact path {path:?} holds a NUL or a backslash"
        ));
    }
    if path
        .split('/')
        .any(|c| c.is_empty() || c == "." || c == "..")
    {
        return Err(format!(
            "the artifact path {path:?} has an empty, `.` or `..` component"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_working_directory() {
        assert!(check_artifact_path("dist/app.tar.gz").is_ok());
        assert!(check_artifact_path("a").is_ok());
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../b",
            "a//b",
            "./a",
            "a/",
            "a\\b",
        ] {
            assert!(check_artifact_path(bad).is_err(), "{bad:?}");
        }
    }
}
