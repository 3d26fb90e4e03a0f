//! Agents: name, state, labels, slots used/total, heartbeat age and the steps each holds, one
//! page at a time; drain, resume and remove (when the role allows).

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Row, Table};

use imx::model::Agent;

use super::super::app::App;
use super::super::format;
use super::super::theme::Theme;
use super::super::window::scroll_offset;

/// The columns, each sortable (`<` `>` `R`; the loaded page).
pub const COLUMNS: [&str; 6] = ["NAME", "STATE", "SLOTS", "BEAT", "LABELS", "CURRENT STEPS"];

/// How two agents compare by column `col`.
pub fn compare(col: usize, a: &Agent, b: &Agent) -> std::cmp::Ordering {
    match col {
        1 => a.state.as_str().cmp(b.state.as_str()),
        2 => (a.running, a.slots).cmp(&(b.running, b.slots)),
        // BEAT shows the heartbeat's age: the youngest first.
        3 => b.last_heartbeat.cmp(&a.last_heartbeat),
        4 => a.labels.cmp(&b.labels),
        5 => a.current.cmp(&b.current),
        _ => a.name.cmp(&b.name),
    }
}

/// Draw the agents table.
pub fn draw(f: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let s = &app.agents;
    let w = &s.window;
    let mut title = vec![Span::styled(" Agents ", theme.title())];
    if let Some(t) = &s.text {
        title.push(Span::styled(format!("· /{t} "), theme.key()));
    }
    if !w.items.is_empty() {
        title.push(Span::styled(
            format!(
                "· {}–{}{} ",
                w.first_row() + 1,
                w.first_row() + w.items.len(),
                if w.next.is_some() { "+" } else { "" }
            ),
            theme.dim(),
        ));
    }
    title.extend(super::hidden_note(s.order.hidden, theme));
    let height = usize::from(area.height.saturating_sub(3));
    let offset = scroll_offset(w.selected, height);
    let rows = w
        .items
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, a)| {
            let labels: Vec<String> = a.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            Row::new(s.order.hidden.keep([
                Cell::from(a.name.clone()),
                Cell::from(Span::styled(a.state.as_str(), theme.agent(a.state))),
                Cell::from(format!("{}/{}", a.running, a.slots)),
                Cell::from(format::age(app.now, a.last_heartbeat)),
                Cell::from(labels.join(",")),
                Cell::from(a.current.join(" ")),
            ]))
            .style(if i == w.selected {
                theme.selected()
            } else {
                Style::default()
            })
        });
    let table = Table::new(
        rows,
        s.order.hidden.keep([
            Constraint::Min(12),
            Constraint::Length(8),
            Constraint::Length(6),
            Constraint::Length(5),
            Constraint::Min(10),
            Constraint::Min(16),
        ]),
    )
    .header(Row::new(s.order.header(&COLUMNS)).style(theme.header_row()))
    .block(
        Block::default()
            .borders(Borders::ALL)
            .title(Line::from(title)),
    );
    f.render_widget(table, area);
    if w.items.is_empty() {
        let msg = if w.loaded {
            "No agents. Start one with `imx agent run`."
        } else {
            "Loading…"
        };
        super::empty(f, area, msg, theme);
    }
}
