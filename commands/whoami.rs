//! `imx whoami`: who the control plane takes you to be.

use imx::auth::Principal;
use imx::config::credentials::Credentials;
use imx::error::Error;

use super::context::Context;
use super::error::CliError;
use super::output::{Cells, Detail};

/// Show who you act as and with which role: on a local store, its owner (`local:<os-user>`,
/// admin); with --server, the user or token `imx login` (or IMX_TOKEN) gave you.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx whoami
  imx whoami --server https://imx.example.com:8443
  imx whoami -o json")]
pub struct WhoamiArgs {
    /// Ask this control plane, with the token stored for it.
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
}

pub async fn run(ctx: &Context, args: WhoamiArgs) -> Result<(), CliError> {
    let me = match args.server {
        None => {
            let plane = ctx.plane()?;
            plane.whoami(&ctx.principal()).await?
        }
        Some(url) => {
            let server = super::context::server_key(&url)?;
            let creds = Credentials::system(true);
            let Some((token, from)) = creds.load(&server)? else {
                return Err(CliError::from(Error::Unauthenticated(format!(
                    "not logged in to {server}"
                ))));
            };
            ctx.out().verbose(format!("using the token from {from}"));
            let local = ctx.server_local(&server)?;
            let who = local.authenticate_token(&token, "local")?;
            let plane = ctx.server_plane(&server)?;
            plane.whoami(&who).await?
        }
    };
    if ctx.out().is_machine() {
        ctx.out().detail(&View(me))
    } else {
        ctx.out().line(&format!("{} ({})", me.name, me.role))
    }
}

#[derive(serde::Serialize)]
#[serde(transparent)]
struct View(Principal);

impl Detail for View {
    fn name(&self) -> String {
        self.0.name.clone()
    }

    fn fields(&self, _cx: &Cells) -> Vec<(&'static str, String)> {
        vec![
            ("Name", self.0.name.clone()),
            ("Role", self.0.role.to_string()),
            ("Source", self.0.source.clone()),
        ]
    }
}
