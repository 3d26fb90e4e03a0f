//! Names given at login that are no user. Whatever was typed in the user-name field (at times a
//! password) is never stored: failed logins of unknown names are throttled and audited by
//! HMAC-SHA256 of the name under a random per-store key, which the store keeps in its `meta`
//! table and never shows. The same name always maps to the same id (so it is still throttled and
//! can be correlated in the audit trail), and without the key the id says nothing about the name.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::{Error, Result};

/// Bytes of the per-store key.
pub const KEY_LEN: usize = 32;

/// Hex characters of the HMAC kept in an id (128 bits).
const ID_HEX: usize = 32;

/// The id an unknown name is throttled and audited by: `unknown:` and 32 hex characters.
/// (`:` is not allowed in user names, so it never collides with a real user.)
pub fn id(key: &[u8; KEY_LEN], name: &str) -> Result<String> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .map_err(|e| Error::Internal(format!("HMAC key: {e}")))?;
    mac.update(name.as_bytes());
    let digest = hex::encode(mac.finalize().into_bytes());
    Ok(format!("unknown:{}", &digest[..ID_HEX]))
}

/// A new random key.
pub fn new_key() -> [u8; KEY_LEN] {
    use rand::RngCore;
    let mut key = [0u8; KEY_LEN];
    rand::rng().fill_bytes(&mut key);
    key
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_per_key_and_hide_the_name() {
        let (a, b) = (new_key(), new_key());
        let id1 = id(&a, "S3cret-Passw0rd!").unwrap();
        assert_eq!(id1, id(&a, "S3cret-Passw0rd!").unwrap());
        assert_ne!(id1, id(&b, "S3cret-Passw0rd!").unwrap());
        assert_ne!(id1, id(&a, "S3cret-Passw0rd").unwrap());
        assert!(id1.starts_with("unknown:") && id1.len() == 8 + 32, "{id1}");
        assert!(!id1.contains("S3cret"));
    }
}
