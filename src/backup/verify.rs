//! Verifying a backup proves it restores: checksum, decrypt, decompress into a temporary store,
//! `PRAGMA integrity_check`, the audit chain, and row counts equal to the manifest. Restore uses
//! the same unpacking, into the target's folder, and swaps the result in.

use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::Instant;

use rusqlite::{Connection, OpenFlags};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::container::{self, Opened};
use super::crypto::{self, DecryptReader, KeySource};
use super::manifest::{BackupFormat, Manifest};
use super::{Phase, Progress, snapshot};
use crate::audit::ChainReport;
use crate::store::map_sqlite;
use crate::{Error, Result};

/// One table's rows: in the manifest and in the restored store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableCheck {
    pub table: String,
    pub expected: u64,
    pub found: u64,
}

/// What `backup verify` proved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    pub path: PathBuf,
    pub id: String,
    pub format: BackupFormat,
    pub encrypted: bool,
    pub payload_sha256: String,
    /// `ok (quick_check)` or `ok (integrity_check)`.
    pub integrity: String,
    pub schema_version: i64,
    pub tables: Vec<TableCheck>,
    pub audit: ChainReport,
    /// Bytes of the restored store.
    pub restored_bytes: u64,
    pub duration_ms: i64,
}

fn corrupt(path: &Path, reason: impl Into<String>) -> Error {
    Error::CorruptBackup {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Reads the payload region, hashing it and reporting progress.
struct Tee<'p, R: Read> {
    inner: R,
    hasher: Sha256,
    progress: &'p dyn Progress,
}

impl<R: Read> Read for Tee<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.progress.advance(n as u64);
        Ok(n)
    }
}

/// Unpack the backup at `path` into a new SQLite file at `dest` (which must not exist).
/// Checks the checksum and decodes; does not run the store checks (see [`check`]).
pub fn unpack(
    path: &Path,
    key: Option<&KeySource>,
    dest: &Path,
    progress: &dyn Progress,
) -> Result<Opened> {
    let opened = container::open(path)?;
    let m = &opened.manifest;
    let secret = match &m.encryption {
        Some(enc) => Some(crypto::for_decryption(path, enc, key)?),
        None => None,
    };
    let ctx = |e| Error::io(format!("reading {}", path.display()), e);
    let mut f = std::fs::File::open(path).map_err(ctx)?;
    f.seek(SeekFrom::Start(opened.payload_at)).map_err(ctx)?;
    progress.start(Phase::Read, m.payload_bytes);
    let mut tee = Tee {
        inner: BufReader::with_capacity(1 << 20, f.take(m.payload_bytes)),
        hasher: Sha256::new(),
        progress,
    };
    let decoded = decode(&mut tee, m, secret.as_ref(), dest);
    // Hash whatever was not read, so a damaged file is named as such whatever failed first.
    let _ = std::io::copy(&mut tee, &mut std::io::sink());
    let sha = hex::encode(tee.hasher.finalize());
    if sha != m.payload_sha256 {
        return Err(corrupt(
            path,
            "checksum mismatch: the payload's SHA-256 differs from the manifest's (the file was altered or damaged)",
        ));
    }
    decoded.map_err(|e| match e {
        Error::Io { source, .. } => corrupt(path, format!("cannot decode the payload: {source}")),
        other => other,
    })?;
    Ok(opened)
}

fn decode(
    r: &mut dyn Read,
    m: &Manifest,
    key: Option<&crypto::SecretKey>,
    dest: &Path,
) -> Result<()> {
    let decrypted: Box<dyn Read + '_> = match (key, &m.encryption) {
        (Some(k), Some(enc)) => Box::new(DecryptReader::new(
            r,
            m.payload_bytes,
            k,
            enc,
            m.id.as_bytes(),
        )?),
        _ => Box::new(r),
    };
    let mut z = zstd::stream::read::Decoder::new(decrypted)
        .map_err(|e| Error::io("decompressing the backup", e))?;
    match m.format {
        BackupFormat::Sqlite => {
            let mut out = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(dest)
                .map_err(|e| super::fsutil::write_error(dest, e))?;
            std::io::copy(&mut z, &mut out).map_err(|e| match e.kind() {
                std::io::ErrorKind::StorageFull => super::fsutil::write_error(dest, e),
                _ => Error::io("decompressing the backup", e),
            })?;
        }
        BackupFormat::Logical => {
            let store = crate::store::Store::open(dest, true)?;
            let mut br = BufReader::with_capacity(1 << 20, z);
            store.write(|tx| super::logical::import(tx, &mut br).map(|_| ()))?;
        }
    }
    Ok(())
}

/// How thoroughly SQLite checks the restored store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Integrity {
    /// `PRAGMA quick_check`: every page and b-tree, without cross-checking index contents
    /// against their tables (about half the cost). Storage damage is already caught by the
    /// payload's SHA-256 and zstd checksums before this runs.
    #[default]
    Quick,
    /// `PRAGMA integrity_check`: also every index entry against its table.
    Full,
}

impl Integrity {
    fn pragma(self) -> &'static str {
        match self {
            Integrity::Quick => "quick_check",
            Integrity::Full => "integrity_check",
        }
    }
}

/// Check a restored store against its manifest: integrity, schema, counts, audit chain. The
/// integrity check and the audit chain run in parallel on their own connections.
pub fn check(
    path: &Path,
    db: &Path,
    m: &Manifest,
    level: Integrity,
    progress: &dyn Progress,
) -> Result<CheckResult> {
    progress.start(Phase::Check, 0);
    let open = || {
        Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_WRITE)
            .map_err(|_| corrupt(path, "the restored data is not an SQLite database"))
    };
    let conn = open()?;
    let mut audit_conn = open()?;
    let (integrity, audit) = std::thread::scope(|s| {
        let audit = s.spawn(move || -> Result<ChainReport> {
            let tx = audit_conn.transaction().map_err(|e| map_sqlite(db, e))?;
            crate::audit::chain::verify(&tx, &[], &mut |_| {})
        });
        let integrity = integrity(&conn, level);
        let audit = audit
            .join()
            .unwrap_or_else(|_| Err(Error::Internal("the audit check panicked".into())));
        (integrity, audit)
    });
    let integrity = integrity.map_err(|e| corrupt(path, format!("integrity check: {e}")))?;
    if integrity != "ok" {
        return Err(corrupt(
            path,
            format!("the restored store fails the integrity check: {integrity}"),
        ));
    }
    let audit = audit.map_err(|e| match e {
        Error::Store(msg) => corrupt(path, format!("the audit table cannot be read: {msg}")),
        other => other,
    })?;
    progress.start(Phase::Count, 0);
    let contents = snapshot::describe_conn(&conn).map_err(|e| map_sqlite(db, e))?;
    // A logical backup is imported into a store of this build's schema (migrations only add).
    let schema_ok = match m.format {
        BackupFormat::Sqlite => contents.schema_version == m.schema_version,
        BackupFormat::Logical => contents.schema_version >= m.schema_version,
    };
    if !schema_ok {
        return Err(corrupt(
            path,
            format!(
                "the restored store has schema version {}, the manifest says {}",
                contents.schema_version, m.schema_version
            ),
        ));
    }
    let mut tables = Vec::new();
    let names: std::collections::BTreeSet<&String> =
        m.tables.keys().chain(contents.tables.keys()).collect();
    for t in names {
        let expected = m.tables.get(t).copied().unwrap_or(0);
        let found = contents.tables.get(t).copied().unwrap_or(0);
        // A logical restore runs this build's migrations first, which may add meta rows.
        let meta_extra = m.format == BackupFormat::Logical && t == "meta" && found >= expected;
        if expected != found && !meta_extra {
            return Err(corrupt(
                path,
                format!("table {t} has {found} rows, the manifest says {expected}"),
            ));
        }
        tables.push(TableCheck {
            table: t.clone(),
            expected,
            found,
        });
    }
    if let Some(p) = &audit.problem {
        return Err(corrupt(
            path,
            format!(
                "the audit chain in the backup does not verify: {}",
                p.message
            ),
        ));
    }
    if audit.head_seq != m.audit_head.seq || audit.head_hash != m.audit_head.hash {
        return Err(corrupt(
            path,
            format!(
                "the audit chain ends at record {}, the manifest says {}",
                audit.head_seq, m.audit_head.seq
            ),
        ));
    }
    Ok(CheckResult {
        integrity: format!("{integrity} ({})", level.pragma()),
        schema_version: contents.schema_version,
        tables,
        audit,
    })
}

/// The store-level results of [`check`].
pub struct CheckResult {
    pub integrity: String,
    pub schema_version: i64,
    pub tables: Vec<TableCheck>,
    pub audit: ChainReport,
}

/// `PRAGMA quick_check` or `integrity_check`, joined into one line.
fn integrity(conn: &Connection, level: Integrity) -> rusqlite::Result<String> {
    let mut stmt = conn.prepare(&format!("PRAGMA {}", level.pragma()))?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    let lines = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(lines.join("; "))
}

/// Check only the payload's SHA-256 against the file's manifest (no key needed): what a
/// download is checked with before it is kept.
pub fn checksum(path: &Path) -> Result<Opened> {
    let opened = container::open(path)?;
    let ctx = |e| Error::io(format!("reading {}", path.display()), e);
    let mut f = std::fs::File::open(path).map_err(ctx)?;
    f.seek(SeekFrom::Start(opened.payload_at)).map_err(ctx)?;
    let mut tee = Tee {
        inner: BufReader::with_capacity(1 << 20, f.take(opened.manifest.payload_bytes)),
        hasher: Sha256::new(),
        progress: &super::NoProgress,
    };
    let n = std::io::copy(&mut tee, &mut std::io::sink()).map_err(ctx)?;
    let sha = hex::encode(tee.hasher.finalize());
    if n != opened.manifest.payload_bytes || sha != opened.manifest.payload_sha256 {
        return Err(Error::CorruptBackup {
            path: path.to_path_buf(),
            reason: "checksum mismatch: the payload's SHA-256 differs from the manifest's (the file was altered or damaged)".into(),
        });
    }
    Ok(opened)
}

/// Verify the backup at `path` by restoring it into a temporary store.
pub fn verify(
    path: &Path,
    key: Option<&KeySource>,
    level: Integrity,
    progress: &dyn Progress,
) -> Result<VerifyReport> {
    let started = Instant::now();
    let dir = tempfile::Builder::new()
        .prefix("imx-verify-")
        .tempdir()
        .map_err(|e| Error::io("creating a temp folder", e))?;
    let db = dir.path().join("restored.db");
    let opened = unpack(path, key, &db, progress)?;
    let c = check(path, &db, &opened.manifest, level, progress)?;
    let restored_bytes = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);
    Ok(report(path, &opened.manifest, c, restored_bytes, started))
}

/// Assemble a [`VerifyReport`].
pub fn report(
    path: &Path,
    m: &Manifest,
    c: CheckResult,
    restored_bytes: u64,
    started: Instant,
) -> VerifyReport {
    VerifyReport {
        path: path.to_path_buf(),
        id: m.id.clone(),
        format: m.format,
        encrypted: m.encryption.is_some(),
        payload_sha256: m.payload_sha256.clone(),
        integrity: c.integrity,
        schema_version: c.schema_version,
        tables: c.tables,
        audit: c.audit,
        restored_bytes,
        duration_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
    }
}
