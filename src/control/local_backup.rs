//! The local control plane's backup operations (issue 5): authorization, the backup library
//! calls and their audit records. A failed create, verify or restore is audited with outcome
//! `error` before the error is returned.

use std::path::{Path, PathBuf};

use super::RestoreRequest;
use super::local::LocalControlPlane;
use crate::audit::{self, AuditKey, CheckpointKind};
use crate::auth::{Permission, Principal};
use crate::backup::catalog::{self, Catalog};
use crate::backup::{
    self, BackupFormat, BackupInfo, CreateOptions, KeySource, Progress, PruneReport,
    RestoreOptions, RestoreReport, RetentionPolicy, VerifyReport, retention,
};
use crate::store::Store;
use crate::{Error, Result};

impl LocalControlPlane {
    /// The backup folder: `dir`, else the store's backup location (`imx backup location DIR`,
    /// the same for every replica and host), else the one set with `with_backup_dir` (`imx
    /// server --backup-dir`), else `backups/` beside the store (a SQLite store; on another
    /// backend one of the others is needed).
    pub fn backup_dir(&self, dir: Option<PathBuf>) -> Result<PathBuf> {
        if let Some(dir) = dir {
            return Ok(dir);
        }
        let (dir, _) = self.default_backup_location()?;
        Ok(dir)
    }

    /// Where backups go when no folder is given, and where that comes from (see
    /// [`Self::backup_dir`]).
    fn default_backup_location(&self) -> Result<(PathBuf, &'static str)> {
        if let Some(set) = self.store().read_quick(|tx| tx.backup_location())? {
            return Ok((PathBuf::from(set), "setting"));
        }
        if let Some(dir) = self.default_backup_dir() {
            return Ok((dir.to_path_buf(), "server"));
        }
        let store = self.sqlite_path(
            "a default backup folder beside the store",
            "set one for the store (imx backup location DIR), or give one (--dir, or imx \
             server --backup-dir)",
        )?;
        Ok((backup::default_dir(store), "store"))
    }

    pub(super) fn do_backup_location(&self) -> Result<crate::control::BackupLocation> {
        let setting = self
            .store()
            .read_quick(|tx| tx.backup_location())?
            .map(PathBuf::from);
        let (effective, source) = match self.default_backup_location() {
            Ok((dir, source)) => (Some(dir), Some(source.to_string())),
            Err(Error::NeedsSqlite { .. }) => (None, None),
            Err(e) => return Err(e),
        };
        Ok(crate::control::BackupLocation {
            setting,
            effective,
            source,
        })
    }

    pub(super) fn do_set_backup_location(
        &self,
        who: &Principal,
        dir: Option<PathBuf>,
    ) -> Result<crate::control::BackupLocation> {
        self.authorize(
            who,
            Permission::Administer,
            "store.configure",
            "backup_location",
        )?;
        let text = match &dir {
            Some(d) if d.as_os_str().as_encoded_bytes().contains(&0) => {
                return Err(Error::invalid(
                    "the backup location must not contain a NUL byte",
                ));
            }
            Some(d) if !d.is_absolute() => {
                return Err(Error::invalid(format!(
                    "{}: the backup location must be an absolute path (every replica and host \
                     uses it as it is)",
                    d.display()
                )));
            }
            Some(d) => Some(
                d.to_str()
                    .map(str::to_string)
                    .ok_or_else(|| Error::invalid(format!("{}: not valid UTF-8", d.display())))?,
            ),
            None => None,
        };
        self.store().write(|tx| {
            tx.set_backup_location(text.as_deref())?;
            audit::append(
                tx,
                who,
                "store.configure",
                "backup_location",
                "ok",
                serde_json::json!({ "backup_location": text }),
            )?;
            Ok(())
        })?;
        self.do_backup_location()
    }

    /// Record the failure of an operation (best effort) and return the error.
    fn audit_error(&self, who: &Principal, action: &str, target: &str, e: Error) -> Error {
        let _ = self.store().write(|tx| {
            audit::append(
                tx,
                who,
                action,
                target,
                "error",
                serde_json::json!({ "error": e.to_string() }),
            )
        });
        e
    }

    pub(super) fn do_create_backup(
        &self,
        who: &Principal,
        opts: CreateOptions,
        progress: &dyn Progress,
    ) -> Result<BackupInfo> {
        self.authorize(who, Permission::Backup, "backup.create", "")?;
        // Given a place to write to, the default folder goes unused (another backend may have
        // none).
        let dir = match self.backup_dir(None) {
            Ok(dir) => dir,
            Err(_) if opts.out.is_some() => PathBuf::new(),
            Err(e) => return Err(e),
        };
        let id_hint = opts
            .out
            .as_ref()
            .map_or_else(|| dir.display().to_string(), |p| p.display().to_string());
        // A store's own format unless one was asked for: a SQLite store's snapshot, a logical
        // export of any other store.
        let format = opts.format.unwrap_or(if self.path().is_some() {
            BackupFormat::Sqlite
        } else {
            BackupFormat::Logical
        });
        let opts = CreateOptions {
            format: Some(format),
            ..opts
        };
        let result = match format {
            BackupFormat::Sqlite => self
                .sqlite_path(
                    "a backup in the sqlite format",
                    "on PostgreSQL use the logical format (--format logical)",
                )
                .and_then(|store| backup::create::sqlite(store, &dir, &who.name, &opts, progress)),
            BackupFormat::Logical => {
                let source = self.store().location();
                // Feed numbers are kept: give rows committed so far theirs first.
                self.store().sync_feeds()?;
                self.store().read(|tx| {
                    backup::create::logical(tx, &source, &dir, &who.name, &opts, progress)
                })
            }
        };
        let info = result.map_err(|e| self.audit_error(who, "backup.create", &id_hint, e))?;
        let m = &info.manifest;
        self.store().write(|tx| {
            audit::append(
                tx,
                who,
                "backup.create",
                &m.id,
                "ok",
                serde_json::json!({
                    "path": info.path,
                    "size": info.size,
                    "format": m.format,
                    "encrypted": m.encryption.is_some(),
                    "sha256": m.payload_sha256,
                    "audit_head": m.audit_head.seq,
                    "note": m.note,
                }),
            )
        })?;
        Ok(shown(who, info))
    }

    pub(super) fn do_list_backups(&self, who: &Principal, dir: Option<PathBuf>) -> Result<Catalog> {
        self.authorize(who, Permission::Backup, "backup.list", "")?;
        let mut cat = catalog::scan(&self.backup_dir(dir)?)?;
        // Restores into the store's folder work beside it (a SQLite store's).
        if let Some(store) = self.path() {
            let store_dir = store.parent().filter(|d| !d.as_os_str().is_empty());
            let store_dir = store_dir.unwrap_or(Path::new("."));
            cat.incomplete.extend(backup::scratch::find(
                store_dir,
                backup::scratch::Kind::Restore,
            ));
        }
        if !who.can(Permission::Administer) {
            cat.backups = cat.backups.into_iter().map(|b| shown(who, b)).collect();
            for entry in &mut cat.unreadable {
                let full = entry.path.display().to_string();
                entry.path = file_name(&entry.path);
                entry.problem = entry
                    .problem
                    .replace(&full, &entry.path.display().to_string());
            }
            for left in &mut cat.incomplete {
                left.path = file_name(&left.path);
            }
        }
        Ok(cat)
    }

    pub(super) fn do_show_backup(
        &self,
        who: &Principal,
        dir: Option<PathBuf>,
        what: &str,
    ) -> Result<BackupInfo> {
        self.authorize(who, Permission::Backup, "backup.show", what)?;
        let path = catalog::resolve(&self.backup_dir(dir)?, what)?;
        let opened = backup::container::open(&path)?;
        Ok(shown(
            who,
            BackupInfo {
                path,
                size: opened.file_size,
                manifest: opened.manifest,
                duration_ms: None,
            },
        ))
    }

    pub(super) fn do_download_backup_file(
        &self,
        who: &Principal,
        dir: Option<PathBuf>,
        what: &str,
    ) -> Result<BackupInfo> {
        // A backup holds every password hash and token hash: admins only (issue 9).
        self.authorize(who, Permission::Administer, "backup.download", what)?;
        let path = catalog::resolve(&self.backup_dir(dir)?, what)?;
        let opened = backup::container::open(&path)?;
        let info = BackupInfo {
            path,
            size: opened.file_size,
            manifest: opened.manifest,
            duration_ms: None,
        };
        // Fail closed: a download that cannot be audited is not served.
        self.store().write(|tx| {
            audit::append(
                tx,
                who,
                "backup.download",
                &info.manifest.id,
                "ok",
                serde_json::json!({
                    "path": info.path,
                    "size": info.size,
                    "sha256": info.manifest.payload_sha256,
                    "encrypted": info.manifest.encryption.is_some(),
                }),
            )
        })?;
        Ok(info)
    }

    pub(super) fn do_verify_backup(
        &self,
        who: &Principal,
        dir: Option<PathBuf>,
        what: &str,
        key: Option<KeySource>,
        integrity: backup::Integrity,
        progress: &dyn Progress,
    ) -> Result<VerifyReport> {
        self.authorize(who, Permission::Backup, "backup.verify", what)?;
        let result = self
            .backup_dir(dir)
            .and_then(|dir| catalog::resolve(&dir, what))
            .and_then(|path| backup::verify::verify(&path, key.as_ref(), integrity, progress));
        let report = result.map_err(|e| self.audit_error(who, "backup.verify", what, e))?;
        self.store().write(|tx| {
            audit::append(
                tx,
                who,
                "backup.verify",
                &report.id,
                "ok",
                serde_json::json!({ "path": report.path, "audit_head": report.audit.head_seq }),
            )
        })?;
        let mut report = report;
        if let Some(r) = self.redactor(who) {
            report.path = file_name(&report.path);
            report.notes.iter_mut().for_each(|n| r.text(n));
            super::local_audit::hide_in_chain_report(&r, &mut report.audit);
        }
        Ok(report)
    }

    pub(super) fn do_restore_backup(
        &self,
        who: &Principal,
        req: RestoreRequest,
        progress: &dyn Progress,
    ) -> Result<RestoreReport> {
        self.authorize(who, Permission::Administer, "backup.restore", &req.backup)?;
        let result = self.restore_inner(who, &req, progress);
        result.map_err(|e| self.audit_error(who, "backup.restore", &req.backup, e))
    }

    fn restore_inner(
        &self,
        who: &Principal,
        req: &RestoreRequest,
        progress: &dyn Progress,
    ) -> Result<RestoreReport> {
        let path = catalog::resolve(&self.backup_dir(req.dir.clone())?, &req.backup)?;
        // A restore writes a SQLite file: over this store if it is one, else where --to says.
        let own_path = self.path();
        let target = match (&req.to, own_path) {
            (Some(to), _) => to.clone(),
            (None, Some(own)) => own.to_path_buf(),
            // Another kind of store: the backup's rows are copied into it (see local_restore).
            (None, None) => return self.restore_into_backend(who, path, req, progress),
        };
        let opts = RestoreOptions {
            backup: path,
            target: target.clone(),
            force: req.force,
            key: req.key.clone(),
            integrity: req.integrity,
        };
        // Restoring anywhere but over this store makes a copy: it gets an identity of its own,
        // and this store's checkpoint log is left alone.
        let own = own_path.is_some_and(|p| same_file(&target, p));
        let mut head = None;
        let mut copy = None;
        let after = |db: &Path| -> Result<()> {
            // The restore is audited in the restored store, chained to the backup's head. A
            // restore always makes a SQLite file (the physical format), so it is opened as one.
            let store = Store::open(db, false)?;
            let rec = store.write(|tx| {
                let id = audit::store_id(tx)?;
                let mut details = serde_json::json!({ "backup": opts.backup, "force": opts.force });
                if !own {
                    let new_id = new_store_id();
                    crate::audit::AuditStore::set_store_id(tx, &new_id)?;
                    details["store_id"] = new_id.clone().into();
                    details["copy_of"] = id.clone().into();
                    copy = Some(backup::CopyIdentity {
                        store_id: new_id,
                        copy_of: id.clone(),
                    });
                }
                let rec = audit::append(
                    tx,
                    who,
                    "backup.restore",
                    &target.display().to_string(),
                    "ok",
                    details,
                )?;
                Ok((id, rec))
            })?;
            head = Some(rec);
            Ok(())
        };
        let mut report = if let Some(sqlite) = self.store().as_sqlite().filter(|_| own) {
            let restored = sqlite.with_closed(|| backup::restore::restore(&opts, progress, after));
            // The restored store has its own tokens and users.
            self.forget_verified_tokens();
            restored?
        } else {
            backup::restore::restore(&opts, progress, after)?
        };
        report.copy = copy;
        self.note_restored_head(head.filter(|_| own))?;
        Ok(report)
    }

    pub(super) fn do_prune_backups(
        &self,
        who: &Principal,
        dir: Option<PathBuf>,
        policy: RetentionPolicy,
        dry_run: bool,
    ) -> Result<PruneReport> {
        self.authorize(who, Permission::Administer, "backup.prune", "")?;
        let dir = self.backup_dir(dir)?;
        let cat = catalog::scan(&dir)?;
        let decisions = retention::plan(&cat.backups, &policy)?;
        let mut removed = 0;
        let mut freed = 0;
        if !dry_run {
            for d in decisions.iter().filter(|d| !d.keep) {
                std::fs::remove_file(&d.path)
                    .map_err(|e| Error::io(format!("removing {}", d.path.display()), e))?;
                removed += 1;
                freed += d.size;
            }
            let ids: Vec<&str> = decisions
                .iter()
                .filter(|d| !d.keep)
                .map(|d| d.id.as_str())
                .collect();
            self.store().write(|tx| {
                audit::append(
                    tx,
                    who,
                    "backup.prune",
                    &dir.display().to_string(),
                    "ok",
                    serde_json::json!({ "removed": ids, "freed_bytes": freed, "policy": policy }),
                )
            })?;
        } else {
            for d in decisions.iter().filter(|d| !d.keep) {
                removed += 1;
                freed += d.size;
            }
        }
        Ok(PruneReport {
            dry_run,
            policy,
            decisions,
            removed,
            freed_bytes: freed,
        })
    }
}

/// What `who` may see of a backup: admins all of it; anyone else neither where the server keeps
/// it (only its file name) nor the store's path in its manifest (issue 9).
fn shown(who: &Principal, mut info: BackupInfo) -> BackupInfo {
    if !who.can(Permission::Administer) {
        info.path = file_name(&info.path);
        info.manifest.source = super::local::HIDDEN.into();
    }
    info
}

/// A path's last component alone.
fn file_name(path: &Path) -> PathBuf {
    path.file_name().map_or_else(PathBuf::new, PathBuf::from)
}

/// A new store identity, in the form the first migration gives one (32 lowercase hex digits).
fn new_store_id() -> String {
    let mut bytes = [0u8; 16];
    rand::Rng::fill(&mut rand::rng(), &mut bytes);
    hex::encode(bytes)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

impl LocalControlPlane {
    /// After a restore over this store: its timeline restarts at the restored head (the store's
    /// id and the restore's audit record), so say so in the checkpoint log; checkpoints taken
    /// before it no longer apply. The log is the store's own when it keeps one (PostgreSQL:
    /// every replica and host reads that one), else this host's file. Nothing without a signing
    /// key, nor (in a store's own log) with a key other than the one that signs it.
    pub(super) fn note_restored_head(
        &self,
        head: Option<(String, crate::model::AuditRecord)>,
    ) -> Result<()> {
        let Some((store_id, rec)) = head else {
            return Ok(());
        };
        if self
            .store()
            .read_quick(|tx| Ok(tx.keeps_checkpoint_log()))?
        {
            let Some(key) = self.held_key()? else {
                return Ok(());
            };
            let public = key.public_hex();
            let cp = key.sign(
                CheckpointKind::Restore,
                &store_id,
                rec.seq,
                &rec.hash,
                crate::model::now_ms(),
            );
            let line = cp.stored_line()?;
            return self.store().write_durable(|tx| {
                match tx.checkpoint_key()? {
                    Some(recorded) if recorded != public => return Ok(()),
                    Some(_) => {}
                    None => tx.set_checkpoint_key(&public)?,
                }
                tx.append_checkpoint_line(&store_id, &line)
            });
        }
        let paths = self.audit_paths();
        if let Some(key) = AuditKey::load(&paths.key)? {
            let cp = key.sign(
                CheckpointKind::Restore,
                &store_id,
                rec.seq,
                &rec.hash,
                crate::model::now_ms(),
            );
            audit::checkpoint::append(&paths.checkpoints, &cp)?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::auth::Role;
    use crate::control::{ControlPlane, LocalOptions};

    fn as_role(role: Role) -> Principal {
        Principal {
            name: format!("user:{role}"),
            role,
            source: "test".into(),
        }
    }

    /// The backup location is a folder every host uses as it is: absolute, and storable in
    /// either store (PostgreSQL text holds no NUL byte).
    #[tokio::test]
    async fn a_backup_location_must_be_an_absolute_path_without_nul() {
        let dir = tempfile::tempdir().unwrap();
        let plane =
            LocalControlPlane::open(&dir.path().join("imx.db"), LocalOptions::default()).unwrap();
        let who = Principal::local_owner();
        for bad in ["relative/dir", "/with\0nul"] {
            let e = plane
                .set_backup_location(&who, Some(PathBuf::from(bad)))
                .await
                .unwrap_err();
            assert_eq!(e.kind(), crate::error::ErrorKind::Invalid, "{bad:?}: {e}");
        }
        let set = plane
            .set_backup_location(&who, Some(dir.path().join("b")))
            .await
            .unwrap();
        assert_eq!(set.setting, Some(dir.path().join("b")));
    }

    #[tokio::test]
    async fn roles_gate_backups_and_audit_administration() {
        let dir = tempfile::tempdir().unwrap();
        let plane = LocalControlPlane::open(&dir.path().join("imx.db"), LocalOptions::default())
            .unwrap()
            .with_audit_paths(crate::audit::AuditPaths {
                key: dir.path().join("key"),
                checkpoints: dir.path().join("log.jsonl"),
            });
        let (viewer, operator) = (as_role(Role::Viewer), as_role(Role::Operator));
        let e = plane
            .create_backup(&viewer, CreateOptions::default(), &backup::NoProgress)
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Forbidden { .. }));
        let info = plane
            .create_backup(&operator, CreateOptions::default(), &backup::NoProgress)
            .await
            .unwrap();
        plane
            .verify_backup(
                &operator,
                None,
                &info.manifest.id,
                None,
                backup::Integrity::Full,
                &backup::NoProgress,
            )
            .await
            .unwrap();
        let req = RestoreRequest {
            backup: info.manifest.id.clone(),
            dir: None,
            to: Some(dir.path().join("other.db")),
            force: false,
            key: None,
            integrity: backup::Integrity::Quick,
        };
        let e = plane
            .restore_backup(&operator, req, &backup::NoProgress)
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Forbidden { .. }));
        let policy = RetentionPolicy {
            keep_last: 1,
            ..RetentionPolicy::default()
        };
        assert!(
            plane
                .prune_backups(&operator, None, policy, true)
                .await
                .is_err()
        );
        assert!(plane.audit_checkpoint(&operator).await.is_err());
        assert!(plane.audit_verify(&viewer).await.unwrap().ok);
        let denied = plane
            .audit_list(
                &viewer,
                crate::audit::AuditFilter {
                    outcome: Some("denied".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let actions: Vec<&str> = denied.iter().map(|r| r.action.as_str()).collect();
        assert_eq!(
            actions,
            [
                "backup.create",
                "backup.restore",
                "backup.prune",
                "audit.checkpoint"
            ],
            "every denial is audited"
        );
    }
}
