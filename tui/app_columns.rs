//! The state machine's side of the column picker (`C`): opening it on a table, its keys (move,
//! toggle, close), and which table's hidden columns a toggle changes. The picker's state is
//! [`Picker`]; what is hidden is each table's [`Hidden`], kept with its sort.

use super::super::action::{Action, ViewId};
use super::super::columns::{self, Hidden, Picker};
use super::{App, Overlay};

impl App {
    /// `C` in a view: the picker for its table, or a word that it has none.
    pub(super) fn open_columns(&mut self) {
        match columns::names(self.view) {
            Some(_) => {
                self.overlay = Some(Overlay::Columns(Picker {
                    view: self.view,
                    selected: 0,
                }));
            }
            None => self.say("This view has no columns to pick.", false),
        }
    }

    /// Keys in the column picker: move, toggle (space, enter), close (esc, `C`).
    pub(super) fn picker_key(&mut self, mut p: Picker, action: &Action) {
        let n = columns::names(p.view).map_or(0, <[&str]>::len);
        match action {
            Action::Back | Action::Columns => return,
            Action::Up => p.selected = p.selected.saturating_sub(1),
            Action::Down => p.selected = (p.selected + 1).min(n.saturating_sub(1)),
            Action::Top => p.selected = 0,
            Action::Bottom => p.selected = n.saturating_sub(1),
            Action::Toggle | Action::Enter => {
                let done = self
                    .hidden_mut(p.view)
                    .is_some_and(|h| h.toggle(p.selected, n));
                if !done {
                    self.say("At least one column stays.", true);
                }
            }
            _ => {}
        }
        self.overlay = Some(Overlay::Columns(p));
    }

    /// The hidden columns of table `v`.
    fn hidden_mut(&mut self, v: ViewId) -> Option<&mut Hidden> {
        match v {
            ViewId::Runs => Some(&mut self.runs.order.hidden),
            ViewId::Agents => Some(&mut self.agents.order.hidden),
            ViewId::Workflows => Some(&mut self.workflows.order.hidden),
            ViewId::Audit => Some(&mut self.audit.order.hidden),
            ViewId::Schedules => Some(&mut self.schedules.order.hidden),
            ViewId::Overview | ViewId::RunDetail | ViewId::AgentSteps => None,
        }
    }
}
