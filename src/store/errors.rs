//! Turning SQLite errors into the library's typed errors.

use std::path::Path;

use rusqlite::ErrorCode;

use crate::Error;

/// Map a SQLite error to an [`Error`] that says what it means for the user.
pub fn map_sqlite(path: &Path, e: rusqlite::Error) -> Error {
    if let rusqlite::Error::SqliteFailure(f, msg) = &e {
        return match f.code {
            ErrorCode::DiskFull => Error::DiskFull,
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
