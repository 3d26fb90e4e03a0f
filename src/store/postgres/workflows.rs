//! Workflow versions on PostgreSQL: apply (a new version when the digest changes), list, get,
//! index, delete — as the SQLite store's (`store::sqlite::workflows`).

use std::sync::Arc;

use tokio_postgres::Row;

use super::events::insert_event;
use super::tx::{PgTx, get, get_u32};
use crate::control::{ApplyAction, ApplyOutcome};
use crate::engine::{SpecCache, SpecIndex};
use crate::model::{RunStatus, Workflow, WorkflowSpec, WorkflowSummary, now_ms};
use crate::store::sqlite::workflows::digest;
use crate::{Error, Result};

/// Store `spec` as a new version unless the live latest version has the same digest. Appliers
/// of the same name queue on a transaction-scoped advisory lock, so two replicas never pick
/// the same version number.
pub fn apply(tx: &PgTx<'_>, spec: &WorkflowSpec, dry_run: bool) -> Result<ApplyOutcome> {
    let digest = digest(spec)?;
    if !dry_run {
        tx.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended('imx.workflow:' || $1, 0))",
            &[&spec.name],
        )?;
    }
    let latest = tx.query_opt(
        "SELECT version, digest, deleted_at FROM workflows WHERE name = $1
         ORDER BY version DESC LIMIT 1",
        &[&spec.name],
    )?;
    let latest: Option<(u32, String, Option<i64>)> = match latest {
        Some(r) => Some((get_u32(&r, 0)?, get(&r, 1)?, get(&r, 2)?)),
        None => None,
    };
    let (version, action) = match &latest {
        Some((v, d, None)) if *d == digest => (*v, ApplyAction::Unchanged),
        Some((v, _, None)) => (v + 1, ApplyAction::Updated),
        Some((v, _, Some(_))) => (v + 1, ApplyAction::Created),
        None => (1, ApplyAction::Created),
    };
    if !dry_run && action == ApplyAction::Unchanged {
        keep_source(tx, &spec.name, version, spec.source.as_deref())?;
    }
    if !dry_run && action != ApplyAction::Unchanged {
        tx.execute(
            "INSERT INTO workflows (name, version, digest, spec, created_at, source)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &spec.name,
                &i64::from(version),
                &digest,
                &serde_json::to_string(&without_source(spec))?,
                &now_ms(),
                &spec.source,
            ],
        )?;
        insert_event(
            tx,
            "workflow.applied",
            None,
            None,
            serde_json::json!({ "name": spec.name, "version": version }),
        )?;
    }
    Ok(ApplyOutcome {
        name: spec.name.clone(),
        version,
        action,
        dry_run,
    })
}

/// The spec as the `spec` column keeps it: the source has a column of its own.
fn without_source(spec: &WorkflowSpec) -> std::borrow::Cow<'_, WorkflowSpec> {
    match spec.source {
        None => std::borrow::Cow::Borrowed(spec),
        Some(_) => std::borrow::Cow::Owned(WorkflowSpec {
            source: None,
            ..spec.clone()
        }),
    }
}

/// An unchanged version stored without a source takes the source it is applied from now
/// (see `store::sqlite::workflows::keep_source`).
pub fn keep_source(tx: &PgTx<'_>, name: &str, version: u32, source: Option<&str>) -> Result<()> {
    if let Some(source) = source {
        tx.execute(
            "UPDATE workflows SET source = $3 WHERE name = $1 AND version = $2 AND source IS NULL",
            &[&name, &i64::from(version), &source],
        )?;
    }
    Ok(())
}

fn workflow_from_row(r: &Row) -> Result<Workflow> {
    let spec: String = get(r, 4)?;
    let mut spec: WorkflowSpec = serde_json::from_str(&spec)?;
    spec.source = get(r, 5)?;
    Ok(Workflow {
        name: get(r, 0)?,
        version: get_u32(r, 1)?,
        digest: get(r, 2)?,
        created_at: get(r, 3)?,
        spec,
        run_timeout: None,
    })
}

/// A live workflow: the latest version, or `version`.
pub fn get_workflow(tx: &PgTx<'_>, name: &str, version: Option<u32>) -> Result<Workflow> {
    let row = match version {
        Some(v) => tx.query_opt(
            "SELECT name, version, digest, created_at, spec, source FROM workflows
             WHERE name = $1 AND version = $2 AND deleted_at IS NULL",
            &[&name, &i64::from(v)],
        )?,
        None => tx.query_opt(
            "SELECT name, version, digest, created_at, spec, source FROM workflows
             WHERE name = $1 AND deleted_at IS NULL ORDER BY version DESC LIMIT 1",
            &[&name],
        )?,
    };
    match row {
        Some(r) => workflow_from_row(&r),
        None => {
            let id = match version {
                Some(v) => format!("{name}@{v}"),
                None => name.to_string(),
            };
            Err(not_found_with_hint(tx, &id, name)?)
        }
    }
}

fn not_found_with_hint(tx: &PgTx<'_>, id: &str, name: &str) -> Result<Error> {
    let names: Vec<String> = tx
        .query(
            "SELECT DISTINCT name FROM workflows WHERE deleted_at IS NULL ORDER BY name",
            &[],
        )?
        .iter()
        .map(|r| get(r, 0))
        .collect::<Result<_>>()?;
    let best = names
        .iter()
        .map(|n| (strsim::jaro_winkler(n, name), n))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    Ok(match best {
        Some((_, n)) => Error::NotFoundHint {
            message: format!("workflow {id:?} not found"),
            hint: format!("did you mean {n:?}?"),
        },
        None => Error::not_found("workflow", id),
    })
}

/// The index of a workflow version, from the cache or the store.
pub fn index(tx: &PgTx<'_>, cache: &SpecCache, name: &str, version: u32) -> Result<Arc<SpecIndex>> {
    crate::store::flow::decide::index(tx, cache, name, version)
}

/// Live workflows (latest version each) with run counts and the last run's status.
pub fn list(tx: &PgTx<'_>) -> Result<Vec<WorkflowSummary>> {
    let rows = tx.query(
        "SELECT w.name, w.version, w.spec, w.created_at,
                (SELECT count(*) FROM runs r WHERE r.workflow = w.name),
                (SELECT status FROM runs r WHERE r.workflow = w.name ORDER BY r.id DESC LIMIT 1)
         FROM workflows w
         WHERE w.deleted_at IS NULL
           AND w.version = (SELECT max(version) FROM workflows x WHERE x.name = w.name)
         ORDER BY w.name",
        &[],
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let spec: String = get(r, 2)?;
        let spec: WorkflowSpec = serde_json::from_str(&spec)?;
        let runs: i64 = get(r, 4)?;
        let last: Option<String> = get(r, 5)?;
        out.push(WorkflowSummary {
            name: get(r, 0)?,
            version: get_u32(r, 1)?,
            description: spec.description,
            steps: spec.steps.len(),
            created_at: get(r, 3)?,
            runs: u64::try_from(runs).unwrap_or(0),
            last_run_status: last.and_then(|s| s.parse::<RunStatus>().ok()),
        });
    }
    Ok(out)
}

/// Mark every version deleted; returns the latest.
pub fn delete(tx: &PgTx<'_>, name: &str) -> Result<Workflow> {
    let wf = get_workflow(tx, name, None)?;
    tx.execute(
        "UPDATE workflows SET deleted_at = $2 WHERE name = $1 AND deleted_at IS NULL",
        &[&name, &now_ms()],
    )?;
    insert_event(
        tx,
        "workflow.deleted",
        None,
        None,
        serde_json::json!({ "name": name }),
    )?;
    Ok(wf)
}
