//! `imx agent show NAME`.

use super::super::context::Context;
use super::super::error::CliError;

/// Show one agent: state, labels, slots, the steps it holds, host and heartbeat.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  imx agent show build-01\n  imx agent show build-01 -o json")]
pub struct ShowArgs {
    /// Agent name or id (any unique prefix).
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::commands::candidates::agents))]
    pub name: String,
}

pub async fn run(ctx: &Context, args: ShowArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let agent = plane.get_agent(&ctx.principal(), &args.name).await?;
    ctx.out().detail(&agent)
}
