//! Workflows: each workflow's latest version, its older versions, and how its latest runs ended;
//! enter (or `s`) starts a run through the params form.

use imx::control::WorkflowOutcomes;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, Wrap};

use super::super::app::App;
use super::super::format;
use super::super::sort::Sort;
use super::super::theme::Theme;
use super::super::window::scroll_offset;

/// Runs per workflow whose outcomes are shown.
pub const RECENT: u32 = 10;

/// The Workflows view's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WorkflowsState {
    pub all: Vec<WorkflowOutcomes>,
    pub selected: usize,
    /// Part of the name to show (filtered here: there are few workflows).
    pub text: Option<String>,
    pub loaded: bool,
    /// The sort column (`<` `>` `R`).
    pub order: Sort,
}

/// The columns, each sortable.
pub const COLUMNS: [&str; 5] = ["NAME", "VER", "STEPS", "PARAMS", "RECENT RUNS"];

fn succeeded(w: &WorkflowOutcomes) -> usize {
    w.recent
        .iter()
        .filter(|(_, s)| *s == imx::model::RunStatus::Succeeded)
        .count()
}

impl WorkflowsState {
    pub fn set(&mut self, all: Vec<WorkflowOutcomes>) {
        let keep = self.selected_item().map(|w| w.name.clone());
        self.all = all;
        self.loaded = true;
        self.resort(keep);
    }

    /// `<` `>` (`right`) or `R` (`None`): change the sort.
    pub fn change_order(&mut self, right: Option<bool>) {
        let keep = self.selected_item().map(|w| w.name.clone());
        match right {
            Some(r) => self.order.step(r, COLUMNS.len()),
            None => self.order.reverse(),
        }
        self.resort(keep);
    }

    /// Sort by the sort column (RECENT RUNS: how many succeeded), keeping `keep` selected.
    fn resort(&mut self, keep: Option<String>) {
        let mut none = 0;
        self.order
            .apply(&mut self.all, &mut none, |col, a, b| match col {
                1 => a.version.cmp(&b.version),
                2 => a.steps.cmp(&b.steps),
                3 => a.params.len().cmp(&b.params.len()),
                4 => succeeded(a).cmp(&succeeded(b)),
                _ => a.name.cmp(&b.name),
            });
        let visible = self.visible();
        self.selected = keep
            .and_then(|k| visible.iter().position(|w| w.name == k))
            .unwrap_or(self.selected)
            .min(visible.len().saturating_sub(1));
    }

    pub fn visible(&self) -> Vec<&WorkflowOutcomes> {
        let t = self.text.as_deref().unwrap_or("").to_lowercase();
        self.all
            .iter()
            .filter(|w| t.is_empty() || w.name.to_lowercase().contains(&t))
            .collect()
    }

    pub fn selected_item(&self) -> Option<&WorkflowOutcomes> {
        self.visible().get(self.selected).copied()
    }
}

/// Draw the workflow table and the selected workflow's details.
pub fn draw(f: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let s = &app.workflows;
    let visible = s.visible();
    let [list, detail] = Layout::vertical([Constraint::Min(5), Constraint::Length(7)]).areas(area);
    let height = usize::from(list.height.saturating_sub(3));
    let offset = scroll_offset(s.selected, height);
    let rows = visible
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, w)| {
            let recent: Vec<Span> = w
                .recent
                .iter()
                .map(|(_, st)| Span::styled(format::run_symbol(*st), theme.run(*st)))
                .collect();
            Row::new(s.order.hidden.keep([
                Cell::from(w.name.clone()),
                Cell::from(format!("v{}", w.version)),
                Cell::from(w.steps.to_string()),
                Cell::from(w.params.len().to_string()),
                Cell::from(Line::from(recent)),
            ]))
            .style(if i == s.selected {
                theme.selected()
            } else {
                Style::default()
            })
        });
    let mut title = vec![Span::styled(" Workflows ", theme.title())];
    if let Some(t) = &s.text {
        title.push(Span::styled(format!("· /{t} "), theme.key()));
    }
    title.extend(super::hidden_note(s.order.hidden, theme));
    let table = Table::new(
        rows,
        s.order.hidden.keep([
            Constraint::Min(14),
            Constraint::Length(5),
            Constraint::Length(6),
            Constraint::Length(7),
            Constraint::Length(RECENT as u16 + 1),
        ]),
    )
    .header(Row::new(s.order.header(&COLUMNS)).style(theme.header_row()))
    .block(
        Block::default()
            .borders(Borders::ALL)
            .title(Line::from(title)),
    );
    f.render_widget(table, list);
    if visible.is_empty() {
        let msg = if s.loaded {
            "No workflows. Apply one with `imx workflow apply -f FILE`."
        } else {
            "Loading…"
        };
        super::empty(f, list, msg, theme);
    }
    let mut lines = Vec::new();
    if let Some(w) = s.selected_item() {
        lines.push(Line::from(vec![
            Span::styled(w.name.clone(), theme.key()),
            Span::raw(format!(
                " — {}",
                w.description.as_deref().unwrap_or("no description")
            )),
        ]));
        let versions: Vec<String> = w
            .versions
            .iter()
            .take(6)
            .map(|(v, at)| format!("v{v} ({} ago)", format::age(app.now, *at)))
            .collect();
        lines.push(Line::raw(format!("versions: {}", versions.join(", "))));
        let params: Vec<String> = w
            .params
            .iter()
            .map(|p| {
                if p.required {
                    format!("{}*", p.name)
                } else {
                    p.name.clone()
                }
            })
            .collect();
        lines.push(Line::raw(format!(
            "params: {}",
            if params.is_empty() {
                "none".into()
            } else {
                params.join(", ")
            }
        )));
        let ok = succeeded(w);
        lines.push(Line::raw(format!(
            "last {} runs: {} succeeded",
            w.recent.len(),
            ok
        )));
    }
    f.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: true }).block(
            Block::default()
                .borders(Borders::ALL)
                .title(Span::styled(" Details ", theme.dim())),
        ),
        detail,
    );
}
