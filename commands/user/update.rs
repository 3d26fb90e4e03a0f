//! `imx user update NAME --role R`.

use imx::auth::Role;
use imx::model::UserUpdate;

use super::super::context::Context;
use super::super::error::CliError;
use super::create::parse_role;

/// Change a user's role. Their tokens act with the new role at once.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  imx user update alice --role admin\n  imx user update bob --role viewer"
)]
pub struct UpdateArgs {
    /// User name.
    pub name: String,

    /// The new role: admin, operator, viewer or agent.
    #[arg(long, value_parser = parse_role, add = clap_complete::ArgValueCandidates::new(crate::commands::candidates::roles))]
    pub role: Role,
}

pub async fn run(ctx: &Context, args: UpdateArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let user = plane
        .update_user(
            &ctx.principal(),
            &args.name,
            UserUpdate {
                role: Some(args.role),
                disabled: None,
            },
        )
        .await?;
    ctx.out().status(format!(
        "User {} now has the {} role.",
        user.name, user.role
    ));
    ctx.out().result(&user)
}
