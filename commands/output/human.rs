//! Human-friendly renderings of times, durations, ids and maps, and the [`Cells`] context that
//! picks between them (short ids and relative times for tables; full ids and RFC 3339 for CSV).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

/// How one row's cells are rendered: `table`, `wide` or machine-readable (`csv`).
#[derive(Debug, Clone, Copy)]
pub struct Cells {
    /// Extra columns and full ids.
    pub wide: bool,
    /// For machines: full ids, RFC 3339 times, durations in seconds.
    pub machine: bool,
    /// "Now", fixed for one rendering so every row agrees.
    pub now: i64,
    /// How many characters of an id tables show: for a list, the shortest prefix (at least
    /// [`MIN_ID`]) that tells its rows apart (see [`unique_prefix_len`]); else [`DEFAULT_ID`].
    pub id_len: usize,
}

/// The fewest characters of an id a list shows.
pub const MIN_ID: usize = 8;
/// The characters of an id shown on its own (a detail, a status line).
pub const DEFAULT_ID: usize = 12;

/// The shortest prefix length, at least `min`, at which `ids` are all different. (ULIDs start
/// with the time: runs created in the same few milliseconds share long prefixes, so a fixed
/// length is either long or not unique.)
pub fn unique_prefix_len(ids: &[&str], min: usize) -> usize {
    let mut sorted: Vec<&str> = ids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    sorted
        .windows(2)
        .map(|w| {
            let common = w[0]
                .bytes()
                .zip(w[1].bytes())
                .take_while(|(a, b)| a.eq_ignore_ascii_case(b))
                .count();
            common + 1
        })
        .fold(min, usize::max)
}

impl Cells {
    /// An id: a short prefix in tables, in full in `wide` and `csv`.
    pub fn id(&self, id: &str) -> String {
        if self.wide || self.machine {
            id.to_string()
        } else {
            id.get(..self.id_len).unwrap_or(id).to_string()
        }
    }

    /// A point in time: `2m ago` for people, RFC 3339 for machines, `-` when absent.
    pub fn time(&self, at: Option<i64>) -> String {
        match at {
            None => if self.machine { "" } else { "-" }.to_string(),
            Some(t) if self.machine => rfc3339(t),
            Some(t) => ago(self.now, t),
        }
    }

    /// A length of time: `1.3s`, `2m05s` for people, seconds for machines, `-` when absent.
    pub fn duration(&self, ms: Option<i64>) -> String {
        match ms {
            None => if self.machine { "" } else { "-" }.to_string(),
            Some(ms) if self.machine => format!("{:.3}", ms as f64 / 1000.0),
            Some(ms) => duration(ms),
        }
    }

    /// An optional value, `-` when absent (empty for machines).
    pub fn opt(&self, value: Option<impl ToString>) -> String {
        match value {
            Some(v) => v.to_string(),
            None if self.machine => String::new(),
            None => "-".to_string(),
        }
    }

    /// A map as `k=v,k=v` (`-` when empty).
    pub fn map<V: std::fmt::Display>(&self, map: &BTreeMap<String, V>) -> String {
        if map.is_empty() {
            return self.opt(None::<&str>);
        }
        map.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// `n` and the noun, plural when `n` is not 1: "1 workflow", "3 workflows" (regular nouns;
/// "entry"-style nouns become "entries").
pub fn count(n: impl Into<u64>, noun: &str) -> String {
    let n = n.into();
    if n == 1 {
        format!("1 {noun}")
    } else if let Some(stem) = noun.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'o', 'u'])
    {
        format!("{n} {stem}ies")
    } else {
        format!("{n} {noun}s")
    }
}

impl Cells {
    /// JSON values as `k=v,k=v` with strings unquoted (run params).
    pub fn values(&self, map: &BTreeMap<String, serde_json::Value>) -> String {
        let plain: BTreeMap<String, String> = map
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), v)
            })
            .collect();
        self.map(&plain)
    }
}

/// Milliseconds since the epoch as RFC 3339 (UTC, seconds precision).
pub fn rfc3339(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| ms.to_string())
}

/// `now - at` as `just now`, `42s ago`, `5m ago`, `3h ago`, `2d ago`; future times as `in 5m`.
pub fn ago(now: i64, at: i64) -> String {
    let delta = now - at;
    if delta.abs() < 1_000 {
        return "just now".into();
    }
    let secs = delta.abs() / 1_000;
    let span = if secs < 60 {
        format!("{secs}s")
    } else if secs < 3_600 {
        format!("{}m", secs / 60)
    } else if secs < 86_400 {
        format!("{}h", secs / 3_600)
    } else {
        format!("{}d", secs / 86_400)
    };
    if delta >= 0 {
        format!("{span} ago")
    } else {
        format!("in {span}")
    }
}

/// A compact duration: `350ms`, `1.3s`, `42s`, `2m05s`, `1h02m`, `3d4h`.
pub fn duration(ms: i64) -> String {
    let ms = ms.max(0);
    if ms < 1_000 {
        return format!("{ms}ms");
    }
    if ms < 10_000 {
        return format!("{:.1}s", ms as f64 / 1000.0);
    }
    let secs = ms / 1_000;
    if secs < 60 {
        format!("{secs}s")
    } else if secs < 3_600 {
        format!("{}m{:02}s", secs / 60, secs % 60)
    } else if secs < 86_400 {
        format!("{}h{:02}m", secs / 3_600, (secs % 3_600) / 60)
    } else {
        format!("{}d{}h", secs / 86_400, (secs % 86_400) / 3_600)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_compact() {
        assert_eq!(duration(350), "350ms");
        assert_eq!(duration(1_340), "1.3s");
        assert_eq!(duration(42_000), "42s");
        assert_eq!(duration(125_000), "2m05s");
        assert_eq!(duration(3_720_000), "1h02m");
        assert_eq!(duration(100_800_000), "1d4h");
    }

    #[test]
    fn times_are_relative() {
        let now = 10_000_000;
        assert_eq!(ago(now, now - 200), "just now");
        assert_eq!(ago(now, now - 42_000), "42s ago");
        assert_eq!(ago(now, now - 120_000), "2m ago");
        assert_eq!(ago(now, now + 300_000), "in 5m");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn counts_are_plural_unless_one() {
        assert_eq!(count(1u32, "workflow"), "1 workflow");
        assert_eq!(count(0u32, "workflow"), "0 workflows");
        assert_eq!(count(2u32, "entry"), "2 entries");
        assert_eq!(count(2u32, "day"), "2 days");
    }

    #[test]
    fn the_shortest_unique_prefix_is_at_least_eight() {
        assert_eq!(unique_prefix_len(&[], 8), 8);
        assert_eq!(unique_prefix_len(&["01HZXABCDEFG", "01JZXABCDEFG"], 8), 8);
        // Same millisecond: only the random part tells them apart.
        let a = "01JD8X3K9Q2M4N5P6R7S8T9V0W";
        let b = "01JD8X3K9Q2M4N5P6R7S8T9V1W";
        assert_eq!(unique_prefix_len(&[a, b, a], 8), 25);
    }

    #[test]
    fn cells_switch_between_people_and_machines() {
        let people = Cells {
            wide: false,
            machine: false,
            now: 60_000,
            id_len: DEFAULT_ID,
        };
        let machine = Cells {
            machine: true,
            ..people
        };
        let id = "01HZXABCDEFGHJKMNPQRSTVWXY";
        assert_eq!(people.id(id), "01HZXABCDEFG");
        assert_eq!(machine.id(id), id);
        assert_eq!(people.time(Some(0)), "1m ago");
        assert_eq!(machine.time(Some(0)), "1970-01-01T00:00:00Z");
        let list = Cells {
            id_len: 8,
            ..people
        };
        assert_eq!(list.id(id), "01HZXABC");
        assert_eq!(people.duration(None), "-");
        assert_eq!(machine.duration(Some(1_500)), "1.500");
    }
}
