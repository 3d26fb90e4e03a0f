//! The physical snapshot: SQLite's online backup API copies every page of the store into a temp
//! file inside one read transaction (`step(-1)`), so the copy is consistent while agents keep
//! writing (WAL readers never block writers). [`describe`] reads what a snapshot holds: schema
//! version, store id, rows per table and the audit head.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags, OptionalExtension};

use super::{Phase, Progress};
use crate::audit::Base;
use crate::store::map_sqlite;
use crate::{Error, Result};

/// What a snapshot (or a restored store) holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contents {
    pub schema_version: i64,
    pub store_id: String,
    pub tables: BTreeMap<String, u64>,
    pub audit_head: Base,
}

/// Copy the store at `store` into a new SQLite file at `dest`; returns its size.
pub fn take(store: &Path, dest: &Path, progress: &dyn Progress) -> Result<u64> {
    let src = Connection::open_with_flags(
        store,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| map_sqlite(store, e))?;
    src.busy_timeout(Duration::from_secs(30))
        .map_err(|e| map_sqlite(store, e))?;
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
pub fn tables(conn: &Connection) -> rusqlite::Result<Vec<String>> {
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
pub fn describe_conn(conn: &Connection) -> rusqlite::Result<Contents> {
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
