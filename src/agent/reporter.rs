//! The batching reporter: results ready at a given moment go to the control plane together in
//! one `complete_steps` call (one transaction), so per-step overhead stays tiny under fan-out.
//! A batch is bounded by count and by bytes (its JSON), so it fits a server's body limit.
//! Results that cannot be delivered (plane unavailable or busy) are kept and retried with
//! backoff; none is dropped while the agent runs. A batch the control plane refuses as invalid
//! (too large for it) is split and sent again; a single result it still refuses is replaced by
//! a failed result that says why, so the step fails clearly instead of losing its agent.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::AgentEvent;
use super::backoff::{Backoff, is_transient};
use super::shared::{Shared, Tally};
use super::step::Report;
use crate::engine::limits::human_size;
use crate::error::ErrorKind;
use crate::model::{StepOutcome, StepResult};

/// The most results sent in one call.
const MAX_BATCH: usize = 1024;
/// The most bytes (of JSON) sent in one call; a single larger result goes alone.
const MAX_BATCH_BYTES: usize = 1024 * 1024;
/// After the agent stops claiming, how long undeliverable results are retried before giving up.
const FINAL_PATIENCE: Duration = Duration::from_secs(30);

/// A result waiting to be reported, with its size on the wire.
struct Pending {
    report: Report,
    bytes: usize,
    /// Already replaced by a failed result once (refused again: give up on it).
    replaced: bool,
}

impl Pending {
    fn new(report: Report) -> Self {
        Pending {
            bytes: wire_size(&report),
            report,
            replaced: false,
        }
    }
}

/// How many bytes of JSON a report takes in a request.
fn wire_size(report: &Report) -> usize {
    serde_json::to_vec(report).map_or(usize::MAX, |v| v.len())
}

/// Report results until the channel closes and everything received was answered (or given up).
pub(crate) async fn run(shared: Arc<Shared>, mut rx: mpsc::UnboundedReceiver<Report>) {
    let mut pending: VecDeque<Pending> = VecDeque::new();
    let mut backoff = Backoff::new(Duration::from_millis(50), Duration::from_secs(5));
    let mut closed_at: Option<Instant> = None;
    let mut failing = false;
    // The most results of the next batch: lowered while splitting a refused batch.
    let mut cap = MAX_BATCH;
    loop {
        if pending.is_empty() {
            match rx.recv().await {
                Some(r) => pending.push_back(Pending::new(r)),
                None => return,
            }
        }
        while pending.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(r) => pending.push_back(Pending::new(r)),
                Err(mpsc::error::TryRecvError::Empty) => break,
                Err(mpsc::error::TryRecvError::Disconnected) => {
                    closed_at.get_or_insert_with(Instant::now);
                    break;
                }
            }
        }
        let n = batch_len(&pending, cap);
        let batch: Vec<Report> = pending.iter().take(n).map(|p| p.report.clone()).collect();
        match shared.plane.complete_steps(&shared.who, &batch).await {
            Ok(accepted) => {
                if failing {
                    failing = false;
                    shared.emit(|| AgentEvent::Warning("reporting results again".into()));
                }
                backoff.reset();
                cap = MAX_BATCH;
                let done: Vec<Report> = pending.drain(..n).map(|p| p.report).collect();
                settle(&shared, &done, |i| {
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
                    shared.release(pending.iter().map(|p| &p.report.0));
                    pending.clear();
                    continue;
                }
                // Results arriving meanwhile join the retry.
                tokio::time::sleep(backoff.next_delay()).await;
            }
            Err(e) if e.kind() == ErrorKind::Invalid && n > 1 => {
                // Most likely over the server's body limit: send halves, never drop them.
                cap = (n / 2).max(1);
            }
            Err(e) if e.kind() == ErrorKind::Invalid && !pending[0].replaced => {
                // One result the control plane cannot take: report the attempt as failed,
                // saying why, rather than leave the step to lose its agent.
                let first = &mut pending[0];
                let why = format!(
                    "the control plane refused the step's result ({} as JSON): {e}",
                    human_size(first.bytes as u64)
                );
                shared.emit(|| {
                    AgentEvent::Warning(format!(
                        "{}: {why}; reporting the attempt as failed",
                        super::step::label(&first.report.0)
                    ))
                });
                first.report.1 = StepResult::failed(why, first.report.1.exit_code);
                first.bytes = wire_size(&first.report);
                first.replaced = true;
                cap = 1;
            }
            Err(e) => {
                // Refused outright (e.g. forbidden): retrying cannot help.
                shared.emit(|| {
                    AgentEvent::Warning(format!("the control plane refused {n} result(s): {e}"))
                });
                cap = MAX_BATCH;
                let done: Vec<Report> = pending.drain(..n).map(|p| p.report).collect();
                settle(&shared, &done, |_| false);
            }
        }
    }
}

/// How many of the oldest pending results go in the next call: at most `cap`, within
/// [`MAX_BATCH_BYTES`], and always at least one.
fn batch_len(pending: &VecDeque<Pending>, cap: usize) -> usize {
    let mut bytes = 0usize;
    let mut n = 0;
    for p in pending.iter().take(cap.min(MAX_BATCH)) {
        if n > 0 && bytes.saturating_add(p.bytes) > MAX_BATCH_BYTES {
            break;
        }
        bytes = bytes.saturating_add(p.bytes);
        n += 1;
    }
    n.max(1).min(pending.len())
}

/// Count, announce and release answered reports.
pub(crate) fn settle(shared: &Shared, done: &[Report], accepted: impl Fn(usize) -> bool) {
    for (i, (lease, result)) in done.iter().enumerate() {
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
    shared.release(done.iter().map(|(lease, _)| lease));
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::model::LeaseRef;

    fn pending(output_bytes: usize) -> Pending {
        let lease = LeaseRef {
            run_id: "r".into(),
            step_id: "s".into(),
            attempt: 1,
            agent_id: "a".into(),
        };
        let outputs = BTreeMap::from([("k".to_string(), "v".repeat(output_bytes))]);
        Pending::new((lease, StepResult::ok(outputs)))
    }

    #[test]
    fn batches_fit_the_byte_budget() {
        let q: VecDeque<Pending> = (0..12).map(|_| pending(900 * 1024)).collect();
        assert_eq!(batch_len(&q, MAX_BATCH), 1, "900 KB results go one by one");
        let q: VecDeque<Pending> = (0..12).map(|_| pending(300 * 1024)).collect();
        assert_eq!(batch_len(&q, MAX_BATCH), 3);
        assert_eq!(batch_len(&q, 2), 2);
        let q: VecDeque<Pending> = (0..3).map(|_| pending(3 * 1024 * 1024)).collect();
        assert_eq!(
            batch_len(&q, MAX_BATCH),
            1,
            "an oversized result goes alone"
        );
        let q: VecDeque<Pending> = (0..2000).map(|_| pending(10)).collect();
        assert_eq!(batch_len(&q, MAX_BATCH), MAX_BATCH);
    }
}
