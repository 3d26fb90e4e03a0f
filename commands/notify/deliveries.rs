//! `imx notify deliveries`.

use super::super::context::Context;
use super::super::error::CliError;

/// The newest deliveries: each message, its channel, state, and every attempt with what the
/// receiver answered (`-o json` has the events and attempts in full).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  imx notify deliveries\n  imx notify deliveries -o json --limit 5"
)]
pub struct DeliveriesArgs {
    /// At most this many deliveries, newest first.
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub limit: u32,
}

pub async fn run(ctx: &Context, args: DeliveriesArgs) -> Result<(), CliError> {
    let list = ctx
        .plane()?
        .notify_deliveries(&ctx.principal(), args.limit)
        .await?;
    if list.is_empty() && !ctx.out().is_machine() {
        ctx.out().status("No deliveries yet.");
        return Ok(());
    }
    ctx.out().list(&list)
}
