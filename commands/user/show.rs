//! `imx user show NAME`.

use super::super::context::Context;
use super::super::error::CliError;

/// Show one user: role, state (active, disabled, locked after failed logins), password.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  imx user show alice\n  imx user show alice -o json")]
pub struct ShowArgs {
    /// User name.
    pub name: String,
}

pub async fn run(ctx: &Context, args: ShowArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let user = plane.get_user(&ctx.principal(), &args.name).await?;
    ctx.out().detail(&user)
}
