//! The physical snapshot of the SQLite store (what `backup create` writes for this backend),
//! taken inside one read transaction so it is consistent while agents keep
//! writing (WAL readers never block writers):
//!
//! - [`stream`]: every page of the store, read through the `sqlite_dbpage` virtual table, written
//!   straight into the compressor — no temporary copy, reading and compressing overlap;
//! - [`take`]: the fallback when that table is not compiled in: SQLite's online backup API copies
//!   the pages into a temp file (`step(-1)`), which is then compressed.
//!
//! [`describe`] reads what a snapshot holds: schema version, store id, rows per table and the
//! audit head; [`examine`] checks a restored one (integrity, audit chain, contents);
//! [`settle`] folds a store's WAL into its main file before it is moved.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags, OptionalExtension};

use super::map_sqlite;
use crate::audit::{Base, ChainReport};
use crate::backup::{Phase, Progress};
use crate::{Error, Result};

/// What a snapshot (or a restored store) holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contents {
    pub schema_version: i64,
    pub store_id: String,
    pub tables: BTreeMap<String, u64>,
    pub audit_head: Base,
}

/// Open a read-only connection to the store.
fn open_source(store: &Path) -> Result<Connection> {
    let src = Connection::open_with_flags(
        store,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| map_sqlite(store, e))?;
    src.busy_timeout(Duration::from_secs(30))
        .map_err(|e| map_sqlite(store, e))?;
    Ok(src)
}

/// Whether this SQLite can stream pages (`sqlite_dbpage` is compiled in).
pub fn can_stream(store: &Path) -> bool {
    open_source(store)
        .and_then(|c| {
            c.prepare("SELECT data FROM sqlite_dbpage WHERE pgno = 1")
                .map(|_| ())
                .map_err(|e| map_sqlite(store, e))
        })
        .is_ok()
}

/// Write every page of the store at `store`, as of one read transaction, to `w`; returns the
/// bytes written and what the snapshot holds (read in the same transaction).
pub fn stream(store: &Path, w: &mut dyn Write, progress: &dyn Progress) -> Result<(u64, Contents)> {
    let mut src = open_source(store)?;
    let e = |e| map_sqlite(store, e);
    let tx = src
        .transaction_with_behavior(rusqlite::TransactionBehavior::Deferred)
        .map_err(e)?;
    // The first read starts the snapshot; everything below sees the same state.
    let contents = describe_conn(&tx).map_err(e)?;
    let pages: i64 = tx
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .map_err(e)?;
    let page_size: i64 = tx
        .query_row("PRAGMA page_size", [], |r| r.get(0))
        .map_err(e)?;
    progress.start(
        Phase::Snapshot,
        u64::try_from(pages * page_size).unwrap_or(0),
    );
    let mut stmt = tx
        .prepare("SELECT pgno, data FROM sqlite_dbpage ORDER BY pgno")
        .map_err(e)?;
    let mut rows = stmt.query([]).map_err(e)?;
    let mut n = 0u64;
    let mut expected = 1i64;
    while let Some(row) = rows.next().map_err(e)? {
        let pgno: i64 = row.get(0).map_err(e)?;
        let data = row
            .get_ref(1)
            .map_err(e)?
            .as_blob()
            .map_err(|x| e(x.into()))?;
        if pgno != expected || data.len() as i64 != page_size {
            return Err(Error::Store(format!(
                "the snapshot of {} returned page {pgno} of {} bytes where page {expected} was expected",
                store.display(),
                data.len()
            )));
        }
        expected += 1;
        w.write_all(data)
            .map_err(|x| crate::backup::create::unwrap_io(x, "writing the backup"))?;
        n += data.len() as u64;
        progress.advance(data.len() as u64);
    }
    if expected - 1 != pages {
        return Err(Error::Store(format!(
            "the snapshot of {} has {} pages, expected {pages}",
            store.display(),
            expected - 1
        )));
    }
    Ok((n, contents))
}

/// Copy the store at `store` into a new SQLite file at `dest`; returns its size.
pub fn take(store: &Path, dest: &Path, progress: &dyn Progress) -> Result<u64> {
    let src = open_source(store)?;
    let pages: i64 = src
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .map_err(|e| map_sqlite(store, e))?;
    let page_size: i64 = src
        .query_row("PRAGMA page_size", [], |r| r.get(0))
        .map_err(|e| map_sqlite(store, e))?;
    progress.start(
        Phase::Snapshot,
        u64::try_from(pages * page_size).unwrap_or(0),
    );
    let mut dst = Connection::open(dest).map_err(|e| map_sqlite(dest, e))?;
    dst.pragma_update(None, "synchronous", "OFF")
        .map_err(|e| map_sqlite(dest, e))?;
    let done = AtomicBool::new(false);
    let result = std::thread::scope(|s| {
        s.spawn(|| {
            let mut seen = 0u64;
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                let len = std::fs::metadata(dest).map(|m| m.len()).unwrap_or(seen);
                if len > seen {
                    progress.advance(len - seen);
                    seen = len;
                }
            }
        });
        let r = copy(&src, &mut dst);
        done.store(true, Ordering::Relaxed);
        r
    });
    result.map_err(|e| match map_sqlite(dest, e) {
        Error::DiskFull => Error::DiskFullAt {
            path: dest.to_path_buf(),
        },
        other => other,
    })?;
    drop(dst);
    let size = std::fs::metadata(dest)
        .map_err(|e| Error::io(format!("reading {}", dest.display()), e))?
        .len();
    Ok(size)
}

fn copy(src: &Connection, dst: &mut Connection) -> rusqlite::Result<()> {
    let backup = Backup::new(src, dst)?;
    loop {
        match backup.step(-1)? {
            StepResult::Done => return Ok(()),
            StepResult::More => {}
            _ => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

/// The user tables of a database, sorted.
fn tables(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )?;
    let names = stmt.query_map([], |r| r.get(0))?;
    names.collect()
}

/// Read what the database at `db` holds.
pub fn describe(db: &Path) -> Result<Contents> {
    let conn = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| map_sqlite(db, e))?;
    describe_conn(&conn).map_err(|e| map_sqlite(db, e))
}

/// [`describe`] on an open connection.
fn describe_conn(conn: &Connection) -> rusqlite::Result<Contents> {
    let schema_version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let store_id: String = conn
        .query_row("SELECT value FROM meta WHERE key = 'store_id'", [], |r| {
            r.get(0)
        })
        .optional()?
        .unwrap_or_else(|| "unknown".into());
    let mut counts = BTreeMap::new();
    for t in tables(conn)? {
        let n: i64 = conn.query_row(&format!("SELECT count(*) FROM \"{t}\""), [], |r| r.get(0))?;
        counts.insert(t, u64::try_from(n).unwrap_or(0));
    }
    let head: Option<(i64, String)> = conn
        .query_row(
            "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let audit_head = match head {
        Some((seq, hash)) => Base { seq, hash },
        None => Base::default(),
    };
    Ok(Contents {
        schema_version,
        store_id,
        tables: counts,
        audit_head,
    })
}

/// What [`examine`] found in a restored store.
pub struct Examined {
    /// The integrity check's lines joined (`"ok"` when sound), or why it could not run.
    pub integrity: std::result::Result<String, String>,
    /// The audit chain verified on its own (no checkpoints: they belong to the source's host).
    pub audit: Result<ChainReport>,
    pub contents: Result<Contents>,
}

/// Check the restored store at `db` (private to the caller, nothing else writes it): the
/// integrity check (`full`: `integrity_check`, else `quick_check`) runs on this thread; the
/// audit chain (hashed on every core), then the row counts, run meanwhile on a second
/// connection. Both map the file into memory and skip SQLite's per-call locking. `Ok(None)`:
/// `db` is not an SQLite database.
pub fn examine(db: &Path, full: bool) -> Result<Option<Examined>> {
    let open = || -> Result<Option<Connection>> {
        let Ok(conn) = Connection::open_with_flags(
            db,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        ) else {
            return Ok(None);
        };
        // SQLite caps this at its compile-time limit (2 GiB by default); beyond it, it reads.
        conn.query_row("PRAGMA mmap_size = 1099511627776", [], |_| Ok(()))
            .map_err(|e| map_sqlite(db, e))?;
        Ok(Some(conn))
    };
    let (Some(conn), Some(mut audit_conn)) = (open()?, open()?) else {
        return Ok(None);
    };
    let pragma = if full {
        "integrity_check"
    } else {
        "quick_check"
    };
    let (integrity, (audit, contents)) = std::thread::scope(|s| {
        let audited = s.spawn(move || -> (Result<ChainReport>, Result<Contents>) {
            match audit_conn.transaction() {
                Ok(tx) => (
                    crate::audit::chain::verify(&tx, &[], &mut |_| {}),
                    describe_conn(&tx).map_err(|e| map_sqlite(db, e)),
                ),
                Err(e) => (
                    Err(map_sqlite(db, e)),
                    Err(Error::Internal("the restored store was not counted".into())),
                ),
            }
        });
        let integrity = integrity(&conn, pragma).map_err(|e| e.to_string());
        let audited = audited.join().unwrap_or_else(|_| {
            let panicked = || Error::Internal("the audit check panicked".into());
            (Err(panicked()), Err(panicked()))
        });
        (integrity, audited)
    });
    Ok(Some(Examined {
        integrity,
        audit,
        contents,
    }))
}

/// `PRAGMA quick_check` or `integrity_check`, joined into one line.
fn integrity(conn: &Connection, pragma: &str) -> rusqlite::Result<String> {
    let mut stmt = conn.prepare(&format!("PRAGMA {pragma}"))?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    let lines = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(lines.join("; "))
}

/// Checkpoint and truncate a store's WAL (so the main file is complete on its own); with
/// `rollback_journal`, leave it in rollback-journal mode (no `-wal` file until reopened).
pub fn settle(path: &Path, rollback_journal: bool) -> Result<()> {
    let conn = Connection::open(path).map_err(|e| map_sqlite(path, e))?;
    conn.busy_timeout(Duration::from_secs(10))
        .map_err(|e| map_sqlite(path, e))?;
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .map_err(|e| map_sqlite(path, e))?;
    if rollback_journal {
        conn.pragma_update(None, "journal_mode", "DELETE")
            .map_err(|e| map_sqlite(path, e))?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn streamed_and_copied_snapshots_hold_the_same_store() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("imx.db");
        let _store = crate::store::testing::store_with_one_record(&db);
        assert!(
            can_stream(&db),
            "sqlite_dbpage is compiled in (.cargo/config.toml)"
        );
        let mut image = Vec::new();
        let (n, streamed) = stream(&db, &mut image, &crate::backup::NoProgress).unwrap();
        assert_eq!(n as usize, image.len());
        let from_stream = dir.path().join("streamed.db");
        std::fs::write(&from_stream, &image).unwrap();
        let copied = dir.path().join("copied.db");
        take(&db, &copied, &crate::backup::NoProgress).unwrap();
        let a = describe(&from_stream).unwrap();
        let b = describe(&copied).unwrap();
        assert_eq!(a, b);
        assert_eq!(a, streamed);
        assert_eq!(a.tables["audit"], 1);
        assert_eq!(a.audit_head.seq, 1);
    }
}
