//! A quick "can this line hold a secret?" test in front of the masker's automaton
//! ([`super::mask::Masker`]): a hundred secrets make some 700 patterns (each value and its
//! base64 forms), too many and too varied for the automaton's own prefilters, so it would walk
//! every byte of every line — most of the agent's log throughput.
//!
//! Every pattern is at least `L` bytes long. Take `w = min(8, L)` and `s = L − w + 1`: any
//! occurrence of a pattern starting at `p` covers the `w` bytes at the first multiple of `s` at
//! or after `p` (it is less than `s` past `p`, and `s − 1 + w = L`). So it is enough to look up
//! the `w`-byte windows at positions `0, s, 2s, …` of a line in a set of every pattern's
//! windows at offsets `0..s`. The set is a Bloom filter (two hashes, 2²¹ bits) behind a small
//! one (one hash, 2¹⁸ bits, in the L1 cache) that turns most windows away first: it may say
//! yes for a line with no secret (then the automaton decides), never no for a line with one.
//! Secrets of 20 bytes make `s = 13`: a line costs a lookup every 13 bytes. (Windows of 8
//! bytes, not 4: log text shares many 4-byte pieces with random tokens, and each such line
//! went to the automaton.)

/// Bits in the filter (256 KiB).
const BITS: u32 = 21;
/// Bits in the small filter in front of it (32 KiB).
const SMALL_BITS: u32 = 18;
const K1: u64 = 0x9E37_79B9_7F4A_7C15;
const K2: u64 = 0xC2B2_AE3D_27D4_EB4F;

/// The windows of every pattern (see the module doc).
pub struct Prefilter {
    /// Window length (1..=8).
    w: usize,
    /// Stride between the windows looked up in a line.
    s: usize,
    /// The shortest pattern: shorter lines hold none.
    min_len: usize,
    bits: Vec<u64>,
    small: Vec<u64>,
}

/// The `w` bytes at `i` as a number (`i + w <= bytes.len()`).
fn window(bytes: &[u8], i: usize, w: usize) -> u64 {
    match bytes.get(i..i + 8) {
        Some(eight) => {
            let mut a = [0u8; 8];
            a.copy_from_slice(eight);
            let keep = if w >= 8 {
                u64::MAX
            } else {
                (1u64 << (8 * w)) - 1
            };
            u64::from_le_bytes(a) & keep
        }
        None => bytes
            .iter()
            .skip(i)
            .take(w)
            .rev()
            .fold(0u64, |v, b| (v << 8) | u64::from(*b)),
    }
}

/// The small filter's bit of a window.
fn small_slot(v: u64) -> usize {
    (v.wrapping_mul(K1) >> (64 - SMALL_BITS)) as usize
}

fn has(bits: &[u64], slot: usize) -> bool {
    bits[slot / 64] & (1 << (slot % 64)) != 0
}

fn set(bits: &mut [u64], slot: usize) {
    bits[slot / 64] |= 1 << (slot % 64);
}

fn slots(v: u64) -> [usize; 2] {
    let shift = 64 - BITS;
    [
        (v.wrapping_mul(K1) >> shift) as usize,
        (v.wrapping_mul(K2) >> shift) as usize,
    ]
}

impl Prefilter {
    /// The filter of `patterns` (each at least one byte long); `None` if there are none.
    pub fn new<'p>(patterns: impl Iterator<Item = &'p [u8]> + Clone) -> Option<Prefilter> {
        let min_len = patterns.clone().map(<[u8]>::len).min()?;
        if min_len == 0 {
            return None;
        }
        let w = min_len.min(8);
        let s = min_len - w + 1;
        let mut f = Prefilter {
            w,
            s,
            min_len,
            bits: vec![0; 1 << (BITS - 6)],
            small: vec![0; 1 << (SMALL_BITS - 6)],
        };
        for p in patterns {
            for o in 0..s {
                let v = window(p, o, w);
                set(&mut f.small, small_slot(v));
                for slot in slots(v) {
                    set(&mut f.bits, slot);
                }
            }
        }
        Some(f)
    }

    /// Whether `line` may hold a pattern (`false`: it holds none).
    pub fn may_match(&self, line: &[u8]) -> bool {
        if line.len() < self.min_len {
            return false;
        }
        let mut q = 0;
        while q + self.w <= line.len() {
            let v = window(line, q, self.w);
            if has(&self.small, small_slot(v)) && slots(v).iter().all(|&s| has(&self.bits, s)) {
                return true;
            }
            q += self.s;
        }
        false
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Every pattern, at every position of a line and with any bytes around it, passes.
    #[test]
    fn a_line_holding_a_pattern_always_passes() {
        let patterns: Vec<&[u8]> = vec![
            b"abcd",
            b"s3cr3t-value-of-twenty",
            b"c2VjcmV0LXZhbHVl",
            b"0123456789abcdef0123456789",
        ];
        let f = Prefilter::new(patterns.iter().copied()).unwrap();
        for p in &patterns {
            for before in 0..40 {
                for after in [0, 1, 7, 30] {
                    let mut line = vec![b'x'; before];
                    line.extend_from_slice(p);
                    line.extend(std::iter::repeat_n(b'y', after));
                    assert!(f.may_match(&line), "{p:?} at {before}, {after} after");
                }
            }
        }
    }

    /// Long patterns are looked up every few bytes, and a line of other text mostly fails.
    #[test]
    fn other_text_mostly_fails() {
        let secret = b"Zt7q-long-enough-secret-value".as_slice();
        let f = Prefilter::new(std::iter::once(secret)).unwrap();
        assert_eq!((f.w, f.s), (8, secret.len() - 7));
        let lines = (0..1000)
            .map(|i| format!("2026-11-30T10:00:{i:02} INFO request {i} served in {i} ms"))
            .filter(|l| f.may_match(l.as_bytes()))
            .count();
        assert!(lines < 10, "{lines} of 1000 lines passed");
        assert!(!f.may_match(b"short"));
    }
}
