//! `imx run watch ID [--wait-timeout D]`.

use std::time::Duration;

use super::super::context::Context;
use super::super::error::CliError;
use super::super::parse;
use super::follow;

/// Follow a run with live progress (one line per step: state, attempt, agent, duration, and why
/// a ready step is waiting) until it ends; exit 0 succeeded, 10 failed, 11 cancelled, 12 timed
/// out, 13 when --wait-timeout passes first (the run goes on).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx run watch 01HZX4
  imx run watch 01HZX4 --wait-timeout 5m")]
pub struct WatchArgs {
    /// Run id (any unique prefix).
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::commands::candidates::runs))]
    pub id: String,

    /// Stop watching after this long (exit 13; the run goes on), e.g. 30s, 10m.
    #[arg(long, value_name = "DURATION", value_parser = parse::duration)]
    pub wait_timeout: Option<Duration>,
}

pub async fn run(ctx: &Context, args: WatchArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let detail = follow::follow(ctx, &plane, &args.id, args.wait_timeout).await?;
    if ctx.out().is_machine() {
        ctx.out().detail(&detail)?;
    }
    follow::outcome(ctx, &plane, &detail).await
}
