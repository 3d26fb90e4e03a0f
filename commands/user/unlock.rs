//! `imx user unlock NAME`.

use super::super::context::Context;
use super::super::error::CliError;

/// Clear a user's login lockouts: those of single sources (addresses that kept failing) and the
/// account-wide one (failures from many sources). Admins only; audited as `user.unlock`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  imx user unlock alice\n  imx --server https://imx.example.com:7443 user unlock alice"
)]
pub struct UnlockArgs {
    /// User name.
    pub name: String,
}

pub async fn run(ctx: &Context, args: UnlockArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let user = plane.unlock_user(&ctx.principal(), &args.name).await?;
    ctx.out().status(format!(
        "Unlocked user {}: failed logins are forgotten, from every source.",
        user.name
    ));
    ctx.out().result(&user)
}
