//! `imx schedule list`.

use super::super::context::Context;
use super::super::error::CliError;

/// List schedules with their next fire time and tick counts.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  imx schedule list\n  imx schedule list -o wide")]
pub struct ListArgs {}

pub async fn run(ctx: &Context, _args: ListArgs) -> Result<(), CliError> {
    let schedules = ctx.plane()?.list_schedules(&ctx.principal()).await?;
    if schedules.is_empty() && !ctx.out().is_machine() {
        ctx.out().status("No schedules.");
        return Ok(());
    }
    ctx.out().list(&schedules)
}
