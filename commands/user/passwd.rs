//! `imx user passwd NAME [--password-stdin]`.

use super::super::context::Context;
use super::super::error::CliError;
use super::super::password::{self, Ask};

/// Set a user's password: prompted twice without echo on a terminal, or the first line of
/// stdin with --password-stdin. Clears a lockout from failed logins.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx user passwd alice
  printf '%s\\n' \"$NEW_PASSWORD\" | imx user passwd alice --password-stdin")]
pub struct PasswdArgs {
    /// User name.
    pub name: String,

    /// Read the new password from stdin (first line).
    #[arg(long)]
    pub password_stdin: bool,
}

pub async fn run(ctx: &Context, args: PasswdArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let who = ctx.principal();
    // Fail on an unknown user before asking for a password.
    plane.get_user(&who, &args.name).await?;
    let prompt = format!("New password for {}: ", args.name);
    let secret = password::read(
        args.password_stdin,
        &Ask {
            prompt: &prompt,
            confirm: true,
        },
    )?;
    let user = plane.set_password(&who, &args.name, secret).await?;
    ctx.out()
        .status(format!("Set the password of {}.", user.name));
    ctx.out().result(&user)
}
