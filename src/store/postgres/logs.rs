//! Captured output on PostgreSQL: pages of a run's lines (forwards from a line, or backwards
//! from one), and (for followers) which runs' logs grew since a given line, in commit order by
//! `feed_seq` (see [`super::sequence`]). A line's `id` and a mark's `last_id` are `feed_seq`
//! values.

use super::tx::{PgTx, get, get_u32};
use crate::Result;
use crate::model::{LogLine, LogMark, LogStream};

/// For each run with lines newer than `after`, its newest line, in that order (at most `limit`
/// runs). A negative `after`: only the newest line's mark (none if there are no lines).
pub fn marks(tx: &PgTx<'_>, after: i64, limit: u32) -> Result<Vec<LogMark>> {
    let limit = i64::from(limit);
    let rows = if after < 0 {
        tx.query(
            "SELECT run_id, feed_seq FROM logs WHERE feed_seq IS NOT NULL
             ORDER BY feed_seq DESC LIMIT least($1::bigint, 1)",
            &[&limit],
        )?
    } else {
        tx.query(
            "SELECT run_id, max(feed_seq) AS last FROM logs WHERE feed_seq > $1
             GROUP BY run_id ORDER BY last LIMIT $2",
            &[&after, &limit],
        )?
    };
    rows.iter()
        .map(|r| {
            Ok(LogMark {
                run_id: get(r, 0)?,
                last_id: get(r, 1)?,
            })
        })
        .collect()
}

/// A run's lines after line `after` (of one step, or all), oldest first, at most `limit`.
pub fn page(
    tx: &PgTx<'_>,
    run_id: &str,
    step: Option<&str>,
    after: i64,
    limit: u32,
) -> Result<Vec<LogLine>> {
    let rows = tx.query(
        "SELECT feed_seq, run_id, step_id, attempt, time, stream, line FROM logs
         WHERE run_id = $1 AND feed_seq > $2 AND ($3::text IS NULL OR step_id = $3)
         ORDER BY feed_seq LIMIT $4",
        &[&run_id, &after, &step, &i64::from(limit)],
    )?;
    rows.iter().map(line).collect()
}

/// A run's newest lines before line `before` (of one step, or all), oldest first, at most
/// `limit`: a log read backwards from a point (`i64::MAX`: its end) without reading what comes
/// earlier. Walks the `(run_id, feed_seq)` index down from `before`.
pub fn page_before(
    tx: &PgTx<'_>,
    run_id: &str,
    step: Option<&str>,
    before: i64,
    limit: u32,
) -> Result<Vec<LogLine>> {
    let rows = tx.query(
        "SELECT feed_seq, run_id, step_id, attempt, time, stream, line FROM logs
         WHERE run_id = $1 AND feed_seq < $2 AND ($3::text IS NULL OR step_id = $3)
         ORDER BY feed_seq DESC LIMIT $4",
        &[&run_id, &before, &step, &i64::from(limit)],
    )?;
    rows.iter().rev().map(line).collect()
}

fn line(r: &tokio_postgres::Row) -> Result<LogLine> {
    let stream: String = get(r, 5)?;
    Ok(LogLine {
        id: get(r, 0)?,
        run_id: get(r, 1)?,
        step_id: get(r, 2)?,
        attempt: get_u32(r, 3)?,
        time: get(r, 4)?,
        stream: match stream.as_str() {
            "stdout" => LogStream::Stdout,
            "stderr" => LogStream::Stderr,
            _ => LogStream::System,
        },
        line: get(r, 6)?,
    })
}
