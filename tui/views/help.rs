//! The help overlay: every key from [`keys::KEYS`](super::super::keys::KEYS), the current
//! view's first, with actions the role does not allow marked as such. It fills the terminal
//! but for a margin, wraps long descriptions under themselves, and lays the keys out in two
//! columns when the terminal is wide enough for both.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::super::app::App;
use super::super::keys::{KEYS, Scope};
use super::super::theme::Theme;

/// Columns of a key's cell: two spaces, the keys, a space.
const KEY_COLS: usize = 28;
/// The narrowest a column is laid out with beside another: keys and 44 columns of text.
const MIN_COL: usize = KEY_COLS + 44;
/// Blank columns between the two columns.
const GAP: usize = 3;

/// Where the help goes in the body `area`: all of it but a margin of two columns each side (and
/// a row above and below when it is tall).
pub fn rect(area: Rect) -> Rect {
    let mx = if area.width >= 40 { 2 } else { 0 };
    let my = if area.height >= 30 { 1 } else { 0 };
    Rect {
        x: area.x + mx,
        y: area.y + my,
        width: area.width - 2 * mx,
        height: area.height - 2 * my,
    }
}

/// The body of a terminal `cols` × `rows` (the header, tabs and footer take three rows).
fn body(cols: u16, rows: u16) -> Rect {
    Rect::new(0, 2, cols, rows.saturating_sub(3))
}

/// How far the help scrolls on a terminal `cols` × `rows`: to where its last line shows.
pub fn max_scroll(app: &App, cols: u16, rows: u16) -> usize {
    let r = rect(body(cols, rows));
    let room = usize::from(r.height.saturating_sub(2));
    layout(
        app,
        Theme { color: false },
        usize::from(r.width.saturating_sub(2)),
    )
    .len()
    .saturating_sub(room)
}

/// Draw the help over the body.
pub fn draw(f: &mut Frame, area: Rect, app: &App, scroll: usize, theme: Theme) {
    let rect = rect(area);
    let lines = layout(app, theme, usize::from(rect.width.saturating_sub(2)));
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

/// One entry of the help: a heading, or a key and what it does.
enum Item {
    Heading(String),
    Key {
        keys: &'static str,
        what: String,
        allowed: bool,
    },
}

/// The help's entries: the current view's keys, then everywhere's, then the other views'.
fn items(app: &App) -> Vec<Item> {
    let key = |keys, what: String, allowed| Item::Key {
        keys,
        what,
        allowed,
    };
    let mut out = vec![Item::Heading(format!("{} view", app.view.title()))];
    for h in KEYS.iter().filter(|h| h.scope == Scope::View(app.view)) {
        out.push(key(
            h.keys,
            h.what.into(),
            h.needs.is_none_or(|p| app.can(p)),
        ));
    }
    out.push(Item::Heading("Everywhere".into()));
    for h in KEYS.iter().filter(|h| h.scope == Scope::Everywhere) {
        out.push(key(h.keys, h.what.into(), true));
    }
    out.push(Item::Heading("Other views".into()));
    for h in KEYS.iter() {
        let Scope::View(v) = h.scope else { continue };
        if v == app.view {
            continue;
        }
        let what = format!("{}: {}", v.title(), h.what);
        out.push(key(h.keys, what, h.needs.is_none_or(|p| app.can(p))));
    }
    out
}

/// Split `text` into lines of at most `width` columns, at spaces where it can.
fn wrap_words(text: &str, width: usize) -> Vec<String> {
    let width = width.max(8);
    let mut out = vec![String::new()];
    for word in text.split(' ') {
        let Some(cur) = out.last_mut() else { break };
        let len = cur.chars().count();
        if len > 0 && len + 1 + word.chars().count() > width {
            out.push(String::new());
        } else if len > 0 {
            cur.push(' ');
        }
        let mut word = word;
        // A word longer than the line: cut it.
        while word.chars().count() > width {
            let cut = word
                .char_indices()
                .nth(width)
                .map_or(word.len(), |(i, _)| i);
            if let Some(cur) = out.last_mut() {
                cur.push_str(&word[..cut]);
            }
            out.push(String::new());
            word = &word[cut..];
        }
        if let Some(cur) = out.last_mut() {
            cur.push_str(word);
        }
    }
    out
}

/// An entry's lines in a column `width` wide.
fn render(item: &Item, app: &App, theme: Theme, width: usize) -> Vec<Line<'static>> {
    match item {
        Item::Heading(h) => vec![Line::styled(h.clone(), theme.title())],
        Item::Key {
            keys,
            what,
            allowed,
        } => {
            let (key_style, text_style, what) = if *allowed {
                (theme.key(), Style::default(), what.clone())
            } else {
                let what = format!("{what} (not allowed for {})", app.who.role);
                (theme.dim(), theme.dim(), what)
            };
            wrap_words(&what, width.saturating_sub(KEY_COLS))
                .into_iter()
                .enumerate()
                .map(|(i, text)| {
                    let keys = if i == 0 { *keys } else { "" };
                    Line::from(vec![
                        Span::styled(format!("  {keys:<25} "), key_style),
                        Span::styled(text, text_style),
                    ])
                })
                .collect()
        }
    }
}

/// The help laid out for an inner width of `width` columns: one column, or two side by side
/// (the entries in order down the left, then down the right).
fn layout(app: &App, theme: Theme, width: usize) -> Vec<Line<'static>> {
    let items = items(app);
    if width < 2 * MIN_COL + GAP {
        return items
            .iter()
            .flat_map(|i| render(i, app, theme, width))
            .collect();
    }
    let col = (width - GAP) / 2;
    let blocks: Vec<Vec<Line<'static>>> =
        items.iter().map(|i| render(i, app, theme, col)).collect();
    let total: usize = blocks.iter().map(Vec::len).sum();
    // The left column takes entries until it holds half the lines; a heading never ends it.
    let mut left = Vec::new();
    let mut split = 0;
    while split < blocks.len() && left.len() * 2 < total {
        left.extend(blocks[split].iter().cloned());
        split += 1;
    }
    if split > 0 && matches!(items[split - 1], Item::Heading(_)) {
        split -= 1;
        left.pop();
    }
    let right: Vec<Line<'static>> = blocks[split..].iter().flatten().cloned().collect();
    let rows = left.len().max(right.len());
    (0..rows)
        .map(|r| {
            let mut spans = left.get(r).map_or_else(Vec::new, |l| l.spans.clone());
            let used: usize = spans.iter().map(Span::width).sum();
            spans.push(Span::raw(" ".repeat(col.saturating_sub(used) + GAP)));
            if let Some(l) = right.get(r) {
                spans.extend(l.spans.iter().cloned());
            }
            Line::from(spans)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::wrap_words;

    #[test]
    fn words_wrap_at_spaces_and_long_words_are_cut() {
        assert_eq!(
            wrap_words("the selected object as YAML", 12),
            ["the selected", "object as", "YAML"]
        );
        assert_eq!(wrap_words("abcdefghijkl", 8), ["abcdefgh", "ijkl"]);
        assert_eq!(wrap_words("", 10), [""]);
    }
}
