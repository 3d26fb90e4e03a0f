//! `imx agent resume NAME`.

use super::super::context::Context;
use super::super::error::CliError;

/// Let a drained agent claim steps again.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  imx agent resume build-01")]
pub struct ResumeArgs {
    /// Agent name or id (any unique prefix).
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::commands::candidates::agents))]
    pub name: String,
}

pub async fn run(ctx: &Context, args: ResumeArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let agent = plane.resume_agent(&ctx.principal(), &args.name).await?;
    ctx.out()
        .status(format!("Agent {} takes steps again.", agent.name));
    ctx.out().result(&agent)
}
