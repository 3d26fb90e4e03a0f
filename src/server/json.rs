//! JSON bodies as the OpenAPI document reads them. [`Json`] is axum's `Json` (same rejections,
//! same responses) except in two ways:
//! - JSON Schema counts a number with a zero fraction (`3.0`, `1e3`) as an integer, so a client
//!   following the document may send one where an integer is expected, and serde refuses it. A
//!   body refused for its data is read again with such numbers written as integers, so it is
//!   accepted if that was all. (Nothing changes for bodies that deserialize the first time.)
//! - Integers in a body are `int64`: the store keeps them as such, and a `u64` field would
//!   otherwise take values it cannot keep. A larger one is refused (400) before deserializing.

use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Number, Value};

use super::error::ApiError;

/// A JSON request body or response.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        if !is_json(&req) {
            // axum's own refusal (415), body unread.
            return axum::Json::<T>::from_request(req, state)
                .await
                .map(|axum::Json(v)| Json(v))
                .map_err(IntoResponse::into_response);
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        if beyond_int64(&bytes) {
            return Err(ApiError(crate::Error::invalid(format!(
                "integers in a request body are at most {} (int64)",
                i64::MAX
            )))
            .into_response());
        }
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(first @ JsonRejection::JsonDataError(_)) => match integral(&bytes) {
                Some(again) => axum::Json::<T>::from_bytes(&again)
                    .map(|axum::Json(v)| Json(v))
                    .map_err(|_| first.into_response()),
                None => Err(first.into_response()),
            },
            Err(other) => Err(other.into_response()),
        }
    }
}

/// Whether `body` holds an integer above `i64::MAX`. Only a body with a run of 19 digits (as
/// long as `i64::MAX`) can, so only such a body is parsed to look.
fn beyond_int64(body: &[u8]) -> bool {
    let mut run = 0;
    let long = body.iter().any(|b| {
        run = if b.is_ascii_digit() { run + 1 } else { 0 };
        run >= 19
    });
    long && serde_json::from_slice::<Value>(body).is_ok_and(|v| too_big(&v))
}

fn too_big(value: &Value) -> bool {
    match value {
        Value::Number(n) => n.is_u64() && n.as_i64().is_none(),
        Value::Array(items) => items.iter().any(too_big),
        Value::Object(map) => map.values().any(too_big),
        _ => false,
    }
}

/// `application/json` or `application/*+json`, as axum decides.
fn is_json(req: &Request) -> bool {
    let Some(value) = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// The body with every integral number written as an integer, if it is JSON and had one.
fn integral(body: &[u8]) -> Option<Vec<u8>> {
    let mut value: Value = serde_json::from_slice(body).ok()?;
    integers(&mut value)
        .then(|| serde_json::to_vec(&value).ok())
        .flatten()
}

/// Rewrite integral floats as integers in place; whether any was.
fn integers(value: &mut Value) -> bool {
    match value {
        Value::Number(n) if n.is_f64() => {
            let Some(f) = n.as_f64().filter(|f| f.fract() == 0.0) else {
                return false;
            };
            // Only below 2^53, where a float is exactly the integer it was written as: past
            // it, `-9223372036854775809` would read as i64::MIN.
            if f.abs() >= 9_007_199_254_740_992.0 {
                return false;
            }
            *n = if f < 0.0 {
                Number::from(f as i64)
            } else {
                Number::from(f as u64)
            };
            true
        }
        // Every item is rewritten: no short cut once one was.
        Value::Array(items) => items.iter_mut().map(integers).fold(false, |a, b| a | b),
        Value::Object(map) => map.values_mut().map(integers).fold(false, |a, b| a | b),
        _ => false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn integral_numbers_become_integers_and_nothing_else_changes() {
        let fixed = integral(br#"{"a": 3.0, "b": [1e3, -2.0, 0.5], "c": "4.0", "d": 7}"#).unwrap();
        let v: Value = serde_json::from_slice(&fixed).unwrap();
        assert_eq!(
            v,
            serde_json::json!({ "a": 3, "b": [1000, -2, 0.5], "c": "4.0", "d": 7 })
        );
        assert!(v["a"].is_u64() && v["b"][0].is_u64() && v["b"][1].is_i64());
        assert_eq!(integral(br#"{"a": 3, "b": 0.5}"#), None);
        assert_eq!(integral(b"{not json"), None);
        // Past 2^53, where a float no longer says which integer it was: left as it is.
        assert_eq!(integral(b"[1e300]"), None);
        assert_eq!(integral(b"[-9223372036854775809]"), None);
        assert_eq!(integral(b"[9007199254740992.0]"), None);
    }

    #[test]
    fn integers_beyond_int64_are_found_wherever_they_are() {
        assert!(beyond_int64(br#"{"a": [1, {"b": 9223372036854775808}]}"#));
        assert!(!beyond_int64(
            br#"{"a": 9223372036854775807, "b": -9223372036854775808}"#
        ));
        assert!(!beyond_int64(br#"{"id": "99999999999999999999999"}"#));
        assert!(!beyond_int64(br#"{"a": 12}"#));
    }
}
