//! `imx run ...`: list, show, follow, cancel and retry runs.

mod cancel;
pub mod follow;
mod list;
mod logs;
mod retry;
mod show;
mod wait;
mod watch;

use clap::Subcommand;

use super::context::Context;
use super::error::CliError;

/// The run commands.
#[derive(Debug, Subcommand)]
pub enum RunCommand {
    /// List runs, newest first.
    List(list::ListArgs),
    /// Show a run and its steps.
    Show(show::ShowArgs),
    /// Print a run's captured output (-f to follow it).
    Logs(logs::LogsArgs),
    /// Cancel a run: ready steps stop, running steps are signalled.
    Cancel(cancel::CancelArgs),
    /// Retry a finished run's failed steps (or from one step on).
    Retry(retry::RetryArgs),
    /// Wait for a run to end; exit with its outcome.
    Wait(wait::WaitArgs),
    /// Follow a run with live progress until it ends.
    Watch(watch::WatchArgs),
}

pub async fn run(ctx: &Context, cmd: RunCommand) -> Result<(), CliError> {
    match cmd {
        RunCommand::List(args) => list::run(ctx, args).await,
        RunCommand::Show(args) => show::run(ctx, args).await,
        RunCommand::Logs(args) => logs::run(ctx, args).await,
        RunCommand::Cancel(args) => cancel::run(ctx, args).await,
        RunCommand::Retry(args) => retry::run(ctx, args).await,
        RunCommand::Wait(args) => wait::run(ctx, args).await,
        RunCommand::Watch(args) => watch::run(ctx, args).await,
    }
}
