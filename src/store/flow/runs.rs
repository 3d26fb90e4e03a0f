//! Runs: creating one (its steps ready or pending, its timeout chosen, its concurrency key
//! admitting, queueing or skipping it), and a run's own
//! transitions, decided from all its steps: cancel and retry.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::concurrency::{self, ConcurrencyRows};
use super::decide::{decide_on, index};
use super::workflows::WorkflowRows;
use crate::Result;
use crate::engine::transitions as engine;
use crate::engine::{SpecCache, SpecIndex};
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
#[derive(Clone, Copy)]
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
    /// Insert new runs with their steps (one, or a batch of starts).
    fn insert_runs(&self, runs: &[(NewRun<'_>, Vec<NewStep<'_>>)]) -> Result<()>;
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
    let mut starter = Starter::new(cache);
    let id = starter.start(tx, req)?;
    starter.flush(tx)?;
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
    let ids = reqs
        .iter()
        .map(|req| starter.start(tx, req))
        .collect::<Result<_>>()?;
    starter.flush(tx)?;
    Ok(ids)
}

/// Starts runs in one transaction, reading what they share once (each workflow's live
/// version, the store's default run timeout) and inserting plain runs — no concurrency key,
/// no gated root, no approval step: nothing to decide once their rows are in — together
/// ([`RunRows::insert_runs`]) when [`flush`](Self::flush)ed.
struct Starter<'c, 'r> {
    cache: &'c SpecCache,
    /// Live version numbers by (workflow, version asked for).
    versions: HashMap<(String, Option<u32>), u32>,
    /// The store's default run timeout, once read.
    store_timeout: Option<Option<u64>>,
    /// Plain runs started but not inserted yet.
    pending: Vec<Pending<'r, 'static>>,
}

/// A plain run to insert.
struct Pending<'r, 's> {
    id: String,
    req: &'r RunRequest<'r>,
    version: u32,
    params: String,
    now: i64,
    timeout: RunTimeout,
    ix: Arc<SpecIndex>,
    /// Its place under its concurrency key (never for a run queued in the starter).
    slot: Option<NewSlot<'s>>,
}

impl Pending<'_, '_> {
    /// Whether it starts now (not waiting for a slot of its concurrency key).
    fn admitted(&self) -> bool {
        self.slot.as_ref().is_none_or(|s| s.admitted_at.is_some())
    }

    /// Its rows: the run's (its timeout counting from its admission) and its steps'.
    fn rows(&self) -> Result<(NewRun<'_>, Vec<NewStep<'_>>)> {
        let admitted = self.admitted();
        let ms = i64::try_from(self.timeout.ms).unwrap_or(i64::MAX);
        let run = NewRun {
            id: &self.id,
            workflow: self.req.workflow,
            version: self.version,
            params: self.params.clone(),
            created_at: self.now,
            deadline: admitted.then(|| self.now.saturating_add(ms)),
            timeout: self.timeout,
            created_by: self.req.created_by,
            steps_total: self.ix.run_steps().count(),
            labels: self.req.labels,
            rerun_of: self.req.rerun_of,
            schedule: self.req.schedule,
            slot: self.slot,
        };
        Ok((run, new_steps(&self.ix, self.now, admitted)?))
    }
}

impl<'c, 'r> Starter<'c, 'r> {
    fn new(cache: &'c SpecCache) -> Self {
        Starter {
            cache,
            versions: HashMap::new(),
            store_timeout: None,
            pending: Vec::new(),
        }
    }

    /// Start one run: its id. A plain run is inserted by the next [`flush`](Self::flush).
    fn start<T: RunRows + ConcurrencyRows + ?Sized>(
        &mut self,
        tx: &T,
        req: &'r RunRequest<'r>,
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
        let approvals = ix
            .spec
            .steps
            .iter()
            .any(|s| matches!(s.kind, crate::model::StepKind::Approval(_)));
        let plain = ix.spec.concurrency.is_none() && !engine::conditions::gates_roots(&ix);
        if plain && !approvals {
            // The id's time is the run's creation time (`run list --since` bounds ids by
            // time); a pre-made id was made just before, and its time is taken.
            let (id, now) = match req.id {
                Some(id) => {
                    let made = ulid::Ulid::from_string(id).ok().map(|u| u.timestamp_ms());
                    let now = made.and_then(|ms| i64::try_from(ms).ok());
                    (id.to_string(), now.unwrap_or_else(now_ms))
                }
                None => {
                    let now = now_ms();
                    (crate::model::new_id_at(now), now)
                }
            };
            self.pending.push(Pending {
                id,
                req,
                version,
                params: serde_json::to_string(params_json)?,
                now,
                timeout,
                ix,
                slot: None,
            });
            return Ok(self.pending[self.pending.len() - 1].id.clone());
        }
        // What follows reads the runs before it.
        self.flush(tx)?;
        let plan = match &ix.spec.concurrency {
            Some(c) => Some(concurrency::plan(tx, name, version, c, params_json)?),
            None => None,
        };
        // The time and id are taken under the key's lock (held by `plan`): runs of one key
        // are then created in the order of their tickets, so the queue is in start order as
        // `run list` shows it, also when concurrent starts (replicas) took turns at the lock.
        let now = now_ms();
        let one = Pending {
            id: crate::model::new_id_at(now),
            req,
            version,
            params: serde_json::to_string(params_json)?,
            now,
            timeout,
            ix: ix.clone(),
            slot: plan.as_ref().map(|p| NewSlot {
                key: &p.key,
                limit: p.limit,
                ticket: p.ticket,
                admitted_at: p.admitted.then_some(now),
            }),
        };
        let admitted = one.admitted();
        tx.insert_runs(&[one.rows()?])?;
        let id = one.id;
        created_event(
            tx,
            &id,
            name,
            version,
            plan.as_ref().map(|p| p.key.as_str()),
        )?;
        if let Some(plan) = &plan {
            concurrency::start(tx, cache, &id, plan, now)?;
        }
        if engine::conditions::gates_roots(&ix) {
            super::decide::decide_on(tx, cache, &id, |st| engine::conditions::open(st, admitted))?;
        }
        // Only a workflow with approval steps can have one ready to hold.
        if approvals {
            super::approvals::hold_ready(tx, cache, &id, now)?;
        }
        Ok(id)
    }

    /// Insert the plain runs started since the last flush, all at once.
    fn flush<T: RunRows + ?Sized>(&mut self, tx: &T) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        let rows = pending
            .iter()
            .map(Pending::rows)
            .collect::<Result<Vec<_>>>()?;
        tx.insert_runs(&rows)?;
        for p in &pending {
            created_event(tx, &p.id, p.req.workflow, p.version, None)?;
        }
        Ok(())
    }
}

/// The step rows of a new run of `ix` created at `now`: roots ready (unless the run waits
/// for a slot, or a root has a gate to pass first), the rest pending.
fn new_steps(ix: &SpecIndex, now: i64, admitted: bool) -> Result<Vec<NewStep<'_>>> {
    let rows = crate::engine::expand::initial_rows(ix);
    let mut steps = Vec::with_capacity(rows.len());
    for row in rows {
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
                && engine::conditions::starts_ready(ix, &step.id)
                && admitted
            {
                "ready"
            } else {
                "pending"
            },
            pending_needs: row.pending_needs as usize,
            selector,
            not_before: now,
            vars: row.vars,
        });
    }
    Ok(steps)
}

/// The feed's `run.created` event of a new run.
fn created_event<T: RunRows + ?Sized>(
    tx: &T,
    id: &str,
    workflow: &str,
    version: u32,
    concurrency_key: Option<&str>,
) -> Result<()> {
    tx.event(
        "run.created",
        Some(id),
        None,
        serde_json::json!({
            "workflow": workflow,
            "version": version,
            "concurrency_key": concurrency_key,
        }),
    )
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
