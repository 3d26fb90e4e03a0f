//! Retention: `audit prune --keep 365d` moves records older than the cutoff into an archive file
//! (JSONL: a header with the boundary, then the records) and records the boundary — the seq and
//! hash of the last archived record — in the store, so the remaining chain still verifies from
//! there. The archive verifies on its own (`audit verify --archive FILE`).

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::AuditStore;
use super::chain::Base;
use crate::model::AuditRecord;
use crate::{Error, Result};

/// The first line of an archive file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveHeader {
    /// Always `imx-audit-archive`.
    pub format: String,
    pub version: u32,
    pub store_id: String,
    /// Where the archived records start (the previous boundary, or genesis).
    pub base: Base,
    /// The last archived record: the remaining chain starts after it.
    pub boundary: Base,
    pub records: u64,
    pub created_at: i64,
}

/// What `audit prune` did (or would do, with `dry_run`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PruneOutcome {
    pub dry_run: bool,
    #[serde(with = "crate::model::time::rfc3339")]
    pub cutoff: i64,
    pub archived: u64,
    /// The new boundary (unchanged when nothing was archived).
    pub boundary: Base,
    pub archive: Option<PathBuf>,
    pub archive_sha256: Option<String>,
}

/// Archive and delete the records older than `cutoff` (ms) into a file in `dir`. The caller
/// appends the `audit.prune` record afterwards, in the same transaction.
pub fn prune(
    tx: &dyn AuditStore,
    store_id: &str,
    cutoff: i64,
    dir: &Path,
    dry_run: bool,
) -> Result<PruneOutcome> {
    let base = tx.base()?;
    let Some((boundary, archived)) = tx.last_before(cutoff)? else {
        return Ok(PruneOutcome {
            dry_run,
            cutoff,
            archived: 0,
            boundary: base,
            archive: None,
            archive_sha256: None,
        });
    };
    let to_seq = boundary.seq;
    let name = format!(
        "audit-{}-{:09}-{:09}.jsonl",
        store_id.get(..8).unwrap_or(store_id),
        base.seq + 1,
        to_seq
    );
    let path = dir.join(name);
    if dry_run {
        return Ok(PruneOutcome {
            dry_run,
            cutoff,
            archived,
            boundary,
            archive: Some(path),
            archive_sha256: None,
        });
    }
    let header = ArchiveHeader {
        format: "imx-audit-archive".into(),
        version: 1,
        store_id: store_id.into(),
        base,
        boundary: boundary.clone(),
        records: archived,
        created_at: crate::model::now_ms(),
    };
    let sha = write_archive(tx, &path, &header)?;
    tx.cut(&boundary)?;
    Ok(PruneOutcome {
        dry_run,
        cutoff,
        archived,
        boundary,
        archive: Some(path),
        archive_sha256: Some(sha),
    })
}

/// Write the archive atomically (temp file, sync, rename); returns its SHA-256.
fn write_archive(tx: &dyn AuditStore, path: &Path, header: &ArchiveHeader) -> Result<String> {
    use sha2::{Digest, Sha256};
    let dir = path.parent().unwrap_or(Path::new("."));
    let ctx = || format!("writing the audit archive {}", path.display());
    std::fs::create_dir_all(dir).map_err(|e| Error::io(ctx(), e))?;
    let tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io(ctx(), e))?;
    let mut hasher = Sha256::new();
    {
        let mut w = std::io::BufWriter::new(tmp.as_file());
        let mut line = |v: &[u8]| -> std::io::Result<()> {
            hasher.update(v);
            hasher.update(b"\n");
            w.write_all(v)?;
            w.write_all(b"\n")
        };
        let json = |e: serde_json::Error| Error::Internal(e.to_string());
        line(&serde_json::to_vec(header).map_err(json)?).map_err(|e| Error::io(ctx(), e))?;
        tx.each_through(header.boundary.seq, &mut |r| {
            line(&serde_json::to_vec(r).map_err(json)?).map_err(|e| Error::io(ctx(), e))
        })?;
        w.flush().map_err(|e| Error::io(ctx(), e))?;
    }
    tmp.as_file().sync_all().map_err(|e| Error::io(ctx(), e))?;
    tmp.persist(path).map_err(|e| Error::io(ctx(), e.error))?;
    Ok(hex::encode(hasher.finalize()))
}

/// Verify an archive file on its own: its records chain from its base to its boundary.
pub fn verify_archive(path: &Path) -> Result<(ArchiveHeader, std::result::Result<(), i64>)> {
    let ctx = || format!("reading the audit archive {}", path.display());
    let f = std::fs::File::open(path).map_err(|e| Error::io(ctx(), e))?;
    let mut lines = std::io::BufReader::new(f).lines();
    let first = lines
        .next()
        .transpose()
        .map_err(|e| Error::io(ctx(), e))?
        .unwrap_or_default();
    let header: ArchiveHeader = serde_json::from_str(&first)
        .ok()
        .filter(|h: &ArchiveHeader| h.format == "imx-audit-archive")
        .ok_or_else(|| Error::invalid(format!("{}: not an imx audit archive", path.display())))?;
    let mut prev = header.base.clone();
    for line in lines {
        let line = line.map_err(|e| Error::io(ctx(), e))?;
        let Ok(r) = serde_json::from_str::<AuditRecord>(&line) else {
            return Ok((header, Err(prev.seq + 1)));
        };
        if r.seq != prev.seq + 1 || r.prev_hash != prev.hash || super::record_hash(&r) != r.hash {
            return Ok((header, Err(r.seq.min(prev.seq + 1))));
        }
        prev = Base {
            seq: r.seq,
            hash: r.hash,
        };
    }
    if prev != header.boundary {
        return Ok((header, Err(prev.seq + 1)));
    }
    Ok((header, Ok(())))
}
