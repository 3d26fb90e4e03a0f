//! The backup file layout:
//!
//! ```text
//! "IMXBKP\0\x01"                 8-byte header magic
//! payload                        zstd frame(s), maybe encrypted; `payload_bytes` long
//! manifest                       JSON
//! manifest length                u64 little-endian
//! "IMXBKEND"                     8-byte footer magic
//! ```
//!
//! The manifest goes last so the payload can be streamed and its checksum recorded. A file
//! without the header is not a backup; one with the header but no footer is truncated.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use super::manifest::{MANIFEST_VERSION, Manifest};
use crate::{Error, Result};

pub const HEAD: &[u8; 8] = b"IMXBKP\x00\x01";
pub const TAIL: &[u8; 8] = b"IMXBKEND";
/// A manifest larger than this is not believed.
const MAX_MANIFEST: u64 = 16 << 20;

/// A backup file's manifest and where its payload is.
#[derive(Debug, Clone)]
pub struct Opened {
    pub manifest: Manifest,
    /// Offset of the payload.
    pub payload_at: u64,
    pub file_size: u64,
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
    let payload_end = size - 16 - len;
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
    Ok(Opened {
        manifest,
        payload_at: 8,
        file_size: size,
    })
}

/// The manifest + footer bytes for `m`.
pub fn trailer(m: &Manifest) -> Result<Vec<u8>> {
    let mut out = serde_json::to_vec_pretty(m).map_err(|e| Error::Internal(e.to_string()))?;
    let len = out.len() as u64;
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(TAIL);
    Ok(out)
}
