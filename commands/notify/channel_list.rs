//! `imx notify channel list`.

use super::super::context::Context;
use super::super::error::CliError;

/// List channels: name, kind, where to, whether it holds a secret (never the secret).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  imx notify channel list\n  imx notify channel list -o json")]
pub struct ListArgs {}

pub async fn run(ctx: &Context, _args: ListArgs) -> Result<(), CliError> {
    let channels = ctx.plane()?.notify_channels(&ctx.principal()).await?;
    if channels.is_empty() && !ctx.out().is_machine() {
        ctx.out().status("No channels yet.");
        ctx.out()
            .hint("add one with: imx notify channel add NAME --webhook URL --secret-stdin");
        return Ok(());
    }
    ctx.out().list(&channels)
}
