//! Runs: every run, newest (or oldest) first, one page at a time, filtered by status, workflow,
//! schedule and text (`/status:failed wf:deploy sched:nightly 01JD`), sorted by any column (`<`
//! `>` `R`); enter opens Run detail.

use imx::control::{RunQuery, RunSort};
use imx::model::{Run, RunStatus, short_id};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Row, Table};

use super::super::app::App;
use super::super::format;
use super::super::sort::Sort;
use super::super::window::{PAGE, Window, scroll_offset};

/// The sortable columns (the table's first, the status symbol, is not).
pub const COLUMNS: [&str; 6] = ["ID", "WORKFLOW", "STATUS", "STEPS", "AGE", "DURATION"];
/// AGE: ordered by the control plane (newest / oldest first), across every page.
const AGE: usize = 4;

/// The Runs view's state: one window of runs and the query behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunsState {
    pub window: Window<Run>,
    pub status: Option<RunStatus>,
    pub workflow: Option<String>,
    /// Only the runs this schedule's ticks made.
    pub schedule: Option<String>,
    pub text: Option<String>,
    /// The control plane's order (by creation time).
    pub sort: RunSort,
    /// The table's sort column; any but AGE sorts the loaded page.
    pub order: Sort,
    /// `:since`: only runs created at or after this time (ms).
    pub since: Option<i64>,
}

impl Default for RunsState {
    fn default() -> Self {
        RunsState {
            window: Window::default(),
            status: None,
            workflow: None,
            schedule: None,
            text: None,
            sort: RunSort::Newest,
            order: Sort::new(AGE, false),
            since: None,
        }
    }
}

impl RunsState {
    /// The query for the current page. A time range (`:since`) is the control plane's to
    /// apply, from its start rounded down to the minute (so the query changes once a minute,
    /// not with every tick); [`trim_since`](Self::trim_since) cuts exactly.
    pub fn query(&self) -> RunQuery {
        RunQuery {
            status: self.status,
            workflow: self.workflow.clone(),
            text: self.text.clone(),
            schedule: self.schedule.clone(),
            sort: self.sort,
            cursor: self.window.start.clone(),
            limit: PAGE,
            since: self.since.map(|t| t - t.rem_euclid(60_000)),
        }
    }

    /// Drop the loaded runs older than the time range; newest first, the pages after one that
    /// reached past the range hold only older runs, so there is no next page.
    pub fn trim_since(&mut self) {
        let Some(t) = self.since else { return };
        let w = &mut self.window;
        let before = w.items.len();
        w.items.retain(|r| r.created_at >= t);
        if w.items.len() < before && self.sort == RunSort::Newest {
            w.next = None;
        }
        w.selected = w.selected.min(w.items.len().saturating_sub(1));
    }

    /// Parse `status:S wf:W sched:S free text`; an unknown status is an error and changes
    /// nothing.
    pub fn set_filter(&mut self, filter: &str) -> Result<(), String> {
        let mut status = None;
        let mut workflow = None;
        let mut schedule = None;
        let mut words = Vec::new();
        for word in filter.split_whitespace() {
            if let Some(s) = word
                .strip_prefix("status:")
                .or_else(|| word.strip_prefix("s:"))
            {
                status = Some(s.parse::<RunStatus>()?);
            } else if let Some(w) = word
                .strip_prefix("workflow:")
                .or_else(|| word.strip_prefix("wf:"))
            {
                workflow = Some(w.to_string());
            } else if let Some(s) = word
                .strip_prefix("schedule:")
                .or_else(|| word.strip_prefix("sched:"))
            {
                schedule = Some(s.to_string());
            } else {
                words.push(word);
            }
        }
        self.status = status;
        self.workflow = workflow;
        self.schedule = schedule;
        self.text = (!words.is_empty()).then(|| words.join(" "));
        self.window.reset();
        Ok(())
    }

    /// The filter as typed (to edit it again).
    pub fn filter_text(&self) -> String {
        let mut parts = Vec::new();
        if let Some(s) = self.status {
            parts.push(format!("status:{s}"));
        }
        if let Some(w) = &self.workflow {
            parts.push(format!("wf:{w}"));
        }
        if let Some(s) = &self.schedule {
            parts.push(format!("sched:{s}"));
        }
        if let Some(t) = &self.text {
            parts.push(t.clone());
        }
        parts.join(" ")
    }

    pub fn has_filter(&self) -> bool {
        self.status.is_some()
            || self.workflow.is_some()
            || self.schedule.is_some()
            || self.text.is_some()
    }

    /// All → queued → running → … → timed_out → all.
    pub fn cycle_status(&mut self) {
        let all = RunStatus::ALL;
        self.status = match self.status {
            None => Some(all[0]),
            Some(s) => all
                .iter()
                .position(|x| *x == s)
                .and_then(|i| all.get(i + 1))
                .copied(),
        };
        self.window.reset();
    }

    /// `o`: newest ↔ oldest first (by AGE, across every page).
    pub fn toggle_sort(&mut self) {
        self.sort = match self.sort {
            RunSort::Newest => RunSort::Oldest,
            RunSort::Oldest => RunSort::Newest,
        };
        self.order = Sort::new(AGE, self.sort == RunSort::Oldest);
        self.window.reset();
    }

    /// `<` `>` (`right`) or `R` (`None`): change the sort; by AGE the control plane orders every
    /// page, by any other column the loaded page is sorted here.
    pub fn change_order(&mut self, right: Option<bool>, now: i64) {
        match right {
            Some(r) => self.order.step(r, COLUMNS.len()),
            None => self.order.reverse(),
        }
        if self.order.column == AGE {
            let sort = if self.order.descending {
                RunSort::Oldest
            } else {
                RunSort::Newest
            };
            if sort != self.sort {
                self.sort = sort;
                self.window.reset();
            }
        }
        self.resort(now);
    }

    /// Sort the loaded page by the sort column (AGE: already in the control plane's order).
    pub fn resort(&mut self, now: i64) {
        if self.order.column == AGE {
            return;
        }
        let w = &mut self.window;
        self.order
            .apply(&mut w.items, &mut w.selected, |col, a, b| match col {
                0 => a.id.cmp(&b.id),
                1 => (&a.workflow, a.workflow_version).cmp(&(&b.workflow, b.workflow_version)),
                2 => a.status.as_str().cmp(b.status.as_str()),
                3 => (a.steps_succeeded, a.steps_total).cmp(&(b.steps_succeeded, b.steps_total)),
                5 => a.duration_ms(now).cmp(&b.duration_ms(now)),
                _ => b.created_at.cmp(&a.created_at),
            });
    }
}

/// Draw the runs table.
pub fn draw(f: &mut Frame, area: Rect, app: &App, theme: super::super::theme::Theme) {
    let s = &app.runs;
    let w = &s.window;
    let order = match s.sort {
        RunSort::Newest => "newest first",
        RunSort::Oldest => "oldest first",
    };
    let mut title = vec![
        Span::styled(" Runs ", theme.title()),
        Span::raw(format!("· {order} ")),
    ];
    if s.has_filter() {
        title.push(Span::styled(
            format!("· /{} ", s.filter_text()),
            theme.key(),
        ));
    }
    if let Some(since) = &app.since {
        title.push(Span::styled(
            format!("· since {} ", since.text),
            theme.key(),
        ));
    }
    let range = if w.items.is_empty() {
        "· none ".to_string()
    } else {
        format!(
            "· {}–{}{} ",
            w.first_row() + 1,
            w.first_row() + w.items.len(),
            if w.next.is_some() { "+" } else { "" }
        )
    };
    title.push(Span::styled(range, theme.dim()));
    title.extend(super::hidden_note(s.order.hidden, theme));
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Line::from(title));
    let height = usize::from(area.height.saturating_sub(3));
    let offset = scroll_offset(w.selected, height);
    let rows = w
        .items
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, r)| {
            let style = if i == w.selected {
                theme.selected()
            } else {
                ratatui::style::Style::default()
            };
            let symbol = Cell::from(Span::styled(
                format::run_symbol(r.status),
                theme.run(r.status),
            ));
            let cells = s.order.hidden.keep([
                Cell::from(short_id(&r.id).to_string()),
                Cell::from(format!("{} v{}", r.workflow, r.workflow_version)),
                Cell::from(Span::styled(format::run_status(r), theme.run(r.status))),
                Cell::from(format!("{}/{}", r.steps_succeeded, r.steps_total)),
                Cell::from(format::age(app.now, r.created_at)),
                Cell::from(
                    r.duration_ms(app.now)
                        .map(format::duration)
                        .unwrap_or_default(),
                ),
            ]);
            Row::new(std::iter::once(symbol).chain(cells)).style(style)
        });
    let widths = s.order.hidden.keep([
        Constraint::Length(12),
        Constraint::Min(12),
        Constraint::Length(9),
        Constraint::Length(7),
        Constraint::Length(5),
        Constraint::Length(9),
    ]);
    let table = Table::new(rows, std::iter::once(Constraint::Length(1)).chain(widths))
        .header(
            Row::new(std::iter::once(String::new()).chain(s.order.header(&COLUMNS)))
                .style(theme.header_row()),
        )
        .block(block);
    f.render_widget(table, area);
    if w.items.is_empty() {
        super::empty(
            f,
            area,
            if w.loaded {
                "No runs match."
            } else {
                "Loading…"
            },
            theme,
        );
    }
}
