//! Capped exponential backoff with jitter, for retrying a control plane that is unavailable or
//! busy: never a hot loop, never an unbounded wait.

use std::time::Duration;

use rand::Rng;

use crate::error::ErrorKind;

/// Delays that double from `base` up to `cap`, each scaled by a random factor in [0.5, 1.0].
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    base: Duration,
    cap: Duration,
    failures: u32,
}

impl Backoff {
    pub(crate) fn new(base: Duration, cap: Duration) -> Self {
        Backoff {
            base,
            cap,
            failures: 0,
        }
    }

    /// The delay before the next retry; each call counts one more failure.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let factor = 2u32.saturating_pow(self.failures.min(16));
        self.failures = self.failures.saturating_add(1);
        let full = self.base.saturating_mul(factor).min(self.cap);
        full.mul_f64(rand::rng().random_range(0.5..=1.0))
    }

    /// The last call succeeded: start again from `base`.
    pub(crate) fn reset(&mut self) {
        self.failures = 0;
    }
}

/// Whether an error from the control plane is worth retrying: the plane is unreachable, busy
/// or failed internally (a locked store, a dropped connection). Refusals (forbidden, invalid,
/// not found, conflict) are not, and neither is a local store that can never take the write: a
/// read-only store, or a file that is not (or no longer) one this imx can use.
pub(crate) fn is_transient(err: &crate::Error) -> bool {
    match err {
        crate::Error::ReadOnly { .. }
        | crate::Error::NotAStore { .. }
        | crate::Error::StoreTooNew { .. } => false,
        _ => matches!(err.kind(), ErrorKind::Unavailable | ErrorKind::Internal),
    }
}

/// Whether an error means a lease is no longer ours (stale attempt, step reassigned or gone).
pub(crate) fn is_lease_gone(err: &crate::Error) -> bool {
    matches!(err.kind(), ErrorKind::Conflict | ErrorKind::NotFound)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn a_store_that_cannot_take_writes_is_not_retried() {
        let read_only = crate::Error::ReadOnly {
            path: "imx.db".into(),
            reason: "the file is not writable by this user".into(),
        };
        assert!(!is_transient(&read_only));
        assert!(is_transient(&crate::Error::Store(
            "database is locked".into()
        )));
        assert!(is_transient(&crate::Error::Unreachable {
            url: "http://x".into(),
            reason: "refused".into()
        }));
    }

    #[test]
    fn delays_grow_are_capped_and_reset() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
        let first = b.next_delay();
        assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
        for _ in 0..20 {
            assert!(b.next_delay() <= Duration::from_secs(1));
        }
        let late = b.next_delay();
        assert!(late >= Duration::from_millis(500), "{late:?}");
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(100));
    }
}
