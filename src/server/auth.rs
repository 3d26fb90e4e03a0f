//! Who is calling: the `Authorization: Bearer imx_...` header → a [`Principal`], through an
//! [`Authenticator`] (the local control plane's token table in production).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::AppState;
use super::error::ApiError;
use crate::Result;
use crate::auth::Principal;

/// Turns a bearer token (and the caller's address) into a principal.
pub trait Authenticator: Send + Sync {
    /// `token` is the bearer secret, or `None` when the request has none. Errors are
    /// unauthenticated (401): missing, unknown, revoked or expired tokens.
    fn authenticate(&self, token: Option<&str>, source: &str) -> Result<Principal>;
}

/// The authenticated caller of a request.
pub struct Caller(pub Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        let source = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_else(|| "unknown".into());
        Ok(Caller(state.auth.authenticate(token, &source)?))
    }
}
