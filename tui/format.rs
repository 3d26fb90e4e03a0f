//! Text for the screen: durations, ages, clock times, run-status symbols.

use imx::model::{Run, RunStatus, short_id};

/// `850ms`, `4.2s`, `3m07s`, `2h05m`, `3d04h`.
pub fn duration(ms: i64) -> String {
    let ms = ms.max(0);
    let s = ms / 1000;
    match ms {
        0..1_000 => format!("{ms}ms"),
        1_000..60_000 => format!("{}.{}s", s, (ms % 1000) / 100),
        60_000..3_600_000 => format!("{}m{:02}s", s / 60, s % 60),
        3_600_000..86_400_000 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d{:02}h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// How long ago `t` was, relative to `now`: `3s`, `5m`, `2h`, `4d`.
pub fn age(now: i64, t: i64) -> String {
    let s = (now - t).max(0) / 1000;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86_400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

/// Wall-clock `HH:MM:SS` of `t` (ms since the epoch) at `offset_s` seconds from UTC.
pub fn clock(t: i64, offset_s: i32) -> String {
    let secs = (t / 1000 + i64::from(offset_s)).rem_euclid(86_400);
    format!(
        "{:02}:{:02}:{:02}",
        secs / 3600,
        (secs % 3600) / 60,
        secs % 60
    )
}

/// `YYYY-MM-DD HH:MM` of `t` (ms since the epoch) at `offset_s` seconds from UTC.
pub fn date_time(t: i64, offset_s: i32) -> String {
    chrono::DateTime::from_timestamp_millis(t + i64::from(offset_s) * 1000)
        .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| "–".into())
}

/// The local time zone's offset from UTC now, in seconds.
pub fn local_offset() -> i32 {
    chrono::Local::now().offset().local_minus_utc()
}

/// A compact symbol for a run status.
pub fn run_symbol(s: RunStatus) -> &'static str {
    match s {
        RunStatus::Queued => "○",
        RunStatus::Running => "◐",
        RunStatus::Succeeded => "✓",
        RunStatus::Failed => "✗",
        RunStatus::Cancelled => "⊘",
        RunStatus::TimedOut => "⧗",
    }
}

/// A run's status as the Runs view shows it: a run waiting for a slot of its concurrency key
/// with its place in the queue (`queued #2`).
pub fn run_status(r: &Run) -> String {
    match r.concurrency.as_ref().and_then(|c| c.position) {
        Some(pos) if r.is_waiting_for_slot() => format!("{} #{pos}", r.status),
        _ => r.status.to_string(),
    }
}

/// Where a run waiting for a slot stands, for its detail: `queued #2 for deploy-prod, after
/// 01HZX4AB12CD`.
pub fn queue_place(r: &Run) -> Option<String> {
    let c = r.concurrency.as_ref().filter(|_| r.is_waiting_for_slot())?;
    let mut text = format!("queued #{} for {}", c.position.unwrap_or(1), c.key);
    if !c.waiting_for.is_empty() {
        let ids: Vec<&str> = c.waiting_for.iter().map(|id| short_id(id)).collect();
        text.push_str(&format!(", after {}", ids.join(", ")));
    }
    Some(text)
}

/// `s` cut to `width` characters, with `…` when cut.
pub fn fit(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        s.to_string()
    } else if width == 0 {
        String::new()
    } else {
        let mut out: String = s.chars().take(width - 1).collect();
        out.push('…');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_ages_read_naturally() {
        assert_eq!(duration(850), "850ms");
        assert_eq!(duration(4_250), "4.2s");
        assert_eq!(duration(187_000), "3m07s");
        assert_eq!(duration(7_500_000), "2h05m");
        assert_eq!(age(10_000, 7_000), "3s");
        assert_eq!(age(10_000_000, 0), "2h");
        assert_eq!(clock(3_661_000, 0), "01:01:01");
        assert_eq!(clock(0, -3600), "23:00:00");
        assert_eq!(date_time(3_661_000, 0), "1970-01-01 01:01");
        assert_eq!(date_time(0, -3600), "1969-12-31 23:00");
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("abc", 4), "abc");
    }
}
