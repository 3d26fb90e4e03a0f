//! The live dashboard, `imx dashboard`: k9s-style views of agents, runs, workflows and the audit
//! trail over any [`ControlPlane`](imx::control::ControlPlane), local or remote.
//!
//! It is a state machine (STYLE.md): terminal events become [`action::Action`]s
//! ([`keys`]); [`app::App::update`] changes the state and returns effects; [`views::draw`]
//! renders the state and nothing else. Data comes from a background [`loader`] that follows
//! the change feed, so input never waits for the store.
//!
//! - [`action`]: actions, effects, what the loader watches and sends.
//! - [`app`]: the state and `update`.
//! - [`keys`]: the keymap and the help table.
//! - [`palette`]: the command palette's parser and completion; [`switch`]: `:ctx` and the
//!   completion's reads.
//! - [`views`]: one file per view, plus the header, footer and overlays.
//! - [`ansi`]: step output made safe for the screen (colours kept, other escapes dropped).
//! - [`window`]: paged windows onto long lists (runs, agents).
//! - [`loader`]: background refresh driven by the change feed.
//! - [`save`]: writing a run's log to a file (`ctrl-s`).
//! - [`event_loop`]: the loop, generic over the backend.
//! - [`terminal`]: raw mode, alternate screen, restore on exit/error/panic, the input thread.
//! - [`theme`], [`format`]: styles (NO_COLOR aware) and text.

pub mod action;
pub mod ansi;
pub mod app;
pub mod clipboard;
pub mod columns;
pub mod event_loop;
#[cfg(test)]
mod fixtures;
pub mod format;
pub mod keys;
pub mod loader;
pub mod palette;
pub mod save;
pub mod sort;
pub mod switch;
pub mod terminal;
pub mod theme;
pub mod views;
pub mod window;

use std::io;

use imx::auth::Principal;
use imx::control::Plane;
use imx::model::now_ms;
use tokio::sync::mpsc;

pub use action::ViewId;

/// How the dashboard starts.
#[derive(Debug, Clone)]
pub struct Options {
    /// Shown in the header: where the data comes from.
    pub context: String,
    /// The context's name, if the dashboard reads through one (shown in the header).
    pub context_name: Option<String>,
    pub view: ViewId,
    pub no_color: bool,
    /// Capture the mouse (wheel scrolls); off keeps the terminal's own text selection.
    pub mouse: bool,
}

/// Run the dashboard on this terminal until the user quits; `switcher` knows the contexts
/// `:ctx` can switch to.
pub async fn run(
    plane: Plane,
    who: Principal,
    opts: Options,
    switcher: Option<switch::Switch>,
) -> io::Result<()> {
    terminal::install_panic_hook();
    let (tx, rx) = mpsc::unbounded_channel();
    let (mut term, guard) = terminal::enter(tx.clone(), opts.mouse)?;
    let mut app = app::App::new(
        who,
        opts.context,
        opts.view,
        now_ms(),
        format::local_offset(),
    );
    app.context_name = opts.context_name;
    let theme = theme::Theme::from_env(opts.no_color);
    let result = event_loop::run_with(&mut term, app, plane, switcher, theme, tx, rx).await;
    drop(guard);
    result.map(|_| ())
}
