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
/// only its hash is stored, so it cannot be shown again. Tokens always expire: at most after
/// the control plane's longest token lifetime (90 days unless `imx server --max-token-ttl`, or
/// IMX_MAX_TOKEN_TTL for a local store, says otherwise); a longer --expires is refused.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx token create --user alice --expires 7d
  imx token create --name ci --role operator --expires 30d
  imx token create --name build-agents --role agent
  export IMX_TOKEN=$(imx token create --user alice -q)")]
pub struct CreateArgs {
    /// A name to revoke it by [default: generated].
    #[arg(long)]
    pub name: Option<String>,

    /// The user the token acts as.
    #[arg(long, conflicts_with = "role")]
    pub user: Option<String>,

    /// The token's own role: admin, operator, viewer or agent.
    #[arg(long, value_parser = parse_role, add = clap_complete::ArgValueCandidates::new(crate::commands::candidates::roles))]
    pub role: Option<Role>,

    /// Lifetime, e.g. 12h, 7d, 30d [default: the longest allowed, 90d unless configured]
    #[arg(long, value_parser = lifetime, value_name = "DURATION")]
    pub expires: Option<u64>,
}

/// A token lifetime in milliseconds.
fn lifetime(s: &str) -> Result<u64, String> {
    if s.trim().eq_ignore_ascii_case("never") {
        return Err(
            "tokens always expire: give a lifetime such as 30d, at most the control \
                    plane's longest (90d unless imx server --max-token-ttl says otherwise)"
                .into(),
        );
    }
    let d = parse::duration(s)?;
    if d.is_zero() {
        return Err("a token's lifetime must be more than zero".into());
    }
    Ok(parse::millis(d))
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
                expires_in_ms: args.expires,
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
        let expires = t
            .expires_at
            .and_then(chrono::DateTime::from_timestamp_millis)
            .map(|at| format!("; it expires {}", at.format("%Y-%m-%d %H:%M UTC")))
            .unwrap_or_default();
        ctx.out().status(format!(
            "Created token {} (id {}); it {acts}{expires}.",
            t.name, t.id
        ));
    }
    Ok(())
}
