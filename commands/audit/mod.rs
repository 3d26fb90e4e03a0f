//! `imx audit ...`: read, follow, verify, checkpoint, report on, export and prune the
//! hash-chained audit trail.

mod checkpoint;
mod export;
mod filters;
mod list;
mod prune;
mod report;
mod show;
mod tail;
mod verify;

use clap::Subcommand;

use super::context::Context;
use super::error::CliError;

/// The audit commands.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// List audit records (filter by time, actor, action, target, outcome).
    List(list::ListArgs),
    /// Show one audit record with its hashes.
    Show(show::ShowArgs),
    /// Show the newest records; with -f, keep printing new ones.
    Tail(tail::TailArgs),
    /// Verify the hash chain; exit non-zero naming the first bad record.
    Verify(verify::VerifyArgs),
    /// Sign the chain head with the audit key kept outside the store (detects truncation).
    Checkpoint(checkpoint::CheckpointArgs),
    /// An auditor's report: activity, auth failures, privilege changes, runs, agents, backups.
    Report(report::ReportArgs),
    /// Export records as JSON lines (for SIEMs).
    Export(export::ExportArgs),
    /// Archive records older than a period into a file; the remaining chain still verifies.
    Prune(prune::PruneArgs),
}

pub async fn run(ctx: &Context, cmd: AuditCommand) -> Result<(), CliError> {
    match cmd {
        AuditCommand::List(args) => list::run(ctx, args).await,
        AuditCommand::Show(args) => show::run(ctx, args).await,
        AuditCommand::Tail(args) => tail::run(ctx, args).await,
        AuditCommand::Verify(args) => verify::run(ctx, args).await,
        AuditCommand::Checkpoint(args) => checkpoint::run(ctx, args).await,
        AuditCommand::Report(args) => report::run(ctx, args).await,
        AuditCommand::Export(args) => export::run(ctx, args).await,
        AuditCommand::Prune(args) => prune::run(ctx, args).await,
    }
}
