//! Reading records: `audit list|tail|show|export` with filters (time window, actor, action,
//! target, outcome), paged by sequence number.

use rusqlite::{Transaction, types::Value};
use serde::{Deserialize, Serialize};

use crate::model::AuditRecord;
use crate::{Error, Result};

/// Which records to read. Text filters match exactly, except `action`, which also matches a
/// prefix ending in `.` or `*` (`backup.` or `backup.*` matches `backup.create`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditFilter {
    /// At or after this time (ms).
    pub since: Option<i64>,
    /// Before this time (ms).
    pub until: Option<i64>,
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target: Option<String>,
    pub outcome: Option<String>,
    /// Only records with a larger seq (for paging and `tail -f`).
    pub after_seq: Option<i64>,
    /// At most this many (0: no limit).
    pub limit: u32,
    /// Newest first (then `limit` keeps the newest); results are still returned oldest first.
    pub newest: bool,
}

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

pub(super) const COLUMNS: &str =
    "seq, time, actor, source, action, target, outcome, details, prev_hash, hash";

/// The records matching `f`, oldest first.
pub fn list(tx: &Transaction<'_>, f: &AuditFilter) -> Result<Vec<AuditRecord>> {
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
    let mut stmt = tx.prepare(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), record)?;
    let mut out: Vec<AuditRecord> = rows.collect::<rusqlite::Result<_>>()?;
    if f.newest {
        out.reverse();
    }
    Ok(out)
}

/// One record by sequence number.
pub fn get(tx: &Transaction<'_>, seq: i64) -> Result<AuditRecord> {
    use rusqlite::OptionalExtension;
    tx.query_row(
        &format!("SELECT {COLUMNS} FROM audit WHERE seq = ?1"),
        [seq],
        record,
    )
    .optional()?
    .ok_or_else(|| Error::not_found("audit record", seq.to_string()))
}
