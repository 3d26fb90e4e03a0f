//! Creating a backup: snapshot (or logical export) → zstd → (AES-256-GCM) → SHA-256 → one file.
//!
//! The file is written under a temporary name in the target folder and renamed into place only
//! when complete and synced; on any failure (a full disk included) the partial file is removed.
//! If the process dies instead (kill -9), the next `backup create` into that folder removes the
//! `.partial` file it left (see [`super::scratch`]).

use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use sha2::{Digest, Sha256};

use super::container::{self, HEAD};
use super::crypto::{self, EncryptWriter, KeySource};
use super::manifest::{BackupFormat, MANIFEST_VERSION, Manifest};
use super::scratch::{self, Kind};
use super::{BackupInfo, EXTENSION, Phase, Progress, fsutil};
use crate::store::snapshot;
use crate::{Error, Result};

/// What `backup create` was asked for.
#[derive(Debug, Clone)]
pub struct CreateOptions {
    /// A folder, or a file path; default: the store's `backups/` folder.
    pub out: Option<PathBuf>,
    /// The format; `None`: the store's own (a SQLite store's snapshot, a logical export of
    /// any other store).
    pub format: Option<BackupFormat>,
    /// Encrypt with this key.
    pub key: Option<KeySource>,
    pub note: Option<String>,
    /// zstd level (1 is fast and good enough for a store).
    pub level: i32,
    /// zstd worker threads (0: compress on the calling thread).
    pub workers: u32,
}

impl Default for CreateOptions {
    fn default() -> Self {
        CreateOptions {
            out: None,
            format: None,
            key: None,
            note: None,
            level: 1,
            workers: std::thread::available_parallelism()
                .map(|n| u32::try_from(n.get()).unwrap_or(1).min(4))
                .unwrap_or(1),
        }
    }
}

/// Counts and hashes what is written through it.
struct HashWriter<W: Write> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Write for HashWriter<W> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(data)?;
        self.hasher.update(&data[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The file name of a backup with this id.
pub fn file_name(id: &str) -> String {
    format!("imx-backup-{id}.{EXTENSION}")
}

/// Where the backup goes: `out` as a folder (existing, or ending in `/`) or a file.
pub fn target(out: Option<&Path>, default_dir: &Path, id: &str) -> PathBuf {
    match out {
        None => default_dir.join(file_name(id)),
        Some(p) if p.is_dir() || p.as_os_str().to_string_lossy().ends_with('/') => {
            p.join(file_name(id))
        }
        Some(p) => p.to_path_buf(),
    }
}

/// The parts of the manifest known before the payload is written.
pub struct Draft {
    pub created_by: String,
    pub source: String,
    pub schema_version: i64,
    pub store_id: String,
    pub tables: std::collections::BTreeMap<String, u64>,
    pub audit_head: crate::audit::Base,
}

/// Write a backup file at `path`: `fill` writes the plaintext payload (the snapshot or export)
/// and returns its size; the draft is completed once `fill` has run (counts may come from it).
pub fn write(
    default_dir: &Path,
    opts: &CreateOptions,
    progress: &dyn Progress,
    fill: impl FnOnce(&mut dyn Write) -> Result<(u64, Draft)>,
) -> Result<BackupInfo> {
    let started = Instant::now();
    // The id names the file and is the encryption's associated data, so it is fixed first.
    let id = crate::model::new_id();
    let path = &target(opts.out.as_deref(), default_dir, &id);
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| fsutil::write_error(dir, e))?;
    if path.exists() {
        return Err(Error::Conflict(format!(
            "{} already exists; not overwriting it",
            path.display()
        )));
    }
    let encryption = match &opts.key {
        Some(k) => Some(crypto::for_encryption(k)?),
        None => None,
    };
    let werr = |e: std::io::Error| fsutil::write_error(path, e);
    scratch::sweep(dir, Kind::Backup);
    // Locked while it is written, so no other run takes it for a leftover.
    let (tmp, _hold) = scratch::held(
        || {
            tempfile::Builder::new()
                .prefix(Kind::Backup.prefix())
                .suffix(Kind::Backup.suffix())
                .tempfile_in(dir)
                .map_err(werr)
        },
        tempfile::NamedTempFile::path,
    )?;
    let mut file = BufWriter::with_capacity(1 << 20, tmp.as_file().try_clone().map_err(werr)?);
    file.write_all(HEAD).map_err(werr)?;
    let mut hw = HashWriter {
        inner: file,
        hasher: Sha256::new(),
        bytes: 0,
    };
    let aad = container::payload_aad(MANIFEST_VERSION, &id);
    let (snapshot_bytes, draft) = match &encryption {
        Some((key, enc)) => {
            let ew = EncryptWriter::new(&mut hw, key, enc, &aad)?;
            let (ew, out) = compress(ew, opts, fill)?;
            ew.finish().map_err(werr)?;
            out
        }
        None => {
            let (_, out) = compress(&mut hw, opts, fill)?;
            out
        }
    };
    let HashWriter {
        inner: mut file,
        hasher,
        bytes: payload_bytes,
    } = hw;
    let payload_sha256 = hex::encode(hasher.finalize());
    let (key, encryption) = match encryption {
        Some((key, enc)) => (Some(key), Some(enc)),
        None => (None, None),
    };
    let manifest = Manifest {
        manifest_version: MANIFEST_VERSION,
        id,
        created_at: crate::model::now_ms(),
        created_by: draft.created_by,
        imx_version: env!("CARGO_PKG_VERSION").into(),
        schema_version: draft.schema_version,
        store_id: draft.store_id,
        source: draft.source,
        format: opts.format.unwrap_or_default(),
        compression: "zstd".into(),
        snapshot_bytes,
        payload_bytes,
        payload_sha256,
        tables: draft.tables,
        audit_head: draft.audit_head,
        encryption,
        note: opts.note.clone(),
    };
    file.write_all(&container::trailer(&manifest, key.as_ref())?)
        .map_err(werr)?;
    file.flush().map_err(werr)?;
    drop(file);
    tmp.as_file().sync_all().map_err(werr)?;
    crate::faults::point("backup.create.written");
    progress.start(Phase::Check, 0);
    let size = tmp.as_file().metadata().map_err(werr)?.len();
    tmp.persist_noclobber(path).map_err(|e| {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            Error::Conflict(format!(
                "{} already exists; not overwriting it",
                path.display()
            ))
        } else {
            werr(e.error)
        }
    })?;
    fsutil::sync_dir(dir);
    Ok(BackupInfo {
        path: path.to_path_buf(),
        size,
        manifest,
        duration_ms: Some(i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX)),
    })
}

/// Run `fill` into a zstd encoder over `w`; returns `w` and what `fill` returned.
fn compress<W: Write, T>(
    w: W,
    opts: &CreateOptions,
    fill: impl FnOnce(&mut dyn Write) -> Result<T>,
) -> Result<(W, T)> {
    let zerr = |e: std::io::Error| Error::io("compressing the backup", e);
    let mut enc = zstd::stream::write::Encoder::new(w, opts.level).map_err(zerr)?;
    enc.include_checksum(true).map_err(zerr)?;
    if opts.workers > 0 {
        // Multithreading is a build feature; fall back to one thread if it is unavailable.
        let _ = enc.multithread(opts.workers);
    }
    let out = fill(&mut enc)?;
    let w = enc
        .finish()
        .map_err(|e| unwrap_io(e, "compressing the backup"))?;
    Ok((w, out))
}

/// Keep "disk full" recognisable through the compression layer.
pub(crate) fn unwrap_io(e: std::io::Error, what: &str) -> Error {
    if e.kind() == std::io::ErrorKind::StorageFull || e.raw_os_error() == Some(28) {
        Error::DiskFull
    } else {
        Error::io(what, e)
    }
}

/// Copy the file at `src` into `w` in 1 MiB blocks, reporting progress.
pub fn copy_file(src: &Path, w: &mut dyn Write, progress: &dyn Progress) -> Result<u64> {
    let f = std::fs::File::open(src)
        .map_err(|e| Error::io(format!("reading the snapshot {}", src.display()), e))?;
    let total = f.metadata().map(|m| m.len()).unwrap_or(0);
    progress.start(Phase::Compress, total);
    let mut r = BufReader::with_capacity(1 << 20, f);
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        let k = r
            .read(&mut buf)
            .map_err(|e| Error::io("reading the snapshot", e))?;
        if k == 0 {
            return Ok(n);
        }
        w.write_all(&buf[..k])
            .map_err(|e| unwrap_io(e, "writing the backup"))?;
        n += k as u64;
        progress.advance(k as u64);
    }
}

/// A physical backup of the SQLite store at `store`.
pub fn sqlite(
    store: &Path,
    default_dir: &Path,
    actor: &str,
    opts: &CreateOptions,
    progress: &dyn Progress,
) -> Result<BackupInfo> {
    if snapshot::can_stream(store) {
        return write(default_dir, opts, progress, |w| {
            let (n, contents) = snapshot::stream(store, w, progress)?;
            Ok((
                n,
                Draft {
                    created_by: actor.into(),
                    source: store.display().to_string(),
                    schema_version: contents.schema_version,
                    store_id: contents.store_id,
                    tables: contents.tables,
                    audit_head: contents.audit_head,
                },
            ))
        })
        .map_err(|e| disk_full_at(e, opts.out.as_deref().unwrap_or(default_dir)));
    }
    let temp = std::env::temp_dir();
    scratch::sweep(&temp, Kind::Snapshot);
    let (tmp_dir, _hold) = scratch::held(
        || {
            tempfile::Builder::new()
                .prefix(Kind::Snapshot.prefix())
                .tempdir_in(&temp)
                .map_err(|e| Error::io("creating a temp folder for the snapshot", e))
        },
        tempfile::TempDir::path,
    )?;
    let snap = tmp_dir.path().join("snapshot.db");
    snapshot::take(store, &snap, progress)?;
    progress.start(Phase::Count, 0);
    let contents = snapshot::describe(&snap)?;
    write(default_dir, opts, progress, |w| {
        let n = copy_file(&snap, w, progress)?;
        Ok((
            n,
            Draft {
                created_by: actor.into(),
                source: store.display().to_string(),
                schema_version: contents.schema_version,
                store_id: contents.store_id,
                tables: contents.tables,
                audit_head: contents.audit_head,
            },
        ))
    })
    .map_err(|e| disk_full_at(e, opts.out.as_deref().unwrap_or(default_dir)))
}

/// A logical backup, read through `tx` (one consistent snapshot) of the store at `source` (its
/// location, as the manifest shows it).
pub fn logical(
    tx: &crate::store::Tx<'_>,
    source: &str,
    default_dir: &Path,
    actor: &str,
    opts: &CreateOptions,
    progress: &dyn Progress,
) -> Result<BackupInfo> {
    write(default_dir, opts, progress, |w| {
        progress.start(Phase::Export, 0);
        let (bytes, tables) = super::logical::export(tx, w, progress)?;
        let head = snapshot_head(tx)?;
        Ok((
            bytes,
            Draft {
                created_by: actor.into(),
                source: source.into(),
                schema_version: tx.schema_version()?,
                store_id: crate::audit::store_id(tx)?,
                tables,
                audit_head: head,
            },
        ))
    })
    .map_err(|e| disk_full_at(e, opts.out.as_deref().unwrap_or(default_dir)))
}

/// The last audit record (the base when the chain holds none).
fn snapshot_head(tx: &dyn crate::audit::AuditStore) -> Result<crate::audit::Base> {
    match tx.head()? {
        Some(head) => Ok(head),
        None => tx.base(),
    }
}

fn disk_full_at(e: Error, path: &Path) -> Error {
    match e {
        Error::DiskFull => Error::DiskFullAt {
            path: path.to_path_buf(),
        },
        other => other,
    }
}
