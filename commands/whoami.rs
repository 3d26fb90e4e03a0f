//! `imx whoami`: who the control plane takes you to be (the same as `imx auth status`).

use super::auth::status;
use super::context::Context;
use super::error::CliError;

/// Show who you act as, and where: the context, the server (or local store), your user and
/// role, when your token expires and where it is kept. On a local store you are its owner
/// (`local:<os-user>`, admin); on a server, the user or token `imx login` (or IMX_TOKEN) gave
/// you. The same as `imx auth status`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx whoami
  imx whoami --server https://imx.example.com:8443
  imx whoami -o json")]
pub struct WhoamiArgs {}

pub async fn run(ctx: &Context, _args: WhoamiArgs) -> Result<(), CliError> {
    let status = status::status(ctx).await?;
    ctx.out().detail(&status)
}
