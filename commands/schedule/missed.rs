//! `imx schedule missed NAME --since D`.

use super::super::context::Context;
use super::super::error::CliError;
use super::super::parse;

/// List the schedule's expected ticks since a time that have no run, and why: no scheduler
/// ran within the catch-up window (downtime), a run was still going (overlap skip or a full
/// buffer), the schedule was paused, or no scheduler has fired it yet.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  imx schedule missed nightly --since 7d\n  imx schedule missed hourly --since 2026-01-01T00:00:00Z -o json"
)]
pub struct MissedArgs {
    /// Schedule name.
    pub name: String,
    /// From: a duration ago (24h) or an RFC 3339 time.
    #[arg(long, value_name = "WHEN", value_parser = parse::since)]
    pub since: i64,
}

pub async fn run(ctx: &Context, args: MissedArgs) -> Result<(), CliError> {
    let missed = ctx
        .plane()?
        .missed_ticks(&ctx.principal(), &args.name, args.since)
        .await?;
    if missed.is_empty() && !ctx.out().is_machine() {
        ctx.out().status("No missed ticks.");
        return Ok(());
    }
    ctx.out().list(&missed)
}
