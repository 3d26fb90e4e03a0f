//! The backup file layout (format 2):
//!
//! ```text
//! "IMXBKP\0\x01"                 8-byte header magic (as in format 1)
//! payload                        zstd frame(s), maybe encrypted; `payload_bytes` long
//! seal                           "IMXSEAL2", SHA-256 of the manifest (32 bytes), AES-GCM tag of
//!                                the manifest (16 bytes; zero when the backup is not encrypted)
//! manifest                       JSON
//! manifest length                u64 little-endian
//! "IMXBKEND"                     8-byte footer magic
//! ```
//!
//! The manifest goes last so the payload can be streamed and its checksum recorded. A file
//! without the header is not a backup; one with the header but no footer is truncated.
//!
//! The seal covers the manifest's exact bytes, and through its `payload_sha256` the whole file:
//! a field edited after the fact (row counts, note, time, ...) is "the manifest was modified".
//! A SHA-256 alone can be recomputed by whoever edits the file; in an encrypted backup the tag
//! cannot be without the key (the manifest is the associated data of an AES-GCM tag under the
//! backup's key, checked in [`super::verify`]), and the payload's chunks are bound to format 2,
//! so the seal cannot be stripped by passing the file off as format 1 either.
//!
//! Format 1 (no seal) is still read, with a note that its manifest is not covered. The header is
//! unchanged and the manifest still ends the file, so an imx that only knows format 1 reads the
//! manifest and says the backup is newer than it understands.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use sha2::{Digest, Sha256};

use super::crypto::{self, SecretKey};
use super::manifest::{MANIFEST_VERSION, Manifest};
use crate::{Error, Result};

pub const HEAD: &[u8; 8] = b"IMXBKP\x00\x01";
pub const TAIL: &[u8; 8] = b"IMXBKEND";
/// The start of the seal (format 2).
pub const SEAL_MAGIC: &[u8; 8] = b"IMXSEAL2";
/// Bytes of the seal: magic, SHA-256, tag.
pub const SEAL_LEN: u64 = 8 + 32 + 16;
/// The first manifest version with a seal.
pub const SEALED_SINCE: u32 = 2;
/// A manifest larger than this is not believed.
const MAX_MANIFEST: u64 = 16 << 20;

/// A backup file's manifest and where its payload is.
#[derive(Debug, Clone)]
pub struct Opened {
    pub manifest: Manifest,
    /// Offset of the payload.
    pub payload_at: u64,
    pub file_size: u64,
    /// The manifest's bytes as stored (what the seal covers).
    pub manifest_bytes: Vec<u8>,
    /// The AES-GCM tag over the manifest (format 2; checked once the key is known). `None` for
    /// a format 1 file, which has no seal.
    pub tag: Option<[u8; 16]>,
}

impl Opened {
    /// Whether the manifest is sealed (format 2 or later).
    pub fn sealed(&self) -> bool {
        self.tag.is_some()
    }

    /// What the operator should know about this file that is not a problem.
    pub fn notes(&self) -> Vec<String> {
        if self.sealed() {
            return Vec::new();
        }
        vec![format!(
            "this backup was made by an older imx (manifest version {}): its manifest is not \
             covered by the checksum, so edits to fields that are not checked against the \
             restored store (time, note, creator, source) would go unnoticed",
            self.manifest.manifest_version
        )]
    }

    /// Check the manifest's AES-GCM tag with the backup's key (format 2, encrypted).
    pub fn check_tag(&self, path: &Path, key: &SecretKey) -> Result<()> {
        let (Some(tag), Some(enc)) = (&self.tag, &self.manifest.encryption) else {
            return Ok(());
        };
        if crypto::manifest_tag_ok(key, enc, &sealed_bytes(&self.manifest_bytes), tag)? {
            return Ok(());
        }
        Err(modified(
            path,
            "it does not authenticate with the backup's key (edited after the backup was made)",
        ))
    }
}

/// The bytes the seal's digest and tag cover: a fixed prefix, then the manifest as stored.
fn sealed_bytes(manifest: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(manifest.len() + 32);
    out.extend_from_slice(b"imx-backup-manifest v2\0");
    out.extend_from_slice(manifest);
    out
}

/// The SHA-256 a seal holds for the manifest bytes `json`.
pub fn manifest_digest(json: &[u8]) -> [u8; 32] {
    Sha256::digest(sealed_bytes(json)).into()
}

fn modified(path: &Path, why: &str) -> Error {
    Error::CorruptBackup {
        path: path.to_path_buf(),
        reason: format!("the manifest was modified: {why}"),
    }
}

fn not_backup(path: &Path, reason: &str) -> Error {
    Error::NotABackup {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

fn corrupt(path: &Path, reason: impl Into<String>) -> Error {
    Error::CorruptBackup {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Read and check a backup's manifest (not its payload).
pub fn open(path: &Path) -> Result<Opened> {
    let ctx = |e| Error::io(format!("reading {}", path.display()), e);
    let mut f = std::fs::File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::not_found("backup", path.display().to_string()),
        _ => ctx(e),
    })?;
    let size = f.metadata().map_err(ctx)?.len();
    if size < 8 {
        return Err(not_backup(path, "the file is too short to be one"));
    }
    let mut head = [0u8; 8];
    f.read_exact(&mut head).map_err(ctx)?;
    if &head != HEAD {
        return Err(not_backup(
            path,
            "it does not start with the imx backup header",
        ));
    }
    let missing =
        "the manifest at the end of the file is missing: the file is truncated or damaged";
    if size < 8 + 16 {
        return Err(corrupt(path, missing));
    }
    let mut tail = [0u8; 16];
    f.seek(SeekFrom::End(-16)).map_err(ctx)?;
    f.read_exact(&mut tail).map_err(ctx)?;
    if &tail[8..] != TAIL {
        return Err(corrupt(path, missing));
    }
    let mut len_bytes = [0u8; 8];
    len_bytes.copy_from_slice(&tail[..8]);
    let len = u64::from_le_bytes(len_bytes);
    if len > MAX_MANIFEST || len + 8 + 16 > size {
        return Err(corrupt(
            path,
            "the manifest length is impossible: the file is damaged",
        ));
    }
    f.seek(SeekFrom::Start(size - 16 - len)).map_err(ctx)?;
    let mut json = vec![0u8; usize::try_from(len).unwrap_or(0)];
    f.read_exact(&mut json).map_err(ctx)?;
    let manifest: Manifest = serde_json::from_slice(&json)
        .map_err(|e| corrupt(path, format!("the manifest cannot be read ({e})")))?;
    if manifest.manifest_version > MANIFEST_VERSION {
        return Err(Error::invalid_with_hint(
            format!(
                "{}: the backup's manifest version {} is newer than this imx understands ({MANIFEST_VERSION})",
                path.display(),
                manifest.manifest_version
            ),
            "upgrade imx to read it",
        ));
    }
    let manifest_at = size - 16 - len;
    // The seal, where a format 2 file has it.
    let mut seal = [0u8; SEAL_LEN as usize];
    let has_seal = manifest_at >= 8 + SEAL_LEN && {
        f.seek(SeekFrom::Start(manifest_at - SEAL_LEN))
            .map_err(ctx)?;
        f.read_exact(&mut seal).map_err(ctx)?;
        &seal[..8] == SEAL_MAGIC
    };
    let payload_end = if manifest.manifest_version >= SEALED_SINCE {
        if !has_seal {
            return Err(corrupt(
                path,
                "the seal before the manifest is missing: the file was cut or spliced",
            ));
        }
        if seal[8..40] != manifest_digest(&json) {
            return Err(modified(
                path,
                "its SHA-256 differs from the one sealed with the backup (edited after the backup \
                 was made)",
            ));
        }
        manifest_at - SEAL_LEN
    } else {
        if has_seal && manifest_at - SEAL_LEN - 8 == manifest.payload_bytes {
            return Err(modified(
                path,
                "it claims the unsealed format 1, but the file is sealed",
            ));
        }
        manifest_at
    };
    if payload_end - 8 != manifest.payload_bytes {
        return Err(corrupt(
            path,
            format!(
                "the payload is {} bytes but the manifest says {}: the file was cut or spliced",
                payload_end - 8,
                manifest.payload_bytes
            ),
        ));
    }
    let tag = (manifest.manifest_version >= SEALED_SINCE).then(|| {
        let mut t = [0u8; 16];
        t.copy_from_slice(&seal[40..]);
        t
    });
    Ok(Opened {
        manifest,
        payload_at: 8,
        file_size: size,
        manifest_bytes: json,
        tag,
    })
}

/// What follows the payload for `m`: the seal, the manifest and the footer. `key` is the
/// backup's key when it is encrypted (the seal's tag needs it).
pub fn trailer(m: &Manifest, key: Option<&SecretKey>) -> Result<Vec<u8>> {
    let json = m.stored_json()?;
    let mut out = Vec::with_capacity(json.len() + 72);
    if m.manifest_version >= SEALED_SINCE {
        let tag = match (key, &m.encryption) {
            (Some(key), Some(enc)) => crypto::manifest_tag(key, enc, &sealed_bytes(&json))?,
            (None, Some(_)) => {
                return Err(Error::Internal(
                    "an encrypted backup's manifest is sealed with its key".into(),
                ));
            }
            _ => [0u8; 16],
        };
        out.extend_from_slice(SEAL_MAGIC);
        out.extend_from_slice(&manifest_digest(&json));
        out.extend_from_slice(&tag);
    }
    out.extend_from_slice(&json);
    out.extend_from_slice(&(json.len() as u64).to_le_bytes());
    out.extend_from_slice(TAIL);
    Ok(out)
}

/// The associated data that binds the encrypted payload's chunks to their backup: the id, and
/// from format 2 on the format (so a sealed backup cannot pass for an unsealed one).
pub fn payload_aad(m_version: u32, id: &str) -> Vec<u8> {
    if m_version >= SEALED_SINCE {
        let mut aad = b"imx-backup v2\0".to_vec();
        aad.extend_from_slice(id.as_bytes());
        aad
    } else {
        id.as_bytes().to_vec()
    }
}
