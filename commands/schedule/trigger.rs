//! `imx schedule trigger NAME`.

use super::super::context::Context;
use super::super::error::CliError;

/// Run a schedule's workflow now with its params, as a tick of the schedule (its nominal time
/// is now), whatever its timing and overlap policy.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  imx schedule trigger nightly")]
pub struct TriggerArgs {
    /// Schedule name.
    pub name: String,
}

pub async fn run(ctx: &Context, args: TriggerArgs) -> Result<(), CliError> {
    let run = ctx
        .plane()?
        .trigger_schedule(&ctx.principal(), &args.name)
        .await?;
    ctx.out().status(format!(
        "Triggered schedule {}: run {}.",
        args.name,
        imx::model::short_id(&run.id)
    ));
    ctx.out().result(&run)
}
