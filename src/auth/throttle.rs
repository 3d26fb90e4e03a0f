//! Per-account login throttling: after [`MAX_FAILURES`] failures in a row the account is locked
//! for [`FIRST_LOCKOUT_MS`], each further lockout twice as long, up to [`MAX_LOCKOUT_MS`]. A
//! successful login clears it. Accounts are keyed by the name given, whether or not such a user
//! exists, so lockouts do not tell which names exist.

use serde::{Deserialize, Serialize};

/// Failures in a row before a lockout.
pub const MAX_FAILURES: u32 = 5;
/// The first lockout: one minute.
pub const FIRST_LOCKOUT_MS: i64 = 60_000;
/// The longest lockout: one hour.
pub const MAX_LOCKOUT_MS: i64 = 3_600_000;
/// After this long without a failure, an account's lockout history is forgotten.
pub const FORGET_AFTER_MS: i64 = 24 * 3_600_000;

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
        let shift = self.lockouts.min(16);
        let ms = FIRST_LOCKOUT_MS
            .saturating_mul(1_i64 << shift)
            .min(MAX_LOCKOUT_MS);
        self.lockouts += 1;
        self.failures = 0;
        self.locked_until = Some(now + ms);
        (self, self.locked_until)
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
