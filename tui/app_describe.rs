//! The state machine's side of describe (`d`, `Y`): which object the view points at, finding
//! it again in fresh data, and the overlay's keys.

use serde_json::Value;

use super::super::action::{Action, Effect, ViewId};
use super::super::views::describe::{self, Describe, Target};
use super::super::views::detail::Pane;
use super::{App, Overlay};

impl App {
    /// The object the current view points at.
    fn describe_target(&self) -> Option<Target> {
        match self.view {
            ViewId::Runs | ViewId::Overview => {
                self.current_run().map(|r| Target::Run(r.id.clone()))
            }
            ViewId::RunDetail => {
                let d = self.detail.as_ref()?;
                match d.selected_step().filter(|_| d.pane == Pane::Steps) {
                    Some(step) => Some(Target::Step {
                        run: d.run_id.clone(),
                        step,
                    }),
                    None => Some(Target::Run(d.run_id.clone())),
                }
            }
            ViewId::Agents => self
                .agents
                .window
                .selected_item()
                .map(|a| Target::Agent(a.name.clone())),
            ViewId::Workflows => self
                .workflows
                .selected_item()
                .map(|w| Target::Workflow(w.name.clone())),
            ViewId::Audit => self
                .audit
                .records
                .get(self.audit.selected)
                .map(|r| Target::Audit(r.seq)),
            ViewId::Schedules => self
                .schedules
                .selected_item()
                .map(|s| Target::Schedule(s.name.clone())),
            ViewId::AgentSteps => {
                self.agent_steps
                    .as_ref()?
                    .selected_step()
                    .map(|s| Target::Step {
                        run: s.run_id.clone(),
                        step: s.step_id.clone(),
                    })
            }
        }
    }

    /// The object `t` names, as the dashboard holds it now.
    fn lookup(&self, t: &Target) -> Option<Value> {
        let json = |v: Result<Value, serde_json::Error>| {
            Some(v.unwrap_or_else(|e| Value::String(format!("cannot show this object: {e}"))))
        };
        match t {
            Target::Run(id) => {
                let detail = self.detail.as_ref().and_then(|d| d.data.as_ref());
                let failures = self.overview.data.as_ref().map(|o| &o.latest_failures);
                let run = detail
                    .map(|d| &d.run)
                    .filter(|r| &r.id == id)
                    .or_else(|| self.runs.window.items.iter().find(|r| &r.id == id))
                    .or_else(|| failures.and_then(|f| f.iter().find(|r| &r.id == id)))?;
                json(serde_json::to_value(run))
            }
            Target::Step { run, step } => {
                let detail = self.detail.as_ref().and_then(|d| d.data.as_ref());
                if let Some(s) = detail.and_then(|d| {
                    d.steps
                        .iter()
                        .find(|s| &s.step_id == step && &d.run.id == run)
                }) {
                    return json(serde_json::to_value(s));
                }
                // As an agent's steps list it.
                let s = self
                    .agent_steps
                    .as_ref()?
                    .steps
                    .iter()
                    .find(|s| &s.step_id == step && &s.run_id == run)?;
                json(serde_json::to_value(s))
            }
            Target::Agent(name) => {
                let a = self.agents.window.items.iter().find(|a| &a.name == name)?;
                json(serde_json::to_value(a))
            }
            Target::Workflow(name) => {
                let w = self.workflows.all.iter().find(|w| &w.name == name)?;
                json(serde_json::to_value(w))
            }
            Target::Audit(seq) => {
                let r = self.audit.tail.iter().find(|r| r.seq == *seq)?;
                json(serde_json::to_value(r))
            }
            Target::Schedule(name) => {
                let s = self.schedules.all.iter().find(|s| &s.name == name)?;
                json(serde_json::to_value(s))
            }
        }
    }

    /// `d` (fields) or `Y` (YAML) in a view.
    pub(super) fn describe(&mut self, yaml: bool) {
        let found = self
            .describe_target()
            .and_then(|t| self.lookup(&t).map(|v| (t, v)));
        match found {
            Some((target, value)) => {
                self.overlay = Some(Overlay::Describe(Describe {
                    target,
                    value,
                    yaml,
                    scroll: 0,
                }));
            }
            None => self.say("Nothing selected to describe.", false),
        }
    }

    /// Keys while describing: `Y` switches fields ↔ YAML, `y` copies the id, the rest scroll.
    pub(super) fn describe_key(&mut self, mut d: Describe, action: Action) {
        let max = describe::max_scroll(&d, self.rows);
        match action {
            Action::Back | Action::Enter => return,
            Action::Describe(_) => {
                d.yaml = !d.yaml;
                d.scroll = 0;
            }
            Action::Copy => {
                let id = d.target.id();
                self.say(format!("copied {id}"), false);
                self.pending.push(Effect::Copy(id));
            }
            Action::Down => d.scroll += 1,
            Action::PageDown => d.scroll += 10,
            Action::Up => d.scroll = d.scroll.saturating_sub(1),
            Action::PageUp => d.scroll = d.scroll.saturating_sub(10),
            Action::Top => d.scroll = 0,
            Action::Bottom => d.scroll = max,
            _ => {}
        }
        d.scroll = d.scroll.min(max);
        self.overlay = Some(Overlay::Describe(d));
    }

    /// Keep the described object current as data arrives (it stays as last seen if it leaves
    /// the loaded page).
    pub(super) fn refresh_describe(&mut self) {
        let Some(Overlay::Describe(d)) = &self.overlay else {
            return;
        };
        if let Some(v) = self.lookup(&d.target)
            && v != d.value
            && let Some(Overlay::Describe(d)) = self.overlay.as_mut()
        {
            d.value = v;
        }
    }
}

#[cfg(test)]
#[path = "app_describe_tests.rs"]
mod tests;
