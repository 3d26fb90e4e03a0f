//! Bearer tokens verified recently, so a server does not read the token table on every request.
//! Keyed by the token's hash (the cache never holds a secret). An entry lives [`TTL`] at most
//! and never past the token's expiry. Revoking a token, disabling, deleting or changing the role
//! of a user, and restoring the store, in this process, empty the cache before the call returns,
//! so such a change takes effect at once. A change made by another process on a SQLite store
//! (e.g. `imx --store … token revoke` beside a running server) takes effect within [`TTL`]. On
//! PostgreSQL, other replicas hear of it from a tokens hint (NOTIFY, or with `--no-listen` the
//! poller): the store's change feed moves its auth counter, and [`TokenCache::sync`] empties
//! the cache when it sees it moved, so the change applies everywhere well within a second.
//!
//! Only successes are cached. A verification that raced with an invalidation is not cached: a
//! generation number, bumped after the change commits and read before the token row is, tells.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::auth::{Principal, Role};

/// How long a verified token is trusted without reading the store again.
pub const TTL: Duration = Duration::from_secs(2);

/// Past this many entries the cache starts afresh (tokens in use are few; this bounds memory
/// against a caller cycling through many valid tokens).
const MAX_ENTRIES: usize = 10_000;

/// What a verified token stands for.
#[derive(Debug, Clone)]
pub struct Verified {
    pub token_id: String,
    /// `Some(user)`: the principal is `user:<name>`; else `token:<token_name>`.
    pub user: Option<String>,
    pub token_name: String,
    pub role: Role,
    pub expires_at: Option<i64>,
    /// When the token was last marked used in the store (ms).
    pub last_used_at: Option<i64>,
}

impl Verified {
    pub fn principal(&self, source: &str) -> Principal {
        match &self.user {
            Some(user) => Principal::user(user, self.role, source),
            None => Principal::token(&self.token_name, self.role, source),
        }
    }
}

struct Entry {
    verified: Verified,
    at: Instant,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<String, Entry>,
    generation: u64,
    /// The store's auth counter when last synced.
    auth: u64,
}

/// The cache of one control plane.
pub struct TokenCache {
    inner: Mutex<Inner>,
    ttl: Duration,
}

impl Default for TokenCache {
    fn default() -> Self {
        TokenCache::with_ttl(TTL)
    }
}

impl TokenCache {
    /// A cache whose entries live `ttl` (zero: nothing is ever served from it).
    pub fn with_ttl(ttl: Duration) -> Self {
        TokenCache {
            inner: Mutex::new(Inner::default()),
            ttl,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // Every change leaves the map consistent; a panic elsewhere cannot break it.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The token with this hash, if verified less than the TTL ago and not expired at `now_ms`.
    pub fn get(&self, hash: &str, now_ms: i64) -> Option<Verified> {
        let mut inner = self.lock();
        let entry = inner.entries.get(hash)?;
        let fresh =
            entry.at.elapsed() < self.ttl && entry.verified.expires_at.is_none_or(|at| at > now_ms);
        if fresh {
            Some(entry.verified.clone())
        } else {
            inner.entries.remove(hash);
            None
        }
    }

    /// Forget everything if the store's auth counter (`ChangeFeed::auth_version`) moved since
    /// the last call: another process changed tokens or users. Call before [`get`](Self::get).
    pub fn sync(&self, auth: u64) {
        let mut inner = self.lock();
        if inner.auth != auth {
            inner.auth = auth;
            inner.generation = inner.generation.wrapping_add(1);
            inner.entries.clear();
        }
    }

    /// The generation to pass to [`put`](Self::put); read it before reading the token row.
    pub fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// Remember a token verified from a row read after [`generation`](Self::generation)
    /// returned `generation`; dropped if the cache was invalidated since.
    pub fn put(&self, hash: &str, verified: Verified, generation: u64) {
        let mut inner = self.lock();
        if inner.generation != generation {
            return;
        }
        if inner.entries.len() >= MAX_ENTRIES {
            inner.entries.clear();
        }
        inner.entries.insert(
            hash.to_string(),
            Entry {
                verified,
                at: Instant::now(),
            },
        );
    }

    /// Note that the token was marked used at `now_ms`.
    pub fn touched(&self, hash: &str, now_ms: i64) {
        if let Some(e) = self.lock().entries.get_mut(hash) {
            e.verified.last_used_at = Some(now_ms);
        }
    }

    /// Forget everything: call after a change to tokens or users has committed.
    pub fn invalidate(&self) {
        let mut inner = self.lock();
        inner.generation = inner.generation.wrapping_add(1);
        inner.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn verified(expires_at: Option<i64>) -> Verified {
        Verified {
            token_id: "01TOKEN".into(),
            user: Some("alice".into()),
            token_name: "ci".into(),
            role: Role::Operator,
            expires_at,
            last_used_at: None,
        }
    }

    #[test]
    fn a_verified_token_is_served_until_invalidated() {
        let cache = TokenCache::default();
        let g = cache.generation();
        cache.put("h1", verified(None), g);
        let hit = cache.get("h1", 0).unwrap();
        assert_eq!(hit.principal("127.0.0.1").name, "user:alice");
        assert!(cache.get("h2", 0).is_none());
        cache.invalidate();
        assert!(cache.get("h1", 0).is_none());
    }

    #[test]
    fn a_verification_that_raced_an_invalidation_is_not_kept() {
        let cache = TokenCache::default();
        let before = cache.generation();
        cache.invalidate(); // a revoke committed while the row was being read
        cache.put("h1", verified(None), before);
        assert!(cache.get("h1", 0).is_none());
    }

    #[test]
    fn a_move_of_the_auth_counter_empties_the_cache() {
        let cache = TokenCache::default();
        cache.sync(0);
        let g = cache.generation();
        cache.put("h1", verified(None), g);
        cache.sync(0);
        assert!(cache.get("h1", 0).is_some(), "unchanged: kept");
        // A row read before another replica's revoke, put after its hint: dropped next sync.
        let g = cache.generation();
        cache.sync(1);
        cache.put("h2", verified(None), g);
        assert!(cache.get("h1", 0).is_none());
        assert!(cache.get("h2", 0).is_none());
    }

    #[test]
    fn an_entry_lives_its_ttl_at_most() {
        let cache = TokenCache::with_ttl(Duration::ZERO);
        let g = cache.generation();
        cache.put("h1", verified(None), g);
        assert!(cache.get("h1", 0).is_none());
    }

    #[test]
    fn an_entry_never_outlives_the_token_expiry() {
        let cache = TokenCache::default();
        let g = cache.generation();
        cache.put("h1", verified(Some(1_000)), g);
        assert!(cache.get("h1", 999).is_some());
        assert!(cache.get("h1", 1_000).is_none());
        assert!(cache.get("h1", 0).is_none(), "an expired entry is dropped");
    }
}
