//! The keymap: terminal events → [`Action`]s (pure), and the list of every key that the help
//! overlay and the footer show. One table, so help cannot drift from behaviour.

use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEventKind};
use imx::auth::Permission;

use super::action::{Action, Edit, ViewId};
use super::app::{App, Overlay};

/// Where a key works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Everywhere,
    View(ViewId),
}

/// One line of help.
#[derive(Debug, Clone, Copy)]
pub struct KeyHelp {
    pub keys: &'static str,
    pub what: &'static str,
    pub scope: Scope,
    /// The permission the action needs (shown as not allowed otherwise).
    pub needs: Option<Permission>,
}

const fn k(keys: &'static str, what: &'static str, scope: Scope) -> KeyHelp {
    KeyHelp {
        keys,
        what,
        scope,
        needs: None,
    }
}

const fn m(keys: &'static str, what: &'static str, view: ViewId, p: Permission) -> KeyHelp {
    KeyHelp {
        keys,
        what,
        scope: Scope::View(view),
        needs: Some(p),
    }
}

use Scope::{Everywhere as E, View as V};

/// Every key the dashboard understands.
pub const KEYS: &[KeyHelp] = &[
    k("?", "help (this list)", E),
    k("q  ctrl-c", "quit", E),
    k("esc", "close, clear the filter, or go back", E),
    k(":", "command palette (tab completes)", E),
    k(":run ID", "open a run (any unique id prefix)", E),
    k(":agent NAME", "the Agents view on that agent", E),
    k(":wf NAME", "the workflow's runs", E),
    k(":label K=V", "the runs with that label (K=V,K=V: all)", E),
    k(
        ":ctx NAME",
        "switch to another context (:ctx lists them)",
        E,
    ),
    k(
        ":since 1h",
        "Runs and Audit: the last hour (:since clears)",
        E,
    ),
    k(":runs :schedules …", "jump to a view (:q quits)", E),
    k("/", "filter the view", E),
    k(
        "1-6",
        "overview, agents, runs, workflows, audit, schedules",
        E,
    ),
    k(
        "tab  shift-tab",
        "next pane (run detail) or next/previous view",
        E,
    ),
    k("[  ]", "previous / next view", E),
    k("↑↓  j k", "move", E),
    k("pgup pgdn  ctrl-b ctrl-f", "move a page", E),
    k("g G  home end", "first / last", E),
    k("enter", "open", E),
    k("y", "copy the selected object's full id (OSC 52)", E),
    k("d", "describe the selected object: every field", E),
    k(
        "Y",
        "the selected object as YAML (in describe: fields / YAML)",
        E,
    ),
    k("<  >", "tables: sort by the column to the left / right", E),
    k(
        "R",
        "tables: reverse the sort (sorts the loaded page; Runs by AGE: all runs)",
        E,
    ),
    k("C", "tables: show / hide columns (space toggles)", E),
    k("enter", "open the selected failure", V(ViewId::Overview)),
    k("enter", "its current and recent steps", V(ViewId::Agents)),
    k("enter", "the step's run, on its log", V(ViewId::AgentSteps)),
    m(
        "D",
        "drain the agent",
        ViewId::Agents,
        Permission::ManageAgents,
    ),
    m(
        "r",
        "resume the agent",
        ViewId::Agents,
        Permission::ManageAgents,
    ),
    m(
        "x",
        "remove the agent",
        ViewId::Agents,
        Permission::ManageAgents,
    ),
    k("s", "next status filter", V(ViewId::Runs)),
    k("o", "newest / oldest first", V(ViewId::Runs)),
    k(
        "/",
        "status:S|waiting wf:NAME sched:NAME K=V (label) text (id, workflow, user)",
        V(ViewId::Runs),
    ),
    m(
        "c",
        "cancel the run",
        ViewId::Runs,
        Permission::ManageWorkflows,
    ),
    m(
        "r",
        "retry the run's failed steps",
        ViewId::Runs,
        Permission::ManageWorkflows,
    ),
    k("f", "follow the log / pause", V(ViewId::RunDetail)),
    k(
        "v",
        "approve the selected approval step (⏸ waiting)",
        V(ViewId::RunDetail),
    ),
    k("A", "the selected step's agent", V(ViewId::RunDetail)),
    m(
        "c",
        "cancel the run",
        ViewId::RunDetail,
        Permission::ManageWorkflows,
    ),
    m(
        "r",
        "retry the run's failed steps",
        ViewId::RunDetail,
        Permission::ManageWorkflows,
    ),
    k("/", "search the log (smart case)", V(ViewId::RunDetail)),
    k("n  N", "next / previous match", V(ViewId::RunDetail)),
    k("w", "wrap long lines / cut them", V(ViewId::RunDetail)),
    k("t", "timestamps on / off", V(ViewId::RunDetail)),
    k("F", "fullscreen log / back", V(ViewId::RunDetail)),
    k(
        "a",
        "all steps' log / the selected step's",
        V(ViewId::RunDetail),
    ),
    k(
        "ctrl-s",
        "save the log to ./imx-RUN-STEP.log",
        V(ViewId::RunDetail),
    ),
    k("enter", "the workflow's runs", V(ViewId::Workflows)),
    m(
        "s",
        "start a run (params form)",
        ViewId::Workflows,
        Permission::ManageWorkflows,
    ),
    k(
        "o",
        "next outcome filter (ok, denied, error)",
        V(ViewId::Audit),
    ),
    k("enter", "the schedule's runs", V(ViewId::Schedules)),
    m(
        "p",
        "pause the schedule",
        ViewId::Schedules,
        Permission::ManageWorkflows,
    ),
    m(
        "r",
        "resume the schedule",
        ViewId::Schedules,
        Permission::ManageWorkflows,
    ),
    m(
        "t",
        "trigger: run the schedule's workflow now",
        ViewId::Schedules,
        Permission::ManageWorkflows,
    ),
    k(
        "/",
        "state:paused state:active text (name, workflow)",
        V(ViewId::Schedules),
    ),
    k("y  n", "confirm / decline (in a confirmation)", E),
];

/// The footer's hints for a view: its own keys that the role allows, then the common ones.
pub fn hints(app: &App) -> Vec<(&'static str, &'static str)> {
    let view = app.view;
    let mut out: Vec<(&str, &str)> = KEYS
        .iter()
        .filter(|h| h.scope == Scope::View(view) && h.needs.is_none_or(|p| app.can(p)))
        .filter(|h| h.keys != "/")
        // Log display toggles: in the help only, so the footer keeps room for the rest; `v`
        // (approve) is named on the summary line of a run with a waiting approval step.
        .filter(|h| {
            view != ViewId::RunDetail
                || !matches!(h.keys, "n  N" | "w" | "t" | "a" | "F" | "A" | "v")
        })
        .map(|h| (h.keys, short(h.what)))
        .collect();
    if !matches!(
        view,
        ViewId::Overview | ViewId::RunDetail | ViewId::AgentSteps
    ) {
        out.push(("/", "filter"));
    }
    if view == ViewId::RunDetail {
        out.push(("/", "search"));
    }
    if view == ViewId::RunDetail {
        out.push(("tab", "pane"));
    }
    out.extend([
        ("d", "describe"),
        (":", "cmd"),
        ("?", "help"),
        ("q", "quit"),
    ]);
    out
}

/// The hints that fit in `room` columns (each takes ` key what`): `q quit` goes first, then
/// `: cmd`, then the view's own from the last; `? help` stays (it lists them all).
pub fn fit_hints(
    mut hints: Vec<(&'static str, &'static str)>,
    room: usize,
) -> Vec<(&'static str, &'static str)> {
    let width = |h: &[(&str, &str)]| {
        h.iter()
            .map(|(k, w)| k.chars().count() + w.chars().count() + 2)
            .sum::<usize>()
    };
    for first in ["q", ":"] {
        if width(&hints) <= room {
            return hints;
        }
        hints.retain(|(k, _)| *k != first);
    }
    while width(&hints) > room {
        match hints.iter().rposition(|(k, _)| *k != "?") {
            Some(i) => {
                hints.remove(i);
            }
            None => break,
        }
    }
    hints
}

fn short(what: &'static str) -> &'static str {
    match what {
        "drain the agent" => "drain",
        "resume the agent" => "resume",
        "remove the agent" => "remove",
        "next status filter" => "status",
        "newest / oldest first" => "sort",
        "cancel the run" => "cancel",
        "retry the run's failed steps" => "retry",
        "follow the log / pause" => "follow",
        "next / previous match" => "match",
        "wrap long lines / cut them" => "wrap",
        "timestamps on / off" => "times",
        "fullscreen log / back" => "full",
        "all steps' log / the selected step's" => "all",
        "save the log to ./imx-RUN-STEP.log" => "save",
        "start a run (params form)" => "start",
        "next outcome filter (ok, denied, error)" => "outcome",
        "open the selected failure" => "open",
        "its current and recent steps" => "steps",
        "the step's run, on its log" => "log",
        "the selected step's agent" => "agent",
        "the workflow's runs" => "runs",
        "the schedule's runs" => "runs",
        "pause the schedule" => "pause",
        "resume the schedule" => "resume",
        "trigger: run the schedule's workflow now" => "trigger",
        other => other,
    }
}

/// What a terminal event means in the current state (`None`: nothing).
pub fn action_for(app: &App, event: &Event) -> Option<Action> {
    match event {
        Event::Key(key) if key.kind != KeyEventKind::Release => key_action(app, *key),
        Event::Mouse(m) => match m.kind {
            MouseEventKind::ScrollUp => Some(Action::Up),
            MouseEventKind::ScrollDown => Some(Action::Down),
            _ => None,
        },
        Event::Resize(..) => Some(Action::Tick(app.now)),
        _ => None,
    }
}

/// What a key means in the current state.
pub fn key_action(app: &App, key: KeyEvent) -> Option<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && key.code == KeyCode::Char('c') {
        return Some(Action::Quit);
    }
    match &app.overlay {
        Some(Overlay::Confirm(_)) => {
            return match key.code {
                KeyCode::Char('y' | 'Y') | KeyCode::Enter => Some(Action::Confirm(true)),
                KeyCode::Char('n' | 'N') | KeyCode::Esc => Some(Action::Confirm(false)),
                _ => None,
            };
        }
        Some(Overlay::Help(_)) => {
            return match key.code {
                KeyCode::Char('q') => Some(Action::Quit),
                KeyCode::Char('?') | KeyCode::Esc | KeyCode::Enter => Some(Action::ToggleHelp),
                KeyCode::Up | KeyCode::Char('k') => Some(Action::Up),
                KeyCode::Down | KeyCode::Char('j') => Some(Action::Down),
                KeyCode::PageUp => Some(Action::PageUp),
                KeyCode::PageDown | KeyCode::Char(' ') => Some(Action::PageDown),
                KeyCode::Home | KeyCode::Char('g') => Some(Action::Top),
                KeyCode::End | KeyCode::Char('G') => Some(Action::Bottom),
                _ => None,
            };
        }
        Some(Overlay::Columns(_)) => {
            return match key.code {
                KeyCode::Char('q') => Some(Action::Quit),
                KeyCode::Char('C') | KeyCode::Esc => Some(Action::Back),
                KeyCode::Char(' ') => Some(Action::Toggle),
                KeyCode::Enter => Some(Action::Enter),
                KeyCode::Up | KeyCode::Char('k') => Some(Action::Up),
                KeyCode::Down | KeyCode::Char('j') => Some(Action::Down),
                KeyCode::Home | KeyCode::Char('g') => Some(Action::Top),
                KeyCode::End | KeyCode::Char('G') => Some(Action::Bottom),
                _ => None,
            };
        }
        Some(Overlay::Describe(_)) => {
            return match key.code {
                KeyCode::Char('q') => Some(Action::Quit),
                KeyCode::Char('d') | KeyCode::Esc | KeyCode::Enter => Some(Action::Back),
                KeyCode::Char('Y') => Some(Action::Describe(true)),
                KeyCode::Char('y') => Some(Action::Copy),
                KeyCode::Up | KeyCode::Char('k') => Some(Action::Up),
                KeyCode::Down | KeyCode::Char('j') => Some(Action::Down),
                KeyCode::PageUp => Some(Action::PageUp),
                KeyCode::PageDown | KeyCode::Char(' ') => Some(Action::PageDown),
                KeyCode::Home | KeyCode::Char('g') => Some(Action::Top),
                KeyCode::End | KeyCode::Char('G') => Some(Action::Bottom),
                _ => None,
            };
        }
        Some(Overlay::Palette(_) | Overlay::Filter(_) | Overlay::Form(_)) => {
            return match key.code {
                KeyCode::Esc => Some(Action::Back),
                KeyCode::Enter => Some(Action::Enter),
                KeyCode::Tab => Some(Action::Edit(Edit::Next)),
                KeyCode::BackTab => Some(Action::Edit(Edit::Prev)),
                KeyCode::Up => Some(Action::Up),
                KeyCode::Down => Some(Action::Down),
                KeyCode::Backspace => Some(Action::Edit(Edit::Backspace)),
                KeyCode::Char('w') if ctrl => Some(Action::Edit(Edit::DeleteWord)),
                KeyCode::Char('u') if ctrl => Some(Action::Edit(Edit::DeleteWord)),
                KeyCode::Char(c) if !ctrl => Some(Action::Edit(Edit::Char(c))),
                _ => None,
            };
        }
        None => {}
    }
    let view = app.view;
    let tables = matches!(
        view,
        ViewId::Runs | ViewId::Agents | ViewId::Workflows | ViewId::Audit | ViewId::Schedules
    );
    Some(match key.code {
        KeyCode::Char('f') if ctrl => Action::PageDown,
        KeyCode::Char('b') if ctrl => Action::PageUp,
        KeyCode::Char('d') if ctrl => Action::PageDown,
        KeyCode::Char('u') if ctrl => Action::PageUp,
        KeyCode::Char('s') if ctrl && view == ViewId::RunDetail => Action::SaveLog,
        _ if ctrl => return None,
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Esc => Action::Back,
        KeyCode::Char('?') => Action::ToggleHelp,
        KeyCode::Char(':') => Action::OpenPalette,
        KeyCode::Char('/') => Action::OpenFilter,
        KeyCode::Char(c @ '1'..='6') => {
            let i = usize::from(c as u8 - b'1');
            Action::Goto(ViewId::TABS[i])
        }
        KeyCode::Tab => Action::NextPane,
        KeyCode::BackTab | KeyCode::Char('[') => Action::PrevView,
        KeyCode::Char(']') => Action::NextView,
        KeyCode::Up | KeyCode::Char('k') => Action::Up,
        KeyCode::Down | KeyCode::Char('j') => Action::Down,
        KeyCode::PageUp => Action::PageUp,
        KeyCode::PageDown => Action::PageDown,
        KeyCode::Home | KeyCode::Char('g') => Action::Top,
        KeyCode::End | KeyCode::Char('G') => Action::Bottom,
        KeyCode::Enter => Action::Enter,
        KeyCode::Char('<') if tables => Action::SortColumn(false),
        KeyCode::Char('>') if tables => Action::SortColumn(true),
        KeyCode::Char('R') if tables => Action::SortReverse,
        KeyCode::Char('C') if tables => Action::Columns,
        KeyCode::Char('y') => Action::Copy,
        KeyCode::Char('d') => Action::Describe(false),
        KeyCode::Char('Y') => Action::Describe(true),
        KeyCode::Char('A') if view == ViewId::RunDetail => Action::StepAgent,
        KeyCode::Char('s') if view == ViewId::Runs => Action::CycleFilter,
        KeyCode::Char('o') if view == ViewId::Audit => Action::CycleFilter,
        KeyCode::Char('o') if view == ViewId::Runs => Action::ToggleSort,
        KeyCode::Char('f') if view == ViewId::RunDetail => Action::ToggleFollow,
        KeyCode::Char('v') if view == ViewId::RunDetail => Action::ApproveStep,
        KeyCode::Char('w') if view == ViewId::RunDetail => Action::ToggleWrap,
        KeyCode::Char('t') if view == ViewId::RunDetail => Action::ToggleTimestamps,
        KeyCode::Char('F') if view == ViewId::RunDetail => Action::ToggleFullscreen,
        KeyCode::Char('a') if view == ViewId::RunDetail => Action::ToggleAllSteps,
        KeyCode::Char('n') if view == ViewId::RunDetail => Action::NextMatch(true),
        KeyCode::Char('N') if view == ViewId::RunDetail => Action::NextMatch(false),
        KeyCode::Char('c') if matches!(view, ViewId::Runs | ViewId::RunDetail) => Action::CancelRun,
        KeyCode::Char('r') if matches!(view, ViewId::Runs | ViewId::RunDetail) => Action::RetryRun,
        KeyCode::Char('D') if view == ViewId::Agents => Action::DrainAgent,
        KeyCode::Char('r') if view == ViewId::Agents => Action::ResumeAgent,
        KeyCode::Char('x') if view == ViewId::Agents => Action::RemoveAgent,
        KeyCode::Char('s') if view == ViewId::Workflows => Action::StartRun,
        KeyCode::Char('p') if view == ViewId::Schedules => Action::PauseSchedule,
        KeyCode::Char('r') if view == ViewId::Schedules => Action::ResumeSchedule,
        KeyCode::Char('t') if view == ViewId::Schedules => Action::TriggerSchedule,
        _ => return None,
    })
}
