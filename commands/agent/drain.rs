//! `imx agent drain NAME`.

use super::super::context::Context;
use super::super::error::CliError;

/// Stop an agent from claiming new steps; the steps it runs now finish.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  imx agent drain build-01\n  imx agent resume build-01")]
pub struct DrainArgs {
    /// Agent name or id (any unique prefix).
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::commands::candidates::agents))]
    pub name: String,
}

pub async fn run(ctx: &Context, args: DrainArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let agent = plane.drain_agent(&ctx.principal(), &args.name).await?;
    ctx.out().status(format!(
        "Draining agent {}: no new steps; {} running will finish.",
        agent.name, agent.running
    ));
    ctx.out().result(&agent)
}
