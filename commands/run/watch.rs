//! `imx run watch ID`.

use super::super::context::Context;
use super::super::error::CliError;
use super::follow;

/// Follow a run with live progress (one line per step: state, attempt, agent, duration) until
/// it ends; exit 0 succeeded, 10 failed, 11 cancelled, 12 timed out.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  imx run watch 01HZX4")]
pub struct WatchArgs {
    /// Run id (any unique prefix).
    pub id: String,
}

pub async fn run(ctx: &Context, args: WatchArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let detail = follow::follow(ctx, &plane, &args.id, None).await?;
    if ctx.out().is_machine() {
        ctx.out().detail(&detail)?;
    }
    follow::outcome(ctx, &detail)
}
