//! `imx workflow run NAME [-p k=v ...] [--timeout D] [--wait] [--wait-timeout D]`.

use std::collections::BTreeMap;
use std::time::Duration;

use imx::control::{Plane, StartRun};
use imx::model::WaitReason;

use super::super::context::Context;
use super::super::error::CliError;
use super::super::output::Format;
use super::super::parse;
use super::super::run::follow;

/// Start a run and print its id. With --wait, follow it with live progress and exit with its
/// outcome: 0 succeeded, 10 failed, 11 cancelled, 12 timed out. --timeout is the run's deadline
/// (it cancels the run when it passes); --wait-timeout only bounds the wait (exit 13, and the run
/// goes on).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx workflow run flaky
  imx workflow run build-test-deploy -p version=1.4.2 -p env=prod --wait
  imx workflow run build-test-deploy --timeout 30m --wait
  imx workflow run build-test-deploy --wait-timeout 10m   # exit 13 if still running then
  id=$(imx workflow run build-test-deploy -p version=1.4.2) && imx run watch \"$id\"")]
pub struct RunArgs {
    /// The workflow's name.
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::commands::candidates::workflows))]
    pub workflow: String,

    /// A parameter, KEY=VALUE (repeatable); typed and checked against the workflow's params.
    #[arg(short = 'p', long = "param", value_name = "KEY=VALUE", value_parser = parse::key_value)]
    pub params: Vec<(String, String)>,

    /// Follow the run until it ends, with live progress; exit with its outcome.
    #[arg(short, long)]
    pub wait: bool,

    /// The run's deadline (overrides the workflow's timeout): when it passes, the run is timed
    /// out and its steps are stopped, e.g. 30s, 10m, 1h.
    #[arg(long, value_name = "DURATION", value_parser = parse::duration)]
    pub timeout: Option<Duration>,

    /// Follow the run (implies --wait), but give up waiting after this long: exit 13, and the
    /// run goes on.
    #[arg(long, value_name = "DURATION", value_parser = parse::duration)]
    pub wait_timeout: Option<Duration>,
}

pub async fn run(ctx: &Context, args: RunArgs) -> Result<(), CliError> {
    let mut params = BTreeMap::new();
    for (k, v) in args.params {
        if params.insert(k.clone(), v).is_some() {
            return Err(CliError::usage(format!("parameter {k:?} is given twice")));
        }
    }
    let plane = ctx.plane()?;
    let run = plane
        .start_run(
            &ctx.principal(),
            StartRun {
                workflow: args.workflow,
                params,
                timeout_ms: args.timeout.map(parse::millis),
            },
        )
        .await?;
    match ctx.out().format() {
        Format::Table | Format::Wide | Format::Name => ctx.out().line(&run.id)?,
        _ if !(args.wait || args.wait_timeout.is_some()) => ctx.out().detail(&run)?,
        _ => {}
    }
    ctx.out().status(format!(
        "Started run {} of {} v{}.",
        imx::model::short_id(&run.id),
        run.workflow,
        run.workflow_version
    ));
    let short = |id: &str| imx::model::short_id(id).to_string();
    if let Some(queue) = crate::commands::run::list::queue_text(&run, &short) {
        ctx.out().status(format!("Queued: {queue}."));
    } else if run.status.is_terminal()
        && let Some(err) = &run.error
    {
        ctx.out().status(format!("Run {}: {err}", run.status));
    }
    warn_unplaceable(ctx, &plane, &run.id).await?;
    let wait = args.wait || args.wait_timeout.is_some();
    if !wait {
        ctx.out().hint(format!(
            "follow it with: imx run watch {}",
            imx::model::short_id(&run.id)
        ));
        return Ok(());
    }
    let detail = follow::follow(ctx, &plane, &run.id, args.wait_timeout).await?;
    if ctx.out().is_machine() && ctx.out().format() != Format::Name {
        ctx.out().detail(&detail)?;
    }
    follow::outcome(ctx, &plane, &detail).await
}

/// Warn when a step of the new run cannot start because no online agent could take it (none
/// online, or none with its labels): otherwise it would wait silently until the run times out.
/// The control plane says why (`RunDetail::waiting`); busy agents and backoffs are no warning.
/// An advice, not an error: `-q` (only data and errors) silences it.
async fn warn_unplaceable(ctx: &Context, plane: &Plane, id: &str) -> Result<(), CliError> {
    if ctx.out().quiet() {
        return Ok(());
    }
    let detail = plane.get_run(&ctx.principal(), id).await?;
    for w in &detail.waiting {
        if matches!(w.reason, WaitReason::NoAgent | WaitReason::NoMatch) {
            ctx.out()
                .warn(format!("step {} cannot start: {}", w.step_id, w.message));
        }
    }
    Ok(())
}
