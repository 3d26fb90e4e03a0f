//! `imx schedule show NAME`.

use super::super::context::Context;
use super::super::error::CliError;

/// Show a schedule: its timing, policies, tick counts, and its next 5 fire times in its zone
/// and in UTC.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  imx schedule show nightly\n  imx schedule show nightly -o json"
)]
pub struct ShowArgs {
    /// Schedule name.
    pub name: String,
}

pub async fn run(ctx: &Context, args: ShowArgs) -> Result<(), CliError> {
    let detail = ctx
        .plane()?
        .get_schedule(&ctx.principal(), &args.name)
        .await?;
    ctx.out().detail(&detail)
}
