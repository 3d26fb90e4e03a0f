//! The state machine's side of the Schedules view: enter shows the selected schedule's runs
//! (the Runs view filtered by `sched:NAME`), and `p` `r` `t` ask to pause, resume or trigger it
//! (refused, with a word why, for a role that may only read, and for a pause of a paused
//! schedule or a resume of an active one).

use imx::auth::Permission;

use super::super::action::{Action, Mutation, ViewId};
use super::App;

impl App {
    /// Enter on a schedule: the runs its ticks made, newest first.
    pub(super) fn open_schedule_runs(&mut self) {
        let Some(name) = self.schedules.selected_item().map(|s| s.name.clone()) else {
            return;
        };
        self.back.push(ViewId::Schedules);
        let _ = self.runs.set_filter(&format!("sched:{name}"));
        self.view = ViewId::Runs;
    }

    /// `p`, `r` or `t` on the selected schedule.
    pub(super) fn schedule_key(&mut self, action: &Action) {
        if !self.can(Permission::ManageWorkflows) {
            self.ask(Permission::ManageWorkflows, None);
            return;
        }
        let Some(s) = self.schedules.selected_item() else {
            self.say("No schedule selected.", false);
            return;
        };
        let name = s.name.clone();
        let m = match (action, s.paused) {
            (Action::PauseSchedule, true) => {
                self.say(format!("Schedule {name} is paused already."), false);
                return;
            }
            (Action::ResumeSchedule, false) => {
                self.say(format!("Schedule {name} is not paused."), false);
                return;
            }
            (Action::PauseSchedule, false) => Mutation::PauseSchedule(name),
            (Action::ResumeSchedule, true) => Mutation::ResumeSchedule(name),
            _ => Mutation::TriggerSchedule(name),
        };
        self.ask(Permission::ManageWorkflows, Some(m));
    }
}

#[cfg(test)]
#[path = "app_schedules_tests.rs"]
mod tests;
