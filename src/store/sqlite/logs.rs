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

/// A page of a run's lines forwards from a line, and backwards from one. Always through the
/// `(run_id, id)` index: where one run holds most lines, statistics alone have SQLite walk
/// the table by rowid instead, through every other run's lines.
const PAGE: &str = "SELECT id, run_id, step_id, attempt, time, stream, line
    FROM logs INDEXED BY logs_by_run
    WHERE run_id = ?1 AND id > ?2 AND (?3 IS NULL OR step_id = ?3) ORDER BY id LIMIT ?4";
const PAGE_BEFORE: &str = "SELECT id, run_id, step_id, attempt, time, stream, line
    FROM logs INDEXED BY logs_by_run
    WHERE run_id = ?1 AND id < ?2 AND (?3 IS NULL OR step_id = ?3) ORDER BY id DESC LIMIT ?4";

/// A run's lines after line `after` (of one step, or all), oldest first, at most `limit`.
pub fn page(
    tx: &Transaction<'_>,
    run_id: &str,
    step: Option<&str>,
    after: i64,
    limit: u32,
) -> Result<Vec<LogLine>> {
    let mut stmt = tx.prepare_cached(PAGE)?;
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
    let mut stmt = tx.prepare_cached(PAGE_BEFORE)?;
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::store::Store;

    /// Both pages search the `(run_id, id)` index, also where statistics say one run holds
    /// nearly every line (a rowid walk would pass through every other run's lines).
    #[test]
    fn pages_search_the_run_index_whatever_the_statistics() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("imx.db");
        drop(Store::open(&path, true).unwrap());
        let mut conn = rusqlite::Connection::open(&path).unwrap();
        let tx = conn.transaction().unwrap();
        {
            let mut ins = tx
                .prepare(
                    "INSERT INTO logs (run_id, step_id, attempt, time, stream, line)
                     VALUES (?1, 's', 1, 0, 'stdout', 'x')",
                )
                .unwrap();
            for i in 0..5_000 {
                ins.execute([if i % 1000 == 0 { "other" } else { "big" }])
                    .unwrap();
            }
        }
        tx.execute_batch("ANALYZE").unwrap();
        for (sql, cursor) in [(PAGE, 0), (PAGE_BEFORE, i64::MAX)] {
            let plan: Vec<String> = tx
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .unwrap()
                .query_map(params!["big", cursor, "s", 100], |r| r.get(3))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            let plan = plan.join("; ");
            assert!(
                plan.contains("INDEX logs_by_run (run_id=? AND id"),
                "{plan}"
            );
        }
        assert_eq!(page_before(&tx, "big", None, i64::MAX, 3).unwrap().len(), 3);
        assert_eq!(page(&tx, "other", None, 0, 10).unwrap().len(), 5);
    }
}
