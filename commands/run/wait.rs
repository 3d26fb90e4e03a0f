//! `imx run wait ID [--wait-timeout D]`.

use std::time::Duration;

use super::super::context::Context;
use super::super::error::CliError;
use super::super::parse;
use super::follow;

/// Wait for a run to end, quietly; exit 0 succeeded, 10 failed, 11 cancelled, 12 timed out (the
/// run's own deadline). With --wait-timeout, give up waiting after that long: exit 13, and the
/// run goes on.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx run wait 01HZX4
  imx run wait 01HZX4 --wait-timeout 10m || echo \"run did not succeed: $?\"")]
pub struct WaitArgs {
    /// Run id (any unique prefix).
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::commands::candidates::runs))]
    pub id: String,

    /// Give up waiting after this long (exit 13; the run goes on), e.g. 30s, 10m.
    #[arg(long, value_name = "DURATION", value_parser = parse::duration)]
    pub wait_timeout: Option<Duration>,
}

pub async fn run(ctx: &Context, args: WaitArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let detail = follow::follow_with(ctx, &plane, &args.id, args.wait_timeout, |_| {}).await?;
    if ctx.out().is_machine() {
        ctx.out().detail(&detail)?;
    }
    follow::outcome(ctx, &plane, &detail).await
}
