//! A quick "can this line hold a secret?" test in front of the masker's automaton
//! ([`super::mask::Masker`]): a hundred secrets make some 700 patterns (each value and its
//! base64 forms), too many and too varied for the automaton's own prefilters, so it would walk
//! every byte of every line — most of the agent's log throughput.
//!
//! Every pattern is at least `L` bytes long. Take `w = min(8, L)` and `s = L − w + 1`: any
//! occurrence of a pattern starting at `p` covers the `w` bytes at the first multiple of `s` at
//! or after `p` (it is less than `s` past `p`, and `s − 1 + w = L`). So it is enough to look up
//! the `w`-byte windows at positions `0, s, 2s, …` of a line in a set of every pattern's
//! windows at offsets `0..s`. The set is two Bloom filters. The first is blocked: a window's
//! hash picks one 64-bit word of 4,096 (32 KiB, in the L1 cache) and one of 1,024 masks of
//! three bits, so a lookup is a multiply and two loads; with a hundred secrets (some 9,000
//! windows, about seven bits set a word) it lets about one window in a thousand through.
//! Every window of a line (or of a block of lines: [`Prefilter::suspects`]) is looked up in it
//! without a branch per lookup; only a window it lets through is looked at again in the second
//! (two hashes over 2²¹ bits), which lets next to none through — a line of 20 KB is 1,500
//! windows. The set may say yes for a line with no secret (then the automaton decides), never
//! no for a line with one. Secrets of 20 bytes make `s = 13`: a line costs a
//! lookup every 13 bytes. (Windows of 8 bytes, not 4: log text shares many 4-byte pieces with
//! random tokens, and each such line went to the automaton.)

const K1: u64 = 0x9E37_79B9_7F4A_7C15;
const K2: u64 = 0xC2B2_AE3D_27D4_EB4F;
/// Words in the first filter (a power of two).
const WORDS_LOG2: u32 = 12;
/// Masks of three bits a window may take in its word (a power of two).
const MASKS_LOG2: u32 = 10;

/// The first filter's masks: three different bits each, from a fixed sequence.
static MASKS: [u64; 1 << MASKS_LOG2] = masks();

const fn masks() -> [u64; 1 << MASKS_LOG2] {
    let mut out = [0u64; 1 << MASKS_LOG2];
    let mut x = K2;
    let mut i = 0;
    while i < out.len() {
        let mut m = 0u64;
        while m.count_ones() < 3 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            m |= 1 << (x >> 58);
        }
        out[i] = m;
        i += 1;
    }
    out
}

/// Bits in the second filter (256 KiB).
const BITS: u32 = 21;

fn has(bits: &[u64], slot: usize) -> bool {
    bits[slot / 64] & (1 << (slot % 64)) != 0
}

/// A window's bits in the second filter.
fn slots(v: u64) -> [usize; 2] {
    let shift = 64 - BITS;
    [
        (v.wrapping_mul(K2) >> shift) as usize,
        (v.wrapping_mul(K1 ^ K2) >> shift) as usize,
    ]
}

/// The windows of every pattern (see the module doc).
pub struct Prefilter {
    /// Window length (1..=8).
    w: usize,
    /// Stride between the windows looked up in a line.
    s: usize,
    /// The shortest pattern: shorter lines hold none.
    min_len: usize,
    /// Keeps the low `w` bytes of 8.
    keep: u64,
    /// The first filter.
    words: Box<[u64; 1 << WORDS_LOG2]>,
    /// The second filter.
    bits: Vec<u64>,
}

/// The `w` bytes at `i` as a number (`i + w <= bytes.len()`).
fn window(bytes: &[u8], i: usize, w: usize) -> u64 {
    bytes
        .iter()
        .skip(i)
        .take(w)
        .rev()
        .fold(0u64, |v, b| (v << 8) | u64::from(*b))
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
            keep: if w >= 8 {
                u64::MAX
            } else {
                (1u64 << (8 * w)) - 1
            },
            words: Box::new([0; 1 << WORDS_LOG2]),
            bits: vec![0; 1 << (BITS - 6)],
        };
        for p in patterns {
            for o in 0..s {
                let v = window(p, o, w);
                let (i, m) = f.probe(v);
                f.words[i] |= m;
                for slot in slots(v) {
                    f.bits[slot / 64] |= 1 << (slot % 64);
                }
            }
        }
        Some(f)
    }

    /// The word of window `v`, and its bits.
    fn probe(&self, v: u64) -> (usize, u64) {
        let h = v.wrapping_mul(K1);
        let word = (h >> (64 - WORDS_LOG2)) as usize;
        let mask = (h >> (64 - WORDS_LOG2 - MASKS_LOG2)) as usize & ((1 << MASKS_LOG2) - 1);
        (word, MASKS[mask])
    }

    /// Whether window `v` may be one of the patterns': 1 or 0.
    fn hit(&self, v: u64) -> u64 {
        let (i, m) = self.probe(v);
        u64::from(self.words[i] & m == m)
    }

    /// Whether window `v` passes both filters.
    fn passes(&self, v: u64) -> bool {
        self.hit(v) == 1 && slots(v).iter().all(|&s| has(&self.bits, s))
    }

    /// Whether `line` may hold a pattern (`false`: it holds none).
    pub fn may_match(&self, line: &[u8]) -> bool {
        if line.len() < self.min_len {
            return false;
        }
        // Every window in the first filter, with no early exit, so the CPU overlaps the
        // lookups; then, rarely, window by window in both.
        let mut any = 0u64;
        self.each_window(line, 0, |_, v| any |= self.hit(v));
        if any == 0 {
            return false;
        }
        let mut found = false;
        self.each_window(line, 0, |_, v| found = found || self.passes(v));
        found
    }

    /// Append to `out`, in order, a position in each piece of `text` (any bytes: a block of
    /// many lines) that may hold a pattern: where a window both filters let through starts.
    /// A pattern held at `p` has a window at the first multiple of `s` at or after `p`, inside
    /// it, so a line with no such position in it holds no pattern. Windows are looked up as in
    /// [`may_match`](Self::may_match), [`GROUP`] at a time without a branch each.
    pub fn suspects(&self, text: &[u8], out: &mut Vec<usize>) {
        if self.w == 8 {
            self.scan::<true>(text, out);
        } else {
            self.scan::<false>(text, out);
        }
    }

    /// [`suspects`](Self::suspects), with windows of 8 bytes (`FULL`) or fewer.
    fn scan<const FULL: bool>(&self, text: &[u8], out: &mut Vec<usize>) {
        let s = self.s;
        let span = s * (GROUP - 1) + 8;
        let mut q = 0;
        while q + span <= text.len() {
            let group = &text[q..q + span];
            // The least of the windows' missing bits: 0 if one has them all.
            let mut miss = u64::MAX;
            for k in 0..GROUP {
                miss = miss.min(self.missing(self.read::<FULL>(group, k * s)));
            }
            if miss == 0 {
                for k in 0..GROUP {
                    if self.passes(self.read::<FULL>(group, k * s)) {
                        out.push(q + k * s);
                    }
                }
            }
            q += GROUP * s;
        }
        self.each_window(text, q, |p, v| {
            if self.passes(v) {
                out.push(p);
            }
        });
    }

    /// The bits of window `v`'s mask its word lacks in the first filter: 0 if it may be one.
    fn missing(&self, v: u64) -> u64 {
        let (i, m) = self.probe(v);
        m & !self.words[i]
    }

    /// The window at `q` of `text` (`q + 8 <= text.len()`), all 8 bytes if `FULL`.
    fn read<const FULL: bool>(&self, text: &[u8], q: usize) -> u64 {
        let mut a = [0u8; 8];
        a.copy_from_slice(&text[q..q + 8]);
        let v = u64::from_le_bytes(a);
        if FULL { v } else { v & self.keep }
    }

    /// `f` of the windows at `from, from + s, from + 2s, …` of `line`, with their positions.
    fn each_window(&self, line: &[u8], from: usize, mut f: impl FnMut(usize, u64)) {
        let mut q = from;
        // Windows whose 8 bytes are all in the line are read as one number.
        while q + 8 <= line.len() {
            f(q, self.read::<false>(line, q));
            q += self.s;
        }
        while q + self.w <= line.len() {
            f(q, window(line, q, self.w));
            q += self.s;
        }
    }
}

/// Windows [`Prefilter::suspects`] looks up before it branches.
const GROUP: usize = 16;

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
