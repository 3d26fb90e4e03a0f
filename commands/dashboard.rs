//! `imx dashboard`: the live terminal dashboard (see `tui/`).

use std::io::IsTerminal;
use std::sync::Arc;

use imx::config::contexts::{Config, config_path};

use crate::tui::switch::{Connected, Connecting, Switcher};
use crate::tui::{self, ViewId};

use super::GlobalArgs;
use super::context::Context;
use super::error::CliError;
use super::output::{Format, Printer};

/// The view the dashboard opens on.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum StartView {
    Overview,
    Agents,
    Runs,
    Workflows,
    Audit,
    Schedules,
}

/// Watch agents, runs, workflows, the audit trail and schedules live; cancel, retry, drain and
/// start runs; pause, resume and trigger schedules.
///
/// Keys: ? help · : palette (:run ID, :wf NAME, :ctx NAME, :since 1h …) · / filter · enter open
/// · d describe · esc back · q quit.
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
        context_name: ctx.context_name()?,
        view: match args.view {
            StartView::Overview => ViewId::Overview,
            StartView::Agents => ViewId::Agents,
            StartView::Runs => ViewId::Runs,
            StartView::Workflows => ViewId::Workflows,
            StartView::Audit => ViewId::Audit,
            StartView::Schedules => ViewId::Schedules,
        },
        no_color: ctx.globals.no_color,
        mouse: !args.no_mouse,
    };
    let switcher = Arc::new(Contexts {
        globals: ctx.globals.clone(),
    });
    tui::run(plane, me, opts, Some(switcher))
        .await
        .map_err(|e| CliError::other(format!("dashboard: {e}")))
}

/// `:ctx NAME` in the dashboard: the contexts of the config file, each opened as `--context
/// NAME` would open it (the `--store`/`--server` the dashboard started with do not apply).
struct Contexts {
    globals: GlobalArgs,
}

impl Switcher for Contexts {
    fn names(&self) -> Vec<String> {
        Config::load(&config_path())
            .map(|c| c.contexts.into_keys().collect())
            .unwrap_or_default()
    }

    fn connect(&self, name: &str) -> Connecting {
        let mut globals = self.globals.clone();
        globals.context = Some(name.to_string());
        globals.store = None;
        globals.server = None;
        Box::pin(async move {
            let why = |e: CliError| match &e.hint {
                Some(h) => format!("{e} ({h})"),
                None => e.to_string(),
            };
            // Opening a store reads files (and may run migrations): off the async threads.
            let opened = tokio::task::spawn_blocking(move || {
                // Quiet: nothing may be printed over the dashboard.
                let ctx = Context::new(globals, Printer::new(Format::Table, true, 0, true));
                ctx.plane().map(|p| (p, ctx.principal()))
            })
            .await
            .map_err(|e| e.to_string())?;
            let (plane, owner) = opened.map_err(why)?;
            let who = plane
                .whoami(&owner)
                .await
                .map_err(|e| why(CliError::from(e)))?;
            let location = plane.location();
            Ok(Connected {
                plane,
                who,
                location,
            })
        })
    }
}
