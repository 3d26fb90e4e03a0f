//! The store key: the one 256-bit key that seals secrets kept in the store (notification
//! channels' signing secrets, Slack URLs and SMTP passwords; webhook triggers' secrets; later
//! workflow secrets, issue 13), so a copy of the database, a backup or `imx store copy` never
//! holds them in the clear.
//!
//! - [`StoreKey`]: AES-256-GCM. [`StoreKey::seal`] gives `version ‖ nonce ‖ ciphertext ‖ tag`
//!   with a fresh random 96-bit nonce; [`StoreKey::open`] authenticates it against the same
//!   associated data (name what the value belongs to, e.g. `notify.channel:<id>:secret`, so a
//!   sealed value copied onto another row does not open there).
//! - A **check value** ([`StoreKey::check`], a keyed digest that does not reveal the key) is kept
//!   in the store's settings the first time a key is used with it: every later use compares it
//!   first, so a wrong key is a clear [`Error::StoreKey`], not garbage or a tag failure deep in
//!   a delivery.
//! - [`source`]: where the key comes from — for a local store the OS keyring (service
//!   [`source::SERVICE`], account = the store's id) with a 0600 file as the fallback
//!   (DESIGN §6), created on first use; for `imx server`, `--store-key-file PATH` or
//!   `IMX_STORE_KEY` (64 hex digits, the same on every replica of a cluster: a replica never
//!   makes one up).

pub mod source;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::{Error, Result};

pub use source::{KeyOrigin, StoreKeySource};

/// The first byte of a sealed value: the format (AES-256-GCM, 96-bit random nonce).
const VERSION: u8 = 1;
const NONCE: usize = 12;
const TAG: usize = 16;
/// The prefix of check values of this format.
const CHECK_PREFIX: &str = "v1:";

/// A 256-bit store key, wiped from memory when dropped. Its `Debug` shows only its check value.
#[derive(Clone, PartialEq, Eq)]
pub struct StoreKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StoreKey({})", self.check())
    }
}

impl StoreKey {
    /// A new random key.
    pub fn generate() -> Self {
        let mut key = Zeroizing::new([0u8; 32]);
        rand::Rng::fill(&mut rand::rng(), &mut key[..]);
        StoreKey(key)
    }

    /// The key from its 64 hex digits (surrounding whitespace ignored): how `IMX_STORE_KEY`,
    /// key files and keyring entries hold it. `None` if it is anything else.
    pub fn from_hex(text: &str) -> Option<Self> {
        let mut key = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(text.trim(), &mut key[..]).ok()?;
        Some(StoreKey(key))
    }

    /// The key as 64 hex digits (to store it; never to show it).
    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(&self.0[..]))
    }

    /// The check value kept in the store's settings: `v1:` and 32 hex digits of an HMAC-SHA256
    /// under the key of a fixed label. It tells keys apart without revealing them.
    pub fn check(&self) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0[..])
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(b"imx store key check v1");
        let digest = mac.finalize().into_bytes();
        format!("{CHECK_PREFIX}{}", hex::encode(&digest[..16]))
    }

    /// Whether `check` (from the store's settings) was made with this key; a wrong key is an
    /// [`Error::StoreKey`] that says where this key came from (`origin`) and what to do.
    pub fn verify(&self, check: &str, origin: &KeyOrigin) -> Result<()> {
        use subtle::ConstantTimeEq;
        if bool::from(self.check().as_bytes().ct_eq(check.trim().as_bytes())) {
            return Ok(());
        }
        Err(Error::StoreKey {
            message: format!(
                "wrong store key: the key from {origin} is not the one this store's secrets are \
                 sealed with"
            ),
            hint: "give the store's key (imx server --store-key-file FILE or IMX_STORE_KEY; \
                   every replica of a store needs the same key)"
                .into(),
        })
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&self.0[..]))
    }

    /// Seal `plaintext`, bound to `aad` (what the value belongs to; not secret, not stored).
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE];
        rand::Rng::fill(&mut rand::rng(), &mut nonce);
        // AES-GCM fails only on messages over 64 GiB, which no secret is.
        let ct = self
            .cipher()
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .unwrap_or_default();
        let mut out = Vec::with_capacity(1 + NONCE + ct.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    /// Open a value made by [`Self::seal`] with the same `aad`. A value altered, cut short,
    /// sealed under another key or for other associated data is an [`Error::StoreKey`].
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let bad = |why: &str| Error::StoreKey {
            message: format!("a secret kept in the store cannot be opened: {why}"),
            hint: "the store's data was altered or the store key changed; set the secret again"
                .into(),
        };
        let Some((&version, rest)) = sealed.split_first() else {
            return Err(bad("it is empty"));
        };
        if version != VERSION {
            return Err(bad(&format!("unknown format {version}")));
        }
        if rest.len() < NONCE + TAG {
            return Err(bad("it is truncated"));
        }
        let (nonce, ct) = rest.split_at(NONCE);
        self.cipher()
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad })
            .map(Zeroizing::new)
            .map_err(|_| bad("authentication failed (altered, or sealed under another key)"))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const AAD: &[u8] = b"notify.channel:01H:secret";

    #[test]
    fn a_sealed_value_opens_with_the_same_key_and_aad_only() {
        let key = StoreKey::generate();
        let sealed = key.seal(b"hunter2", AAD);
        assert_eq!(sealed.len(), 1 + NONCE + 7 + TAG);
        assert!(!sealed.windows(7).any(|w| w == b"hunter2"));
        assert_eq!(key.open(&sealed, AAD).unwrap().as_slice(), b"hunter2");
        // Fresh nonces: sealing twice gives different bytes.
        assert_ne!(key.seal(b"hunter2", AAD), sealed);
        // Another row's associated data does not open it.
        let e = key.open(&sealed, b"notify.channel:02H:secret").unwrap_err();
        assert!(matches!(e, Error::StoreKey { .. }), "{e}");
    }

    #[test]
    fn a_wrong_key_is_a_clear_error() {
        let key = StoreKey::generate();
        let other = StoreKey::generate();
        let sealed = key.seal(b"secret", AAD);
        let e = other.open(&sealed, AAD).unwrap_err();
        assert!(matches!(e, Error::StoreKey { .. }), "{e}");
        assert!(e.to_string().contains("authentication failed"), "{e}");
        // The check value tells the keys apart before anything is opened.
        let origin = KeyOrigin::Env;
        key.verify(&key.check(), &origin).unwrap();
        let e = other.verify(&key.check(), &origin).unwrap_err();
        assert!(e.to_string().contains("wrong store key"), "{e}");
        assert!(e.to_string().contains("IMX_STORE_KEY"), "{e}");
        assert!(e.hint().unwrap().contains("--store-key-file"));
    }

    #[test]
    fn tampered_or_truncated_values_do_not_open() {
        let key = StoreKey::generate();
        let sealed = key.seal(b"secret", AAD);
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            let e = key.open(&bad, AAD).unwrap_err();
            assert!(matches!(e, Error::StoreKey { .. }), "byte {i}: {e}");
        }
        for len in 0..sealed.len() {
            assert!(key.open(&sealed[..len], AAD).is_err(), "length {len}");
        }
    }

    #[test]
    fn the_key_round_trips_as_hex_and_is_never_shown() {
        let key = StoreKey::generate();
        let hex = key.to_hex();
        assert_eq!(hex.len(), 64);
        assert_eq!(
            StoreKey::from_hex(&format!(" {}\n", hex.as_str())),
            Some(key.clone())
        );
        assert!(!format!("{key:?}").contains(hex.as_str()));
        assert!(!key.check().contains(&hex[..16]));
        assert!(key.check().starts_with("v1:"));
        assert_eq!(key.check(), StoreKey::from_hex(&hex).unwrap().check());
        for bad in ["", "zz", &hex[..63], &format!("{}00", hex.as_str())] {
            assert!(StoreKey::from_hex(bad).is_none(), "{bad:?}");
        }
    }
}
