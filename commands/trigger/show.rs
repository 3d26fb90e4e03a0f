//! `imx trigger show NAME`.

use super::super::context::Context;
use super::super::error::CliError;

/// Show a trigger: what fires it, the workflow it starts and with which params, how often it
/// fired, and why its last firing started no run (if it did not).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  imx trigger show release-hook\n  imx trigger show release-hook -o json"
)]
pub struct ShowArgs {
    /// The trigger's name.
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::commands::candidates::triggers))]
    pub name: String,
}

pub async fn run(ctx: &Context, args: ShowArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let t = plane.get_trigger(&ctx.principal(), &args.name).await?;
    ctx.out().detail(&t)
}
