//! `imx agent ...`: run a worker, and list, inspect, drain, resume or remove agents.

mod drain;
mod list;
mod remove;
mod resume;
mod run;
mod show;
pub mod steps;

use clap::Subcommand;

use super::context::Context;
use super::error::CliError;

/// The agent commands.
#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    /// Run an agent (a worker) in this process until SIGINT/SIGTERM, then drain and exit.
    Run(run::RunArgs),
    /// List agents.
    List(list::ListArgs),
    /// Show one agent.
    Show(show::ShowArgs),
    /// Stop an agent from taking new steps; running steps finish.
    Drain(drain::DrainArgs),
    /// Let a drained agent take steps again.
    Resume(resume::ResumeArgs),
    /// Remove an agent (one that runs steps: drain it first, or --force).
    Remove(remove::RemoveArgs),
}

pub async fn run(ctx: &Context, cmd: AgentCommand) -> Result<(), CliError> {
    match cmd {
        AgentCommand::Run(args) => run::run(ctx, args).await,
        AgentCommand::List(args) => list::run(ctx, args).await,
        AgentCommand::Show(args) => show::run(ctx, args).await,
        AgentCommand::Drain(args) => drain::run(ctx, args).await,
        AgentCommand::Resume(args) => resume::run(ctx, args).await,
        AgentCommand::Remove(args) => remove::run(ctx, args).await,
    }
}
