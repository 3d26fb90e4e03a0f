//! Concurrency limits in the store, written once for every backend over [`ConcurrencyRows`]:
//! what a new run of a workflow with `concurrency:` does ([`start`]: admitted, queued,
//! skipped, or admitted with the oldest runs of its key cancelled), admitting a key's waiting
//! runs when a slot frees ([`release`], called by each backend's changeset apply in the
//! transaction that ends the run), and a waiting run's place in its queue ([`place`]). The
//! decisions are `engine::concurrency`'s.
//!
//! Every change to a key's slots happens under the key's lock ([`ConcurrencyRows::lock_key`]):
//! on PostgreSQL a transaction-level advisory lock on the key, so replicas admitting runs of
//! one key take turns (and other keys do not wait); on SQLite the one writer. Lock order: a
//! run's own row, then its key, then the rows of other runs of the key (admitted or
//! cancelled). Cancelling a waiting run takes its key first (see [`lock_for_run`]), so it
//! cannot deadlock with the end of the run that admits it.

use std::collections::BTreeMap;

use super::Rows;
use super::decide::decide_on_run;
use crate::engine::SpecCache;
use crate::engine::concurrency::{self as rules, OnStart};
use crate::engine::transitions::end;
use crate::model::{ConcurrencySpec, Run, RunStatus, short_id};
use crate::{Error, Result};

/// What a backend does for concurrency limits: SQL only.
pub trait ConcurrencyRows: Rows {
    /// Hold `key` for the rest of the transaction: no other transaction admits or releases a
    /// run of it meanwhile.
    fn lock_key(&self, key: &str) -> Result<()>;
    /// The runs holding a slot of `key` (admitted, not ended), oldest admitted first.
    fn active_runs(&self, key: &str) -> Result<Vec<String>>;
    /// The runs waiting for a slot of `key`, first come first, each with its version's limit.
    fn waiting_runs(&self, key: &str) -> Result<Vec<(String, u32)>>;
    /// The next ticket of `key`'s queue (one more than the highest of its unended runs).
    fn next_ticket(&self, key: &str) -> Result<i64>;
    /// Give run `run_id` its slot at `now` unless it has one: admitted, its deadline counted
    /// from now, its pending steps without needs ready. Whether it had none.
    fn admit_run(&self, run_id: &str, now: i64) -> Result<bool>;
    /// A run's concurrency key, read without a lock (it never changes).
    fn run_concurrency_key(&self, run_id: &str) -> Result<Option<String>>;
    /// How many runs wait ahead of waiting run `run_id` in `key`'s queue.
    fn waiting_ahead(&self, key: &str, run_id: &str) -> Result<u32>;
}

/// A new run's place under its key, decided by [`plan`] before its row is written.
pub struct Plan {
    pub key: String,
    pub limit: u32,
    pub ticket: i64,
    /// Runs now (else waits, or is skipped).
    pub admitted: bool,
    pub decision: OnStart,
    /// The runs holding the key's slots when it started (oldest first).
    pub holders: Vec<String>,
}

/// Render the key of a new run with `params` and decide its start under the key's lock.
pub fn plan<T: ConcurrencyRows + ?Sized>(
    tx: &T,
    workflow: &str,
    version: u32,
    spec: &ConcurrencySpec,
    params: &BTreeMap<String, serde_json::Value>,
) -> Result<Plan> {
    let key = crate::spec::render_key(spec, workflow, version, params)
        .map_err(|e| Error::invalid(format!("concurrency.key: {e}")))?;
    if spec.on_conflict == crate::model::OnConflict::CancelRunning {
        // The runs to cancel are locked before the key, as their own ends lock them (a run's
        // row, then its key): taking the key first could deadlock with such an end.
        let mut holders = tx.active_runs(&key)?;
        holders.sort();
        for id in &holders {
            tx.run_row(id)?;
        }
    }
    tx.lock_key(&key)?;
    let holders = tx.active_runs(&key)?;
    let waiting = tx.waiting_runs(&key)?.len();
    let decision = rules::on_start(spec.limit, spec.on_conflict, &holders, waiting);
    Ok(Plan {
        ticket: tx.next_ticket(&key)?,
        admitted: matches!(decision, OnStart::Admit | OnStart::CancelOldest(_)),
        key,
        limit: spec.limit,
        decision,
        holders,
    })
}

/// Carry out a plan once the new run `run_id` is written: cancel the runs it displaces, or
/// end it at once if it is skipped.
pub fn start<T: ConcurrencyRows + ?Sized>(
    tx: &T,
    cache: &SpecCache,
    run_id: &str,
    plan: &Plan,
    now: i64,
) -> Result<()> {
    match &plan.decision {
        OnStart::Admit => {}
        OnStart::Wait => {
            let ahead = tx.waiting_ahead(&plan.key, run_id)?;
            tx.event(
                "run.waiting",
                Some(run_id),
                None,
                serde_json::json!({
                    "concurrency_key": plan.key,
                    "position": ahead + 1,
                    "waiting_for": plan.holders,
                }),
            )?;
        }
        OnStart::CancelOldest(ids) => {
            let why = rules::cancelled_for(&plan.key, run_id);
            for id in ids {
                // A run that ended meanwhile is left as it is.
                decide_on_run(tx, cache, id, now, |st| {
                    end::end_early(st, RunStatus::Cancelled, &why)
                })?
                .ok();
            }
        }
        OnStart::Skip => {
            decide_on_run(tx, cache, run_id, now, |st| {
                end::skip(st, &plan.key, &plan.holders)
            })?
            .map_err(|r| r.into_error())?;
        }
    }
    Ok(())
}

/// A slot of `key` was freed (a run of it ended): admit its waiting runs, first come first,
/// while they fit.
pub fn release<T: ConcurrencyRows + ?Sized>(tx: &T, key: &str, now: i64) -> Result<()> {
    tx.lock_key(key)?;
    let active = tx.active_runs(key)?.len();
    let waiting = tx.waiting_runs(key)?;
    // Called where no cache is at hand (a changeset's apply): indexes are loaded as needed.
    let cache = SpecCache::default();
    for id in rules::to_admit(active, &waiting) {
        if tx.admit_run(&id, now)? {
            super::approvals::hold_ready(tx, &cache, &id, now)?;
            tx.event(
                "run.admitted",
                Some(&id),
                None,
                serde_json::json!({ "concurrency_key": key }),
            )?;
        }
    }
    Ok(())
}

/// Before a transition that may end run `run_id` from outside (cancel): hold its key, so the
/// lock order is the key, then the run, as for the run's admission.
pub fn lock_for_run<T: ConcurrencyRows + ?Sized>(tx: &T, run_id: &str) -> Result<()> {
    if let Some(key) = tx.run_concurrency_key(run_id)? {
        tx.lock_key(&key)?;
    }
    Ok(())
}

/// Before retrying ended run `run_id`: a run with a concurrency key runs again only in a free
/// slot of its key, and takes it (no queue: retrying is an operator's act, refused at once
/// with who holds the key).
pub fn retry<T: ConcurrencyRows + ?Sized>(tx: &T, run_id: &str, now: i64) -> Result<()> {
    let Some(key) = tx.run_concurrency_key(run_id)? else {
        return Ok(());
    };
    tx.lock_key(&key)?;
    let run = tx.run_model(run_id)?;
    if !run.status.is_terminal() {
        // The retry itself refuses a run that has not ended.
        return Ok(());
    }
    let limit = run.concurrency.as_ref().map_or(1, |c| c.limit);
    let holders = tx.active_runs(&key)?;
    let waiting = tx.waiting_runs(&key)?.len();
    if holders.len() >= usize::try_from(limit).unwrap_or(usize::MAX) || waiting > 0 {
        let held: Vec<&str> = holders.iter().map(|h| short_id(h)).collect();
        return Err(Error::Conflict(format!(
            "concurrency key {key:?} is at its limit of {limit} (held by run {}; {waiting} waiting); retry run {} once a slot is free",
            held.join(", "),
            short_id(run_id)
        )));
    }
    tx.admit_run(run_id, now)?;
    Ok(())
}

/// Fill in where a waiting run stands in its key's queue (`position`, `waiting_for`).
pub fn place<T: ConcurrencyRows + ?Sized>(tx: &T, run: &mut Run) -> Result<()> {
    if !run.is_waiting_for_slot() {
        return Ok(());
    }
    let Some(c) = run.concurrency.as_mut() else {
        return Ok(());
    };
    c.position = Some(tx.waiting_ahead(&c.key, &run.id)? + 1);
    c.waiting_for = tx.active_runs(&c.key)?;
    Ok(())
}

/// [`place`] for each run of a page.
pub fn place_all<T: ConcurrencyRows + ?Sized>(tx: &T, runs: &mut [Run]) -> Result<()> {
    for run in runs {
        place(tx, run)?;
    }
    Ok(())
}
