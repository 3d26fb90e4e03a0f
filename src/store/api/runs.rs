//! Runs and workflows inside one store transaction: starting, reading, cancelling and retrying
//! runs; storing, reading and deleting workflow versions.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::Result;
use crate::control::ApplyOutcome;
use crate::engine::{SpecCache, SpecIndex};
use crate::model::{Page, Run, RunDetail, RunFilter, Workflow, WorkflowSpec, WorkflowSummary};

/// What a new run is made from.
#[derive(Debug, Clone, Copy)]
pub struct RunRequest<'a> {
    pub workflow: &'a str,
    /// The workflow version to run; `None`: the latest.
    pub version: Option<u32>,
    /// Typed params.
    pub params: &'a BTreeMap<String, serde_json::Value>,
    /// The run's own timeout (see [`RunsTx::create_run`]).
    pub timeout_ms: Option<u64>,
    /// The server's default run timeout.
    pub default_timeout_ms: Option<u64>,
    pub created_by: &'a str,
    /// Its labels (already checked: `model::labels::check`).
    pub labels: &'a BTreeMap<String, String>,
    /// The run it reruns (`imx run rerun`).
    pub rerun_of: Option<&'a str>,
    /// The schedule tick it is the run of: the schedule's name and the nominal time.
    pub schedule: Option<(&'a str, i64)>,
    /// An id made beforehand (a scheduler pass records the tick with it, in the same
    /// transaction). Taken unless the workflow has a concurrency key, whose runs take their id
    /// under the key's lock: [`RunsTx::start_runs`] says which id each run got.
    pub id: Option<&'a str>,
}

/// Runs: start, look up, list, cancel, retry.
pub trait RunsTx {
    /// Start a run of the latest version of `workflow` with typed `params`. The run's timeout is
    /// `timeout_ms`, else the workflow's, else `default_timeout_ms` (a server's), else the
    /// store's default.
    #[allow(clippy::too_many_arguments)]
    fn create_run(
        &self,
        cache: &SpecCache,
        workflow: &str,
        params: &BTreeMap<String, serde_json::Value>,
        timeout_ms: Option<u64>,
        default_timeout_ms: Option<u64>,
        created_by: &str,
    ) -> Result<Run> {
        self.create_run_with(
            cache,
            &RunRequest {
                workflow,
                version: None,
                params,
                timeout_ms,
                default_timeout_ms,
                created_by,
                labels: &BTreeMap::new(),
                rerun_of: None,
                schedule: None,
                id: None,
            },
        )
    }
    /// Start a run as `req` says: a version, labels, the run it reruns.
    fn create_run_with(&self, cache: &SpecCache, req: &RunRequest<'_>) -> Result<Run>;
    /// Start many runs in order (the scheduler's batch): their ids. What the runs share (a
    /// workflow's live version, the store's default timeout) is read once, and no run is read
    /// back, so on PostgreSQL a batch of runs of one workflow costs no round trip per run.
    fn start_runs(&self, cache: &SpecCache, reqs: &[RunRequest<'_>]) -> Result<Vec<String>>;
    /// The full id of the run whose id starts with `prefix` (ambiguous or unknown: an error).
    fn resolve_run_id(&self, prefix: &str) -> Result<String>;
    /// A run with its steps.
    fn run_detail(&self, cache: &SpecCache, prefix: &str) -> Result<RunDetail>;
    /// A page of runs.
    fn list_runs(&self, filter: &RunFilter) -> Result<Page<Run>>;
    /// Cancel a run and its open steps.
    fn cancel_run(&self, cache: &SpecCache, prefix: &str) -> Result<Run>;
    /// Retry a finished run: its failed steps, or everything from step `from` on.
    fn retry_run(&self, cache: &SpecCache, prefix: &str, from: Option<&str>) -> Result<Run>;
    /// Approve or reject a waiting approval step (who may was checked by the caller).
    fn decide_approval(
        &self,
        cache: &SpecCache,
        prefix: &str,
        step: &str,
        verdict: &crate::engine::transitions::approval::Verdict,
    ) -> Result<Run>;
}

/// Workflows: versions stored by content, read, indexed, deleted.
pub trait WorkflowsTx {
    /// Store `spec` as a new version when it differs from the latest (`dry_run`: only say what
    /// would happen).
    fn apply_workflow(&self, spec: &WorkflowSpec, dry_run: bool) -> Result<ApplyOutcome>;
    /// A workflow at `version` (none: the latest).
    fn get_workflow(&self, name: &str, version: Option<u32>) -> Result<Workflow>;
    /// The index of a stored workflow version (through `cache`: versions never change).
    fn workflow_index(&self, cache: &SpecCache, name: &str, version: u32)
    -> Result<Arc<SpecIndex>>;
    /// Every workflow, with its latest version.
    fn list_workflows(&self) -> Result<Vec<WorkflowSummary>>;
    /// Delete a workflow (every version).
    fn delete_workflow(&self, name: &str) -> Result<Workflow>;
}
