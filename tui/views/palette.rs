//! The command palette on screen: the line being typed in the footer, and above it what Tab
//! would complete it to (verbs, run ids, names, contexts, time ranges).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::super::app::App;
use super::super::palette::{self, USAGE};
use super::super::theme::Theme;

/// Options listed at most (the rest are counted).
const SHOWN: usize = 8;

/// Draw the palette: `footer` gets the prompt, the bottom of `body` the options.
pub fn draw(f: &mut Frame, body: Rect, footer: Rect, app: &App, text: &str, theme: Theme) {
    let options = if text.trim().is_empty() {
        Vec::new()
    } else {
        palette::options(text, &app.candidates())
    };
    let hint = if text.trim().is_empty() {
        format!("  {USAGE} (tab)")
    } else if options.is_empty() {
        "  enter runs it · esc cancels".to_string()
    } else {
        "  tab completes · enter runs it".to_string()
    };
    f.render_widget(Clear, footer);
    f.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(":", theme.key()),
            Span::raw(text.to_string()),
            Span::styled("▏", theme.key()),
            Span::styled(hint, theme.dim()),
        ])),
        footer,
    );
    // Nothing to choose from, or only what is already typed.
    let typed = text.split_whitespace().last().unwrap_or_default();
    if options.is_empty() || (options.len() == 1 && options[0] == typed) {
        return;
    }
    let mut lines: Vec<Line> = options
        .iter()
        .take(SHOWN)
        .map(|o| Line::from(Span::raw(format!(" {o}"))))
        .collect();
    if options.len() > SHOWN {
        lines.push(Line::styled(
            format!(" … {} more", options.len() - SHOWN),
            theme.dim(),
        ));
    }
    let widest = options
        .iter()
        .take(SHOWN)
        .map(|o| o.chars().count())
        .max()
        .unwrap_or(0);
    let width = u16::try_from(widest + 4).unwrap_or(u16::MAX).max(16);
    let height = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
    let width = width.min(body.width);
    let height = height.min(body.height);
    let rect = Rect {
        x: body.x,
        y: body.y + body.height - height,
        width,
        height,
    };
    f.render_widget(Clear, rect);
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(Span::styled(" tab ", theme.dim())),
        ),
        rect,
    );
}
