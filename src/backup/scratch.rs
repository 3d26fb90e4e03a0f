//! Scratch files and folders of backup operations, and what becomes of them when their process
//! dies (kill -9, OOM, power loss): `.imx-backup-*.partial` beside new backups, `.imx-restore-*`
//! folders beside a restore's target, `imx-verify-*` (and `imx-snapshot-*`) folders in the
//! temporary folder.
//!
//! - While in use, an item is locked (`flock`, exclusive) by the operation using it. The kernel
//!   drops the lock when the process dies, however it dies, so "its lock is free" means "its
//!   writer is gone" — unlike a pid, which a later process (or a restarted container) may reuse.
//! - The next run of the same command [`sweep`]s its folder: an item whose lock it can take is
//!   removed; one it cannot take belongs to a live operation (in this process or another) and is
//!   left alone.
//! - Until then `backup list` shows what is left ([`find`]).
//!
//! A sweeper removes an item while holding its lock, and a writer checks, once it holds the
//! lock, that the path still names what it created ([`Hold::take`]). So an item swept in the
//! instant between its creation and its lock is noticed (and made anew), never written unseen.

use std::fs::File;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// What kind of operation left an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// `.imx-backup-*.partial`: a backup being written (`backup create`).
    Backup,
    /// `.imx-restore-*/`: a store being unpacked and checked (`backup restore`).
    Restore,
    /// `imx-verify-*/`: a store being unpacked and checked (`backup verify`).
    Verify,
    /// `imx-snapshot-*/`: a snapshot copied before compressing (`backup create`, when pages
    /// cannot be streamed).
    Snapshot,
}

impl Kind {
    /// The name prefix of this kind's items (what `tempfile` is asked for).
    pub fn prefix(self) -> &'static str {
        match self {
            Kind::Backup => ".imx-backup-",
            Kind::Restore => ".imx-restore-",
            Kind::Verify => "imx-verify-",
            Kind::Snapshot => "imx-snapshot-",
        }
    }

    /// The name suffix (only partial backups have one).
    pub fn suffix(self) -> &'static str {
        match self {
            Kind::Backup => ".partial",
            _ => "",
        }
    }

    fn matches(self, name: &str) -> bool {
        name.len() > self.prefix().len() + self.suffix().len()
            && name.starts_with(self.prefix())
            && name.ends_with(self.suffix())
    }

    /// The command whose next run removes this kind of leftover.
    pub fn command(self) -> &'static str {
        match self {
            Kind::Backup | Kind::Snapshot => "imx backup create",
            Kind::Restore => "imx backup restore",
            Kind::Verify => "imx backup verify",
        }
    }
}

/// A scratch item found in a folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Leftover {
    pub path: PathBuf,
    pub kind: Kind,
    /// Bytes (of every file in it, for a folder).
    pub size: u64,
    /// A live operation holds it (it is in progress, not left over).
    pub live: bool,
}

/// The lock on a scratch item, held by the operation using it; released when dropped.
#[derive(Debug)]
pub struct Hold {
    _file: File,
}

impl Hold {
    /// Lock the item (a file or a folder) this process has just created at `path`. `Ok(None)`
    /// when a sweeper removed it before it could be locked: create another one.
    pub fn take(path: &Path) -> Result<Option<Hold>> {
        let ctx = |e| Error::io(format!("locking {}", path.display()), e);
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(ctx(e)),
        };
        // Blocking: a sweeper holding it is about to remove it, and then we see that below.
        file.lock().map_err(ctx)?;
        if !names(path, &file) {
            return Ok(None);
        }
        Ok(Some(Hold { _file: file }))
    }
}

/// Whether `path` still names the file or folder open as `file`.
fn names(path: &Path, file: &File) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (std::fs::symlink_metadata(path), file.metadata()) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        path.exists()
    }
}

/// Make a scratch item with `make` (which creates a new, uniquely named one each call) and lock
/// it; tries again if a sweeper removed it before the lock was taken.
pub fn held<T>(
    mut make: impl FnMut() -> Result<T>,
    path_of: impl Fn(&T) -> &Path,
) -> Result<(T, Hold)> {
    for _ in 0..8 {
        let item = make()?;
        if let Some(hold) = Hold::take(path_of(&item))? {
            return Ok((item, hold));
        }
    }
    Err(Error::Internal(
        "a scratch file kept disappearing before it could be locked".into(),
    ))
}

/// The items of `kind` in `dir`, in progress or left over (nothing is removed).
pub fn find(dir: &Path, kind: Kind) -> Vec<Leftover> {
    let mut out = Vec::new();
    visit(dir, kind, |path, file, free| {
        out.push(Leftover {
            size: size_of(path),
            path: path.to_path_buf(),
            kind,
            live: !free,
        });
        drop(file);
    });
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// Remove the items of `kind` in `dir` whose operation is gone; returns what was removed.
/// Best effort: an item that cannot be removed (another user's, say) is left alone.
pub fn sweep(dir: &Path, kind: Kind) -> Vec<Leftover> {
    let mut removed = Vec::new();
    visit(dir, kind, |path, file, free| {
        if !free || !names(path, &file) {
            return;
        }
        let size = size_of(path);
        // Removed while the lock is held (see the module doc); the lock goes with `file`.
        let gone = if path.is_dir() {
            std::fs::remove_dir_all(path)
        } else {
            std::fs::remove_file(path)
        };
        if gone.is_ok() {
            removed.push(Leftover {
                path: path.to_path_buf(),
                kind,
                size,
                live: false,
            });
        }
        drop(file);
    });
    removed
}

/// Call `f(path, file, free)` for every item of `kind` in `dir`, where `free` says whether its
/// lock could be taken (and is now held through `file`): its operation is gone.
fn visit(dir: &Path, kind: Kind, mut f: impl FnMut(&Path, File, bool)) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !name.to_str().is_some_and(|n| kind.matches(n)) {
            continue;
        }
        let path = entry.path();
        let Ok(file) = File::open(&path) else {
            continue;
        };
        let free = match file.try_lock() {
            Ok(()) => true,
            Err(std::fs::TryLockError::WouldBlock) => false,
            // Cannot tell: leave it alone.
            Err(std::fs::TryLockError::Error(_)) => continue,
        };
        f(&path, file, free);
    }
}

/// Bytes of a file, or of every file under a folder.
fn size_of(path: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    if !meta.is_dir() {
        return meta.len();
    }
    std::fs::read_dir(path)
        .map(|entries| entries.flatten().map(|e| size_of(&e.path())).sum())
        .unwrap_or(0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn a_held_item_is_live_and_a_released_one_is_swept() {
        let dir = tempfile::tempdir().unwrap();
        let make = || {
            tempfile::Builder::new()
                .prefix(Kind::Restore.prefix())
                .tempdir_in(dir.path())
                .map(tempfile::TempDir::keep)
                .map_err(|e| Error::io("mkdir", e))
        };
        let (live, hold) = held(make, |p: &PathBuf| p.as_path()).unwrap();
        std::fs::write(live.join("restored.db"), vec![0u8; 1000]).unwrap();
        let (dead, dead_hold) = held(make, |p: &PathBuf| p.as_path()).unwrap();
        drop(dead_hold); // its process died
        std::fs::write(dir.path().join("unrelated.db"), b"x").unwrap();

        let found = find(dir.path(), Kind::Restore);
        assert_eq!(found.len(), 2, "{found:?}");
        let live_one = found.iter().find(|l| l.path == live).unwrap();
        assert!(live_one.live);
        assert_eq!(live_one.size, 1000);
        assert!(!found.iter().find(|l| l.path == dead).unwrap().live);
        assert!(find(dir.path(), Kind::Backup).is_empty());

        let removed = sweep(dir.path(), Kind::Restore);
        assert_eq!(removed.len(), 1);
        assert_eq!(removed[0].path, dead);
        assert!(!dead.exists());
        assert!(live.exists(), "a live operation's folder is never removed");
        assert!(dir.path().join("unrelated.db").exists());

        drop(hold);
        sweep(dir.path(), Kind::Restore);
        assert!(!live.exists());
    }

    #[test]
    fn an_item_swept_before_it_was_locked_is_noticed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".imx-backup-x.partial");
        std::fs::write(&path, b"x").unwrap();
        // A sweeper got there first (the item is gone, or replaced by another file).
        let stale = File::open(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, b"y").unwrap();
        assert!(!names(&path, &stale));
        std::fs::remove_file(&path).unwrap();
        assert!(Hold::take(&path).unwrap().is_none());
    }
}
