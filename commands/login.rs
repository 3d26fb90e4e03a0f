//! `imx login` (against `--server URL` or the current context): exchange a user name and password for a token, and keep it.

use imx::auth::Secret;
use imx::config::credentials::{Credentials, Location};

use imx::control::ControlPlane;

use super::context::Context;
use super::error::CliError;
use super::password::{self, Ask};

/// Log in to a control plane: asks for the password (without echo; or --password-stdin), gets
/// a token valid for 30 days (less if the server's --max-token-ttl is shorter), and stores it
/// in the OS keyring — or, where there is none (headless Linux), in
/// ~/.config/imx/credentials.toml (mode 0600) with a warning.
/// `IMX_KEYRING=off` skips the keyring; `IMX_TOKEN` overrides any stored token.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx login --server https://imx.example.com:8443 --user alice
  pass show imx/alice | imx login --server https://imx.example.com:8443 -u alice --password-stdin
  imx context use prod && imx login --no-insecure-storage")]
pub struct LoginArgs {
    /// User name [default: your OS user name].
    #[arg(short, long)]
    pub user: Option<String>,

    /// Read the password from stdin (first line).
    #[arg(long)]
    pub password_stdin: bool,

    /// Fail rather than store the token in a file when no OS keyring is available.
    #[arg(long)]
    pub no_insecure_storage: bool,
}

pub async fn run(ctx: &Context, args: LoginArgs) -> Result<(), CliError> {
    let (server, ca) = ctx.server("login")?;
    let plane = ctx.remote(&server, ca.as_deref(), None)?;
    let user = args.user.unwrap_or_else(imx::config::os_user);
    let prompt = format!("Password for {user} at {server}: ");
    let pw: Secret = password::read(
        args.password_stdin,
        &Ask {
            prompt: &prompt,
            confirm: false,
        },
    )?;
    let issued = plane.login(&user, &pw, "local").await?;
    drop(pw);
    let creds = Credentials::system(!args.no_insecure_storage).with_env_token(None);
    let saved = match creds.save(&server, &issued.secret) {
        Ok(saved) => saved,
        Err(e) => {
            // Do not leave a live token behind that nobody holds.
            let _ = plane.logout(&issued.secret, "local").await;
            return Err(e.into());
        }
    };
    if let Some(w) = &saved.warning {
        ctx.out().warn(w);
    }
    let t = &issued.token;
    ctx.out().status(format!(
        "Logged in to {server} as {user} ({}); the token expires {} and is kept in {}.",
        t.role,
        t.expires_at.map_or_else(|| "never".into(), imx_time),
        match &saved.location {
            Location::Keyring => "the OS keyring".to_string(),
            other => other.to_string(),
        }
    ));
    Ok(())
}

fn imx_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}
