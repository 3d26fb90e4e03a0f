//! Retry delays: fixed or exponential, capped, with jitter.

use rand::Rng;

use crate::model::{Backoff, RetrySpec};

/// The delay before retry number `retry_no` (1 for the first retry).
pub fn retry_delay_ms(spec: &RetrySpec, retry_no: u32) -> u64 {
    let base = match spec.backoff {
        Backoff::Fixed => spec.initial_ms,
        Backoff::Exponential => {
            let shift = retry_no.saturating_sub(1).min(32);
            spec.initial_ms.saturating_mul(1u64 << shift)
        }
    }
    .min(spec.max_delay_ms);
    let jitter = spec.jitter.clamp(0.0, 1.0);
    if jitter == 0.0 || base == 0 {
        return base;
    }
    let factor = rand::rng().random_range((1.0 - jitter)..=(1.0 + jitter));
    ((base as f64) * factor).round() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponential_doubles_and_caps() {
        let spec = RetrySpec {
            max: 10,
            backoff: Backoff::Exponential,
            initial_ms: 100,
            max_delay_ms: 1_000,
            jitter: 0.0,
        };
        assert_eq!(retry_delay_ms(&spec, 1), 100);
        assert_eq!(retry_delay_ms(&spec, 2), 200);
        assert_eq!(retry_delay_ms(&spec, 4), 800);
        assert_eq!(retry_delay_ms(&spec, 5), 1_000);
        assert_eq!(retry_delay_ms(&spec, 60), 1_000);
    }

    #[test]
    fn jitter_stays_within_bounds() {
        let spec = RetrySpec {
            max: 1,
            backoff: Backoff::Fixed,
            initial_ms: 1_000,
            max_delay_ms: 10_000,
            jitter: 0.2,
        };
        for _ in 0..200 {
            let d = retry_delay_ms(&spec, 1);
            assert!((800..=1_200).contains(&d), "{d}");
        }
    }
}
