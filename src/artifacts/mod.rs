//! Artifacts (issue 13): the files a `run` step lists under `artifacts:`, uploaded by the agent
//! once the step succeeds, kept in an artifact storage, recorded in the store (run, step, path,
//! size, SHA-256, storage key), put in downstream steps' working directories (`inputs:`) and
//! downloadable by people (`imx run artifacts`, `imx artifact get`).
//!
//! - [`storage`]: where the bytes are — a folder beside the store by default, or S3-compatible
//!   object storage (`imx server --artifacts s3://bucket/prefix`), both through the
//!   `object_store` crate; uploads are streamed (never a whole file in memory), hashed and
//!   counted against the limits on the way.
//! - [`files`]: the agent's side — finding a step's files by its globs (never outside its
//!   working directory) and writing downloaded inputs into the next one's.
//! - [`ArtifactLimits`]: how much one step and one run may upload.

pub mod files;
pub mod storage;

use std::pin::Pin;

use bytes::Bytes;

use crate::model::Artifact;
use futures_util::Stream;

pub use storage::ArtifactStorage;

/// A stream of bytes: an upload's body or a download's content.
pub type ByteStream = Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>;

/// The default limit on the artifacts of one step attempt (all its files together): 5 GiB.
pub const DEFAULT_MAX_STEP_BYTES: u64 = 5 * 1024 * 1024 * 1024;

/// The default limit on the artifacts of one run: 20 GiB.
pub const DEFAULT_MAX_RUN_BYTES: u64 = 20 * 1024 * 1024 * 1024;

/// How much may be uploaded (`IMX_ARTIFACT_MAX_STEP`, `IMX_ARTIFACT_MAX_RUN` on the control
/// plane set them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArtifactLimits {
    /// Bytes of one step attempt's artifacts together.
    pub max_step_bytes: u64,
    /// Bytes of one run's artifacts together.
    pub max_run_bytes: u64,
}

impl Default for ArtifactLimits {
    fn default() -> Self {
        ArtifactLimits {
            max_step_bytes: DEFAULT_MAX_STEP_BYTES,
            max_run_bytes: DEFAULT_MAX_RUN_BYTES,
        }
    }
}

/// Why `path` is refused: the step's (`per = "step"`) or run's artifacts would pass `max`.
pub fn too_large(path: &str, per: &str, max: u64) -> String {
    let var = if per == "step" {
        "IMX_ARTIFACT_MAX_STEP"
    } else {
        "IMX_ARTIFACT_MAX_RUN"
    };
    format!(
        "artifact {path:?} is over the limit of {} ({max} bytes) per {per} \
         ({var} on the control plane sets it)",
        crate::engine::limits::human_size(max)
    )
}

/// The artifact `what` (an id, an id prefix of 6 or more, or a path) names among `all`.
pub fn find(all: &[Artifact], run: &str, what: &str) -> crate::Result<Artifact> {
    if let Some(a) = all.iter().find(|a| a.path == what || a.id == what) {
        // The same path from two steps: say so rather than pick one.
        let same: Vec<&Artifact> = all.iter().filter(|b| b.path == what).collect();
        if same.len() > 1 {
            return Err(crate::Error::invalid_with_hint(
                format!(
                    "run {run} has {} artifacts at {what:?} (from steps {})",
                    same.len(),
                    same.iter()
                        .map(|b| b.step_id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                "name one by its id (imx run artifacts RUN shows them)",
            ));
        }
        return Ok(a.clone());
    }
    let by_prefix: Vec<&Artifact> = if what.len() >= 6 {
        all.iter()
            .filter(|a| {
                a.id.to_ascii_lowercase()
                    .starts_with(&what.to_ascii_lowercase())
            })
            .collect()
    } else {
        Vec::new()
    };
    match by_prefix.as_slice() {
        [one] => Ok((*one).clone()),
        _ => Err(crate::Error::NotFoundHint {
            message: format!("run {run} has no artifact {what:?}"),
            hint: "imx run artifacts RUN lists them".into(),
        }),
    }
}
