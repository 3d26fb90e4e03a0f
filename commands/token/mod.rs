//! `imx token ...`: create (the secret is shown once), list and revoke API tokens.

mod create;
mod list;
mod revoke;

use clap::Subcommand;
use imx::model::IssuedToken;

use super::context::Context;
use super::error::CliError;
use super::output::{Cells, Detail, Format};

/// The token commands.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token; its secret is printed once and never again.
    Create(create::CreateArgs),
    /// List tokens (never their secrets).
    List(list::ListArgs),
    /// Revoke a token: it stops working at once.
    Revoke(revoke::RevokeArgs),
}

pub async fn run(ctx: &Context, cmd: TokenCommand) -> Result<(), CliError> {
    match cmd {
        TokenCommand::Create(args) => create::run(ctx, args).await,
        TokenCommand::List(args) => list::run(ctx, args).await,
        TokenCommand::Revoke(args) => revoke::run(ctx, args).await,
    }
}

/// Print a new token's secret, once: the bare secret on stdout (or, with `-o json|yaml`, the
/// token with its `secret`), and a warning on stderr that it will not be shown again.
pub fn print_secret(ctx: &Context, issued: &IssuedToken) -> Result<(), CliError> {
    match ctx.out().format() {
        Format::Json | Format::Yaml => ctx.out().detail(&NewTokenView(issued.clone()))?,
        _ => ctx.out().line(issued.secret.expose())?,
    }
    ctx.out().warn(
        "this is the only time the token's secret is shown: store it now (a password manager, \
         or IMX_TOKEN for CI)",
    );
    Ok(())
}

/// A new token with its secret, for `-o json|yaml`.
#[derive(serde::Serialize)]
#[serde(transparent)]
struct NewTokenView(IssuedToken);

impl Detail for NewTokenView {
    fn name(&self) -> String {
        self.0.secret.expose().to_string()
    }

    fn fields(&self, cx: &Cells) -> Vec<(&'static str, String)> {
        let mut f = vec![("Secret", self.0.secret.expose().to_string())];
        f.extend(self.0.token.fields(cx));
        f
    }
}
