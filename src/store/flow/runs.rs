//! Runs: creating one (its steps ready or pending, its timeout chosen, its concurrency key
//! admitting, queueing or skipping it), and a run's own
//! transitions, decided from all its steps: cancel and retry.

use std::collections::{BTreeMap, HashMap};

use super::concurrency::{self, ConcurrencyRows};
use super::decide::{decide_on, index};
use super::workflows::WorkflowRows;
use crate::Result;
use crate::engine::SpecCache;
use crate::engine::transitions as engine;
use crate::model::{BUILT_IN_RUN_TIMEOUT_MS, Run, RunTimeout, TimeoutSource, now_ms};
use crate::store::api::RunRequest;

/// A new run's row.
pub struct NewRun<'a> {
    pub id: &'a str,
    pub workflow: &'a str,
    pub version: u32,
    /// Its params, as JSON.
    pub params: String,
    pub created_at: i64,
    /// `None` while the run waits for a slot of its concurrency key (its timeout counts from
    /// its admission).
    pub deadline: Option<i64>,
    pub timeout: RunTimeout,
    pub created_by: &'a str,
    pub steps_total: usize,
    /// Its labels: on the run as JSON (NULL when none) and one `run_labels` row each.
    pub labels: &'a BTreeMap<String, String>,
    /// The run it reruns.
    pub rerun_of: Option<&'a str>,
    /// The schedule tick it is the run of: the schedule's name and the nominal time.
    pub schedule: Option<(&'a str, i64)>,
    /// Its concurrency key, if its workflow has `concurrency:`.
    pub slot: Option<NewSlot<'a>>,
}

/// A new run's place under its concurrency key.
pub struct NewSlot<'a> {
    pub key: &'a str,
    pub limit: u32,
    /// Its ticket in the key's queue.
    pub ticket: i64,
    /// When it got a slot: its creation, or `None` while it waits.
    pub admitted_at: Option<i64>,
}

/// A new run's step row.
pub struct NewStep<'a> {
    pub step_id: &'a str,
    pub idx: usize,
    pub kind: &'static str,
    /// `ready` (no needs) or `pending`.
    pub status: &'static str,
    pub pending_needs: usize,
    /// The agent labels it needs, as a JSON object, if any.
    pub selector: Option<String>,
    pub not_before: i64,
    /// What its templates see (`matrix.*`), as JSON, if it is a matrix instance.
    pub vars: Option<String>,
}

/// What a backend does to create runs: SQL only.
pub trait RunRows: WorkflowRows {
    /// The store's default run timeout, if one was set.
    fn store_run_timeout(&self) -> Result<Option<u64>>;
    fn insert_run(&self, run: &NewRun<'_>) -> Result<()>;
    fn insert_steps(&self, run_id: &str, steps: &[NewStep<'_>]) -> Result<()>;
}

/// Create a run of `req.workflow` (at `req.version`, else its latest live version) with typed
/// params and labels. Its timeout is `req.timeout_ms`, else the workflow's, else
/// `req.default_timeout_ms` (the server's), else the store's default, else 24 h (see
/// [`run_timeout`]).
pub fn create<T: RunRows + ConcurrencyRows + ?Sized>(
    tx: &T,
    cache: &SpecCache,
    req: &RunRequest<'_>,
) -> Result<Run> {
    let id = Starter::new(cache).start(tx, req)?;
    let mut run = tx.run_model(&id)?;
    concurrency::place(tx, &mut run)?;
    Ok(run)
}

/// Start runs in order: their ids (see [`crate::store::api::RunsTx::start_runs`]).
pub fn start_many<T: RunRows + ConcurrencyRows + ?Sized>(
    tx: &T,
    cache: &SpecCache,
    reqs: &[RunRequest<'_>],
) -> Result<Vec<String>> {
    let mut starter = Starter::new(cache);
    reqs.iter().map(|req| starter.start(tx, req)).collect()
}

/// Starts runs in one transaction, reading what they share once: each workflow's live
/// version and the store's default run timeout.
struct Starter<'c> {
    cache: &'c SpecCache,
    /// Live version numbers by (workflow, version asked for).
    versions: HashMap<(String, Option<u32>), u32>,
    /// The store's default run timeout, once read.
    store_timeout: Option<Option<u64>>,
}

impl<'c> Starter<'c> {
    fn new(cache: &'c SpecCache) -> Self {
        Starter {
            cache,
            versions: HashMap::new(),
            store_timeout: None,
        }
    }

    /// Start one run: its id.
    fn start<T: RunRows + ConcurrencyRows + ?Sized>(
        &mut self,
        tx: &T,
        req: &RunRequest<'_>,
    ) -> Result<String> {
        let cache = self.cache;
        let params_json = req.params;
        let key = (req.workflow.to_string(), req.version);
        let version = match self.versions.get(&key) {
            Some(v) => *v,
            None => {
                let v = super::workflows::live_number(tx, req.workflow, req.version)?;
                self.versions.insert(key, v);
                v
            }
        };
        let name = req.workflow;
        let ix = index(tx, cache, name, version)?;
        let store_timeout = match self.store_timeout {
            Some(t) => t,
            // Only read when nothing before it in the order chooses the timeout.
            None if [req.timeout_ms, ix.spec.timeout_ms, req.default_timeout_ms]
                .iter()
                .any(|t| t.is_some_and(|ms| ms > 0)) =>
            {
                None
            }
            None => *self.store_timeout.insert(tx.store_run_timeout()?),
        };
        let timeout = pick_timeout(
            req.timeout_ms,
            ix.spec.timeout_ms,
            req.default_timeout_ms,
            store_timeout,
        );
        let plan = match &ix.spec.concurrency {
            Some(c) => Some(concurrency::plan(tx, name, version, c, params_json)?),
            None => None,
        };
        // The time and id are taken under the key's lock (held by `plan`): runs of one key
        // are then created in the order of their tickets, so the queue is in start order as
        // `run list` shows it, also when concurrent starts (replicas) took turns at the lock.
        let now = now_ms();
        let id = crate::model::new_id();
        let admitted = plan.as_ref().is_none_or(|p| p.admitted);
        let deadline =
            admitted.then(|| now.saturating_add(i64::try_from(timeout.ms).unwrap_or(i64::MAX)));
        tx.insert_run(&NewRun {
            id: &id,
            workflow: name,
            version,
            params: serde_json::to_string(params_json)?,
            created_at: now,
            deadline,
            timeout,
            created_by: req.created_by,
            steps_total: ix.run_steps().count(),
            labels: req.labels,
            rerun_of: req.rerun_of,
            schedule: req.schedule,
            slot: plan.as_ref().map(|p| NewSlot {
                key: &p.key,
                limit: p.limit,
                ticket: p.ticket,
                admitted_at: admitted.then_some(now),
            }),
        })?;
        let rows = crate::engine::expand::initial_rows(&ix);
        let mut steps = Vec::with_capacity(rows.len());
        for row in &rows {
            let step = row.step;
            let selector = match &step.agent {
                Some(sel) if !sel.labels.is_empty() => Some(serde_json::to_string(&sel.labels)?),
                _ => None,
            };
            steps.push(NewStep {
                step_id: &step.id,
                idx: row.idx as usize,
                kind: step.kind.name(),
                // A run waiting for a slot holds its first steps back (admission makes them
                // ready). A root step with a gate (`if:`, `when:`) passes it below; an
                // instance waiting for a `max_parallel` slot waits.
                status: if row.pending_needs == 0
                    && engine::conditions::starts_ready(&ix, &step.id)
                    && admitted
                {
                    "ready"
                } else {
                    "pending"
                },
                pending_needs: row.pending_needs as usize,
                selector,
                not_before: now,
                vars: row.vars.clone(),
            });
        }
        tx.insert_steps(&id, &steps)?;
        tx.event(
            "run.created",
            Some(&id),
            None,
            serde_json::json!({
                "workflow": name,
                "version": version,
                "concurrency_key": plan.as_ref().map(|p| &p.key),
            }),
        )?;
        if let Some(plan) = &plan {
            concurrency::start(tx, cache, &id, plan, now)?;
        }
        if engine::conditions::gates_roots(&ix) {
            super::decide::decide_on(tx, cache, &id, |st| {
                engine::conditions::open(st, admitted)
            })?;
        }
        // Only a workflow with approval steps can have one ready to hold.
        if ix
            .spec
            .steps
            .iter()
            .any(|s| matches!(s.kind, crate::model::StepKind::Approval(_)))
        {
            super::approvals::hold_ready(tx, cache, &id, now)?;
        }
        Ok(id)
    }
}

/// The run timeout of a new run: the first of the run's own (`--timeout`), the workflow's
/// `timeout:`, the server's default (`imx server --default-run-timeout`), the store's default
/// (`imx init --default-run-timeout`), and the built-in 24 h.
pub fn run_timeout<T: RunRows + ?Sized>(
    tx: &T,
    requested: Option<u64>,
    workflow: Option<u64>,
    server: Option<u64>,
) -> Result<RunTimeout> {
    Ok(pick_timeout(
        requested,
        workflow,
        server,
        tx.store_run_timeout()?,
    ))
}

/// [`run_timeout`] with the store's default already read.
fn pick_timeout(
    requested: Option<u64>,
    workflow: Option<u64>,
    server: Option<u64>,
    store: Option<u64>,
) -> RunTimeout {
    let pick = |ms: Option<u64>, source| ms.filter(|&m| m > 0).map(|ms| RunTimeout { ms, source });
    pick(requested, TimeoutSource::Run)
        .or_else(|| pick(workflow, TimeoutSource::Workflow))
        .or_else(|| pick(server, TimeoutSource::Server))
        .or_else(|| pick(store, TimeoutSource::Store))
        .unwrap_or(RunTimeout {
            ms: BUILT_IN_RUN_TIMEOUT_MS,
            source: TimeoutSource::BuiltIn,
        })
}

/// Cancel a run that has not ended (a run waiting for a slot leaves its key's queue):
/// ready/pending steps are cancelled, held ones too (their
/// agents stop them at the next heartbeat).
pub fn cancel<T: ConcurrencyRows + ?Sized>(tx: &T, cache: &SpecCache, prefix: &str) -> Result<Run> {
    let id = tx.full_run_id(prefix)?;
    concurrency::lock_for_run(tx, &id)?;
    decide_on(tx, cache, &id, engine::end::cancel)?;
    tx.run_model(&id)
}

/// Rerun an ended run's failed, skipped and cancelled steps (a run with a concurrency key only
/// while its key has a free slot, which it takes) — or `from` and everything
/// downstream of it (see `engine::transitions::retry`).
pub fn retry<T: ConcurrencyRows + ?Sized>(
    tx: &T,
    cache: &SpecCache,
    prefix: &str,
    from: Option<&str>,
) -> Result<Run> {
    let id = tx.full_run_id(prefix)?;
    concurrency::retry(tx, &id, now_ms())?;
    decide_on(tx, cache, &id, |st| engine::retry::retry(st, from))?;
    tx.run_model(&id)
}
