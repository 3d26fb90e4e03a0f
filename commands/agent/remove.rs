//! `imx agent remove NAME [--force]`.

use imx::model::AgentState;

use super::super::context::Context;
use super::super::error::CliError;

/// Remove an agent; a running `imx agent run` with this name stops. An agent that is online and
/// runs steps is refused: drain it first (`imx agent drain`) and remove it once idle, or use
/// --force to give its steps back to the queue (each counts as a lost agent for its step).
/// Asks first on a terminal; elsewhere needs --yes.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx agent remove build-01
  imx agent remove build-01 --yes
  imx agent remove build-02 --force --yes     # even while it runs steps")]
pub struct RemoveArgs {
    /// Agent name or id (any unique prefix).
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::commands::candidates::agents))]
    pub name: String,

    /// Remove it even while it is online and runs steps; they go back to the queue.
    #[arg(long)]
    pub force: bool,
}

pub async fn run(ctx: &Context, args: RemoveArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let who = ctx.principal();
    let agent = plane.get_agent(&who, &args.name).await?;
    // The control plane refuses an online agent that runs steps without --force: say so
    // rather than ask first.
    let refused = agent.running > 0 && agent.state != AgentState::Offline && !args.force;
    if !refused {
        let holding = if agent.running > 0 {
            format!(
                " ({} it holds {} back to the queue)",
                super::super::output::count(u64::from(agent.running), "step"),
                if agent.running == 1 { "goes" } else { "go" }
            )
        } else {
            String::new()
        };
        ctx.confirm(&format!("remove agent {}{holding}", agent.name))?;
    }
    let removed = plane.remove_agent(&who, &agent.id, args.force).await?;
    ctx.out().status(format!("Removed agent {}.", removed.name));
    ctx.out().result(&removed)
}
