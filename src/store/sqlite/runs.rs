//! Runs: the rows a new run inserts ([`RunRows`]), look up by id prefix, list (newest first,
//! cursor-paged). Creating, cancelling and retrying are `store::flow::runs`.

use rusqlite::{OptionalExtension, Transaction, params};

use super::rows::{RUN_COLUMNS, STEP_COLUMNS, run_from_row, step_from_row};
use super::workflows;
use crate::engine::SpecCache;
use crate::model::{Page, Run, RunDetail, RunFilter};
use crate::store::flow::runs::{NewRun, NewStep, RunRows};
use crate::{Error, Result};

/// Largest page `list` returns.
pub const MAX_PAGE: u32 = 1_000;
/// Page size when none is asked for.
pub const DEFAULT_PAGE: u32 = 20;

impl RunRows for Transaction<'_> {
    fn store_run_timeout(&self) -> Result<Option<u64>> {
        super::settings::default_run_timeout(self)
    }

    /// One run after another, each statement cached: on SQLite a statement costs no round trip.
    fn insert_runs(&self, runs: &[(NewRun<'_>, Vec<NewStep<'_>>)]) -> Result<()> {
        for (run, steps) in runs {
            insert_run(self, run)?;
            insert_steps(self, run.id, steps)?;
        }
        Ok(())
    }
}

fn insert_run(tx: &Transaction<'_>, run: &NewRun<'_>) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO runs (id, workflow, workflow_version, status, params, created_at, deadline,
                               timeout_ms, created_by, steps_total, timeout_source,
                               concurrency_key, concurrency_limit, concurrency_seq, admitted_at,
                               labels, rerun_of, schedule, nominal_time)
             VALUES (?1, ?2, ?3, 'queued', ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,
                     ?15, ?16, ?17, ?18)",
    )?
    .execute(params![
        run.id,
        run.workflow,
        run.version,
        run.params,
        run.created_at,
        run.deadline,
        run.timeout.ms,
        run.created_by,
        run.steps_total,
        run.timeout.source.as_str(),
        run.slot.as_ref().map(|s| s.key),
        run.slot.as_ref().map(|s| s.limit),
        run.slot.as_ref().map(|s| s.ticket),
        run.slot.as_ref().and_then(|s| s.admitted_at),
        labels_json(run.labels)?,
        run.rerun_of,
        run.schedule.map(|s| s.0),
        run.schedule.map(|s| s.1),
    ])?;
    if !run.labels.is_empty() {
        let mut ins =
            tx.prepare_cached("INSERT INTO run_labels (run_id, key, value) VALUES (?1, ?2, ?3)")?;
        for (k, v) in run.labels {
            ins.execute(params![run.id, k, v])?;
        }
    }
    Ok(())
}

fn insert_steps(tx: &Transaction<'_>, run_id: &str, steps: &[NewStep<'_>]) -> Result<()> {
    let mut ins = tx.prepare_cached(
            "INSERT INTO steps (run_id, step_id, idx, kind, status, pending_needs, selector, not_before,
                                vars)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
    for s in steps {
        ins.execute(params![
            run_id,
            s.step_id,
            s.idx,
            s.kind,
            s.status,
            s.pending_needs,
            s.selector,
            s.not_before,
            s.vars
        ])?;
    }
    Ok(())
}

/// A run's labels for its JSON column: `None` (NULL) when it has none.
pub fn labels_json(labels: &std::collections::BTreeMap<String, String>) -> Result<Option<String>> {
    Ok(if labels.is_empty() {
        None
    } else {
        Some(serde_json::to_string(labels)?)
    })
}

/// Resolve a run id or unique prefix (case-insensitive) to the full id.
pub fn resolve_id(tx: &Transaction<'_>, prefix: &str) -> Result<String> {
    let p = prefix.trim().to_ascii_uppercase();
    if p.is_empty() || !p.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(Error::invalid(format!(
            "{prefix:?} is not a run id (ids are ULIDs such as 01JD8X3K9Q2M4N5P6R7S8T9V0W)"
        )));
    }
    let hi = format!("{p}\u{7f}");
    let ids: Vec<String> = tx
        .prepare_cached("SELECT id FROM runs WHERE id >= ?1 AND id < ?2 ORDER BY id LIMIT 6")?
        .query_map(params![p, hi], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
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

pub fn get_run(tx: &Transaction<'_>, id: &str) -> Result<Run> {
    tx.prepare_cached(&format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1"))?
        .query_row([id], run_from_row)
        .optional()?
        .ok_or_else(|| Error::not_found("run", id))
}

/// A run (by id or prefix) with its steps in workflow order.
pub fn detail(tx: &Transaction<'_>, cache: &SpecCache, prefix: &str) -> Result<RunDetail> {
    let id = resolve_id(tx, prefix)?;
    let run = get_run(tx, &id)?;
    let ix = workflows::index(tx, cache, &run.workflow, run.workflow_version)?;
    let mut stmt = tx.prepare_cached(&format!(
        "SELECT {STEP_COLUMNS} FROM steps WHERE run_id = ?1 ORDER BY idx"
    ))?;
    let steps = stmt
        .query_map([&id], |r| {
            let step_id: String = r.get(0)?;
            let needs = ix
                .step(&step_id)
                .map(|s| s.needs.clone())
                .unwrap_or_default();
            step_from_row(r, needs)
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(RunDetail {
        run,
        steps,
        waiting: Vec::new(),
    })
}

/// Runs, newest first.
/// `run list --status waiting`: a run not ended with an approval step waiting (the steps'
/// index of waiting approvals serves it).
pub const WAITING: &str =
    "status IN ('queued', 'running') AND id IN (SELECT run_id FROM steps WHERE status = 'waiting')";

pub fn list(tx: &Transaction<'_>, filter: &RunFilter) -> Result<Page<Run>> {
    let limit = filter.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    // With labels, the first one's index entries (key, value, run_id) drive the page, newest
    // first, and each other label is one primary-key probe per run.
    let (mut sql, id) = match filter.labels.iter().next() {
        None => (format!("SELECT {RUN_COLUMNS} FROM runs WHERE 1 = 1"), "id"),
        Some((k, v)) => {
            args.push(k.clone().into());
            args.push(v.clone().into());
            (
                format!(
                    "SELECT {RUN_COLUMNS} FROM run_labels l JOIN runs ON runs.id = l.run_id
                     WHERE l.key = ?1 AND l.value = ?2"
                ),
                "l.run_id",
            )
        }
    };
    for (k, v) in filter.labels.iter().skip(1) {
        args.push(k.clone().into());
        args.push(v.clone().into());
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM run_labels m WHERE m.run_id = l.run_id
                          AND m.key = ?{} AND m.value = ?{})",
            args.len() - 1,
            args.len()
        ));
    }
    if let Some(w) = &filter.workflow {
        args.push(w.clone().into());
        sql.push_str(&format!(" AND workflow = ?{}", args.len()));
    }
    if let Some(s) = filter.status {
        args.push(s.as_str().to_string().into());
        sql.push_str(&format!(" AND status = ?{}", args.len()));
    }
    if let Some(sched) = &filter.schedule {
        args.push(sched.clone().into());
        sql.push_str(&format!(" AND schedule = ?{}", args.len()));
    }
    if filter.waiting {
        sql.push_str(&format!(" AND {WAITING}"));
    }
    if let Some(since) = filter.since {
        // ULIDs start with their creation time, so a time bound is an id bound.
        let ms = u64::try_from(since.max(0)).unwrap_or(0);
        let bound = ulid::Ulid::from_parts(ms, 0).to_string();
        args.push(bound.into());
        sql.push_str(&format!(" AND {id} >= ?{}", args.len()));
    }
    if let Some(c) = &filter.cursor {
        args.push(c.clone().into());
        sql.push_str(&format!(" AND {id} < ?{}", args.len()));
    }
    args.push(i64::from(limit + 1).into());
    sql.push_str(&format!(" ORDER BY {id} DESC LIMIT ?{}", args.len()));
    let mut stmt = tx.prepare_cached(&sql)?;
    let mut items: Vec<Run> = stmt
        .query_map(rusqlite::params_from_iter(args), run_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    let next_cursor = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(|r| r.id.clone())
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}
