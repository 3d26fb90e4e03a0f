//! Login throttling with growing lockouts, per (account, source) first and per account only
//! when many sources fail, so nobody can keep an account (the admin's) locked from elsewhere
//! by guessing.
//!
//! - **Per source.** After [`MAX_FAILURES`] failures in a row from one source (an IP address;
//!   an IPv6 /64, see [`source_key`]), that source may not try the account for
//!   [`FIRST_LOCKOUT_MS`], each further lockout twice as long, up to [`MAX_LOCKOUT_MS`]. Other
//!   sources still log in.
//! - **Per account.** When failures for the account came from [`ACCOUNT_LOCK_SOURCES`] or more
//!   different sources within [`SOURCE_WINDOW_MS`] (a distributed guess), the whole account is
//!   locked, with the same growing lockouts.
//!
//! A successful login clears its source; `imx user unlock` (or an admin setting the password)
//! clears everything. Accounts are keyed by the name given whether or not such a user exists,
//! so lockouts do not tell which names exist (names that are no user are keyed by a keyed
//! hash, never stored as typed).

use serde::{Deserialize, Serialize};

/// Failures in a row before a lockout.
pub const MAX_FAILURES: u32 = 5;
/// The first lockout: one minute.
pub const FIRST_LOCKOUT_MS: i64 = 60_000;
/// The longest lockout: one hour.
pub const MAX_LOCKOUT_MS: i64 = 3_600_000;
/// After this long without a failure, an account's lockout history is forgotten.
pub const FORGET_AFTER_MS: i64 = 24 * 3_600_000;
/// Sources with failures within [`SOURCE_WINDOW_MS`] that lock the account as a whole.
pub const ACCOUNT_LOCK_SOURCES: u64 = 10;
/// How far back failing sources count towards the account-wide lock: one hour.
pub const SOURCE_WINDOW_MS: i64 = 3_600_000;

/// The throttle state of one account name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Throttle {
    /// Failures since the last lockout or success.
    pub failures: u32,
    /// Lockouts so far (each one doubles the next).
    pub lockouts: u32,
    /// No login is tried before this time (epoch ms).
    pub locked_until: Option<i64>,
    pub last_failure: Option<i64>,
}

impl Throttle {
    /// `Some(until)` while the account is locked.
    pub fn locked_at(&self, now: i64) -> Option<i64> {
        self.locked_until.filter(|until| *until > now)
    }

    /// The state after one more failure at `now`, and the lockout end if this failure locks.
    pub fn fail(mut self, now: i64) -> (Throttle, Option<i64>) {
        if self.last_failure.is_some_and(|t| now - t > FORGET_AFTER_MS) {
            self = Throttle::default();
        }
        self.failures += 1;
        self.last_failure = Some(now);
        if self.failures < MAX_FAILURES {
            return (self, None);
        }
        let (next, until) = self.lock(now);
        (next, Some(until))
    }

    /// Lock now, for one step longer than the last lockout; returns the state and its end.
    pub fn lock(mut self, now: i64) -> (Throttle, i64) {
        if self.last_failure.is_some_and(|t| now - t > FORGET_AFTER_MS) {
            self = Throttle::default();
        }
        self.last_failure = Some(now);
        let shift = self.lockouts.min(16);
        let ms = FIRST_LOCKOUT_MS
            .saturating_mul(1_i64 << shift)
            .min(MAX_LOCKOUT_MS);
        self.lockouts += 1;
        self.failures = 0;
        self.locked_until = Some(now + ms);
        (self, now + ms)
    }
}

/// The source a throttle counts failures by: an IPv4 address as it is, an IPv6 address by its
/// /64 (one host usually holds a whole /64, so counting single addresses would let it try
/// without end), anything else (`local`, `unknown`) as given.
pub fn source_key(source: &str) -> String {
    match source.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        Ok(ip) => ip.to_string(),
        Err(_) => source.chars().take(64).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_lock_for_a_minute_then_doubling_capped_at_an_hour() {
        let mut t = Throttle::default();
        let mut now = 1_000_000;
        let mut lockouts = Vec::new();
        for _ in 0..40 {
            let (next, locked) = t.fail(now);
            t = next;
            if let Some(until) = locked {
                lockouts.push(until - now);
                assert_eq!(t.locked_at(now), Some(until));
                assert_eq!(t.locked_at(until), None);
                now = until;
            }
            now += 1;
        }
        assert_eq!(
            &lockouts[..],
            &[
                60_000, 120_000, 240_000, 480_000, 960_000, 1_920_000, 3_600_000, 3_600_000
            ]
        );
    }

    #[test]
    fn sources_are_addresses_and_ipv6_counts_by_its_slash_64() {
        assert_eq!(source_key("10.0.0.7"), "10.0.0.7");
        assert_eq!(source_key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(
            source_key("2001:db8:1:2:bbbb::9"),
            source_key("2001:db8:1:2:aaaa::1")
        );
        assert_ne!(source_key("2001:db8:1:3::1"), source_key("2001:db8:1:2::1"));
        assert_eq!(source_key("::ffff:10.0.0.7"), "10.0.0.7");
        assert_eq!(source_key("local"), "local");
    }

    #[test]
    fn an_explicit_lock_grows_like_the_lockouts_of_failures() {
        let (t, until) = Throttle::default().lock(1_000);
        assert_eq!(until - 1_000, FIRST_LOCKOUT_MS);
        let (_, until) = t.lock(until);
        assert_eq!(until - 61_000, 2 * FIRST_LOCKOUT_MS);
    }

    #[test]
    fn history_is_forgotten_after_a_quiet_day() {
        let mut t = Throttle::default();
        for i in 0..5 {
            t = t.fail(i).0;
        }
        assert_eq!(t.lockouts, 1);
        let (t, locked) = t.fail(FORGET_AFTER_MS + 100);
        assert_eq!((t.failures, t.lockouts, locked), (1, 0, None));
    }
}
