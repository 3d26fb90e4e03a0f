//! The batching reporter: every result ready at a given moment goes to the control plane in one
//! `complete_steps` call (one transaction), so per-step overhead stays tiny under fan-out.
//! Results that cannot be delivered (plane unavailable or busy) are kept and retried with
//! backoff; none is dropped while the agent runs.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::AgentEvent;
use super::backoff::{Backoff, is_transient};
use super::shared::{Shared, Tally};
use super::step::Report;
use crate::model::StepOutcome;

/// The most results sent in one call.
const MAX_BATCH: usize = 1024;
/// After the agent stops claiming, how long undeliverable results are retried before giving up.
const FINAL_PATIENCE: Duration = Duration::from_secs(30);

/// Report results until the channel closes and everything received was answered (or given up).
pub(crate) async fn run(shared: Arc<Shared>, mut rx: mpsc::UnboundedReceiver<Report>) {
    let mut pending: Vec<Report> = Vec::new();
    let mut backoff = Backoff::new(Duration::from_millis(50), Duration::from_secs(5));
    let mut closed_at: Option<Instant> = None;
    let mut failing = false;
    loop {
        if pending.is_empty() {
            match rx.recv().await {
                Some(r) => pending.push(r),
                None => return,
            }
        }
        while pending.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(r) => pending.push(r),
                Err(mpsc::error::TryRecvError::Empty) => break,
                Err(mpsc::error::TryRecvError::Disconnected) => {
                    closed_at.get_or_insert_with(Instant::now);
                    break;
                }
            }
        }
        match shared.plane.complete_steps(&shared.who, &pending).await {
            Ok(accepted) => {
                if failing {
                    failing = false;
                    shared.emit(|| AgentEvent::Warning("reporting results again".into()));
                }
                backoff.reset();
                settle(&shared, &mut pending, |i| {
                    accepted.get(i).copied().unwrap_or(false)
                });
            }
            Err(e) if is_transient(&e) => {
                if !failing {
                    failing = true;
                    shared.emit(|| {
                        AgentEvent::Warning(format!(
                            "cannot report {} result(s), will retry: {e}",
                            pending.len()
                        ))
                    });
                }
                if closed_at.is_some_and(|t| t.elapsed() >= FINAL_PATIENCE) {
                    shared.emit(|| {
                        AgentEvent::Warning(format!(
                            "giving up on {} unreported result(s): {e}",
                            pending.len()
                        ))
                    });
                    shared.tally(Tally::Unreported, pending.len() as u64);
                    shared.release(pending.iter().map(|(lease, _)| lease));
                    pending.clear();
                    continue;
                }
                // Results arriving meanwhile join the retry.
                tokio::time::sleep(backoff.next_delay()).await;
            }
            Err(e) => {
                // Refused outright (e.g. forbidden): retrying cannot help.
                shared.emit(|| {
                    AgentEvent::Warning(format!(
                        "the control plane refused {} result(s): {e}",
                        pending.len()
                    ))
                });
                settle(&shared, &mut pending, |_| false);
            }
        }
    }
}

/// Count, announce and release every pending report.
fn settle(shared: &Shared, pending: &mut Vec<Report>, accepted: impl Fn(usize) -> bool) {
    for (i, (lease, result)) in pending.iter().enumerate() {
        let ok = accepted(i);
        let tally = match (ok, result.outcome) {
            (false, _) => Tally::Rejected,
            (true, StepOutcome::Succeeded) => Tally::Succeeded,
            (true, StepOutcome::Failed) => Tally::Failed,
        };
        shared.tally(tally, 1);
        shared.emit(|| AgentEvent::StepFinished {
            lease: lease.clone(),
            outcome: result.outcome,
            error: result.error.clone(),
            accepted: ok,
        });
    }
    shared.release(pending.iter().map(|(lease, _)| lease));
    pending.clear();
}
