//! Workflow versions: apply (new version when the digest changes), list, get, delete.

use std::sync::Arc;

use rusqlite::{OptionalExtension, Transaction, params};
use sha2::{Digest, Sha256};

use crate::control::{ApplyAction, ApplyOutcome};
use crate::engine::{SpecCache, SpecIndex};
use crate::model::{RunStatus, Workflow, WorkflowSpec, WorkflowSummary, now_ms};
use crate::{Error, Result};

/// The canonical digest of a spec (its source text is not part of it).
pub fn digest(spec: &WorkflowSpec) -> Result<String> {
    let json = serde_json::to_vec(&without_source(spec))?;
    Ok(hex::encode(Sha256::digest(&json)))
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

/// Store `spec` as a new version unless the live latest version has the same digest.
pub fn apply(tx: &Transaction<'_>, spec: &WorkflowSpec, dry_run: bool) -> Result<ApplyOutcome> {
    let digest = digest(spec)?;
    let latest: Option<(u32, String, Option<i64>)> = tx
        .query_row(
            "SELECT version, digest, deleted_at FROM workflows WHERE name = ?1 ORDER BY version DESC LIMIT 1",
            [&spec.name],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
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
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                spec.name,
                version,
                digest,
                serde_json::to_string(&without_source(spec))?,
                now_ms(),
                spec.source
            ],
        )?;
        super::insert_event(
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

/// An unchanged version applied before sources were kept (or through the API without one)
/// takes the source it is applied from now: that source parses to the very spec stored.
pub fn keep_source(
    tx: &Transaction<'_>,
    name: &str,
    version: u32,
    source: Option<&str>,
) -> Result<()> {
    if let Some(source) = source {
        tx.execute(
            "UPDATE workflows SET source = ?3 WHERE name = ?1 AND version = ?2 AND source IS NULL",
            params![name, version, source],
        )?;
    }
    Ok(())
}

fn workflow_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(Workflow, String)> {
    let spec: String = r.get(4)?;
    let source: Option<String> = r.get(5)?;
    Ok((
        Workflow {
            name: r.get(0)?,
            version: r.get(1)?,
            digest: r.get(2)?,
            created_at: r.get(3)?,
            spec: WorkflowSpec {
                name: String::new(),
                description: None,
                params: Vec::new(),
                timeout_ms: None,
                fail_fast: false,
                steps: Vec::new(),
                source,
            },
            run_timeout: None,
        },
        spec,
    ))
}

/// A live workflow: the latest version, or `version`.
pub fn get(tx: &Transaction<'_>, name: &str, version: Option<u32>) -> Result<Workflow> {
    let row = match version {
        Some(v) => tx
            .query_row(
                "SELECT name, version, digest, created_at, spec, source FROM workflows
                 WHERE name = ?1 AND version = ?2 AND deleted_at IS NULL",
                params![name, v],
                workflow_from_row,
            )
            .optional()?,
        None => tx
            .query_row(
                "SELECT name, version, digest, created_at, spec, source FROM workflows
                 WHERE name = ?1 AND deleted_at IS NULL ORDER BY version DESC LIMIT 1",
                [name],
                workflow_from_row,
            )
            .optional()?,
    };
    let Some((mut wf, spec)) = row else {
        let id = match version {
            Some(v) => format!("{name}@{v}"),
            None => name.to_string(),
        };
        return Err(not_found_with_hint(tx, &id, name)?);
    };
    let source = wf.spec.source.take();
    wf.spec = serde_json::from_str(&spec)?;
    wf.spec.source = source;
    Ok(wf)
}

fn not_found_with_hint(tx: &Transaction<'_>, id: &str, name: &str) -> Result<Error> {
    let mut stmt =
        tx.prepare("SELECT DISTINCT name FROM workflows WHERE deleted_at IS NULL ORDER BY name")?;
    let names: Vec<String> = stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
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
pub fn index(
    tx: &Transaction<'_>,
    cache: &SpecCache,
    name: &str,
    version: u32,
) -> Result<Arc<SpecIndex>> {
    crate::store::flow::decide::index(tx, cache, name, version)
}

/// Live workflows (latest version each) with run counts and the last run's status.
pub fn list(tx: &Transaction<'_>) -> Result<Vec<WorkflowSummary>> {
    let mut stmt = tx.prepare(
        "SELECT w.name, w.version, w.spec, w.created_at,
                (SELECT count(*) FROM runs r WHERE r.workflow = w.name),
                (SELECT status FROM runs r WHERE r.workflow = w.name ORDER BY r.id DESC LIMIT 1)
         FROM workflows w
         WHERE w.deleted_at IS NULL
           AND w.version = (SELECT max(version) FROM workflows x WHERE x.name = w.name)
         ORDER BY w.name",
    )?;
    let rows = stmt.query_map([], |r| {
        let spec: String = r.get(2)?;
        let last: Option<String> = r.get(5)?;
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, u32>(1)?,
            spec,
            r.get::<_, i64>(3)?,
            r.get::<_, u64>(4)?,
            last,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (name, version, spec, created_at, runs, last) = row?;
        let spec: WorkflowSpec = serde_json::from_str(&spec)?;
        out.push(WorkflowSummary {
            name,
            version,
            description: spec.description,
            steps: spec.steps.len(),
            created_at,
            runs,
            last_run_status: last.and_then(|s| s.parse::<RunStatus>().ok()),
        });
    }
    Ok(out)
}

/// Mark every version deleted; returns the latest.
pub fn delete(tx: &Transaction<'_>, name: &str) -> Result<Workflow> {
    let wf = get(tx, name, None)?;
    tx.execute(
        "UPDATE workflows SET deleted_at = ?2 WHERE name = ?1 AND deleted_at IS NULL",
        params![name, now_ms()],
    )?;
    super::insert_event(
        tx,
        "workflow.deleted",
        None,
        None,
        serde_json::json!({ "name": name }),
    )?;
    Ok(wf)
}
