//! Password hashing: argon2id at OWASP's recommended parameters (m = 19 MiB, t = 2, p = 1),
//! stored as a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`), so the parameters
//! travel with each hash and can be raised later without breaking old ones.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use super::Secret;
use crate::{Error, Result};

/// Memory cost in KiB (19 MiB).
pub const MEMORY_KIB: u32 = 19 * 1024;
/// Iterations.
pub const ITERATIONS: u32 = 2;
/// Lanes.
pub const PARALLELISM: u32 = 1;

/// Shortest password accepted (NIST SP 800-63B's minimum).
pub const MIN_LEN: usize = 8;
/// Longest password accepted, in bytes (bounds the hashing work an attacker can ask for).
pub const MAX_LEN: usize = 1024;

fn hasher() -> Result<Argon2<'static>> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
        .map_err(|e| Error::Internal(format!("argon2 parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Check a new password against the policy; the message never repeats the password.
pub fn check_policy(password: &Secret) -> Result<()> {
    let p = password.expose();
    let chars = p.chars().count();
    if chars < MIN_LEN {
        return Err(Error::invalid(format!(
            "the password is too short: it needs at least {MIN_LEN} characters"
        )));
    }
    if p.len() > MAX_LEN {
        return Err(Error::invalid(format!(
            "the password is too long: at most {MAX_LEN} bytes"
        )));
    }
    if p.trim().is_empty() {
        return Err(Error::invalid("the password is only white space"));
    }
    Ok(())
}

/// Hash a password with a fresh random salt; returns the PHC string.
pub fn hash(password: &Secret) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    let phc = hasher()?
        .hash_password(password.expose().as_bytes(), &salt)
        .map_err(|e| Error::Internal(format!("cannot hash the password: {e}")))?;
    Ok(phc.to_string())
}

/// Whether `password` matches the PHC string `phc` (argon2's comparison is constant-time).
/// A malformed stored hash never matches.
pub fn verify(phc: &str, password: &Secret) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let Ok(argon) = hasher() else {
        return false;
    };
    argon
        .verify_password(password.expose().as_bytes(), &parsed)
        .is_ok()
}

/// Spend the same time as a real verification, for unknown users and users without a
/// password, so timing does not tell whether a user exists.
pub fn verify_dummy(password: &Secret) {
    // A fixed hash of a random password nobody knows, made with the parameters above.
    const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$ggtU5eDzsRUyrMnEwsiQyn2ofCVG8KQqfyz4vQvCqMM";
    let _ = verify(DUMMY, password);
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_at_owasp_parameters_and_verify() {
        let pw = Secret::new("correct horse battery");
        let phc = hash(&pw).unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(!phc.contains("correct horse"));
        assert!(verify(&phc, &pw));
        assert!(!verify(&phc, &Secret::new("correct horse battery!")));
        assert!(!verify("not a hash", &pw));
        // Same password, new salt, different hash.
        assert_ne!(hash(&pw).unwrap(), phc);
    }

    #[test]
    fn policy() {
        assert!(check_policy(&Secret::new("short")).is_err());
        assert!(check_policy(&Secret::new("        ")).is_err());
        assert!(check_policy(&Secret::new("x".repeat(MAX_LEN + 1))).is_err());
        assert!(check_policy(&Secret::new("long enough")).is_ok());
        let err = check_policy(&Secret::new("abc")).unwrap_err().to_string();
        assert!(!err.contains("abc"), "{err}");
    }

    #[test]
    fn dummy_hash_is_well_formed() {
        // If the constant were malformed, verify_dummy would return at once and leak timing.
        assert!(PasswordHash::new("$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$ggtU5eDzsRUyrMnEwsiQyn2ofCVG8KQqfyz4vQvCqMM").is_ok());
    }
}
