//! `imx audit show`.

use super::super::context::Context;
use super::super::error::CliError;

/// Show one audit record: who did what to which target, the outcome, details and hashes.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  imx audit show 42\n  imx audit show 42 -o json")]
pub struct ShowArgs {
    /// The record's sequence number.
    seq: i64,
}

pub async fn run(ctx: &Context, args: ShowArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let record = plane.audit_get(&ctx.principal(), args.seq).await?;
    ctx.out().detail(&record)
}
