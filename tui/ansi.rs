//! Step output made safe for the screen. A captured line may hold colour codes, `\r` progress
//! updates, tabs and any other escape sequence a program wrote; [`clean`] keeps what a terminal
//! would show — the colours (SGR), the last `\r` segment, tabs expanded to 8-column stops — and
//! drops everything else (cursor moves, screen clears, titles, bells), so a log can never move
//! the cursor or corrupt the dashboard. [`styled`] turns the result into a ratatui line.

use ansi_to_tui::IntoText;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthChar;

const ESC: char = '\x1b';
/// The 8-bit form of `ESC [`.
const CSI8: char = '\u{9b}';
const TAB: usize = 8;

/// One log line as the screen shows it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Clean {
    /// The visible text with its SGR (colour) sequences, and nothing else that is not printable.
    pub styled: String,
    /// The visible text alone: what search and the width count use.
    pub plain: String,
}

/// What a terminal would show of `raw`: see the module doc.
pub fn clean(raw: &str) -> Clean {
    let (carried, shown) = last_segment(raw);
    let mut out = Clean::default();
    out.styled.push_str(&carried);
    let mut col = 0;
    let mut chars = shown.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ESC | CSI8 => {
                let csi = c == CSI8 || chars.next_if_eq(&'[').is_some();
                if csi {
                    if let Some(sgr) = csi_sequence(&mut chars) {
                        out.styled.push_str(&sgr);
                    }
                } else {
                    skip_escape(&mut chars);
                }
            }
            '\t' => {
                let n = TAB - col % TAB;
                for _ in 0..n {
                    out.styled.push(' ');
                    out.plain.push(' ');
                }
                col += n;
            }
            c if c.is_control() => {}
            c => {
                out.styled.push(c);
                out.plain.push(c);
                col += c.width().unwrap_or(0);
            }
        }
    }
    out
}

/// The part of `raw` after its last `\r` (a trailing `\r` does not blank the line), and the SGR
/// sequences of the parts before it, whose colours still apply.
fn last_segment(raw: &str) -> (String, &str) {
    let trimmed = raw.trim_end_matches('\r');
    match trimmed.rfind('\r') {
        None => (String::new(), trimmed),
        Some(i) => {
            let before = clean_sgr_only(&trimmed[..i]);
            (before, &trimmed[i + 1..])
        }
    }
}

/// Only the SGR sequences of `s`.
fn clean_sgr_only(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == CSI8 || (c == ESC && chars.next_if_eq(&'[').is_some()) {
            if let Some(sgr) = csi_sequence(&mut chars) {
                out.push_str(&sgr);
            }
        } else if c == ESC {
            skip_escape(&mut chars);
        }
    }
    out
}

/// Read a CSI sequence after its introducer; return it (as `ESC [ … m`) if it is a plain SGR.
fn csi_sequence(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Option<String> {
    let mut params = String::new();
    let mut plain = true;
    for c in chars.by_ref() {
        match c {
            '0'..='9' | ';' => params.push(c),
            '\u{30}'..='\u{3f}' | '\u{20}'..='\u{2f}' => plain = false,
            '\u{40}'..='\u{7e}' => {
                return (c == 'm' && plain).then(|| format!("\x1b[{params}m"));
            }
            // Not a sequence after all (a broken one): drop what was read.
            _ => return None,
        }
    }
    None
}

/// Skip an escape that is not CSI: OSC/DCS/APC/PM/SOS strings up to their terminator, else the
/// intermediates and final byte of a short escape.
fn skip_escape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    match chars.next() {
        Some(']' | 'P' | '_' | '^' | 'X') => {
            while let Some(c) = chars.next() {
                if c == '\x07' || c == '\u{9c}' || (c == ESC && chars.next_if_eq(&'\\').is_some()) {
                    return;
                }
            }
        }
        Some('\u{20}'..='\u{2f}') => {
            while chars
                .next_if(|c| ('\u{20}'..='\u{2f}').contains(c))
                .is_some()
            {}
            chars.next();
        }
        _ => {}
    }
}

/// The line's coloured spans over `base` (the stream's style); with `color` off, or if the codes
/// do not parse, the plain text in `base`.
pub fn styled(c: &Clean, base: Style, color: bool) -> Vec<Span<'static>> {
    if color
        && c.styled.len() != c.plain.len()
        && let Ok(text) = c.styled.as_bytes().into_text()
    {
        let spans: Vec<Span<'static>> = text
            .lines
            .into_iter()
            .flat_map(|l| l.spans)
            .map(|s| Span::styled(s.content, over(base, s.style)))
            .collect();
        let same: usize = spans.iter().map(|s| s.content.len()).sum();
        if same == c.plain.len() {
            return spans;
        }
    }
    vec![Span::styled(c.plain.clone(), base)]
}

/// `style` over the stream's `base`: a reset (`ESC[0m`, `ESC[39m`) returns to the base colour
/// (stderr stays stderr's), not to the terminal's default.
fn over(base: Style, style: Style) -> Style {
    let mut s = base.patch(style);
    if style.fg == Some(Color::Reset) {
        s.fg = base.fg;
    }
    if style.bg == Some(Color::Reset) {
        s.bg = base.bg;
    }
    s
}

/// `spans` with `style` patched over the byte ranges `marks` (sorted, into the spans' joined
/// text): how search matches are highlighted.
pub fn mark(spans: Vec<Span<'static>>, marks: &[(usize, usize)], style: Style) -> Line<'static> {
    if marks.is_empty() {
        return Line::from(spans);
    }
    let mut out = Vec::with_capacity(spans.len() + 2 * marks.len());
    let mut at = 0;
    for span in spans {
        let text = span.content.as_ref();
        let end = at + text.len();
        let mut from = 0;
        for &(s, e) in marks {
            let (s, e) = (s.clamp(at, end) - at, e.clamp(at, end) - at);
            if s >= e || s < from {
                continue;
            }
            if !text.is_char_boundary(s) || !text.is_char_boundary(e) {
                continue;
            }
            if s > from {
                out.push(Span::styled(text[from..s].to_string(), span.style));
            }
            out.push(Span::styled(
                text[s..e].to_string(),
                span.style.patch(style),
            ));
            from = e;
        }
        if from == 0 {
            out.push(span);
        } else if from < text.len() {
            out.push(Span::styled(text[from..].to_string(), span.style));
        }
        at = end;
    }
    Line::from(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use ratatui::style::Modifier;

    #[test]
    fn colours_are_kept_and_become_styled_spans() {
        let c = clean("\x1b[31merror\x1b[0m: \x1b[1;32mok\x1b[m");
        assert_eq!(c.plain, "error: ok");
        let spans = styled(&c, Style::default(), true);
        let red = spans.iter().find(|s| s.content == "error").unwrap();
        assert_eq!(red.style.fg, Some(Color::Red));
        let ok = spans.iter().find(|s| s.content == "ok").unwrap();
        assert_eq!(ok.style.fg, Some(Color::Green));
        assert!(ok.style.add_modifier.contains(Modifier::BOLD));
        let joined: String = spans.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(joined, "error: ok");
    }

    #[test]
    fn a_reset_returns_to_the_streams_colour() {
        let base = Style::default().fg(Color::Yellow);
        let spans = styled(&clean("\x1b[31merror\x1b[0m: boom"), base, true);
        let boom = spans.iter().find(|s| s.content == ": boom").unwrap();
        assert_eq!(boom.style.fg, Some(Color::Yellow));
        assert_eq!(spans[0].style.fg, Some(Color::Red));
    }

    #[test]
    fn without_colour_only_the_text_remains() {
        let c = clean("\x1b[38;5;196mhot\x1b[0m");
        let spans = styled(&c, Style::default(), false);
        assert_eq!(spans.len(), 1);
        assert_eq!(spans[0].content, "hot");
        assert_eq!(spans[0].style.fg, None);
    }

    #[test]
    fn a_carriage_return_shows_the_last_segment_as_a_terminal_would() {
        assert_eq!(clean("10%\r50%\r100%").plain, "100%");
        assert_eq!(clean("downloading 10%\r").plain, "downloading 10%");
        assert_eq!(clean("done\r\r").plain, "done");
        // A colour set before the \r still applies to what is shown.
        let c = clean("\x1b[32m 10%\r 99%");
        assert_eq!(c.plain, " 99%");
        let spans = styled(&c, Style::default(), true);
        assert_eq!(spans[0].style.fg, Some(Color::Green));
    }

    #[test]
    fn tabs_expand_to_eight_column_stops() {
        assert_eq!(clean("a\tb").plain, "a       b");
        assert_eq!(clean("\tx").plain, "        x");
        assert_eq!(clean("12345678\ty").plain, "12345678        y");
        // Colour codes take no columns; wide characters take two.
        assert_eq!(clean("\x1b[31mab\x1b[0m\tc").plain, "ab      c");
        assert_eq!(clean("日本\tx").plain, "日本    x");
    }

    #[test]
    fn other_control_sequences_are_dropped() {
        let nasty = "\x1b[2J\x1b[H\x1b[?25lclear\x1b[10;5Hme\x1b]0;title\x07 \x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\\x07\x08\x1b(B\x1b=\u{9b}2Kok\x7f";
        let c = clean(nasty);
        assert_eq!(c.plain, "clearme linkok");
        assert!(!c.styled.contains('\x1b'), "{:?}", c.styled);
        // An unterminated sequence at the end cannot swallow the screen either.
        assert_eq!(clean("tail\x1b[31").plain, "tail");
        assert_eq!(clean("tail\x1b]0;never ends").plain, "tail");
        assert_eq!(clean("tail\x1b").plain, "tail");
    }

    #[test]
    fn marks_split_spans_and_keep_their_colours() {
        let c = clean("\x1b[31mred error\x1b[0m and error");
        let spans = styled(&c, Style::default(), true);
        let hl = Style::default().add_modifier(Modifier::REVERSED);
        let line = mark(spans, &[(4, 9), (14, 19)], hl);
        let text: Vec<(&str, bool, Option<Color>)> = line
            .spans
            .iter()
            .map(|s| {
                (
                    s.content.as_ref(),
                    s.style.add_modifier.contains(Modifier::REVERSED),
                    s.style.fg,
                )
            })
            .collect();
        assert!(
            text.contains(&("error", true, Some(Color::Red))),
            "{text:?}"
        );
        assert_eq!(text.iter().filter(|t| t.1).count(), 2, "{text:?}");
        let joined: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(joined, "red error and error");
    }
}
