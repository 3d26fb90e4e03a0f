//! `imx secret list [--workflow W]`.

use super::super::context::Context;
use super::super::error::CliError;

/// List secrets: names, scopes (global or a workflow's), versions, and who changed each when.
/// Values are never shown.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  imx secret list\n  imx secret list --workflow nightly-etl -o json"
)]
pub struct ListArgs {
    /// Only this workflow's own secrets.
    #[arg(long, short = 'w')]
    pub workflow: Option<String>,
}

pub async fn run(ctx: &Context, args: ListArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let secrets = plane
        .list_secrets(&ctx.principal(), args.workflow.as_deref())
        .await?;
    if secrets.is_empty() && !ctx.out().is_machine() {
        ctx.out().status("No secrets yet.");
        ctx.out()
            .hint("set one with: printf %s \"$VALUE\" | imx secret set NAME");
        return Ok(());
    }
    ctx.out().list(&secrets)
}
