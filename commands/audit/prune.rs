//! `imx audit prune`.

use std::path::PathBuf;
use std::time::Duration;

use super::super::context::Context;
use super::super::error::CliError;
use super::super::parse;

/// Archive records older than --keep into a JSONL file (header with the boundary hash, then the
/// records) and remove them from the store. The remaining chain starts at the boundary and still
/// verifies; the archive verifies on its own (`audit verify --archive FILE`). Refuses to archive a
/// chain that does not verify.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx audit prune --keep 365d --dry-run
  imx audit prune --keep 365d --archive-dir /mnt/archive --yes")]
pub struct PruneArgs {
    /// Keep records newer than this (e.g. 365d, 90d).
    #[arg(long, value_name = "PERIOD", value_parser = parse::duration)]
    keep: Duration,

    /// Where to write the archive [default: audit-archive/ beside the store]
    #[arg(long, value_name = "DIR")]
    archive_dir: Option<PathBuf>,

    /// Show what would be archived; change nothing.
    #[arg(long)]
    dry_run: bool,
}

pub async fn run(ctx: &Context, args: PruneArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let who = ctx.principal();
    let plan = plane
        .audit_prune(&who, args.keep, args.archive_dir.clone(), true)
        .await?;
    if plan.archived == 0 {
        ctx.out()
            .status("No audit records are older than that; nothing to archive.");
        return Ok(());
    }
    if args.dry_run {
        ctx.out().status(format!(
            "Would archive {} records (through seq {}) to {}",
            plan.archived,
            plan.boundary.seq,
            plan.archive
                .as_deref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        ));
        return Ok(());
    }
    ctx.confirm(&format!(
        "archive and remove {} audit records (through seq {})",
        plan.archived, plan.boundary.seq
    ))?;
    let out = plane
        .audit_prune(&who, args.keep, args.archive_dir, false)
        .await?;
    ctx.out().status(format!(
        "Archived {} records to {} (sha256 {}); the chain now starts after seq {} ({})",
        out.archived,
        out.archive
            .as_deref()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        out.archive_sha256.unwrap_or_default(),
        out.boundary.seq,
        out.boundary.hash
    ));
    Ok(())
}
