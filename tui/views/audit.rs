//! Audit: the newest records of the audit trail, live, filtered by text (actor, action, target)
//! and outcome; with a time range (`:since`), every record of it (read by the control plane, up
//! to [`RANGE`]).

use imx::control::AuditFilter;
use imx::model::AuditRecord;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Row, Table};

use super::super::app::App;
use super::super::format;
use super::super::sort::Sort;
use super::super::theme::Theme;
use super::super::window::scroll_offset;

/// Records the tail shows.
pub const TAIL: u32 = 200;
/// Records the tail shows with a time range (`:since`): every record of the range, up to this
/// many (the newest).
pub const RANGE: u32 = 1_000;

/// The columns, each sortable (`<` `>` `R`; the loaded tail).
pub const COLUMNS: [&str; 6] = ["SEQ", "TIME", "ACTOR", "ACTION", "TARGET", "OUTCOME"];

/// The Audit view's state.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditState {
    pub filter: AuditFilter,
    pub records: Vec<AuditRecord>,
    pub selected: usize,
    pub loaded: bool,
    /// The sort column: newest first unless changed.
    pub order: Sort,
    /// The tail as read, before the time range (`:since`) is applied to it.
    pub tail: Vec<AuditRecord>,
    /// `:since`: only records at or after this time (ms).
    pub since: Option<i64>,
}

impl Default for AuditState {
    fn default() -> Self {
        AuditState {
            filter: AuditFilter::default(),
            records: Vec::new(),
            selected: 0,
            loaded: false,
            order: Sort::new(0, true),
            tail: Vec::new(),
            since: None,
        }
    }
}

impl AuditState {
    /// `<` `>` (`right`) or `R` (`None`): change the sort.
    pub fn change_order(&mut self, right: Option<bool>) {
        match right {
            Some(r) => self.order.step(r, COLUMNS.len()),
            None => self.order.reverse(),
        }
        self.resort();
    }

    fn resort(&mut self) {
        self.order.apply(
            &mut self.records,
            &mut self.selected,
            |col, a, b| match col {
                1 => a.time.cmp(&b.time),
                2 => a.actor.cmp(&b.actor),
                3 => a.action.cmp(&b.action),
                4 => a.target.cmp(&b.target),
                5 => a.outcome.cmp(&b.outcome),
                _ => a.seq.cmp(&b.seq),
            },
        );
    }

    pub fn set(&mut self, records: Vec<AuditRecord>) {
        self.tail = records;
        self.loaded = true;
        self.refilter();
    }

    /// A new time range (moves with the clock): the control plane reads from its start rounded
    /// down to the minute (the filter changes once a minute, not with every tick), and the
    /// records are cut here exactly.
    pub fn set_since(&mut self, since: Option<i64>) {
        let minute = since.map(|t| t - t.rem_euclid(60_000));
        if minute != self.filter.since {
            self.filter.since = minute;
            self.selected = 0;
        }
        if since != self.since {
            self.since = since;
            self.refilter();
        }
    }

    /// How many records to read: the tail, or the whole time range (up to [`RANGE`]).
    pub fn limit(filter: &AuditFilter) -> u32 {
        if filter.since.is_some() { RANGE } else { TAIL }
    }

    /// Whether a filter of the view's own (text, outcome) is set; the time range is the
    /// palette's (`:since`).
    pub fn has_filter(&self) -> bool {
        self.filter.text.is_some() || self.filter.outcome.is_some()
    }

    /// Clear the text and outcome filters (the time range stays).
    pub fn clear_filter(&mut self) {
        self.filter = AuditFilter {
            since: self.filter.since,
            ..AuditFilter::default()
        };
    }

    /// The records shown: the tail within the time range.
    fn refilter(&mut self) {
        // Keep the same record selected as new ones arrive on top.
        let keep = self.records.get(self.selected).map(|r| r.seq);
        let since = self.since.unwrap_or(i64::MIN);
        self.records = self
            .tail
            .iter()
            .filter(|r| r.time >= since)
            .cloned()
            .collect();
        self.selected = match keep {
            Some(seq) if self.selected > 0 => {
                self.records.iter().position(|r| r.seq == seq).unwrap_or(0)
            }
            _ => 0,
        };
        self.resort();
    }

    /// All → ok → denied → error → all.
    pub fn cycle_outcome(&mut self) {
        self.filter.outcome = match self.filter.outcome.as_deref() {
            None => Some("ok".into()),
            Some("ok") => Some("denied".into()),
            Some("denied") => Some("error".into()),
            _ => None,
        };
        self.selected = 0;
    }
}

/// Draw the audit tail.
pub fn draw(f: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let s = &app.audit;
    let mut title = vec![
        Span::styled(" Audit ", theme.title()),
        Span::raw("· live tail "),
    ];
    if let Some(o) = &s.filter.outcome {
        title.push(Span::styled(format!("· outcome:{o} "), theme.key()));
    }
    if let Some(t) = &s.filter.text {
        title.push(Span::styled(format!("· /{t} "), theme.key()));
    }
    if let Some(since) = &app.since {
        title.push(Span::styled(
            format!("· since {} ", since.text),
            theme.key(),
        ));
        if s.tail.len() >= RANGE as usize {
            title.push(Span::raw(format!("· newest {RANGE} ")));
        }
    }
    title.extend(super::hidden_note(s.order.hidden, theme));
    let height = usize::from(area.height.saturating_sub(3));
    let offset = scroll_offset(s.selected, height);
    let rows = s
        .records
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, r)| {
            Row::new(s.order.hidden.keep([
                Cell::from(r.seq.to_string()),
                Cell::from(format::clock(r.time, app.utc_offset)),
                Cell::from(r.actor.clone()),
                Cell::from(r.action.clone()),
                Cell::from(r.target.clone()),
                Cell::from(Span::styled(r.outcome.clone(), theme.outcome(&r.outcome))),
            ]))
            .style(if i == s.selected {
                theme.selected()
            } else {
                Style::default()
            })
        });
    let table = Table::new(
        rows,
        s.order.hidden.keep([
            Constraint::Length(6),
            Constraint::Length(8),
            Constraint::Min(10),
            Constraint::Length(14),
            Constraint::Min(12),
            Constraint::Length(8),
        ]),
    )
    .header(Row::new(s.order.header(&COLUMNS)).style(theme.header_row()))
    .block(
        Block::default()
            .borders(Borders::ALL)
            .title(Line::from(title)),
    );
    f.render_widget(table, area);
    if s.records.is_empty() {
        super::empty(
            f,
            area,
            if s.loaded {
                "No records match."
            } else {
                "Loading…"
            },
            theme,
        );
    }
}
