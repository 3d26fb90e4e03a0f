//! `imx run ...`: list, show, follow, cancel, retry and rerun runs; approve or reject their
//! approval steps; list their artifacts; prune finished ones.

mod approve;
mod artifacts;
mod cancel;
pub mod follow;
pub mod list;
mod logs;
mod prune;
mod reject;
mod rerun;
mod retry;
mod show;
mod tail;
mod wait;
mod watch;

use clap::Subcommand;

use imx::control::Plane;
use imx::model::RunDetail;

use super::context::Context;
use super::error::CliError;
use super::output::{Format, render_list};

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
    /// Approve a waiting approval step: the run goes on.
    Approve(approve::ApproveArgs),
    /// Reject a waiting approval step: it fails with your comment.
    Reject(reject::RejectArgs),
    /// Start a new run with a run's params and labels (changed by -p, -l); the old one is kept.
    Rerun(rerun::RerunArgs),
    /// Wait for a run to end; exit with its outcome.
    Wait(wait::WaitArgs),
    /// Follow a run with live progress until it ends.
    Watch(watch::WatchArgs),
    /// Delete finished runs that ended long ago, with their events and logs.
    Prune(prune::PruneArgs),
    /// List a run's artifacts: step, path, size, SHA-256, when stored.
    Artifacts(artifacts::ArtifactsArgs),
}

pub async fn run(ctx: &Context, cmd: RunCommand) -> Result<(), CliError> {
    match cmd {
        RunCommand::List(args) => list::run(ctx, args).await,
        RunCommand::Show(args) => show::run(ctx, args).await,
        RunCommand::Logs(args) => logs::run(ctx, args).await,
        RunCommand::Cancel(args) => cancel::run(ctx, args).await,
        RunCommand::Retry(args) => retry::run(ctx, args).await,
        RunCommand::Approve(args) => approve::run(ctx, args).await,
        RunCommand::Reject(args) => reject::run(ctx, args).await,
        RunCommand::Rerun(args) => rerun::run(ctx, args).await,
        RunCommand::Wait(args) => wait::run(ctx, args).await,
        RunCommand::Watch(args) => watch::run(ctx, args).await,
        RunCommand::Prune(args) => prune::run(ctx, args).await,
        RunCommand::Artifacts(args) => artifacts::run(ctx, args).await,
    }
}

/// A run by id or any unique prefix. A prefix that matches several runs is an error (exit 2)
/// that lists them (id, workflow, status, created), so the right one can be picked.
pub async fn get_run(ctx: &Context, plane: &Plane, id: &str) -> Result<RunDetail, CliError> {
    let who = ctx.principal();
    match plane.get_run(&who, id).await {
        Ok(d) => Ok(d),
        Err(imx::Error::Ambiguous {
            kind: "run",
            prefix,
            candidates,
        }) => {
            let mut runs = Vec::new();
            for c in candidates.iter().take(5) {
                if let Ok(d) = plane.get_run(&who, c).await {
                    runs.push(d.run);
                }
            }
            let mut style = ctx.out().style();
            style.format = Format::Table;
            let table = render_list(&runs, &style)?;
            let many = if candidates.len() > 5 {
                "more than 5 runs; the first 5".to_string()
            } else {
                format!("{} runs", candidates.len())
            };
            Err(CliError::usage(format!(
                "run prefix {prefix:?} is ambiguous: it matches {many}:\n{}",
                table.trim_end()
            ))
            .with_hint("give more characters of the id (the table shows the shortest that tell these apart)"))
        }
        Err(e) => Err(e.into()),
    }
}
