//! Turning SQLite errors into the library's typed errors.

use std::path::Path;

use rusqlite::ErrorCode;

use crate::Error;

/// Map a SQLite error to an [`Error`] that says what it means for the user.
pub fn map_sqlite(path: &Path, e: rusqlite::Error) -> Error {
    if let rusqlite::Error::SqliteFailure(f, msg) = &e {
        return match f.code {
            ErrorCode::DiskFull => Error::DiskFull,
            // On a full disk SQLite often fails earlier than a page write, growing the `-shm`
            // or `-wal` file, and reports a bare I/O error; say what it really is.
            ErrorCode::SystemIoFailure if filesystem_full(path) => Error::DiskFull,
            ErrorCode::ReadOnly => Error::ReadOnly {
                path: path.to_path_buf(),
                reason: msg.clone().unwrap_or_else(|| "attempt to write".into()),
            },
            ErrorCode::NotADatabase => Error::NotAStore {
                path: path.to_path_buf(),
                reason: "the file is not an SQLite database".into(),
            },
            ErrorCode::CannotOpen | ErrorCode::PermissionDenied => Error::Unavailable {
                path: path.to_path_buf(),
                reason: msg.clone().unwrap_or_else(|| f.to_string()),
            },
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => Error::Store(format!(
                "the store at {} stayed locked by another process for too long",
                path.display()
            )),
            _ => Error::Store(e.to_string()),
        };
    }
    Error::Store(e.to_string())
}

/// Whether the filesystem holding `path` has (next to) no space left for this user: less than
/// SQLite needs to grow its shared-memory file (32 KiB) plus a page.
fn filesystem_full(path: &Path) -> bool {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    nix::sys::statvfs::statvfs(dir).is_ok_and(|st| {
        // Both are u64 on 64-bit Linux, narrower elsewhere.
        #[allow(clippy::useless_conversion)]
        let free = u64::from(st.blocks_available()).saturating_mul(u64::from(st.fragment_size()));
        free < 64 * 1024
    })
}

/// `?`-friendly conversion for code that has no path at hand (inside transactions).
impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        map_sqlite(Path::new("store"), e)
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Store(format!("corrupt JSON in the store: {e}"))
    }
}
