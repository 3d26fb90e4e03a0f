//! `imx run retry ID [--from STEP]`.

use super::super::context::Context;
use super::super::error::CliError;

/// Retry a finished run: rerun its failed, skipped and cancelled steps, or STEP and everything
/// downstream of it with --from.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  imx run retry 01HZX4\n  imx run retry 01HZX4 --from test")]
pub struct RetryArgs {
    /// Run id (any unique prefix).
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::commands::candidates::runs))]
    pub id: String,

    /// Rerun this step and everything that depends on it (a matrix step: every instance; a
    /// foreach step is expanded anew, its old instances removed).
    #[arg(long, value_name = "STEP", add = clap_complete::ArgValueCandidates::new(crate::commands::candidates::steps))]
    pub from: Option<String>,
}

pub async fn run(ctx: &Context, args: RetryArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let run = plane
        .retry_run(&ctx.principal(), &args.id, args.from.as_deref())
        .await?;
    let short = imx::model::short_id(&run.id);
    ctx.out()
        .status(format!("Retrying run {short} ({}).", run.workflow));
    ctx.out()
        .hint(format!("follow it with: imx run watch {short}"));
    ctx.out().result(&run)
}
