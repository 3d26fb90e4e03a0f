//! A run's own transitions, decided from all its steps: cancel and retry.

use super::Rows;
use super::decide::decide_on;
use crate::Result;
use crate::engine::SpecCache;
use crate::engine::transitions as engine;
use crate::model::Run;

/// Cancel a run that has not ended: ready/pending steps are cancelled, held ones too (their
/// agents stop them at the next heartbeat).
pub fn cancel<T: Rows + ?Sized>(tx: &T, cache: &SpecCache, prefix: &str) -> Result<Run> {
    let id = tx.full_run_id(prefix)?;
    decide_on(tx, cache, &id, engine::end::cancel)?;
    tx.run_model(&id)
}

/// Rerun an ended run's failed, skipped and cancelled steps — or `from` and everything
/// downstream of it (see `engine::transitions::retry`).
pub fn retry<T: Rows + ?Sized>(
    tx: &T,
    cache: &SpecCache,
    prefix: &str,
    from: Option<&str>,
) -> Result<Run> {
    let id = tx.full_run_id(prefix)?;
    decide_on(tx, cache, &id, |st| engine::retry::retry(st, from))?;
    tx.run_model(&id)
}
