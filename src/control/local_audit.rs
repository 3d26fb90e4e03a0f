//! The local control plane's audit operations (issue 5): filtered reads, verification against
//! the archive boundary and the signed checkpoints, checkpoints, reports and retention.

use std::path::PathBuf;
use std::time::Duration;

use rusqlite::Transaction;

use super::CheckpointOutcome;
use super::local::LocalControlPlane;
use crate::audit::canonical::RecordRef;
use crate::audit::chain::{self, ChainReport, Expectation, Problem};
use crate::audit::prune::PruneOutcome;
use crate::audit::{
    self, AuditFilter, AuditKey, AuditReport, CheckpointKind, Window, checkpoint, report,
};
use crate::auth::{Permission, Principal};
use crate::model::{AuditRecord, now_ms};
use crate::{Error, Result};

impl LocalControlPlane {
    /// What the checkpoint log requires of this store's chain (or the log's own problem).
    fn expectations(
        &self,
        tx: &Transaction<'_>,
    ) -> Result<std::result::Result<Vec<Expectation>, Problem>> {
        let paths = self.audit_paths();
        let store_id = audit::store_id(tx)?;
        let trusted = AuditKey::load(&paths.key)?;
        let entries = checkpoint::load(&paths.checkpoints, &store_id)?;
        Ok(checkpoint::expectations(&entries, trusted.as_ref()))
    }

    /// Verify inside `tx`, visiting every record.
    fn verify_in(&self, tx: &Transaction<'_>, visit: &mut chain::Visit<'_>) -> Result<ChainReport> {
        match self.expectations(tx)? {
            Ok(exp) => chain::verify(tx, &exp, visit),
            Err(problem) => {
                let mut report = chain::verify(tx, &[], visit)?;
                if report.problem.is_none() {
                    report.ok = false;
                    report.problem = Some(problem);
                }
                Ok(report)
            }
        }
    }

    pub(super) fn do_audit_list(
        &self,
        who: &Principal,
        filter: AuditFilter,
    ) -> Result<Vec<AuditRecord>> {
        self.authorize(who, Permission::Read, "audit.list", "")?;
        self.store().read(|tx| audit::query::list(tx, &filter))
    }

    pub(super) fn do_audit_get(&self, who: &Principal, seq: i64) -> Result<AuditRecord> {
        self.authorize(who, Permission::Read, "audit.get", &seq.to_string())?;
        self.store().read(|tx| audit::query::get(tx, seq))
    }

    pub(super) fn do_audit_verify(&self, who: &Principal) -> Result<ChainReport> {
        self.authorize(who, Permission::Read, "audit.verify", "")?;
        self.store()
            .read(|tx| self.verify_in(tx, &mut |_: &RecordRef<'_>| {}))
    }

    pub(super) fn do_audit_checkpoint(&self, who: &Principal) -> Result<CheckpointOutcome> {
        self.authorize(who, Permission::Administer, "audit.checkpoint", "")?;
        let paths = self.audit_paths();
        let (key, key_created) = AuditKey::load_or_create(&paths.key)?;
        let cp = self.store().write(|tx| {
            // Never sign a chain that does not verify.
            let report = self.verify_in(tx, &mut |_: &RecordRef<'_>| {})?;
            if let Some(p) = report.problem {
                return Err(Error::Conflict(format!(
                    "the audit chain does not verify (first bad record {}: {}); not signing it",
                    p.seq, p.message
                )));
            }
            let store_id = audit::store_id(tx)?;
            let rec = audit::append(
                tx,
                who,
                "audit.checkpoint",
                &store_id,
                "ok",
                serde_json::json!({ "public_key": key.public_hex(), "log": paths.checkpoints }),
            )?;
            let cp = key.sign(
                CheckpointKind::Checkpoint,
                &store_id,
                rec.seq,
                &rec.hash,
                rec.time,
            );
            // Written before the commit: if the log cannot be written, nothing is recorded.
            checkpoint::append(&paths.checkpoints, &cp)?;
            Ok(cp)
        })?;
        Ok(CheckpointOutcome {
            checkpoint: cp,
            key_path: paths.key.clone(),
            key_created,
            log_path: paths.checkpoints.clone(),
        })
    }

    pub(super) fn do_audit_report(&self, who: &Principal, window: Window) -> Result<AuditReport> {
        self.authorize(who, Permission::Read, "audit.report", "")?;
        let location = self.path().display().to_string();
        self.store().read(|tx| {
            let mut report = match self.expectations(tx)? {
                Ok(exp) => report::build(tx, &location, window, &exp, now_ms())?,
                Err(problem) => {
                    let mut r = report::build(tx, &location, window, &[], now_ms())?;
                    if r.verification.problem.is_none() {
                        r.verification.ok = false;
                        r.verification.problem = Some(problem);
                    }
                    r
                }
            };
            report.location = format!("local {location}");
            if !who.can(Permission::Administer) {
                self.hide_paths(&mut report);
            }
            Ok(report)
        })
    }

    /// A report for a non-admin: neither the store's path nor the folders beside it (backups,
    /// archives), which its entries' targets and details name (issue 9).
    fn hide_paths(&self, report: &mut AuditReport) {
        report.location = super::local::HIDDEN.into();
        let mut paths: Vec<String> = [
            Some(self.path().to_path_buf()),
            self.path().parent().map(std::path::Path::to_path_buf),
            Some(self.backup_dir(None)),
        ]
        .into_iter()
        .flatten()
        .map(|p| p.display().to_string())
        .filter(|p| !p.is_empty())
        .collect();
        // JSON details hold paths escaped; scrub that spelling too.
        let escaped: Vec<String> = paths
            .iter()
            .filter_map(|p| serde_json::to_string(p).ok())
            .map(|q| q.trim_matches('"').to_string())
            .collect();
        paths.extend(escaped);
        paths.sort_by_key(|p| std::cmp::Reverse(p.len()));
        paths.dedup();
        for entries in [
            &mut report.auth_failures,
            &mut report.lockouts,
            &mut report.privilege_changes,
            &mut report.backups,
        ] {
            for e in &mut entries.recent {
                for p in &paths {
                    if e.details.contains(p.as_str()) {
                        e.details = e.details.replace(p.as_str(), super::local::HIDDEN);
                    }
                    if e.target.contains(p.as_str()) {
                        e.target = e.target.replace(p.as_str(), super::local::HIDDEN);
                    }
                }
            }
        }
    }

    pub(super) fn do_audit_prune(
        &self,
        who: &Principal,
        keep: Duration,
        archive_dir: Option<PathBuf>,
        dry_run: bool,
    ) -> Result<PruneOutcome> {
        self.authorize(who, Permission::Administer, "audit.prune", "")?;
        let cutoff = now_ms().saturating_sub(i64::try_from(keep.as_millis()).unwrap_or(i64::MAX));
        let dir = archive_dir.unwrap_or_else(|| {
            crate::backup::default_dir(self.path()).with_file_name("audit-archive")
        });
        let run = |tx: &Transaction<'_>| -> Result<PruneOutcome> {
            let report = self.verify_in(tx, &mut |_: &RecordRef<'_>| {})?;
            if let Some(p) = report.problem {
                return Err(Error::Conflict(format!(
                    "the audit chain does not verify (first bad record {}: {}); not archiving it",
                    p.seq, p.message
                )));
            }
            let store_id = audit::store_id(tx)?;
            audit::prune::prune(tx, &store_id, cutoff, &dir, dry_run)
        };
        if dry_run {
            return self.store().read(run);
        }
        self.store().write(|tx| {
            let out = run(tx)?;
            audit::append(
                tx,
                who,
                "audit.prune",
                &out.boundary.seq.to_string(),
                "ok",
                serde_json::json!({
                    "archived": out.archived,
                    "archive": out.archive,
                    "archive_sha256": out.archive_sha256,
                    "boundary_hash": out.boundary.hash,
                    "cutoff": out.cutoff,
                }),
            )?;
            Ok(out)
        })
    }
}
