//! A window onto a long, cursor-paged list (runs, agents): the dashboard holds one page at a
//! time and asks the control plane for the next or previous page as the selection crosses an
//! edge, so a million rows cost no more than a hundred.

use imx::model::Page;

/// Rows fetched per page.
pub const PAGE: u32 = 100;

/// One page of a paged list, the selection in it, and how to reach its neighbours.
#[derive(Debug, Clone, PartialEq)]
pub struct Window<T> {
    pub items: Vec<T>,
    pub selected: usize,
    /// The cursor this page starts after (`None`: the first page).
    pub start: Option<String>,
    /// Where the earlier pages start, nearest last.
    back: Vec<Option<String>>,
    /// Where the next page starts, if there is one.
    pub next: Option<String>,
    /// Whether a page has arrived since the query last changed.
    pub loaded: bool,
    /// After stepping back a page, select its last row when it arrives.
    select_last: bool,
}

impl<T> Default for Window<T> {
    fn default() -> Self {
        Window {
            items: Vec::new(),
            selected: 0,
            start: None,
            back: Vec::new(),
            next: None,
            loaded: false,
            select_last: false,
        }
    }
}

impl<T> Window<T> {
    /// Back to the first page (the query changed).
    pub fn reset(&mut self) {
        *self = Window::default();
    }

    /// The 0-based index of the current page.
    pub fn page(&self) -> usize {
        self.back.len()
    }

    /// The absolute position of the first row of this page.
    pub fn first_row(&self) -> usize {
        self.page() * PAGE as usize
    }

    pub fn selected_item(&self) -> Option<&T> {
        self.items.get(self.selected)
    }

    /// A page arrived; the selected row stays on the same item (by `key`) if it is still there,
    /// so rows arriving live above it do not move the selection.
    pub fn replace_keeping<K: PartialEq>(&mut self, page: Page<T>, key: impl Fn(&T) -> K) {
        let keep = self.items.get(self.selected).map(&key);
        self.replace(page);
        if let Some(k) = keep
            && let Some(i) = self.items.iter().position(|t| key(t) == k)
        {
            self.selected = i;
        }
    }

    /// A page arrived.
    pub fn replace(&mut self, page: Page<T>) {
        self.items = page.items;
        self.next = page.next_cursor;
        self.loaded = true;
        if self.select_last {
            self.selected = self.items.len().saturating_sub(1);
            self.select_last = false;
        }
        self.selected = self.selected.min(self.items.len().saturating_sub(1));
    }

    /// Move the selection by `delta` rows, crossing into the next or previous page at an edge.
    pub fn step(&mut self, delta: isize) {
        let len = self.items.len();
        if delta > 0 {
            let target = self.selected.saturating_add(delta.unsigned_abs());
            if target < len {
                self.selected = target;
            } else if let Some(next) = self.next.clone() {
                self.back.push(self.start.take());
                self.start = Some(next);
                self.selected = 0;
                self.loaded = false;
            } else {
                self.selected = len.saturating_sub(1);
            }
        } else if delta < 0 {
            let up = delta.unsigned_abs();
            if self.selected >= up {
                self.selected -= up;
            } else if let Some(prev) = self.back.pop() {
                self.start = prev;
                self.select_last = true;
                self.loaded = false;
            } else {
                self.selected = 0;
            }
        }
    }

    /// First row of the first page.
    pub fn top(&mut self) {
        if self.back.is_empty() {
            self.selected = 0;
        } else {
            self.reset();
        }
    }

    /// Last row of this page.
    pub fn bottom(&mut self) {
        self.selected = self.items.len().saturating_sub(1);
    }
}

/// The first visible row so that `selected` stays on screen in `height` rows.
pub fn scroll_offset(selected: usize, height: usize) -> usize {
    if height == 0 || selected < height {
        0
    } else {
        selected + 1 - height
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(from: u32, n: u32, next: Option<&str>) -> Page<u32> {
        Page {
            items: (from..from + n).collect(),
            next_cursor: next.map(String::from),
        }
    }

    #[test]
    fn crossing_the_bottom_asks_for_the_next_page_and_back_returns() {
        let mut w = Window::default();
        w.replace(page(0, 3, Some("c2")));
        w.step(1);
        w.step(1);
        assert_eq!(w.selected, 2);
        w.step(1);
        assert_eq!(w.start.as_deref(), Some("c2"));
        assert_eq!((w.page(), w.selected, w.loaded), (1, 0, false));
        w.replace(page(3, 3, None));
        w.step(5);
        assert_eq!(w.selected, 2, "no next page: stay on the last row");
        w.selected = 0;
        w.step(-1);
        assert_eq!((w.start.clone(), w.page()), (None, 0));
        w.replace(page(0, 3, Some("c2")));
        assert_eq!(
            w.selected, 2,
            "stepping back lands on the previous page's last row"
        );
    }

    #[test]
    fn the_selection_follows_its_item_when_rows_arrive_above() {
        let mut w = Window::default();
        w.replace(page(10, 3, None));
        w.step(1);
        assert_eq!(w.selected_item(), Some(&11));
        w.replace_keeping(page(8, 5, None), |x| *x);
        assert_eq!(w.selected_item(), Some(&11));
    }

    #[test]
    fn offsets_keep_the_selection_visible() {
        assert_eq!(scroll_offset(3, 10), 0);
        assert_eq!(scroll_offset(10, 10), 1);
        assert_eq!(scroll_offset(5, 0), 0);
    }
}
