//! `imx run rerun ID [-p k=v ...] [--params-file FILE] [-l k=v ...] [--latest] [--timeout D]
//! [--wait] [--wait-timeout D]`.

use imx::control::RerunRun;

use super::super::context::Context;
use super::super::error::CliError;
use super::super::parse;
use super::super::workflow::run_input::{self, InputArgs, WaitArgs};

/// Start a new run of a run's workflow with the same params and labels, changed by any -p,
/// --params-file and -l given; the old run is kept as it is and the new one records it
/// ("Rerun of" in `run show`, `rerun_of` in JSON). The new run runs the old run's workflow
/// version, so it does what the old one did; --latest runs the workflow's latest version
/// instead. Its timeout is chosen as for any new run (--timeout, else the workflow's). To run
/// only an old run's failed steps again in place, use `imx run retry`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx run rerun 01HZX4
  imx run rerun 01HZX4 -p env=prod -l attempt=2
  imx run rerun 01HZX4 --latest --wait
  printf 'env: prod\\n' | imx run rerun 01HZX4 --params-file -")]
pub struct RerunArgs {
    /// The run to rerun: its id (any unique prefix).
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::commands::candidates::runs))]
    pub id: String,

    /// Run the workflow's latest version, not the old run's.
    #[arg(long)]
    pub latest: bool,

    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub wait: WaitArgs,
}

pub async fn run(ctx: &Context, args: RerunArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let labels = args.input.labels()?;
    // A params file is checked against the version the new run runs.
    let params = if args.input.params_file.is_some() {
        let old = super::get_run(ctx, &plane, &args.id).await?.run;
        let version = (!args.latest).then_some(old.workflow_version);
        args.input
            .params(ctx, &plane, &old.workflow, version)
            .await?
    } else {
        args.input.params(ctx, &plane, "", None).await?
    };
    let run = plane
        .rerun_run(
            &ctx.principal(),
            &args.id,
            RerunRun {
                params,
                labels,
                latest: args.latest,
                timeout_ms: args.wait.timeout.map(parse::millis),
            },
        )
        .await?;
    run_input::started(ctx, &plane, &run, &args.wait, "Started").await
}
