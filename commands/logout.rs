//! `imx logout` (against `--server URL` or the current context): revoke the stored token and forget it.

use imx::config::credentials::Credentials;

use imx::control::ControlPlane;

use super::context::Context;
use super::error::CliError;

/// Log out of a control plane: revoke the token `imx login` stored for it (when the control
/// plane can be reached) and remove it from the OS keyring and the fallback file.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  imx logout --server https://imx.example.com:8443\n  imx --context prod logout"
)]
pub struct LogoutArgs {}

pub async fn run(ctx: &Context, _args: LogoutArgs) -> Result<(), CliError> {
    let (server, ca) = ctx.server("logout")?;
    // Stored credentials only: a token from IMX_TOKEN is not ours to revoke.
    let creds = Credentials::system(true).with_env_token(None);
    let Some((token, _)) = creds.load(&server)? else {
        ctx.out()
            .status(format!("Not logged in to {server}; nothing to do."));
        return Ok(());
    };
    let revoked = match ctx.remote(&server, ca.as_deref(), None) {
        Ok(plane) => plane.logout(&token, "local").await.map_err(CliError::from),
        Err(e) => Err(e),
    };
    if let Err(e) = revoked {
        ctx.out().warn(format!(
            "the token was not revoked on {server}: {}",
            e.message
        ));
    }
    let removed = creds.remove(&server)?;
    let places: Vec<String> = removed.iter().map(ToString::to_string).collect();
    ctx.out().status(format!(
        "Logged out of {server} (removed the token from {}).",
        places.join(" and ")
    ));
    if std::env::var_os(imx::config::credentials::TOKEN_ENV).is_some() {
        ctx.out()
            .warn("IMX_TOKEN is set and still applies: unset it to stop using that token");
    }
    Ok(())
}
