//! `imx run cancel ID`.

use super::super::context::Context;
use super::super::error::CliError;

/// Cancel a run: pending and ready steps are cancelled, running steps are signalled.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  imx run cancel 01HZX4")]
pub struct CancelArgs {
    /// Run id (any unique prefix).
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::commands::candidates::runs))]
    pub id: String,
}

pub async fn run(ctx: &Context, args: CancelArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let run = plane.cancel_run(&ctx.principal(), &args.id).await?;
    ctx.out().status(format!(
        "Cancelled run {} ({}).",
        imx::model::short_id(&run.id),
        run.workflow
    ));
    ctx.out().result(&run)
}
