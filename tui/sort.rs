//! Sorting a table by any of its columns: which column, which way, how the header marks it
//! (▲ ascending, ▼ descending), and re-ordering rows while the selection stays on its item.
//! Sorting is done here on the rows the dashboard holds (the loaded page) unless the control
//! plane orders by that column itself (the Runs view's AGE: newest / oldest first).

use std::cmp::Ordering;

use super::columns::Hidden;

/// The column a table is sorted by (an index into its sortable columns) and the direction,
/// and the columns hidden from view (`C`), which `<` `>` step over.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sort {
    pub column: usize,
    pub descending: bool,
    pub hidden: Hidden,
}

impl Sort {
    pub const fn new(column: usize, descending: bool) -> Self {
        Sort {
            column,
            descending,
            hidden: Hidden::EMPTY,
        }
    }

    /// `<` / `>`: the visible column to the left or right of `n` columns (stopping at the
    /// edges); a new column starts ascending.
    pub fn step(&mut self, right: bool, n: usize) {
        let visible = |c: &usize| !self.hidden.is(*c);
        let to = if right {
            (self.column + 1..n).find(visible)
        } else {
            (0..self.column).rev().find(visible)
        }
        .unwrap_or(self.column);
        if to != self.column {
            self.column = to;
            self.descending = false;
        }
    }

    pub fn reverse(&mut self) {
        self.descending = !self.descending;
    }

    /// The visible columns' names, the sort column marked.
    pub fn header(&self, names: &[&str]) -> Vec<String> {
        self.hidden.keep(names.iter().enumerate().map(|(i, n)| {
            if i == self.column {
                format!("{n}{}", if self.descending { "▼" } else { "▲" })
            } else {
                (*n).to_string()
            }
        }))
    }

    /// Order `items` by `cmp` on the sort column (stable: ties keep the control plane's order),
    /// keeping `selected` on the same item.
    pub fn apply<T>(
        &self,
        items: &mut Vec<T>,
        selected: &mut usize,
        cmp: impl Fn(usize, &T, &T) -> Ordering,
    ) {
        if items.is_empty() {
            return;
        }
        let mut indexed: Vec<(usize, T)> = items.drain(..).enumerate().collect();
        indexed.sort_by(|(_, a), (_, b)| {
            let o = cmp(self.column, a, b);
            if self.descending { o.reverse() } else { o }
        });
        let at = *selected;
        *selected = indexed.iter().position(|(i, _)| *i == at).unwrap_or(0);
        items.extend(indexed.into_iter().map(|(_, t)| t));
    }
}

#[cfg(test)]
mod tests {
    use super::Sort;

    #[test]
    fn steps_stop_at_the_edges_and_a_new_column_starts_ascending() {
        let mut s = Sort::new(1, true);
        s.step(false, 3);
        assert_eq!(s, Sort::new(0, false));
        s.step(false, 3);
        assert_eq!(s, Sort::new(0, false));
        s.reverse();
        s.step(true, 3);
        s.step(true, 3);
        s.step(true, 3);
        assert_eq!(s, Sort::new(2, false));
        assert_eq!(s.header(&["A", "B", "C"]), ["A", "B", "C▲"]);
    }

    #[test]
    fn steps_skip_hidden_columns() {
        let mut s = Sort::new(0, false);
        s.hidden.toggle(1, 4);
        s.hidden.toggle(3, 4);
        s.step(true, 4);
        assert_eq!(s.column, 2);
        s.step(true, 4);
        assert_eq!(s.column, 2, "only hidden columns to the right");
        s.step(false, 4);
        assert_eq!(s.column, 0);
        assert_eq!(s.header(&["A", "B", "C", "D"]), ["A▲", "C"]);
    }

    #[test]
    fn apply_is_stable_and_keeps_the_selected_item() {
        let mut items = vec![(2, 'a'), (1, 'b'), (2, 'c'), (0, 'd')];
        let mut selected = 2; // (2, 'c')
        Sort::new(0, true).apply(&mut items, &mut selected, |_, a, b| a.0.cmp(&b.0));
        assert_eq!(items, [(2, 'a'), (2, 'c'), (1, 'b'), (0, 'd')]);
        assert_eq!(items[selected], (2, 'c'));
    }
}
