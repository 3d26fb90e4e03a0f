//! `imx trigger delete NAME`.

use super::super::context::Context;
use super::super::error::CliError;

/// Delete a trigger made by command: calls to a webhook trigger's URL are refused from then on.
/// A trigger a workflow file declares (`on:`) goes when the file stops declaring it.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  imx trigger delete release-hook")]
pub struct DeleteArgs {
    /// The trigger's name.
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::commands::candidates::triggers))]
    pub name: String,
}

pub async fn run(ctx: &Context, args: DeleteArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let t = plane.delete_trigger(&ctx.principal(), &args.name).await?;
    ctx.out().status(format!("Deleted trigger {}.", t.name));
    ctx.out().result(&t)
}
