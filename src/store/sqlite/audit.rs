//! The audit table and its bookkeeping in `meta` (the chain's base after `audit prune`, the
//! store's identity): [`AuditStore`] for a transaction, what the audit tools in `audit/` use.

use std::collections::BTreeMap;

use rusqlite::types::{Value, ValueRef};
use rusqlite::{OptionalExtension, Transaction, params};

use crate::audit::access::{AuditStore, RawRecord};
use crate::audit::{AuditFilter, Base};
use crate::model::AuditRecord;
use crate::{Error, Result};

const COLUMNS: &str = "seq, time, actor, source, action, target, outcome, details, prev_hash, hash";

/// One audit row as selected by [`COLUMNS`] (details that are not JSON are kept as a string).
pub(super) fn record(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditRecord> {
    let details: String = r.get(7)?;
    Ok(AuditRecord {
        seq: r.get(0)?,
        time: r.get(1)?,
        actor: r.get(2)?,
        source: r.get(3)?,
        action: r.get(4)?,
        target: r.get(5)?,
        outcome: r.get(6)?,
        details: serde_json::from_str(&details).unwrap_or(serde_json::Value::String(details)),
        prev_hash: r.get(8)?,
        hash: r.get(9)?,
    })
}

fn meta(tx: &Transaction<'_>, key: &str) -> Result<Option<String>> {
    Ok(tx
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()?)
}

fn set_meta(tx: &Transaction<'_>, key: &str, value: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

impl AuditStore for Transaction<'_> {
    fn store_id(&self) -> Result<String> {
        Ok(meta(self, "store_id")?.unwrap_or_else(|| "unknown".into()))
    }

    fn set_store_id(&self, id: &str) -> Result<()> {
        set_meta(self, "store_id", id)
    }

    fn base(&self) -> Result<Base> {
        match (
            meta(self, "audit_base_seq")?,
            meta(self, "audit_base_hash")?,
        ) {
            (Some(seq), Some(hash)) => Ok(Base {
                seq: seq.parse().unwrap_or(0),
                hash,
            }),
            _ => Ok(Base::default()),
        }
    }

    fn head(&self) -> Result<Option<Base>> {
        Ok(self
            .query_row(
                "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
                [],
                |r| {
                    Ok(Base {
                        seq: r.get(0)?,
                        hash: r.get(1)?,
                    })
                },
            )
            .optional()?)
    }

    fn insert(&self, rec: &AuditRecord) -> Result<()> {
        self.prepare_cached(
            "INSERT INTO audit (seq, time, actor, source, action, target, outcome, details, prev_hash, hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?
        .execute(params![
            rec.seq,
            rec.time,
            rec.actor,
            rec.source,
            rec.action,
            rec.target,
            rec.outcome,
            rec.details.to_string(),
            rec.prev_hash,
            rec.hash
        ])?;
        Ok(())
    }

    fn scan(&self, f: &mut dyn FnMut(&RawRecord<'_>)) -> Result<()> {
        let mut stmt = self.prepare(&format!("SELECT {COLUMNS} FROM audit ORDER BY seq"))?;
        let mut rows = stmt.query([])?;
        let int = |v: rusqlite::Result<ValueRef<'_>>| v.ok().and_then(|v| v.as_i64().ok());
        while let Some(row) = rows.next()? {
            let mut text = [None; 8];
            for (i, t) in text.iter_mut().enumerate() {
                if let Ok(ValueRef::Text(b)) = row.get_ref(i + 2) {
                    *t = Some(b);
                }
            }
            f(&RawRecord {
                seq: int(row.get_ref(0)),
                time: int(row.get_ref(1)),
                text,
            });
        }
        Ok(())
    }

    fn records(&self, f: &AuditFilter) -> Result<Vec<AuditRecord>> {
        let mut sql = format!("SELECT {COLUMNS} FROM audit WHERE 1 = 1");
        let mut args: Vec<Value> = Vec::new();
        let mut arg = |sql: &mut String, clause: &str, v: Value| {
            args.push(v);
            sql.push_str(&clause.replace('?', &format!("?{}", args.len())));
        };
        if let Some(t) = f.since {
            arg(&mut sql, " AND time >= ?", Value::Integer(t));
        }
        if let Some(t) = f.until {
            arg(&mut sql, " AND time < ?", Value::Integer(t));
        }
        if let Some(s) = f.after_seq {
            arg(&mut sql, " AND seq > ?", Value::Integer(s));
        }
        for (col, v) in [
            ("actor", &f.actor),
            ("target", &f.target),
            ("outcome", &f.outcome),
        ] {
            if let Some(v) = v {
                arg(&mut sql, &format!(" AND {col} = ?"), Value::Text(v.clone()));
            }
        }
        if let Some(a) = &f.action {
            match a
                .strip_suffix('*')
                .or_else(|| a.ends_with('.').then_some(a.as_str()))
            {
                Some(prefix) => arg(
                    &mut sql,
                    " AND substr(action, 1, length(?)) = ?",
                    Value::Text(prefix.to_string()),
                ),
                None => arg(&mut sql, " AND action = ?", Value::Text(a.clone())),
            }
        }
        sql.push_str(if f.newest {
            " ORDER BY seq DESC"
        } else {
            " ORDER BY seq"
        });
        if f.limit > 0 {
            sql.push_str(&format!(" LIMIT {}", f.limit));
        }
        let mut stmt = self.prepare(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), record)?;
        let mut out: Vec<AuditRecord> = rows.collect::<rusqlite::Result<_>>()?;
        if f.newest {
            out.reverse();
        }
        Ok(out)
    }

    fn record(&self, seq: i64) -> Result<AuditRecord> {
        self.query_row(
            &format!("SELECT {COLUMNS} FROM audit WHERE seq = ?1"),
            [seq],
            record,
        )
        .optional()?
        .ok_or_else(|| Error::not_found("audit record", seq.to_string()))
    }

    fn each_through(&self, seq: i64, f: &mut dyn FnMut(&AuditRecord) -> Result<()>) -> Result<()> {
        let mut stmt = self.prepare(&format!(
            "SELECT {COLUMNS} FROM audit WHERE seq <= ?1 ORDER BY seq"
        ))?;
        for r in stmt.query_map([seq], record)? {
            f(&r?)?;
        }
        Ok(())
    }

    fn hash_at(&self, seq: i64) -> Result<Option<String>> {
        Ok(self
            .query_row("SELECT hash FROM audit WHERE seq = ?1", [seq], |r| r.get(0))
            .optional()?)
    }

    fn principals(&self) -> Result<Vec<(String, String)>> {
        let mut stmt = self.prepare("SELECT DISTINCT actor, source FROM audit")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn last_before(&self, cutoff: i64) -> Result<Option<(Base, u64)>> {
        let last: Option<Base> = self
            .query_row(
                "SELECT seq, hash FROM audit WHERE seq = (SELECT max(seq) FROM audit WHERE time < ?1)",
                [cutoff],
                |r| {
                    Ok(Base {
                        seq: r.get(0)?,
                        hash: r.get(1)?,
                    })
                },
            )
            .optional()?;
        let Some(last) = last else { return Ok(None) };
        let count: i64 = self.query_row(
            "SELECT count(*) FROM audit WHERE seq <= ?1",
            [last.seq],
            |r| r.get(0),
        )?;
        Ok(Some((last, u64::try_from(count).unwrap_or(0))))
    }

    fn cut(&self, boundary: &Base) -> Result<()> {
        self.execute("DELETE FROM audit WHERE seq <= ?1", [boundary.seq])?;
        set_meta(self, "audit_base_seq", &boundary.seq.to_string())?;
        set_meta(self, "audit_base_hash", &boundary.hash)
    }

    fn run_outcomes(
        &self,
        since: Option<i64>,
        until: Option<i64>,
    ) -> Result<BTreeMap<String, u64>> {
        let mut stmt = self.prepare(
            "SELECT status, count(*) FROM runs
             WHERE (?1 IS NULL OR created_at >= ?1) AND (?2 IS NULL OR created_at < ?2)
             GROUP BY status",
        )?;
        let rows = stmt.query_map(params![since, until], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })?;
        let mut out = BTreeMap::new();
        for row in rows {
            let (status, n) = row?;
            out.insert(status, u64::try_from(n).unwrap_or(0));
        }
        Ok(out)
    }
}

/// Direct edits of the audit table, as someone with write access to the file could make them:
/// for the tests that check verification catches them.
#[cfg(test)]
pub(crate) mod tamper {
    use super::*;

    /// Insert `records` as given (no chaining, no hashing).
    pub(crate) fn insert_raw(tx: &Transaction<'_>, records: &[AuditRecord]) -> Result<()> {
        for r in records {
            tx.insert(r)?;
        }
        Ok(())
    }

    fn column(name: &str) -> &str {
        assert!(
            COLUMNS.split(", ").any(|c| c == name),
            "no audit column {name}"
        );
        name
    }

    /// Overwrite one field of record `seq` (text binds as text, `Vec<u8>` as a blob).
    pub(crate) fn set(
        tx: &Transaction<'_>,
        seq: i64,
        column: &str,
        value: impl rusqlite::ToSql,
    ) -> Result<()> {
        let sql = format!(
            "UPDATE audit SET {} = ?2 WHERE seq = ?1",
            self::column(column)
        );
        tx.execute(&sql, params![seq, value])?;
        Ok(())
    }

    /// Overwrite one field of record `seq` with text made of `bytes` (which need not be UTF-8).
    pub(crate) fn set_text_bytes(
        tx: &Transaction<'_>,
        seq: i64,
        column: &str,
        bytes: &[u8],
    ) -> Result<()> {
        let sql = format!(
            "UPDATE audit SET {} = CAST(?2 AS TEXT) WHERE seq = ?1",
            self::column(column)
        );
        tx.execute(&sql, params![seq, bytes])?;
        Ok(())
    }

    /// Delete the records `from..=to`.
    pub(crate) fn delete(tx: &Transaction<'_>, from: i64, to: i64) -> Result<()> {
        tx.execute(
            "DELETE FROM audit WHERE seq BETWEEN ?1 AND ?2",
            params![from, to],
        )?;
        Ok(())
    }
}
