//! Encryption of the payload: AES-256-GCM in the STREAM construction (`aead::stream`, big-endian
//! 32-bit counter, last-chunk flag), 1 MiB chunks, the backup id as associated data — so
//! truncation, reordering and splicing of chunks all fail authentication.
//!
//! Keys come from a key file (32 random bytes as 64 hex digits: `imx backup keygen`) or a
//! passphrase stretched with argon2id (salt and costs in the manifest). The OS keyring is not
//! wired up yet (it arrives with the remote client's credentials).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use aes_gcm::aead::stream::{DecryptorBE32, EncryptorBE32};
use aes_gcm::aead::{KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key};
use sha2::{Digest, Sha256};

use super::manifest::{Encryption, Kdf, KeyKind};
use crate::{Error, Result};

/// Plaintext bytes per encrypted chunk.
pub const CHUNK: usize = 1 << 20;
const TAG: usize = 16;
const ALGORITHM: &str = "aes-256-gcm-stream-be32";

/// Where a key comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum KeySource {
    /// A key file written by `imx backup keygen`.
    File(PathBuf),
    /// A passphrase (read from stdin by the CLI).
    Passphrase(String),
    /// A named entry in the OS keyring (not available yet).
    Keyring(String),
}

impl std::fmt::Debug for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::File(p) => write!(f, "File({})", p.display()),
            KeySource::Passphrase(_) => f.write_str("Passphrase(***)"),
            KeySource::Keyring(n) => write!(f, "Keyring({n})"),
        }
    }
}

/// A 256-bit key.
pub struct SecretKey([u8; 32]);

impl SecretKey {
    fn check(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"imx-backup-key-check\0");
        h.update(self.0);
        hex::encode(&h.finalize()[..8])
    }
}

/// Generate a new key file at `path` (mode 0600; refuses to overwrite).
pub fn keygen(path: &Path) -> Result<()> {
    let mut key = [0u8; 32];
    rand::Rng::fill(&mut rand::rng(), &mut key);
    super::fsutil::write_private(path, format!("{}\n", hex::encode(key)).as_bytes()).map_err(|e| {
        match e {
            Error::Io { source, .. } if source.kind() == std::io::ErrorKind::AlreadyExists => {
                Error::Conflict(format!(
                    "{} already exists; not overwriting a key",
                    path.display()
                ))
            }
            other => other,
        }
    })
}

fn read_key_file(path: &Path) -> Result<SecretKey> {
    let data = std::fs::read(path)
        .map_err(|e| Error::io(format!("reading the key file {}", path.display()), e))?;
    let text = String::from_utf8_lossy(&data);
    if let Ok(bytes) = hex::decode(text.trim())
        && let Ok(key) = <[u8; 32]>::try_from(bytes)
    {
        return Ok(SecretKey(key));
    }
    if let Ok(key) = <[u8; 32]>::try_from(data.as_slice()) {
        return Ok(SecretKey(key));
    }
    Err(Error::invalid_with_hint(
        format!(
            "{}: not a backup key (expected 64 hex digits or 32 bytes)",
            path.display()
        ),
        "create one with: imx backup keygen --out FILE",
    ))
}

fn keyring_unavailable(name: &str) -> Error {
    Error::invalid_with_hint(
        format!("the OS keyring is not available for backup keys yet (asked for {name:?})"),
        "use --key-file FILE (imx backup keygen) or --passphrase-stdin",
    )
}

fn stretch(pass: &str, kdf: &Kdf) -> Result<SecretKey> {
    let salt =
        hex::decode(&kdf.salt).map_err(|_| Error::invalid("the manifest's salt is not hex"))?;
    let params = argon2::Params::new(kdf.m_cost_kib, kdf.t_cost, kdf.p_cost, Some(32))
        .map_err(|e| Error::invalid(format!("bad key-derivation parameters: {e}")))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = [0u8; 32];
    argon
        .hash_password_into(pass.as_bytes(), &salt, &mut out)
        .map_err(|e| Error::invalid(format!("cannot derive a key from the passphrase: {e}")))?;
    Ok(SecretKey(out))
}

/// A fresh key and its manifest entry, for a new backup.
pub fn for_encryption(source: &KeySource) -> Result<(SecretKey, Encryption)> {
    let mut prefix = [0u8; 7];
    rand::Rng::fill(&mut rand::rng(), &mut prefix);
    let (key, kind, kdf) = match source {
        KeySource::File(p) => (read_key_file(p)?, KeyKind::File, None),
        KeySource::Passphrase(pass) => {
            if pass.is_empty() {
                return Err(Error::invalid("the passphrase is empty"));
            }
            let mut salt = [0u8; 16];
            rand::Rng::fill(&mut rand::rng(), &mut salt);
            let kdf = Kdf {
                algorithm: "argon2id".into(),
                salt: hex::encode(salt),
                m_cost_kib: 65_536,
                t_cost: 3,
                p_cost: 1,
            };
            (stretch(pass, &kdf)?, KeyKind::Passphrase, Some(kdf))
        }
        KeySource::Keyring(name) => return Err(keyring_unavailable(name)),
    };
    let enc = Encryption {
        algorithm: ALGORITHM.into(),
        chunk_size: CHUNK as u32,
        nonce_prefix: hex::encode(prefix),
        key: kind,
        key_check: key.check(),
        kdf,
    };
    Ok((key, enc))
}

/// The key for an existing backup; a wrong key is [`Error::WrongKey`] before any decryption.
pub fn for_decryption(
    path: &Path,
    enc: &Encryption,
    source: Option<&KeySource>,
) -> Result<SecretKey> {
    let wrong = |reason: String| Error::WrongKey {
        path: path.to_path_buf(),
        reason,
    };
    if enc.algorithm != ALGORITHM {
        return Err(Error::invalid(format!(
            "{}: unknown encryption {:?}",
            path.display(),
            enc.algorithm
        )));
    }
    let Some(source) = source else {
        return Err(wrong(match enc.key {
            KeyKind::File => "the backup is encrypted with a key file; pass --key-file FILE".into(),
            KeyKind::Passphrase => {
                "the backup is encrypted with a passphrase; pass --passphrase-stdin".into()
            }
        }));
    };
    let key = match (source, &enc.kdf) {
        (KeySource::Keyring(name), _) => return Err(keyring_unavailable(name)),
        (KeySource::File(p), _) => read_key_file(p)?,
        (KeySource::Passphrase(pass), Some(kdf)) => stretch(pass, kdf)?,
        (KeySource::Passphrase(_), None) => {
            return Err(wrong(
                "the backup is encrypted with a key file, not a passphrase; pass --key-file FILE"
                    .into(),
            ));
        }
    };
    if key.check() != enc.key_check {
        return Err(wrong(match enc.key {
            KeyKind::File => {
                "wrong key: this backup was encrypted with a different key file".into()
            }
            KeyKind::Passphrase => "wrong passphrase for this backup".into(),
        }));
    }
    Ok(key)
}

fn prefix(enc_prefix: &str) -> Result<[u8; 7]> {
    hex::decode(enc_prefix)
        .ok()
        .and_then(|b| <[u8; 7]>::try_from(b).ok())
        .ok_or_else(|| Error::invalid("the manifest's nonce prefix is malformed"))
}

fn aead_error() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        "decryption failed: the data was altered (authentication tag mismatch)",
    )
}

/// Encrypts everything written to it, chunk by chunk, into `inner`.
pub struct EncryptWriter<W: Write> {
    inner: W,
    enc: Option<EncryptorBE32<Aes256Gcm>>,
    buf: Vec<u8>,
    aad: Vec<u8>,
}

impl<W: Write> EncryptWriter<W> {
    pub fn new(inner: W, key: &SecretKey, enc: &Encryption, aad: &[u8]) -> Result<Self> {
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key.0));
        let p = prefix(&enc.nonce_prefix)?;
        Ok(EncryptWriter {
            inner,
            enc: Some(EncryptorBE32::from_aead(cipher, (&p).into())),
            buf: Vec::with_capacity(CHUNK),
            aad: aad.to_vec(),
        })
    }

    /// Encrypt the last chunk and return the inner writer.
    pub fn finish(mut self) -> std::io::Result<W> {
        let enc = self.enc.take().ok_or_else(aead_error)?;
        let ct = enc
            .encrypt_last(Payload {
                msg: &self.buf,
                aad: &self.aad,
            })
            .map_err(|_| aead_error())?;
        self.inner.write_all(&ct)?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for EncryptWriter<W> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let mut rest = data;
        while !rest.is_empty() {
            if self.buf.len() == CHUNK {
                let enc = self.enc.as_mut().ok_or_else(aead_error)?;
                let ct = enc
                    .encrypt_next(Payload {
                        msg: &self.buf,
                        aad: &self.aad,
                    })
                    .map_err(|_| aead_error())?;
                self.inner.write_all(&ct)?;
                self.buf.clear();
            }
            let n = rest.len().min(CHUNK - self.buf.len());
            self.buf.extend_from_slice(&rest[..n]);
            rest = &rest[n..];
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Decrypts a payload of known length read from `inner`.
pub struct DecryptReader<R: Read> {
    inner: R,
    dec: Option<DecryptorBE32<Aes256Gcm>>,
    remaining: u64,
    plain: Vec<u8>,
    pos: usize,
    aad: Vec<u8>,
}

impl<R: Read> DecryptReader<R> {
    pub fn new(inner: R, len: u64, key: &SecretKey, enc: &Encryption, aad: &[u8]) -> Result<Self> {
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key.0));
        let p = prefix(&enc.nonce_prefix)?;
        Ok(DecryptReader {
            inner,
            dec: Some(DecryptorBE32::from_aead(cipher, (&p).into())),
            remaining: len,
            plain: Vec::new(),
            pos: 0,
            aad: aad.to_vec(),
        })
    }

    fn refill(&mut self) -> std::io::Result<()> {
        let Some(dec) = self.dec.as_mut() else {
            return Ok(());
        };
        let full = (CHUNK + TAG) as u64;
        let last = self.remaining <= full;
        let n = self.remaining.min(full) as usize;
        let mut ct = vec![0u8; n];
        self.inner.read_exact(&mut ct)?;
        self.remaining -= n as u64;
        let payload = Payload {
            msg: &ct,
            aad: &self.aad,
        };
        self.plain = if last {
            let dec = self.dec.take().ok_or_else(aead_error)?;
            dec.decrypt_last(payload).map_err(|_| aead_error())?
        } else {
            dec.decrypt_next(payload).map_err(|_| aead_error())?
        };
        self.pos = 0;
        Ok(())
    }
}

impl<R: Read> Read for DecryptReader<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.pos == self.plain.len() {
            if self.dec.is_none() {
                return Ok(0);
            }
            self.refill()?;
        }
        let n = out.len().min(self.plain.len() - self.pos);
        out[..n].copy_from_slice(&self.plain[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}
