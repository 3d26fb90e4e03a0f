//! `imx logout --server URL`: revoke the stored token and forget it.

use imx::config::credentials::Credentials;

use super::context::Context;
use super::error::CliError;

/// Log out of a control plane: revoke the token `imx login` stored for it (when the control
/// plane can be reached) and remove it from the OS keyring and the fallback file.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  imx logout --server https://imx.example.com:8443")]
pub struct LogoutArgs {
    /// The control plane's URL.
    #[arg(long, value_name = "URL")]
    pub server: String,
}

pub async fn run(ctx: &Context, args: LogoutArgs) -> Result<(), CliError> {
    let server = super::context::server_key(&args.server)?;
    // Stored credentials only: a token from IMX_TOKEN is not ours to revoke.
    let creds = Credentials::system(true).with_env_token(None);
    let Some((token, _)) = creds.load(&server)? else {
        ctx.out()
            .status(format!("Not logged in to {server}; nothing to do."));
        return Ok(());
    };
    match ctx.server_plane(&server) {
        Ok(plane) => {
            if let Err(e) = plane.logout(&token, "local").await {
                ctx.out()
                    .warn(format!("the token was not revoked on {server}: {e}"));
            }
        }
        Err(e) => ctx.out().warn(format!(
            "the token was not revoked on {server}: {}",
            e.message
        )),
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
