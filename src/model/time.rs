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
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
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
        match to_rfc3339(*ms) {
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
