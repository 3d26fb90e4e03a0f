//! `imx workflow run NAME [-p k=v ...] [--params-file FILE] [-l k=v ...] [--timeout D] [--wait]
//! [--wait-timeout D]`.

use imx::control::StartRun;

use super::super::context::Context;
use super::super::error::CliError;
use super::super::parse;
use super::run_input::{self, InputArgs, WaitArgs};

/// Start a run and print its id. With --wait, follow it with live progress and exit with its
/// outcome: 0 succeeded, 10 failed, 11 cancelled, 12 timed out. --timeout is the run's deadline
/// (it cancels the run when it passes); --wait-timeout only bounds the wait (exit 13, and the run
/// goes on). Params come from -p and --params-file (a YAML or JSON mapping; -p wins); labels
/// (-l) are kept with the run to find it by.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx workflow run flaky
  imx workflow run build-test-deploy -p version=1.4.2 -p env=prod --wait
  imx workflow run build-test-deploy --timeout 30m --wait
  imx workflow run build-test-deploy --wait-timeout 10m   # exit 13 if still running then
  printf 'version: \"1.4.2\"\\nenv: prod\\n' > params.yaml
  imx workflow run build-test-deploy --params-file params.yaml -p env=staging
  imx workflow run build-test-deploy -p version=1.4.2 -l sha=3f2a9c1 -l pr=42
  id=$(imx workflow run build-test-deploy -p version=1.4.2) && imx run watch \"$id\"")]
pub struct RunArgs {
    /// The workflow's name.
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::commands::candidates::workflows))]
    pub workflow: String,

    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub wait: WaitArgs,
}

pub async fn run(ctx: &Context, args: RunArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let labels = args.input.labels()?;
    let params = args.input.params(ctx, &plane, &args.workflow, None).await?;
    let run = plane
        .start_run(
            &ctx.principal(),
            StartRun {
                workflow: args.workflow,
                params,
                timeout_ms: args.wait.timeout.map(parse::millis),
                labels,
            },
        )
        .await?;
    run_input::started(ctx, &plane, &run, &args.wait, "Started").await
}
