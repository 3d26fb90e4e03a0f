//! `imx logout` (against `--server URL` or the current context): revoke the active login's
//! token (or `--user`'s) and forget it; another login to the server, if any, becomes active.

use imx::config::credentials::Credentials;
use imx::config::logins::{Logins, logins_path};

use imx::control::ControlPlane;

use super::context::Context;
use super::error::CliError;

/// Log out of a control plane: revoke the token `imx login` stored for it (when the control
/// plane can be reached) and remove it from the OS keyring and the fallback file. With several
/// logins to the server, logs out the active one (or --user's) and another becomes active.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx logout --server https://imx.example.com:8443
  imx --context prod logout
  imx logout --server https://imx.example.com:8443 --user admin   # end one login of several")]
pub struct LogoutArgs {
    /// The login to end [default: the active one].
    #[arg(short, long)]
    pub user: Option<String>,
}

pub async fn run(ctx: &Context, args: LogoutArgs) -> Result<(), CliError> {
    let (server, ca) = ctx.server("logout")?;
    // Stored credentials only: a token from IMX_TOKEN is not ours to revoke.
    let creds = Credentials::system(true).with_env_token(None);
    let path = logins_path();
    let mut logins = Logins::load(&path)?;
    let user = args
        .user
        .clone()
        .or_else(|| logins.active(&server).map(str::to_string));
    let key = match &user {
        Some(u) => Logins::key(&server, u),
        None => server.clone(), // a token an older imx kept under the bare URL
    };
    let Some((token, _)) = creds.load(&key)? else {
        let who = user.map(|u| format!(" as {u}")).unwrap_or_default();
        ctx.out()
            .status(format!("Not logged in to {server}{who}; nothing to do."));
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
    let removed = creds.remove(&key)?;
    let places: Vec<String> = removed.iter().map(ToString::to_string).collect();
    let who = user
        .as_ref()
        .map(|u| format!(" as {u}"))
        .unwrap_or_default();
    ctx.out().status(format!(
        "Logged out of {server}{who} (removed the token from {}).",
        places.join(" and ")
    ));
    if let Some(u) = &user {
        if let Some(next) = logins.remove(&server, u) {
            ctx.out()
                .status(format!("{next} is now the active login to {server}."));
        }
        logins.save(&path)?;
    }
    if std::env::var_os(imx::config::credentials::TOKEN_ENV).is_some() {
        ctx.out()
            .warn("IMX_TOKEN is set and still applies: unset it to stop using that token");
    }
    Ok(())
}
