//! Identifiers (ULIDs) and the clock.

use std::time::{SystemTime, UNIX_EPOCH};

/// A new ULID, as its canonical 26-character text.
pub fn new_id() -> String {
    ulid::Ulid::new().to_string()
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
