//! `imx token create [--name N] [--user U | --role R] [--expires D]`.

use imx::auth::Role;
use imx::model::NewToken;

use super::super::context::Context;
use super::super::error::CliError;
use super::super::output::Format;
use super::super::parse;
use super::super::user::parse_role;

/// Create an API token. It acts as a user (--user, with that user's current role) or has a role
/// of its own (--role, e.g. for agents and CI). The secret (`imx_...`) goes to stdout once;
/// only its hash is stored, so it cannot be shown again.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx token create --user alice --expires 7d
  imx token create --name ci --role operator --expires 90d
  imx token create --name build-agents --role agent --expires never
  export IMX_TOKEN=$(imx token create --user alice -q)")]
pub struct CreateArgs {
    /// A name to revoke it by [default: generated].
    #[arg(long)]
    pub name: Option<String>,

    /// The user the token acts as.
    #[arg(long, conflicts_with = "role")]
    pub user: Option<String>,

    /// The token's own role: admin, operator, viewer or agent.
    #[arg(long, value_parser = parse_role)]
    pub role: Option<Role>,

    /// Lifetime, e.g. 12h, 30d, 1y, or `never`.
    #[arg(long, default_value = "90d", value_parser = lifetime)]
    pub expires: Lifetime,
}

/// A token lifetime: a duration or never.
#[derive(Debug, Clone, Copy)]
pub struct Lifetime(pub Option<u64>);

fn lifetime(s: &str) -> Result<Lifetime, String> {
    if s.trim().eq_ignore_ascii_case("never") {
        return Ok(Lifetime(None));
    }
    let d = parse::duration(s).map_err(|e| format!("{e}, or `never`"))?;
    if d.is_zero() {
        return Err("a token's lifetime must be more than zero".into());
    }
    Ok(Lifetime(Some(parse::millis(d))))
}

pub async fn run(ctx: &Context, args: CreateArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let issued = plane
        .create_token(
            &ctx.principal(),
            NewToken {
                name: args.name,
                user: args.user,
                role: args.role,
                expires_in_ms: args.expires.0,
            },
        )
        .await?;
    super::print_secret(ctx, &issued)?;
    if matches!(ctx.out().format(), Format::Table | Format::Wide) {
        let t = &issued.token;
        let acts = match &t.user {
            Some(u) => format!("acts as user {u} ({})", t.role),
            None => format!("has the {} role", t.role),
        };
        ctx.out().status(format!(
            "Created token {} (id {}); it {acts}.",
            t.name, t.id
        ));
    }
    Ok(())
}
