//! Verifying a backup proves it restores: checksum, decrypt, decompress into a temporary store,
//! `PRAGMA integrity_check`, the audit chain, and row counts equal to the manifest. Restore uses
//! the same unpacking, into the target's folder, and swaps the result in.

use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender, SyncSender};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::container::{self, Opened};
use super::crypto::{self, DecryptReader, KeySource};
use super::manifest::{BackupFormat, Manifest};
use super::scratch::{self, Kind};
use super::{Phase, Progress};
use crate::audit::ChainReport;
use crate::store::snapshot;
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
    /// What the operator should know that is not a problem (e.g. an older, unsealed format).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
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

/// Bytes per block passed between the unpacking threads.
const BLOCK: usize = 1 << 20;

/// What the reading thread sends: a block of payload (decrypted if need be), or why it stopped.
type Sent = std::io::Result<Vec<u8>>;

/// Fill `block` (resized to [`BLOCK`]) from `r`; returns the bytes read (less only at the end).
fn fill(r: &mut dyn Read, block: &mut Vec<u8>) -> std::io::Result<usize> {
    block.resize(BLOCK, 0);
    let mut n = 0;
    while n < BLOCK {
        match r.read(&mut block[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    block.truncate(n);
    Ok(n)
}

/// The decoding side of the pipeline: reads the blocks the reading thread sends, handing each
/// back for reuse when done with it. An error sent ends the stream with that error.
struct Blocks {
    recv: Receiver<Sent>,
    give_back: Sender<Vec<u8>>,
    current: Vec<u8>,
    pos: usize,
}

impl BufRead for Blocks {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        while self.pos == self.current.len() {
            match self.recv.recv() {
                Ok(Ok(block)) => {
                    let used = std::mem::replace(&mut self.current, block);
                    let _ = self.give_back.send(used);
                    self.pos = 0;
                }
                Ok(Err(e)) => return Err(e),
                // The reading thread is done: the end of the payload.
                Err(_) => return Ok(&[]),
            }
        }
        Ok(&self.current[self.pos..])
    }

    fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.current.len());
    }
}

impl Read for Blocks {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(out.len());
        out[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

/// The reading thread: read the payload region, hash all of it (even after an error, so a
/// damaged file is named as such whatever failed first), decrypt it if need be, and send it on
/// in blocks. Returns the payload's SHA-256.
fn read_payload(
    file: std::fs::File,
    m: &Manifest,
    key: Option<&crypto::SecretKey>,
    send: &SyncSender<Sent>,
    spare: &Receiver<Vec<u8>>,
    progress: &dyn Progress,
) -> String {
    let mut tee = Tee {
        inner: file.take(m.payload_bytes),
        hasher: Sha256::new(),
        progress,
    };
    {
        let plain: std::io::Result<Box<dyn Read + '_>> = match (key, &m.encryption) {
            (Some(k), Some(enc)) => {
                let aad = container::payload_aad(m.manifest_version, &m.id);
                DecryptReader::new(&mut tee, m.payload_bytes, k, enc, &aad)
                    .map(|d| Box::new(d) as Box<dyn Read>)
                    .map_err(|e| {
                        std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string())
                    })
            }
            _ => Ok(Box::new(&mut tee)),
        };
        match plain {
            Ok(mut plain) => loop {
                let mut block = spare.try_recv().unwrap_or_default();
                match fill(&mut plain, &mut block) {
                    Ok(0) => break,
                    Ok(_) => {
                        // A closed channel: the decoder stopped (its error is reported).
                        if send.send(Ok(block)).is_err() {
                            break;
                        }
                    }
                    Err(e) => {
                        let _ = send.send(Err(e));
                        break;
                    }
                }
            },
            Err(e) => {
                let _ = send.send(Err(e));
            }
        }
    }
    let _ = std::io::copy(&mut tee, &mut std::io::sink());
    hex::encode(tee.hasher.finalize())
}

/// Unpack the backup at `path` into a new SQLite file at `dest` (which must not exist).
/// Checks the checksum and decodes; does not run the store checks (see [`check`]).
///
/// Three threads overlap the work: one reads, hashes and decrypts the payload, this one
/// decompresses it, and (for a physical backup) a third writes the pages out. Blocks are handed
/// back for reuse, so memory stays at a few MiB whatever the size.
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
    if let Some(secret) = &secret {
        opened.check_tag(path, secret)?;
    }
    let ctx = |e| Error::io(format!("reading {}", path.display()), e);
    let mut f = std::fs::File::open(path).map_err(ctx)?;
    f.seek(SeekFrom::Start(opened.payload_at)).map_err(ctx)?;
    progress.start(Phase::Read, m.payload_bytes);
    let (send, recv) = std::sync::mpsc::sync_channel::<Sent>(4);
    let (give_back, spare) = std::sync::mpsc::channel::<Vec<u8>>();
    let (sha, decoded) = std::thread::scope(|s| {
        let reader = s.spawn(move || read_payload(f, m, secret.as_ref(), &send, &spare, progress));
        let blocks = Blocks {
            recv,
            give_back,
            current: Vec::new(),
            pos: 0,
        };
        let decoded = decode(blocks, m, dest);
        let sha = reader.join();
        (sha, decoded)
    });
    let sha = sha.map_err(|_| Error::Internal("the backup reading thread panicked".into()))?;
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

/// Decompress `blocks` into `dest`: a physical backup's pages written out by a writer thread,
/// or a logical export imported into a new store. Dropping `blocks` (on return) tells the
/// reading thread to stop sending.
fn decode(blocks: Blocks, m: &Manifest, dest: &Path) -> Result<()> {
    let zerr = |e| Error::io("decompressing the backup", e);
    let mut z = zstd::stream::read::Decoder::with_buffer(blocks).map_err(zerr)?;
    match m.format {
        BackupFormat::Sqlite => {
            let mut out = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(dest)
                .map_err(|e| super::fsutil::write_error(dest, e))?;
            preallocate(
                &out,
                m.snapshot_bytes.min(m.payload_bytes.saturating_mul(64)),
            );
            let (send, recv) = std::sync::mpsc::sync_channel::<Vec<u8>>(4);
            let (give_back, spare) = std::sync::mpsc::channel::<Vec<u8>>();
            std::thread::scope(|s| {
                let writer = s.spawn(move || -> std::io::Result<()> {
                    for block in recv {
                        out.write_all(&block)?;
                        let _ = give_back.send(block);
                    }
                    Ok(())
                });
                let decompressed = (|| -> Result<()> {
                    loop {
                        let mut block = spare.try_recv().unwrap_or_default();
                        let n = fill(&mut z, &mut block).map_err(zerr)?;
                        // A closed channel: the writer failed (its error is reported below).
                        if n == 0 || send.send(block).is_err() {
                            return Ok(());
                        }
                    }
                })();
                drop(send);
                let written = writer
                    .join()
                    .map_err(|_| Error::Internal("the backup writing thread panicked".into()))?;
                decompressed?;
                written.map_err(|e| match e.kind() {
                    std::io::ErrorKind::StorageFull => super::fsutil::write_error(dest, e),
                    _ if e.raw_os_error() == Some(28) => super::fsutil::write_error(dest, e),
                    _ => Error::io(format!("writing {}", dest.display()), e),
                })
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

/// Reserve `len` bytes of disk for `file` before writing it (Linux, best effort; the file's size
/// is unchanged): the file system then allocates in one go instead of page by page as writes
/// come, which costs noticeably less CPU. The length comes from the manifest (the snapshot's
/// size), bounded by a multiple of the payload so a doctored manifest cannot reserve much more.
fn preallocate(file: &std::fs::File, len: u64) {
    #[cfg(target_os = "linux")]
    if let Ok(len) = i64::try_from(len)
        && len > 0
    {
        let _ = nix::fcntl::fallocate(
            file,
            nix::fcntl::FallocateFlags::FALLOC_FL_KEEP_SIZE,
            0,
            len,
        );
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (file, len);
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
/// integrity check runs on this thread; the audit chain (hashed on every core), then the row
/// counts, run meanwhile on a second connection. Both connections map the file into memory (it
/// is private to this check and nothing else writes it) and skip SQLite's per-call locking.
pub fn check(
    path: &Path,
    db: &Path,
    m: &Manifest,
    level: Integrity,
    progress: &dyn Progress,
) -> Result<CheckResult> {
    progress.start(Phase::Check, 0);
    let Some(examined) = snapshot::examine(db, level == Integrity::Full)? else {
        return Err(corrupt(path, "the restored data is not an SQLite database"));
    };
    let (integrity, audited) = (examined.integrity, (examined.audit, examined.contents));
    let integrity = integrity.map_err(|e| corrupt(path, format!("integrity check: {e}")))?;
    if integrity != "ok" {
        return Err(corrupt(
            path,
            format!("the restored store fails the integrity check: {integrity}"),
        ));
    }
    let (audit, contents) = audited;
    let audit = audit.map_err(|e| match e {
        Error::Store(msg) => corrupt(path, format!("the audit table cannot be read: {msg}")),
        other => other,
    })?;
    let contents = contents?;
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
    let temp = std::env::temp_dir();
    scratch::sweep(&temp, Kind::Verify);
    let (dir, _hold) = scratch::held(
        || {
            tempfile::Builder::new()
                .prefix(Kind::Verify.prefix())
                .tempdir_in(&temp)
                .map_err(|e| Error::io("creating a temp folder", e))
        },
        tempfile::TempDir::path,
    )?;
    let db = dir.path().join("restored.db");
    let opened = unpack(path, key, &db, progress)?;
    let c = check(path, &db, &opened.manifest, level, progress)?;
    let restored_bytes = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);
    Ok(report(path, &opened, c, restored_bytes, started))
}

/// Assemble a [`VerifyReport`].
pub fn report(
    path: &Path,
    opened: &Opened,
    c: CheckResult,
    restored_bytes: u64,
    started: Instant,
) -> VerifyReport {
    let m = &opened.manifest;
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
        notes: opened.notes(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::backup::{CreateOptions, NoProgress};

    /// A store with an audit record and several MiB of incompressible log lines, so the payload
    /// spans many blocks of the unpacking pipeline.
    fn store(dir: &Path) -> PathBuf {
        let db = dir.join("imx.db");
        let store = crate::store::Store::open(&db, true).unwrap();
        store
            .write(|tx| {
                crate::audit::append(
                    tx,
                    &crate::auth::Principal::local_owner(),
                    "test",
                    "t",
                    "ok",
                    serde_json::Value::Null,
                )?;
                let lines = (0..40_000).map(|_| {
                    (0..8)
                        .map(|_| format!("{:016x}", rand::random::<u64>()))
                        .collect::<String>()
                });
                crate::store::testing::insert_log_lines(tx, "r", "s", lines)
            })
            .unwrap();
        db
    }

    fn create(db: &Path, out: &Path, key: Option<KeySource>) -> PathBuf {
        let opts = CreateOptions {
            out: Some(out.to_path_buf()),
            key,
            ..CreateOptions::default()
        };
        let info = crate::backup::create::sqlite(db, out, "test", &opts, &NoProgress).unwrap();
        assert!(info.manifest.payload_bytes > 3 * BLOCK as u64);
        info.path
    }

    #[test]
    fn multi_block_backups_verify_and_damage_or_a_wrong_key_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let db = store(dir.path());
        let out = dir.path().join("backups");
        std::fs::create_dir_all(&out).unwrap();

        let plain = create(&db, &out, None);
        let report = verify(&plain, None, Integrity::Full, &NoProgress).unwrap();
        assert_eq!(
            report
                .tables
                .iter()
                .find(|t| t.table == "logs")
                .unwrap()
                .found,
            40_000
        );
        assert_eq!(report.audit.records, 1);
        assert_eq!(
            report.restored_bytes,
            std::fs::metadata(&db).unwrap().len(),
            "the restored store is exactly the snapshot"
        );

        let pass = KeySource::Passphrase("correct horse".into());
        let sealed = create(&db, &out, Some(pass.clone()));
        verify(&sealed, Some(&pass), Integrity::Quick, &NoProgress).unwrap();
        let wrong = KeySource::Passphrase("battery staple".into());
        let e = verify(&sealed, Some(&wrong), Integrity::Quick, &NoProgress).unwrap_err();
        assert!(matches!(e, Error::WrongKey { .. }), "{e}");

        // A flipped byte deep in the payload (past the first blocks), in both kinds of file:
        // named as a checksum mismatch although decoding fails first.
        for path in [&plain, &sealed] {
            let mut bytes = std::fs::read(path).unwrap();
            bytes[8 + 2 * BLOCK + 12_345] ^= 0x40;
            let damaged = out.join("damaged.imxb");
            std::fs::write(&damaged, &bytes).unwrap();
            let e = verify(&damaged, Some(&pass), Integrity::Quick, &NoProgress).unwrap_err();
            assert!(e.to_string().contains("checksum mismatch"), "{e}");
            std::fs::remove_file(&damaged).unwrap();
        }
    }

    #[test]
    fn a_payload_that_matches_its_checksum_but_does_not_decode_is_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let db = store(dir.path());
        let out = dir.path().join("backups");
        std::fs::create_dir_all(&out).unwrap();
        let path = create(&db, &out, None);
        // Cut the zstd frame short and write a manifest that agrees with the shorter payload.
        let opened = container::open(&path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let payload = &bytes[8..8 + usize::try_from(opened.manifest.payload_bytes).unwrap()];
        let cut = &payload[..payload.len() / 2];
        let mut m = opened.manifest.clone();
        m.payload_bytes = cut.len() as u64;
        m.payload_sha256 = hex::encode(Sha256::digest(cut));
        let mut forged = container::HEAD.to_vec();
        forged.extend_from_slice(cut);
        forged.extend_from_slice(&container::trailer(&m, None).unwrap());
        let forged_path = out.join("forged.imxb");
        std::fs::write(&forged_path, forged).unwrap();
        let e = verify(&forged_path, None, Integrity::Quick, &NoProgress).unwrap_err();
        assert!(
            matches!(&e, Error::CorruptBackup { reason, .. } if reason.contains("cannot decode")),
            "{e}"
        );
    }

    /// A small store and a backup of it, plain or encrypted with `key`.
    fn small(dir: &Path, key: Option<KeySource>) -> PathBuf {
        let db = dir.join("small.db");
        if !db.exists() {
            crate::store::testing::store_with_one_record(&db);
        }
        let opts = CreateOptions {
            out: Some(dir.join("out/")),
            key,
            note: Some("before upgrade".into()),
            ..CreateOptions::default()
        };
        crate::backup::create::sqlite(&db, dir, "test", &opts, &NoProgress)
            .unwrap()
            .path
    }

    /// The file's parts: everything before the seal, the seal, the manifest JSON.
    fn parts(path: &Path) -> (Vec<u8>, Vec<u8>, serde_json::Value) {
        let raw = std::fs::read(path).unwrap();
        let len = u64::from_le_bytes(raw[raw.len() - 16..raw.len() - 8].try_into().unwrap());
        let at = raw.len() - 16 - usize::try_from(len).unwrap();
        let seal_at = at - container::SEAL_LEN as usize;
        let json = serde_json::from_slice(&raw[at..raw.len() - 16]).unwrap();
        (raw[..seal_at].to_vec(), raw[seal_at..at].to_vec(), json)
    }

    /// A file from its parts (`seal` empty for format 1).
    fn assemble(path: &Path, body: &[u8], seal: &[u8], manifest: &serde_json::Value) {
        let json = serde_json::to_vec_pretty(manifest).unwrap();
        let mut out = body.to_vec();
        out.extend_from_slice(seal);
        out.extend_from_slice(&json);
        out.extend_from_slice(&(json.len() as u64).to_le_bytes());
        out.extend_from_slice(container::TAIL);
        std::fs::write(path, out).unwrap();
    }

    fn reseal(seal: &[u8], manifest: &serde_json::Value) -> Vec<u8> {
        let json = serde_json::to_vec_pretty(manifest).unwrap();
        let mut seal = seal.to_vec();
        seal[8..40].copy_from_slice(&container::manifest_digest(&json));
        seal
    }

    #[test]
    fn an_edited_manifest_is_refused_even_with_its_sha256_recomputed_when_encrypted() {
        let dir = tempfile::tempdir().unwrap();
        let key_file = dir.path().join("k");
        crypto::keygen(&key_file).unwrap();
        let key = KeySource::File(key_file);
        let plain = small(dir.path(), None);
        let sealed = small(dir.path(), Some(key.clone()));
        verify(&plain, None, Integrity::Quick, &NoProgress).unwrap();
        let ok = verify(&sealed, Some(&key), Integrity::Quick, &NoProgress).unwrap();
        assert!(ok.notes.is_empty(), "{:?}", ok.notes);
        let edited = dir.path().join("edited.imxb");
        let modified = |e: Error| {
            assert!(
                matches!(&e, Error::CorruptBackup { reason, .. } if reason.contains("the manifest was modified")),
                "{e}"
            );
        };
        for (path, key) in [(&plain, None), (&sealed, Some(&key))] {
            let (body, seal, m) = parts(path);
            for (field, value) in [
                ("note", serde_json::json!("after upgrade")),
                ("created_at", serde_json::json!(1)),
                ("created_by", serde_json::json!("someone else")),
            ] {
                let mut m = m.clone();
                m[field] = value;
                assemble(&edited, &body, &seal, &m);
                modified(container::open(&edited).unwrap_err());
                modified(verify(&edited, key, Integrity::Quick, &NoProgress).unwrap_err());
            }
            let mut m = m.clone();
            m["tables"]["audit"] = 7.into();
            assemble(&edited, &body, &seal, &m);
            modified(verify(&edited, key, Integrity::Quick, &NoProgress).unwrap_err());
        }
        // Whoever edits a file can recompute a SHA-256, but not the tag without the key.
        let (body, seal, mut m) = parts(&sealed);
        m["note"] = "after upgrade".into();
        assemble(&edited, &body, &reseal(&seal, &m), &m);
        container::open(&edited).unwrap();
        modified(verify(&edited, Some(&key), Integrity::Quick, &NoProgress).unwrap_err());
        // Nor pass the file off as the unsealed format 1: its chunks are bound to format 2.
        m["manifest_version"] = 1.into();
        assemble(&edited, &body, &[], &m);
        let e = verify(&edited, Some(&key), Integrity::Quick, &NoProgress).unwrap_err();
        assert!(e.to_string().contains("the data was altered"), "{e}");
        // A format 1 claim left in front of its seal is an edit too.
        let (body, seal, mut m) = parts(&plain);
        m["manifest_version"] = 1.into();
        assemble(&edited, &body, &seal, &m);
        modified(container::open(&edited).unwrap_err());
    }

    #[test]
    fn format_1_backups_still_verify_with_a_note() {
        let dir = tempfile::tempdir().unwrap();
        // Plain: the same payload, no seal.
        let plain = small(dir.path(), None);
        let (body, _, mut m) = parts(&plain);
        m["manifest_version"] = 1.into();
        let old = dir.path().join("old.imxb");
        assemble(&old, &body, &[], &m);
        let report = verify(&old, None, Integrity::Quick, &NoProgress).unwrap();
        assert_eq!(report.notes.len(), 1);
        assert!(report.notes[0].contains("older imx"), "{:?}", report.notes);

        // Encrypted the way format 1 did it: the backup id alone as the chunks' associated data.
        let key_file = dir.path().join("k");
        crypto::keygen(&key_file).unwrap();
        let key = KeySource::File(key_file);
        let (secret, enc) = crypto::for_encryption(&key).unwrap();
        let id = crate::model::new_id();
        let db = dir.path().join("small.db");
        let mut payload = Vec::new();
        let contents = {
            let mut ew =
                crypto::EncryptWriter::new(&mut payload, &secret, &enc, id.as_bytes()).unwrap();
            let contents = {
                let mut z = zstd::stream::write::Encoder::new(&mut ew, 1).unwrap();
                let (_, contents) = snapshot::stream(&db, &mut z, &NoProgress).unwrap();
                z.finish().unwrap();
                contents
            };
            ew.finish().unwrap();
            contents
        };
        let manifest = Manifest {
            manifest_version: 1,
            id,
            created_at: 1,
            created_by: "imx 0.1".into(),
            imx_version: "0.1.0".into(),
            schema_version: contents.schema_version,
            store_id: contents.store_id,
            source: db.display().to_string(),
            format: BackupFormat::Sqlite,
            compression: "zstd".into(),
            snapshot_bytes: 0,
            payload_bytes: payload.len() as u64,
            payload_sha256: hex::encode(Sha256::digest(&payload)),
            tables: contents.tables,
            audit_head: contents.audit_head,
            encryption: Some(enc),
            note: None,
        };
        let mut file = container::HEAD.to_vec();
        file.extend_from_slice(&payload);
        file.extend_from_slice(&container::trailer(&manifest, None).unwrap());
        let old = dir.path().join("old-encrypted.imxb");
        std::fs::write(&old, file).unwrap();
        let report = verify(&old, Some(&key), Integrity::Quick, &NoProgress).unwrap();
        assert!(report.encrypted);
        assert_eq!(report.notes.len(), 1, "{:?}", report.notes);
    }

    #[test]
    fn unpacking_onto_a_full_disk_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let db = store(dir.path());
        let out = dir.path().join("backups");
        std::fs::create_dir_all(&out).unwrap();
        let path = create(&db, &out, None);
        let full = dir.path().join("full");
        std::fs::create_dir_all(&full).unwrap();
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
            .arg(&full)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|st| st.success());
        if !mounted {
            eprintln!("skipping: cannot mount a small tmpfs here (needs root)");
            return;
        }
        let dest = full.join("restored.db");
        let e = unpack(&path, None, &dest, &NoProgress).map(|_| ());
        let _ = std::process::Command::new("umount").arg(&full).status();
        let e = e.unwrap_err();
        assert!(matches!(e, Error::DiskFullAt { .. }), "{e}");
    }
}
