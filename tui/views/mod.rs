//! Drawing: [`draw`] renders the whole screen from the state and nothing else — the header
//! (context, principal, connection, last update), the tabs, the current view, the footer (keys
//! and messages) and any overlay (help, palette, filter, confirmation, form). One file per view.

pub mod agent_steps;
pub mod agents;
pub mod audit;
pub mod columns;
pub mod describe;
pub mod detail;
pub mod form;
pub mod help;
pub mod logpane;
pub mod overview;
pub mod palette;
pub mod runs;
pub mod schedules;
pub mod throughput;
pub mod workflows;

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Tabs, Wrap};

use super::action::ViewId;
use super::app::{App, Conn, Overlay};
use super::format;
use super::keys;
use super::theme::Theme;

/// Render the whole screen.
pub fn draw(f: &mut Frame, app: &App, theme: Theme) {
    let [header, tabs, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(f.area());
    draw_header(f, header, app, theme);
    draw_tabs(f, tabs, app, theme);
    match app.view {
        ViewId::Overview => overview::draw(f, body, app, theme),
        ViewId::Agents => agents::draw(f, body, app, theme),
        ViewId::AgentSteps => agent_steps::draw(f, body, app, theme),
        ViewId::Runs => runs::draw(f, body, app, theme),
        ViewId::RunDetail => detail::draw(f, body, app, theme),
        ViewId::Workflows => workflows::draw(f, body, app, theme),
        ViewId::Audit => audit::draw(f, body, app, theme),
        ViewId::Schedules => schedules::draw(f, body, app, theme),
    }
    draw_footer(f, footer, app, theme);
    match &app.overlay {
        None => {}
        Some(Overlay::Help(scroll)) => help::draw(f, body, app, *scroll, theme),
        Some(Overlay::Palette(input)) => palette::draw(f, body, footer, app, &input.text, theme),
        Some(Overlay::Filter(input)) => draw_prompt(f, footer, "/", &input.text, theme),
        Some(Overlay::Confirm(m)) => draw_confirm(f, body, &m.question(), theme),
        Some(Overlay::Form(form)) => form::draw(f, body, form, theme),
        Some(Overlay::Describe(d)) => describe::draw(f, body, d, theme),
        Some(Overlay::Columns(p)) => columns::draw(f, body, app, *p, theme),
    }
}

fn draw_header(f: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let (dot, state, style) = match &app.conn {
        Conn::Connecting => ("○", "connecting".to_string(), theme.warn()),
        Conn::Connected => ("●", "connected".to_string(), theme.ok()),
        Conn::Failed(e) => ("✗", format!("error: {}", format::fit(e, 24)), theme.error()),
    };
    let updated = app
        .last_update
        .map(|t| format!(" · updated {}", format::clock(t, app.utc_offset)))
        .unwrap_or_default();
    let status = format!("{dot} {state}");
    let width = |parts: &[&str]| parts.iter().map(|s| s.chars().count()).sum::<usize>();
    let mut who = format!("· {} ({}) · ", app.who.name, app.who.role);
    if width(&[" imx ", "· ", " ", &who, &status, &updated]) + 12 > usize::from(area.width) {
        // Narrow: the role is what matters (it decides which actions are offered).
        who = format!("· {} · ", app.who.role);
    }
    let fixed = width(&[" imx ", "· ", " ", &who, &status, &updated]);
    let room = usize::from(area.width).saturating_sub(fixed).max(8);
    // The context's name first (what `:ctx` switches); where it points as room allows.
    let place = match &app.context_name {
        Some(name) => {
            let name = format::fit(name, room);
            let left = room.saturating_sub(name.chars().count() + 3);
            let at = if left >= 8 {
                format!(" ({})", format::fit(&app.context, left))
            } else {
                String::new()
            };
            vec![
                Span::raw("· "),
                Span::styled(name, theme.key()),
                Span::raw(format!("{at} ")),
            ]
        }
        None => vec![Span::raw(format!("· {} ", format::fit(&app.context, room)))],
    };
    let mut spans = vec![Span::styled(" imx ", theme.title())];
    spans.extend(place);
    spans.extend([
        Span::styled(who, theme.dim()),
        Span::styled(status, style),
        Span::styled(updated, theme.dim()),
    ]);
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn draw_tabs(f: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let shown = match app.view {
        ViewId::RunDetail => app.back.last().copied().unwrap_or(ViewId::Runs),
        v => v,
    };
    // An agent's steps belong to the Agents tab.
    let shown = if shown == ViewId::AgentSteps {
        ViewId::Agents
    } else {
        shown
    };
    let titles: Vec<Line> = ViewId::TABS
        .iter()
        .enumerate()
        .map(|(i, v)| Line::from(format!("{} {}", i + 1, v.title())))
        .collect();
    let selected = ViewId::TABS.iter().position(|v| *v == shown).unwrap_or(0);
    let tabs = Tabs::new(titles)
        .select(selected)
        .style(theme.dim())
        .highlight_style(theme.selected())
        .divider("│");
    f.render_widget(tabs, area);
}

fn draw_footer(f: &mut Frame, area: Rect, app: &App, theme: Theme) {
    if let Some(flash) = &app.flash {
        let style = if flash.error {
            theme.error()
        } else {
            theme.ok()
        };
        f.render_widget(
            Paragraph::new(Span::styled(format!(" {}", flash.text), style)),
            area,
        );
        return;
    }
    let mut spans = Vec::new();
    if let Some(status) = app
        .detail
        .as_ref()
        .filter(|_| app.view == ViewId::RunDetail)
        .and_then(|d| d.log.search_status())
    {
        spans.push(Span::styled(format!(" {status} "), theme.warn()));
        spans.push(Span::styled("n N", theme.key()));
        spans.push(Span::styled(" match · esc clears ·", theme.dim()));
    }
    let used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
    let room = usize::from(area.width).saturating_sub(used + 1);
    for (k, what) in keys::fit_hints(keys::hints(app), room) {
        spans.push(Span::styled(format!(" {k}"), theme.key()));
        spans.push(Span::styled(format!(" {what}"), theme.dim()));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn draw_prompt(f: &mut Frame, area: Rect, sigil: &str, text: &str, theme: Theme) {
    f.render_widget(Clear, area);
    let hint = "  (enter applies · esc cancels)";
    let line = Line::from(vec![
        Span::styled(sigil.to_string(), theme.key()),
        Span::raw(text.to_string()),
        Span::styled("▏", theme.key()),
        Span::styled(hint, theme.dim()),
    ]);
    f.render_widget(Paragraph::new(line), area);
}

fn draw_confirm(f: &mut Frame, area: Rect, question: &str, theme: Theme) {
    let rect = centered(area, 60, 5);
    f.render_widget(Clear, rect);
    let text = vec![
        Line::raw(question.to_string()),
        Line::from(vec![
            Span::styled("y", theme.key()),
            Span::raw(" yes   "),
            Span::styled("n", theme.key()),
            Span::raw(" no"),
        ]),
    ];
    f.render_widget(
        Paragraph::new(text)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true })
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(Span::styled(" Confirm ", theme.warn())),
            ),
        rect,
    );
}

/// A `width`×`height` rectangle centred in `area` (clipped to it).
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

/// A dim message in the middle of an empty pane.
pub fn empty(f: &mut Frame, area: Rect, msg: &str, theme: Theme) {
    if area.height < 3 {
        return;
    }
    let rect = Rect {
        x: area.x + 1,
        y: area.y + area.height / 2,
        width: area.width.saturating_sub(2),
        height: 1,
    };
    f.render_widget(
        Paragraph::new(Span::styled(msg.to_string(), theme.dim())).alignment(Alignment::Center),
        rect,
    );
}

#[cfg(test)]
mod tests;

/// `· 2 columns hidden` for a table's title, when any are (`C` shows them again).
pub fn hidden_note(hidden: super::columns::Hidden, theme: Theme) -> Option<Span<'static>> {
    match hidden.count() {
        0 => None,
        1 => Some(Span::styled("· 1 column hidden ", theme.dim())),
        n => Some(Span::styled(format!("· {n} columns hidden "), theme.dim())),
    }
}
