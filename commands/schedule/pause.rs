//! `imx schedule pause NAME [--note TEXT]`.

use super::super::context::Context;
use super::super::error::CliError;

/// Pause a schedule: its ticks are recorded as missed (reason: paused) until it is resumed.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  imx schedule pause nightly --note \"db migration until 14:00\""
)]
pub struct PauseArgs {
    /// Schedule name.
    pub name: String,
    /// Why, for whoever looks next (shown by `schedule show` and `list -o wide`).
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
}

pub async fn run(ctx: &Context, args: PauseArgs) -> Result<(), CliError> {
    let s = ctx
        .plane()?
        .pause_schedule(&ctx.principal(), &args.name, args.note)
        .await?;
    ctx.out().status(format!("Paused schedule {}.", s.name));
    ctx.out().result(&s)
}
