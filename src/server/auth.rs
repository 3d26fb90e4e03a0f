//! Who is calling: the `Authorization: Bearer imx_...` header → a [`Principal`], through an
//! [`Authenticator`] (the local control plane's token table in production).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::AppState;
use super::error::ApiError;
use crate::Result;
use crate::auth::{Principal, Secret};

/// Turns a bearer token (and the caller's address) into a principal.
pub trait Authenticator: Send + Sync {
    /// `token` is the bearer secret, or `None` when the request has none. Errors are
    /// unauthenticated (401): missing, unknown, revoked or expired tokens.
    fn authenticate(&self, token: Option<&str>, source: &str) -> Result<Principal>;

    /// When a valid bearer token expires (ms since the epoch), for `whoami`; `None` when it
    /// never does or this authenticator does not know.
    fn token_expires_at(&self, _token: &str) -> Option<i64> {
        None
    }
}

/// The authenticated caller of a request.
pub struct Caller(pub Principal);

/// Where a request came from: the peer's IP address.
pub struct Source(pub String);

/// The bearer token presented (for logout), unchecked.
pub struct Presented(pub Secret);

/// The token of an `Authorization: Bearer <token>` header. The scheme is case-insensitive
/// (RFC 9110 §11.1: `bearer`, `BEARER`), and any run of spaces or tabs may follow it.
fn bearer(parts: &Parts) -> Option<&str> {
    bearer_token(&parts.headers)
}

/// [`bearer`] from the headers alone (the rate limiter keys its buckets by it).
pub(super) fn bearer_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.trim_start().split_once([' ', '\t'])?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

fn source(parts: &Parts) -> String {
    parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

impl<S: Send + Sync> FromRequestParts<S> for Source {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Ok(Source(source(parts)))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Presented {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        match bearer(parts) {
            Some(t) => Ok(Presented(Secret::new(t))),
            None => Err(ApiError(crate::Error::Unauthenticated(
                "this request needs a bearer token".into(),
            ))),
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let source = source(parts);
        let who = state.auth.authenticate(bearer(parts), &source)?;
        if let Some(slot) = parts.extensions.get::<super::log::Who>() {
            let _ = slot.0.set(who.name.clone());
        }
        if let Some(slot) = parts.extensions.get::<super::limits::Authenticated>() {
            let _ = slot.0.set(());
        }
        Ok(Caller(who))
    }
}

/// The production authenticator: the local control plane's token table.
impl Authenticator for crate::control::LocalControlPlane {
    fn authenticate(&self, token: Option<&str>, source: &str) -> Result<Principal> {
        match token {
            Some(t) => self.authenticate_token(&Secret::new(t), source),
            None => Err(crate::Error::Unauthenticated(
                "this request needs a token (Authorization: Bearer imx_...)".into(),
            )),
        }
    }

    fn token_expires_at(&self, token: &str) -> Option<i64> {
        self.token_expiry(&Secret::new(token)).ok().flatten()
    }
}
