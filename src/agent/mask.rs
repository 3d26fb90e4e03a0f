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
//! Base64 is matched as `base64(value)` (with or without padding) and, for a value followed by
//! more bytes in the same encoding (`echo "$S" | base64`), as the encoding of its first 3·k bytes
//! and the up to 3 characters after it that mix its last bytes with the next ones.

use std::borrow::Cow;

use aho_corasick::{AhoCorasick, MatchKind};
use base64::Engine as _;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

use crate::auth::Secret;
use crate::model::StepResult;

/// Values shorter than this are not masked.
pub const MIN_LEN: usize = 4;
/// What a masked value becomes.
pub const MASK: &str = "***";

/// The patterns of a step's secrets, matched at once.
pub struct Masker {
    ac: AhoCorasick,
    /// Per pattern: how many base64 characters (or `=`) after a match are masked with it (the
    /// rest of a base64 quad that also encodes the value's last bytes).
    extend: Vec<usize>,
}

fn is_b64(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'-' | b'_')
}

impl Masker {
    /// A masker for `values`; `None` when there is nothing to mask.
    pub fn new(values: &[Secret]) -> Option<Masker> {
        let mut patterns: Vec<(String, usize)> = Vec::new();
        let mut add = |p: String, extend: usize| {
            if p.len() >= MIN_LEN && !patterns.iter().any(|(q, _)| *q == p) {
                patterns.push((p, extend));
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
                add(piece.to_string(), 0);
                let bytes = piece.as_bytes();
                for engine in [
                    &base64::engine::general_purpose::STANDARD,
                    &base64::engine::general_purpose::URL_SAFE,
                ] {
                    let full = engine.encode(bytes);
                    let bare = full.trim_end_matches('=').to_string();
                    let pad = full.len() - bare.len();
                    add(bare, pad);
                    add(full, 0);
                    let aligned = bytes.len() / 3 * 3;
                    if aligned >= 3 && aligned < bytes.len() {
                        add(engine.encode(&bytes[..aligned]), 4);
                    }
                }
                add(utf8_percent_encode(piece, NON_ALPHANUMERIC).to_string(), 0);
                add(form_urlencoded(piece), 0);
            }
        }
        if patterns.is_empty() {
            return None;
        }
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(patterns.iter().map(|(p, _)| p.as_str()))
            .ok()?;
        Some(Masker {
            ac,
            extend: patterns.into_iter().map(|(_, e)| e).collect(),
        })
    }

    /// `text` with every occurrence masked.
    pub fn mask<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out: Option<String> = None;
        let mut last = 0;
        let bytes = text.as_bytes();
        for m in self.ac.find_iter(text) {
            if m.start() < last {
                continue;
            }
            let mut end = m.end();
            let extra = self.extend[m.pattern().as_usize()];
            while end < m.end() + extra
                && end < bytes.len()
                && (is_b64(bytes[end]) || bytes[end] == b'=')
            {
                end += 1;
            }
            let o = out.get_or_insert_with(|| String::with_capacity(text.len()));
            o.push_str(&text[last..m.start()]);
            o.push_str(MASK);
            last = end;
        }
        match out {
            None => Cow::Borrowed(text),
            Some(mut o) => {
                o.push_str(&text[last..]);
                Cow::Owned(o)
            }
        }
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

/// `application/x-www-form-urlencoded`: spaces as `+`.
fn form_urlencoded(s: &str) -> String {
    s.split(' ')
        .map(|p| utf8_percent_encode(p, NON_ALPHANUMERIC).to_string())
        .collect::<Vec<_>>()
        .join("+")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;

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

    #[test]
    fn nothing_to_mask_is_none() {
        assert!(Masker::new(&[]).is_none());
        assert!(Masker::new(&[Secret::new("ab")]).is_none());
    }
}
