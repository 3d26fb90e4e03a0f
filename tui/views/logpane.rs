//! Run detail's log pane: the loaded window of a step's log (cleaned of escapes, see
//! [`ansi`](super::super::ansi)), where it is scrolled to, whether it follows the tail, its
//! display toggles (wrap, timestamps, fullscreen) and search; and drawing it.
//!
//! A log may have millions of lines: the pane holds one window of at most [`LOG_KEEP`] and
//! says when older lines are not loaded. The tail is read backwards from the end; scrolling
//! past either edge of the window, `g` and `G` ask the loader for the window next to it or at
//! that end ([`LogWindow`]), so no key reads the log through.

use std::cell::Cell;
use std::collections::VecDeque;

use imx::model::{LogLine, LogStream};
use memchr::memmem;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use unicode_width::UnicodeWidthChar;

use super::super::action::{Action, LogWindow};
use super::super::ansi::{self, Clean};
use super::super::format;
use super::super::theme::Theme;

/// Log lines the pane holds at most: one window of the stream (its tail, its head, or where
/// scrolling took it).
pub const LOG_KEEP: usize = 2_000;
/// Lines read at a time when scrolling past the loaded window (half a window, so the lines
/// that were on screen stay loaded).
pub const CHUNK: usize = LOG_KEEP / 2;

/// One loaded line: as stored, and as the screen shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEntry {
    pub line: LogLine,
    pub text: Clean,
    /// `text.plain` in ASCII lower case (same byte offsets): what a lower-case search reads.
    lower: String,
}

impl LogEntry {
    pub fn new(line: LogLine) -> Self {
        let text = ansi::clean(&line.line);
        let lower = text.plain.to_ascii_lowercase();
        LogEntry { line, text, lower }
    }
}

/// A search over the loaded lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    pub query: String,
    /// The indexes of the lines that match, in order.
    pub matches: Vec<usize>,
    /// Which of `matches` was last jumped to.
    pub current: Option<usize>,
}

/// The indexes of the entries whose visible text contains `query`: smart case, so a query
/// without capitals ignores (ASCII) case.
pub fn find(entries: &VecDeque<LogEntry>, query: &str) -> Vec<usize> {
    if query.is_empty() {
        return Vec::new();
    }
    let exact = query.chars().any(char::is_uppercase);
    let needle = if exact {
        query.to_string()
    } else {
        query.to_ascii_lowercase()
    };
    let finder = memmem::Finder::new(needle.as_bytes());
    entries
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            let hay = if exact { &e.text.plain } else { &e.lower };
            finder.find(hay.as_bytes()).is_some()
        })
        .map(|(i, _)| i)
        .collect()
}

/// Byte ranges of `query` in the entry's visible text (same smart case as [`find`]).
fn ranges(e: &LogEntry, query: &str) -> Vec<(usize, usize)> {
    if query.is_empty() {
        return Vec::new();
    }
    let exact = query.chars().any(char::is_uppercase);
    let (hay, needle) = if exact {
        (e.text.plain.as_str(), query.to_string())
    } else {
        (e.lower.as_str(), query.to_ascii_lowercase())
    };
    memmem::find_iter(hay.as_bytes(), needle.as_bytes())
        .map(|s| (s, s + needle.len()))
        .collect()
}

/// The log pane's state.
#[derive(Debug, Clone, PartialEq)]
pub struct LogPane {
    /// The loaded window of the stream: at most [`LOG_KEEP`] consecutive lines.
    pub lines: VecDeque<LogEntry>,
    /// Lines scrolled up from the end (0: the end).
    pub scroll: usize,
    /// Keep showing the newest lines as they arrive.
    pub follow: bool,
    /// Wrap long lines (else they are cut at the pane's edge).
    pub wrap: bool,
    pub timestamps: bool,
    /// The log takes the whole view.
    pub fullscreen: bool,
    pub search: Option<Search>,
    /// The stream has lines before the first loaded one (the title and a marker row above the
    /// first line say so; scrolling up past it, or `g`, reads them; `ctrl-s` saves them all).
    pub older: bool,
    /// The stream has lines after the last loaded one (a window away from the tail).
    pub newer: bool,
    /// The window of the log asked of the loader instead of its tail (`None`: follow the
    /// tail); see [`LogWindow`].
    pub window: Option<LogWindow>,
    /// `window` was asked for and has not arrived yet.
    pub pending: bool,
    /// The pane's height in rows when last drawn: how far a page, the top and a match jump go
    /// (the one thing drawing tells the state).
    pub height: Cell<usize>,
}

impl Default for LogPane {
    fn default() -> Self {
        LogPane {
            lines: VecDeque::new(),
            scroll: 0,
            follow: true,
            wrap: false,
            timestamps: true,
            fullscreen: false,
            search: None,
            older: false,
            newer: false,
            window: None,
            pending: false,
            height: Cell::new(0),
        }
    }
}

impl LogPane {
    /// A new stream: forget the lines (the display toggles stay).
    pub fn clear(&mut self) {
        self.lines.clear();
        self.scroll = 0;
        self.older = false;
        self.newer = false;
        self.window = None;
        self.pending = false;
        if let Some(s) = self.search.as_mut() {
            s.matches.clear();
            s.current = None;
        }
    }

    /// Lines of the followed tail: new ones, or (`reset`) the stream's last lines, with `older`
    /// saying whether lines come before them. Dropped while a window is shown.
    pub fn add(&mut self, lines: Vec<LogLine>, reset: bool, older: bool) {
        if self.window.is_some() {
            // Browsing a window: the tail is read again when the window is left.
            return;
        }
        let at = self.current_match();
        if reset {
            self.clear();
            self.older = older;
        }
        let added = lines.len();
        self.lines.extend(lines.into_iter().map(LogEntry::new));
        let dropped = self.trim_front();
        if !self.follow {
            self.scroll = (self.scroll + added).min(self.lines.len());
        }
        if dropped > 0 || added > 0 {
            self.refind(at);
        }
    }

    /// Drop lines from the front beyond [`LOG_KEEP`]; returns how many went.
    fn trim_front(&mut self) -> usize {
        let dropped = self.lines.len().saturating_sub(LOG_KEEP);
        if dropped > 0 {
            self.lines.drain(..dropped);
            self.older = true;
        }
        dropped
    }

    /// Drop lines from the back beyond [`LOG_KEEP`], keeping what is on screen where it is.
    fn trim_back(&mut self) {
        let dropped = self.lines.len().saturating_sub(LOG_KEEP);
        if dropped > 0 {
            self.lines.truncate(LOG_KEEP);
            self.newer = true;
            self.scroll = self.scroll.saturating_sub(dropped);
        }
    }

    /// The id of the line of the current match.
    fn current_match(&self) -> Option<i64> {
        let s = self.search.as_ref()?;
        let m = *s.matches.get(s.current?)?;
        self.lines.get(m).map(|e| e.line.id)
    }

    /// The loaded lines changed: find the matches again, keeping the current one (`at`, the id
    /// of its line, taken before the change).
    fn refind(&mut self, at: Option<i64>) {
        let Some(s) = self.search.as_mut() else {
            return;
        };
        s.matches = find(&self.lines, &s.query);
        s.current = at.and_then(|id| {
            s.matches
                .iter()
                .position(|&m| self.lines.get(m).is_some_and(|e| e.line.id == id))
        });
    }

    /// The index of the bottom line on screen.
    fn bottom_line(&self) -> usize {
        self.lines.len().saturating_sub(1 + self.scroll)
    }

    /// Rows on screen (a guess before the first draw).
    fn page(&self) -> usize {
        match self.height.get() {
            0 => 20,
            h => h,
        }
    }

    /// The furthest up the pane scrolls: the first line at the top, under the row that says
    /// older lines are not loaded when there are some.
    fn max_scroll(&self) -> usize {
        (self.lines.len() + usize::from(self.older)).saturating_sub(self.page())
    }

    /// Bring line `i` to the middle of the pane.
    fn show(&mut self, i: usize) {
        let below = self.lines.len().saturating_sub(1 + i);
        self.scroll = below.saturating_sub(self.page() / 2).min(self.max_scroll());
    }

    /// The window asked for arrived: `lines`, and whether the log goes on past them (after
    /// them for the head and later lines, before them for earlier lines). Answers to a window
    /// no longer asked for (or already applied) are dropped.
    pub fn set_window(&mut self, window: LogWindow, lines: Vec<LogLine>, more: bool) {
        if !self.pending || self.window != Some(window) {
            return;
        }
        self.pending = false;
        self.follow = false;
        let at = self.current_match();
        let n = lines.len();
        let entries = lines.into_iter().map(LogEntry::new);
        match window {
            LogWindow::Head => {
                self.lines = entries.collect();
                self.older = false;
                self.newer = more;
                self.scroll = self.max_scroll();
            }
            LogWindow::Before(_) => {
                // Older lines above: what was on screen stays where it is.
                for e in entries.rev() {
                    self.lines.push_front(e);
                }
                self.older = more;
                self.trim_back();
            }
            LogWindow::After(_) => {
                // Newer lines below: what was on screen stays where it is.
                self.lines.extend(entries);
                self.scroll += n;
                self.newer = more;
                self.trim_front();
                self.scroll = self.scroll.min(self.max_scroll());
            }
        }
        self.refind(at);
    }

    /// Ask the loader for `window` instead of the tail.
    fn ask(&mut self, window: LogWindow) {
        if self.window != Some(window) {
            self.window = Some(window);
            self.pending = true;
        }
        self.follow = false;
    }

    /// Move by `delta` lines (a page for page keys), or to the first / last line. Past the top
    /// of what is loaded the lines before it are read, `g` reads the log's first lines; past
    /// the bottom of an older window the lines after it, and `G` the tail again. Each read is
    /// a window next to what is loaded or at an end, however long the log.
    pub fn navigate(&mut self, action: &Action, delta: isize) {
        let at_top = self.scroll >= self.max_scroll();
        let first = self.lines.front().map(|e| e.line.id);
        let last = self.lines.back().map(|e| e.line.id);
        match (action, first, last) {
            (Action::Top, _, _) if self.older => {
                self.ask(LogWindow::Head);
                return;
            }
            (Action::Up | Action::PageUp, Some(first), _) if at_top && self.older => {
                self.ask(LogWindow::Before(first));
                return;
            }
            (Action::Bottom, _, _) if self.window.is_some() => {
                self.back_to_tail();
                return;
            }
            (Action::Down | Action::PageDown, _, Some(last))
                if self.scroll == 0 && self.window.is_some() =>
            {
                if self.newer {
                    self.ask(LogWindow::After(last));
                } else {
                    self.back_to_tail();
                }
                return;
            }
            _ => {}
        }
        self.navigate_loaded(action, delta);
    }

    /// `f`: follow the tail (from a window too), or stop following.
    pub fn toggle_follow(&mut self) {
        if self.window.is_some() {
            self.back_to_tail();
        } else {
            self.follow = !self.follow;
            self.scroll = 0;
        }
    }

    /// Leave a window: the loader reads the tail again (as a new stream).
    fn back_to_tail(&mut self) {
        self.window = None;
        self.pending = false;
        self.follow = true;
        self.scroll = 0;
    }

    fn navigate_loaded(&mut self, action: &Action, delta: isize) {
        let delta = match action {
            Action::PageUp => -(self.page() as isize),
            Action::PageDown => self.page() as isize,
            _ => delta,
        };
        self.scroll = match action {
            Action::Top => self.max_scroll(),
            Action::Bottom => 0,
            _ => self
                .scroll
                .saturating_add_signed(-delta)
                .min(self.max_scroll()),
        };
        self.follow = self.scroll == 0 && self.window.is_none();
    }

    /// Search for `query` (`None` or empty: stop searching); jump to the last match at or above
    /// the bottom of the screen (else the first). Returns what the footer should say.
    pub fn set_search(&mut self, query: Option<&str>) -> Option<String> {
        let query = query.filter(|q| !q.is_empty())?;
        let matches = find(&self.lines, query);
        let bottom = self.bottom_line();
        let current = matches
            .iter()
            .rposition(|&m| m <= bottom)
            .or((!matches.is_empty()).then_some(0));
        self.search = Some(Search {
            query: query.to_string(),
            matches,
            current,
        });
        match current {
            Some(i) => {
                let line = self.search.as_ref().map_or(0, |s| s.matches[i]);
                self.follow = false;
                self.show(line);
                None
            }
            None => Some(format!("No line of the loaded log contains {query:?}.")),
        }
    }

    /// `n` (`forward`) / `N`: the next / previous match, wrapping around.
    pub fn next_match(&mut self, forward: bool) -> Option<String> {
        let Some(s) = self.search.as_mut() else {
            return Some("No search: / searches the log.".into());
        };
        let n = s.matches.len();
        if n == 0 {
            return Some(format!("No line of the loaded log contains {:?}.", s.query));
        }
        let i = match (s.current, forward) {
            (None, _) => 0,
            (Some(i), true) => (i + 1) % n,
            (Some(i), false) => (i + n - 1) % n,
        };
        s.current = Some(i);
        let line = s.matches[i];
        self.follow = false;
        self.show(line);
        None
    }

    /// `3/17 matching lines` for the footer.
    pub fn search_status(&self) -> Option<String> {
        let s = self.search.as_ref()?;
        let at = s.current.map_or(0, |i| i + 1);
        Some(format!(
            "/{} {at}/{} matching lines",
            s.query,
            s.matches.len()
        ))
    }
}

/// How the pane is drawn, beyond its state.
pub struct Look<'a> {
    pub title: Line<'a>,
    pub utc_offset: i32,
    /// Prefix each line with its step, padded to this width (the all-steps log).
    pub step_prefix: Option<usize>,
    pub theme: Theme,
}

/// One entry's spans: timestamp, step, then the coloured text with matches marked.
fn entry_spans(
    pane: &LogPane,
    i: usize,
    e: &LogEntry,
    look: &Look<'_>,
    mark: Option<&str>,
) -> Vec<Span<'static>> {
    let theme = look.theme;
    let base = match e.line.stream {
        LogStream::Stdout => Style::default(),
        LogStream::Stderr => theme.warn(),
        LogStream::System => theme.dim(),
    };
    let mut out = Vec::new();
    if pane.timestamps {
        out.push(Span::styled(
            format!("{} ", format::clock(e.line.time, look.utc_offset)),
            theme.dim(),
        ));
    }
    if let Some(w) = look.step_prefix {
        out.push(Span::styled(
            format!("{:w$} │ ", e.line.step_id),
            theme.dim(),
        ));
    }
    let spans = ansi::styled(&e.text, base, theme.color);
    let marks = mark.map(|q| ranges(e, q)).unwrap_or_default();
    let current = pane
        .search
        .as_ref()
        .and_then(|s| s.current.and_then(|c| s.matches.get(c)))
        == Some(&i);
    let hl = if current {
        Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD)
    } else {
        Style::default().add_modifier(Modifier::REVERSED)
    };
    out.extend(ansi::mark(spans, &marks, hl).spans);
    out
}

/// Cut `spans` into rows of at most `width` columns, as a terminal wraps.
fn wrap(spans: Vec<Span<'static>>, width: usize) -> Vec<Line<'static>> {
    let width = width.max(1);
    let mut rows = vec![Vec::new()];
    let mut col = 0;
    for span in spans {
        let mut piece = String::new();
        for c in span.content.chars() {
            let w = c.width().unwrap_or(0);
            if col + w > width && col > 0 {
                if let Some(row) = rows.last_mut() {
                    row.push(Span::styled(std::mem::take(&mut piece), span.style));
                }
                rows.push(Vec::new());
                col = 0;
            }
            piece.push(c);
            col += w;
        }
        if let Some(row) = rows.last_mut() {
            row.push(Span::styled(piece, span.style));
        }
    }
    rows.into_iter().map(Line::from).collect()
}

/// Draw the pane: the lines that end `scroll` lines above the newest, bottom-aligned.
pub fn draw(f: &mut Frame, area: Rect, pane: &LogPane, look: Look<'_>) {
    let block = Block::default()
        .borders(Borders::ALL)
        .title(look.title.clone());
    let inner = block.inner(area);
    f.render_widget(block, area);
    let h = usize::from(inner.height);
    pane.height.set(h);
    let width = usize::from(inner.width);
    if h == 0 || width == 0 {
        return;
    }
    let mark = pane.search.as_ref().map(|s| s.query.as_str());
    let end = pane.lines.len().saturating_sub(pane.scroll);
    let mut rows: Vec<Line<'static>> = Vec::new();
    // Walk up from the bottom line until the pane is full.
    let mut i = end;
    while i > 0 && rows.len() < h {
        i -= 1;
        let spans = entry_spans(pane, i, &pane.lines[i], &look, mark);
        if pane.wrap {
            let mut wrapped = wrap(spans, width);
            wrapped.append(&mut rows);
            rows = wrapped;
        } else {
            rows.insert(0, Line::from(spans));
        }
    }
    // The first loaded line is on screen and the log goes back further: say so above it.
    if i == 0 && pane.older && rows.len() < h {
        let text = if pane.pending && !matches!(pane.window, Some(LogWindow::After(_))) {
            "··· reading older lines…"
        } else {
            "··· older lines not loaded: ↑ reads more, g the first lines"
        };
        rows.insert(0, Line::from(Span::styled(text, look.theme.dim())));
    }
    // Scrolled to the top: fill the pane downwards from the first line.
    let mut j = end;
    while i == 0 && rows.len() < h && j < pane.lines.len() {
        let spans = entry_spans(pane, j, &pane.lines[j], &look, mark);
        if pane.wrap {
            rows.extend(wrap(spans, width));
        } else {
            rows.push(Line::from(spans));
        }
        j += 1;
    }
    if j > end {
        rows.truncate(h);
    }
    let skip = rows.len().saturating_sub(h);
    let rows: Vec<Line> = rows.into_iter().skip(skip).collect();
    f.render_widget(Paragraph::new(rows), inner);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use std::time::Instant;

    fn line(i: i64, text: &str) -> LogLine {
        LogLine {
            id: i,
            run_id: "r".into(),
            step_id: "s".into(),
            attempt: 1,
            time: 0,
            stream: LogStream::Stdout,
            line: text.into(),
        }
    }

    fn pane(texts: &[&str]) -> LogPane {
        let mut p = LogPane::default();
        let lines = texts
            .iter()
            .enumerate()
            .map(|(i, t)| line(i as i64 + 1, t))
            .collect();
        p.add(lines, true, false);
        p
    }

    #[test]
    fn search_is_smart_case_over_the_visible_text() {
        let p = pane(&[
            "Error: one",
            "fine",
            "\x1b[31merror\x1b[0m two",
            "ERROR three",
        ]);
        assert_eq!(find(&p.lines, "error"), [0, 2, 3]);
        assert_eq!(find(&p.lines, "Error"), [0]);
        // Escape codes are not text: "31m" is not in the line.
        assert!(find(&p.lines, "31m").is_empty());
        assert_eq!(ranges(&p.lines[2], "error"), [(0, 5)]);
    }

    /// The current match's line, and whether it is on screen.
    fn at(p: &LogPane) -> (usize, bool) {
        let s = p.search.as_ref().unwrap();
        let line = s.matches[s.current.unwrap()];
        let end = p.lines.len() - p.scroll;
        let top = end.saturating_sub(p.height.get());
        (line, (top..end).contains(&line))
    }

    #[test]
    fn n_and_shift_n_visit_every_match_and_wrap_around() {
        let mut p = pane(&["a hit", "x", "hit b", "y", "z", "hit c", "w", "v", "u"]);
        p.height.set(3);
        assert_eq!(p.set_search(Some("hit")), None);
        // The last match at or above the bottom of the screen first.
        assert_eq!(p.search_status().unwrap(), "/hit 3/3 matching lines");
        assert_eq!(at(&p), (5, true));
        assert!(!p.follow);
        p.next_match(true);
        assert_eq!(at(&p), (0, true));
        p.next_match(true);
        assert_eq!(at(&p), (2, true));
        p.next_match(false);
        p.next_match(false);
        assert_eq!(at(&p), (5, true));
        assert!(p.set_search(Some("nothing")).is_some());
        assert_eq!(p.search_status().unwrap(), "/nothing 0/0 matching lines");
    }

    /// Lines `from..to` of a stream (line `i` has id `i + 1`).
    fn stream(from: usize, to: usize) -> Vec<LogLine> {
        (from..to)
            .map(|i| line(i as i64 + 1, &format!("line {i}")))
            .collect()
    }

    #[test]
    fn the_tail_of_a_long_log_keeps_a_window_and_knows_older_lines_exist() {
        let mut p = LogPane::default();
        p.height.set(10);
        // The loader's first read: the last lines of a million, more before them.
        p.add(stream(998_000, 1_000_000), true, true);
        assert_eq!(p.lines.len(), LOG_KEEP);
        assert!(p.older && !p.newer && p.follow);
        // Live lines push the oldest out: still a window.
        p.add(stream(1_000_000, 1_000_500), false, false);
        assert_eq!(p.lines.len(), LOG_KEEP);
        assert_eq!(p.lines[0].text.plain, "line 998500");
        // A short log read whole: nothing older.
        let mut q = LogPane::default();
        q.add(stream(0, 5), true, false);
        assert!(!q.older);
        // Scrolling within what is loaded asks for nothing.
        for _ in 0..(LOG_KEEP - 10) / 10 {
            p.navigate(&Action::PageUp, 0);
        }
        assert_eq!((p.scroll, p.follow, p.window), (LOG_KEEP - 10, false, None));
        p.navigate(&Action::Down, 1);
        assert_eq!(p.scroll, LOG_KEEP - 11);
        p.navigate(&Action::Bottom, 0);
        assert_eq!((p.scroll, p.follow, p.window), (0, true, None));
    }

    #[test]
    fn g_reads_the_first_lines_and_capital_g_the_tail_again() {
        let mut p = LogPane::default();
        p.height.set(10);
        p.add(stream(998_000, 1_000_000), true, true);
        p.navigate(&Action::Top, 0);
        assert_eq!((p.window, p.pending), (Some(LogWindow::Head), true));
        // Live lines and stale answers wait: the window is what was asked.
        p.add(stream(1_000_000, 1_000_001), false, false);
        assert_eq!(p.lines.len(), LOG_KEEP);
        p.set_window(LogWindow::Before(5), stream(0, 3), true);
        assert!(p.pending, "not what was asked");
        p.set_window(LogWindow::Head, stream(0, LOG_KEEP), true);
        assert!(!p.pending);
        assert_eq!(p.lines[0].text.plain, "line 0");
        assert!(!p.older && p.newer && !p.follow);
        assert_eq!(p.scroll, p.max_scroll(), "the first line at the top");
        // Applied once: the same answer again changes nothing.
        p.set_window(LogWindow::Head, stream(5, 7), false);
        assert_eq!(p.lines.len(), LOG_KEEP);
        // f in a window follows the tail, as G does.
        let mut f = p.clone();
        f.toggle_follow();
        assert_eq!((f.window, f.follow, f.scroll), (None, true, 0));
        f.toggle_follow();
        assert!(!f.follow);
        p.navigate(&Action::Bottom, 0);
        assert_eq!((p.window, p.follow, p.scroll), (None, true, 0));
        // The loader sends the tail as a new stream.
        p.add(stream(998_001, 1_000_001), true, true);
        assert_eq!(p.lines.back().unwrap().text.plain, "line 1000000");
        assert!(p.older && !p.newer);
    }

    #[test]
    fn scrolling_past_the_window_reads_the_lines_next_to_it() {
        let mut p = LogPane::default();
        p.height.set(10);
        p.add(stream(998_000, 1_000_000), true, true);
        p.scroll = p.max_scroll();
        let top_id = p.lines[0].line.id;
        p.navigate(&Action::Up, -1);
        assert_eq!(p.window, Some(LogWindow::Before(top_id)));
        assert!(p.pending && !p.follow);
        // The chunk before arrives: the old first line stays where it was on screen; the
        // newest lines go to keep one window.
        let screen_top = |p: &LogPane| p.lines.len() + usize::from(p.older) - p.scroll - 10;
        let shown = p.lines[screen_top(&p)].line.id;
        p.set_window(
            LogWindow::Before(top_id),
            stream(998_000 - CHUNK, 998_000),
            true,
        );
        assert_eq!(p.lines.len(), LOG_KEEP);
        assert_eq!(p.lines[0].text.plain, format!("line {}", 998_000 - CHUNK));
        assert!(p.older && p.newer);
        assert_eq!(p.lines[screen_top(&p)].line.id, shown);
        // Up again, within what is loaded now.
        p.navigate(&Action::Up, -1);
        assert!(!p.pending);
        // Down to the bottom of the window, then past it: the lines after it.
        p.navigate(&Action::Bottom, 0);
        assert_eq!(p.window, None, "G leaves the window for the tail");
        p.window = Some(LogWindow::Before(top_id));
        p.scroll = 0;
        let last_id = p.lines.back().unwrap().line.id;
        p.navigate(&Action::Down, 1);
        assert_eq!(p.window, Some(LogWindow::After(last_id)));
        let bottom = p.lines.back().unwrap().line.id;
        p.set_window(
            LogWindow::After(last_id),
            stream(997_000 + CHUNK, 998_000 + CHUNK),
            false,
        );
        assert_eq!(p.lines.len(), LOG_KEEP);
        assert!(p.older && !p.newer);
        assert_eq!(
            p.lines[p.lines.len() - 1 - p.scroll].line.id,
            bottom,
            "the bottom line stays on the bottom row"
        );
        // At the end of the log: down past it follows the tail again.
        p.scroll = 0;
        p.navigate(&Action::Down, 1);
        assert_eq!((p.window, p.follow), (None, true));
    }

    #[test]
    fn a_search_keeps_its_match_when_the_window_moves() {
        let mut p = LogPane::default();
        p.height.set(10);
        p.add(stream(3_000, 5_000), true, true);
        assert_eq!(p.set_search(Some("line 3500")), None);
        let current = |p: &LogPane| {
            let s = p.search.as_ref().unwrap();
            p.lines[s.matches[s.current.unwrap()]].line.id
        };
        assert_eq!(current(&p), 3_501);
        p.scroll = p.max_scroll();
        p.navigate(&Action::PageUp, 0);
        p.set_window(LogWindow::Before(3_001), stream(3_000 - CHUNK, 3_000), true);
        assert_eq!(current(&p), 3_501, "the same line, at its new index");
    }

    #[test]
    fn search_over_100_000_lines_takes_under_50_ms() {
        let mut p = LogPane::default();
        let lines: Vec<LogLine> = (0..100_000)
            .map(|i| {
                line(
                    i,
                    &format!(
                        "\x1b[32m2026-11-30T03:00:00Z\x1b[0m step output line {i} compiling crate number {} with rustc",
                        i % 977
                    ),
                )
            })
            .collect();
        p.lines = lines.into_iter().map(LogEntry::new).collect();
        // The best of five: what a search costs, not how long another process held the core
        // (the suite runs on loaded machines).
        let took = (0..5)
            .map(|_| {
                let started = Instant::now();
                let hits = find(&p.lines, "crate number 976 ");
                let took = started.elapsed();
                assert_eq!(hits.len(), 102);
                took
            })
            .min()
            .unwrap_or_default();
        // The figure, for the record (`--nocapture`): a few ms on a loaded 2-core machine.
        println!("search over 100,000 lines: {took:?}");
        assert!(took.as_millis() < 50, "took {took:?}");
    }

    #[test]
    fn wrapping_cuts_rows_at_the_width_and_keeps_styles() {
        let rows = wrap(vec![Span::raw("abcdef"), Span::raw("gh")], 3);
        let text: Vec<String> = rows.iter().map(|l| l.to_string()).collect();
        assert_eq!(text, ["abc", "def", "gh"]);
        let rows = wrap(vec![Span::raw("日本語")], 4);
        assert_eq!(rows.len(), 2);
    }
}
