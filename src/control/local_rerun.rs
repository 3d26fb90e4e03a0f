//! `imx run rerun` on the local control plane: a new run of an old run's workflow — the old
//! run's version unless `latest` — with the old run's params and labels, changed by the
//! request's; the old run stays as it is and the new one records it (`rerun_of`). Also the audit
//! details every started run gets (`run.start`, `run.rerun`).

use std::collections::BTreeMap;

use super::RerunRun;
use super::local::LocalControlPlane;
use crate::Result;
use crate::auth::{Permission, Principal};
use crate::model::Run;
use crate::store::api::RunRequest;

/// What the audit records about a new run: its workflow and version, its concurrency key and
/// whether it queued, its labels and the run it reruns (the last three only when it has them).
pub(super) fn run_audit_details(r: &Run) -> serde_json::Value {
    let mut d = serde_json::json!({ "workflow": r.workflow, "version": r.workflow_version });
    if let Some(c) = &r.concurrency {
        d["concurrency_key"] = c.key.clone().into();
        d["status"] = serde_json::json!(r.status);
        d["queued"] = r.is_waiting_for_slot().into();
    }
    if !r.labels.is_empty() {
        d["labels"] = serde_json::json!(r.labels);
    }
    if let Some(old) = &r.rerun_of {
        d["rerun_of"] = old.clone().into();
    }
    d
}

/// The longest run timeout a run may ask for (`--timeout`, `timeout_ms`): ten years. A longer
/// one would put the run's deadline past what a time can say (RFC 3339 ends in year 9999; the
/// largest timeout saturated it to a number in JSON).
pub(super) const MAX_RUN_TIMEOUT_MS: u64 = 10 * 366 * 24 * 3_600_000;

/// Refuse a run timeout over [`MAX_RUN_TIMEOUT_MS`].
pub(super) fn check_run_timeout(timeout_ms: Option<u64>) -> Result<()> {
    match timeout_ms {
        Some(ms) if ms > MAX_RUN_TIMEOUT_MS => Err(crate::Error::invalid(format!(
            "a run timeout of {ms} ms is too long: at most ten years ({MAX_RUN_TIMEOUT_MS} ms)"
        ))),
        _ => Ok(()),
    }
}

/// A typed param value as the raw text `-p` would give for it, so the old run's params are
/// typed again against the version the new run runs (as a `-p` would be).
fn raw_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl LocalControlPlane {
    pub(super) fn rerun(&self, who: &Principal, id: &str, req: RerunRun) -> Result<Run> {
        self.authorize(who, Permission::ManageWorkflows, "run.rerun", id)?;
        check_run_timeout(req.timeout_ms)?;
        let specs = self.store().specs();
        let old = self.store().read_quick(|tx| tx.run_detail(specs, id))?.run;
        let version = (!req.latest).then_some(old.workflow_version);
        let wf = self
            .store()
            .read(|tx| tx.get_workflow(&old.workflow, version))?;
        let mut raw: BTreeMap<String, String> = old
            .params
            .iter()
            .map(|(k, v)| (k.clone(), raw_text(v)))
            .collect();
        raw.extend(req.params);
        let typed = crate::spec::resolve_params(&wf.spec, &raw).map_err(|e| match e {
            crate::Error::Invalid { message, hint } if req.latest => crate::Error::Invalid {
                message: format!(
                    "run {}'s params do not fit {} v{}: {message}",
                    crate::model::short_id(&old.id),
                    wf.name,
                    wf.version
                ),
                hint: hint.or_else(|| {
                    Some("rerun its own version (leave out --latest), or start a run with imx workflow run".into())
                }),
            },
            other => other,
        })?;
        let mut labels = old.labels.clone();
        labels.extend(req.labels);
        crate::model::labels::check(&labels)?;
        let server_default = self.default_run_timeout_ms;
        self.mutate(
            who,
            "run.rerun",
            |r: &Run| r.id.clone(),
            run_audit_details,
            |tx| {
                tx.create_run_with(
                    specs,
                    &RunRequest {
                        workflow: &wf.name,
                        version: Some(wf.version),
                        params: &typed,
                        timeout_ms: req.timeout_ms,
                        default_timeout_ms: server_default,
                        created_by: &who.name,
                        labels: &labels,
                        rerun_of: Some(&old.id),
                        schedule: None,
                        id: None,
                    },
                )
            },
        )
    }
}
