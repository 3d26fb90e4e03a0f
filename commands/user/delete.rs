//! `imx user delete NAME`.

use super::super::context::Context;
use super::super::error::CliError;

/// Delete a user; their tokens are revoked (and kept, revoked, for the record). Asks first on
/// a terminal; elsewhere needs --yes.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  imx user delete bob\n  imx user delete bob --yes")]
pub struct DeleteArgs {
    /// User name.
    pub name: String,
}

pub async fn run(ctx: &Context, args: DeleteArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let who = ctx.principal();
    let user = plane.get_user(&who, &args.name).await?;
    ctx.confirm(&format!(
        "delete user {} and revoke their tokens",
        user.name
    ))?;
    let deleted = plane.delete_user(&who, &user.name).await?;
    ctx.out().status(format!("Deleted user {}.", deleted.name));
    ctx.out().result(&deleted)
}
