//! The local control plane's artifacts (issue 13): an agent holding a step's lease uploads the
//! step's files ([`LocalControlPlane::do_upload_artifact`]: streamed into the artifact storage,
//! hashed, counted against the per-step and per-run limits — over either, nothing is kept and
//! the error names the file and the limit — then recorded, replacing an earlier attempt's file
//! of the same path) and reads the run's artifacts for the step's `inputs:`; people list and
//! download a run's artifacts (read; each download is audited as `artifact.get`, naming the
//! run, step and path); retention deletes the old ones, bytes then rows, audited as one
//! `artifact.prune` record.
//!
//! Where the bytes go: the storage given to the plane ([`LocalControlPlane::with_artifacts`],
//! `imx server --artifacts`), else a folder beside a SQLite store, made on first use; a
//! PostgreSQL store without one keeps no artifacts (an upload says how to give it one).

use serde_json::json;

use super::local::LocalControlPlane;
use crate::artifacts::storage::{PutError, beside};
use crate::artifacts::{ArtifactStorage, ByteStream, find, too_large};
use crate::auth::{Permission, Principal};
use crate::model::{
    Artifact, ArtifactPrune, ArtifactPruneReport, LeaseRef, check_artifact_path, new_id, now_ms,
};
use crate::{Error, Result, audit};

/// Artifacts deleted per batch by retention.
const PRUNE_BATCH: u32 = 500;

/// The most artifacts a dry run counts.
const DRY_RUN_MAX: u32 = 10_000_000;

impl LocalControlPlane {
    /// Where artifacts are kept (made on first use beside a SQLite store).
    pub(super) fn artifact_storage(&self) -> Result<ArtifactStorage> {
        if let Some(s) = self.artifacts.get() {
            return Ok(s.clone());
        }
        let Some(sqlite) = self.store().as_sqlite() else {
            return Err(Error::invalid_with_hint(
                "this control plane keeps no artifacts: its PostgreSQL store needs an artifact \
                 storage",
                "start imx server with --artifacts s3://bucket/prefix (or a folder every replica \
                 shares)",
            ));
        };
        let made = ArtifactStorage::folder(&beside(sqlite.path()))?;
        Ok(self.artifacts.get_or_init(|| made).clone())
    }

    /// The lease must be `who`'s agent's and still held.
    fn check_lease(&self, who: &Principal, action: &str, lease: &LeaseRef) -> Result<()> {
        self.authorize(who, Permission::Work, action, &lease.run_id)?;
        self.check_agent(who, action, &lease.run_id, &lease.agent_id)?;
        let reply = self
            .store()
            .read_quick(|tx| tx.check_leases(&lease.agent_id, std::slice::from_ref(lease)))?;
        if reply.renewed.contains(lease) {
            Ok(())
        } else {
            Err(Error::Conflict(format!(
                "the lease on step {} of run {} (attempt {}) is gone",
                lease.step_id, lease.run_id, lease.attempt
            )))
        }
    }

    pub(super) async fn do_upload_artifact(
        &self,
        who: &Principal,
        lease: &LeaseRef,
        path: &str,
        body: ByteStream,
    ) -> Result<Artifact> {
        check_artifact_path(path).map_err(Error::invalid)?;
        self.check_lease(who, "artifact.upload", lease)?;
        let storage = self.artifact_storage()?;
        let existing = self
            .store()
            .read_quick(|tx| tx.list_artifacts(&lease.run_id))?;
        let replaced = |a: &Artifact| a.step_id == lease.step_id && a.path == path;
        let run_used: u64 = existing
            .iter()
            .filter(|a| !replaced(a))
            .map(|a| a.size)
            .sum();
        let step_used: u64 = existing
            .iter()
            .filter(|a| a.step_id == lease.step_id && a.attempt == lease.attempt && !replaced(a))
            .map(|a| a.size)
            .sum();
        let limits = self.artifact_limits;
        let step_left = limits.max_step_bytes.saturating_sub(step_used);
        let run_left = limits.max_run_bytes.saturating_sub(run_used);
        let (limit, per, max) = if step_left <= run_left {
            (step_left, "step", limits.max_step_bytes)
        } else {
            (run_left, "run", limits.max_run_bytes)
        };
        let id = new_id();
        let key = format!("{}/{id}", lease.run_id);
        let stored = match storage.put(&key, body, limit).await {
            Ok(stored) => stored,
            Err(PutError::TooLarge) => return Err(Error::invalid(too_large(path, per, max))),
            Err(PutError::Failed(e)) => return Err(e),
        };
        let artifact = Artifact {
            id,
            run_id: lease.run_id.clone(),
            step_id: lease.step_id.clone(),
            attempt: lease.attempt,
            path: path.to_string(),
            size: stored.size,
            sha256: stored.sha256,
            created_at: now_ms(),
            storage_key: key.clone(),
        };
        // The lease may have gone while the bytes travelled: then they are not kept.
        let recorded = self
            .check_lease(who, "artifact.upload", lease)
            .and_then(|()| self.store().write(|tx| tx.put_artifact(&artifact)));
        match recorded {
            Ok(old) => {
                if let Some(old) = old {
                    let _ = storage.delete(&old).await;
                }
                Ok(artifact)
            }
            Err(e) => {
                let _ = storage.delete(&key).await;
                Err(e)
            }
        }
    }

    pub(super) fn do_list_artifacts(&self, who: &Principal, run: &str) -> Result<Vec<Artifact>> {
        self.authorize(who, Permission::Read, "artifact.list", run)?;
        self.store().read_quick(|tx| {
            let id = tx.resolve_run_id(run)?;
            tx.list_artifacts(&id)
        })
    }

    pub(super) async fn do_download_artifact(
        &self,
        who: &Principal,
        run: &str,
        what: &str,
    ) -> Result<(Artifact, ByteStream)> {
        self.authorize(who, Permission::Read, "artifact.get", run)?;
        let all = self.store().read_quick(|tx| {
            let id = tx.resolve_run_id(run)?;
            tx.list_artifacts(&id)
        })?;
        let found = find(&all, run, what)?;
        let bytes = self.artifact_storage()?.get(&found.storage_key).await?;
        // Fail closed, as a backup download: bytes that cannot be audited are not served.
        self.store().write(|tx| {
            audit::append(
                tx,
                who,
                "artifact.get",
                &format!("{}/{}", found.run_id, found.step_id),
                "ok",
                json!({
                    "run": found.run_id,
                    "step": found.step_id,
                    "path": found.path,
                    "artifact": found.id,
                    "attempt": found.attempt,
                    "size": found.size,
                    "sha256": found.sha256,
                }),
            )
        })?;
        Ok((found, bytes))
    }

    pub(super) fn do_lease_artifacts(
        &self,
        who: &Principal,
        lease: &LeaseRef,
    ) -> Result<Vec<Artifact>> {
        self.check_lease(who, "artifact.inputs", lease)?;
        self.store()
            .read_quick(|tx| tx.list_artifacts(&lease.run_id))
    }

    pub(super) async fn do_download_lease_artifact(
        &self,
        who: &Principal,
        lease: &LeaseRef,
        id: &str,
    ) -> Result<ByteStream> {
        let all = self.do_lease_artifacts(who, lease)?;
        let Some(found) = all.into_iter().find(|a| a.id == id) else {
            return Err(Error::not_found("artifact", id));
        };
        self.artifact_storage()?.get(&found.storage_key).await
    }

    pub(super) async fn do_prune_artifacts(
        &self,
        who: &Principal,
        req: ArtifactPrune,
    ) -> Result<ArtifactPruneReport> {
        self.authorize(who, Permission::Administer, "artifact.prune", "")?;
        let cutoff = super::local_retention::cutoff(req.older_than_ms);
        if req.dry_run {
            let old = self
                .store()
                .read(|tx| tx.artifacts_before(cutoff, DRY_RUN_MAX))?;
            return Ok(ArtifactPruneReport {
                cutoff,
                dry_run: true,
                artifacts: old.len() as u64,
                bytes: old.iter().map(|a| a.size).sum(),
            });
        }
        self.prune_artifacts_before(who, req.older_than_ms, cutoff, true)
            .await
    }

    /// Delete the artifacts stored before `cutoff` (bytes, then rows) and audit it as one
    /// `artifact.prune` record — when anything went, or always with `record_empty`.
    pub(super) async fn prune_artifacts_before(
        &self,
        who: &Principal,
        older_than_ms: u64,
        cutoff: i64,
        record_empty: bool,
    ) -> Result<ArtifactPruneReport> {
        let mut report = ArtifactPruneReport {
            cutoff,
            ..ArtifactPruneReport::default()
        };
        let outcome: Result<()> = async {
            loop {
                let batch = self
                    .store()
                    .read(|tx| tx.artifacts_before(cutoff, PRUNE_BATCH))?;
                if batch.is_empty() {
                    return Ok(());
                }
                let storage = self.artifact_storage()?;
                for a in &batch {
                    storage.delete(&a.storage_key).await?;
                    if self.store().write(|tx| tx.delete_artifact(&a.id))? {
                        report.artifacts += 1;
                        report.bytes += a.size;
                    }
                }
            }
        }
        .await;
        let details = |r: &ArtifactPruneReport| {
            json!({
                "older_than_ms": older_than_ms,
                "cutoff": crate::model::time::json(cutoff),
                "artifacts": r.artifacts,
                "bytes": r.bytes,
            })
        };
        match outcome {
            Ok(()) => {
                if record_empty || report.artifacts > 0 {
                    self.store().write(|tx| {
                        audit::append(tx, who, "artifact.prune", "", "ok", details(&report))
                    })?;
                }
                Ok(report)
            }
            Err(e) => {
                let mut d = details(&report);
                d["error"] = e.to_string().into();
                let _ = self
                    .store()
                    .write(|tx| audit::append(tx, who, "artifact.prune", "", "error", d.clone()));
                Err(e)
            }
        }
    }
}
