//! Finding backups: every `*.imxb` file of a folder with its manifest, newest first (and the
//! `.partial` files of backups in progress or interrupted), and resolving what the user typed (a
//! path, an id or a unique id prefix) to one file.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{BackupInfo, EXTENSION, container};
use crate::{Error, Result};

/// A file in the folder that looks like a backup but cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupEntry {
    pub path: PathBuf,
    pub problem: String,
}

/// The backups of a folder.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalog {
    /// Newest first.
    pub backups: Vec<BackupInfo>,
    pub unreadable: Vec<BackupEntry>,
    /// Backups being written, or left incomplete by one that was killed (and restore folders
    /// beside the store, when the control plane knows where it is).
    #[serde(default)]
    pub incomplete: Vec<super::scratch::Leftover>,
}

/// Read the manifests of every backup in `dir` (a missing folder has none).
pub fn scan(dir: &Path) -> Result<Catalog> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Catalog::default()),
        Err(e) => return Err(Error::io(format!("reading {}", dir.display()), e)),
    };
    let mut cat = Catalog::default();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some(EXTENSION) || !path.is_file() {
            continue;
        }
        match container::open(&path) {
            Ok(o) => cat.backups.push(BackupInfo {
                path,
                size: o.file_size,
                manifest: o.manifest,
                duration_ms: None,
            }),
            Err(e) => cat.unreadable.push(BackupEntry {
                path,
                problem: e.to_string(),
            }),
        }
    }
    cat.incomplete = super::scratch::find(dir, super::scratch::Kind::Backup);
    cat.backups.sort_by(|a, b| {
        b.manifest
            .created_at
            .cmp(&a.manifest.created_at)
            .then_with(|| b.manifest.id.cmp(&a.manifest.id))
    });
    Ok(cat)
}

/// Resolve `what` — a file path, or a backup id / unique id prefix in `dir` — to a file.
pub fn resolve(dir: &Path, what: &str) -> Result<PathBuf> {
    let p = Path::new(what);
    if p.is_file() {
        return Ok(p.to_path_buf());
    }
    if what.contains(std::path::MAIN_SEPARATOR) || what.ends_with(&format!(".{EXTENSION}")) {
        return Err(Error::not_found("backup file", what));
    }
    let want = what.to_ascii_uppercase();
    let cat = scan(dir)?;
    let hits: Vec<&BackupInfo> = cat
        .backups
        .iter()
        .filter(|b| b.manifest.id.starts_with(&want))
        .collect();
    match hits.as_slice() {
        [one] => Ok(one.path.clone()),
        [] => Err(Error::NotFoundHint {
            message: format!("no backup {what:?} in {}", dir.display()),
            hint: "list them with: imx backup list (or give the file's path)".into(),
        }),
        many => Err(Error::Ambiguous {
            kind: "backup",
            prefix: what.into(),
            candidates: many.iter().map(|b| b.manifest.id.clone()).collect(),
        }),
    }
}
