//! `imx user disable NAME` and `imx user enable NAME`.

use imx::model::UserUpdate;

use super::super::context::Context;
use super::super::error::CliError;

/// A user to disable or enable. A disabled user cannot log in and their tokens stop working
/// until they are enabled again.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  imx user disable bob\n  imx user enable bob")]
pub struct StateArgs {
    /// User name.
    pub name: String,
}

pub async fn run(ctx: &Context, args: StateArgs, disable: bool) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let user = plane
        .update_user(
            &ctx.principal(),
            &args.name,
            UserUpdate {
                role: None,
                disabled: Some(disable),
            },
        )
        .await?;
    ctx.out().status(if disable {
        format!(
            "Disabled user {}: their logins and tokens no longer work.",
            user.name
        )
    } else {
        format!("Enabled user {}.", user.name)
    });
    ctx.out().result(&user)
}
