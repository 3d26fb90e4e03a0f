//! `imx schedule backfill NAME --from T --to T [--dry-run]`.

use imx::control::Backfill;

use super::super::context::Context;
use super::super::error::CliError;
use super::super::parse;

/// Make the runs of the schedule's ticks in [--from, --to] that have none (missed, skipped or
/// dropped ones, or ticks from before it existed). Each is made once: a tick that has a run is
/// left alone. At most 1000 ticks at a time.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx schedule backfill nightly --from 2026-01-01T00:00:00Z --to 2026-01-07T00:00:00Z --dry-run
  imx schedule backfill hourly --from 6h --to 1h")]
pub struct BackfillArgs {
    /// Schedule name.
    pub name: String,
    /// From: an RFC 3339 time, or a duration ago (6h).
    #[arg(long, value_name = "WHEN", value_parser = parse::since)]
    pub from: i64,
    /// To (inclusive): an RFC 3339 time, or a duration ago.
    #[arg(long, value_name = "WHEN", value_parser = parse::since)]
    pub to: i64,
    /// Only list the ticks and what would be done.
    #[arg(long)]
    pub dry_run: bool,
}

pub async fn run(ctx: &Context, args: BackfillArgs) -> Result<(), CliError> {
    let req = Backfill {
        from: args.from,
        to: args.to,
        dry_run: args.dry_run,
    };
    let report = ctx
        .plane()?
        .backfill_schedule(&ctx.principal(), &args.name, req)
        .await?;
    let count = |a: &str| report.ticks.iter().filter(|t| t.action == a).count();
    if report.dry_run {
        ctx.out().status(format!(
            "Would make {} runs ({} ticks in range, {} already have one).",
            count("would_create"),
            report.ticks.len(),
            count("exists")
        ));
    } else {
        ctx.out().status(format!(
            "Made {} runs ({} ticks in range, {} already had one).",
            count("created"),
            report.ticks.len(),
            count("exists")
        ));
    }
    ctx.out().list(&report.ticks)
}
