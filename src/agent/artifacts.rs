//! A `run` step's artifacts on the agent's side (issue 13): before it starts, the artifacts of
//! its `inputs:` steps are downloaded into its working directory (checked against their
//! SHA-256); once it has succeeded, the files its `artifacts:` globs match there are uploaded
//! one by one, streamed — through the server when the control plane is remote, straight into
//! the artifact storage when it is local. Over the step's limit, the step fails naming the file
//! and the limit, before anything is sent.

use std::path::Path;

use crate::artifacts::{files, too_large};
use crate::auth::Principal;
use crate::control::Plane;
use crate::engine::limits::human_size;
use crate::model::{LogStream, StepTask};

use super::logs::LogSink;

/// What a step's executor needs to move its artifacts.
#[derive(Clone)]
pub struct ArtifactClient {
    pub(crate) plane: Plane,
    pub(crate) who: Principal,
}

impl ArtifactClient {
    /// Put the artifacts of `task`'s input steps in `dir` (owned by `owner`, the step's user,
    /// when given). An error says what failed; the step fails with it.
    pub(crate) async fn fetch_inputs(
        &self,
        task: &StepTask,
        dir: &Path,
        owner: Option<(u32, u32)>,
        logs: &LogSink,
    ) -> Result<(), String> {
        if task.inputs.is_empty() {
            return Ok(());
        }
        let all = self
            .plane
            .lease_artifacts(&self.who, &task.lease)
            .await
            .map_err(|e| format!("cannot list the step's inputs: {e}"))?;
        let mut files_in = 0usize;
        let mut bytes = 0u64;
        for a in all.iter().filter(|a| task.inputs.contains(&a.step_id)) {
            let body = self
                .plane
                .download_lease_artifact(&self.who, &task.lease, &a.id)
                .await
                .map_err(|e| {
                    format!(
                        "cannot download input {} of step {}: {e}",
                        a.path, a.step_id
                    )
                })?;
            let (n, sha) = files::write(dir, &a.path, body)
                .await
                .map_err(|e| format!("input {} of step {}: {e}", a.path, a.step_id))?;
            if n != a.size || sha != a.sha256 {
                return Err(format!(
                    "input {} of step {} arrived damaged: {n} bytes with SHA-256 {sha}, \
                     expected {} bytes with {}",
                    a.path, a.step_id, a.size, a.sha256
                ));
            }
            if let Some((uid, gid)) = owner {
                give(dir, &a.path, uid, gid)
                    .map_err(|e| format!("cannot hand input {} to the step's user: {e}", a.path))?;
            }
            files_in += 1;
            bytes += n;
        }
        logs.push(
            LogStream::System,
            format!(
                "imx: {files_in} input file(s), {}, from {}",
                human_size(bytes),
                task.inputs.join(", ")
            ),
        );
        Ok(())
    }

    /// Upload the files `task`'s `artifacts:` match in `dir`. An error says what failed (a
    /// pattern that matched nothing, a file over the limit, the upload); the step fails with it.
    pub(crate) async fn upload(
        &self,
        task: &StepTask,
        dir: &Path,
        logs: &LogSink,
    ) -> Result<(), String> {
        if task.artifacts.is_empty() {
            return Ok(());
        }
        let (d, patterns) = (dir.to_path_buf(), task.artifacts.clone());
        let found = tokio::task::spawn_blocking(move || files::collect(&d, &patterns))
            .await
            .map_err(|e| format!("cannot look for the artifacts: {e}"))??;
        if let Some(max) = task.max_artifact_bytes {
            let mut total = 0u64;
            for f in &found {
                total = total.saturating_add(f.size);
                if total > max {
                    return Err(too_large(&f.path, "step", max));
                }
            }
        }
        let mut bytes = 0u64;
        for f in &found {
            let body = files::read(&f.file)
                .await
                .map_err(|e| format!("cannot read artifact {}: {e}", f.path))?;
            let stored = self
                .plane
                .upload_artifact(&self.who, &task.lease, &f.path, body)
                .await
                .map_err(|e| format!("cannot upload artifact {}: {e}", f.path))?;
            bytes += stored.size;
        }
        logs.push(
            LogStream::System,
            format!(
                "imx: uploaded {} artifact(s), {}",
                found.len(),
                human_size(bytes)
            ),
        );
        Ok(())
    }
}

/// Give `path` under `dir`, and the folders made for it, to the step's user.
fn give(dir: &Path, path: &str, uid: u32, gid: u32) -> std::io::Result<()> {
    let mut at = dir.to_path_buf();
    for part in path.split('/') {
        at.push(part);
        std::os::unix::fs::chown(&at, Some(uid), Some(gid))?;
    }
    Ok(())
}
