//! Deterministic jitter: the delay of a tick's run is a hash of the schedule's name and the
//! tick's nominal time, so every replica (and a retry of the same pass) computes the same one.

use sha2::{Digest, Sha256};

/// The delay, in `[0, jitter_ms)`, of the run for the tick of `schedule` at `nominal`.
pub fn jitter_ms(schedule: &str, nominal: i64, jitter_ms: u64) -> u64 {
    if jitter_ms == 0 {
        return 0;
    }
    let mut h = Sha256::new();
    h.update(schedule.as_bytes());
    h.update([0]);
    h.update(nominal.to_be_bytes());
    let digest = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first) % jitter_ms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_is_stable_bounded_and_varies_by_tick() {
        let a = jitter_ms("nightly", 1_000, 60_000);
        assert_eq!(a, jitter_ms("nightly", 1_000, 60_000));
        assert!(a < 60_000);
        let spread: std::collections::BTreeSet<u64> = (0..50)
            .map(|i| jitter_ms("nightly", i * 60_000, 60_000))
            .collect();
        assert!(spread.len() > 40, "{spread:?}");
        assert_eq!(jitter_ms("nightly", 1_000, 0), 0);
    }
}
