//! The state machine's drill-downs between agents and runs: an agent's current and recent
//! steps (Enter in Agents), one of them opened on its log (Enter in Agent steps), and a run
//! step's agent (`A` in Run detail).

use super::super::action::ViewId;
use super::super::views::agent_steps::AgentStepsState;
use super::App;

impl App {
    /// Enter on an agent: its current and recent steps.
    pub(super) fn open_agent_steps(&mut self) {
        let Some(a) = self.agents.window.selected_item() else {
            return;
        };
        self.agent_steps = Some(AgentStepsState::new(a.name.clone()));
        self.back.push(ViewId::Agents);
        self.view = ViewId::AgentSteps;
    }

    /// Enter on one of an agent's steps: its run, on that step's log.
    pub(super) fn open_agent_step(&mut self) {
        let Some(s) = self
            .agent_steps
            .as_ref()
            .and_then(AgentStepsState::selected_step)
        else {
            return;
        };
        let (run, step) = (s.run_id.clone(), s.step_id.clone());
        self.open_run(run);
        if let Some(d) = self.detail.as_mut() {
            d.focus = Some(step);
        }
    }

    /// `A` in Run detail: the Agents view, filtered to the selected step's agent.
    pub(super) fn step_agent(&mut self) {
        let Some(d) = self
            .detail
            .as_ref()
            .filter(|_| self.view == ViewId::RunDetail)
        else {
            return;
        };
        let step = d.selected_step();
        let agent = d.data.as_ref().and_then(|data| {
            data.steps
                .iter()
                .find(|s| Some(&s.step_id) == step.as_ref())
                .and_then(|s| s.agent.clone())
        });
        match agent {
            Some(name) => {
                self.back.push(ViewId::RunDetail);
                self.view = ViewId::Agents;
                self.agents.text = Some(name);
                self.agents.window.reset();
            }
            None => self.say("This step has had no agent yet.", false),
        }
    }
}
