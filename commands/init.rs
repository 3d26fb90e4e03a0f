//! `imx init`: create the local store (idempotent).

use super::context::Context;
use super::error::CliError;

/// Create the local store at --store (or the default path). Safe to run again.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  imx init\n  imx --store /srv/imx/imx.db init")]
pub struct InitArgs {}

pub async fn run(ctx: &Context, _args: InitArgs) -> Result<(), CliError> {
    let (plane, created) = ctx.open_local()?;
    let path = plane.path().display().to_string();
    if created {
        ctx.out().status(format!("Created a new store at {path}"));
        ctx.out()
            .hint("next: imx workflow apply -f <file>, then imx agent run");
    } else {
        ctx.out()
            .status(format!("A store already exists at {path}; nothing to do."));
    }
    Ok(())
}
