//! `imx auth status` (and `imx whoami`): the context, the control plane, who you act as, your
//! role, when your token expires and where it is kept.

use imx::auth::Role;
use imx::config::contexts::Target;
use imx::config::logins::{Logins, logins_path};
use serde::Serialize;

use super::super::context::{Context, stored_login};
use super::super::error::CliError;
use super::super::output::{Cells, Detail};

/// Show where commands go and who you are there: the context, the server (or local store),
/// your user and role, when your token expires and where it is kept (the OS keyring, the
/// 0600 file, or IMX_TOKEN), and your other logins to the same server.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx auth status
  imx auth status --server https://imx.example.com:8443
  imx --context prod auth status -o json")]
pub struct StatusArgs {}

/// What `auth status` shows (its JSON schema).
#[derive(Debug, Serialize)]
pub struct Status {
    /// The context in use, if any.
    pub context: Option<String>,
    /// The server URL (remote), or absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// The local store (local), or absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store: Option<String>,
    /// `local:<os-user>`, `user:<name>` or `token:<name>`.
    pub name: String,
    pub role: Role,
    /// Where the control plane sees the request come from.
    pub source: String,
    /// When the token expires (RFC 3339); absent locally and for tokens that never expire.
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "imx::model::time::rfc3339_opt"
    )]
    pub token_expires_at: Option<i64>,
    /// Where the token is kept: `keyring`, `file`, `env` (IMX_TOKEN); absent locally.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_kept_in: Option<String>,
    /// The fallback file's path when the token is kept there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_file: Option<String>,
    /// Other logins kept for this server (`imx auth switch USER`).
    pub other_logins: Vec<String>,
}

pub async fn run(ctx: &Context, _args: StatusArgs) -> Result<(), CliError> {
    let status = status(ctx).await?;
    ctx.out().detail(&status)
}

/// Gather the status (also what `imx whoami` prints).
pub async fn status(ctx: &Context) -> Result<Status, CliError> {
    use imx::config::credentials::Location;
    let context = ctx.context_name()?;
    match ctx.target()? {
        target @ (Target::Local { .. } | Target::Database { .. }) => {
            let plane = ctx.plane()?;
            let me = plane.whoami(&ctx.principal()).await?;
            let store = match target {
                Target::Local { store } => store.display().to_string(),
                // The plane says where without the password.
                _ => plane.location().trim_start_matches("local ").to_string(),
            };
            Ok(Status {
                context,
                server: None,
                store: Some(store),
                name: me.name,
                role: me.role,
                source: me.source,
                token_expires_at: None,
                token_kept_in: None,
                token_file: None,
                other_logins: Vec::new(),
            })
        }
        Target::Remote { .. } => {
            let (server, ca) = ctx.server("auth status")?;
            let login = stored_login(&server)?;
            let Some(login) = login else {
                return Err(CliError::from(imx::Error::Unauthenticated(format!(
                    "not logged in to {server}"
                )))
                .with_hint(format!(
                    "log in with `imx login --server {server}`, or set IMX_TOKEN"
                )));
            };
            let plane = ctx.remote(&server, ca.as_deref(), Some(&login.token))?;
            let me = plane.whoami_token().await?;
            let (kept, file) = match &login.location {
                Location::Env => ("env", None),
                Location::Keyring => ("keyring", None),
                Location::File(p) => ("file", Some(p.display().to_string())),
            };
            let logins = Logins::load(&logins_path())?;
            let other_logins = logins
                .users(&server)
                .iter()
                .filter(|u| Some(u.as_str()) != login.login.as_deref())
                .cloned()
                .collect();
            Ok(Status {
                context,
                server: Some(server),
                store: None,
                name: me.principal.name,
                role: me.principal.role,
                source: me.principal.source,
                token_expires_at: me.token_expires_at,
                token_kept_in: Some(kept.to_string()),
                token_file: file,
                other_logins,
            })
        }
    }
}

impl Detail for Status {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn fields(&self, cx: &Cells) -> Vec<(&'static str, String)> {
        let mut f = vec![(
            "Context",
            self.context
                .clone()
                .unwrap_or_else(|| "(none: --server/--store or the default store)".into()),
        )];
        if let Some(server) = &self.server {
            f.push(("Server", server.clone()));
        }
        if let Some(store) = &self.store {
            f.push(("Store", store.clone()));
        }
        f.push(("User", self.name.clone()));
        let role = if self.server.is_none() {
            format!("{} (the store's owner)", self.role)
        } else {
            self.role.to_string()
        };
        f.push(("Role", role));
        if self.server.is_some() {
            let expiry = match self.token_expires_at {
                Some(at) => format!("expires {} ({})", rfc(at), in_time(cx.now, at)),
                None => "never expires".into(),
            };
            f.push(("Token", expiry));
            let kept = match (self.token_kept_in.as_deref(), &self.token_file) {
                (Some("env"), _) => "IMX_TOKEN (it overrides stored logins)".to_string(),
                (Some("keyring"), _) => "the OS keyring".to_string(),
                (_, Some(file)) => format!("{file} (no OS keyring; mode 0600)"),
                _ => "-".to_string(),
            };
            f.push(("Kept in", kept));
            if !self.other_logins.is_empty() {
                f.push((
                    "Other logins",
                    format!("{} (imx auth switch USER)", self.other_logins.join(", ")),
                ));
            }
        } else {
            f.push((
                "Token",
                "none needed: a local store is opened by its owner".into(),
            ));
        }
        f
    }
}

fn rfc(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

/// "in 29 days" / "2 hours ago".
fn in_time(now: i64, at: i64) -> String {
    let d = super::super::output::duration((at - now).abs());
    if at >= now {
        format!("in {d}")
    } else {
        format!("{d} ago")
    }
}
