//! Encryption of the payload: AES-256-GCM in the STREAM construction (`aead::stream`, big-endian
//! 32-bit counter, last-chunk flag), 1 MiB chunks, the backup id (and format) as associated data
//! — so truncation, reordering and splicing of chunks all fail authentication — and a tag under
//! the same key that seals the manifest ([`manifest_tag`]).
//!
//! Keys come from a key file (32 random bytes as 64 hex digits: `imx backup keygen --out`), an
//! OS keyring entry holding such a key (`imx backup keygen --keyring`, see [`super::keyring`]),
//! or a passphrase stretched with argon2id (salt and costs in the manifest).

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
    /// A key file written by `imx backup keygen --out`.
    File(PathBuf),
    /// A passphrase (read from stdin by the CLI).
    Passphrase(String),
    /// A key read from the OS keyring entry `entry` (see [`super::keyring`]); the entry's name
    /// goes into the manifest so a missing key can be named.
    Keyring { entry: String, key: SecretKey },
}

impl std::fmt::Debug for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::File(p) => write!(f, "File({})", p.display()),
            KeySource::Passphrase(_) => f.write_str("Passphrase(***)"),
            KeySource::Keyring { entry, .. } => write!(f, "Keyring({entry})"),
        }
    }
}

/// A 256-bit key, wiped from memory when dropped. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey(zeroize::Zeroizing<[u8; 32]>);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretKey(check {})", self.check())
    }
}

impl SecretKey {
    /// A new random key.
    pub fn generate() -> Self {
        let mut key = zeroize::Zeroizing::new([0u8; 32]);
        rand::Rng::fill(&mut rand::rng(), &mut key[..]);
        SecretKey(key)
    }

    /// The key from its 64 hex digits (how key files and keyring entries hold it).
    pub fn from_hex(text: &str) -> Option<Self> {
        let mut key = zeroize::Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(text.trim(), &mut key[..]).ok()?;
        Some(SecretKey(key))
    }

    /// The key as 64 hex digits (to store it; never to show it).
    pub fn to_hex(&self) -> zeroize::Zeroizing<String> {
        zeroize::Zeroizing::new(hex::encode(&self.0[..]))
    }

    /// A short digest that tells keys apart without revealing them (kept in manifests).
    pub fn check(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"imx-backup-key-check\0");
        h.update(&self.0[..]);
        hex::encode(&h.finalize()[..8])
    }
}

/// Generate a new key file at `path` (mode 0600; refuses to overwrite).
pub fn keygen(path: &Path) -> Result<()> {
    write_key_file(path, &SecretKey::generate())
}

/// Write `key` to a new key file at `path` (mode 0600; refuses to overwrite).
pub fn write_key_file(path: &Path, key: &SecretKey) -> Result<()> {
    let text = zeroize::Zeroizing::new(format!("{}\n", key.to_hex().as_str()));
    super::fsutil::write_private(path, text.as_bytes()).map_err(|e| match e {
        Error::Io { source, .. } if source.kind() == std::io::ErrorKind::AlreadyExists => {
            Error::Conflict(format!(
                "{} already exists; not overwriting a key",
                path.display()
            ))
        }
        other => other,
    })
}

fn read_key_file(path: &Path) -> Result<SecretKey> {
    let data = std::fs::read(path)
        .map_err(|e| Error::io(format!("reading the key file {}", path.display()), e))?;
    let data = zeroize::Zeroizing::new(data);
    if let Some(key) = std::str::from_utf8(&data)
        .ok()
        .and_then(SecretKey::from_hex)
    {
        return Ok(key);
    }
    if let Ok(key) = <[u8; 32]>::try_from(data.as_slice()) {
        return Ok(SecretKey(zeroize::Zeroizing::new(key)));
    }
    Err(Error::invalid_with_hint(
        format!(
            "{}: not a backup key (expected 64 hex digits or 32 bytes)",
            path.display()
        ),
        "create one with: imx backup keygen --out FILE",
    ))
}

fn stretch(pass: &str, kdf: &Kdf) -> Result<SecretKey> {
    let salt =
        hex::decode(&kdf.salt).map_err(|_| Error::invalid("the manifest's salt is not hex"))?;
    let params = argon2::Params::new(kdf.m_cost_kib, kdf.t_cost, kdf.p_cost, Some(32))
        .map_err(|e| Error::invalid(format!("bad key-derivation parameters: {e}")))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = zeroize::Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(pass.as_bytes(), &salt, &mut out[..])
        .map_err(|e| Error::invalid(format!("cannot derive a key from the passphrase: {e}")))?;
    Ok(SecretKey(out))
}

/// A fresh key and its manifest entry, for a new backup.
pub fn for_encryption(source: &KeySource) -> Result<(SecretKey, Encryption)> {
    let mut prefix = [0u8; 7];
    rand::Rng::fill(&mut rand::rng(), &mut prefix);
    let mut keyring = None;
    let (key, kind, kdf) = match source {
        KeySource::File(p) => (read_key_file(p)?, KeyKind::File, None),
        KeySource::Keyring { entry, key } => {
            keyring = Some(entry.clone());
            (key.clone(), KeyKind::File, None)
        }
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
    };
    let enc = Encryption {
        algorithm: ALGORITHM.into(),
        chunk_size: CHUNK as u32,
        nonce_prefix: hex::encode(prefix),
        key: kind,
        key_check: key.check(),
        kdf,
        keyring,
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
    // How to pass the key this backup was made with.
    let pass_key = || match &enc.keyring {
        Some(entry) => format!(
            "pass --keyring {entry} (the OS keyring entry it was made with) or --key-file FILE"
        ),
        None => "pass --key-file FILE".to_string(),
    };
    let Some(source) = source else {
        return Err(wrong(match enc.key {
            KeyKind::File => format!("the backup is encrypted with a key; {}", pass_key()),
            KeyKind::Passphrase => {
                "the backup is encrypted with a passphrase; pass --passphrase-stdin".into()
            }
        }));
    };
    let key = match (source, &enc.kdf) {
        (KeySource::Keyring { key, .. }, None) => key.clone(),
        (KeySource::File(p), None) => read_key_file(p)?,
        (KeySource::Passphrase(pass), Some(kdf)) => stretch(pass, kdf)?,
        (KeySource::Passphrase(_), None) => {
            return Err(wrong(format!(
                "the backup is encrypted with a key, not a passphrase; {}",
                pass_key()
            )));
        }
        (KeySource::File(_) | KeySource::Keyring { .. }, Some(_)) => {
            return Err(wrong(
                "the backup is encrypted with a passphrase, not a key; pass --passphrase-stdin"
                    .into(),
            ));
        }
    };
    if key.check() != enc.key_check {
        return Err(wrong(match enc.key {
            KeyKind::File => format!(
                "wrong key: this backup was encrypted with a different key ({})",
                pass_key()
            ),
            KeyKind::Passphrase => "wrong passphrase for this backup".into(),
        }));
    }
    Ok(key)
}

/// The nonce of the manifest's tag: the STREAM prefix, an all-ones counter and a flag byte of 2.
/// STREAM nonces end in a flag byte of 0 or 1, so this one is never used for a chunk.
fn manifest_nonce(enc: &Encryption) -> Result<[u8; 12]> {
    let mut nonce = [0xffu8; 12];
    nonce[..7].copy_from_slice(&prefix(&enc.nonce_prefix)?);
    nonce[11] = 2;
    Ok(nonce)
}

/// The AES-256-GCM tag of an empty message with `manifest` as associated data: it seals the
/// manifest of an encrypted backup (format 2) with the backup's key.
pub fn manifest_tag(key: &SecretKey, enc: &Encryption, manifest: &[u8]) -> Result<[u8; 16]> {
    use aes_gcm::aead::Aead;
    let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key.0[..]));
    let nonce = manifest_nonce(enc)?;
    let tag = cipher
        .encrypt(
            aes_gcm::Nonce::from_slice(&nonce),
            Payload {
                msg: &[],
                aad: manifest,
            },
        )
        .map_err(|_| Error::Internal("sealing the manifest failed".into()))?;
    <[u8; 16]>::try_from(tag.as_slice())
        .map_err(|_| Error::Internal("the manifest's tag is not 16 bytes".into()))
}

/// Whether `tag` seals `manifest` under `key` (see [`manifest_tag`]).
pub fn manifest_tag_ok(
    key: &SecretKey,
    enc: &Encryption,
    manifest: &[u8],
    tag: &[u8; 16],
) -> Result<bool> {
    use aes_gcm::aead::Aead;
    let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key.0[..]));
    let nonce = manifest_nonce(enc)?;
    Ok(cipher
        .decrypt(
            aes_gcm::Nonce::from_slice(&nonce),
            Payload {
                msg: tag,
                aad: manifest,
            },
        )
        .is_ok())
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
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key.0[..]));
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
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key.0[..]));
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
