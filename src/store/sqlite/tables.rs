//! Every table, row by row, for the logical backup format ([`Tables`]): reading them in one
//! snapshot for an export, and inserting an export's rows into a fresh store. Values travel as
//! JSON (numbers, strings, null; blobs as `{"blob":"<hex>"}`).

use rusqlite::Transaction;
use rusqlite::types::{Value, ValueRef};

use crate::backup::logical::{Insert, Tables};
use crate::{Error, Result};

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

/// `"a", "b", …` for a column list.
fn quoted(columns: &[String]) -> String {
    columns
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Tables for Transaction<'_> {
    fn schema_version(&self) -> Result<i64> {
        Ok(self.query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    fn table_names(&self) -> Result<Vec<String>> {
        let mut stmt = self.prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )?;
        let names = stmt.query_map([], |r| r.get::<_, String>(0))?;
        Ok(names.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn columns(&self, table: &str) -> Result<Vec<String>> {
        let mut stmt = self.prepare(&format!("PRAGMA table_info(\"{table}\")"))?;
        let cols = stmt.query_map([], |r| r.get::<_, String>(1))?;
        Ok(cols.collect::<rusqlite::Result<_>>()?)
    }

    fn each_row(
        &self,
        table: &str,
        columns: &[String],
        f: &mut dyn FnMut(&[serde_json::Value]) -> Result<()>,
    ) -> Result<()> {
        let mut stmt = self.prepare(&format!("SELECT {} FROM \"{table}\"", quoted(columns)))?;
        let mut rows = stmt.query([])?;
        let mut values = Vec::with_capacity(columns.len());
        while let Some(row) = rows.next()? {
            values.clear();
            for i in 0..columns.len() {
                values.push(to_json(row.get_ref(i)?));
            }
            f(&values)?;
        }
        Ok(())
    }

    fn inserter<'t>(&'t self, table: &str, columns: &[String]) -> Result<Insert<'t>> {
        let params = (1..=columns.len())
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut sql = format!(
            "INSERT INTO \"{table}\" ({}) VALUES ({params})",
            quoted(columns)
        );
        if table == "meta" {
            sql.push_str(" ON CONFLICT (key) DO UPDATE SET value = excluded.value");
        }
        let mut stmt = self.prepare(&sql)?;
        Ok(Box::new(move |values: Vec<serde_json::Value>| {
            let values = values
                .into_iter()
                .map(from_json)
                .collect::<Result<Vec<_>>>()?;
            stmt.execute(rusqlite::params_from_iter(values))?;
            Ok(())
        }))
    }

    fn row_count(&self, table: &str) -> Result<u64> {
        let n: i64 = self.query_row(&format!("SELECT count(*) FROM \"{table}\""), [], |r| {
            r.get(0)
        })?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    fn clear(&self) -> Result<()> {
        for table in Tables::table_names(self)? {
            self.execute(&format!("DELETE FROM \"{table}\""), [])?;
        }
        Ok(())
    }

    fn imported(&self) -> Result<()> {
        // Rowids continue from the largest present: nothing is derived from the rows.
        Ok(())
    }
}
