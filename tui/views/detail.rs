//! Run detail: the run's DAG as a tree (each step's state, attempt, agent and duration), why steps
//! no agent can take are waiting (as the control plane says), and the selected step's log,
//! following live. Tab moves between the steps and the log.

use std::collections::BTreeMap;

use imx::model::{LogLine, RunDetail, RunStatus, StepState, StepStatus, short_id};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};

use super::super::action::Action;
use super::super::app::App;
use super::super::format;
use super::super::theme::Theme;
use super::super::window::scroll_offset;
use super::logpane::{self, LogPane, Look};

/// Which pane has the keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Steps,
    Logs,
}

/// The Run detail view's state.
#[derive(Debug, Clone, PartialEq)]
pub struct DetailState {
    pub run_id: String,
    pub data: Option<RunDetail>,
    /// The selected row of the tree.
    pub selected: usize,
    pub pane: Pane,
    /// The selected step's log (every step's when `all`).
    pub log: LogPane,
    /// Show every step's log, each line after its step.
    pub all: bool,
    /// The step to open on when the run arrives (from an agent's steps): its log is shown.
    pub focus: Option<String>,
}

/// One row of the tree: the step's index in `steps`, its tree prefix, and needs beyond the parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeRow {
    pub index: usize,
    pub prefix: String,
    pub also_needs: Vec<String>,
}

/// Lay the DAG out as a tree: each step hangs under its first need; other needs are listed.
pub fn tree(steps: &[StepState]) -> Vec<TreeRow> {
    let known: BTreeMap<&str, usize> = steps
        .iter()
        .enumerate()
        .map(|(i, s)| (s.step_id.as_str(), i))
        .collect();
    let mut children: BTreeMap<Option<usize>, Vec<usize>> = BTreeMap::new();
    for (i, s) in steps.iter().enumerate() {
        let parent = s.needs.first().and_then(|n| known.get(n.as_str()).copied());
        children.entry(parent).or_default().push(i);
    }
    let mut out = Vec::with_capacity(steps.len());
    fn walk(
        steps: &[StepState],
        children: &BTreeMap<Option<usize>, Vec<usize>>,
        parent: Option<usize>,
        indent: &str,
        out: &mut Vec<TreeRow>,
    ) {
        let Some(kids) = children.get(&parent) else {
            return;
        };
        for (n, &i) in kids.iter().enumerate() {
            let last = n + 1 == kids.len();
            let (branch, cont) = match (parent, last) {
                (None, _) => ("", ""),
                (Some(_), false) => ("├─ ", "│  "),
                (Some(_), true) => ("└─ ", "   "),
            };
            let step = &steps[i];
            out.push(TreeRow {
                index: i,
                prefix: format!("{indent}{branch}"),
                also_needs: step.needs.iter().skip(1).cloned().collect(),
            });
            if out.len() <= steps.len() {
                walk(steps, children, Some(i), &format!("{indent}{cont}"), out);
            }
        }
    }
    walk(steps, &children, None, "", &mut out);
    out
}

impl DetailState {
    pub fn new(run_id: String) -> Self {
        DetailState {
            run_id,
            data: None,
            selected: 0,
            pane: Pane::Steps,
            log: LogPane::default(),
            all: false,
            focus: None,
        }
    }

    /// The step whose log is shown.
    pub fn selected_step(&self) -> Option<String> {
        let d = self.data.as_ref()?;
        let rows = tree(&d.steps);
        let row = rows.get(self.selected)?;
        d.steps.get(row.index).map(|s| s.step_id.clone())
    }

    /// The step whose log the pane shows: `None` for all steps.
    pub fn log_step(&self) -> Option<String> {
        if self.all { None } else { self.selected_step() }
    }

    /// Whether the shown log can still grow: its step (any step, for all) is not finished.
    pub fn log_live(&self) -> bool {
        let Some(d) = self.data.as_ref() else {
            return true;
        };
        let live = |s: &StepState| !s.status.is_terminal();
        match self.log_step() {
            None => !d.run.status.is_terminal() || d.steps.iter().any(live),
            Some(id) => d.steps.iter().find(|s| s.step_id == id).is_some_and(live),
        }
    }

    /// Show every step's log (with a step prefix per line), or the selected step's again.
    pub fn toggle_all_steps(&mut self) {
        self.all = !self.all;
        self.log.clear();
        self.log.follow = true;
    }

    pub fn toggle_pane(&mut self) {
        self.pane = match self.pane {
            Pane::Steps => Pane::Logs,
            Pane::Logs => Pane::Steps,
        };
    }

    /// The run arrived or changed. It opens on the step asked for ([`focus`](Self::focus)), or
    /// a failed run on its (first) failed step's log.
    pub fn set_data(&mut self, d: RunDetail) {
        let first = self.data.is_none();
        self.selected = self.selected.min(d.steps.len().saturating_sub(1));
        let focus = self.focus.take().and_then(|id| {
            tree(&d.steps)
                .iter()
                .position(|r| d.steps[r.index].step_id == id)
        });
        if let Some(row) = focus.filter(|_| first) {
            self.selected = row;
            self.pane = Pane::Logs;
        } else if first && d.run.status == RunStatus::Failed {
            let failed = tree(&d.steps)
                .iter()
                .position(|r| d.steps[r.index].status == StepStatus::Failed);
            if let Some(row) = failed {
                self.selected = row;
                self.pane = Pane::Logs;
            }
        }
        self.data = Some(d);
    }

    pub fn add_logs(&mut self, lines: Vec<LogLine>, reset: bool, older: bool) {
        self.log.add(lines, reset, older);
    }

    pub fn navigate(&mut self, action: &Action, delta: isize) {
        match self.pane {
            Pane::Steps => {
                let len = self.data.as_ref().map_or(0, |d| d.steps.len());
                let before = self.selected;
                self.selected = match action {
                    Action::Top => 0,
                    Action::Bottom => len.saturating_sub(1),
                    _ => self
                        .selected
                        .saturating_add_signed(delta)
                        .min(len.saturating_sub(1)),
                };
                if self.selected != before {
                    self.log.clear();
                }
            }
            Pane::Logs => self.log.navigate(action, delta),
        }
    }
}

/// Draw the run summary, the step tree and the log.
pub fn draw(f: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let Some(d) = app.detail.as_ref() else {
        return;
    };
    let Some(data) = d.data.as_ref() else {
        let block = Block::default().borders(Borders::ALL).title(Span::styled(
            format!(" Run {} ", short_id(&d.run_id)),
            theme.title(),
        ));
        f.render_widget(block, area);
        super::empty(f, area, "Loading…", theme);
        return;
    };
    if d.log.fullscreen {
        draw_log(f, area, app, theme);
        return;
    }
    let run = &data.run;
    let rows = tree(&data.steps);
    let steps_h = u16::try_from(rows.len() + 3)
        .unwrap_or(u16::MAX)
        .min(area.height.saturating_sub(6).max(5));
    // A third summary line says why steps wait (or what approval they wait for), when any does.
    let approval_waits = data
        .steps
        .iter()
        .any(|s| s.status == imx::model::StepStatus::Waiting);
    let summary_h = if data.waiting.is_empty() && !approval_waits {
        2
    } else {
        3
    };
    let [summary, steps_area, logs_area] = Layout::vertical([
        Constraint::Length(summary_h),
        Constraint::Length(steps_h),
        Constraint::Min(3),
    ])
    .areas(area);

    let mut line1 = vec![
        Span::styled(format!(" Run {} ", short_id(&run.id)), theme.title()),
        Span::raw(format!("{} v{}  ", run.workflow, run.workflow_version)),
        Span::styled(
            format!("{} {}", format::run_symbol(run.status), run.status),
            theme.run(run.status),
        ),
        Span::raw(format!(
            "  {}/{} steps",
            run.steps_succeeded, run.steps_total
        )),
    ];
    if let Some(ms) = run.duration_ms(app.now) {
        line1.push(Span::raw(format!("  {}", format::duration(ms))));
    }
    let mut line2 = vec![Span::styled(
        format!(
            " by {} · created {} ago",
            run.created_by,
            format::age(app.now, run.created_at)
        ),
        theme.dim(),
    )];
    if let Some(queue) = format::queue_place(run) {
        line2.push(Span::styled(format!(" · {queue}"), theme.run(run.status)));
    }
    if let Some(old) = &run.rerun_of {
        line2.push(Span::styled(
            format!(" · rerun of {}", short_id(old)),
            theme.dim(),
        ));
    }
    if !run.labels.is_empty() {
        let labels: Vec<String> = run.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        line2.push(Span::styled(
            format!(" · {}", labels.join(",")),
            theme.dim(),
        ));
    }
    if let Some(e) = &run.error {
        line2.push(Span::styled(format!(" · {e}"), theme.error()));
    }
    let mut summary_lines = vec![Line::from(line1), Line::from(line2)];
    let approvals = data
        .steps
        .iter()
        .filter(|s| s.status == imx::model::StepStatus::Waiting);
    if let Some(s) = approvals.clone().next() {
        let more = match approvals.count() {
            1 => String::new(),
            n => format!(" (and {} more)", n - 1),
        };
        let by = s
            .approval
            .as_ref()
            .map(|a| format!(" by {}", a.approvers.describe()))
            .unwrap_or_default();
        summary_lines.push(Line::from(Span::styled(
            format!(" ⏸ {} waits for approval{by}{more} · v approves", s.step_id),
            theme.warn(),
        )));
    } else if let Some(w) = data.waiting.first() {
        let more = match data.waiting.len() {
            1 => String::new(),
            n => format!(" (and {} more)", n - 1),
        };
        summary_lines.push(Line::from(Span::styled(
            format!(" {} waits: {}{more}", w.step_id, w.message),
            theme.warn(),
        )));
    }
    f.render_widget(Paragraph::new(summary_lines), summary);

    let height = usize::from(steps_area.height.saturating_sub(3));
    let offset = scroll_offset(d.selected, height);
    let table_rows = rows
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, row)| {
            let s = &data.steps[row.index];
            let mut name = vec![
                Span::raw(row.prefix.clone()),
                Span::styled(imx::control::step_symbol(s.status), theme.step(s.status)),
                Span::raw(format!(" {}", s.step_id)),
            ];
            if !row.also_needs.is_empty() {
                name.push(Span::styled(
                    format!(" ⇐ {}", row.also_needs.join(",")),
                    theme.dim(),
                ));
            }
            let style = if i == d.selected && d.pane == Pane::Steps {
                theme.selected()
            } else if i == d.selected {
                Style::default().add_modifier(ratatui::style::Modifier::BOLD)
            } else {
                Style::default()
            };
            Row::new(vec![
                Cell::from(Line::from(name)),
                Cell::from(Span::styled(s.status.as_str(), theme.step(s.status))),
                Cell::from(if s.attempt > 0 {
                    format!("#{}", s.attempt)
                } else {
                    String::new()
                }),
                Cell::from(s.agent.clone().unwrap_or_default()),
                Cell::from(
                    s.duration_ms(app.now)
                        .map(format::duration)
                        .unwrap_or_default(),
                ),
            ])
            .style(style)
        });
    let steps_title = Span::styled(
        " Steps ",
        if d.pane == Pane::Steps {
            theme.title()
        } else {
            theme.dim()
        },
    );
    let table = Table::new(
        table_rows,
        [
            Constraint::Min(16),
            Constraint::Length(9),
            Constraint::Length(3),
            Constraint::Length(14),
            Constraint::Length(8),
        ],
    )
    .header(Row::new(vec!["STEP", "STATE", "TRY", "AGENT", "DURATION"]).style(theme.header_row()))
    .block(Block::default().borders(Borders::ALL).title(steps_title));
    f.render_widget(table, steps_area);

    draw_log(f, logs_area, app, theme);
}

/// The log pane, with its title: the step, following or not, and the display toggles.
fn draw_log(f: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let Some(d) = app.detail.as_ref() else {
        return;
    };
    let step = d.selected_step().unwrap_or_default();
    let shown = if d.all {
        "all steps".to_string()
    } else {
        step.clone()
    };
    let follow = match (d.log_live(), d.log.follow) {
        _ if d.log.window.is_some() => "G for the tail",
        (true, true) => "following",
        (true, false) => "paused (f to follow)",
        (false, true) => "finished",
        (false, false) => "finished · G for the end",
    };
    let mut modes = Vec::new();
    if d.log.wrap {
        modes.push("wrap");
    }
    if !d.log.timestamps {
        modes.push("no times");
    }
    match (d.log.older, d.log.newer) {
        (true, true) => modes.push("older and newer lines not loaded"),
        (true, false) => modes.push("older lines not loaded"),
        (false, true) => modes.push("newer lines not loaded"),
        (false, false) => {}
    }
    let modes = if modes.is_empty() {
        String::new()
    } else {
        format!("· {} ", modes.join(" "))
    };
    let title = Line::from(vec![
        Span::styled(
            format!(" Log · {shown} "),
            if d.pane == Pane::Logs {
                theme.title()
            } else {
                theme.dim()
            },
        ),
        Span::styled(format!("· {follow} {modes}"), theme.dim()),
    ]);
    let look = Look {
        title,
        utc_offset: app.utc_offset,
        step_prefix: d.all.then(|| {
            d.data.as_ref().map_or(0, |data| {
                data.steps
                    .iter()
                    .map(|s| s.step_id.chars().count())
                    .max()
                    .unwrap_or(0)
            })
        }),
        theme,
    };
    logpane::draw(f, area, &d.log, look);
    if d.log.lines.is_empty() {
        let why = d
            .data
            .as_ref()
            .filter(|_| !d.all)
            .and_then(|data| data.waiting.iter().find(|w| w.step_id == step));
        let approval = d
            .data
            .as_ref()
            .filter(|_| !d.all)
            .and_then(|data| data.steps.iter().find(|s| s.step_id == step))
            .filter(|s| s.status == imx::model::StepStatus::Waiting)
            .and_then(|s| s.approval.as_ref());
        let msg = match (approval, why) {
            (Some(a), _) => match &a.message {
                Some(m) => format!("Waiting for approval: {m} (v approves)"),
                None => "Waiting for approval (v approves).".to_string(),
            },
            (None, Some(w)) => format!("Not started: {}", w.message),
            (None, None) => "No output yet.".to_string(),
        };
        super::empty(f, area, &msg, theme);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::fixtures;

    #[test]
    fn the_dag_hangs_each_step_under_its_first_need() {
        let d = fixtures::run_detail();
        let rows = tree(&d.steps);
        let names: Vec<String> = rows
            .iter()
            .map(|r| format!("{}{}", r.prefix, d.steps[r.index].step_id))
            .collect();
        assert_eq!(names, ["build", "├─ test", "│  └─ deploy", "└─ lint"]);
        assert_eq!(rows[2].also_needs, ["lint"]);
    }
}
