//! Restoring: unpack and verify into a temp file beside the target, then swap it in with one
//! `rename` (atomic). Refuses a target that another process has open or that holds data, unless
//! forced; refuses a backup made by a newer schema. The replaced store is kept as a hard link
//! (`<target>.pre-restore-<time>`) until the operator removes it. The temp folder
//! (`.imx-restore-*`) is locked while in use; one left by a restore that was killed is removed by
//! the next restore into the same folder (see [`super::scratch`]).

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::crypto::KeySource;
use super::scratch::{self, Kind};
use super::verify::{self, VerifyReport};
use super::{Progress, container, fsutil, live};
use crate::store::SCHEMA_VERSION;
use crate::{Error, Result};

/// What `backup restore` was asked for.
#[derive(Debug, Clone)]
pub struct RestoreOptions {
    /// The backup file.
    pub backup: PathBuf,
    /// Where to restore (the store path).
    pub target: PathBuf,
    /// Replace a store that holds data or is in use.
    pub force: bool,
    pub key: Option<KeySource>,
    pub integrity: verify::Integrity,
}

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreReport {
    pub target: PathBuf,
    /// The previous store, kept as a hard link (if there was one).
    pub previous: Option<PathBuf>,
    /// The pid of a process that had the target open (only with `force`).
    pub live_pid: Option<i32>,
    pub verify: VerifyReport,
    pub duration_ms: i64,
    /// Set when the target is not the store itself: the restored store is a copy with an
    /// identity of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy: Option<CopyIdentity>,
}

/// The identity of a restored copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CopyIdentity {
    /// The copy's new store id.
    pub store_id: String,
    /// The store id of the store the backup was taken from.
    pub copy_of: String,
}

/// Whether the store at `path` holds anything beyond a fresh store's metadata.
pub fn has_data(path: &Path) -> Result<bool> {
    match std::fs::metadata(path) {
        Err(_) => return Ok(false),
        Ok(m) if m.len() == 0 => return Ok(false),
        Ok(_) => {}
    }
    let Ok(contents) = crate::store::snapshot::describe(path) else {
        // Not a store we can read: treat as data, so only --force replaces it.
        return Ok(true);
    };
    Ok(contents.tables.iter().any(|(t, n)| t != "meta" && *n > 0))
}

/// Check that `target` may be replaced; returns the pid of a process using it (forced only).
pub fn preflight(opts: &RestoreOptions) -> Result<(container::Opened, Option<i32>)> {
    let opened = container::open(&opts.backup)?;
    let m = &opened.manifest;
    if m.schema_version > SCHEMA_VERSION {
        return Err(Error::BackupTooNew {
            path: opts.backup.clone(),
            found: m.schema_version,
            supported: SCHEMA_VERSION,
        });
    }
    let live_pid = live::holder(&opts.target);
    if let Some(pid) = live_pid
        && !opts.force
    {
        return Err(Error::Conflict(format!(
            "{} is in use by another process (pid {pid}); refusing to restore over a live store \
             (stop the agents and dashboards using it first, or pass --force)",
            opts.target.display()
        )));
    }
    if !opts.force && has_data(&opts.target)? {
        return Err(Error::Conflict(format!(
            "{} already holds data; refusing to replace it (pass --force, or restore elsewhere with --to PATH)",
            opts.target.display()
        )));
    }
    Ok((opened, live_pid))
}

/// Restore: preflight, unpack + verify beside the target, `after` (e.g. audit the restore into
/// the restored store), then swap atomically.
pub fn restore(
    opts: &RestoreOptions,
    progress: &dyn Progress,
    after: impl FnOnce(&Path) -> Result<()>,
) -> Result<RestoreReport> {
    let started = Instant::now();
    let (_, live_pid) = preflight(opts)?;
    let dir = opts
        .target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    std::fs::create_dir_all(&dir).map_err(|e| fsutil::write_error(&dir, e))?;
    scratch::sweep(&dir, Kind::Restore);
    // Locked while in use, so no other restore takes it for a leftover.
    let (work, _hold) = scratch::held(
        || {
            tempfile::Builder::new()
                .prefix(Kind::Restore.prefix())
                .tempdir_in(&dir)
                .map_err(|e| fsutil::write_error(&dir, e))
        },
        tempfile::TempDir::path,
    )?;
    let db = work.path().join("restored.db");
    let opened = verify::unpack(&opts.backup, opts.key.as_ref(), &db, progress)?;
    crate::faults::point("backup.restore.unpacked");
    let checked = verify::check(
        &opts.backup,
        &db,
        &opened.manifest,
        opts.integrity,
        progress,
    )?;
    let restored_bytes = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);
    let report = verify::report(&opts.backup, &opened, checked, restored_bytes, started);
    after(&db)?;
    // Fold the restored store's WAL into the file so one rename moves everything.
    crate::store::snapshot::settle(&db, true)?;
    std::fs::File::open(&db)
        .and_then(|f| f.sync_all())
        .map_err(|e| fsutil::write_error(&db, e))?;

    let previous = if opts.target.exists() {
        let _ = crate::store::snapshot::settle(&opts.target, false);
        let keep = PathBuf::from(format!(
            "{}.pre-restore-{}",
            opts.target.display(),
            chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
        ));
        std::fs::hard_link(&opts.target, &keep).ok().map(|()| keep)
    } else {
        None
    };
    std::fs::rename(&db, &opts.target).map_err(|e| {
        Error::io(
            format!("moving the restored store to {}", opts.target.display()),
            e,
        )
    })?;
    for suffix in ["-wal", "-shm"] {
        let mut p = opts.target.as_os_str().to_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
    fsutil::sync_dir(&dir);
    Ok(RestoreReport {
        target: opts.target.clone(),
        previous,
        live_pid,
        verify: report,
        duration_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
        copy: None,
    })
}
