//! The loop: terminal events and loader data come in as [`Msg`]s; each becomes an [`Action`];
//! `update` changes the state; the screen is redrawn from the state once the queue is empty.
//! Generic over the ratatui backend, so tests and the benchmark drive it with `TestBackend`.

use std::io;
use std::time::Duration;

use imx::auth::Principal;
use imx::control::Plane;
use imx::model::{now_ms, short_id};
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::sync::{mpsc, watch};

use super::action::{Action, Data, Effect, Mutation};
use super::app::App;
use super::keys;
use super::loader::{self, Loader};
use super::save;
use super::switch::{self, Connected, Switch};
use super::theme::Theme;
use super::views;

/// What arrives at the loop.
#[derive(Debug)]
pub enum Msg {
    Event(crossterm::event::Event),
    Action(Action),
    /// An answer read through connection number `.0` (dropped if the dashboard has switched
    /// context since).
    Read(u64, Action),
    /// `:ctx NAME` connected: read that context from now on.
    Switched(String, Box<Connected>),
    /// The terminal cannot be read any more.
    InputFailed(String),
}

/// How often the clock moves on screen (ages, durations) without other changes.
const TICK: Duration = Duration::from_secs(1);

/// Run until the user quits; returns the final state.
#[allow(dead_code)] // The benchmark's entry (it has no contexts to switch to).
pub async fn run<B: Backend>(
    terminal: &mut Terminal<B>,
    app: App,
    plane: Plane,
    theme: Theme,
    tx: mpsc::UnboundedSender<Msg>,
    rx: mpsc::UnboundedReceiver<Msg>,
) -> io::Result<App>
where
    B::Error: std::error::Error + Send + Sync + 'static,
{
    run_with(terminal, app, plane, None, theme, tx, rx).await
}

/// [`run`], able to switch to the contexts `switcher` knows (`:ctx NAME`).
pub async fn run_with<B: Backend>(
    terminal: &mut Terminal<B>,
    mut app: App,
    mut plane: Plane,
    switcher: Option<Switch>,
    theme: Theme,
    tx: mpsc::UnboundedSender<Msg>,
    mut rx: mpsc::UnboundedReceiver<Msg>,
) -> io::Result<App>
where
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let mut who = app.who.clone();
    // Which connection the loader reads through; bumped by each switch.
    let mut connection = 0;
    let (mut watch_tx, watch_rx) = watch::channel(app.watch());
    let mut loader = tokio::spawn(loader::run(
        Loader::new(plane.clone(), who.clone()),
        watch_rx,
        tx.clone(),
        connection,
    ));
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut failure = None;
    let mut dirty = true;
    while !app.quit {
        if dirty {
            terminal
                .draw(|f| views::draw(f, &app, theme))
                .map_err(io::Error::other)?;
            dirty = false;
        }
        let first = tokio::select! {
            msg = rx.recv() => msg,
            _ = tick.tick() => Some(Msg::Action(Action::Tick(now_ms()))),
        };
        let Some(first) = first else { break };
        // Take everything already queued before drawing again.
        let mut next = Some(first);
        while let Some(msg) = next {
            let action = match msg {
                Msg::Event(e) => keys::action_for(&app, &e),
                Msg::Action(a) => Some(a),
                Msg::Read(c, a) => (c == connection).then_some(a),
                Msg::Switched(name, to) => {
                    loader.abort();
                    connection += 1;
                    plane = to.plane;
                    who = to.who.clone();
                    let update = app.update(Action::Switched {
                        name: Some(name),
                        who: to.who,
                        location: to.location,
                    });
                    let watch = update.into_iter().find_map(|e| match e {
                        Effect::Watch(w) => Some(*w),
                        _ => None,
                    });
                    let (wtx, wrx) = watch::channel(watch.unwrap_or_else(|| app.watch()));
                    watch_tx = wtx;
                    loader = tokio::spawn(loader::run(
                        Loader::new(plane.clone(), who.clone()),
                        wrx,
                        tx.clone(),
                        connection,
                    ));
                    dirty = true;
                    None
                }
                Msg::InputFailed(e) => {
                    failure = Some(e);
                    Some(Action::Quit)
                }
            };
            if let Some(action) = action {
                if let Ok(size) = terminal.size() {
                    app.cols = size.width;
                    app.rows = size.height;
                }
                for effect in app.update(action) {
                    match effect {
                        Effect::Watch(w) => {
                            let _ = watch_tx.send(*w);
                        }
                        Effect::Copy(text) => {
                            use std::io::Write;
                            let mut out = io::stdout();
                            let _ = out.write_all(super::clipboard::osc52(&text).as_bytes());
                            let _ = out.flush();
                        }
                        Effect::SaveLog { run, step, file } => {
                            let (plane, who, tx) = (plane.clone(), who.clone(), tx.clone());
                            tokio::spawn(async move {
                                let (message, failed) =
                                    save::save(&plane, &who, &run, step.as_deref(), &file).await;
                                let _ = tx.send(Msg::Action(Action::Done { message, failed }));
                            });
                        }
                        Effect::Candidates { tab, run_prefix } => {
                            let (plane, who, tx) = (plane.clone(), who.clone(), tx.clone());
                            let switcher = switcher.clone();
                            tokio::spawn(async move {
                                let candidates =
                                    switch::candidates(&plane, &who, switcher.as_ref(), run_prefix)
                                        .await;
                                let data = Data::Candidates { tab, candidates };
                                let data = Action::Data(Box::new(data));
                                let _ = tx.send(Msg::Read(connection, data));
                            });
                        }
                        Effect::ResolveRun(prefix) => {
                            let (plane, who, tx) = (plane.clone(), who.clone(), tx.clone());
                            tokio::spawn(async move {
                                let action = match switch::resolve_run(&plane, &who, &prefix).await
                                {
                                    Ok(id) => Action::OpenRun(id),
                                    Err(message) => Action::Done {
                                        message,
                                        failed: true,
                                    },
                                };
                                let _ = tx.send(Msg::Read(connection, action));
                            });
                        }
                        Effect::SwitchContext(name) => {
                            let tx = tx.clone();
                            let from = app.context_name.clone();
                            match switcher.clone() {
                                Some(s) => {
                                    tokio::spawn(async move {
                                        let msg = match s.connect(&name).await {
                                            Ok(to) => Msg::Switched(name, Box::new(to)),
                                            Err(why) => Msg::Action(Action::Done {
                                                message: cannot_switch(&name, &why, from),
                                                failed: true,
                                            }),
                                        };
                                        let _ = tx.send(msg);
                                    });
                                }
                                None => {
                                    let why = "this dashboard has no contexts to switch to";
                                    let _ = tx.send(Msg::Action(Action::Done {
                                        message: cannot_switch(&name, why, from),
                                        failed: true,
                                    }));
                                }
                            }
                        }
                        Effect::Mutate(m) => {
                            let (plane, who, tx) = (plane.clone(), who.clone(), tx.clone());
                            tokio::spawn(async move {
                                let done = mutate(&plane, &who, m).await;
                                let _ = tx.send(Msg::Action(done));
                            });
                        }
                    }
                }
                dirty = true;
            }
            next = rx.try_recv().ok();
        }
    }
    loader.abort();
    match failure {
        Some(e) => Err(io::Error::other(format!("cannot read the terminal: {e}"))),
        None => Ok(app),
    }
}

/// Why `:ctx NAME` did not switch, and where the dashboard still is.
fn cannot_switch(name: &str, why: &str, from: Option<String>) -> String {
    let still = from.map_or_else(|| "the same store".to_string(), |f| format!("context {f}"));
    format!("Cannot switch to {name}: {why}. Still on {still}.")
}

/// Carry out a confirmed change through the control plane (which authorizes and audits it).
pub async fn mutate(plane: &Plane, who: &Principal, m: Mutation) -> Action {
    let result = match &m {
        Mutation::CancelRun(id) => plane
            .cancel_run(who, id)
            .await
            .map(|r| format!("Cancelled run {}.", short_id(&r.id))),
        Mutation::RetryRun(id) => plane
            .retry_run(who, id, None)
            .await
            .map(|r| format!("Retrying run {}.", short_id(&r.id))),
        Mutation::ApproveStep { run, step } => plane
            .decide_approval(who, run, step, imx::model::ApprovalDecision::Approved, None)
            .await
            .map(|r| format!("Approved step {step} of run {}.", short_id(&r.id))),
        Mutation::DrainAgent(a) => plane
            .drain_agent(who, a)
            .await
            .map(|a| format!("Agent {} is draining.", a.name)),
        Mutation::ResumeAgent(a) => plane
            .resume_agent(who, a)
            .await
            .map(|a| format!("Agent {} resumed.", a.name)),
        Mutation::RemoveAgent(a) => plane
            .remove_agent(who, a, false)
            .await
            .map(|a| format!("Removed agent {}.", a.name)),
        Mutation::StartRun { workflow, params } => plane
            .start_run(
                who,
                imx::control::StartRun {
                    workflow: workflow.clone(),
                    params: params.clone(),
                    timeout_ms: None,
                    labels: Default::default(),
                },
            )
            .await
            .map(|r| format!("Started run {} of {}.", short_id(&r.id), r.workflow)),
        Mutation::PauseSchedule(s) => plane
            .pause_schedule(who, s, None)
            .await
            .map(|s| format!("Paused schedule {}.", s.name)),
        Mutation::ResumeSchedule(s) => plane
            .resume_schedule(who, s)
            .await
            .map(|s| format!("Resumed schedule {}.", s.name)),
        Mutation::TriggerSchedule(s) => plane
            .trigger_schedule(who, s)
            .await
            .map(|r| format!("Triggered schedule {s}: run {}.", short_id(&r.id))),
    };
    match result {
        Ok(message) => Action::Done {
            message,
            failed: false,
        },
        Err(e) => Action::Done {
            message: format!("Failed: {e}"),
            failed: true,
        },
    }
}

#[cfg(test)]
#[path = "event_loop_tests.rs"]
mod tests;
