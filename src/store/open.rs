//! Opening a store: identify the file, refuse what is not ours or is newer, migrate, set pragmas.
//!
//! Only a caller that asks to create (`imx init`, `imx demo`) ever creates anything: every other
//! open of a missing store fails with [`Error::NoStore`] and leaves the file system untouched, so
//! a typo in a store path can never become a new, empty store. A new store is private: the
//! folders made for it are 0700 and the file 0600 (SQLite gives its `-wal` and `-shm` files the
//! database file's mode).

use std::io::Read;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::schema::{SCHEMA_VERSION, migrate};
use super::{Store, feed::ChangeFeed, map_sqlite};
use crate::{Error, Result};

const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// How many more times an open is tried after a transient locking error.
const OPEN_RETRIES: u32 = 4;

impl Store {
    /// Open the store at `path`. With `create`, a missing file (and its directory) is created
    /// and initialised; otherwise a missing store is [`Error::NoStore`] and nothing is created.
    pub fn open(path: &Path, create: bool) -> Result<Store> {
        // Several processes opening one new store at once can meet SQLite's transient locking
        // errors (a writer switching the file to WAL, the WAL index being rebuilt): those come
        // back as a plain store error, and a second try a moment later succeeds. Every other
        // failure (not a store, too new, read-only, full disk, cannot open) is final.
        let mut tries = 0;
        loop {
            match Store::open_once(path, create) {
                Err(Error::Store(_)) if tries < OPEN_RETRIES => {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(20 * u64::from(tries)));
                }
                other => return other,
            }
        }
    }

    fn open_once(path: &Path, create: bool) -> Result<Store> {
        let existed = match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => {
                return Err(Error::NotAStore {
                    path: path.to_path_buf(),
                    reason: "it is a directory".into(),
                });
            }
            Ok(m) => m.len() > 0,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => {
                return Err(Error::Unavailable {
                    path: path.to_path_buf(),
                    reason: e.to_string(),
                });
            }
        };
        if existed {
            check_magic(path)?;
        } else if !create {
            return Err(Error::NoStore {
                path: path.to_path_buf(),
            });
        } else {
            create_private(path)?;
        }

        let read_only = existed && !writable(path);
        let mut immutable = false;
        let flags = if read_only {
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
        } else {
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
        };
        let mut conn = Connection::open_with_flags(path, flags).map_err(|e| map_sqlite(path, e))?;
        if read_only && !can_read(&conn) {
            conn = open_immutable(path)?;
            immutable = true;
        }
        tune(&conn).map_err(|e| map_sqlite(path, e))?;

        // Identify the file before changing anything in it: switching someone else's database
        // (or a newer imx's store) to WAL would rewrite its header.
        // One statement, so one snapshot: another process may be initialising the store now.
        let (version, tables): (i64, i64) = conn
            .query_row(
                "SELECT (SELECT user_version FROM pragma_user_version),
                        (SELECT count(*) FROM sqlite_master WHERE type = 'table')",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| map_sqlite(path, e))?;
        let ours = if version == 0 {
            // A new store is an empty database; one with tables is someone else's.
            tables == 0
        } else {
            let app: Option<String> = conn
                .query_row("SELECT value FROM meta WHERE key = 'app'", [], |r| r.get(0))
                .ok();
            app.as_deref() == Some("imx")
        };
        if !ours {
            return Err(Error::NotAStore {
                path: path.to_path_buf(),
                reason: "it is an SQLite database, but not one imx created".into(),
            });
        }
        if version > SCHEMA_VERSION {
            return Err(Error::StoreTooNew {
                path: path.to_path_buf(),
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        if !read_only {
            conn.pragma_update(None, "journal_mode", "WAL")
                .map_err(|e| map_sqlite(path, e))?;
            conn.pragma_update(None, "journal_size_limit", super::wal::SIZE_LIMIT)
                .map_err(|e| map_sqlite(path, e))?;
        }
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(|e| map_sqlite(path, e))?;
        conn.pragma_update(None, "foreign_keys", "OFF")
            .map_err(|e| map_sqlite(path, e))?;
        let mut initialised = false;
        if version < SCHEMA_VERSION {
            if read_only {
                return Err(Error::ReadOnly {
                    path: path.to_path_buf(),
                    reason: "it needs a schema upgrade, which is a write".into(),
                });
            }
            initialised = migrate(&mut conn, version).map_err(|e| match e {
                Error::Store(msg) => Error::Unavailable {
                    path: path.to_path_buf(),
                    reason: msg,
                },
                other => other,
            })?;
        }
        let feed = Arc::new(ChangeFeed::new(path));
        Ok(Store {
            readers: super::pool::ReadPool::new(),
            conn: Mutex::new(conn),
            no_readers: std::sync::atomic::AtomicBool::new(false),
            immutable,
            path: path.to_path_buf(),
            // Whoever initialised the schema created the store: several processes may race to
            // open the same new file, and the winner may already see the file another one made.
            created: initialised,
            read_only,
            wal: super::wal::Wal::new(path, feed.clone()),
            feed,
            specs: crate::engine::SpecCache::default(),
        })
    }
}

/// A read connection to an open store: read-only (a read can never write), with the same busy
/// handler as the writer; immutable when the store was opened so.
pub(super) fn open_reader(path: &Path, immutable: bool) -> Result<Connection> {
    let conn = if immutable {
        open_immutable(path)?
    } else {
        Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| map_sqlite(path, e))?
    };
    tune(&conn).map_err(|e| map_sqlite(path, e))?;
    Ok(conn)
}

/// Prepared statements each connection keeps (see [`tune`]).
const STATEMENT_CACHE: usize = 128;

/// What every connection of a store gets: the busy handler, and the query planner stability
/// guarantee. Without it a statement whose plan may depend on a bound value (any `LIMIT ?`)
/// is re-prepared every time it is bound — on every run, since rusqlite binds every run — which
/// made parsing SQL a tenth of the cost of listing runs.
fn tune(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_handler(Some(busy_wait))?;
    // Every statement of the dispatch path stays prepared: the engine's guarded updates are
    // one statement per kind of change, more than rusqlite's default cache of 16 holds, and a
    // statement evicted is parsed and planned again on its next use.
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    Ok(())
}

fn check_magic(path: &Path) -> Result<()> {
    let mut head = [0u8; 16];
    let mut f = std::fs::File::open(path).map_err(|e| Error::Unavailable {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let n = f
        .read(&mut head)
        .map_err(|e| Error::io("reading the store", e))?;
    if n < 16 || &head != SQLITE_MAGIC {
        return Err(Error::NotAStore {
            path: path.to_path_buf(),
            reason: "the file is not an SQLite database".into(),
        });
    }
    Ok(())
}

/// Whether a read works on this connection. A read-only user cannot read a WAL-mode store
/// whose `-shm` file does not exist yet in a folder it cannot write: SQLite must create it.
fn can_read(conn: &Connection) -> bool {
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })
    .is_ok()
}

/// Reopen a store this user may only read, and cannot read in WAL mode (see [`can_read`]), as
/// immutable. That is sound only when no `-wal` file holds commits the main file lacks, so a
/// non-empty `-wal` (its writer is running, or crashed) keeps the original error.
fn open_immutable(path: &Path) -> Result<Connection> {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let wal_empty = std::fs::metadata(&wal).map_or(true, |m| m.len() == 0);
    if !wal_empty {
        return Err(Error::ReadOnly {
            path: path.to_path_buf(),
            reason: "this user cannot write it, and reading it while another process writes \
                     it needs write access to its folder"
                .into(),
        });
    }
    let uri = format!("file:{}?immutable=1", uri_path(path));
    Connection::open_with_flags(
        uri,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI,
    )
    .map_err(|e| map_sqlite(path, e))
}

/// `path` escaped for a `file:` URI.
fn uri_path(path: &Path) -> String {
    let mut out = String::new();
    for b in path.as_os_str().as_encoded_bytes() {
        match b {
            b'?' | b'#' | b'%' | 0x80.. => out.push_str(&format!("%{b:02X}")),
            _ => out.push(char::from(*b)),
        }
    }
    out
}

/// Make the folders of a new store (0700) and its empty file (0600) before SQLite opens it:
/// SQLite would create the file with 0644 less the umask, and gives the `-wal` and `-shm` files
/// the mode of the database file. Folders and a file that already exist are left as they are.
fn create_private(path: &Path) -> Result<()> {
    let unavailable = |what: &Path, e: std::io::Error| Error::Unavailable {
        path: path.to_path_buf(),
        reason: format!("cannot create {}: {e}", what.display()),
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir).map_err(|e| unavailable(dir, e))?;
    }
    let mut file = std::fs::OpenOptions::new();
    file.write(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut file, 0o600);
    file.open(path).map_err(|e| unavailable(path, e))?;
    Ok(())
}

fn writable(path: &Path) -> bool {
    std::fs::OpenOptions::new().write(true).open(path).is_ok()
}

/// SQLite's busy handler: wait briefly and retry while another process holds the write lock.
/// Short sleeps first (claims and completions take well under a millisecond, so a
/// writer that waits long sleeps would leave the lock idle), up to about 30 s in all.
fn busy_wait(attempt: i32) -> bool {
    let micros = match attempt {
        0..=1_999 => 25,
        2_000..=31_999 => 1_000,
        _ => return false,
    };
    std::thread::sleep(Duration::from_micros(micros));
    true
}
