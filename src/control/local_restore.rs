//! `backup restore` over a store that is not a SQLite file (a PostgreSQL store, issue 11): the
//! backup is unpacked and verified into a temporary SQLite file as any restore is, the restore
//! is audited there (chained to the backup's head), and then every row is copied into this
//! store in one transaction ([`crate::store::copy`]). As over a SQLite store, a store holding
//! data is refused without `--force`, and the restore starts a new timeline in the checkpoint
//! log.

use std::path::PathBuf;

use super::RestoreRequest;
use super::local::LocalControlPlane;
use crate::audit;
use crate::auth::Principal;
use crate::backup::{self, Progress, RestoreOptions, RestoreReport};
use crate::store::Store;
use crate::{Error, Result};

impl LocalControlPlane {
    /// Restore the backup at `path` over this (non-SQLite) store.
    pub(super) fn restore_into_backend(
        &self,
        who: &Principal,
        path: PathBuf,
        req: &RestoreRequest,
        progress: &dyn Progress,
    ) -> Result<RestoreReport> {
        let started = std::time::Instant::now();
        let location = self.store().location();
        // Refuse early, before unpacking: the copy checks again in its own transaction.
        let holds_data = self.store().read(|tx| backup::logical::has_data(tx))?;
        if holds_data && !req.force {
            return Err(Error::Conflict(format!(
                "{location} already holds data; refusing to replace it (pass --force, or \
                 restore elsewhere with --to PATH)"
            )));
        }
        let work = tempfile::Builder::new()
            .prefix(".imx-restore-")
            .tempdir()
            .map_err(|e| Error::io("creating a temp folder for the restore", e))?;
        let opts = RestoreOptions {
            backup: path,
            target: work.path().join("restored.db"),
            force: false,
            key: req.key.clone(),
            integrity: req.integrity,
        };
        let mut head = None;
        let after = |db: &std::path::Path| -> Result<()> {
            // The restore is audited in the restored store, chained to the backup's head; the
            // store keeps its identity (it is this store, restored).
            let store = Store::open(db, false)?;
            head = Some(store.write(|tx| {
                let id = audit::store_id(tx)?;
                let rec = audit::append(
                    tx,
                    who,
                    "backup.restore",
                    &location,
                    "ok",
                    serde_json::json!({ "backup": opts.backup, "force": req.force }),
                )?;
                Ok((id, rec))
            })?);
            Ok(())
        };
        let unpacked = backup::restore::restore(&opts, progress, after)?;
        let restored = Store::open(&opts.target, false)?;
        let copied = crate::store::copy::copy(&restored, self.store(), req.force, &mut |_| {});
        // The store's users and tokens are the backup's now (or, on failure, maybe not).
        self.forget_verified_tokens();
        copied?;
        drop(restored);
        self.note_restored_head(head)?;
        Ok(RestoreReport {
            target: PathBuf::from(location),
            previous: None,
            live_pid: None,
            verify: unpacked.verify,
            duration_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
            copy: None,
        })
    }
}
