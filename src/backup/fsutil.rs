//! Small file-system helpers: private (0600) files in private (0700) folders, syncing folders
//! after renames, and I/O errors that say "disk full" when the disk is full.

use std::path::Path;

use crate::{Error, Result};

/// Create `path`'s folder (0700 when it is created here).
pub fn ensure_private_dir(path: &Path) -> Result<()> {
    let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) else {
        return Ok(());
    };
    if dir.exists() {
        return Ok(());
    }
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
        .map_err(|e| Error::io(format!("creating {}", dir.display()), e))
}

/// Write `data` to a new private file at `path` (mode 0600); refuses to overwrite.
pub fn write_private(path: &Path, data: &[u8]) -> Result<()> {
    use std::io::Write;
    ensure_private_dir(path)?;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let ctx = || format!("writing {}", path.display());
    let mut f = opts.open(path).map_err(|e| Error::io(ctx(), e))?;
    f.write_all(data).map_err(|e| Error::io(ctx(), e))?;
    f.sync_all().map_err(|e| Error::io(ctx(), e))
}

/// Sync a folder so a rename in it survives a crash (best effort).
pub fn sync_dir(dir: &Path) {
    if let Ok(f) = std::fs::File::open(dir) {
        let _ = f.sync_all();
    }
}

/// An I/O error while writing `what`: disk full becomes [`Error::DiskFullAt`].
pub fn write_error(what: &Path, e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::StorageFull || e.raw_os_error() == Some(28) {
        Error::DiskFullAt {
            path: what.to_path_buf(),
        }
    } else {
        Error::io(format!("writing {}", what.display()), e)
    }
}
