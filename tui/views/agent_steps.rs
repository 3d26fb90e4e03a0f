//! Agent steps (Enter on an agent): the steps the agent holds now and those it ran last, the most
//! recently taken first — run, workflow, step, status, attempt, when it took the step and how
//! long it ran. Enter opens the run on that step's log; esc goes back to Agents.

use imx::model::{AgentStep, StepStatus, short_id};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Row, Table};

use super::super::app::App;
use super::super::format;
use super::super::theme::Theme;
use super::super::window::scroll_offset;

/// Steps read for one agent.
pub const LIMIT: u32 = 100;

/// The columns.
pub const COLUMNS: [&str; 7] = [
    "RUN", "WORKFLOW", "STEP", "STATUS", "TRY", "STARTED", "DURATION",
];

/// The Agent steps view's state: whose steps, and what was read of them.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentStepsState {
    /// The agent's name.
    pub agent: String,
    pub steps: Vec<AgentStep>,
    pub selected: usize,
    pub loaded: bool,
}

impl AgentStepsState {
    pub fn new(agent: String) -> Self {
        AgentStepsState {
            agent,
            steps: Vec::new(),
            selected: 0,
            loaded: false,
        }
    }

    /// The steps arrived: keep the same step selected as newer ones come in on top.
    pub fn set(&mut self, steps: Vec<AgentStep>) {
        let keep = self
            .steps
            .get(self.selected)
            .map(|s| (s.run_id.clone(), s.step_id.clone()));
        self.selected = match keep {
            Some((run, step)) if self.selected > 0 => steps
                .iter()
                .position(|s| s.run_id == run && s.step_id == step)
                .unwrap_or(0),
            _ => 0,
        };
        self.steps = steps;
        self.loaded = true;
    }

    pub fn selected_step(&self) -> Option<&AgentStep> {
        self.steps.get(self.selected)
    }

    /// Steps the agent holds now (leased or running).
    pub fn held(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| matches!(s.status, StepStatus::Leased | StepStatus::Running))
            .count()
    }
}

/// Draw the agent's steps.
pub fn draw(f: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let Some(s) = app.agent_steps.as_ref() else {
        return;
    };
    let mut title = vec![Span::styled(format!(" Agent {} ", s.agent), theme.title())];
    if s.loaded {
        title.push(Span::styled(
            format!("· holds {} · last {} steps ", s.held(), s.steps.len()),
            theme.dim(),
        ));
    }
    let height = usize::from(area.height.saturating_sub(3));
    let offset = scroll_offset(s.selected, height);
    let rows = s
        .steps
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, st)| {
            Row::new([
                Cell::from(short_id(&st.run_id).to_string()),
                Cell::from(st.workflow.clone()),
                Cell::from(st.step_id.clone()),
                Cell::from(Span::styled(st.status.as_str(), theme.step(st.status))),
                Cell::from(st.attempt.to_string()),
                Cell::from(
                    st.started_at
                        .map(|t| format::clock(t, app.utc_offset))
                        .unwrap_or_default(),
                ),
                Cell::from(
                    st.duration_ms(app.now)
                        .map(format::duration)
                        .unwrap_or_default(),
                ),
            ])
            .style(if i == s.selected {
                theme.selected()
            } else {
                Style::default()
            })
        });
    let table = Table::new(
        rows,
        [
            Constraint::Length(12),
            Constraint::Min(10),
            Constraint::Min(10),
            Constraint::Length(9),
            Constraint::Length(3),
            Constraint::Length(8),
            Constraint::Length(8),
        ],
    )
    .header(Row::new(COLUMNS).style(theme.header_row()))
    .block(
        Block::default()
            .borders(Borders::ALL)
            .title(Line::from(title)),
    );
    f.render_widget(table, area);
    if s.steps.is_empty() {
        let msg = if s.loaded {
            "This agent has run no steps (or its steps ran again elsewhere)."
        } else {
            "Loading…"
        };
        super::empty(f, area, msg, theme);
    }
}
