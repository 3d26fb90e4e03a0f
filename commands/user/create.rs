//! `imx user create NAME [--role R] [--password-stdin]`.

use imx::auth::Role;
use imx::model::NewUser;

use super::super::context::Context;
use super::super::error::CliError;
use super::super::password::{self, Ask};

/// Create a user. Without a password the user can only use tokens (`imx token create --user`);
/// with one they can also `imx login`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx user create alice --role operator
  printf '%s\\n' \"$PW\" | imx user create bob --role viewer --password-stdin
  imx user create ci-bot --role agent && imx token create --user ci-bot --expires 30d")]
pub struct CreateArgs {
    /// User name: letters, digits, '.', '_' or '-'.
    pub name: String,

    /// admin (everything), operator (workflows, runs, agents), viewer (read only) or agent
    /// (register, claim, report).
    #[arg(long, default_value = "viewer", value_parser = parse_role, add = clap_complete::ArgValueCandidates::new(crate::commands::candidates::roles))]
    pub role: Role,

    /// Read a password from stdin (first line) and set it.
    #[arg(long)]
    pub password_stdin: bool,

    /// Ask for a password on the terminal (without echo) and set it.
    #[arg(long, conflicts_with = "password_stdin")]
    pub password: bool,
}

/// `--role` values.
pub fn parse_role(s: &str) -> Result<Role, String> {
    let all = Role::ALL.map(|r| (r.as_str(), r));
    super::super::parse::one_of("role", &s.trim().to_ascii_lowercase(), &all)
}

pub async fn run(ctx: &Context, args: CreateArgs) -> Result<(), CliError> {
    let password = if args.password_stdin || args.password {
        let prompt = format!("Password for {}: ", args.name);
        Some(password::read(
            args.password_stdin,
            &Ask {
                prompt: &prompt,
                confirm: true,
            },
        )?)
    } else {
        None
    };
    let plane = ctx.plane()?;
    let user = plane
        .create_user(
            &ctx.principal(),
            NewUser {
                name: args.name,
                role: args.role,
                password,
            },
        )
        .await?;
    ctx.out().status(format!(
        "Created user {} ({}){}.",
        user.name,
        user.role,
        if user.has_password {
            " with a password"
        } else {
            ""
        }
    ));
    if !user.has_password && !ctx.out().is_machine() {
        ctx.out().hint(format!(
            "give them a token with `imx token create --user {}` or a password with `imx user passwd {}`",
            user.name, user.name
        ));
    }
    ctx.out().result(&user)
}
