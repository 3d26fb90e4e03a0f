//! Every table, row by row, for the logical backup format and `imx store copy` ([`Tables`]) on
//! PostgreSQL: exporting them from one snapshot (streamed through a cursor, a batch of rows at
//! a time), and inserting an export's rows into a store, then rebuilding what the store derives
//! from them.
//!
//! The export has the SQLite store's tables and columns, so either store imports the other's:
//! what only this store keeps is left out (the audit chain's head row, the feed counters, the
//! leader's lease, the schema version table; each event's and log line's transaction id and
//! feed number) and rebuilt after an import ([`Tables::imported`]). Values travel as in the
//! SQLite export: BIGINT as numbers, BOOLEAN as 0/1, TEXT as strings, JSONB as its text, BYTEA
//! as `{"blob":"<hex>"}`.
//!
//! Events and log lines are exported with their feed number (`feed_seq`, the cursor readers
//! hold) as their id, so a store they are imported into continues the same cursors; imported
//! here, each row's feed number is its id, and the counters and id sequences continue after
//! the largest.

use tokio_postgres::types::ToSql;

use super::tx::{PgTx, get};
use crate::audit::GENESIS;
use crate::backup::logical::{Insert, Tables};
use crate::{Error, Result};

/// Tables only this store keeps: not exported, and rebuilt (or left alone) on import. The
/// audit checkpoint log (`audit_checkpoints`) is, on a SQLite store, a file on its host outside
/// the store: neither is in a backup or a copy, and a restore or a copy leaves it alone.
const INTERNAL_TABLES: [&str; 5] = [
    "audit_checkpoints",
    "audit_head",
    "feed_counters",
    "leader_lease",
    "schema_version",
];

/// The tables numbered by the feed sequencer (see `super::sequence`).
const FEEDS: [&str; 2] = ["events", "logs"];

/// Tables whose key comes from an identity sequence, and that key.
const IDENTITIES: [(&str, &str); 3] = [("steps", "seq"), ("events", "id"), ("logs", "id")];

/// Rows fetched from the export's cursor at a time.
const BATCH: i64 = 1000;

/// Rows inserted by one statement at most (fewer when their parameters would be too many).
const ROWS: usize = 500;

/// Parameters one statement may have (PostgreSQL's wire protocol counts them in 16 bits).
const MAX_PARAMS: usize = 65_535;

/// Whether a column is this store's own bookkeeping (not exported).
fn internal_column(table: &str, column: &str) -> bool {
    FEEDS.contains(&table) && column == "feed_seq"
}

/// The schema version an export from this store declares: the SQLite store's version with the
/// same tables and columns (the logical format speaks in SQLite's numbering).
pub fn logical_schema_version(pg_version: i64) -> i64 {
    match pg_version {
        // 0001: what SQLite's 0001-0008 make.
        ..=1 => 8,
        // 0002 adds workflows.source (SQLite 0012, its ninth); 0003, 0004 and 0006 only what
        // PostgreSQL keeps apart (feed numbers, the stored checkpoint log); 0005 indexes.
        2..=6 => 9,
        // 0007 indexes the steps by agent, as SQLite 0013 (its tenth): no table or column
        // changes, so an export of either is the same.
        7 => 10,
        // 0008 adds the triggers, as SQLite 0014 (its eleventh).
        8 => 11,
        // 0009 adds the runs' concurrency columns, as SQLite 0015 (its twelfth).
        9 => 12,
        // 0010 adds the schedules and the runs' schedule columns, as SQLite 0016 (its
        // thirteenth).
        10 => 13,
        // 0011 adds the notification tables, as SQLite 0017 (its fourteenth).
        11 => 14,
        // 0012 adds the secrets, as SQLite 0018 (its fifteenth).
        12 => 15,
        // 0013 indexes the runs by schedule, as SQLite 0019 (its sixteenth): no table or
        // column changes.
        13 => 16,
        // 0016 (its fourteenth) indexes the waiting approval steps, as SQLite 0022 (its
        // seventeenth): no table or column changes.
        14 => 17,
        // 0017 (its fifteenth) adds the runs' labels and rerun_of and the run_labels table, as
        // SQLite 0023 (its eighteenth).
        15 => 18,
        // 0018 (its sixteenth) adds the artifacts, as SQLite 0024 (its nineteenth).
        16 => 19,
        // 0019 (its seventeenth) adds steps.vars, as SQLite 0025 (its twentieth).
        17 => 20,
        // 0020 (its eighteenth) adds triggers.labels, as SQLite 0026 (its twenty-first); 0021
        // (its nineteenth) changes only the feed counters, which are not exported.
        _ => 21,
    }
}

/// How a column's values are read and written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int,
    Bool,
    Float,
    Text,
    Json,
    Bytes,
}

impl Kind {
    fn of(data_type: &str) -> Result<Kind> {
        Ok(match data_type {
            "bigint" | "integer" | "smallint" => Kind::Int,
            "boolean" => Kind::Bool,
            "double precision" | "real" | "numeric" => Kind::Float,
            "text" | "character varying" | "character" => Kind::Text,
            "jsonb" | "json" => Kind::Json,
            "bytea" => Kind::Bytes,
            other => {
                return Err(Error::Store(format!(
                    "a column of type {other} cannot be exported"
                )));
            }
        })
    }

    /// The select expression that reads `column` in a form [`Kind::to_json`] takes.
    fn select(self, table: &str, column: &str) -> String {
        let c = format!("\"{column}\"");
        if FEEDS.contains(&table) && column == "id" {
            // The feed number is the id readers page by; a row committed after the sequencer
            // last ran (none yet) gets one above every number handed out, as the sequencer
            // would give it.
            return format!(
                "COALESCE(feed_seq, (SELECT last FROM feed_counters WHERE feed = '{table}') + id)"
            );
        }
        match self {
            Kind::Int => format!("{c}::bigint"),
            Kind::Bool => format!("{c}::int::int8"),
            Kind::Float => format!("{c}::float8"),
            Kind::Text | Kind::Json => format!("{c}::text"),
            Kind::Bytes => c,
        }
    }

    fn to_json(self, row: &tokio_postgres::Row, i: usize) -> Result<serde_json::Value> {
        Ok(match self {
            Kind::Int | Kind::Bool => get::<Option<i64>>(row, i)?.into(),
            Kind::Float => get::<Option<f64>>(row, i)?.into(),
            Kind::Text | Kind::Json => get::<Option<String>>(row, i)?.into(),
            Kind::Bytes => match get::<Option<Vec<u8>>>(row, i)? {
                Some(b) => serde_json::json!({ "blob": hex::encode(b) }),
                None => serde_json::Value::Null,
            },
        })
    }

    /// The placeholder for parameter `n` (JSON goes as text, cast by the server).
    fn placeholder(self, n: usize) -> String {
        match self {
            Kind::Json => format!("${n}::text::jsonb"),
            _ => format!("${n}"),
        }
    }

    /// A value of the export as a parameter of this column's type.
    fn param(self, v: serde_json::Value) -> Result<Box<dyn ToSql + Sync + Send>> {
        use serde_json::Value as J;
        let bad =
            |what: &str, v: &J| Error::invalid(format!("a value in the export is not {what}: {v}"));
        Ok(match (self, v) {
            (Kind::Int, J::Null) => Box::new(None::<i64>),
            (Kind::Int, J::Bool(b)) => Box::new(i64::from(b)),
            (Kind::Int, J::Number(n)) => match n.as_i64() {
                Some(i) => Box::new(i),
                None => return Err(bad("an integer", &J::Number(n))),
            },
            (Kind::Int, J::String(s)) => match s.trim().parse::<i64>() {
                Ok(i) => Box::new(i),
                Err(_) => return Err(bad("an integer", &J::String(s))),
            },
            (Kind::Bool, J::Null) => Box::new(None::<bool>),
            (Kind::Bool, J::Bool(b)) => Box::new(b),
            (Kind::Bool, J::Number(n)) => Box::new(n.as_f64().is_some_and(|f| f != 0.0)),
            (Kind::Float, J::Null) => Box::new(None::<f64>),
            (Kind::Float, J::Number(n)) => Box::new(n.as_f64().unwrap_or(0.0)),
            (Kind::Text | Kind::Json, J::Null) => Box::new(None::<String>),
            (Kind::Text | Kind::Json, J::String(s)) => Box::new(s),
            (Kind::Text | Kind::Json, J::Number(n)) => Box::new(n.to_string()),
            (Kind::Text | Kind::Json, J::Bool(b)) => Box::new(i64::from(b).to_string()),
            (Kind::Bytes, J::Null) => Box::new(None::<Vec<u8>>),
            (Kind::Bytes, J::Object(o)) => match o.get("blob").and_then(|b| b.as_str()) {
                Some(h) => Box::new(
                    hex::decode(h)
                        .map_err(|_| Error::invalid("a blob in the export is not hex"))?,
                ),
                None => return Err(bad("a blob", &J::Object(o))),
            },
            (_, v) => return Err(bad(&format!("{self:?}").to_lowercase(), &v)),
        })
    }
}

/// The columns of `table` with their kinds, in schema order (bookkeeping columns left out).
fn typed_columns(tx: &PgTx<'_>, table: &str) -> Result<Vec<(String, Kind)>> {
    if INTERNAL_TABLES.contains(&table) {
        return Ok(Vec::new());
    }
    let rows = tx.query(
        "SELECT column_name::text, data_type::text FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name = $1
         ORDER BY ordinal_position",
        &[&table],
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let (name, ty): (String, String) = (get(r, 0)?, get(r, 1)?);
        if !internal_column(table, &name) {
            out.push((name, Kind::of(&ty)?));
        }
    }
    Ok(out)
}

/// The kinds of `columns` of `table`; an error names a column the table does not have.
fn kinds(tx: &PgTx<'_>, table: &str, columns: &[String]) -> Result<Vec<Kind>> {
    let known = typed_columns(tx, table)?;
    columns
        .iter()
        .map(|c| {
            known
                .iter()
                .find(|(name, _)| name == c)
                .map(|(_, k)| *k)
                .ok_or_else(|| Error::invalid(format!("table {table:?} has no column {c:?}")))
        })
        .collect()
}

/// `"a", "b", …` for a column list.
fn quoted(columns: &[String]) -> String {
    columns
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether `table` is one of the exported tables (names are checked before they go into SQL).
fn known_table(tx: &PgTx<'_>, table: &str) -> Result<()> {
    if Tables::table_names(tx)?.iter().any(|t| t == table) {
        Ok(())
    } else {
        Err(Error::invalid(format!("unknown table {table:?}")))
    }
}

/// A row's values as parameters.
type Params = Vec<Box<dyn ToSql + Sync + Send>>;

/// Inserts rows into one table a statement of many rows at a time.
struct Batch<'t> {
    tx: &'t PgTx<'t>,
    table: String,
    /// The quoted column list.
    columns: String,
    kinds: Vec<Kind>,
    /// Rows a full statement inserts.
    per: usize,
    /// The statement for a full batch (made on first use).
    full: Option<String>,
    /// In a feed's table, which column is the id: its value is the row's feed number too.
    feed_id: Option<usize>,
    /// Parameters of the rows held back.
    held: Params,
    rows: usize,
}

impl Batch<'_> {
    /// `INSERT` of `rows` rows.
    fn sql(&self, rows: usize) -> String {
        let width = self.kinds.len();
        let values = (0..rows)
            .map(|r| {
                let mut row = self
                    .kinds
                    .iter()
                    .enumerate()
                    .map(|(i, k)| k.placeholder(r * width + i + 1))
                    .collect::<Vec<_>>();
                if let Some(i) = self.feed_id {
                    row.push(format!("${}", r * width + i + 1));
                }
                let row = row.join(", ");
                format!("({row})")
            })
            .collect::<Vec<_>>()
            .join(", ");
        let feed_seq = if self.feed_id.is_some() {
            ", feed_seq"
        } else {
            ""
        };
        let mut sql = format!(
            "INSERT INTO \"{}\" ({}{feed_seq}) VALUES {values}",
            self.table, self.columns
        );
        if self.table == "meta" {
            sql.push_str(" ON CONFLICT (key) DO UPDATE SET value = excluded.value");
        }
        sql
    }

    /// Insert the rows held back.
    fn flush(&mut self) -> Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let refs: Vec<&(dyn ToSql + Sync)> = self
            .held
            .iter()
            .map(|v| &**v as &(dyn ToSql + Sync))
            .collect();
        let tx = self.tx;
        if self.rows == self.per {
            // The one statement of full batches, prepared once per connection.
            if self.full.is_none() {
                self.full = Some(self.sql(self.per));
            }
            tx.execute(self.full.as_deref().unwrap_or_default(), &refs)?;
        } else {
            // The last, shorter batch of a table: prepared for this once.
            let sql = self.sql(self.rows);
            tx.block(async { Ok(tx.inner().execute(&sql, &refs).await?) })?;
        }
        drop(refs);
        self.held.clear();
        self.rows = 0;
        Ok(())
    }
}

impl crate::backup::logical::Inserter for Batch<'_> {
    fn insert(&mut self, values: Vec<serde_json::Value>) -> Result<()> {
        for (v, k) in values.into_iter().zip(&self.kinds) {
            self.held.push(k.param(v)?);
        }
        self.rows += 1;
        if self.rows >= self.per {
            self.flush()?;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<()> {
        self.flush()
    }
}

impl Tables for PgTx<'_> {
    fn schema_version(&self) -> Result<i64> {
        let v: Option<i64> = get(
            &self.query_one("SELECT max(version) FROM schema_version", &[])?,
            0,
        )?;
        Ok(logical_schema_version(v.unwrap_or(0)))
    }

    fn table_names(&self) -> Result<Vec<String>> {
        let rows = self.query(
            "SELECT table_name::text FROM information_schema.tables
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
            &[],
        )?;
        let mut names = rows
            .iter()
            .map(|r| get::<String>(r, 0))
            .collect::<Result<Vec<_>>>()?;
        names.retain(|n| !INTERNAL_TABLES.contains(&n.as_str()));
        // Byte order, as the SQLite store sorts them (not the database's collation).
        names.sort();
        Ok(names)
    }

    fn columns(&self, table: &str) -> Result<Vec<String>> {
        Ok(typed_columns(self, table)?
            .into_iter()
            .map(|(name, _)| name)
            .collect())
    }

    fn each_row(
        &self,
        table: &str,
        columns: &[String],
        f: &mut dyn FnMut(&[serde_json::Value]) -> Result<()>,
    ) -> Result<()> {
        known_table(self, table)?;
        let kinds = kinds(self, table, columns)?;
        let select = columns
            .iter()
            .zip(&kinds)
            .map(|(c, k)| k.select(table, c))
            .collect::<Vec<_>>()
            .join(", ");
        // A cursor, so a big table streams a batch at a time instead of arriving whole.
        let declare =
            format!("DECLARE imx_export NO SCROLL CURSOR FOR SELECT {select} FROM \"{table}\"");
        self.block(async { Ok(self.inner().batch_execute(&declare).await?) })?;
        let fetch = format!("FETCH {BATCH} FROM imx_export");
        let mut values = Vec::with_capacity(columns.len());
        loop {
            // Not a cached statement: the same FETCH returns other columns for another table.
            let rows = self.block(async { Ok(self.inner().query(&fetch, &[]).await?) })?;
            for row in &rows {
                values.clear();
                for (i, k) in kinds.iter().enumerate() {
                    values.push(k.to_json(row, i)?);
                }
                f(&values)?;
            }
            if (rows.len() as i64) < BATCH {
                break;
            }
        }
        self.block(async { Ok(self.inner().batch_execute("CLOSE imx_export").await?) })?;
        Ok(())
    }

    fn inserter<'t>(&'t self, table: &str, columns: &[String]) -> Result<Insert<'t>> {
        known_table(self, table)?;
        let kinds = kinds(self, table, columns)?;
        // As many rows a statement as fit its parameters (at most 65535), up to ROWS.
        let per = (MAX_PARAMS / kinds.len().max(1)).clamp(1, ROWS);
        Ok(Box::new(Batch {
            tx: self,
            table: table.to_string(),
            columns: quoted(columns),
            kinds,
            per,
            feed_id: FEEDS
                .contains(&table)
                .then(|| columns.iter().position(|c| c == "id"))
                .flatten(),
            full: None,
            held: Vec::new(),
            rows: 0,
        }))
    }

    fn row_count(&self, table: &str) -> Result<u64> {
        known_table(self, table)?;
        let n: i64 = get(
            &self.query_one(&format!("SELECT count(*) FROM \"{table}\""), &[])?,
            0,
        )?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    fn clear(&self) -> Result<()> {
        let tables = Tables::table_names(self)?;
        let list = tables
            .iter()
            .map(|t| format!("\"{t}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("TRUNCATE {list}");
        self.block(async { Ok(self.inner().batch_execute(&sql).await?) })?;
        // The chain starts again from what is imported next (see `imported`). The feed
        // counters stay: numbers handed out are never handed out again.
        self.execute(
            "UPDATE audit_head SET seq = 0, hash = $1",
            &[&GENESIS.to_string()],
        )?;
        Ok(())
    }

    fn imported(&self) -> Result<()> {
        // Ids the identity sequences hand out next continue after the largest imported.
        for (table, key) in IDENTITIES {
            self.execute(
                &format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', '{key}'),
                                   COALESCE((SELECT max(\"{key}\") FROM \"{table}\"), 1),
                                   (SELECT max(\"{key}\") FROM \"{table}\") IS NOT NULL)"
                ),
                &[],
            )?;
        }
        // Imported events and log lines keep their place in the feeds: their id (the export's
        // feed number), given them as they were inserted (here only for an export without
        // ids); new rows are numbered after every one of them.
        for feed in FEEDS {
            self.execute(
                &format!("UPDATE \"{feed}\" SET feed_seq = id WHERE feed_seq IS NULL"),
                &[],
            )?;
            self.execute(
                &format!(
                    "UPDATE feed_counters
                     SET last = GREATEST(last, COALESCE((SELECT max(feed_seq) FROM \"{feed}\"), 0))
                     WHERE feed = $1"
                ),
                &[&feed],
            )?;
        }
        // The chain's head row: the last record, else the archive boundary, else the start.
        let base = crate::audit::AuditStore::base(self)?;
        let last = self.query_opt("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", &[])?;
        let (seq, hash): (i64, String) = match last {
            Some(r) => (get(&r, 0)?, get(&r, 1)?),
            None => (base.seq, base.hash),
        };
        self.execute("UPDATE audit_head SET seq = $1, hash = $2", &[&seq, &hash])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_current_schema_exports_as_the_current_sqlite_schema() {
        // A migration on either side changes what an export holds: map the new version here.
        assert_eq!(
            super::logical_schema_version(super::super::PG_SCHEMA_VERSION),
            crate::store::SCHEMA_VERSION
        );
    }
}
