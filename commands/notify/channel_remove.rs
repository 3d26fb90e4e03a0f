//! `imx notify channel remove NAME`.

use super::super::context::Context;
use super::super::error::CliError;

/// Remove a channel (and its sealed secret). Refused while a rule sends to it.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  imx notify channel remove ops")]
pub struct RemoveArgs {
    /// The channel's name.
    pub name: String,
}

pub async fn run(ctx: &Context, args: RemoveArgs) -> Result<(), CliError> {
    let removed = ctx
        .plane()?
        .notify_channel_remove(&ctx.principal(), &args.name)
        .await?;
    ctx.out()
        .status(format!("Removed channel {}.", removed.name));
    ctx.out().result(&removed)
}
