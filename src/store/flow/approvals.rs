//! Approval steps in the store, for every backend: a person's decision on a waiting step
//! ([`decide`]), and the hook that makes the approval steps a run starts (or is admitted) with
//! wait instead of being ready for agents ([`hold_ready`]). The decisions are
//! `engine::transitions::approval`'s; who may decide is the control plane's check.

use super::Rows;
use super::concurrency::{self, ConcurrencyRows};
use super::decide::{decide_on, decide_on_run};
use crate::Result;
use crate::engine::SpecCache;
use crate::engine::transitions::approval::{self, Verdict};
use crate::model::Run;

/// Approve or reject the waiting approval step `step` of the run `prefix` names.
pub fn decide<T: ConcurrencyRows + ?Sized>(
    tx: &T,
    cache: &SpecCache,
    prefix: &str,
    step: &str,
    verdict: &Verdict,
) -> Result<Run> {
    let id = tx.full_run_id(prefix)?;
    // The decision may end the run and free its concurrency slot: the key first, as cancel.
    concurrency::lock_for_run(tx, &id)?;
    decide_on(tx, cache, &id, |st| approval::decide(st, step, verdict))?;
    tx.run_model(&id)
}

/// Run `run_id`'s approval steps that a start or an admission made `ready` wait instead.
pub fn hold_ready<T: Rows + ?Sized>(
    tx: &T,
    cache: &SpecCache,
    run_id: &str,
    now: i64,
) -> Result<()> {
    if tx.has_ready_approval(run_id)? {
        decide_on_run(tx, cache, run_id, now, approval::hold)?.map_err(|r| r.into_error())?;
    }
    Ok(())
}
