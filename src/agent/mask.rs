//! Masking secrets in what a step reports (issue 13): every occurrence of a secret's value —
//! and of its base64 and URL-encoded forms — in a log line, an output or an error is replaced
//! with `***` by the agent, before it leaves the agent.
//!
//! Lines are masked whole: the executors read a step's output a line at a time, so a value the
//! step wrote in several pieces (two writes, or two reads of its pipe) is masked once the line
//! is complete. A value spanning lines (a PEM key) is masked line by line, as each of its lines.
//! Values shorter than [`MIN_LEN`] are not masked (masking `a` would make every log
//! unreadable); `imx secret set` warns about them.
//!
//! Base64 is matched wherever the value stands in the encoded stream: at the start of a quad or
//! after 1 or 2 other bytes (`printf 'x%s' "$S" | base64`), followed by more bytes or not. The
//! pattern is the run of characters that encode the value's bits alone; the rest of the quads
//! at either end (characters that mix the value's first or last bits with the bytes around it,
//! and `=` padding) is masked with it. Both alphabets (standard and URL-safe) are matched.
//!
//! URL-encoded text (a line with `%`) is also matched percent-decoded (`%XX` in either case;
//! `+` as a space too when a value has one), so every encoder's form is masked whatever it
//! leaves unencoded (`-._~` for RFC 3986 encoders, more for `encodeURIComponent`), even mixed
//! with base64 (`%2B` in a base64 token in a query string).
//!
//! A line longer than the agent's cut (16 KiB) is masked before it is cut (see
//! `executor::lines`), so no beginning of a value written across the cut is kept.
//!
//! Not masked: a value split by something between its pieces (a base64 line wrap, `echo ${S:0:5}
//! ${S:5}`), other encodings (hex, gzip, ...), values shorter than [`MIN_LEN`], and the lines of a
//! multi-line value shorter than [`MIN_LEN`] (a multi-line value is masked whole and line by line,
//! each line of it at least [`MIN_LEN`] long, since the agent reads output a line at a time).

use std::borrow::Cow;

use super::mask_filter::Prefilter;
use crate::auth::Secret;
use crate::model::StepResult;
use aho_corasick::{AhoCorasick, MatchKind};
use base64::Engine as _;

/// Values shorter than this are not masked.
pub const MIN_LEN: usize = 4;
/// What a masked value becomes.
pub const MASK: &str = "***";

/// The patterns of a step's secrets, matched at once.
pub struct Masker {
    ac: AhoCorasick,
    /// Lines it can tell hold no pattern skip the automaton.
    filter: Option<Prefilter>,
    /// Per pattern: how its match is widened (the base64 characters around it).
    widen: Vec<Widen>,
    /// The longest text one match can cover (a pattern percent-encoded, with its widening).
    longest: usize,
    /// Whether a value has a space (then `+` is also read as a space in URL-encoded text).
    has_space: bool,
}

/// How a match is widened before it is masked: to the whole base64 quads it stands in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Widen {
    /// Base64 characters before the match (the first quad's, which mix the value's first bits
    /// with the bytes before it).
    back: u8,
    /// Base64 characters or `=` after the match (the last quad's, which mix its last bits with
    /// the bytes after it, or padding).
    forward: u8,
}

fn is_b64(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'-' | b'_')
}

/// The base64 encoding of `bytes` standing `offset` (0, 1 or 2) bytes into a quad: the
/// characters that encode `bytes` alone, and how many characters of the quads at either end
/// stand around them.
fn base64_forms(
    bytes: &[u8],
    offset: usize,
    engine: &base64::engine::GeneralPurpose,
) -> (String, Widen) {
    let mut padded = vec![0u8; offset];
    padded.extend_from_slice(bytes);
    let encoded = engine.encode(&padded);
    let bits = 8 * padded.len();
    let start = (8 * offset).div_ceil(6);
    let end = (bits / 6).max(start);
    let pure = encoded.get(start..end).unwrap_or_default().to_string();
    // Both below 4.
    let widen = Widen {
        back: (start % 4) as u8,
        forward: ((4 - end % 4) % 4) as u8,
    };
    (pure, widen)
}

impl Masker {
    /// A masker for `values`; `None` when there is nothing to mask.
    pub fn new(values: &[Secret]) -> Option<Masker> {
        let mut patterns: Vec<(String, Widen)> = Vec::new();
        let mut add = |p: String, widen: Widen| {
            if p.len() < MIN_LEN {
                return;
            }
            match patterns.iter_mut().find(|(q, _)| *q == p) {
                Some((_, w)) => {
                    w.back = w.back.max(widen.back);
                    w.forward = w.forward.max(widen.forward);
                }
                None => patterns.push((p, widen)),
            }
        };
        for v in values {
            let v = v.expose();
            let mut pieces: Vec<&str> = vec![v];
            if v.contains('\n') {
                pieces.extend(v.lines().map(|l| l.trim_end_matches('\r')));
            }
            for piece in pieces {
                if piece.len() < MIN_LEN {
                    continue;
                }
                add(piece.to_string(), Widen::default());
                for engine in [
                    &base64::engine::general_purpose::STANDARD,
                    &base64::engine::general_purpose::URL_SAFE,
                ] {
                    for offset in 0..3 {
                        let (pattern, widen) = base64_forms(piece.as_bytes(), offset, engine);
                        add(pattern, widen);
                    }
                }
            }
        }
        if patterns.is_empty() {
            return None;
        }
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(patterns.iter().map(|(p, _)| p.as_str()))
            .ok()?;
        let filter = Prefilter::new(patterns.iter().map(|(p, _)| p.as_bytes()));
        // A percent-encoded value is at most three times as long as the value.
        let longest = patterns.iter().map(|(p, _)| p.len()).max().unwrap_or(0) * 3 + 3;
        Some(Masker {
            ac,
            filter,
            widen: patterns.into_iter().map(|(_, w)| w).collect(),
            longest,
            has_space: values.iter().any(|v| v.expose().contains(' ')),
        })
    }

    /// The longest text one match can mask: how far past a cut a line must be read to mask a
    /// value that straddles it.
    pub fn longest(&self) -> usize {
        self.longest
    }

    /// Append to `out`, in order, positions in `block` (whole lines, each with its `\n`, as
    /// read from a step's pipe) such that a line holding none of them holds no secret in any
    /// form and needs no [`mask`](Self::mask): where the filter may see a pattern, and every
    /// `%` (and `+` when a value has a space: URL-encoded text is matched decoded). One pass
    /// over a block costs far less than one per line (`benches/masking.rs`).
    pub fn suspects(&self, block: &[u8], out: &mut Vec<usize>) {
        let start = out.len();
        match &self.filter {
            Some(f) => f.suspects(block, out),
            // Every line.
            None => out.extend(memchr::memchr_iter(b'\n', block)),
        }
        let filtered = out.len();
        if self.has_space {
            out.extend(memchr::memchr2_iter(b'%', b'+', block));
        } else {
            out.extend(memchr::memchr_iter(b'%', block));
        }
        if filtered > start && out.len() > filtered {
            out[start..].sort_unstable();
        }
    }

    /// `text` with every occurrence masked.
    pub fn mask<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let b = text.as_bytes();
        let mut spans = self.spans(b);
        let encoded = if self.has_space {
            memchr::memchr2(b'%', b'+', b).is_some()
        } else {
            memchr::memchr(b'%', b).is_some()
        };
        if encoded {
            spans.extend(self.url_decoded_spans(b));
        }
        if spans.is_empty() {
            return Cow::Borrowed(text);
        }
        spans.sort_unstable();
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for (start, end) in spans {
            // Spans found in decoded text may end inside a character: widen to whole ones.
            let mut start = start.max(last);
            let mut end = end.min(text.len());
            while !text.is_char_boundary(start) {
                start -= 1;
            }
            while !text.is_char_boundary(end) {
                end += 1;
            }
            if end <= last {
                continue;
            }
            if start >= last {
                out.push_str(&text[last..start]);
                out.push_str(MASK);
            }
            last = end;
        }
        out.push_str(&text[last..]);
        Cow::Owned(out)
    }

    /// Where `bytes` holds a pattern, widened (base64 quads) and merged, in order.
    fn spans(&self, bytes: &[u8]) -> Vec<(usize, usize)> {
        let mut spans: Vec<(usize, usize)> = Vec::new();
        if self.filter.as_ref().is_some_and(|f| !f.may_match(bytes)) {
            return spans;
        }
        let mut last = 0;
        for m in self.ac.find_iter(bytes) {
            let widen = self.widen[m.pattern().as_usize()];
            let mut start = m.start();
            let floor = m.start().saturating_sub(usize::from(widen.back)).max(last);
            while start > floor && is_b64(bytes[start - 1]) {
                start -= 1;
            }
            let mut end = m.end();
            let ceiling = (m.end() + usize::from(widen.forward)).min(bytes.len());
            while end < ceiling && (is_b64(bytes[end]) || bytes[end] == b'=') {
                end += 1;
            }
            match spans.last_mut() {
                // Next to the last match's widening: one span to this one's end.
                Some(prev) if start < prev.1 => prev.1 = prev.1.max(end),
                _ => spans.push((start, end)),
            }
            last = end;
        }
        spans
    }

    /// The spans of `bytes` that hold a value once percent-decoded (`%XX`, either case), with
    /// `+` read as itself and, if a value has a space, as a space: every URL encoder's form
    /// (which characters it leaves alone varies), as spans of `bytes`.
    fn url_decoded_spans(&self, bytes: &[u8]) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let passes: &[bool] = if self.has_space {
            &[false, true]
        } else {
            &[false]
        };
        for &plus_is_space in passes {
            // Each decoded byte, and where it came from in `bytes`.
            let mut decoded = Vec::with_capacity(bytes.len());
            let mut from = Vec::with_capacity(bytes.len() + 1);
            let mut i = 0;
            let mut changed = false;
            while i < bytes.len() {
                let hex = |b: u8| (b as char).to_digit(16);
                match bytes[i] {
                    b'%' => {
                        let h = bytes.get(i + 1).and_then(|b| hex(*b));
                        let l = bytes.get(i + 2).and_then(|b| hex(*b));
                        if let (Some(h), Some(l)) = (h, l) {
                            // Both below 16.
                            decoded.push((h * 16 + l) as u8);
                            from.push(i);
                            i += 3;
                            changed = true;
                            continue;
                        }
                        decoded.push(b'%');
                        from.push(i);
                    }
                    b'+' if plus_is_space => {
                        decoded.push(b' ');
                        from.push(i);
                        changed = true;
                    }
                    b => {
                        decoded.push(b);
                        from.push(i);
                    }
                }
                i += 1;
            }
            if !changed {
                continue;
            }
            from.push(bytes.len());
            for (start, end) in self.spans(&decoded) {
                out.push((from[start], from[end]));
            }
        }
        out
    }

    /// Mask a step's outputs and error.
    pub fn mask_result(&self, result: &mut StepResult) {
        for v in result.outputs.values_mut() {
            if let Cow::Owned(m) = self.mask(v) {
                *v = m;
            }
        }
        if let Some(e) = &mut result.error
            && let Cow::Owned(m) = self.mask(e)
        {
            *e = m;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

    /// `application/x-www-form-urlencoded`: spaces as `+`.
    fn form_urlencoded(s: &str) -> String {
        s.split(' ')
            .map(|p| utf8_percent_encode(p, NON_ALPHANUMERIC).to_string())
            .collect::<Vec<_>>()
            .join("+")
    }

    const CANARY: &str = "canary-7Hq2/x+y z&w";

    fn masker() -> Masker {
        Masker::new(&[Secret::new(CANARY), Secret::new("ab")]).unwrap()
    }

    #[test]
    fn every_form_of_a_value_is_masked() {
        let m = masker();
        let clear = format!("token={CANARY};");
        assert_eq!(m.mask(&clear), "token=***;");
        let b64 = STANDARD.encode(CANARY);
        assert_eq!(m.mask(&format!("b64 {b64} end")), "b64 *** end");
        // `echo "$S" | base64`: the value's encoding followed by the newline's.
        let b64nl = STANDARD.encode(format!("{CANARY}\n"));
        assert_eq!(m.mask(&format!("b64 {b64nl} end")), "b64 *** end");
        let url = utf8_percent_encode(CANARY, NON_ALPHANUMERIC).to_string();
        assert_eq!(m.mask(&format!("?q={url}&x")), "?q=***&x");
        assert_eq!(m.mask(&format!("q={}", form_urlencoded(CANARY))), "q=***");
        // Short values are left alone.
        assert_eq!(m.mask("abc"), "abc");
        assert!(matches!(m.mask("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn multi_line_values_are_masked_line_by_line() {
        let m = Masker::new(&[Secret::new("-----BEGIN-----\nsecretline\n-----END-----")]).unwrap();
        assert_eq!(m.mask("x secretline y"), "x *** y");
    }

    #[test]
    fn outputs_and_errors_are_masked() {
        let m = masker();
        let mut r = StepResult::failed(format!("GET http://h/?t={CANARY} failed"), Some(1));
        r.outputs.insert("k".into(), format!("v{CANARY}"));
        m.mask_result(&mut r);
        assert_eq!(r.error.as_deref(), Some("GET http://h/?t=*** failed"));
        assert_eq!(r.outputs["k"], "v***");
    }

    /// `enc` with the quads that hold any bit of the `len` bytes after `offset` replaced by
    /// the mask: what masking a value inside a base64 stream must give.
    fn quads_masked(enc: &str, offset: usize, len: usize) -> String {
        let first = offset / 3 * 4;
        let last = ((offset + len).div_ceil(3) * 4).min(enc.len());
        format!("{}{MASK}{}", &enc[..first], &enc[last..])
    }

    /// A value inside a base64 stream, wherever it stands in it (after 0, 1 or 2 other bytes:
    /// `printf 'x%s' "$S" | base64`), followed by more bytes or not, in either alphabet: every
    /// character that holds any of its bits is masked.
    #[test]
    fn base64_is_masked_at_every_alignment() {
        use base64::engine::general_purpose::URL_SAFE;
        let secrets = [CANARY, "s3cr3t-value", "abcd", "0123456789abcdefghijk?>~"];
        let m = Masker::new(&secrets.map(Secret::new)).unwrap();
        for secret in secrets {
            for prefix in ["", "x", "xy", "user:", "Bearer "] {
                for suffix in ["", "\n", "z", "zz", "-and-more"] {
                    for engine in [&STANDARD, &URL_SAFE] {
                        let plain = format!("{prefix}{secret}{suffix}");
                        let enc = engine.encode(&plain);
                        let want = quads_masked(&enc, prefix.len(), secret.len());
                        assert_eq!(
                            m.mask(&format!("b64 {enc} end")),
                            format!("b64 {want} end"),
                            "{plain:?} encoded as {enc}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn values_next_to_each_other_are_all_masked() {
        let m = Masker::new(&[Secret::new("first-secret"), Secret::new("second-secret")]).unwrap();
        let enc = STANDARD.encode("xfirst-secretsecond-secret!");
        let out = m.mask(&enc);
        assert!(!out.contains(&enc[4..12]), "{out}");
        assert!(out.starts_with(MASK) && out.len() <= 8, "{out}");
        assert_eq!(m.mask("first-secretsecond-secret"), "******");
    }

    /// A multi-line value is masked whole and line by line (the agent reads output a line at a
    /// time); a line of it shorter than [`MIN_LEN`] (a here-document delimiter such as `EOF`)
    /// is not.
    #[test]
    fn each_line_of_a_multi_line_value_is_masked() {
        let m = Masker::new(&[Secret::new("first-line-x\nEOF\nthird-line-y\r\n")]).unwrap();
        assert_eq!(m.mask("> first-line-x"), "> ***");
        assert_eq!(m.mask("third-line-y"), "***");
        assert_eq!(m.mask("EOF"), "EOF");
        assert_eq!(
            m.mask("first-line-x\nEOF\nthird-line-y\r\n"),
            MASK,
            "the whole value in one piece"
        );
        assert_eq!(m.mask(&STANDARD.encode("third-line-y")), MASK);
    }

    #[test]
    fn url_encoded_forms_are_masked() {
        let v = "p@ss w/rd+é&x=1";
        let m = Masker::new(&[Secret::new(v)]).unwrap();
        let pct = utf8_percent_encode(v, NON_ALPHANUMERIC).to_string();
        assert_eq!(m.mask(&format!("GET /?a={pct}&b=2")), "GET /?a=***&b=2");
        assert_eq!(
            m.mask(&format!("body: a={}&b=2", form_urlencoded(v))),
            "body: a=***&b=2"
        );
        assert_eq!(m.mask("a=p%40ss+w%2Frd%2B%C3%A9%26x%3D1"), "a=***");
    }

    /// RFC 3986 encoders (curl --data-urlencode, Python's quote, Go's QueryEscape) leave
    /// `-._~` as they are, encodeURIComponent more; some write lower-case hex.
    #[test]
    fn url_encoded_forms_of_every_encoder_are_masked() {
        const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
            .remove(b'-')
            .remove(b'.')
            .remove(b'_')
            .remove(b'~');
        const URI_COMPONENT: &AsciiSet = &UNRESERVED
            .remove(b'!')
            .remove(b'*')
            .remove(b'\'')
            .remove(b'(')
            .remove(b')');
        let v = "tok-en.v_1~x/y z!(é)";
        let m = Masker::new(&[Secret::new(v)]).unwrap();
        for set in [NON_ALPHANUMERIC, UNRESERVED, URI_COMPONENT] {
            let enc = utf8_percent_encode(v, set).to_string();
            for form in [enc.clone(), enc.replace("%20", "+"), enc.to_lowercase()] {
                assert_eq!(m.mask(&format!("GET /?t={form}&n=1")), "GET /?t=***&n=1");
            }
        }
        // A base64 token in a query string, its + and / encoded.
        let b64 = STANDARD.encode(format!("u:{CANARY}"));
        let m = masker();
        let q = utf8_percent_encode(&b64, NON_ALPHANUMERIC).to_string();
        assert_eq!(m.mask(&format!("?auth={q}&x")), "?auth=***&x");
        // Text with % that decodes to no value is left as it is.
        assert_eq!(m.mask("100% done, 50%2 %zz"), "100% done, 50%2 %zz");
    }

    #[test]
    fn nothing_to_mask_is_none() {
        assert!(Masker::new(&[]).is_none());
        assert!(Masker::new(&[Secret::new("ab")]).is_none());
    }
}
