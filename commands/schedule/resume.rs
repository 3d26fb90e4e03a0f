//! `imx schedule resume NAME`.

use super::super::context::Context;
use super::super::error::CliError;

/// Resume a paused schedule from its next tick.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  imx schedule resume nightly")]
pub struct ResumeArgs {
    /// Schedule name.
    pub name: String,
}

pub async fn run(ctx: &Context, args: ResumeArgs) -> Result<(), CliError> {
    let s = ctx
        .plane()?
        .resume_schedule(&ctx.principal(), &args.name)
        .await?;
    ctx.out().status(format!("Resumed schedule {}.", s.name));
    ctx.out().result(&s)
}
