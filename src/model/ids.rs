//! Identifiers (ULIDs) and the clock.

use std::time::{SystemTime, UNIX_EPOCH};

/// A new ULID, as its canonical 26-character text.
pub fn new_id() -> String {
    ulid::Ulid::new().to_string()
}

/// A new ULID whose time is `ms` (since the epoch): the id of a record created at `ms`, so
/// that a time bound on ids (`run list --since`) agrees with the record's `created_at`.
pub fn new_id_at(ms: i64) -> String {
    let at = UNIX_EPOCH + std::time::Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    ulid::Ulid::from_datetime(at).to_string()
}

/// The short form shown in tables: a prefix long enough to be unique in practice.
pub fn short_id(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

/// Wall-clock milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
