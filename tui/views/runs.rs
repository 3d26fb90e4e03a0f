//! Runs: every run, newest (or oldest) first, one page at a time, filtered by status, workflow,
//! schedule, labels and text (`/status:failed wf:deploy sched:nightly pr=42 01JD`;
//! `status:waiting`: runs with an approval step waiting), sorted by any column (`<` `>` `R`);
//! enter opens Run detail. Each row shows the run's labels (`k=v,k=v`, cut to fit) and marks a
//! run whose approval step waits for a person (`⏸ waiting`).

use std::collections::BTreeMap;

use imx::control::{RunQuery, RunSort};
use imx::model::{Run, RunStatus, StepStatus, short_id};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Row, Table};

use super::super::app::App;
use super::super::format;
use super::super::sort::Sort;
use super::super::window::{PAGE, Window, scroll_offset};

/// The sortable columns (the table's first, the status symbol, is not).
pub const COLUMNS: [&str; 7] = [
    "ID", "WORKFLOW", "STATUS", "STEPS", "AGE", "DURATION", "LABELS",
];
/// AGE: ordered by the control plane (newest / oldest first), across every page.
const AGE: usize = 4;
/// WORKFLOW and LABELS share the width the other columns leave.
const WORKFLOW: usize = 1;
const LABELS: usize = 6;
/// The fixed widths of the columns (WORKFLOW and LABELS: their least).
const WIDTHS: [u16; 7] = [12, 12, 9, 7, 5, 9, 6];
/// The symbol a run with an approval step waiting shows, and its status text.
pub const WAITING_SYMBOL: &str = "⏸";
const WAITING: &str = "waiting";

/// The Runs view's state: one window of runs and the query behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunsState {
    pub window: Window<Run>,
    pub status: Option<RunStatus>,
    pub workflow: Option<String>,
    /// Only the runs this schedule's ticks made.
    pub schedule: Option<String>,
    /// Only runs with all these labels (`/pr=42`, `/label:pr=42,sha=abc`).
    pub labels: BTreeMap<String, String>,
    /// Only runs with an approval step waiting (`/status:waiting`).
    pub waiting: bool,
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
            labels: BTreeMap::new(),
            waiting: false,
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
            labels: self.labels.clone(),
            waiting: self.waiting,
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

    /// Parse `status:S wf:W sched:S label:K=V K=V free text` (`status:waiting`: runs with an
    /// approval step waiting; a word with `=` is a label, several must all match); an unknown
    /// status or a bad label is an error and changes nothing.
    pub fn set_filter(&mut self, filter: &str) -> Result<(), String> {
        let mut status = None;
        let mut waiting = false;
        let mut workflow = None;
        let mut schedule = None;
        let mut labels = BTreeMap::new();
        let mut words = Vec::new();
        for word in filter.split_whitespace() {
            if let Some(s) = word
                .strip_prefix("status:")
                .or_else(|| word.strip_prefix("s:"))
            {
                if s == WAITING {
                    waiting = true;
                } else {
                    status = Some(s.parse::<RunStatus>().map_err(|e| {
                        format!("{e}; or {WAITING}: runs with an approval step waiting")
                    })?);
                }
            } else if let Some(l) = word
                .strip_prefix("label:")
                .or_else(|| word.strip_prefix("l:"))
                .or_else(|| word.contains('=').then_some(word))
            {
                for (k, v) in imx::model::labels::parse_selector(l).map_err(|e| e.to_string())? {
                    if labels.get(&k).is_some_and(|old| *old != v) {
                        return Err(format!("label {k:?} is given two values; no run has both"));
                    }
                    labels.insert(k, v);
                }
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
        self.waiting = waiting;
        self.workflow = workflow;
        self.schedule = schedule;
        self.labels = labels;
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
        if self.waiting {
            parts.push(format!("status:{WAITING}"));
        }
        if let Some(w) = &self.workflow {
            parts.push(format!("wf:{w}"));
        }
        if let Some(s) = &self.schedule {
            parts.push(format!("sched:{s}"));
        }
        parts.extend(self.labels.iter().map(|(k, v)| format!("{k}={v}")));
        if let Some(t) = &self.text {
            parts.push(t.clone());
        }
        parts.join(" ")
    }

    pub fn has_filter(&self) -> bool {
        self.status.is_some()
            || self.waiting
            || !self.labels.is_empty()
            || self.workflow.is_some()
            || self.schedule.is_some()
            || self.text.is_some()
    }

    /// All → queued → running → … → timed_out → all (from `status:waiting`: queued).
    pub fn cycle_status(&mut self) {
        self.waiting = false;
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
                LABELS => labels_text(a).cmp(&labels_text(b)),
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
    let hidden = s.order.hidden;
    let labels_w = labels_width(app, area.width);
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
            let (symbol, status) = if waits(r) {
                (
                    Span::styled(WAITING_SYMBOL, theme.step(StepStatus::Waiting)),
                    Span::styled(WAITING, theme.step(StepStatus::Waiting)),
                )
            } else {
                (
                    Span::styled(format::run_symbol(r.status), theme.run(r.status)),
                    Span::styled(format::run_status(r), theme.run(r.status)),
                )
            };
            let symbol = Cell::from(symbol);
            let cells = hidden.keep([
                Cell::from(short_id(&r.id).to_string()),
                Cell::from(format!("{} v{}", r.workflow, r.workflow_version)),
                Cell::from(status),
                Cell::from(format!("{}/{}", r.steps_succeeded, r.steps_total)),
                Cell::from(format::age(app.now, r.created_at)),
                Cell::from(
                    r.duration_ms(app.now)
                        .map(format::duration)
                        .unwrap_or_default(),
                ),
                Cell::from(Span::styled(
                    format::fit(&labels_text(r), usize::from(labels_w)),
                    theme.dim(),
                )),
            ]);
            Row::new(std::iter::once(symbol).chain(cells)).style(style)
        });
    let widths = hidden.keep(WIDTHS.iter().enumerate().map(|(i, w)| match i {
        WORKFLOW => Constraint::Min(*w),
        LABELS => Constraint::Length(labels_w),
        _ => Constraint::Length(*w),
    }));
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

/// Whether the run shows as waiting: not ended, with an approval step waiting for a person.
fn waits(r: &Run) -> bool {
    r.awaiting_approval && !r.status.is_terminal()
}

/// A run's labels as the LABELS column shows them: `k=v,k=v` (keys in order).
fn labels_text(r: &Run) -> String {
    imx::model::labels::selector_text(&r.labels)
}

/// The LABELS column's width in a table `width` wide: the longest labels of the loaded page,
/// but no more than WORKFLOW leaves (the workflow names come first) and at least the header.
fn labels_width(app: &App, width: u16) -> u16 {
    let s = &app.runs;
    let hidden = s.order.hidden;
    if hidden.is(LABELS) {
        return 0;
    }
    let widest = |f: &dyn Fn(&Run) -> usize| s.window.items.iter().map(f).max().unwrap_or(0);
    let want = widest(&|r| labels_text(r).chars().count()).max(COLUMNS[LABELS].len());
    // Borders, the symbol column and one space between each two visible columns.
    let visible = (0..COLUMNS.len()).filter(|i| !hidden.is(*i)).count();
    let fixed: usize = (0..COLUMNS.len())
        .filter(|i| !hidden.is(*i) && *i != LABELS && *i != WORKFLOW)
        .map(|i| usize::from(WIDTHS[i]))
        .sum::<usize>()
        + 2
        + 1
        + visible;
    let workflow = if hidden.is(WORKFLOW) {
        0
    } else {
        widest(&|r| {
            format!("{} v{}", r.workflow, r.workflow_version)
                .chars()
                .count()
        })
        .max(usize::from(WIDTHS[WORKFLOW]))
    };
    let left = usize::from(width).saturating_sub(fixed + workflow);
    let min = usize::from(WIDTHS[LABELS]);
    u16::try_from(want.min(left).max(min)).unwrap_or(u16::MAX)
}
