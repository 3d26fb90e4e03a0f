//! `imx schedule delete NAME`.

use super::super::context::Context;
use super::super::error::CliError;

/// Delete a schedule and its tick records; the runs it made stay (and keep its name).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  imx schedule delete nightly")]
pub struct DeleteArgs {
    /// Schedule name.
    pub name: String,
}

pub async fn run(ctx: &Context, args: DeleteArgs) -> Result<(), CliError> {
    let s = ctx
        .plane()?
        .delete_schedule(&ctx.principal(), &args.name)
        .await?;
    ctx.out().status(format!("Deleted schedule {}.", s.name));
    ctx.out().result(&s)
}
