//! `imx dashboard`: the live terminal dashboard (see `tui/`).

use std::io::IsTerminal;

use crate::tui::{self, ViewId};

use super::context::Context;
use super::error::CliError;

/// The view the dashboard opens on.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum StartView {
    Overview,
    Agents,
    Runs,
    Workflows,
    Audit,
}

/// Watch agents, runs, workflows and the audit trail live; cancel, retry, drain and start runs.
///
/// Keys: ? help · : jump to a view · / filter · enter open · esc back · q quit.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  imx dashboard\n  imx dashboard --view runs\n  NO_COLOR=1 imx dashboard"
)]
pub struct DashboardArgs {
    /// The view to open on.
    #[arg(long, value_enum, default_value_t = StartView::Overview)]
    view: StartView,

    /// Do not capture the mouse (keeps the terminal's own text selection).
    #[arg(long)]
    no_mouse: bool,
}

pub async fn run(ctx: &Context, args: DashboardArgs) -> Result<(), CliError> {
    if !(std::io::stdout().is_terminal() && std::io::stdin().is_terminal()) {
        return Err(CliError::usage("the dashboard needs a terminal")
            .with_hint("run it in an interactive shell; for scripts use `imx status` or `imx run list -o json`"));
    }
    let plane = ctx.plane()?;
    // Who the control plane takes us to be (on a server: the token's user and role), so the
    // header and the allowed actions are right.
    let me = plane.whoami(&ctx.principal()).await?;
    let opts = tui::Options {
        context: plane.location(),
        view: match args.view {
            StartView::Overview => ViewId::Overview,
            StartView::Agents => ViewId::Agents,
            StartView::Runs => ViewId::Runs,
            StartView::Workflows => ViewId::Workflows,
            StartView::Audit => ViewId::Audit,
        },
        no_color: ctx.globals.no_color,
        mouse: !args.no_mouse,
    };
    tui::run(plane, me, opts)
        .await
        .map_err(|e| CliError::other(format!("dashboard: {e}")))
}
