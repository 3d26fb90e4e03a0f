//! Following a run until it ends (shared by `run wait`, `run watch`, `workflow run --wait` and
//! the demo), and turning its outcome into the documented exit code.

use std::time::{Duration, Instant};

use imx::control::Plane;
use imx::model::{RunDetail, RunStatus, short_id};

use super::super::context::Context;
use super::super::error::{CliError, Exit};
use super::super::output::duration;
use super::super::output::progress::RunProgress;

/// How long to wait for a change before reading the run again regardless.
const POLL: Duration = Duration::from_millis(500);

/// Follow `id` with live progress until it ends, or until `timeout` passes (exit 13: the wait
/// gave up, the run goes on).
pub async fn follow(
    ctx: &Context,
    plane: &Plane,
    id: &str,
    timeout: Option<Duration>,
) -> Result<RunDetail, CliError> {
    let mut progress = RunProgress::new(ctx.out());
    follow_with(ctx, plane, id, timeout, |d| progress.update(d)).await
}

/// Follow `id`, calling `on_change` with each state read, until it ends or `timeout` passes.
pub async fn follow_with(
    ctx: &Context,
    plane: &Plane,
    id: &str,
    timeout: Option<Duration>,
    mut on_change: impl FnMut(&RunDetail),
) -> Result<RunDetail, CliError> {
    let who = ctx.principal();
    let deadline = timeout.map(|t| Instant::now() + t);
    // Resolve a prefix once (an ambiguous one lists its runs).
    let id = super::get_run(ctx, plane, id).await?.run.id;
    loop {
        let detail = plane.get_run(&who, &id).await?;
        on_change(&detail);
        if detail.run.status.is_terminal() {
            return Ok(detail);
        }
        let wait = match deadline {
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    let short = short_id(&detail.run.id);
                    let why: String = detail
                        .waiting
                        .iter()
                        .map(|w| format!("; step {} waits: {}", w.step_id, w.message))
                        .collect();
                    return Err(CliError::new(
                        Exit::WaitGaveUp,
                        format!(
                            "gave up waiting for run {short} after {}; it is still {} \
                             (the run goes on){why}",
                            humantime::format_duration(timeout.unwrap_or_default()),
                            detail.run.status
                        ),
                    )
                    .with_hint(format!(
                        "keep following it with: imx run watch {short}; stop it with: imx run \
                         cancel {short}"
                    )));
                }
                left.min(POLL)
            }
            None => POLL,
        };
        plane.wait_for_change(wait).await;
    }
}

/// The end of a waited-for run: a status line for success, else an error with exit 10/11/12,
/// after the failed steps' last lines (on stderr; not with -q). (Giving up the wait, exit 13,
/// happens in [`follow_with`].)
pub async fn outcome(ctx: &Context, plane: &Plane, detail: &RunDetail) -> Result<(), CliError> {
    let run = &detail.run;
    let took = run
        .duration_ms(imx::model::now_ms())
        .map(|ms| format!(" in {}", duration(ms)))
        .unwrap_or_default();
    let short = short_id(&run.id);
    if run.status == RunStatus::Succeeded {
        ctx.out()
            .status(format!("Run {short} ({}) succeeded{took}.", run.workflow));
        return Ok(());
    }
    let why = run
        .error
        .clone()
        .or_else(|| {
            detail
                .steps
                .iter()
                .find_map(|s| s.error.as_ref().map(|e| format!("step {}: {e}", s.step_id)))
        })
        .map(|e| format!(": {e}"))
        .unwrap_or_default();
    if !ctx.out().quiet()
        && let Ok(failed) = super::tail::failed_steps(plane, &ctx.principal(), detail).await
        && !failed.is_empty()
    {
        for line in super::tail::render_failed(&failed).lines() {
            ctx.out().status(line);
        }
    }
    let status = match run.status {
        RunStatus::TimedOut => "timed out".to_string(),
        other => other.to_string(),
    };
    Err(CliError::new(
        Exit::for_run(run.status),
        format!("run {short} ({}) {status}{took}{why}", run.workflow),
    )
    .with_hint(format!("imx run show {short}; imx run logs {short}")))
}
