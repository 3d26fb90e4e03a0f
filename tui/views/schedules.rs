//! Schedules: every schedule with its workflow, timing (cron or interval, and zone), state
//! (active, or paused with the note saying why), next fire time, last run and tick counts;
//! filtered here (`/state:paused nightly`), sorted by any column (`<` `>` `R`). Enter shows the
//! schedule's runs; `p` `r` `t` pause, resume and trigger it (asked first).

use std::collections::BTreeMap;

use imx::model::{Run, ScheduleInfo, short_id};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, Wrap};

use super::super::app::App;
use super::super::format;
use super::super::sort::Sort;
use super::super::theme::Theme;
use super::super::window::scroll_offset;

/// Schedules whose last run the loader reads (one indexed read each), in name order.
pub const LAST_RUNS: usize = 200;

/// The columns, each sortable.
pub const COLUMNS: [&str; 8] = [
    "NAME", "WORKFLOW", "TIMING", "STATE", "NEXT", "LAST RUN", "FIRED", "MISSED",
];

/// The Schedules view's state: every schedule (there are few: filtered and sorted here) and
/// the last run of each that has one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SchedulesState {
    pub all: Vec<ScheduleInfo>,
    /// Each schedule's newest run, by schedule name.
    pub last: BTreeMap<String, Run>,
    pub selected: usize,
    /// `state:paused` / `state:active`.
    pub paused: Option<bool>,
    /// Part of the name or workflow.
    pub text: Option<String>,
    pub loaded: bool,
    /// The sort column (`<` `>` `R`).
    pub order: Sort,
}

/// `cron EXPR` or `every D`, with the zone when not UTC (as `imx schedule list` shows it).
pub fn timing(s: &ScheduleInfo) -> String {
    let t = match (&s.spec.cron, s.spec.every_ms) {
        (Some(c), _) => format!("cron {c}"),
        (None, Some(ms)) => format!("every {}", imx::model::duration_text(ms)),
        (None, None) => "–".into(),
    };
    if s.spec.timezone == "UTC" {
        t
    } else {
        format!("{t} ({})", s.spec.timezone)
    }
}

/// `active`, `paused`, or `paused: NOTE`.
pub fn state(s: &ScheduleInfo) -> String {
    match (s.paused, &s.note) {
        (true, Some(n)) => format!("paused: {n}"),
        (true, None) => "paused".into(),
        (false, _) => "active".into(),
    }
}

/// When `t` is from `now`: `in 5m`, `now`, `3m late` (a tick not yet fired), `–` (none: done).
pub fn until(now: i64, t: Option<i64>) -> String {
    match t {
        None => "–".into(),
        Some(t) if t >= now + 1_000 => format!("in {}", format::age(t, now)),
        Some(t) if t + 60_000 > now => "now".into(),
        Some(t) => format!("{} late", format::age(now, t)),
    }
}

impl SchedulesState {
    pub fn set(&mut self, all: Vec<ScheduleInfo>) {
        let keep = self.selected_item().map(|s| s.name.clone());
        self.all = all;
        self.loaded = true;
        self.resort(keep);
    }

    /// The last runs arrived (those of schedules that have one).
    pub fn set_last(&mut self, last: BTreeMap<String, Run>) {
        let keep = self.selected_item().map(|s| s.name.clone());
        self.last = last;
        self.resort(keep);
    }

    /// `<` `>` (`right`) or `R` (`None`): change the sort.
    pub fn change_order(&mut self, right: Option<bool>) {
        let keep = self.selected_item().map(|s| s.name.clone());
        match right {
            Some(r) => self.order.step(r, COLUMNS.len()),
            None => self.order.reverse(),
        }
        self.resort(keep);
    }

    /// Sort by the sort column (NEXT: those with none last; LAST RUN: by its id, i.e. its
    /// time), keeping `keep` selected.
    fn resort(&mut self, keep: Option<String>) {
        let mut none = 0;
        let last = &self.last;
        let run = |s: &ScheduleInfo| last.get(&s.name).map(|r| r.id.clone());
        self.order
            .apply(&mut self.all, &mut none, |col, a, b| match col {
                1 => a.workflow.cmp(&b.workflow),
                2 => timing(a).cmp(&timing(b)),
                3 => a.paused.cmp(&b.paused),
                4 => {
                    (a.next_fire.is_none(), a.next_fire).cmp(&(b.next_fire.is_none(), b.next_fire))
                }
                5 => run(a).cmp(&run(b)),
                6 => a.fired.cmp(&b.fired),
                7 => a.missed.cmp(&b.missed),
                _ => a.name.cmp(&b.name),
            });
        let visible = self.visible();
        self.selected = keep
            .and_then(|k| visible.iter().position(|s| s.name == k))
            .unwrap_or(self.selected)
            .min(visible.len().saturating_sub(1));
    }

    /// Parse `state:paused|active` and free text (part of the name or workflow); an unknown
    /// state is an error and changes nothing.
    pub fn set_filter(&mut self, filter: &str) -> Result<(), String> {
        let mut paused = None;
        let mut words = Vec::new();
        for word in filter.split_whitespace() {
            match word.strip_prefix("state:") {
                Some("paused") => paused = Some(true),
                Some("active") => paused = Some(false),
                Some(other) => {
                    return Err(format!(
                        "unknown state {other:?}: write state:paused or state:active"
                    ));
                }
                None => words.push(word),
            }
        }
        self.paused = paused;
        self.text = (!words.is_empty()).then(|| words.join(" "));
        self.selected = 0;
        Ok(())
    }

    /// The filter as typed (to edit it again).
    pub fn filter_text(&self) -> String {
        let mut parts = Vec::new();
        match self.paused {
            Some(true) => parts.push("state:paused".to_string()),
            Some(false) => parts.push("state:active".to_string()),
            None => {}
        }
        if let Some(t) = &self.text {
            parts.push(t.clone());
        }
        parts.join(" ")
    }

    pub fn has_filter(&self) -> bool {
        self.paused.is_some() || self.text.is_some()
    }

    pub fn visible(&self) -> Vec<&ScheduleInfo> {
        let t = self.text.as_deref().unwrap_or("").to_lowercase();
        self.all
            .iter()
            .filter(|s| self.paused.is_none_or(|p| s.paused == p))
            .filter(|s| {
                t.is_empty()
                    || s.name.to_lowercase().contains(&t)
                    || s.workflow.to_lowercase().contains(&t)
            })
            .collect()
    }

    pub fn selected_item(&self) -> Option<&ScheduleInfo> {
        self.visible().get(self.selected).copied()
    }
}

/// Draw the schedule table and the selected schedule's details.
pub fn draw(f: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let s = &app.schedules;
    let visible = s.visible();
    let [list, detail] = Layout::vertical([Constraint::Min(5), Constraint::Length(7)]).areas(area);
    let height = usize::from(list.height.saturating_sub(3));
    let offset = scroll_offset(s.selected, height);
    let rows = visible
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, sc)| {
            let state = if sc.paused {
                Span::styled("paused", theme.warn())
            } else {
                Span::raw("active")
            };
            let last = match s.last.get(&sc.name) {
                Some(r) => Line::from(vec![
                    Span::styled(format::run_symbol(r.status), theme.run(r.status)),
                    Span::raw(format!(" {}", short_id(&r.id))),
                ]),
                None => Line::raw("–"),
            };
            let missed = if sc.missed > 0 {
                Span::styled(sc.missed.to_string(), theme.warn())
            } else {
                Span::raw("0")
            };
            Row::new(s.order.hidden.keep([
                Cell::from(sc.name.clone()),
                Cell::from(sc.workflow.clone()),
                Cell::from(timing(sc)),
                Cell::from(state),
                Cell::from(until(app.now, sc.next_fire)),
                Cell::from(last),
                Cell::from(sc.fired.to_string()),
                Cell::from(missed),
            ]))
            .style(if i == s.selected {
                theme.selected()
            } else {
                Style::default()
            })
        });
    let mut title = vec![Span::styled(" Schedules ", theme.title())];
    if s.has_filter() {
        title.push(Span::styled(
            format!("· /{} ", s.filter_text()),
            theme.key(),
        ));
    }
    let paused = s.all.iter().filter(|x| x.paused).count();
    if s.loaded {
        let count = match (s.all.len(), paused) {
            (0, _) => "· none ".to_string(),
            (n, 0) => format!("· {n} "),
            (n, p) => format!("· {n} · {p} paused "),
        };
        title.push(Span::styled(count, theme.dim()));
    }
    title.extend(super::hidden_note(s.order.hidden, theme));
    let table = Table::new(
        rows,
        s.order.hidden.keep([
            Constraint::Min(10),
            Constraint::Min(10),
            Constraint::Min(12),
            Constraint::Length(6),
            Constraint::Length(8),
            Constraint::Length(14),
            Constraint::Length(5),
            Constraint::Length(6),
        ]),
    )
    .header(Row::new(s.order.header(&COLUMNS)).style(theme.header_row()))
    .block(
        Block::default()
            .borders(Borders::ALL)
            .title(Line::from(title)),
    );
    f.render_widget(table, list);
    if visible.is_empty() {
        let msg = match (s.loaded, s.all.is_empty()) {
            (false, _) => "Loading…",
            (true, true) => "No schedules. Create one with `imx schedule create`.",
            (true, false) => "No schedules match.",
        };
        super::empty(f, list, msg, theme);
    }
    let lines = s
        .selected_item()
        .map(|sc| details(app, sc, s.last.get(&sc.name), theme))
        .unwrap_or_default();
    f.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: true }).block(
            Block::default()
                .borders(Borders::ALL)
                .title(Span::styled(" Details ", theme.dim())),
        ),
        detail,
    );
}

/// The selected schedule's lines in the details pane.
fn details(app: &App, sc: &ScheduleInfo, last: Option<&Run>, theme: Theme) -> Vec<Line<'static>> {
    let at = |t: i64| format::date_time(t, app.utc_offset);
    let state = if sc.paused {
        Span::styled(state(sc), theme.warn())
    } else {
        Span::styled(state(sc), theme.ok())
    };
    let next = match sc.next_fire {
        Some(t) => format!("next {} ({})", at(t), until(app.now, Some(t))),
        None => "no more ticks (its end or limit is reached)".into(),
    };
    let last_run = match last {
        Some(r) => Line::from(vec![
            Span::raw("last run "),
            Span::styled(format::run_symbol(r.status), theme.run(r.status)),
            Span::raw(format!(
                " {} {} · {} ago",
                r.id,
                format::run_status(r),
                format::age(app.now, r.created_at)
            )),
        ]),
        None => Line::raw("last run: none yet"),
    };
    vec![
        Line::from(vec![
            Span::styled(sc.name.clone(), theme.key()),
            Span::raw(format!(" — runs {} · {}", sc.workflow, timing(sc))),
        ]),
        Line::from(vec![Span::raw("state "), state]),
        Line::raw(format!(
            "{next} · last tick {}",
            if sc.fired + sc.missed + sc.skipped + sc.dropped > 0 {
                at(sc.last_nominal)
            } else {
                "none yet".into()
            }
        )),
        last_run,
        Line::raw(format!(
            "ticks: {} fired, {} missed, {} skipped, {} dropped · overlap {} · from a {}",
            sc.fired,
            sc.missed,
            sc.skipped,
            sc.dropped,
            sc.spec.overlap.as_str(),
            sc.origin
        )),
    ]
}

#[cfg(test)]
mod tests {
    use super::until;

    #[test]
    fn next_fire_times_read_from_now() {
        let now = 10_000_000;
        assert_eq!(until(now, None), "–");
        assert_eq!(until(now, Some(now + 300_000)), "in 5m");
        assert_eq!(until(now, Some(now + 200)), "now");
        assert_eq!(until(now, Some(now - 30_000)), "now");
        assert_eq!(until(now, Some(now - 180_000)), "3m late");
    }
}
