//! The state machine's side of approval steps in Run detail: `v` asks to approve the selected
//! step when it is an approval step waiting for a decision (who may is the control plane's
//! check: a refusal comes back as the mutation's message); the summary line and the step's
//! empty log say what it waits for.

use imx::model::StepStatus;

use super::super::action::{Mutation, ViewId};
use super::App;

impl App {
    /// `v` in Run detail on the selected step.
    pub(super) fn approve_step(&mut self) {
        let Some(d) = self
            .detail
            .as_ref()
            .filter(|_| self.view == ViewId::RunDetail)
        else {
            return;
        };
        let Some(data) = d.data.as_ref() else {
            return;
        };
        let selected = d.selected_step();
        let step = data
            .steps
            .iter()
            .find(|s| Some(&s.step_id) == selected.as_ref());
        match step {
            Some(s) if s.status == StepStatus::Waiting => {
                let m = Mutation::ApproveStep {
                    run: data.run.id.clone(),
                    step: s.step_id.clone(),
                };
                self.overlay = Some(super::Overlay::Confirm(m));
            }
            Some(s) if s.approval.is_some() => {
                let msg = format!(
                    "Step {} is {}, not waiting for approval.",
                    s.step_id, s.status
                );
                self.say(msg, false);
            }
            _ => self.say("Select an approval step that is waiting (⏸).", false),
        }
    }
}
