//! `imx token revoke NAME|ID`.

use super::super::context::Context;
use super::super::error::CliError;

/// Revoke a token by name, id or unique id prefix. It stops working at once; it stays in
/// `token list` as revoked.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  imx token revoke ci\n  imx token revoke 01HZX3")]
pub struct RevokeArgs {
    /// Token name, id or unique id prefix.
    pub token: String,
}

pub async fn run(ctx: &Context, args: RevokeArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let token = plane.revoke_token(&ctx.principal(), &args.token).await?;
    ctx.out()
        .status(format!("Revoked token {} (id {}).", token.name, token.id));
    ctx.out().result(&token)
}
