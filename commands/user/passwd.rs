//! `imx user passwd NAME [--password-stdin [--current-password-stdin]]`.

use imx::model::PasswordChange;

use super::super::context::Context;
use super::super::error::CliError;
use super::super::password::{self, Ask};

/// Set a user's password: prompted twice without echo on a terminal, or the first line of
/// stdin with --password-stdin. Your own password needs your current one too (prompted first,
/// or with --current-password-stdin the first line of stdin, the new one the second); every
/// other token of yours is revoked, the one in use is kept. An admin setting another user's
/// password revokes all of that user's tokens and clears their lockouts.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx user passwd alice
  printf '%s\\n' \"$NEW_PASSWORD\" | imx user passwd alice --password-stdin
  printf '%s\\n' \"$OLD\" \"$NEW\" | imx user passwd alice --password-stdin --current-password-stdin")]
pub struct PasswdArgs {
    /// User name.
    pub name: String,

    /// Read the new password from stdin (first line; the second with
    /// --current-password-stdin).
    #[arg(long)]
    pub password_stdin: bool,

    /// Read your current password from the first line of stdin (changing your own).
    #[arg(long, requires = "password_stdin")]
    pub current_password_stdin: bool,
}

pub async fn run(ctx: &Context, args: PasswdArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let who = ctx.principal();
    // Fail on an unknown user before asking for a password.
    plane.get_user(&who, &args.name).await?;
    let me = plane.whoami(&who).await?;
    let own = me.user_name() == Some(args.name.as_str());
    let change = if args.current_password_stdin {
        let mut lines =
            password::read_stdin(&["--current-password-stdin", "--password-stdin"])?.into_iter();
        let (Some(current), Some(new)) = (lines.next(), lines.next()) else {
            return Err(CliError::usage(
                "stdin needs two lines: current, then new password",
            ));
        };
        PasswordChange::new(new).with_current(Some(current))
    } else if own && args.password_stdin {
        return Err(
            CliError::usage("changing your own password needs your current password").with_hint(
                "give it on the first line of stdin and the new one on the second, with \
             --current-password-stdin",
            ),
        );
    } else {
        let current = if own {
            Some(password::ask_terminal(&Ask {
                prompt: &format!("Current password for {}: ", args.name),
                confirm: false,
            })?)
        } else {
            None
        };
        let new = password::read(
            args.password_stdin,
            &Ask {
                prompt: &format!("New password for {}: ", args.name),
                confirm: true,
            },
        )?;
        PasswordChange::new(new).with_current(current)
    };
    let user = plane.set_password(&who, &args.name, change).await?;
    ctx.out().status(if own {
        format!(
            "Changed your password, {}; your other tokens are revoked (the one in use is kept).",
            user.name
        )
    } else {
        format!(
            "Set the password of {0}; {0}'s tokens are revoked.",
            user.name
        )
    });
    ctx.out().result(&user)
}
