//! The help overlay: every key from [`keys::KEYS`](super::super::keys::KEYS), the current
//! view's first, with actions the role does not allow marked as such.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::super::app::App;
use super::super::keys::{KEYS, Scope};
use super::super::theme::Theme;

/// Lines of the screen that are not the help's text: header, tabs, footer, the help's borders.
const CHROME: usize = 5;

/// How far the help scrolls on a terminal `rows` high: to where its last line shows.
pub fn max_scroll(app: &App, rows: u16) -> usize {
    let room = usize::from(rows).saturating_sub(CHROME);
    lines(app, Theme { color: false })
        .len()
        .saturating_sub(room)
}

/// Draw the help over the body.
pub fn draw(f: &mut Frame, area: Rect, app: &App, scroll: usize, theme: Theme) {
    let rect = super::centered(area, 76, area.height);
    let lines = lines(app, theme);
    let room = usize::from(rect.height.saturating_sub(2));
    let scroll = scroll.min(lines.len().saturating_sub(room));
    let more = if lines.len() > room + scroll {
        " · ↓ more"
    } else {
        ""
    };
    f.render_widget(Clear, rect);
    f.render_widget(
        Paragraph::new(lines)
            .scroll((u16::try_from(scroll).unwrap_or(0), 0))
            .block(Block::default().borders(Borders::ALL).title(Span::styled(
                format!(" Help · esc closes{more} "),
                theme.title(),
            ))),
        rect,
    );
}

/// The help's text: the current view's keys, then everywhere's, then the other views'.
fn lines(app: &App, theme: Theme) -> Vec<Line<'static>> {
    let mut lines = vec![Line::styled(
        format!("{} view", app.view.title()),
        theme.title(),
    )];
    let row = |keys: &str, what: &str, allowed: bool| {
        let mut spans = vec![
            Span::styled(format!("  {keys:<25} "), theme.key()),
            Span::raw(what.to_string()),
        ];
        if !allowed {
            spans = vec![
                Span::styled(format!("  {keys:<25} "), theme.dim()),
                Span::styled(
                    format!("{what} (not allowed for {})", app.who.role),
                    theme.dim(),
                ),
            ];
        }
        Line::from(spans)
    };
    for h in KEYS.iter().filter(|h| h.scope == Scope::View(app.view)) {
        lines.push(row(h.keys, h.what, h.needs.is_none_or(|p| app.can(p))));
    }
    lines.push(Line::styled("Everywhere", theme.title()));
    for h in KEYS.iter().filter(|h| h.scope == Scope::Everywhere) {
        lines.push(row(h.keys, h.what, true));
    }
    lines.push(Line::styled("Other views", theme.title()));
    for h in KEYS
        .iter()
        .filter(|h| !matches!(h.scope, Scope::Everywhere) && h.scope != Scope::View(app.view))
    {
        let Scope::View(v) = h.scope else { continue };
        let what = format!("{}: {}", v.title(), h.what);
        lines.push(row(h.keys, &what, h.needs.is_none_or(|p| app.can(p))));
    }
    lines
}
