//! The logical format: versioned JSONL of every table, for moving a store to another store kind
//! (a PostgreSQL store imports the same lines). Layout, one JSON value per line:
//!
//! ```text
//! {"format":"imx-logical","version":1,"schema_version":2,"store_id":"…","created_at":…}
//! {"table":"agents","columns":["id","name",…]}
//! ["01J…","build-1",…]                      one array per row, in column order
//! {"table":"audit","columns":[…]}
//! …
//! {"end":true,"tables":{"agents":3,"audit":120,…}}
//! ```
//!
//! Values are JSON numbers, strings and null (blobs, which the schema does not use, become
//! `{"blob":"<hex>"}`). Tables and columns are named, so an importer maps them onto its own
//! schema; the end line lets it detect a cut-off export.
//!
//! The store reads and writes the rows through [`Tables`] (implemented in
//! `store/sqlite/tables.rs` and `store/postgres/tables.rs`); this module only knows the format.
//! Both stores export the same tables and columns: the PostgreSQL store leaves out what only
//! it keeps (the audit head row, feed counters, the leader's lease, each event's and log
//! line's transaction id and feed number) and rebuilds those after an import.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

pub const FORMAT: &str = "imx-logical";
pub const VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
    schema_version: i64,
    store_id: String,
    created_at: i64,
}

#[derive(Debug, Serialize, Deserialize)]
struct TableHeader {
    table: String,
    columns: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct End {
    end: bool,
    tables: BTreeMap<String, u64>,
}

/// Inserts rows into one table (their values in the order of the columns it was made for).
pub trait Inserter {
    /// Insert one row; a store may hold it back to insert several at once.
    fn insert(&mut self, values: Vec<serde_json::Value>) -> Result<()>;
    /// Insert every row still held back (before the table's rows are counted or the
    /// transaction commits).
    fn finish(&mut self) -> Result<()> {
        Ok(())
    }
}

/// A closure that inserts each row at once.
impl<F: FnMut(Vec<serde_json::Value>) -> Result<()>> Inserter for F {
    fn insert(&mut self, values: Vec<serde_json::Value>) -> Result<()> {
        self(values)
    }
}

/// Something that inserts rows into one table.
pub type Insert<'t> = Box<dyn Inserter + 't>;

/// Every table of a store, read and written inside one of its transactions.
pub trait Tables {
    /// The schema version of the store.
    fn schema_version(&self) -> Result<i64>;
    /// The names of its tables, sorted.
    fn table_names(&self) -> Result<Vec<String>>;
    /// The columns of `table` in schema order (none: no such table).
    fn columns(&self, table: &str) -> Result<Vec<String>>;
    /// Call `f` with every row of `table`, its values in the order of `columns`.
    fn each_row(
        &self,
        table: &str,
        columns: &[String],
        f: &mut dyn FnMut(&[serde_json::Value]) -> Result<()>,
    ) -> Result<()>;
    /// Something that inserts rows (values in the order of `columns`) into `table`; rows of
    /// `meta` replace the row with the same key.
    fn inserter<'t>(&'t self, table: &str, columns: &[String]) -> Result<Insert<'t>>;
    /// How many rows `table` holds.
    fn row_count(&self, table: &str) -> Result<u64>;
    /// Remove every row of every table (before importing over a store that holds data).
    fn clear(&self) -> Result<()>;
    /// After rows were inserted: bring what the store derives from its rows (id sequences,
    /// feed counters, the audit chain's head row) up to date with them.
    fn imported(&self) -> Result<()>;
}

/// Whether the store behind `tx` holds anything beyond a fresh store's metadata (rows in any
/// table but `meta`).
pub fn has_data(tx: &dyn Tables) -> Result<bool> {
    for table in tx.table_names()? {
        if table != "meta" && tx.row_count(&table)? > 0 {
            return Ok(true);
        }
    }
    Ok(false)
}

fn line(w: &mut dyn Write, v: &impl Serialize) -> Result<u64> {
    let mut buf = serde_json::to_vec(v).map_err(|e| Error::Internal(e.to_string()))?;
    buf.push(b'\n');
    w.write_all(&buf)
        .map_err(|e| Error::io("writing the export", e))?;
    Ok(buf.len() as u64)
}

/// Write every table of the store (read through `tx`, one consistent snapshot) to `w`.
/// Returns the bytes written and the rows per table.
pub fn export<T: Tables + crate::audit::AuditStore + ?Sized>(
    tx: &T,
    w: &mut dyn Write,
    progress: &dyn super::Progress,
) -> Result<(u64, BTreeMap<String, u64>)> {
    let schema_version = tx.schema_version()?;
    let mut bytes = line(
        w,
        &Header {
            format: FORMAT.into(),
            version: VERSION,
            schema_version,
            store_id: tx.store_id()?,
            created_at: crate::model::now_ms(),
        },
    )?;
    let mut counts = BTreeMap::new();
    let tables = tx.table_names()?;
    for table in tables {
        let cols = tx.columns(&table)?;
        bytes += line(
            w,
            &TableHeader {
                table: table.clone(),
                columns: cols.clone(),
            },
        )?;
        let mut n = 0u64;
        tx.each_row(&table, &cols, &mut |values| {
            let written = line(w, &values)?;
            progress.advance(written);
            bytes += written;
            n += 1;
            Ok(())
        })?;
        counts.insert(table, n);
    }
    bytes += line(
        w,
        &End {
            end: true,
            tables: counts.clone(),
        },
    )?;
    Ok((bytes, counts))
}

/// Import an export into the (fresh) store behind `tx`; returns the schema version it was made
/// with and the rows per table.
pub fn import(tx: &dyn Tables, r: &mut dyn BufRead) -> Result<(i64, BTreeMap<String, u64>)> {
    let bad = |what: String| Error::invalid(format!("the logical export is malformed: {what}"));
    let mut lines = r.lines();
    let mut next = move || -> Result<Option<String>> {
        lines
            .next()
            .transpose()
            .map_err(|e| Error::io("reading the export", e))
    };
    let header: Header = next()?
        .and_then(|l| serde_json::from_str(&l).ok())
        .filter(|h: &Header| h.format == FORMAT)
        .ok_or_else(|| bad("it does not start with an imx-logical header".into()))?;
    if header.version > VERSION {
        return Err(Error::invalid(format!(
            "the export's format version {} is newer than this imx understands ({VERSION})",
            header.version
        )));
    }
    if header.schema_version > crate::store::SCHEMA_VERSION {
        return Err(Error::invalid(format!(
            "the export has schema version {}, newer than this imx understands ({}); upgrade imx",
            header.schema_version,
            crate::store::SCHEMA_VERSION
        )));
    }
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut current: Option<(String, Insert<'_>, usize)> = None;
    loop {
        let Some(l) = next()? else {
            return Err(bad("it ends without its end line (cut off)".into()));
        };
        if l.starts_with('[') {
            let Some((table, insert, n)) = current.as_mut() else {
                return Err(bad("a row comes before any table".into()));
            };
            let values: Vec<serde_json::Value> =
                serde_json::from_str(&l).map_err(|e| bad(format!("a row of {table}: {e}")))?;
            if values.len() != *n {
                return Err(bad(format!(
                    "a row of {table} has the wrong number of values"
                )));
            }
            insert.insert(values)?;
            *counts.entry(table.clone()).or_default() += 1;
            continue;
        }
        let v: serde_json::Value =
            serde_json::from_str(&l).map_err(|e| bad(format!("a line is not JSON: {e}")))?;
        if let Some((_, insert, _)) = current.as_mut() {
            insert.finish()?;
        }
        if v.get("end").is_some() {
            let end: End = serde_json::from_value(v).map_err(|e| bad(e.to_string()))?;
            for (t, n) in &end.tables {
                if counts.get(t).copied().unwrap_or(0) != *n {
                    return Err(bad(format!(
                        "table {t} has {} rows but the end line says {n}",
                        counts.get(t).copied().unwrap_or(0)
                    )));
                }
            }
            tx.imported()?;
            return Ok((header.schema_version, end.tables));
        }
        let th: TableHeader = serde_json::from_value(v).map_err(|e| bad(e.to_string()))?;
        let known = tx.columns(&th.table)?;
        if known.is_empty() {
            return Err(bad(format!("unknown table {:?}", th.table)));
        }
        if let Some(c) = th.columns.iter().find(|c| !known.contains(c)) {
            return Err(bad(format!("unknown column {c:?} in table {:?}", th.table)));
        }
        counts.entry(th.table.clone()).or_default();
        let insert = tx.inserter(&th.table, &th.columns)?;
        current = Some((th.table, insert, th.columns.len()));
    }
}
