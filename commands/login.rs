//! `imx login` (against `--server URL` or the current context): exchange a user name and
//! password (or a token from stdin) for a kept token. Several users may be logged in to one
//! server; the last login is the active one (`imx auth switch` changes it).

use imx::auth::Secret;
use imx::config::credentials::{Credentials, Location};
use imx::config::logins::{Logins, logins_path};

use imx::control::ControlPlane;

use super::context::Context;
use super::error::CliError;
use super::password::{self, Ask};

/// Log in to a control plane: asks for the password (without echo; or --password-stdin), gets
/// a token valid for 30 days (less if the server's --max-token-ttl is shorter), and stores it
/// in the OS keyring — or, where there is none (headless Linux), in
/// ~/.config/imx/credentials.toml (mode 0600) with a warning. With --with-token, keeps a token
/// read from stdin instead (e.g. the one `imx init --admin` printed).
/// Logging in as another user keeps the earlier logins: `imx auth switch` goes back.
/// `IMX_KEYRING=off` skips the keyring; `IMX_TOKEN` overrides any stored token.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx login --server https://imx.example.com:8443 --user alice
  pass show imx/alice | imx login --server https://imx.example.com:8443 -u alice --password-stdin
  imx init --admin root > root.token           # a bootstrap admin has a token, no password
  imx login --server https://imx.example.com:8443 --with-token < root.token
  imx context use prod && imx login --no-insecure-storage")]
pub struct LoginArgs {
    /// User name [default: your OS user name].
    #[arg(short, long, conflicts_with = "with_token")]
    pub user: Option<String>,

    /// Read the password from stdin (first line).
    #[arg(long, conflicts_with = "with_token")]
    pub password_stdin: bool,

    /// Read an API token (imx_...) from stdin and keep it, instead of a password.
    #[arg(long)]
    pub with_token: bool,

    /// Fail rather than store the token in a file when no OS keyring is available.
    #[arg(long)]
    pub no_insecure_storage: bool,
}

pub async fn run(ctx: &Context, args: LoginArgs) -> Result<(), CliError> {
    let (server, ca) = ctx.server("login")?;
    let plane = ctx.remote(&server, ca.as_deref(), None)?;
    let (user, token, role, expires_at) = if args.with_token {
        let token = password::read_stdin(&["--with-token"])?
            .into_iter()
            .next()
            .ok_or_else(|| CliError::usage("--with-token: stdin was empty"))?;
        let checker = ctx.remote(&server, ca.as_deref(), Some(&token))?;
        let me = checker.whoami_token().await?;
        let user = me
            .principal
            .user_name()
            .map_or_else(|| me.principal.name.clone(), str::to_string);
        (user, token, me.principal.role, me.token_expires_at)
    } else {
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
        (
            user,
            issued.secret,
            issued.token.role,
            issued.token.expires_at,
        )
    };
    let creds = Credentials::system(!args.no_insecure_storage).with_env_token(None);
    let saved = match creds.save(&Logins::key(&server, &user), &token) {
        Ok(saved) => saved,
        Err(e) => {
            // Do not leave a live token behind that nobody holds (one we made ourselves).
            if !args.with_token {
                let _ = plane.logout(&token, "local").await;
            }
            return Err(e.into());
        }
    };
    // A token an older imx kept under the bare URL would only linger: this login replaces it.
    let _ = creds.remove(&server);
    let path = logins_path();
    let mut logins = Logins::load(&path)?;
    let others: Vec<String> = logins
        .users(&server)
        .iter()
        .filter(|u| **u != user)
        .cloned()
        .collect();
    logins.add(&server, &user);
    logins.save(&path)?;
    if let Some(w) = &saved.warning {
        ctx.out().warn(w);
    }
    ctx.out().status(format!(
        "Logged in to {server} as {user} ({role}); the token expires {} and is kept in {}.",
        expires_at.map_or_else(|| "never".into(), imx_time),
        match &saved.location {
            Location::Keyring => "the OS keyring".to_string(),
            other => other.to_string(),
        }
    ));
    if !others.is_empty() {
        ctx.out().hint(format!(
            "also logged in as {}; switch with `imx auth switch USER`",
            others.join(", ")
        ));
    }
    if std::env::var_os(imx::config::credentials::TOKEN_ENV).is_some() {
        ctx.out()
            .warn("IMX_TOKEN is set and overrides this login: unset it to use the login");
    }
    Ok(())
}

fn imx_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}
