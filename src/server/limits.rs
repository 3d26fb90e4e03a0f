//! What one caller may ask of the server: request body size ([`MAX_BODY`]), request time
//! ([`REQUEST_TIMEOUT`], above the longest long poll; [`BACKUP_TIMEOUT`] to create or verify a
//! backup), page size ([`MAX_PAGE`]: larger `limit`s
//! are clamped, as the store does for runs, so a remote list reads like a local one) and request
//! rates ([`Limits`]): per token (keyed by a hash of the token, never the token) once that token
//! has authenticated on this server, and per IP address for every other request — without a
//! token, or with one not (yet) seen valid, so that sending a new made-up token with each request
//! never buys a fresh bucket. The tokens seen valid are remembered for [`KNOWN_FOR`], at most
//! [`MAX_KNOWN`] of them. Logins have buckets of their own, per address and for
//! the whole server, whatever the request carries, since each costs a password hash; the
//! operations endpoints (`/healthz`, `/readyz`, `/metrics`) have their own per-address bucket, so
//! a monitor is never refused because its address also logs in. Over a rate, the answer is 429
//! with `Retry-After`.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::Clock;
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use sha2::{Digest, Sha256};

use super::error::{ErrorBody, ErrorDetail};

/// The largest request body accepted (413 above it).
pub const MAX_BODY: usize = 4 * 1024 * 1024;

/// The largest page a list endpoint returns; larger `limit`s are clamped to it.
pub const MAX_PAGE: u32 = 1_000;

/// How long a request may take (408 after it): long polls wait up to
/// [`MAX_WAIT`](super::routes::MAX_WAIT), so this leaves them room.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(super::routes::MAX_WAIT.as_secs() + 30);

/// How long creating or verifying a backup through the API may take (408 after it). Both read
/// and write the whole store — seconds per GB, minutes for a large store — so the general limit
/// would cut them off; they run on the blocking pool (the server keeps answering meanwhile) and
/// finish, audited, even if the caller stops waiting. A download is not limited: a time limit
/// ends when the response starts, and the file is streamed after that.
pub const BACKUP_TIMEOUT: Duration = Duration::from_secs(60 * 60);

/// The time limit of a request: [`BACKUP_TIMEOUT`] for `POST /api/v1/backups` (create),
/// `POST /api/v1/backups/{id}/verify`, `POST /api/v1/runs/prune`, `POST
/// /api/v1/artifacts/prune` and an artifact upload (`PUT .../artifacts`), [`REQUEST_TIMEOUT`]
/// for everything else.
pub fn time_limit(method: &axum::http::Method, path: &str) -> Duration {
    let backup_op = path == "/api/v1/backups"
        || path
            .strip_prefix("/api/v1/backups/")
            .and_then(|rest| rest.strip_suffix("/verify"))
            .is_some_and(|id| !id.is_empty() && !id.contains('/'));
    // Pruning runs deletes in batches for as long as there is something to delete.
    let long = backup_op || path == "/api/v1/runs/prune" || path == "/api/v1/artifacts/prune";
    // An artifact upload takes as long as its bytes take to arrive.
    let upload = method == axum::http::Method::PUT
        && path.starts_with("/api/v1/runs/")
        && path.ends_with("/artifacts");
    if (method == axum::http::Method::POST && long) || upload {
        BACKUP_TIMEOUT
    } else {
        REQUEST_TIMEOUT
    }
}

/// Middleware: a request that runs past its [`time_limit`] is answered 408 with the JSON error
/// body.
pub async fn timeout(req: Request, next: Next) -> Response {
    let limit = time_limit(req.method(), req.uri().path());
    within(limit, next.run(req)).await
}

/// `response`, or 408 with the JSON error body if it is not ready within `limit`.
pub async fn within(limit: Duration, response: impl Future<Output = Response>) -> Response {
    match tokio::time::timeout(limit, response).await {
        Ok(resp) => resp,
        Err(_) => {
            let body = ErrorBody {
                error: ErrorDetail {
                    code: "unavailable".into(),
                    message: format!("the request took longer than {}s", limit.as_secs()),
                    details: serde_json::json!({}),
                },
            };
            (StatusCode::REQUEST_TIMEOUT, axum::Json(body)).into_response()
        }
    }
}

/// The longest a long poll (`claim`, `events?wait_ms=`) holds a request when the server sets
/// less than [`MAX_WAIT`](super::routes::MAX_WAIT) (`--long-poll`; an extension on the router).
#[derive(Debug, Clone, Copy)]
pub struct LongPoll(pub Duration);

impl LongPoll {
    /// The cap a handler applies: the server's, never above `MAX_WAIT`.
    pub fn cap(ext: Option<axum::Extension<LongPoll>>) -> Duration {
        let max = super::routes::MAX_WAIT;
        ext.map_or(max, |axum::Extension(LongPoll(d))| d.min(max))
    }
}

/// Requests allowed per token, per IP address, and for logins and the operations endpoints;
/// 0 turns a limit off. A per-second bucket holds twice its rate, so short bursts pass; a login
/// bucket holds ten seconds' worth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Requests per second per bearer token. High by default: one busy agent or dashboard must
    /// not be throttled.
    pub per_token: u32,
    /// Requests per second per IP address, for every other request: without a bearer token
    /// (probes, the OpenAPI document) or with one that has not authenticated lately (the first
    /// request of each token, and made-up tokens).
    pub per_ip: u32,
    /// Login attempts per minute per IP address.
    pub login_per_ip: u32,
    /// Login attempts per minute for the whole server, from every address together.
    pub login_global: u32,
    /// Requests per second per IP address to `/healthz`, `/readyz` and `/metrics`.
    pub ops_per_ip: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            per_token: 50_000,
            per_ip: 50,
            login_per_ip: 60,
            login_global: 600,
            ops_per_ip: 20,
        }
    }
}

/// Which bucket a request is counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bucket {
    /// `POST /api/v1/login`: per address and global, whatever token it carries.
    Login,
    /// `/healthz`, `/readyz`, `/metrics`: per address.
    Ops,
    /// Everything else: per token, or per address without one.
    Api,
}

impl Bucket {
    fn of(path: &str) -> Bucket {
        match path {
            "/api/v1/login" => Bucket::Login,
            "/healthz" | "/readyz" | "/metrics" => Bucket::Ops,
            _ => Bucket::Api,
        }
    }
}

/// How long a token that authenticated keeps its own bucket without authenticating again (a
/// revoked token falls back to its address's bucket after this).
pub const KNOWN_FOR: Duration = Duration::from_secs(5 * 60);

/// The most tokens remembered as valid; past that, new ones share their address's bucket until
/// some are forgotten.
pub const MAX_KNOWN: usize = 100_000;

/// Set by the [`Caller`](super::auth::Caller) extractor when the request's bearer token
/// authenticated.
#[derive(Clone, Default)]
pub struct Authenticated(pub Arc<std::sync::OnceLock<()>>);

/// The tokens (by [`token_key`]) that authenticated lately, with when they last did.
#[derive(Default)]
struct Known {
    tokens: std::collections::HashMap<[u8; 16], std::time::Instant>,
}

impl Known {
    fn contains(&self, key: &[u8; 16]) -> bool {
        self.tokens
            .get(key)
            .is_some_and(|at| at.elapsed() < KNOWN_FOR)
    }

    fn insert(&mut self, key: [u8; 16]) {
        if self.tokens.len() >= MAX_KNOWN && !self.tokens.contains_key(&key) {
            self.tokens.retain(|_, at| at.elapsed() < KNOWN_FOR);
            if self.tokens.len() >= MAX_KNOWN {
                return;
            }
        }
        self.tokens.insert(key, std::time::Instant::now());
    }
}

/// The rate limiters of one server.
pub struct RateLimits {
    known: std::sync::Mutex<Known>,
    by_token: Option<DefaultKeyedRateLimiter<[u8; 16]>>,
    by_ip: Option<DefaultKeyedRateLimiter<IpAddr>>,
    login_by_ip: Option<DefaultKeyedRateLimiter<IpAddr>>,
    login_all: Option<DefaultDirectRateLimiter>,
    ops_by_ip: Option<DefaultKeyedRateLimiter<IpAddr>>,
    requests: AtomicU64,
}

/// Forget idle keys every this many requests, so the tables stay small.
const SWEEP_EVERY: u64 = 8_192;

fn limiter<K: std::hash::Hash + Eq + Clone>(per_second: u32) -> Option<DefaultKeyedRateLimiter<K>> {
    let rate = NonZeroU32::new(per_second)?;
    let burst = rate.saturating_mul(NonZeroU32::MIN.saturating_add(1));
    Some(RateLimiter::keyed(
        Quota::per_second(rate).allow_burst(burst),
    ))
}

/// `per_minute` attempts a minute, in bursts of up to ten seconds' worth.
fn login_quota(per_minute: u32) -> Option<Quota> {
    let rate = NonZeroU32::new(per_minute)?;
    let burst = NonZeroU32::new(per_minute / 6).unwrap_or(NonZeroU32::MIN);
    Some(Quota::per_minute(rate).allow_burst(burst))
}

impl RateLimits {
    pub fn new(limits: Limits) -> Self {
        RateLimits {
            known: std::sync::Mutex::default(),
            by_token: limiter(limits.per_token),
            by_ip: limiter(limits.per_ip),
            login_by_ip: login_quota(limits.login_per_ip).map(RateLimiter::keyed),
            login_all: login_quota(limits.login_global).map(RateLimiter::direct),
            ops_by_ip: limiter(limits.ops_per_ip),
            requests: AtomicU64::new(0),
        }
    }

    fn known(&self) -> std::sync::MutexGuard<'_, Known> {
        self.known.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether the token with this key authenticated lately.
    fn is_known(&self, key: &[u8; 16]) -> bool {
        self.known().contains(key)
    }

    /// Remember that the token with this key authenticated.
    fn authenticated(&self, key: [u8; 16]) {
        self.known().insert(key);
    }

    /// `Err((what, wait))` when the caller is over a rate: `what` says which, for the message.
    /// `token` is the key of a token that authenticated lately ([`Self::is_known`]); any other
    /// request is counted by its address.
    fn check(
        &self,
        bucket: Bucket,
        token: Option<&[u8; 16]>,
        ip: Option<IpAddr>,
    ) -> Result<(), (&'static str, Duration)> {
        if self.requests.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.sweep();
        }
        match bucket {
            Bucket::Login => {
                if let Some(ip) = ip {
                    keyed(self.login_by_ip.as_ref(), &ip)
                        .map_err(|w| ("too many login attempts from this address", w))?;
                }
                match &self.login_all {
                    // The wait is measured on the limiter's own clock (see `keyed`).
                    Some(l) => l.check().map_err(|n| {
                        (
                            "too many login attempts on this server",
                            n.wait_time_from(l.clock().now()),
                        )
                    }),
                    None => Ok(()),
                }
            }
            Bucket::Ops => match ip {
                Some(ip) => keyed(self.ops_by_ip.as_ref(), &ip)
                    .map_err(|w| ("too many requests from this address", w)),
                None => Ok(()),
            },
            Bucket::Api => match (token, ip) {
                (Some(token), _) => keyed(self.by_token.as_ref(), token)
                    .map_err(|w| ("too many requests from this token", w)),
                (None, Some(ip)) => keyed(self.by_ip.as_ref(), &ip)
                    .map_err(|w| ("too many requests from this address", w)),
                (None, None) => Ok(()),
            },
        }
    }

    fn sweep(&self) {
        if let Some(l) = &self.by_token {
            l.retain_recent();
            l.shrink_to_fit();
        }
        for l in [&self.by_ip, &self.login_by_ip, &self.ops_by_ip]
            .into_iter()
            .flatten()
        {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }
}

/// Take one from `key`'s bucket of `limiter` (none: no limit); `Err(wait)` when it is empty.
/// The wait is measured on the limiter's own clock: making a clock calibrates it (CPUID, which
/// traps in a VM), far too slow to do per request.
fn keyed<K: std::hash::Hash + Eq + Clone>(
    limiter: Option<&DefaultKeyedRateLimiter<K>>,
    key: &K,
) -> Result<(), Duration> {
    match limiter {
        Some(l) => l
            .check_key(key)
            .map_err(|n| n.wait_time_from(l.clock().now())),
        None => Ok(()),
    }
}

/// The bucket of a token: a hash, so the table never holds a secret.
fn token_key(token: &str) -> [u8; 16] {
    let digest = Sha256::digest(token.as_bytes());
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest[..16]);
    key
}

/// Middleware: refuse callers over their rate with 429 and `Retry-After` (whole seconds).
pub async fn rate_limit(
    State(limits): State<Arc<RateLimits>>,
    mut req: Request,
    next: Next,
) -> Response {
    // The token as authentication reads it, so `bearer x` and `Bearer x` share a bucket.
    let token = super::auth::bearer_token(req.headers()).map(token_key);
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let known = token.filter(|key| limits.is_known(key));
    if let Err((who, wait)) = limits.check(Bucket::of(req.uri().path()), known.as_ref(), ip) {
        return too_many(who, wait);
    }
    // A token not seen valid yet: if it authenticates now, it gets a bucket of its own.
    let (Some(key), None) = (token, known) else {
        return next.run(req).await;
    };
    let authenticated = Authenticated::default();
    req.extensions_mut().insert(authenticated.clone());
    let resp = next.run(req).await;
    if authenticated.0.get().is_some() {
        limits.authenticated(key);
    }
    resp
}

fn too_many(who: &str, wait: Duration) -> Response {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let secs = secs.max(1);
    let body = ErrorBody {
        error: ErrorDetail {
            code: "unavailable".into(),
            message: format!("{who}; retry after {secs}s"),
            details: serde_json::json!({ "hint": format!("wait {secs}s and retry") }),
        },
    };
    let mut resp = (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    resp
}

/// Clamp a requested page size to `1..=`[`MAX_PAGE`], defaulting to the largest: like the
/// store's run pages, 0 reads one item rather than none, so a paging client always advances.
pub fn page(limit: Option<u32>) -> u32 {
    limit.unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tokens_remembered_as_valid_are_bounded() {
        let mut known = Known::default();
        for i in 0..MAX_KNOWN + 10 {
            known.insert(token_key(&format!("imx_{i}")));
        }
        assert_eq!(known.tokens.len(), MAX_KNOWN);
        assert!(known.contains(&token_key("imx_1")));
        assert!(!known.contains(&token_key(&format!("imx_{}", MAX_KNOWN + 5))));
    }
}
