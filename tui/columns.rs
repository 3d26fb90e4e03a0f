//! Column toggles: which of a table's columns are hidden (kept for the session, with the
//! table's sort), and the picker that shows and toggles them (`C`). A hidden column's width
//! goes to the table's flexible columns.

use super::action::ViewId;

/// A table's hidden columns, by index into its column names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Hidden(u32);

impl Hidden {
    pub const EMPTY: Hidden = Hidden(0);

    pub fn is(self, i: usize) -> bool {
        i < 32 && self.0 & (1 << i) != 0
    }

    /// Hide or show column `i` of `n`; the last visible column stays (`false`: refused).
    pub fn toggle(&mut self, i: usize, n: usize) -> bool {
        if i >= n.min(32) {
            return false;
        }
        let visible = (0..n).filter(|c| !self.is(*c)).count();
        if !self.is(i) && visible <= 1 {
            return false;
        }
        self.0 ^= 1 << i;
        true
    }

    pub fn count(self) -> usize {
        self.0.count_ones() as usize
    }

    /// The items of the visible columns (cells, widths, header names).
    pub fn keep<T>(self, items: impl IntoIterator<Item = T>) -> Vec<T> {
        items
            .into_iter()
            .enumerate()
            .filter(|(i, _)| !self.is(*i))
            .map(|(_, t)| t)
            .collect()
    }
}

/// The picker: the table it is for and the selected column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Picker {
    pub view: ViewId,
    pub selected: usize,
}

/// A table view's column names (`None`: the view is no table).
pub fn names(view: ViewId) -> Option<&'static [&'static str]> {
    use super::views::{agents, audit, runs, schedules, workflows};
    match view {
        ViewId::Runs => Some(&runs::COLUMNS),
        ViewId::Agents => Some(&agents::COLUMNS),
        ViewId::Workflows => Some(&workflows::COLUMNS),
        ViewId::Audit => Some(&audit::COLUMNS),
        ViewId::Schedules => Some(&schedules::COLUMNS),
        ViewId::Overview | ViewId::RunDetail | ViewId::AgentSteps => None,
    }
}

#[cfg(test)]
mod tests {
    use super::Hidden;

    #[test]
    fn toggles_keep_one_column_and_keep_filters() {
        let mut h = Hidden::default();
        assert!(h.toggle(1, 3));
        assert!(h.toggle(0, 3));
        assert!(!h.toggle(2, 3), "the last visible column stays");
        assert!(!h.toggle(7, 3), "no such column");
        assert_eq!(h.count(), 2);
        assert_eq!(h.keep(["a", "b", "c"]), ["c"]);
        assert!(h.toggle(1, 3));
        assert_eq!(h.keep(["a", "b", "c"]), ["b", "c"]);
    }
}
