//! `imx run wait ID [--timeout D]`.

use std::time::Duration;

use super::super::context::Context;
use super::super::error::CliError;
use super::super::parse;
use super::follow;

/// Wait for a run to end, quietly; exit 0 succeeded, 10 failed, 11 cancelled, 12 timed out
/// (also when --timeout passes first).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx run wait 01HZX4
  imx run wait 01HZX4 --timeout 10m || echo \"run did not succeed: $?\"")]
pub struct WaitArgs {
    /// Run id (any unique prefix).
    pub id: String,

    /// Give up after this long (exit 12), e.g. 30s, 10m.
    #[arg(long, value_name = "DURATION", value_parser = parse::duration)]
    pub timeout: Option<Duration>,
}

pub async fn run(ctx: &Context, args: WaitArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let detail = follow::follow_with(ctx, &plane, &args.id, args.timeout, |_| {}).await?;
    if ctx.out().is_machine() {
        ctx.out().detail(&detail)?;
    }
    follow::outcome(ctx, &detail)
}
