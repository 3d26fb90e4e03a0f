//! One granted step, from start to hand-off: report the start, execute, ship its log while it
//! runs and once at the end, check its outputs against the control plane's limit, then give
//! the result to the reporter — unless the step was stopped because its lease is gone, in which
//! case nothing is reported.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::time::MissedTickBehavior;

use super::AgentEvent;
use super::backoff::{Backoff, is_lease_gone, is_transient};
use super::executor::{self, ExecContext, StopReason};
use super::logs::LogSink;
use super::shared::{Shared, Tally};
use crate::engine::limits::check_outputs;
use crate::error::ErrorKind;
use crate::model::{LeaseRef, LogStream, StepResult, StepTask};

/// How often buffered log lines are sent while a step runs.
const FLUSH_EVERY: Duration = Duration::from_millis(100);
/// How long the final log flush is retried while the control plane is unreachable (a server
/// restart) before the lines are given up; the result is reported after it either way.
const FINAL_FLUSH_PATIENCE: Duration = Duration::from_secs(60);

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

    let masker = super::mask::Masker::new(&task.mask).map(Arc::new);
    let logs = LogSink::masked(task.max_log_bytes, masker.clone());
    let max_output = task.max_output_bytes;
    let ctx = ExecContext {
        http: shared.http.clone(),
        kill_grace: shared.config.kill_grace,
        logs: logs.clone(),
        stop: stop.clone(),
        launcher: shared.launcher.clone(),
        artifacts: Some(super::ArtifactClient {
            plane: shared.plane.clone(),
            who: shared.who.clone(),
        }),
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
    let mut result =
        joined.unwrap_or_else(|e| StepResult::failed(format!("the executor crashed: {e}"), None));
    // Secrets never leave the agent: not in outputs, not in the error.
    if let Some(m) = &masker {
        m.mask_result(&mut result);
    }
    // The control plane refuses outputs over its limit; say so now, without sending them.
    if let Some(refused) = max_output.and_then(|max| check_outputs(&result, max)) {
        logs.push(
            LogStream::System,
            format!("imx: {}", refused.error.as_deref().unwrap_or_default()),
        );
        result = refused;
    }
    logs.finish();
    final_flush(&shared, &lease, &logs, &stop).await;

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

/// The last lines go before the result (a finished step's lines are refused): while the control
/// plane is away (a server restarting), keep them and retry with backoff for up to
/// [`FINAL_FLUSH_PATIENCE`], unless the lease is gone meanwhile. Only then are they dropped.
async fn final_flush(
    shared: &Shared,
    lease: &LeaseRef,
    logs: &LogSink,
    stop: &watch::Receiver<Option<StopReason>>,
) {
    let started = tokio::time::Instant::now();
    let mut backoff = Backoff::new(Duration::from_millis(50), Duration::from_secs(2));
    let mut warned = false;
    while !flush(shared, lease, logs).await {
        if stop.borrow().is_some() || shared.removed() {
            return;
        }
        if started.elapsed() >= FINAL_FLUSH_PATIENCE {
            let lost = logs.take().len();
            shared.emit(|| {
                AgentEvent::Warning(format!(
                    "{}: gave up on {lost} log line(s): the control plane was unreachable for {}s",
                    label(lease),
                    FINAL_FLUSH_PATIENCE.as_secs()
                ))
            });
            return;
        }
        if !warned {
            warned = true;
            shared.emit(|| {
                AgentEvent::Warning(format!(
                    "{}: cannot send its last log lines, will retry",
                    label(lease)
                ))
            });
        }
        tokio::time::sleep(backoff.next_delay()).await;
    }
}

/// Send buffered lines, batch after batch, until none is left. Returns whether the buffer is
/// now empty (sent, or dropped because the lease is gone — which also stops the step); `false`
/// means the control plane is unreachable and the lines wait for the next try.
async fn flush(shared: &Shared, lease: &LeaseRef, logs: &LogSink) -> bool {
    loop {
        let lines = logs.take_batch();
        if lines.is_empty() {
            return true;
        }
        match shared.plane.append_logs(&shared.who, lease, &lines).await {
            Ok(()) => {}
            Err(e) if is_lease_gone(&e) => {
                shared.stop(lease, StopReason::Stale);
                logs.take();
                return true;
            }
            Err(e) if is_transient(&e) => {
                logs.put_back(lines);
                return false;
            }
            Err(e) => {
                // Refused as invalid: most likely a batch over a proxy's or the server's body
                // limit. Send it again in smaller batches; only a single line is given up.
                let bytes = lines
                    .iter()
                    .map(|l| l.line.len() + super::logs::LINE_COST)
                    .sum();
                if e.kind() == ErrorKind::Invalid && logs.shrink_batches(lines.len(), bytes) {
                    logs.put_back(lines);
                    continue;
                }
                shared.emit(|| {
                    AgentEvent::Warning(format!(
                        "{}: {} log line(s) refused: {e}",
                        label(lease),
                        lines.len()
                    ))
                });
            }
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
