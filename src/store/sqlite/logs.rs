//! Captured output: pages of a run's lines (forwards from a line, or backwards from one), and (for followers) which runs' logs grew since a
//! given line.

use rusqlite::{Transaction, params};

use crate::Result;
use crate::model::{LogLine, LogMark, LogStream};

/// For each run with lines newer than `after`, its newest line id, in that order (at most
/// `limit` runs). A negative `after`: only the newest line's mark (none if there are no lines).
/// Reads only the new lines (a range of the primary key).
pub fn marks(tx: &Transaction<'_>, after: i64, limit: u32) -> Result<Vec<LogMark>> {
    let mut stmt = if after < 0 {
        tx.prepare_cached(
            "SELECT run_id, id FROM logs WHERE ?1 < 0 ORDER BY id DESC LIMIT min(?2, 1)",
        )?
    } else {
        tx.prepare_cached(
            "SELECT run_id, max(id) AS last FROM logs WHERE id > ?1
             GROUP BY run_id ORDER BY last LIMIT ?2",
        )?
    };
    let rows = stmt.query_map(params![after, limit], |r| {
        Ok(LogMark {
            run_id: r.get(0)?,
            last_id: r.get(1)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A run's lines after line `after` (of one step, or all), oldest first, at most `limit`.
pub fn page(
    tx: &Transaction<'_>,
    run_id: &str,
    step: Option<&str>,
    after: i64,
    limit: u32,
) -> Result<Vec<LogLine>> {
    let mut stmt = tx.prepare_cached(
        "SELECT id, run_id, step_id, attempt, time, stream, line FROM logs
         WHERE run_id = ?1 AND id > ?2 AND (?3 IS NULL OR step_id = ?3) ORDER BY id LIMIT ?4",
    )?;
    let rows = stmt.query_map(params![run_id, after, step, limit], row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A run's newest lines before line `before` (of one step, or all), oldest first, at most
/// `limit`: a log read backwards from a point (`i64::MAX`: its end) without reading what comes
/// earlier. Walks the `(run_id, id)` index down from `before`.
pub fn page_before(
    tx: &Transaction<'_>,
    run_id: &str,
    step: Option<&str>,
    before: i64,
    limit: u32,
) -> Result<Vec<LogLine>> {
    let mut stmt = tx.prepare_cached(
        "SELECT id, run_id, step_id, attempt, time, stream, line FROM logs
         WHERE run_id = ?1 AND id < ?2 AND (?3 IS NULL OR step_id = ?3) ORDER BY id DESC LIMIT ?4",
    )?;
    let rows = stmt.query_map(params![run_id, before, step, limit], row)?;
    let mut lines = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    lines.reverse();
    Ok(lines)
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<LogLine> {
    let stream: String = r.get(5)?;
    Ok(LogLine {
        id: r.get(0)?,
        run_id: r.get(1)?,
        step_id: r.get(2)?,
        attempt: r.get(3)?,
        time: r.get(4)?,
        stream: match stream.as_str() {
            "stdout" => LogStream::Stdout,
            "stderr" => LogStream::Stderr,
            _ => LogStream::System,
        },
        line: r.get(6)?,
    })
}
