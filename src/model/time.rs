//! How the model's times look in JSON (the CLI's `-o json|yaml` and the HTTP API alike): RFC 3339
//! in UTC with milliseconds (`2024-05-01T12:03:05.123Z`), while the code keeps
//! [`Millis`](super::Millis). Use on a field:
//!
//! ```ignore
//! #[serde(with = "crate::model::time::rfc3339")]
//! pub created_at: i64,
//! #[serde(default, with = "crate::model::time::rfc3339_opt")]
//! pub finished_at: Option<i64>,
//! ```
//!
//! Reading accepts RFC 3339 with any offset, and also a bare number of epoch milliseconds (what
//! imx wrote before, e.g. in audit archives), so old data still reads. Milliseconds round-trip
//! exactly.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::de::{self, Visitor};
use serde::{Deserializer, Serializer};

/// Epoch milliseconds as RFC 3339 (UTC, millisecond precision); `None` when out of range.
pub fn to_rfc3339(ms: i64) -> Option<String> {
    let mut buf = [0; 24];
    match format_common(ms, &mut buf) {
        Some(text) => Some(text.to_string()),
        None => chrono_rfc3339(ms),
    }
}

/// [`to_rfc3339`] by chrono: for years outside 0000-9999.
fn chrono_rfc3339(ms: i64) -> Option<String> {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
}

/// [`to_rfc3339`] of a time in the years 0000-9999 (`None` outside them), written into `buf`
/// without allocating: `YYYY-MM-DDTHH:MM:SS.mmmZ`, as chrono writes it. Every time in a page of
/// runs or steps is one, so this is on the API's hot path.
fn format_common(ms: i64, buf: &mut [u8; 24]) -> Option<&str> {
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    // Days to a civil date (proleptic Gregorian; Howard Hinnant's `civil_from_days`).
    let z = days.checked_add(719_468)?;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe.checked_add(era.checked_mul(400)?)? + i64::from(month <= 2);
    if !(0..=9_999).contains(&year) {
        return None;
    }
    let (secs, milli) = (in_day / 1_000, in_day % 1_000);
    let fields = [
        (0, year, 4),
        (5, month, 2),
        (8, day, 2),
        (11, secs / 3_600, 2),
        (14, secs / 60 % 60, 2),
        (17, secs % 60, 2),
        (20, milli, 3),
    ];
    *buf = *b"0000-00-00T00:00:00.000Z";
    for (at, mut value, width) in fields {
        for i in (at..at + width).rev() {
            // 0..=9: the byte is a digit.
            buf[i] = b'0' + u8::try_from(value % 10).unwrap_or(0);
            value /= 10;
        }
    }
    std::str::from_utf8(buf).ok()
}

/// A time for a free-form JSON value (audit details): RFC 3339 like every other time in JSON (the
/// number itself when out of range).
pub fn json(ms: i64) -> serde_json::Value {
    to_rfc3339(ms).map_or_else(|| ms.into(), Into::into)
}

/// RFC 3339 text as epoch milliseconds.
pub fn from_rfc3339(s: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| t.timestamp_millis())
}

/// How a request body may give a time, for the API document: RFC 3339, or a number of epoch
/// milliseconds (what imx sent before). Only a schema: the fields are `i64` read by [`rfc3339`]
/// and [`rfc3339_opt`], which accept both.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum TimeInput {
    #[schema(value_type = String, format = DateTime)]
    Rfc3339(String),
    #[schema(value_type = i64, format = Int64)]
    EpochMillis(i64),
}

/// A time field (`i64` epoch milliseconds) as RFC 3339.
pub mod rfc3339 {
    use super::*;

    pub fn serialize<S: Serializer>(ms: &i64, s: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0; 24];
        if let Some(text) = format_common(*ms, &mut buf) {
            return s.serialize_str(text);
        }
        match chrono_rfc3339(*ms) {
            Some(text) => s.serialize_str(&text),
            // Outside chrono's range (never a real time): keep the number rather than fail.
            None => s.serialize_i64(*ms),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        d.deserialize_any(TimeVisitor)
    }
}

/// An optional time field (`Option<i64>`) as RFC 3339 or `null`. Pair it with `#[serde(default)]`.
pub mod rfc3339_opt {
    use super::*;

    pub fn serialize<S: Serializer>(ms: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
        match ms {
            Some(ms) => super::rfc3339::serialize(ms, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        d.deserialize_option(OptVisitor)
    }

    struct OptVisitor;

    impl<'de> Visitor<'de> for OptVisitor {
        type Value = Option<i64>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an RFC 3339 time, epoch milliseconds or null")
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(TimeVisitor).map(Some)
        }
    }
}

struct TimeVisitor;

impl Visitor<'_> for TimeVisitor {
    type Value = i64;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an RFC 3339 time or epoch milliseconds")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
        from_rfc3339(v).ok_or_else(|| E::custom(format!("invalid RFC 3339 time {v:?}")))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
        Ok(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
        i64::try_from(v).map_err(|_| E::custom(format!("time {v} is out of range")))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct T {
        #[serde(with = "super::rfc3339")]
        at: i64,
        #[serde(default, with = "super::rfc3339_opt")]
        maybe: Option<i64>,
    }

    /// The quick formatting of common times writes what chrono writes, to the millisecond,
    /// before 1970 and after, at the ends of months, years, leap days and centuries.
    #[test]
    fn times_are_written_as_chrono_writes_them() {
        let chrono = |ms| super::chrono_rfc3339(ms).unwrap();
        let day = 86_400_000i64;
        let mut times = vec![0, -1, 1, 999, 1_000, day - 1, day, -day, -day - 1];
        // 0000-01-01 and 9999-12-31T23:59:59.999, and around them.
        let (first, last) = (-62_167_219_200_000i64, 253_402_300_799_999i64);
        times.extend([first, first + 1, last - 1, last]);
        // Around every 1 March and 1 January of a few centuries (leap days, 1900, 2000).
        for year in [
            1600i32, 1700, 1899, 1900, 1970, 1999, 2000, 2024, 2100, 2400,
        ] {
            for (m, d) in [(1, 1), (2, 28), (2, 29), (3, 1), (12, 31)] {
                if let Some(date) = chrono::NaiveDate::from_ymd_opt(year, m, d) {
                    let ms = date.and_hms_milli_opt(0, 0, 0, 0).unwrap().and_utc();
                    let ms = ms.timestamp_millis();
                    times.extend([ms - 1, ms, ms + 1, ms + day - 1]);
                }
            }
        }
        // And a spread of times between (a simple generator: no dependency on a seed).
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let span = u64::try_from(last - first).unwrap();
            times.push(first + i64::try_from(x % span).unwrap());
        }
        for ms in times {
            assert_eq!(super::to_rfc3339(ms).unwrap(), chrono(ms), "{ms}");
            let json = serde_json::to_string(&T {
                at: ms,
                maybe: None,
            })
            .unwrap();
            assert!(json.contains(&format!("\"{}\"", chrono(ms))), "{json}");
        }
        // Outside 0000-9999, chrono's way (a sign, more digits).
        for ms in [first - 1, last + 1, -8_000_000_000_000_000] {
            assert_eq!(super::to_rfc3339(ms), super::chrono_rfc3339(ms), "{ms}");
        }
    }

    #[test]
    fn times_are_rfc3339_with_milliseconds_and_round_trip() {
        let t = T {
            at: 1_714_565_000_123,
            maybe: Some(0),
        };
        let json = serde_json::to_value(&t).unwrap();
        assert_eq!(
            json,
            serde_json::json!({ "at": "2024-05-01T12:03:20.123Z", "maybe": "1970-01-01T00:00:00.000Z" })
        );
        assert_eq!(serde_json::from_value::<T>(json).unwrap(), t);
        let none = T { at: 5, maybe: None };
        let json = serde_json::to_string(&none).unwrap();
        assert!(json.contains("\"maybe\":null"), "{json}");
        assert_eq!(serde_json::from_str::<T>(&json).unwrap(), none);
    }

    #[test]
    fn reading_accepts_offsets_epoch_millis_and_a_missing_option() {
        let t: T = serde_json::from_str(r#"{"at":"2024-05-01T14:03:20.123+02:00"}"#).unwrap();
        assert_eq!(t.at, 1_714_565_000_123);
        assert_eq!(t.maybe, None);
        let t: T = serde_json::from_str(r#"{"at":1714565000123,"maybe":42}"#).unwrap();
        assert_eq!((t.at, t.maybe), (1_714_565_000_123, Some(42)));
        assert!(serde_json::from_str::<T>(r#"{"at":"yesterday"}"#).is_err());
        let yaml = serde_saphyr::to_string(&t).unwrap();
        assert!(yaml.contains("at: \"2024-05-01T12:03:20.123Z\""), "{yaml}");
        assert_eq!(serde_saphyr::from_str::<T>(&yaml).unwrap(), t);
    }
}
