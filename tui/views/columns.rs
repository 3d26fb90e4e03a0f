//! The column picker (`C`): a table's columns with a mark for each shown one; space toggles.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::super::app::App;
use super::super::columns::{self, Picker};
use super::super::theme::Theme;

/// Draw the picker in the middle of the body.
pub fn draw(f: &mut Frame, area: Rect, app: &App, p: Picker, theme: Theme) {
    let Some(names) = columns::names(p.view) else {
        return;
    };
    let hidden = match p.view {
        super::super::action::ViewId::Runs => app.runs.order.hidden,
        super::super::action::ViewId::Agents => app.agents.order.hidden,
        super::super::action::ViewId::Workflows => app.workflows.order.hidden,
        _ => app.audit.order.hidden,
    };
    let mut lines: Vec<Line> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let mark = if hidden.is(i) { "[ ]" } else { "[x]" };
            let style = if i == p.selected {
                theme.selected()
            } else {
                ratatui::style::Style::default()
            };
            Line::styled(format!(" {mark} {name}"), style)
        })
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::from(vec![
        Span::styled(" space", theme.key()),
        Span::styled(" toggles · ", theme.dim()),
        Span::styled("esc", theme.key()),
        Span::styled(" closes", theme.dim()),
    ]));
    let height = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
    let rect = super::centered(area, 32, height);
    f.render_widget(Clear, rect);
    f.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(Span::styled(
            format!(" {} columns ", p.view.title()),
            theme.title(),
        ))),
        rect,
    );
}
