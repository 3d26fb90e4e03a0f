//! One granted step, from start to hand-off: report the start, execute, flush logs while it
//! runs and once at the end, then give the result to the reporter — unless the step was stopped
//! because its lease is gone, in which case nothing is reported.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::time::MissedTickBehavior;

use super::AgentEvent;
use super::backoff::{Backoff, is_lease_gone, is_transient};
use super::executor::{self, ExecContext, StopReason};
use super::logs::LogSink;
use super::shared::{Shared, Tally};
use crate::model::{LeaseRef, StepResult, StepTask};

/// How often buffered log lines are sent while a step runs.
const FLUSH_EVERY: Duration = Duration::from_millis(100);
/// Attempts at the final log flush before the lines are given up.
const FINAL_FLUSH_TRIES: u32 = 3;

/// A finished step waiting to be reported.
pub(crate) type Report = (LeaseRef, StepResult);

pub(crate) async fn run(
    shared: Arc<Shared>,
    task: StepTask,
    stop: watch::Receiver<Option<StopReason>>,
    reports: mpsc::UnboundedSender<Report>,
) {
    let lease = task.lease.clone();
    shared.emit(|| AgentEvent::StepStarted {
        lease: lease.clone(),
        kind: task.kind.name(),
    });
    match shared.plane.start_step(&shared.who, &lease).await {
        Ok(()) => {}
        Err(e) if is_lease_gone(&e) => {
            // Cancelled or reassigned before it started: nothing to run or report.
            shared.emit(|| AgentEvent::Warning(format!("{}: not started: {e}", label(&lease))));
            finish_unreported(&shared, &lease, "not started: the lease is gone".into());
            return;
        }
        // leased → succeeded is a valid transition, so a lost start report is not fatal.
        Err(e) => shared.emit(|| {
            AgentEvent::Warning(format!("{}: cannot report the start: {e}", label(&lease)))
        }),
    }

    let logs = LogSink::new();
    let ctx = ExecContext {
        http: shared.http.clone(),
        kill_grace: shared.config.kill_grace,
        logs: logs.clone(),
        stop: stop.clone(),
    };
    let mut exec = tokio::spawn(async move { executor::execute(&task, ctx).await });
    let mut tick = tokio::time::interval(FLUSH_EVERY);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    tick.reset();
    let joined = loop {
        tokio::select! {
            joined = &mut exec => break joined,
            _ = tick.tick() => { flush(&shared, &lease, &logs).await; }
            () = logs.filled() => { flush(&shared, &lease, &logs).await; }
        }
    };
    let result =
        joined.unwrap_or_else(|e| StepResult::failed(format!("the executor crashed: {e}"), None));
    let mut backoff = Backoff::new(Duration::from_millis(50), Duration::from_millis(500));
    for attempt in 1..=FINAL_FLUSH_TRIES {
        if flush(&shared, &lease, &logs).await || attempt == FINAL_FLUSH_TRIES {
            break;
        }
        tokio::time::sleep(backoff.next_delay()).await;
    }

    let stopped = *stop.borrow();
    if let Some(reason) = stopped {
        let why = match reason {
            StopReason::Revoked => "cancelled: the lease was revoked",
            StopReason::Stale => "cancelled: the lease was lost",
            StopReason::Removed => "cancelled: the agent was removed",
        };
        finish_unreported(&shared, &lease, why.into());
        return;
    }
    if reports.send((lease.clone(), result)).is_err() {
        // The reporter is gone (it only stops after every step task has ended): keep count.
        shared.tally(Tally::Unreported, 1);
        shared.release([&lease]);
    }
    shared.step_done();
}

/// The step ends without a report: free its slot and lease.
fn finish_unreported(shared: &Shared, lease: &LeaseRef, why: String) {
    shared.tally(Tally::Cancelled, 1);
    shared.emit(|| AgentEvent::StepFinished {
        lease: lease.clone(),
        outcome: crate::model::StepOutcome::Failed,
        error: Some(why),
        accepted: false,
    });
    shared.release([lease]);
    shared.step_done();
}

/// Send buffered lines. Returns whether the buffer is now empty (sent, or dropped because the
/// lease is gone — which also stops the step).
async fn flush(shared: &Shared, lease: &LeaseRef, logs: &LogSink) -> bool {
    let lines = logs.take();
    if lines.is_empty() {
        return true;
    }
    match shared.plane.append_logs(&shared.who, lease, &lines).await {
        Ok(()) => true,
        Err(e) if is_lease_gone(&e) => {
            shared.stop(lease, StopReason::Stale);
            true
        }
        Err(e) => {
            if !is_transient(&e) {
                shared.emit(|| {
                    AgentEvent::Warning(format!("{}: log lines refused: {e}", label(lease)))
                });
                return true;
            }
            logs.put_back(lines);
            false
        }
    }
}

/// `run/step#attempt`, as agents list them.
pub(crate) fn label(lease: &LeaseRef) -> String {
    format!(
        "{}/{}#{}",
        crate::model::short_id(&lease.run_id),
        lease.step_id,
        lease.attempt
    )
}
