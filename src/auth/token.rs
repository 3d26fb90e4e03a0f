//! API tokens: `imx_` + 43 base62 characters (256 random bits). Only the SHA-256 of the secret
//! is stored (the secret has full entropy, so a fast hash is enough and keeps per-request
//! authentication cheap), with the last four characters kept for display. Stored hashes are
//! compared in constant time.

use rand::Rng;
use rand::distr::Alphanumeric;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::Secret;

/// Every token secret starts with this.
pub const PREFIX: &str = "imx_";
/// Random characters after the prefix: 43 base62 characters ≈ 256 bits.
const RANDOM_CHARS: usize = 43;

/// A freshly generated token: the secret (shown once), its hash and its display suffix.
pub struct Generated {
    pub secret: Secret,
    pub hash: String,
    pub last4: String,
}

/// Generate a new token secret from the OS random source.
pub fn generate() -> Generated {
    let random: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(RANDOM_CHARS)
        .map(char::from)
        .collect();
    let secret = Secret::new(format!("{PREFIX}{random}"));
    Generated {
        hash: hash(&secret),
        last4: last4(&secret),
        secret,
    }
}

/// The hex SHA-256 of a secret: what the store keeps and looks tokens up by.
pub fn hash(secret: &Secret) -> String {
    hex::encode(Sha256::digest(secret.expose().as_bytes()))
}

/// The last four characters, shown in `token list` to tell tokens apart.
pub fn last4(secret: &Secret) -> String {
    let s = secret.expose();
    let n = s.chars().count();
    s.chars().skip(n.saturating_sub(4)).collect()
}

/// Whether `s` looks like a token (prefix and length), before any lookup.
pub fn well_formed(secret: &Secret) -> bool {
    let s = secret.expose();
    s.len() == PREFIX.len() + RANDOM_CHARS
        && s.starts_with(PREFIX)
        && s[PREFIX.len()..].bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Constant-time equality of two hex hashes.
pub fn hashes_equal(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_are_well_formed_unique_and_hashed() {
        let a = generate();
        let b = generate();
        assert!(well_formed(&a.secret), "{}", a.secret.expose());
        assert_ne!(a.secret, b.secret);
        assert_eq!(a.hash.len(), 64);
        assert_eq!(a.hash, hash(&a.secret));
        assert!(!a.hash.contains(&a.secret.expose()[4..]));
        assert!(a.secret.expose().ends_with(&a.last4));
        assert!(hashes_equal(&a.hash, &hash(&a.secret)));
        assert!(!hashes_equal(&a.hash, &b.hash));
        assert!(!well_formed(&Secret::new("imx_short")));
        assert!(!well_formed(&Secret::new(format!(
            "xyz_{}",
            "a".repeat(43)
        ))));
    }
}
