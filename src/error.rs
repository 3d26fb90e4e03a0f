//! The library's typed errors. Each variant says what went wrong and why; the CLI turns the
//! [`ErrorKind`] into one message and the documented exit code.

use std::path::PathBuf;

/// Result alias used throughout the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Broad classes of failure; each maps to one exit code at the edge (see `imx help exit-codes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Something went wrong that is not the caller's fault (exit 1).
    Internal,
    /// The input was wrong: flags, params, workflow files (exit 2).
    Invalid,
    /// The named object does not exist (exit 3).
    NotFound,
    /// The principal may not do this (exit 4).
    Forbidden,
    /// The operation does not fit the object's current state (exit 5).
    Conflict,
    /// The control plane cannot be reached or opened (exit 6).
    Unavailable,
}

/// Errors the library returns.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A workflow file, parameter or argument is invalid. `message` is complete and may span lines.
    #[error("{message}")]
    Invalid {
        message: String,
        /// A hint for what to do, shown on its own line.
        hint: Option<String>,
    },
    #[error("{kind} {id:?} not found")]
    NotFound { kind: &'static str, id: String },
    /// Not found, with a suggestion.
    #[error("{message}")]
    NotFoundHint { message: String, hint: String },
    #[error("{kind} prefix {prefix:?} is ambiguous: it matches {}", candidates.join(", "))]
    Ambiguous {
        kind: &'static str,
        prefix: String,
        candidates: Vec<String>,
    },
    #[error("{0}")]
    Conflict(String),
    #[error("permission denied: {principal} may not {action}")]
    Forbidden { principal: String, action: String },
    #[error("{path}: not an imx store ({reason})")]
    NotAStore { path: PathBuf, reason: String },
    #[error(
        "{path}: the store has schema version {found}, newer than this imx understands ({supported}); upgrade imx"
    )]
    StoreTooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error("{path}: the store is read-only ({reason})")]
    ReadOnly { path: PathBuf, reason: String },
    #[error("the disk holding the store is full; nothing was changed")]
    DiskFull,
    #[error("cannot open the store at {path}: {reason}")]
    Unavailable { path: PathBuf, reason: String },
    #[error("store error: {0}")]
    Store(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Internal(String),
    // --- backups and audit (issue 5) ---
    /// The file is not an imx backup at all.
    #[error("{path}: not an imx backup ({reason})")]
    NotABackup { path: PathBuf, reason: String },
    /// The file is a backup, but damaged: truncated, checksum mismatch, undecodable.
    #[error("{path}: the backup is damaged: {reason}")]
    CorruptBackup { path: PathBuf, reason: String },
    /// The key or passphrase does not open this backup (or none was given).
    #[error("{path}: {reason}")]
    WrongKey { path: PathBuf, reason: String },
    /// Writing ran out of space; what was partially written has been removed.
    #[error(
        "the disk holding {path} is full; the partial file was removed and nothing else changed"
    )]
    DiskFullAt { path: PathBuf },
}

impl Error {
    /// Shorthand for an [`Error::Invalid`] without a hint.
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::Invalid {
            message: message.into(),
            hint: None,
        }
    }

    /// Shorthand for an [`Error::Invalid`] with a hint.
    pub fn invalid_with_hint(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Error::Invalid {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    /// Shorthand for an [`Error::NotFound`].
    pub fn not_found(kind: &'static str, id: impl Into<String>) -> Self {
        Error::NotFound {
            kind,
            id: id.into(),
        }
    }

    /// Wrap an I/O error with what we were doing.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// The class of this error (and so its exit code).
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Invalid { .. } | Error::Ambiguous { .. } | Error::NotABackup { .. } => {
                ErrorKind::Invalid
            }
            Error::WrongKey { .. } => ErrorKind::Forbidden,
            Error::CorruptBackup { .. } | Error::DiskFullAt { .. } => ErrorKind::Internal,
            Error::NotFound { .. } | Error::NotFoundHint { .. } => ErrorKind::NotFound,
            Error::Forbidden { .. } => ErrorKind::Forbidden,
            Error::Conflict(_) => ErrorKind::Conflict,
            Error::Unavailable { .. } => ErrorKind::Unavailable,
            Error::NotAStore { .. }
            | Error::StoreTooNew { .. }
            | Error::ReadOnly { .. }
            | Error::DiskFull
            | Error::Store(_)
            | Error::Io { .. }
            | Error::Internal(_) => ErrorKind::Internal,
        }
    }

    /// A hint for the user, if there is one.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Invalid { hint, .. } => hint.clone(),
            Error::NotFoundHint { hint, .. } => Some(hint.clone()),
            Error::Ambiguous { .. } => Some("give more characters of the id".into()),
            Error::ReadOnly { .. } => {
                Some("check the file's permissions, or pass --store with a writable path".into())
            }
            Error::DiskFull | Error::DiskFullAt { .. } => {
                Some("free some space and try again".into())
            }
            Error::CorruptBackup { .. } => {
                Some("the file cannot be restored; use another backup (imx backup list)".into())
            }
            Error::WrongKey { .. } => Some(
                "pass the key the backup was made with: --key-file FILE or --passphrase-stdin"
                    .into(),
            ),
            Error::NotABackup { .. } => {
                Some("give a backup id (imx backup list) or the path of an .imxb file".into())
            }
            _ => None,
        }
    }
}
