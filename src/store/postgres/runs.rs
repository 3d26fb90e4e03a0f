//! Runs on PostgreSQL: the rows a new run inserts ([`RunRows`]), look up by id prefix, list
//! (newest first, cursor-paged), as the SQLite store's (`store::sqlite::runs`). Creating,
//! cancelling and retrying are `store::flow::runs`.

use tokio_postgres::types::ToSql;

use super::rows::{RUN_COLUMNS, STEP_COLUMNS, run_from_row, step_from_row};
use super::tx::{PgTx, get, owned};
use super::{settings, workflows};
use crate::engine::SpecCache;
use crate::model::{Page, Run, RunDetail, RunFilter};
use crate::store::flow::runs::{NewRun, NewStep, RunRows};
use crate::store::sqlite::runs::{DEFAULT_PAGE, MAX_PAGE};
use crate::{Error, Result};

impl RunRows for PgTx<'_> {
    fn store_run_timeout(&self) -> Result<Option<u64>> {
        settings::default_run_timeout(self)
    }

    /// Three deferred statements (runs, labels, steps; arrays unnested), sent with the
    /// transaction's next query or its commit: nothing reads what an insert returns, so a
    /// scheduler batch of 500 runs is three statements and no round trip of its own.
    fn insert_runs(&self, runs: &[(NewRun<'_>, Vec<NewStep<'_>>)]) -> Result<()> {
        if runs.is_empty() {
            return Ok(());
        }
        self.hint_changes();
        let text = |f: &dyn Fn(&NewRun<'_>) -> String| -> Vec<String> {
            runs.iter().map(|(r, _)| f(r)).collect()
        };
        let opt_text = |f: &dyn Fn(&NewRun<'_>) -> Option<String>| -> Vec<Option<String>> {
            runs.iter().map(|(r, _)| f(r)).collect()
        };
        let int = |f: &dyn Fn(&NewRun<'_>) -> i64| -> Vec<i64> {
            runs.iter().map(|(r, _)| f(r)).collect()
        };
        let opt_int = |f: &dyn Fn(&NewRun<'_>) -> Option<i64>| -> Vec<Option<i64>> {
            runs.iter().map(|(r, _)| f(r)).collect()
        };
        let labels = runs
            .iter()
            .map(|(r, _)| crate::store::sqlite::runs::labels_json(r.labels))
            .collect::<Result<Vec<Option<String>>>>()?;
        self.defer(
            "INSERT INTO runs (id, workflow, workflow_version, status, params, created_at, deadline,
                               timeout_ms, created_by, steps_total, timeout_source,
                               concurrency_key, concurrency_limit, concurrency_seq, admitted_at,
                               labels, rerun_of, schedule, nominal_time)
             SELECT id, workflow, workflow_version, 'queued', params, created_at, deadline,
                    timeout_ms, created_by, steps_total, timeout_source,
                    concurrency_key, concurrency_limit, concurrency_seq, admitted_at,
                    labels, rerun_of, schedule, nominal_time
             FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::bigint[],
                         $6::bigint[], $7::bigint[], $8::text[], $9::bigint[], $10::text[],
                         $11::text[], $12::bigint[], $13::bigint[], $14::bigint[], $15::text[],
                         $16::text[], $17::text[], $18::bigint[])
                  AS r(id, workflow, workflow_version, params, created_at, deadline, timeout_ms,
                       created_by, steps_total, timeout_source, concurrency_key,
                       concurrency_limit, concurrency_seq, admitted_at, labels, rerun_of,
                       schedule, nominal_time)"
                .into(),
            owned![
                text(&|r| r.id.to_string()),
                text(&|r| r.workflow.to_string()),
                int(&|r| i64::from(r.version)),
                text(&|r| r.params.clone()),
                int(&|r| r.created_at),
                opt_int(&|r| r.deadline),
                int(&|r| i64::try_from(r.timeout.ms).unwrap_or(i64::MAX)),
                text(&|r| r.created_by.to_string()),
                int(&|r| i64::try_from(r.steps_total).unwrap_or(i64::MAX)),
                text(&|r| r.timeout.source.as_str().to_string()),
                opt_text(&|r| r.slot.as_ref().map(|s| s.key.to_string())),
                opt_int(&|r| r.slot.as_ref().map(|s| i64::from(s.limit))),
                opt_int(&|r| r.slot.as_ref().map(|s| s.ticket)),
                opt_int(&|r| r.slot.as_ref().and_then(|s| s.admitted_at)),
                labels,
                opt_text(&|r| r.rerun_of.map(str::to_string)),
                opt_text(&|r| r.schedule.map(|s| s.0.to_string())),
                opt_int(&|r| r.schedule.map(|s| s.1)),
            ],
            None,
        );
        let mut label_cols = (Vec::new(), Vec::new(), Vec::new());
        for (r, _) in runs {
            for (k, v) in r.labels {
                label_cols.0.push(r.id.to_string());
                label_cols.1.push(k.clone());
                label_cols.2.push(v.clone());
            }
        }
        if !label_cols.0.is_empty() {
            self.defer(
                "INSERT INTO run_labels (run_id, key, value)
                 SELECT * FROM unnest($1::text[], $2::text[], $3::text[])"
                    .into(),
                owned![label_cols.0, label_cols.1, label_cols.2],
                None,
            );
        }
        let all: Vec<(&str, &NewStep<'_>)> = runs
            .iter()
            .flat_map(|(r, steps)| steps.iter().map(|s| (r.id, s)))
            .collect();
        for chunk in all.chunks(5_000) {
            let text = |f: &dyn Fn(&(&str, &NewStep<'_>)) -> String| -> Vec<String> {
                chunk.iter().map(f).collect()
            };
            let col = |f: &dyn Fn(&(&str, &NewStep<'_>)) -> i64| -> Vec<i64> {
                chunk.iter().map(f).collect()
            };
            let selectors: Vec<Option<String>> =
                chunk.iter().map(|(_, s)| s.selector.clone()).collect();
            let vars: Vec<Option<String>> = chunk.iter().map(|(_, s)| s.vars.clone()).collect();
            self.defer(
                "INSERT INTO steps (run_id, step_id, idx, kind, status, pending_needs, selector,
                                    not_before, vars)
                 SELECT run_id, step_id, idx, kind, status, pending_needs, selector::jsonb,
                        not_before, vars
                 FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[],
                             $6::bigint[], $7::text[], $8::bigint[], $9::text[])
                      AS s(run_id, step_id, idx, kind, status, pending_needs, selector,
                           not_before, vars)"
                    .into(),
                owned![
                    text(&|(r, _)| (*r).to_string()),
                    text(&|(_, s)| s.step_id.to_string()),
                    col(&|(_, s)| i64::try_from(s.idx).unwrap_or(i64::MAX)),
                    text(&|(_, s)| s.kind.to_string()),
                    text(&|(_, s)| s.status.to_string()),
                    col(&|(_, s)| i64::try_from(s.pending_needs).unwrap_or(i64::MAX)),
                    selectors,
                    col(&|(_, s)| s.not_before),
                    vars,
                ],
                None,
            );
        }
        Ok(())
    }
}

/// Resolve a run id or unique prefix (case-insensitive) to the full id.
pub fn resolve_id(tx: &PgTx<'_>, prefix: &str) -> Result<String> {
    let p = prefix.trim().to_ascii_uppercase();
    if p.is_empty() || !p.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(Error::invalid(format!(
            "{prefix:?} is not a run id (ids are ULIDs such as 01JD8X3K9Q2M4N5P6R7S8T9V0W)"
        )));
    }
    let hi = format!("{p}\u{7f}");
    // Byte order (COLLATE "C"), as SQLite compares: the prefix range is exact.
    let ids: Vec<String> = tx
        .query(
            "SELECT id FROM runs WHERE id COLLATE \"C\" >= $1 AND id COLLATE \"C\" < $2
             ORDER BY id COLLATE \"C\" LIMIT 6",
            &[&p, &hi],
        )?
        .iter()
        .map(|r| get(r, 0))
        .collect::<Result<_>>()?;
    match ids.len() {
        0 => Err(Error::not_found("run", prefix)),
        1 => Ok(ids.into_iter().next().unwrap_or_default()),
        _ => Err(Error::Ambiguous {
            kind: "run",
            prefix: prefix.to_string(),
            candidates: ids,
        }),
    }
}

pub fn get_run(tx: &PgTx<'_>, id: &str) -> Result<Run> {
    let row = tx
        .query_opt(
            &format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = $1"),
            &[&id],
        )?
        .ok_or_else(|| Error::not_found("run", id))?;
    run_from_row(&row)
}

/// A run (by id or prefix) with its steps in workflow order.
pub fn detail(tx: &PgTx<'_>, cache: &SpecCache, prefix: &str) -> Result<RunDetail> {
    let id = resolve_id(tx, prefix)?;
    let run = get_run(tx, &id)?;
    let ix = workflows::index(tx, cache, &run.workflow, run.workflow_version)?;
    let steps = tx
        .query(
            &format!("SELECT {STEP_COLUMNS} FROM steps WHERE run_id = $1 ORDER BY idx"),
            &[&id],
        )?
        .iter()
        .map(|r| {
            let step_id: String = get(r, 0)?;
            let needs = ix
                .step(&step_id)
                .map(|s| s.needs.clone())
                .unwrap_or_default();
            step_from_row(r, needs)
        })
        .collect::<Result<_>>()?;
    Ok(RunDetail {
        run,
        steps,
        waiting: Vec::new(),
    })
}

/// Runs, newest first.
pub fn list(tx: &PgTx<'_>, filter: &RunFilter) -> Result<Page<Run>> {
    let limit = filter.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let (sql, texts) = list_query(filter, limit + 1);
    let args: Vec<&(dyn ToSql + Sync)> = texts.iter().map(|t| t as _).collect();
    let mut items: Vec<Run> = tx
        .query(&sql, &args)?
        .iter()
        .map(run_from_row)
        .collect::<Result<_>>()?;
    let next_cursor = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(|r| r.id.clone())
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

/// The query of a page of runs, newest first in the byte order of their ids (an index in that
/// order serves it: migration 0005), at most `rows` rows, and its text arguments.
///
/// The row limit is written into the query, not passed as a parameter: the server prices a
/// generic plan's `LIMIT $n` at a tenth of the table, so it never settles on the (cached)
/// generic plan and plans the query afresh at every execution, which cost more than running
/// it. A few page sizes are in use, each one statement cached per connection.
fn list_query(filter: &RunFilter, rows: u32) -> (String, Vec<String>) {
    let mut texts: Vec<String> = Vec::new();
    let mut conds: Vec<String> = Vec::new();
    // With labels, the first one's index entries (key, value, run_id in "C" order: migration
    // 0017) drive the page, newest first; each other label is a primary-key probe per run.
    let (mut sql, id) = match filter.labels.iter().next() {
        None => (format!("SELECT {RUN_COLUMNS} FROM runs WHERE 1 = 1"), "id"),
        Some(_) => (
            format!(
                "SELECT {RUN_COLUMNS} FROM run_labels l JOIN runs ON runs.id = l.run_id WHERE 1 = 1"
            ),
            "l.run_id",
        ),
    };
    for (i, (k, v)) in filter.labels.iter().enumerate() {
        texts.push(k.clone());
        texts.push(v.clone());
        let (k, v) = (texts.len() - 1, texts.len());
        if i == 0 {
            sql.push_str(&format!(" AND l.key = ${k} AND l.value = ${v}"));
        } else {
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM run_labels m WHERE m.run_id = l.run_id \
                 AND m.key = ${k} AND m.value = ${v})"
            ));
        }
    }
    if let Some(w) = &filter.workflow {
        texts.push(w.clone());
        conds.push("workflow =".into());
    }
    if let Some(s) = filter.status {
        texts.push(s.as_str().to_string());
        conds.push("status =".into());
    }
    if let Some(sched) = &filter.schedule {
        texts.push(sched.clone());
        conds.push("schedule =".into());
    }
    if let Some(since) = filter.since {
        // ULIDs start with their creation time, so a time bound is an id bound.
        let ms = u64::try_from(since.max(0)).unwrap_or(0);
        texts.push(ulid::Ulid::from_parts(ms, 0).to_string());
        conds.push(format!("{id} COLLATE \"C\" >="));
    }
    if let Some(c) = &filter.cursor {
        texts.push(c.clone());
        conds.push(format!("{id} COLLATE \"C\" <"));
    }
    let first = texts.len() - conds.len();
    for (i, c) in conds.iter().enumerate() {
        sql.push_str(&format!(" AND {c} ${}", first + i + 1));
    }
    if filter.waiting {
        sql.push_str(&format!(" AND {}", crate::store::sqlite::runs::WAITING));
    }
    sql.push_str(&format!(" ORDER BY {id} COLLATE \"C\" DESC LIMIT {rows}"));
    (sql, texts)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::model::RunStatus;
    use crate::store::postgres::store::tests::test_store;

    /// Pages of runs come from an index in id order, never from sorting the table: the order is
    /// by bytes (`COLLATE "C"`) and an index serves an ORDER BY only in its own collation, so
    /// under a database collation such as C.UTF-8 every `GET /runs` sorted every run (200 ms
    /// at 100,000 runs). With sorting priced out, a plan that still sorts has no index to use.
    #[test]
    fn pages_of_runs_are_read_in_index_order_without_a_sort() {
        let Some((_db, store)) = test_store() else {
            return;
        };
        let filters = [
            RunFilter::default(),
            RunFilter {
                workflow: Some("w".into()),
                ..RunFilter::default()
            },
            RunFilter {
                status: Some(RunStatus::Queued),
                cursor: Some("01J0000000000000000000000Z".into()),
                ..RunFilter::default()
            },
            // Labels: the first one's index (migration 0017) gives the order.
            RunFilter {
                labels: [("pr", "42"), ("sha", "abc")]
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                cursor: Some("01J0000000000000000000000Z".into()),
                ..RunFilter::default()
            },
        ];
        for filter in filters {
            let (sql, texts) = list_query(&filter, 51);
            let plan: Vec<String> = store
                .read(|tx| {
                    tx.execute("SET LOCAL enable_sort = off", &[])?;
                    tx.execute("SET LOCAL enable_seqscan = off", &[])?;
                    let args: Vec<&(dyn ToSql + Sync)> = texts.iter().map(|t| t as _).collect();
                    tx.query(&format!("EXPLAIN {sql}"), &args)?
                        .iter()
                        .map(|r| get::<String>(r, 0))
                        .collect()
                })
                .unwrap();
            let plan = plan.join("\n");
            assert!(
                !plan.contains("Sort") && plan.contains("Index"),
                "{filter:?}:\n{plan}"
            );
        }
    }

    /// A page of runs is planned once per connection, not at every request: after the
    /// server's five trial executions its generic plan is kept (it was planned afresh each
    /// time while the row limit was a parameter, whose generic plan the server misprices).
    #[test]
    fn a_page_of_runs_settles_on_its_generic_plan() {
        let Some((_db, store)) = test_store() else {
            return;
        };
        // Enough runs that the misprice shows (on an empty table both plans cost the same).
        store
            .write(|tx| {
                tx.execute(
                    "INSERT INTO runs (id, workflow, workflow_version, status, params, created_at,
                                       created_by, steps_total)
                     SELECT '01J' || lpad(g::text, 23, '0'), 'w', 1, 'queued', '{}', g, 't', 1
                     FROM generate_series(1, 20000) g",
                    &[],
                )?;
                tx.execute("ANALYZE runs", &[])?;
                Ok(())
            })
            .unwrap();
        for filter in [
            RunFilter::default(),
            RunFilter {
                status: Some(RunStatus::Queued),
                ..RunFilter::default()
            },
        ] {
            let (sql, _) = list_query(&filter, DEFAULT_PAGE + 1);
            let (generic, custom): (i64, i64) = store
                .read(|tx| {
                    for _ in 0..8 {
                        list(tx, &filter)?;
                    }
                    let row = tx.query_one(
                        "SELECT generic_plans, custom_plans FROM pg_prepared_statements
                         WHERE statement = $1",
                        &[&sql],
                    )?;
                    Ok((get(&row, 0)?, get(&row, 1)?))
                })
                .unwrap();
            assert!(
                generic >= 3 && custom <= 5,
                "{filter:?}: {generic} generic, {custom} custom plans"
            );
        }
    }
}
