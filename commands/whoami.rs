//! `imx whoami`: who the control plane takes you to be.

use imx::auth::Principal;

use super::context::Context;
use super::error::CliError;
use super::output::{Cells, Detail};

/// Show who you act as and with which role: on a local store, its owner (`local:<os-user>`,
/// admin); on a server (--server or a context), the user or token `imx login` (or IMX_TOKEN)
/// gave you.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx whoami
  imx whoami --server https://imx.example.com:8443
  imx whoami -o json")]
pub struct WhoamiArgs {}

pub async fn run(ctx: &Context, _args: WhoamiArgs) -> Result<(), CliError> {
    let me = ctx.plane()?.whoami(&ctx.principal()).await?;
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
