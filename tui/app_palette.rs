//! The state machine's side of the command palette: carrying out a parsed [`Command`], Tab
//! completion over what the dashboard knows, the `:since` time range, and taking over a new
//! context's connection (`:ctx`).

use imx::auth::Principal;

use super::super::action::{Effect, ViewId};
use super::super::palette::{self, Candidates, Command, Since};
use super::{AgentsState, App, Conn, Input, Overlay, OverviewState};

impl App {
    /// Everything completion can offer now: what the control plane said when the palette
    /// opened, and what the views hold.
    pub fn candidates(&self) -> Candidates {
        let mut c = self.known.clone();
        let mut mine = Candidates::default();
        mine.runs
            .extend(self.runs.window.items.iter().map(|r| r.id.clone()));
        if let Some(o) = &self.overview.data {
            mine.runs
                .extend(o.latest_failures.iter().map(|r| r.id.clone()));
        }
        if let Some(d) = &self.detail {
            mine.runs.push(d.run_id.clone());
        }
        mine.agents
            .extend(self.agents.window.items.iter().map(|a| a.name.clone()));
        mine.workflows
            .extend(self.workflows.all.iter().map(|w| w.name.clone()));
        c.merge(mine);
        c
    }

    /// Tab (`forward`) or shift-Tab in the palette. A run id prefix that no known run has is
    /// looked up in the control plane, and completed when the answer comes.
    pub(super) fn tab(&mut self, input: &mut Input, forward: bool) {
        let c = self.candidates();
        if let Some(prefix) = palette::unknown_run_prefix(&input.text, &c) {
            self.pending.push(Effect::Candidates {
                tab: Some(input.text.clone()),
                run_prefix: Some(prefix),
            });
            return;
        }
        let done = palette::complete(&input.text, &c, forward, self.stem.as_deref());
        if done.options.is_empty() && self.reading {
            // Typed faster than the candidates came: complete when they do.
            self.tab_waits = Some(input.text.clone());
            return;
        }
        input.text = done.text;
        self.stem = done.stem;
    }

    /// Candidates arrived; if the palette still shows the line that asked, complete it now.
    pub(super) fn got_candidates(&mut self, tab: Option<String>, c: Candidates) {
        self.known.merge(c);
        let run_lookup = tab.is_some();
        let waited = if tab.is_none() {
            self.reading = false;
            self.tab_waits.take()
        } else {
            None
        };
        let Some(t) = tab.or(waited) else { return };
        if !matches!(&self.overlay, Some(Overlay::Palette(input)) if input.text == t) {
            return;
        }
        let done = palette::complete(&t, &self.candidates(), true, None);
        if done.options.is_empty() {
            if !run_lookup {
                return;
            }
            let word = t.split_whitespace().nth(1).unwrap_or_default();
            self.say(format!("No run id starts with {word}."), true);
        } else if let Some(Overlay::Palette(input)) = self.overlay.as_mut() {
            input.text = done.text;
            self.stem = done.stem;
        }
    }

    /// Enter in the palette.
    pub(super) fn run_command(&mut self, line: &str) {
        let cmd = match palette::parse(line) {
            Ok(Some(cmd)) => cmd,
            Ok(None) => return,
            Err(e) => {
                self.say(e, true);
                return;
            }
        };
        match cmd {
            Command::Goto(v) => self.goto(v),
            Command::Help => self.overlay = Some(Overlay::Help(0)),
            Command::Quit => self.quit = true,
            Command::Run(id) => self.run_by_id(&id),
            Command::Agent(name) => {
                self.goto(ViewId::Agents);
                self.agents.text = Some(name);
                self.agents.window.reset();
            }
            Command::Workflow(name) => self.workflow_runs(name),
            Command::Label(selector) => self.labelled_runs(selector.as_deref()),
            Command::Context(None) => self.list_contexts(),
            Command::Context(Some(name)) => {
                if self.context_name.as_deref() == Some(name.as_str()) {
                    self.say(format!("Already on context {name}."), false);
                } else {
                    self.say(format!("Connecting to context {name}…"), false);
                    self.pending.push(Effect::SwitchContext(name));
                }
            }
            Command::Since(s) => self.set_since(s),
        }
    }

    /// `:run ID`: a run the dashboard knows by its full id or a unique prefix opens at once;
    /// any other prefix is looked up first.
    fn run_by_id(&mut self, id: &str) {
        let upper = id.to_ascii_uppercase();
        let c = self.candidates();
        let hits: Vec<&String> = c.runs.iter().filter(|r| r.starts_with(&upper)).collect();
        match hits.as_slice() {
            [one] => {
                let one = (*one).clone();
                self.open_run(one);
            }
            _ => {
                self.say(format!("Looking for run {id}…"), false);
                self.pending.push(Effect::ResolveRun(id.to_string()));
            }
        }
    }

    /// `:wf NAME`: the workflow's runs (a name the dashboard does not know gets a suggestion).
    fn workflow_runs(&mut self, name: String) {
        let c = self.candidates();
        if !c.workflows.is_empty() && !c.workflows.contains(&name) {
            let names: Vec<&str> = c.workflows.iter().map(String::as_str).collect();
            let msg = match imx::suggest::nearest(&name, &names) {
                Some(n) => format!("No workflow {name:?}: did you mean {n:?}?"),
                None => format!("No workflow {name:?}."),
            };
            self.say(msg, true);
            return;
        }
        self.goto(ViewId::Runs);
        self.runs.workflow = Some(name);
        self.runs.window.reset();
    }

    /// `:label K=V`: the runs with those labels (the other filters kept); `:label` alone: the
    /// label filter cleared.
    fn labelled_runs(&mut self, selector: Option<&str>) {
        let labels = match imx::model::labels::parse_selector(selector.unwrap_or("")) {
            Ok(l) => l,
            Err(e) => {
                self.say(e.to_string(), true);
                return;
            }
        };
        self.goto(ViewId::Runs);
        self.runs.labels = labels;
        self.runs.window.reset();
    }

    /// `:ctx` alone: the contexts there are, and which one this is.
    fn list_contexts(&mut self) {
        let names = &self.known.contexts;
        let now = match &self.context_name {
            Some(n) => format!("now on {n}"),
            None => "now on no context".to_string(),
        };
        let msg = if names.is_empty() {
            format!("No contexts ({now}): add one with `imx context add`.")
        } else {
            format!(
                "Contexts: {} ({now}). :ctx NAME switches.",
                names.join(", ")
            )
        };
        self.say(msg, false);
    }

    /// `:since D` (or `:since` to clear): Runs and Audit show only the last D.
    fn set_since(&mut self, since: Option<Since>) {
        let msg = match &since {
            Some(s) => format!("Runs and Audit: the last {} only.", s.text),
            None => "Runs and Audit: all times.".to_string(),
        };
        self.since = since;
        self.runs.window.reset();
        self.follow_since();
        self.say(msg, false);
    }

    /// Move the time range's start with the clock.
    pub(super) fn follow_since(&mut self) {
        let cutoff = self.since.as_ref().map(|s| s.cutoff(self.now));
        self.runs.since = cutoff;
        self.audit.set_since(cutoff);
    }

    /// Now reading another context: its principal and location, and none of the old data
    /// (views, sorts, columns and filters stay; a run from the old context is not there).
    pub(super) fn switched(&mut self, name: Option<String>, who: Principal, location: String) {
        let label = name.clone().unwrap_or_else(|| "no context".into());
        self.say(format!("Switched to context {label} ({location})."), false);
        self.context_name = name;
        self.who = who;
        self.context = location;
        self.known = Candidates {
            contexts: std::mem::take(&mut self.known.contexts),
            ..Candidates::default()
        };
        self.overview = OverviewState::default();
        self.agents = AgentsState {
            order: self.agents.order,
            text: self.agents.text.take(),
            ..AgentsState::default()
        };
        self.runs.window.reset();
        self.detail = None;
        self.agent_steps = None;
        match self.view {
            ViewId::RunDetail => self.view = ViewId::Runs,
            ViewId::AgentSteps => self.view = ViewId::Agents,
            _ => {}
        }
        self.back.clear();
        self.workflows.all.clear();
        self.workflows.loaded = false;
        self.workflows.selected = 0;
        self.audit.set(Vec::new());
        self.audit.loaded = false;
        self.schedules = super::SchedulesState {
            order: self.schedules.order,
            paused: self.schedules.paused,
            text: self.schedules.text.take(),
            ..Default::default()
        };
        self.conn = Conn::Connecting;
        self.last_update = None;
        self.overlay = None;
        // The new loader starts from this watch.
        self.sent = None;
    }
}

#[cfg(test)]
#[path = "app_palette_tests.rs"]
mod tests;
