//! The dashboard's state and its one transition function: `update(action)` changes the state
//! and returns the effects the loop must carry out (tell the loader what to watch, run a
//! confirmed mutation). Nothing here touches the terminal or the control plane, so every key
//! can be tested without either.

use imx::auth::{Permission, Principal};
use imx::control::{AgentQuery, Overview};
use imx::model::{Agent, Run};

use super::action::{Action, Data, Edit, Effect, Mutation, ViewId, Watch};
use super::columns::Picker;
use super::palette::{Candidates, Since};
use super::sort::Sort;
use super::views::agent_steps::AgentStepsState;
use super::views::audit::AuditState;
use super::views::describe::Describe;
use super::views::detail::{DetailState, Pane};
use super::views::form::Form;
use super::views::runs::RunsState;
use super::views::schedules::SchedulesState;
use super::views::workflows::WorkflowsState;
use super::window::{PAGE, Window};

/// Whether the control plane answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conn {
    Connecting,
    Connected,
    Failed(String),
}

/// A one-line text input (palette, filter).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Input {
    pub text: String,
}

impl Input {
    pub fn with(text: &str) -> Self {
        Input { text: text.into() }
    }

    /// Apply an edit; `Next`/`Prev` are the caller's business.
    pub fn edit(&mut self, e: &Edit) {
        match e {
            Edit::Char(c) => self.text.push(*c),
            Edit::Backspace => {
                self.text.pop();
            }
            Edit::DeleteWord => {
                let trimmed = self.text.trim_end().len();
                self.text.truncate(trimmed);
                let cut = self.text.rfind(' ').map_or(0, |i| i + 1);
                self.text.truncate(cut);
            }
            Edit::Next | Edit::Prev => {}
        }
    }
}

/// What floats above the view.
#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    /// The help, scrolled down this many lines.
    Help(usize),
    Palette(Input),
    Filter(Input),
    Confirm(Mutation),
    Form(Form),
    Describe(Describe),
    Columns(Picker),
}

/// A message in the footer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    pub text: String,
    pub error: bool,
    pub at: i64,
}

/// How long a flash message stays.
const FLASH_MS: i64 = 6_000;

/// The Overview view's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OverviewState {
    pub data: Option<Overview>,
    /// The selected row of the latest failures.
    pub selected: usize,
}

/// The Agents view's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentsState {
    pub window: Window<Agent>,
    pub text: Option<String>,
    /// The sort column (the loaded page; the control plane orders by name).
    pub order: Sort,
}

impl AgentsState {
    /// `<` `>` (`right`) or `R` (`None`): change the sort.
    pub fn change_order(&mut self, right: Option<bool>) {
        match right {
            Some(r) => self.order.step(r, super::views::agents::COLUMNS.len()),
            None => self.order.reverse(),
        }
        self.resort();
    }

    fn resort(&mut self) {
        let w = &mut self.window;
        self.order
            .apply(&mut w.items, &mut w.selected, super::views::agents::compare);
    }

    pub fn query(&self) -> AgentQuery {
        AgentQuery {
            text: self.text.clone(),
            after: self.window.start.clone(),
            limit: PAGE,
        }
    }
}

/// Everything the dashboard shows.
#[derive(Debug, Clone, PartialEq)]
pub struct App {
    pub who: Principal,
    /// Where the data comes from (`local /path/imx.db`, a server URL).
    pub context: String,
    /// The context's name (`None`: no context, e.g. `--store`), shown in the header.
    pub context_name: Option<String>,
    /// What the palette completes, as last read from the control plane.
    pub known: Candidates,
    /// `:since D`: Runs and Audit show only the last D.
    pub since: Option<Since>,
    /// The palette line Tab is stepping through the options of (see [`complete`](super::palette::complete)).
    stem: Option<String>,
    /// The palette's candidates are being read; a Tab that found nothing waits for them (the
    /// line it was pressed on).
    reading: bool,
    tab_waits: Option<String>,
    pub view: ViewId,
    /// Views to return to with esc.
    pub back: Vec<ViewId>,
    pub overlay: Option<Overlay>,
    pub overview: OverviewState,
    pub agents: AgentsState,
    /// The agent whose steps the Agent steps view shows.
    pub agent_steps: Option<AgentStepsState>,
    pub runs: RunsState,
    pub detail: Option<DetailState>,
    pub workflows: WorkflowsState,
    pub audit: AuditState,
    pub schedules: SchedulesState,
    pub conn: Conn,
    pub last_update: Option<i64>,
    /// The clock: ms since the epoch, and the local offset from UTC in seconds.
    pub now: i64,
    pub utc_offset: i32,
    pub flash: Option<Flash>,
    /// The terminal's size (the loop keeps it current), to know how far the help scrolls.
    pub cols: u16,
    pub rows: u16,
    pub quit: bool,
    /// The watch last handed to the loader.
    sent: Option<Watch>,
    /// Effects other than mutations and watches, for `update` to return (saving a log).
    pending: Vec<Effect>,
}

impl App {
    pub fn new(who: Principal, context: String, view: ViewId, now: i64, utc_offset: i32) -> Self {
        App {
            who,
            context,
            context_name: None,
            known: Candidates::default(),
            since: None,
            stem: None,
            reading: false,
            tab_waits: None,
            view,
            back: Vec::new(),
            overlay: None,
            overview: OverviewState::default(),
            agents: AgentsState::default(),
            agent_steps: None,
            runs: RunsState::default(),
            detail: None,
            workflows: WorkflowsState::default(),
            audit: AuditState::default(),
            schedules: SchedulesState::default(),
            conn: Conn::Connecting,
            last_update: None,
            now,
            utc_offset,
            flash: None,
            cols: 80,
            rows: 24,
            quit: false,
            sent: None,
            pending: Vec::new(),
        }
    }

    /// What the loader should keep fresh now.
    pub fn watch(&self) -> Watch {
        Watch {
            view: self.view,
            runs: self.runs.query(),
            agents: self.agents.query(),
            agent: self
                .agent_steps
                .as_ref()
                .filter(|_| self.view == ViewId::AgentSteps)
                .map(|a| a.agent.clone()),
            detail: self
                .detail
                .as_ref()
                .filter(|_| self.view == ViewId::RunDetail)
                .map(|d| (d.run_id.clone(), d.log_step())),
            log: self
                .detail
                .as_ref()
                .is_some_and(|d| d.all || d.data.is_some()),
            log_window: self
                .detail
                .as_ref()
                .filter(|_| self.view == ViewId::RunDetail)
                .and_then(|d| d.log.window),
            audit: self.audit.filter.clone(),
            since: self.runs.since.map(|t| t - t.rem_euclid(60_000)),
        }
    }

    /// Whether the principal's role allows `perm` (actions it does not are hidden).
    pub fn can(&self, perm: Permission) -> bool {
        self.who.can(perm)
    }

    fn say(&mut self, text: impl Into<String>, error: bool) {
        self.flash = Some(Flash {
            text: text.into(),
            error,
            at: self.now,
        });
    }

    /// The one transition: change state for `action`; return what the loop must do.
    pub fn update(&mut self, action: Action) -> Vec<Effect> {
        let mut effects = Vec::new();
        let (view, flash) = (self.view, self.flash.clone());
        if let Some(m) = self.apply(action) {
            effects.push(Effect::Mutate(m));
        }
        self.refresh_describe();
        // A message belongs to the view it was said in, unless this very action said it.
        if self.view != view && self.flash == flash {
            self.flash = None;
        }
        effects.append(&mut self.pending);
        let watch = self.watch();
        if self.sent.as_ref() != Some(&watch) {
            self.sent = Some(watch.clone());
            effects.push(Effect::Watch(Box::new(watch)));
        }
        effects
    }

    fn apply(&mut self, action: Action) -> Option<Mutation> {
        match action {
            Action::Data(data) => {
                self.receive(*data);
                return None;
            }
            Action::Tick(now) => {
                self.now = now;
                self.follow_since();
                if self.flash.as_ref().is_some_and(|f| now - f.at > FLASH_MS) {
                    self.flash = None;
                }
                return None;
            }
            Action::Done { message, failed } => {
                self.say(message, failed);
                return None;
            }
            Action::Quit => {
                self.quit = true;
                return None;
            }
            Action::Switched {
                name,
                who,
                location,
            } => {
                self.switched(name, who, location);
                return None;
            }
            Action::OpenRun(id) => {
                self.overlay = None;
                self.open_run(id);
                return None;
            }
            _ => {}
        }
        if let Some(overlay) = self.overlay.take() {
            return self.apply_overlay(overlay, action);
        }
        self.apply_view(action)
    }

    /// Keys while an overlay is open.
    fn apply_overlay(&mut self, overlay: Overlay, action: Action) -> Option<Mutation> {
        match (overlay, action) {
            (Overlay::Help(_), Action::ToggleHelp | Action::Back | Action::Enter) => None,
            (Overlay::Help(n), a) => {
                let max = super::views::help::max_scroll(self, self.cols, self.rows);
                let n = match a {
                    Action::Down => n + 1,
                    Action::PageDown => n + 10,
                    Action::Up => n.saturating_sub(1),
                    Action::PageUp => n.saturating_sub(10),
                    Action::Top => 0,
                    Action::Bottom => max,
                    _ => n,
                };
                self.overlay = Some(Overlay::Help(n.min(max)));
                None
            }
            (Overlay::Confirm(m), Action::Confirm(true) | Action::Enter) => Some(m),
            (Overlay::Confirm(_), Action::Confirm(false) | Action::Back) => {
                self.say("Nothing changed.", false);
                None
            }
            (o @ Overlay::Confirm(_), _) => {
                self.overlay = Some(o);
                None
            }
            (Overlay::Palette(_), Action::Back) | (Overlay::Filter(_), Action::Back) => None,
            (Overlay::Palette(input), Action::Enter) => {
                self.run_command(input.text.trim());
                None
            }
            (Overlay::Palette(mut input), Action::Edit(e @ (Edit::Next | Edit::Prev))) => {
                self.tab(&mut input, e == Edit::Next);
                self.overlay = Some(Overlay::Palette(input));
                None
            }
            (Overlay::Palette(mut input), Action::Edit(e)) => {
                self.stem = None;
                input.edit(&e);
                self.overlay = Some(Overlay::Palette(input));
                None
            }
            (Overlay::Filter(input), Action::Enter) => {
                self.set_filter(input.text.trim());
                None
            }
            (Overlay::Filter(mut input), Action::Edit(e)) => {
                input.edit(&e);
                self.overlay = Some(Overlay::Filter(input));
                None
            }
            (Overlay::Columns(p), a) => {
                self.picker_key(p, &a);
                None
            }
            (Overlay::Describe(d), a) => {
                self.describe_key(d, a);
                None
            }
            (Overlay::Form(_), Action::Back) => None,
            (Overlay::Form(mut form), Action::Enter) => match form.submit() {
                Ok(params) => {
                    self.overlay = Some(Overlay::Confirm(Mutation::StartRun {
                        workflow: form.workflow.clone(),
                        params,
                    }));
                    None
                }
                Err(e) => {
                    form.error = Some(e);
                    self.overlay = Some(Overlay::Form(form));
                    None
                }
            },
            (Overlay::Form(mut form), Action::Edit(e)) => {
                form.edit(&e);
                self.overlay = Some(Overlay::Form(form));
                None
            }
            (Overlay::Form(mut form), Action::Up) => {
                form.edit(&Edit::Prev);
                self.overlay = Some(Overlay::Form(form));
                None
            }
            (Overlay::Form(mut form), Action::Down) => {
                form.edit(&Edit::Next);
                self.overlay = Some(Overlay::Form(form));
                None
            }
            (o, _) => {
                self.overlay = Some(o);
                None
            }
        }
    }

    fn goto(&mut self, v: ViewId) {
        if v != self.view {
            self.back.clear();
            self.view = v;
        }
    }

    /// `/` applied: each view filters in its own way.
    fn set_filter(&mut self, text: &str) {
        let text = (!text.is_empty()).then(|| text.to_string());
        match self.view {
            ViewId::Runs => {
                if let Err(e) = self.runs.set_filter(text.as_deref().unwrap_or("")) {
                    self.say(e, true);
                }
            }
            ViewId::Agents => {
                self.agents.text = text;
                self.agents.window.reset();
            }
            ViewId::Audit => {
                self.audit.filter.text = text;
                self.audit.selected = 0;
            }
            ViewId::Workflows => {
                self.workflows.text = text;
                self.workflows.selected = 0;
            }
            ViewId::Schedules => {
                if let Err(e) = self.schedules.set_filter(text.as_deref().unwrap_or("")) {
                    self.say(e, true);
                }
            }
            ViewId::RunDetail => {
                let mut msg = None;
                if let Some(d) = self.detail.as_mut() {
                    d.pane = Pane::Logs;
                    msg = d.log.set_search(text.as_deref());
                    if text.is_none() {
                        d.log.search = None;
                    }
                }
                if let Some(msg) = msg {
                    self.say(msg, false);
                }
            }
            ViewId::Overview | ViewId::AgentSteps => {
                self.say("This view has no filter.", false);
            }
        }
    }

    fn filter_text(&self) -> String {
        match self.view {
            ViewId::Runs => self.runs.filter_text(),
            ViewId::Agents => self.agents.text.clone().unwrap_or_default(),
            ViewId::Audit => self.audit.filter.text.clone().unwrap_or_default(),
            ViewId::Workflows => self.workflows.text.clone().unwrap_or_default(),
            ViewId::Schedules => self.schedules.filter_text(),
            ViewId::RunDetail => self
                .detail
                .as_ref()
                .and_then(|d| d.log.search.as_ref())
                .map(|s| s.query.clone())
                .unwrap_or_default(),
            ViewId::Overview | ViewId::AgentSteps => String::new(),
        }
    }

    fn has_filter(&self) -> bool {
        match self.view {
            ViewId::Runs => self.runs.has_filter(),
            ViewId::Agents => self.agents.text.is_some(),
            ViewId::Audit => self.audit.has_filter(),
            ViewId::Workflows => self.workflows.text.is_some(),
            ViewId::Schedules => self.schedules.has_filter(),
            ViewId::RunDetail => self.detail.as_ref().is_some_and(|d| d.log.search.is_some()),
            ViewId::Overview | ViewId::AgentSteps => false,
        }
    }

    fn clear_filter(&mut self) {
        match self.view {
            ViewId::Runs => {
                let _ = self.runs.set_filter("");
            }
            ViewId::Agents => {
                self.agents.text = None;
                self.agents.window.reset();
            }
            ViewId::Audit => self.audit.clear_filter(),
            ViewId::Workflows => self.workflows.text = None,
            ViewId::Schedules => {
                let _ = self.schedules.set_filter("");
            }
            ViewId::RunDetail => {
                if let Some(d) = self.detail.as_mut() {
                    d.log.search = None;
                }
            }
            ViewId::Overview | ViewId::AgentSteps => {}
        }
    }

    /// Ask before changing anything, if the role allows it at all.
    fn ask(&mut self, perm: Permission, m: Option<Mutation>) {
        if !self.can(perm) {
            self.say(
                format!(
                    "Not allowed: {} ({}) may only read.",
                    self.who.name, self.who.role
                ),
                true,
            );
        } else if let Some(m) = m {
            self.overlay = Some(Overlay::Confirm(m));
        }
    }

    fn open_run(&mut self, id: String) {
        if self.view != ViewId::RunDetail {
            self.back.push(self.view);
        }
        self.detail = Some(DetailState::new(id));
        self.view = ViewId::RunDetail;
    }

    /// The run the current view points at (for cancel/retry).
    fn current_run(&self) -> Option<&Run> {
        match self.view {
            ViewId::Runs => self.runs.window.selected_item(),
            ViewId::RunDetail => self.detail.as_ref()?.data.as_ref().map(|d| &d.run),
            ViewId::Overview => self
                .overview
                .data
                .as_ref()?
                .latest_failures
                .get(self.overview.selected),
            _ => None,
        }
    }

    /// Keys in a view (no overlay open).
    fn apply_view(&mut self, action: Action) -> Option<Mutation> {
        match action {
            Action::ToggleHelp => self.overlay = Some(Overlay::Help(0)),
            Action::OpenPalette => {
                self.stem = None;
                self.reading = true;
                self.tab_waits = None;
                self.overlay = Some(Overlay::Palette(Input::default()));
                self.pending.push(Effect::Candidates {
                    tab: None,
                    run_prefix: None,
                });
            }
            Action::OpenFilter => {
                if matches!(self.view, ViewId::Overview | ViewId::AgentSteps) {
                    self.say("This view has no filter.", false);
                } else {
                    self.overlay = Some(Overlay::Filter(Input::with(&self.filter_text())));
                }
            }
            Action::Back => {
                if self.has_filter() {
                    self.clear_filter();
                } else if let Some(v) = self.back.pop() {
                    self.view = v;
                } else if self.view != ViewId::Overview {
                    self.view = ViewId::Overview;
                }
            }
            Action::Goto(v) => self.goto(v),
            Action::NextView | Action::PrevView => {
                let tabs = ViewId::TABS;
                let at = tabs.iter().position(|v| *v == self.view).unwrap_or(0);
                let n = tabs.len();
                let to = if action == Action::NextView {
                    (at + 1) % n
                } else {
                    (at + n - 1) % n
                };
                self.goto(tabs[to]);
            }
            Action::NextPane => match (self.view, self.detail.as_mut()) {
                (ViewId::RunDetail, Some(d)) => d.toggle_pane(),
                _ => return self.apply_view(Action::NextView),
            },
            Action::Up
            | Action::Down
            | Action::PageUp
            | Action::PageDown
            | Action::Top
            | Action::Bottom => self.navigate(&action),
            Action::Enter => match self.view {
                ViewId::Runs => {
                    if let Some(id) = self.runs.window.selected_item().map(|r| r.id.clone()) {
                        self.open_run(id);
                    }
                }
                ViewId::Overview => {
                    if let Some(id) = self.current_run().map(|r| r.id.clone()) {
                        self.open_run(id);
                    }
                }
                ViewId::Workflows => {
                    if let Some(name) = self.workflows.selected_item().map(|w| w.name.clone()) {
                        self.back.push(ViewId::Workflows);
                        let _ = self.runs.set_filter(&format!("wf:{name}"));
                        self.view = ViewId::Runs;
                    }
                }
                ViewId::Agents => self.open_agent_steps(),
                ViewId::AgentSteps => self.open_agent_step(),
                ViewId::Schedules => self.open_schedule_runs(),
                ViewId::RunDetail | ViewId::Audit => {}
            },
            Action::Copy => self.copy(),
            Action::Describe(yaml) => self.describe(yaml),
            Action::Columns => self.open_columns(),
            Action::StepAgent => self.step_agent(),
            Action::CycleFilter => match self.view {
                ViewId::Runs => self.runs.cycle_status(),
                ViewId::Audit => self.audit.cycle_outcome(),
                _ => {}
            },
            Action::ToggleSort => {
                if self.view == ViewId::Runs {
                    self.runs.toggle_sort();
                }
            }
            Action::SortColumn(right) => self.change_order(Some(right)),
            Action::SortReverse => self.change_order(None),
            Action::ToggleFollow => {
                if let (ViewId::RunDetail, Some(d)) = (self.view, self.detail.as_mut()) {
                    d.log.toggle_follow();
                }
            }
            Action::ToggleWrap
            | Action::ToggleTimestamps
            | Action::ToggleFullscreen
            | Action::ToggleAllSteps
            | Action::NextMatch(_)
            | Action::SaveLog => self.log_key(&action),
            Action::CancelRun | Action::RetryRun => {
                if matches!(
                    self.view,
                    ViewId::Runs | ViewId::RunDetail | ViewId::Overview
                ) {
                    let m = self.current_run().map(|r| {
                        if action == Action::CancelRun {
                            Mutation::CancelRun(r.id.clone())
                        } else {
                            Mutation::RetryRun(r.id.clone())
                        }
                    });
                    self.ask(Permission::ManageWorkflows, m);
                }
            }
            Action::ApproveStep => self.approve_step(),
            Action::DrainAgent | Action::ResumeAgent | Action::RemoveAgent => {
                if self.view == ViewId::Agents {
                    let m = self.agents.window.selected_item().map(|a| {
                        let name = a.name.clone();
                        match action {
                            Action::DrainAgent => Mutation::DrainAgent(name),
                            Action::ResumeAgent => Mutation::ResumeAgent(name),
                            _ => Mutation::RemoveAgent(name),
                        }
                    });
                    self.ask(Permission::ManageAgents, m);
                }
            }
            Action::PauseSchedule | Action::ResumeSchedule | Action::TriggerSchedule => {
                if self.view == ViewId::Schedules {
                    self.schedule_key(&action);
                }
            }
            Action::StartRun => {
                if self.view == ViewId::Workflows {
                    if !self.can(Permission::ManageWorkflows) {
                        self.ask(Permission::ManageWorkflows, None);
                    } else if let Some(w) = self.workflows.selected_item() {
                        if w.params.is_empty() {
                            self.overlay = Some(Overlay::Confirm(Mutation::StartRun {
                                workflow: w.name.clone(),
                                params: Default::default(),
                            }));
                        } else {
                            self.overlay = Some(Overlay::Form(Form::new(&w.name, &w.params)));
                        }
                    }
                }
            }
            Action::Edit(_) | Action::Confirm(_) | Action::Toggle => {}
            Action::Quit
            | Action::Data(_)
            | Action::Tick(_)
            | Action::Done { .. }
            | Action::OpenRun(_)
            | Action::Switched { .. } => {}
        }
        None
    }

    /// `y`: the selected object's full id to the clipboard.
    fn copy(&mut self) {
        let id = match self.view {
            ViewId::Agents => self.agents.window.selected_item().map(|a| a.id.clone()),
            ViewId::Workflows => self.workflows.selected_item().map(|w| w.name.clone()),
            ViewId::Schedules => self.schedules.selected_item().map(|s| s.name.clone()),
            ViewId::Audit => self
                .audit
                .records
                .get(self.audit.selected)
                .map(|r| r.seq.to_string()),
            ViewId::RunDetail => self.detail.as_ref().map(|d| d.run_id.clone()),
            ViewId::AgentSteps => self
                .agent_steps
                .as_ref()
                .and_then(AgentStepsState::selected_step)
                .map(|s| s.run_id.clone()),
            ViewId::Runs | ViewId::Overview => self.current_run().map(|r| r.id.clone()),
        };
        match id {
            Some(id) => {
                self.say(format!("copied {id}"), false);
                self.pending.push(Effect::Copy(id));
            }
            None => self.say("Nothing selected to copy.", false),
        }
    }

    /// `<` `>` `R` in a table.
    fn change_order(&mut self, right: Option<bool>) {
        match self.view {
            ViewId::Runs => self.runs.change_order(right, self.now),
            ViewId::Agents => self.agents.change_order(right),
            ViewId::Workflows => self.workflows.change_order(right),
            ViewId::Audit => self.audit.change_order(right),
            ViewId::Schedules => self.schedules.change_order(right),
            ViewId::Overview | ViewId::RunDetail | ViewId::AgentSteps => {}
        }
    }

    /// The log pane's own keys (Run detail).
    fn log_key(&mut self, action: &Action) {
        let Some(d) = self
            .detail
            .as_mut()
            .filter(|_| self.view == ViewId::RunDetail)
        else {
            return;
        };
        let mut say = None;
        match action {
            Action::ToggleWrap => d.log.wrap = !d.log.wrap,
            Action::ToggleTimestamps => d.log.timestamps = !d.log.timestamps,
            Action::ToggleFullscreen => {
                d.log.fullscreen = !d.log.fullscreen;
                if d.log.fullscreen {
                    d.pane = Pane::Logs;
                }
            }
            Action::ToggleAllSteps => d.toggle_all_steps(),
            Action::NextMatch(forward) => {
                d.pane = Pane::Logs;
                say = d.log.next_match(*forward);
            }
            Action::SaveLog => {
                let step = d.log_step();
                let file = super::save::file_name(&d.run_id, step.as_deref());
                say = Some(format!("Saving the log to {file}…"));
                self.pending.push(Effect::SaveLog {
                    run: d.run_id.clone(),
                    step,
                    file,
                });
            }
            _ => {}
        }
        if let Some(msg) = say {
            self.say(msg, false);
        }
    }

    fn navigate(&mut self, action: &Action) {
        let delta: isize = match action {
            Action::Up => -1,
            Action::Down => 1,
            Action::PageUp => -20,
            Action::PageDown => 20,
            _ => 0,
        };
        let clamp = |sel: &mut usize, len: usize| match action {
            Action::Top => *sel = 0,
            Action::Bottom => *sel = len.saturating_sub(1),
            _ => {
                *sel = sel.saturating_add_signed(delta).min(len.saturating_sub(1));
            }
        };
        match self.view {
            ViewId::Overview => {
                let len = self
                    .overview
                    .data
                    .as_ref()
                    .map_or(0, |o| o.latest_failures.len());
                clamp(&mut self.overview.selected, len);
            }
            ViewId::Runs => match action {
                Action::Top => self.runs.window.top(),
                Action::Bottom => self.runs.window.bottom(),
                _ => self.runs.window.step(delta),
            },
            ViewId::Agents => match action {
                Action::Top => self.agents.window.top(),
                Action::Bottom => self.agents.window.bottom(),
                _ => self.agents.window.step(delta),
            },
            ViewId::RunDetail => {
                if let Some(d) = self.detail.as_mut() {
                    d.navigate(action, delta);
                }
            }
            ViewId::Workflows => {
                let len = self.workflows.visible().len();
                clamp(&mut self.workflows.selected, len);
            }
            ViewId::Schedules => {
                let len = self.schedules.visible().len();
                clamp(&mut self.schedules.selected, len);
            }
            ViewId::Audit => {
                let len = self.audit.records.len();
                clamp(&mut self.audit.selected, len);
            }
            ViewId::AgentSteps => {
                if let Some(a) = self.agent_steps.as_mut() {
                    clamp(&mut a.selected, a.steps.len());
                }
            }
        }
    }

    /// Data from the loader; answers to queries that are no longer current are dropped.
    fn receive(&mut self, data: Data) {
        match data {
            Data::Overview(o) => {
                let len = o.latest_failures.len();
                self.overview.data = Some(o);
                self.overview.selected = self.overview.selected.min(len.saturating_sub(1));
            }
            Data::Runs(q, page) => {
                if q == self.runs.query() {
                    self.runs.window.replace_keeping(page, |r| r.id.clone());
                    self.runs.trim_since();
                    self.runs.resort(self.now);
                }
            }
            Data::Agents(q, page) => {
                if q == self.agents.query() {
                    self.agents.window.replace_keeping(page, |a| a.id.clone());
                    self.agents.resort();
                }
            }
            Data::AgentSteps(name, steps) => {
                if let Some(a) = self.agent_steps.as_mut().filter(|a| a.agent == name) {
                    a.set(steps);
                }
            }
            Data::Detail(detail) => {
                if let Some(d) = self.detail.as_mut().filter(|d| d.run_id == detail.run.id) {
                    d.set_data(*detail);
                }
            }
            Data::Logs {
                run,
                step,
                lines,
                reset,
                older,
            } => {
                if let Some(d) = self
                    .detail
                    .as_mut()
                    .filter(|d| d.run_id == run && d.log_step() == step)
                {
                    d.add_logs(lines, reset, older);
                }
            }
            Data::LogWindow {
                run,
                step,
                window,
                lines,
                more,
            } => {
                if let Some(d) = self
                    .detail
                    .as_mut()
                    .filter(|d| d.run_id == run && d.log_step() == step)
                {
                    d.log.set_window(window, lines, more);
                }
            }
            Data::Workflows(w) => self.workflows.set(w),
            Data::Schedules(s) => self.schedules.set(s),
            Data::ScheduleRuns(last) => self.schedules.set_last(last),
            Data::Candidates { tab, candidates } => self.got_candidates(tab, candidates),
            Data::Audit(f, records) => {
                if f == self.audit.filter {
                    self.audit.set(records);
                }
            }
            Data::Refreshed(at) => {
                self.last_update = Some(at);
                self.conn = Conn::Connected;
            }
            Data::Failed(e) => self.conn = Conn::Failed(e),
        }
    }
}

#[path = "app_palette.rs"]
mod palette_commands;

#[path = "app_describe.rs"]
mod describe_commands;

#[path = "app_columns.rs"]
mod column_picker;

#[path = "app_drill.rs"]
mod drill_downs;

#[path = "app_schedules.rs"]
mod schedule_keys;

#[path = "app_approve.rs"]
mod approve_keys;

#[cfg(test)]
#[path = "app_tests.rs"]
mod tests;
