//! Workflow versions: apply (a new version when the digest changes), get (with a hint for a
//! near miss), delete — written once over [`WorkflowRows`], the workflow rows each backend
//! reads and writes.

use sha2::{Digest, Sha256};

use super::Rows;
use crate::control::{ApplyAction, ApplyOutcome};
use crate::model::{Workflow, WorkflowSpec, now_ms};
use crate::{Error, Result};

/// What a backend does for workflow versions: SQL only.
pub trait WorkflowRows: Rows {
    /// Appliers of `name` queue here until this transaction ends, so two never pick the same
    /// version number.
    fn lock_workflow_name(&self, name: &str) -> Result<()>;
    /// The latest version of `name`, deleted or not: its number, digest and deletion time.
    fn latest_version(&self, name: &str) -> Result<Option<(u32, String, Option<i64>)>>;
    /// Store a version: `spec` is the spec's JSON without its source.
    fn insert_version(
        &self,
        spec: &WorkflowSpec,
        version: u32,
        digest: &str,
        spec_json: &str,
        now: i64,
    ) -> Result<()>;
    /// Give a version stored without a source the one it is applied from now.
    fn set_missing_source(&self, name: &str, version: u32, source: &str) -> Result<()>;
    /// A live version: the latest, or `version`.
    fn live_version(&self, name: &str, version: Option<u32>) -> Result<Option<Workflow>>;
    /// The number of a live version (the latest, or `version`), without its spec.
    fn live_version_number(&self, name: &str, version: Option<u32>) -> Result<Option<u32>>;
    /// The names of live workflows, in order.
    fn live_workflow_names(&self) -> Result<Vec<String>>;
    /// Mark every live version of `name` deleted at `now`.
    fn mark_workflow_deleted(&self, name: &str, now: i64) -> Result<()>;
}

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

/// Store `spec` as a new version unless the live latest version has the same digest. An
/// unchanged version applied before sources were kept (or through the API without one) takes
/// the source it is applied from now: that source parses to the very spec stored.
pub fn apply<T: WorkflowRows + ?Sized>(
    tx: &T,
    spec: &WorkflowSpec,
    dry_run: bool,
) -> Result<ApplyOutcome> {
    let digest = digest(spec)?;
    if !dry_run {
        tx.lock_workflow_name(&spec.name)?;
    }
    let (version, action) = match &tx.latest_version(&spec.name)? {
        Some((v, d, None)) if *d == digest => (*v, ApplyAction::Unchanged),
        Some((v, _, None)) => (v + 1, ApplyAction::Updated),
        Some((v, _, Some(_))) => (v + 1, ApplyAction::Created),
        None => (1, ApplyAction::Created),
    };
    if !dry_run
        && action == ApplyAction::Unchanged
        && let Some(source) = spec.source.as_deref()
    {
        tx.set_missing_source(&spec.name, version, source)?;
    }
    if !dry_run && action != ApplyAction::Unchanged {
        let json = serde_json::to_string(&without_source(spec))?;
        tx.insert_version(spec, version, &digest, &json, now_ms())?;
        tx.event(
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

/// A live workflow: the latest version, or `version`.
pub fn get<T: WorkflowRows + ?Sized>(tx: &T, name: &str, version: Option<u32>) -> Result<Workflow> {
    if let Some(wf) = tx.live_version(name, version)? {
        return Ok(wf);
    }
    let id = match version {
        Some(v) => format!("{name}@{v}"),
        None => name.to_string(),
    };
    let names = tx.live_workflow_names()?;
    let best = names
        .iter()
        .map(|n| (strsim::jaro_winkler(n, name), n))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    Err(match best {
        Some((_, n)) => Error::NotFoundHint {
            message: format!("workflow {id:?} not found"),
            hint: format!("did you mean {n:?}?"),
        },
        None => Error::not_found("workflow", id),
    })
}

/// The number of a live version of `name` (the latest, or `version`): what starting a run
/// needs, without reading and parsing the spec ([`get`]'s error when there is none).
pub fn live_number<T: WorkflowRows + ?Sized>(
    tx: &T,
    name: &str,
    version: Option<u32>,
) -> Result<u32> {
    match tx.live_version_number(name, version)? {
        Some(v) => Ok(v),
        None => get(tx, name, version).map(|wf| wf.version),
    }
}

/// Mark every version deleted; returns the latest.
pub fn delete<T: WorkflowRows + ?Sized>(tx: &T, name: &str) -> Result<Workflow> {
    let wf = get(tx, name, None)?;
    tx.mark_workflow_deleted(name, now_ms())?;
    tx.event(
        "workflow.deleted",
        None,
        None,
        serde_json::json!({ "name": name }),
    )?;
    Ok(wf)
}
