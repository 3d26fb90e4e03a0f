//! Runs: create, look up by id prefix, list (newest first, cursor-paged), cancel, retry.

use std::collections::BTreeMap;

use rusqlite::{OptionalExtension, Transaction, params};

use super::rows::{RUN_COLUMNS, STEP_COLUMNS, run_from_row, step_from_row};
use super::transitions::{RunHead, run_head, set_run_ended};
use super::{insert_event, workflows};
use crate::engine::{SpecCache, SpecIndex};
use crate::model::{Page, Run, RunDetail, RunFilter, RunStatus, StepStatus, TimeoutSource, now_ms};
use crate::{Error, Result};

/// Largest page `list` returns.
pub const MAX_PAGE: u32 = 1_000;
/// Page size when none is asked for.
pub const DEFAULT_PAGE: u32 = 20;

/// Create a run of `workflow` (latest live version) with typed params. Its timeout is
/// `timeout_ms`, else the workflow's, else `default_timeout_ms` (the server's), else the
/// store's default, else 24 h (see [`super::settings::run_timeout`]).
pub fn create(
    tx: &Transaction<'_>,
    cache: &SpecCache,
    workflow: &str,
    params_json: &BTreeMap<String, serde_json::Value>,
    timeout_ms: Option<u64>,
    default_timeout_ms: Option<u64>,
    created_by: &str,
) -> Result<Run> {
    let wf = workflows::get(tx, workflow, None)?;
    let ix = workflows::index(tx, cache, &wf.name, wf.version)?;
    let now = now_ms();
    let id = crate::model::new_id();
    let timeout =
        super::settings::run_timeout(tx, timeout_ms, ix.spec.timeout_ms, default_timeout_ms)?;
    let deadline = now.saturating_add(i64::try_from(timeout.ms).unwrap_or(i64::MAX));
    tx.execute(
        "INSERT INTO runs (id, workflow, workflow_version, status, params, created_at, deadline,
                           timeout_ms, created_by, steps_total, timeout_source)
         VALUES (?1, ?2, ?3, 'queued', ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            id,
            wf.name,
            wf.version,
            serde_json::to_string(params_json)?,
            now,
            deadline,
            timeout.ms,
            created_by,
            ix.spec.steps.len(),
            timeout.source.as_str()
        ],
    )?;
    {
        let mut ins = tx.prepare_cached(
            "INSERT INTO steps (run_id, step_id, idx, kind, status, pending_needs, selector, not_before)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for (i, step) in ix.spec.steps.iter().enumerate() {
            let status = if step.needs.is_empty() {
                "ready"
            } else {
                "pending"
            };
            let selector = match &step.agent {
                Some(sel) if !sel.labels.is_empty() => Some(serde_json::to_string(&sel.labels)?),
                _ => None,
            };
            ins.execute(params![
                id,
                step.id,
                i,
                step.kind.name(),
                status,
                step.needs.len(),
                selector,
                now
            ])?;
        }
    }
    insert_event(
        tx,
        "run.created",
        Some(&id),
        None,
        serde_json::json!({ "workflow": wf.name, "version": wf.version }),
    )?;
    get_run(tx, &id)
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
pub fn list(tx: &Transaction<'_>, filter: &RunFilter) -> Result<Page<Run>> {
    let limit = filter.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let mut sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE 1 = 1");
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    if let Some(w) = &filter.workflow {
        args.push(w.clone().into());
        sql.push_str(&format!(" AND workflow = ?{}", args.len()));
    }
    if let Some(s) = filter.status {
        args.push(s.as_str().to_string().into());
        sql.push_str(&format!(" AND status = ?{}", args.len()));
    }
    if let Some(since) = filter.since {
        // ULIDs start with their creation time, so a time bound is an id bound.
        let ms = u64::try_from(since.max(0)).unwrap_or(0);
        let bound = ulid::Ulid::from_parts(ms, 0).to_string();
        args.push(bound.into());
        sql.push_str(&format!(" AND id >= ?{}", args.len()));
    }
    if let Some(c) = &filter.cursor {
        args.push(c.clone().into());
        sql.push_str(&format!(" AND id < ?{}", args.len()));
    }
    args.push(i64::from(limit + 1).into());
    sql.push_str(&format!(" ORDER BY id DESC LIMIT ?{}", args.len()));
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

/// Cancel a run that has not ended: ready/pending steps are cancelled, held ones too (their
/// agents stop them at the next heartbeat).
pub fn cancel(tx: &Transaction<'_>, cache: &SpecCache, prefix: &str) -> Result<Run> {
    let id = resolve_id(tx, prefix)?;
    let run = run_head(tx, &id)?;
    if run.status.is_terminal() {
        return Err(Error::Conflict(format!(
            "run {} already {}; nothing to cancel",
            crate::model::short_id(&id),
            run.status
        )));
    }
    end_run(
        tx,
        cache,
        &run,
        RunStatus::Cancelled,
        "cancelled by an operator",
    )?;
    get_run(tx, &id)
}

/// End a run early (cancelled or timed out) and stop its steps.
pub fn end_run(
    tx: &Transaction<'_>,
    cache: &SpecCache,
    run: &RunHead,
    status: RunStatus,
    why: &str,
) -> Result<()> {
    let ix = workflows::index(tx, cache, &run.workflow, run.version)?;
    set_run_ended(tx, &run.id, status, Some(why))?;
    // Every open step is cancelled, whatever its state.
    let open: Vec<String> = tx
        .prepare_cached(
            "SELECT step_id FROM steps WHERE run_id = ?1
             AND status IN ('pending', 'ready', 'leased', 'running') ORDER BY idx",
        )?
        .query_map([&run.id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let ended = RunHead {
        status,
        ..run.clone()
    };
    for step in open {
        super::transitions::step_ended(tx, &ix, &ended, &step, StepStatus::Cancelled, Some(why))?;
    }
    Ok(())
}

/// Why a run timed out: its timeout and where that came from.
pub fn timeout_reason(timeout_ms: Option<i64>, source: Option<&str>) -> String {
    let Some(ms) = timeout_ms else {
        return "run timed out".into();
    };
    let after = crate::model::duration_text(u64::try_from(ms).unwrap_or(0));
    let change = "give the workflow a `timeout:` or start the run with --timeout to change it";
    match source.and_then(TimeoutSource::parse) {
        None => format!("run timed out after {after}"),
        Some(TimeoutSource::Run) => format!("run timed out after {after} (its --timeout)"),
        Some(TimeoutSource::Workflow) => {
            format!("run timed out after {after} (the workflow's `timeout:`)")
        }
        Some(TimeoutSource::Server) => format!(
            "run timed out after {after} (the server's default run timeout, imx server --default-run-timeout; {change})"
        ),
        Some(TimeoutSource::Store) => format!(
            "run timed out after {after} (the store's default run timeout, imx init --default-run-timeout; {change})"
        ),
        Some(TimeoutSource::BuiltIn) => {
            format!("run timed out after {after} (the default run timeout; {change})")
        }
    }
}

/// Refuse `retry --from STEP` when a step it would reset needs a step it would not reset and
/// that did not succeed: that step could never become ready, and the run would stay `running`
/// for ever. The message names the blocking step and the retry that works: from the first step
/// upstream that did not succeed, or of every failed step.
fn refuse_blocked(
    tx: &Transaction<'_>,
    ix: &SpecIndex,
    run_id: &str,
    from: &str,
    to_reset: &[String],
) -> Result<()> {
    let statuses: BTreeMap<String, String> = tx
        .prepare_cached("SELECT step_id, status FROM steps WHERE run_id = ?1")?
        .query_map([run_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let unfinished = |s: &str| {
        statuses
            .get(s)
            .map(String::as_str)
            .filter(|&st| st != "succeeded")
    };
    for step in to_reset {
        let needs = ix.step(step).map(|s| s.needs.as_slice()).unwrap_or(&[]);
        for need in needs {
            if to_reset.contains(need) {
                continue;
            }
            let Some(status) = unfinished(need) else {
                continue;
            };
            // Walk up to the first step that did not succeed while all of its needs did.
            let mut root = need.as_str();
            while let Some(up) = ix
                .step(root)
                .and_then(|s| s.needs.iter().find(|n| unfinished(n).is_some()))
            {
                root = up;
            }
            let short = crate::model::short_id(run_id);
            let was = match status {
                "failed" => "failed".to_string(),
                other => format!("was {other}"),
            };
            return Err(Error::Conflict(format!(
                "cannot retry from {from:?}: step {step:?} needs {need:?}, which {was} and would \
                 not run again, so the run could never finish; retry from {root:?} instead \
                 (imx run retry {short} --from {root}), or retry every failed step (imx run retry {short})"
            )));
        }
    }
    Ok(())
}

/// Rerun an ended run's failed, skipped and cancelled steps — or `from` and everything downstream
/// of it. Attempt numbers keep growing (they are fencing tokens); retry budgets start afresh.
pub fn retry(
    tx: &Transaction<'_>,
    cache: &SpecCache,
    prefix: &str,
    from: Option<&str>,
) -> Result<Run> {
    let id = resolve_id(tx, prefix)?;
    let run = run_head(tx, &id)?;
    if !run.status.is_terminal() {
        return Err(Error::Conflict(format!(
            "run {} is still {}; wait for it to end or cancel it first",
            crate::model::short_id(&id),
            run.status
        )));
    }
    let ix = workflows::index(tx, cache, &run.workflow, run.version)?;
    let to_reset: Vec<String> = match from {
        Some(step) => {
            if ix.step(step).is_none() {
                let ids: Vec<&str> = ix.spec.steps.iter().map(|s| s.id.as_str()).collect();
                return Err(match crate::suggest::nearest(step, &ids) {
                    Some(s) => Error::NotFoundHint {
                        message: format!("run {} has no step {step:?}", crate::model::short_id(&id)),
                        hint: format!("did you mean {s:?}?"),
                    },
                    None => Error::not_found("step", step),
                });
            }
            ix.downstream_of(step).into_iter().map(|s| s.id.clone()).collect()
        }
        None => tx
            .prepare_cached(
                "SELECT step_id FROM steps WHERE run_id = ?1 AND status IN ('failed', 'skipped', 'cancelled') ORDER BY idx",
            )?
            .query_map([&id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?,
    };
    if to_reset.is_empty() {
        return Err(Error::Conflict(format!(
            "run {} has no failed, skipped or cancelled steps to retry (use --from STEP to rerun a step)",
            crate::model::short_id(&id)
        )));
    }
    if let Some(step) = from {
        refuse_blocked(tx, &ix, &id, step, &to_reset)?;
    }
    let now = now_ms();
    for step in &to_reset {
        tx.prepare_cached(
            "UPDATE steps SET status = 'pending', tries = 0, lost = 0, agent_id = NULL, agent_name = NULL,
                    lease_until = NULL, not_before = ?3, started_at = NULL, finished_at = NULL,
                    exit_code = NULL, outputs = NULL, error = NULL
             WHERE run_id = ?1 AND step_id = ?2",
        )?
        .execute(params![id, step, now])?;
    }
    // Recount needs against the steps that still stand, and release the roots.
    for step in &to_reset {
        let needs = ix.step(step).map(|s| s.needs.clone()).unwrap_or_default();
        let mut pending = 0;
        for need in &needs {
            let ok: bool = tx
                .prepare_cached(
                    "SELECT status = 'succeeded' FROM steps WHERE run_id = ?1 AND step_id = ?2",
                )?
                .query_row(params![id, need], |r| r.get(0))?;
            if !ok {
                pending += 1;
            }
        }
        let status = if pending == 0 { "ready" } else { "pending" };
        tx.prepare_cached(
            "UPDATE steps SET pending_needs = ?3, status = ?4 WHERE run_id = ?1 AND step_id = ?2",
        )?
        .execute(params![id, step, pending, status])?;
    }
    let (done, succeeded): (u32, u32) = tx.query_row(
        "SELECT sum(status IN ('succeeded', 'failed', 'skipped', 'cancelled')), sum(status = 'succeeded')
         FROM steps WHERE run_id = ?1",
        [&id],
        |r| Ok((r.get::<_, Option<u32>>(0)?.unwrap_or(0), r.get::<_, Option<u32>>(1)?.unwrap_or(0))),
    )?;
    let timeout_ms: Option<i64> =
        tx.query_row("SELECT timeout_ms FROM runs WHERE id = ?1", [&id], |r| {
            r.get(0)
        })?;
    tx.execute(
        "UPDATE runs SET status = 'running', finished_at = NULL, error = NULL, steps_done = ?2,
                steps_succeeded = ?3, deadline = ?4
         WHERE id = ?1",
        params![
            id,
            done,
            succeeded,
            timeout_ms.map(|t| now.saturating_add(t))
        ],
    )?;
    insert_event(
        tx,
        "run.retried",
        Some(&id),
        None,
        serde_json::json!({ "steps": to_reset, "from": from }),
    )?;
    get_run(tx, &id)
}
