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
    /// No valid credentials: unknown, expired or revoked token, failed or locked-out login
    /// (exit 4; HTTP 401).
    Unauthenticated,
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
    /// `candidates` may hold one more than is shown, to say that there are others.
    #[error(
        "{kind} prefix {prefix:?} is ambiguous: it matches {}",
        list_candidates(candidates)
    )]
    Ambiguous {
        kind: &'static str,
        prefix: String,
        candidates: Vec<String>,
    },
    #[error("{0}")]
    Conflict(String),
    /// An agent name is held by an agent of the same principal that is still online. Says where
    /// that agent runs, so a replacement on the same host can tell whether it is gone.
    #[error(
        "an agent named {name:?} is already online (pid {pid} on {hostname}); choose another --name"
    )]
    NameHeld {
        name: String,
        hostname: String,
        pid: u32,
    },
    #[error("permission denied: {principal} may not {action}")]
    Forbidden { principal: String, action: String },
    /// The credentials presented are not valid. The message never contains a secret.
    #[error("{0}")]
    Unauthenticated(String),
    /// A login failed. One message for an unknown user, a wrong password and a user without a
    /// password, so the answer never tells which names exist.
    #[error("invalid user name or password")]
    BadCredentials,
    /// Too many failed logins for this account; no login is tried until `until` (epoch ms).
    #[error("too many failed logins for this account; try again after {} (in {})", crate::error::utc(*until), crate::error::wait_text(*until))]
    LockedOut { until: i64 },
    #[error("{path}: not an imx store ({reason})")]
    NotAStore { path: PathBuf, reason: String },
    #[error(
        "{path}: the store has schema version {found}, written by a newer imx; this imx ({}) understands schema versions up to {supported}; upgrade imx to use this store",
        env!("CARGO_PKG_VERSION")
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
    /// No store at this path. Only `imx init` (and `imx demo`) create one.
    #[error("no store at {path}; create one with `imx init`")]
    NoStore { path: PathBuf },
    #[error("store error: {0}")]
    Store(String),
    /// An operation the store's backend does not offer yet (e.g. on PostgreSQL, while its
    /// store is being completed): never a made-up answer.
    #[error("not yet available on {backend}: {op}")]
    Unsupported {
        backend: &'static str,
        op: &'static str,
    },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Internal(String),
    /// What only a SQLite store can do (a physical backup of the file, say) was asked of
    /// another backend. `instead` says what to do there.
    #[error("{what} needs a SQLite store; {instead}")]
    NeedsSqlite { what: String, instead: String },
    // --- backups and audit (issue 5) ---
    /// The backup was written by a newer imx (its schema is newer than this build's).
    #[error(
        "{path}: the backup has schema version {found}, newer than this imx understands ({supported}); upgrade imx to restore it"
    )]
    BackupTooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    /// The file is not an imx backup at all.
    #[error("{path}: not an imx backup ({reason})")]
    NotABackup { path: PathBuf, reason: String },
    /// The file is a backup, but damaged: truncated, checksum mismatch, undecodable.
    #[error("{path}: the backup is damaged: {reason}")]
    CorruptBackup { path: PathBuf, reason: String },
    /// The key or passphrase does not open this backup (or none was given).
    #[error("{path}: {reason}")]
    WrongKey { path: PathBuf, reason: String },
    /// The store key (which seals secrets kept in the store, `crate::keys`) is missing, wrong,
    /// or does not open a sealed value.
    #[error("{message}")]
    StoreKey { message: String, hint: String },
    /// Writing ran out of space; what was partially written has been removed.
    #[error(
        "the disk holding {path} is full; the partial file was removed and nothing else changed"
    )]
    DiskFullAt { path: PathBuf },
    /// The server cannot be reached (connection refused, DNS, TLS, timeout).
    #[error("cannot reach the control plane at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    /// An error reported by a remote control plane, keeping its class.
    #[error("{message}")]
    Remote { kind: ErrorKind, message: String },
}

/// How many candidates an ambiguous-prefix error lists.
const AMBIGUOUS_SHOWN: usize = 5;

fn list_candidates(candidates: &[String]) -> String {
    let shown = candidates
        .iter()
        .take(AMBIGUOUS_SHOWN)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if candidates.len() > AMBIGUOUS_SHOWN {
        format!("{shown} and others")
    } else {
        shown
    }
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
            Error::Invalid { .. }
            | Error::Ambiguous { .. }
            | Error::NotABackup { .. }
            | Error::NeedsSqlite { .. } => ErrorKind::Invalid,
            Error::WrongKey { .. } | Error::StoreKey { .. } => ErrorKind::Forbidden,
            Error::CorruptBackup { .. } | Error::DiskFullAt { .. } => ErrorKind::Internal,
            Error::NotFound { .. } | Error::NotFoundHint { .. } => ErrorKind::NotFound,
            Error::Forbidden { .. } => ErrorKind::Forbidden,
            Error::Unauthenticated(_) | Error::BadCredentials | Error::LockedOut { .. } => {
                ErrorKind::Unauthenticated
            }
            Error::Conflict(_) | Error::NameHeld { .. } => ErrorKind::Conflict,
            // A file that is not an imx store, or one from a newer imx, is a control plane that
            // cannot be opened (exit 6), like a missing store: no command can work against it.
            // A read-only or full store was opened; the operation failed (exit 1).
            Error::Unavailable { .. }
            | Error::NoStore { .. }
            | Error::Unreachable { .. }
            | Error::NotAStore { .. }
            | Error::StoreTooNew { .. } => ErrorKind::Unavailable,
            Error::ReadOnly { .. }
            | Error::BackupTooNew { .. }
            | Error::DiskFull
            | Error::Store(_)
            | Error::Unsupported { .. }
            | Error::Io { .. }
            | Error::Internal(_) => ErrorKind::Internal,
            Error::Remote { kind, .. } => *kind,
        }
    }

    /// A hint for the user, if there is one.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Invalid { hint, .. } => hint.clone(),
            Error::NotFoundHint { hint, .. } | Error::StoreKey { hint, .. } => Some(hint.clone()),
            Error::Ambiguous { .. } => Some("give more characters of the id".into()),
            Error::ReadOnly { .. } => {
                Some("check the file's permissions, or pass --store with a writable path".into())
            }
            Error::DiskFull | Error::DiskFullAt { .. } => {
                Some("free some space and try again".into())
            }
            Error::Unreachable { .. } => Some(
                "check that `imx server` runs there and the URL is right (imx context show)".into(),
            ),
            Error::NoStore { path } => Some(format!(
                "if the store exists elsewhere, check --store, IMX_STORE and the current context \
                 (imx context show); to start a new one here: imx --store {} init",
                path.display()
            )),
            Error::Unauthenticated(_) => {
                Some("log in with `imx login` (or set IMX_TOKEN to a valid token)".into())
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
            Error::NameHeld { hostname, .. } => Some(format!(
                "once that process is gone, an agent started on {hostname} takes the name over at once"
            )),
            _ => None,
        }
    }
}

/// An epoch-millisecond time as `2024-05-01 12:03:05 UTC`, for messages.
pub(crate) fn utc(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| ms.to_string())
}

/// How long until `until` (epoch ms), rounded up to whole seconds: `1m 30s`.
pub(crate) fn wait_text(until: i64) -> String {
    let ms = (until - crate::model::now_ms()).max(0);
    let secs = u64::try_from((ms + 999) / 1000).unwrap_or(0);
    humantime::format_duration(std::time::Duration::from_secs(secs)).to_string()
}
