//! `imx agent remove NAME`.

use super::super::context::Context;
use super::super::error::CliError;

/// Remove an agent. Steps it holds go back to the queue; a running `imx agent run` with this
/// name stops. Asks first on a terminal; elsewhere needs --yes.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  imx agent remove build-01\n  imx agent remove build-01 --yes")]
pub struct RemoveArgs {
    /// Agent name or id (any unique prefix).
    pub name: String,
}

pub async fn run(ctx: &Context, args: RemoveArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let who = ctx.principal();
    let agent = plane.get_agent(&who, &args.name).await?;
    let holding = if agent.running > 0 {
        format!(" ({} step(s) it holds go back to the queue)", agent.running)
    } else {
        String::new()
    };
    ctx.confirm(&format!("remove agent {}{holding}", agent.name))?;
    let removed = plane.remove_agent(&who, &agent.id).await?;
    ctx.out().status(format!("Removed agent {}.", removed.name));
    ctx.out().result(&removed)
}
