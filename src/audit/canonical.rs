//! The canonical encoding of an audit record, the bytes its hash covers:
//! `prev_hash` (hex text) followed by the compact JSON object
//! `{"seq","time","actor","source","action","target","outcome","details","prev_hash"}` in that
//! order. `details` is spliced in as stored: records are written with the compact, key-sorted
//! JSON that `serde_json` produces, so re-encoding is not needed (and a record whose details were
//! rewritten, even into equivalent JSON, no longer verifies).

use sha2::{Digest, Sha256};

/// The borrowed fields of one record, as read from the store.
#[derive(Debug, Clone, Copy)]
pub struct RecordRef<'a> {
    pub seq: i64,
    pub time: i64,
    pub actor: &'a str,
    pub source: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    pub outcome: &'a str,
    /// The details as stored: compact JSON text.
    pub details: &'a str,
    pub prev_hash: &'a str,
    pub hash: &'a str,
}

/// Append a JSON string literal for `s` to `buf`, escaped exactly as `serde_json` does. Most
/// fields need no escaping (no control characters, quotes or backslashes): they are copied.
fn json_str(buf: &mut Vec<u8>, s: &str) {
    // Without short-circuiting, so the check vectorises.
    let escapes = s
        .bytes()
        .fold(false, |e, b| e | (b < 0x20) | (b == b'"') | (b == b'\\'));
    if !escapes {
        buf.reserve(s.len() + 2);
        buf.push(b'"');
        buf.extend_from_slice(s.as_bytes());
        buf.push(b'"');
    } else {
        // Writing into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *buf, s);
    }
}

/// Write the canonical JSON of `r` (without the leading prev_hash) into `buf`.
pub fn encode(buf: &mut Vec<u8>, r: &RecordRef<'_>) {
    let mut num = itoa::Buffer::new();
    buf.extend_from_slice(b"{\"seq\":");
    buf.extend_from_slice(num.format(r.seq).as_bytes());
    buf.extend_from_slice(b",\"time\":");
    buf.extend_from_slice(num.format(r.time).as_bytes());
    for (key, value) in [
        (&b",\"actor\":"[..], r.actor),
        (b",\"source\":", r.source),
        (b",\"action\":", r.action),
        (b",\"target\":", r.target),
        (b",\"outcome\":", r.outcome),
    ] {
        buf.extend_from_slice(key);
        json_str(buf, value);
    }
    buf.extend_from_slice(b",\"details\":");
    buf.extend_from_slice(r.details.as_bytes());
    buf.extend_from_slice(b",\"prev_hash\":");
    json_str(buf, r.prev_hash);
    buf.push(b'}');
}

/// The SHA-256 of a record (hex digits, lower case, into `out`), reusing `buf` as scratch.
pub fn hash_into(buf: &mut Vec<u8>, r: &RecordRef<'_>, out: &mut [u8; 64]) {
    buf.clear();
    encode(buf, r);
    let mut h = Sha256::new();
    h.update(r.prev_hash.as_bytes());
    h.update(&buf[..]);
    let digest = h.finalize();
    // 32 bytes always encode into 64 hex digits.
    let _ = hex::encode_to_slice(digest, out);
}

/// Whether the stored hash of `r` matches its contents.
pub fn matches(buf: &mut Vec<u8>, r: &RecordRef<'_>) -> bool {
    let mut out = [0u8; 64];
    hash_into(buf, r, &mut out);
    r.hash.as_bytes() == out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// The encoding the chain was first defined with: serde's derive over these fields.
    #[derive(serde::Serialize)]
    struct Derived<'a> {
        seq: i64,
        time: i64,
        actor: &'a str,
        source: &'a str,
        action: &'a str,
        target: &'a str,
        outcome: &'a str,
        details: &'a serde_json::Value,
        prev_hash: &'a str,
    }

    #[test]
    fn hand_written_encoding_equals_the_derived_one() {
        let details = [
            serde_json::Value::Null,
            serde_json::json!({ "b": 1, "a": [1, 2.5, "x\"y"], "ü": { "z": null } }),
            serde_json::json!("line\nbreak\u{1}"),
        ];
        for d in &details {
            let text = d.to_string();
            let r = RecordRef {
                seq: 42,
                time: -7,
                actor: "local:ä\"x",
                source: "10.0.0.1",
                action: "run.start",
                target: "tab\there",
                outcome: "ok",
                details: &text,
                prev_hash: "00ff",
                hash: "",
            };
            let mut buf = Vec::new();
            encode(&mut buf, &r);
            let derived = serde_json::to_vec(&Derived {
                seq: 42,
                time: -7,
                actor: r.actor,
                source: r.source,
                action: r.action,
                target: r.target,
                outcome: r.outcome,
                details: d,
                prev_hash: r.prev_hash,
            })
            .unwrap();
            assert_eq!(
                String::from_utf8(buf).unwrap(),
                String::from_utf8(derived).unwrap()
            );
        }
    }

    #[test]
    fn strings_are_escaped_exactly_as_serde_json_does() {
        let mut samples: Vec<String> = (0u8..0x80).map(|b| format!("a{}b", b as char)).collect();
        samples.extend(
            [
                "",
                "plain",
                "\"",
                "\\",
                "ü€😀",
                "\u{7f}\u{80}",
                "\u{2028}\u{2029}",
                "tab\there",
            ]
            .map(String::from),
        );
        for s in &samples {
            let mut buf = Vec::new();
            json_str(&mut buf, s);
            assert_eq!(buf, serde_json::to_vec(s).unwrap(), "{s:?}");
        }
    }
}
