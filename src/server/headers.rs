//! Headers on every response: `Cache-Control: no-store`, since answers carry tokens (a login, a
//! new token's secret, shown once) and private data that no browser, proxy or shared cache may
//! keep; and, when the server speaks TLS, `Strict-Transport-Security`, so a browser that has
//! seen the server once never talks plain HTTP to it again.

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// The `Strict-Transport-Security` value: one year.
pub const HSTS: &str = "max-age=31536000";

/// Middleware: `Cache-Control: no-store` unless the handler chose a policy.
pub async fn no_store(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    resp.headers_mut()
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    resp
}

/// Middleware (TLS only): `Strict-Transport-Security`.
pub async fn hsts(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    resp.headers_mut().insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static(HSTS),
    );
    resp
}
