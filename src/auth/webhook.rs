//! Standard Webhooks signatures (<https://www.standardwebhooks.com>), both ways: outgoing
//! notifications are signed with [`sign`], incoming trigger calls are checked with [`verify`].
//!
//! A message is signed over `{webhook-id}.{webhook-timestamp}.{body}` with HMAC-SHA256 under the
//! secret's bytes; the `webhook-signature` header holds one or more space-separated `v1,<base64>`
//! signatures (several while a secret is being rotated). Secrets are written `whsec_<base64>`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::Secret;

/// The header names of the standard.
pub const ID_HEADER: &str = "webhook-id";
pub const TIMESTAMP_HEADER: &str = "webhook-timestamp";
pub const SIGNATURE_HEADER: &str = "webhook-signature";

/// How far a message's timestamp may be from now, either way (the standard's 5 minutes).
pub const TOLERANCE_SECS: i64 = 5 * 60;

/// The prefix of a secret's text form.
const PREFIX: &str = "whsec_";

/// Why an incoming message was refused. The messages are safe to return to the caller: they
/// never include the secret or the expected signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    #[error("header {TIMESTAMP_HEADER} is not a Unix time in seconds")]
    BadTimestamp,
    #[error(
        "header {TIMESTAMP_HEADER} is {0} s away from the server's clock \
         (at most {TOLERANCE_SECS} s allowed)"
    )]
    Skew(i64),
    #[error("no v1 signature in header {SIGNATURE_HEADER} matches")]
    NoMatch,
}

/// A new random secret in the standard's text form (`whsec_` and 32 random bytes in base64).
pub fn generate_secret() -> Secret {
    let bytes: [u8; 32] = rand::random();
    Secret::new(format!("{PREFIX}{}", STANDARD.encode(bytes)))
}

/// The key bytes of a secret: the base64 after `whsec_`, or (for secrets that other systems
/// issue without the prefix or not in base64) the text's own bytes.
fn key_bytes(secret: &Secret) -> Zeroizing<Vec<u8>> {
    let text = secret.expose();
    let decoded = text
        .strip_prefix(PREFIX)
        .and_then(|b64| STANDARD.decode(b64).ok());
    Zeroizing::new(decoded.unwrap_or_else(|| text.as_bytes().to_vec()))
}

fn mac(secret: &Secret, id: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key_bytes(secret))
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `webhook-signature` header value for a message: `v1,<base64 HMAC-SHA256>`.
pub fn sign(secret: &Secret, id: &str, timestamp: i64, body: &[u8]) -> String {
    let tag = mac(secret, id, timestamp, body).finalize().into_bytes();
    format!("v1,{}", STANDARD.encode(tag))
}

/// Check an incoming message at `now` (Unix seconds): the timestamp within
/// [`TOLERANCE_SECS`] and one of the header's `v1` signatures made with one of `secrets`
/// (compared in constant time). Replayed ids are the caller's to refuse: it keeps the ids.
pub fn verify(
    secrets: &[&Secret],
    id: Option<&str>,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), Refused> {
    let id = id.ok_or(Refused::MissingHeader(ID_HEADER))?;
    let timestamp = timestamp.ok_or(Refused::MissingHeader(TIMESTAMP_HEADER))?;
    let signature = signature.ok_or(Refused::MissingHeader(SIGNATURE_HEADER))?;
    let ts: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| Refused::BadTimestamp)?;
    let skew = now.saturating_sub(ts);
    if skew.abs() > TOLERANCE_SECS {
        return Err(Refused::Skew(skew));
    }
    let given: Vec<Vec<u8>> = signature
        .split_whitespace()
        .filter_map(|s| s.strip_prefix("v1,"))
        .filter_map(|b64| STANDARD.decode(b64).ok())
        .collect();
    for secret in secrets {
        for tag in &given {
            if mac(secret, id, ts, body).verify_slice(tag).is_ok() {
                return Ok(());
            }
        }
    }
    Err(Refused::NoMatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000;

    fn check(secret: &Secret, sig: &str, ts: i64, body: &[u8]) -> Result<(), Refused> {
        let ts = ts.to_string();
        verify(&[secret], Some("msg_1"), Some(&ts), Some(sig), body, NOW)
    }

    #[test]
    fn the_standards_example_verifies() {
        // The example of the Standard Webhooks specification.
        let secret = Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        let body = br#"{"test": 2432232314}"#;
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let sig = sign(&secret, id, 1614265330, body);
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        let ok = verify(
            &[&secret],
            Some(id),
            Some("1614265330"),
            Some(&sig),
            body,
            1614265330 + 10,
        );
        assert_eq!(ok, Ok(()));
    }

    #[test]
    fn a_signature_verifies_only_for_its_secret_body_and_time() {
        let secret = generate_secret();
        let other = generate_secret();
        let sig = sign(&secret, "msg_1", NOW, b"{}");
        assert_eq!(check(&secret, &sig, NOW, b"{}"), Ok(()));
        assert_eq!(check(&other, &sig, NOW, b"{}"), Err(Refused::NoMatch));
        assert_eq!(check(&secret, &sig, NOW, b"{ }"), Err(Refused::NoMatch));
        assert_eq!(check(&secret, &sig, NOW - 1, b"{}"), Err(Refused::NoMatch));
    }

    #[test]
    fn any_of_several_signatures_and_secrets_may_match() {
        let old = generate_secret();
        let new = generate_secret();
        let header = format!("v1,bm90IGl0 {}", sign(&new, "msg_1", NOW, b"x"));
        let ts = NOW.to_string();
        let got = verify(
            &[&old, &new],
            Some("msg_1"),
            Some(&ts),
            Some(&header),
            b"x",
            NOW,
        );
        assert_eq!(got, Ok(()));
    }

    #[test]
    fn timestamps_past_the_tolerance_are_refused_either_way() {
        let secret = generate_secret();
        for ts in [NOW - TOLERANCE_SECS - 1, NOW + TOLERANCE_SECS + 1] {
            let sig = sign(&secret, "msg_1", ts, b"x");
            assert!(matches!(
                check(&secret, &sig, ts, b"x"),
                Err(Refused::Skew(_))
            ));
        }
        let edge = NOW - TOLERANCE_SECS;
        assert_eq!(
            check(&secret, &sign(&secret, "msg_1", edge, b"x"), edge, b"x"),
            Ok(())
        );
    }

    #[test]
    fn missing_or_malformed_headers_are_named() {
        let s = generate_secret();
        let sig = sign(&s, "msg_1", NOW, b"x");
        let ts = NOW.to_string();
        let v = |id, ts, sig| verify(&[&s], id, ts, sig, b"x", NOW);
        assert_eq!(
            v(None, Some(&ts), Some(&sig)),
            Err(Refused::MissingHeader(ID_HEADER))
        );
        assert_eq!(
            v(Some("msg_1"), None, Some(&sig)),
            Err(Refused::MissingHeader(TIMESTAMP_HEADER))
        );
        assert_eq!(
            v(Some("msg_1"), Some(&ts), None),
            Err(Refused::MissingHeader(SIGNATURE_HEADER))
        );
        assert_eq!(
            v(Some("msg_1"), Some("soon"), Some(&sig)),
            Err(Refused::BadTimestamp)
        );
        assert_eq!(
            v(Some("msg_1"), Some(&ts), Some("v2,abc")),
            Err(Refused::NoMatch)
        );
    }

    #[test]
    fn a_refusal_never_shows_the_secret_or_the_expected_signature() {
        let s = generate_secret();
        let expected = sign(&s, "msg_1", NOW, b"x");
        let Err(err) = check(&s, "v1,AAAA", NOW, b"x") else {
            panic!("a wrong signature passed");
        };
        let err = err.to_string();
        assert!(!err.contains(s.expose()) && !err.contains(&expected[3..]));
    }
}
