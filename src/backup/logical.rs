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

use std::collections::BTreeMap;
use std::io::{BufRead, Write};

use rusqlite::Transaction;
use rusqlite::types::{Value, ValueRef};
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

fn to_json(v: ValueRef<'_>) -> serde_json::Value {
    match v {
        ValueRef::Null => serde_json::Value::Null,
        ValueRef::Integer(i) => i.into(),
        ValueRef::Real(f) => f.into(),
        ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned().into(),
        ValueRef::Blob(b) => serde_json::json!({ "blob": hex::encode(b) }),
    }
}

fn from_json(v: serde_json::Value) -> Result<Value> {
    Ok(match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Integer(i64::from(b)),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Integer(i),
            None => Value::Real(n.as_f64().unwrap_or(0.0)),
        },
        serde_json::Value::String(s) => Value::Text(s),
        serde_json::Value::Object(o) => match o.get("blob").and_then(|b| b.as_str()) {
            Some(h) => Value::Blob(
                hex::decode(h).map_err(|_| Error::invalid("a blob in the export is not hex"))?,
            ),
            None => return Err(Error::invalid("unexpected object in a row of the export")),
        },
        serde_json::Value::Array(_) => {
            return Err(Error::invalid("unexpected array in a row of the export"));
        }
    })
}

fn columns(tx: &Transaction<'_>, table: &str) -> Result<Vec<String>> {
    let mut stmt = tx.prepare(&format!("PRAGMA table_info(\"{table}\")"))?;
    let cols = stmt.query_map([], |r| r.get::<_, String>(1))?;
    Ok(cols.collect::<rusqlite::Result<_>>()?)
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
pub fn export(
    tx: &Transaction<'_>,
    w: &mut dyn Write,
    progress: &dyn super::Progress,
) -> Result<(u64, BTreeMap<String, u64>)> {
    let schema_version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let mut bytes = line(
        w,
        &Header {
            format: FORMAT.into(),
            version: VERSION,
            schema_version,
            store_id: crate::audit::store_id(tx)?,
            created_at: crate::model::now_ms(),
        },
    )?;
    let mut counts = BTreeMap::new();
    let tables = {
        let mut stmt = tx.prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )?;
        let names = stmt.query_map([], |r| r.get::<_, String>(0))?;
        names.collect::<rusqlite::Result<Vec<_>>>()?
    };
    for table in tables {
        let cols = columns(tx, &table)?;
        bytes += line(
            w,
            &TableHeader {
                table: table.clone(),
                columns: cols.clone(),
            },
        )?;
        let list = cols
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let mut stmt = tx.prepare(&format!("SELECT {list} FROM \"{table}\""))?;
        let mut rows = stmt.query([])?;
        let mut n = 0u64;
        let mut values = Vec::with_capacity(cols.len());
        while let Some(row) = rows.next()? {
            values.clear();
            for i in 0..cols.len() {
                values.push(to_json(row.get_ref(i)?));
            }
            let written = line(w, &values)?;
            progress.advance(written);
            bytes += written;
            n += 1;
        }
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
pub fn import(tx: &Transaction<'_>, r: &mut dyn BufRead) -> Result<(i64, BTreeMap<String, u64>)> {
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
    let mut current: Option<(String, rusqlite::Statement<'_>, usize)> = None;
    loop {
        let Some(l) = next()? else {
            return Err(bad("it ends without its end line (cut off)".into()));
        };
        if l.starts_with('[') {
            let Some((table, stmt, n)) = current.as_mut() else {
                return Err(bad("a row comes before any table".into()));
            };
            let values: Vec<serde_json::Value> =
                serde_json::from_str(&l).map_err(|e| bad(format!("a row of {table}: {e}")))?;
            if values.len() != *n {
                return Err(bad(format!(
                    "a row of {table} has the wrong number of values"
                )));
            }
            let values = values
                .into_iter()
                .map(from_json)
                .collect::<Result<Vec<_>>>()?;
            stmt.execute(rusqlite::params_from_iter(values))?;
            *counts.entry(table.clone()).or_default() += 1;
            continue;
        }
        let v: serde_json::Value =
            serde_json::from_str(&l).map_err(|e| bad(format!("a line is not JSON: {e}")))?;
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
            return Ok((header.schema_version, end.tables));
        }
        let th: TableHeader = serde_json::from_value(v).map_err(|e| bad(e.to_string()))?;
        let known = columns(tx, &th.table)?;
        if known.is_empty() {
            return Err(bad(format!("unknown table {:?}", th.table)));
        }
        if let Some(c) = th.columns.iter().find(|c| !known.contains(c)) {
            return Err(bad(format!("unknown column {c:?} in table {:?}", th.table)));
        }
        let cols = th
            .columns
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let params = (1..=th.columns.len())
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut sql = format!("INSERT INTO \"{}\" ({cols}) VALUES ({params})", th.table);
        if th.table == "meta" {
            sql.push_str(" ON CONFLICT (key) DO UPDATE SET value = excluded.value");
        }
        counts.entry(th.table.clone()).or_default();
        current = Some((th.table, tx.prepare(&sql)?, th.columns.len()));
    }
}
