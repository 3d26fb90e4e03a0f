//! Overview: agents busy (holding at least one step), idle (reachable, holding none), draining
//! and offline; active runs, outcomes in the last hour and day with the failure
//! rate, step throughput (see [`throughput`](super::throughput)) with step duration
//! percentiles, and the latest failures (enter opens one).

use imx::control::Outcomes;
use imx::model::{AgentState, short_id};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};

use super::super::app::App;
use super::super::format;
use super::super::theme::Theme;

fn outcome_line<'a>(label: &'a str, o: &Outcomes, theme: Theme) -> Line<'a> {
    Line::from(vec![
        Span::raw(format!(" {label:<10}")),
        Span::styled(format!("✓ {:<6}", o.succeeded), theme.ok()),
        Span::styled(format!("✗ {:<5}", o.failed + o.timed_out), theme.error()),
        Span::styled(format!("⊘ {:<4}", o.cancelled), theme.warn()),
        Span::raw(format!("{:.1}% failed", o.failure_rate() * 100.0)),
    ])
}

/// Draw the overview.
pub fn draw(f: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let Some(o) = app.overview.data.as_ref() else {
        f.render_widget(
            Block::default().borders(Borders::ALL).title(" Overview "),
            area,
        );
        super::empty(f, area, "Loading…", theme);
        return;
    };
    let [top, spark, fails] = Layout::vertical([
        Constraint::Length(5),
        Constraint::Length(5),
        Constraint::Min(3),
    ])
    .areas(area);
    let [agents, runs] =
        Layout::horizontal([Constraint::Length(26), Constraint::Min(30)]).areas(top);

    // Busy: holds at least one step; idle: reachable and holds none.
    let n = |s: AgentState| o.agents.get(&s).copied().unwrap_or(0);
    let total: u64 = o.agents.values().sum();
    let live = total - n(AgentState::Offline);
    let busy = o.agents_holding.min(live);
    let agent_lines = vec![
        Line::from(vec![
            Span::styled(format!(" busy {busy:<5}"), theme.active()),
            Span::styled("holding steps", theme.dim()),
        ]),
        Line::from(vec![
            Span::styled(format!(" idle {:<5}", live - busy), theme.ok()),
            Span::styled("no step", theme.dim()),
        ]),
        Line::from(vec![
            Span::styled(
                format!(" draining {} ", n(AgentState::Draining)),
                theme.warn(),
            ),
            Span::styled(format!("· off {}", n(AgentState::Offline)), theme.dim()),
        ]),
    ];
    f.render_widget(
        Paragraph::new(agent_lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(Span::styled(format!(" Agents · {total} "), theme.title())),
        ),
        agents,
    );
    let run_lines = vec![
        Line::from(vec![
            Span::styled(format!(" running   {:<6}", o.runs_running), theme.active()),
            Span::raw(format!("queued {}", o.runs_queued)),
        ]),
        outcome_line("last hour", &o.last_hour, theme),
        outcome_line("last 24h", &o.last_day, theme),
    ];
    f.render_widget(
        Paragraph::new(run_lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(Span::styled(" Runs ", theme.title())),
        ),
        runs,
    );

    super::throughput::draw(f, spark, o, theme);

    let rows = o.latest_failures.iter().enumerate().map(|(i, r)| {
        Row::new(vec![
            Cell::from(Span::styled(
                format::run_symbol(r.status),
                theme.run(r.status),
            )),
            Cell::from(short_id(&r.id).to_string()),
            Cell::from(r.workflow.clone()),
            Cell::from(format::age(app.now, r.finished_at.unwrap_or(r.created_at))),
            Cell::from(r.error.clone().unwrap_or_default()),
        ])
        .style(if i == app.overview.selected {
            theme.selected()
        } else {
            Style::default()
        })
    });
    let table = Table::new(
        rows,
        [
            Constraint::Length(1),
            Constraint::Length(12),
            Constraint::Length(14),
            Constraint::Length(4),
            Constraint::Min(10),
        ],
    )
    .block(
        Block::default()
            .borders(Borders::ALL)
            .title(Span::styled(" Latest failures ", theme.title())),
    );
    f.render_widget(table, fails);
    if o.latest_failures.is_empty() {
        super::empty(f, fails, "No failures.", theme);
    }
}
