//! TLS for the API: TLS 1.3 only, through rustls with the `ring` provider, from a PEM certificate
//! chain and private key. Handshakes happen in each connection's own task (see `conn`), so a
//! slow or hostile client never holds up the accept loop.

use std::path::Path;
use std::sync::Arc;

use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::{Error, Result};

/// A TLS 1.3 server configuration from a PEM certificate chain (leaf first) and a PEM private
/// key (PKCS#8, PKCS#1 or SEC1).
pub fn load_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|e| Error::io(format!("reading {}", path.display()), e))
    };
    let cert_pem = read(cert)?;
    let key_pem = read(key)?;
    let certs = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| {
            Error::invalid(format!(
                "{} is not a PEM certificate chain: {e}",
                cert.display()
            ))
        })?;
    if certs.is_empty() {
        return Err(Error::invalid(format!(
            "{} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            cert.display()
        )));
    }
    let key_der = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| Error::invalid(format!("{} is not a PEM private key: {e}", key.display())))?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&tokio_rustls::rustls::version::TLS13])
        .map_err(|e| Error::Internal(format!("TLS 1.3 is not available: {e}")))?
        .with_no_client_auth()
        .with_single_cert(certs, key_der)
        .map_err(|e| {
            Error::invalid(format!(
                "cannot use {} with {}: {e}",
                cert.display(),
                key.display()
            ))
        })?;
    Ok(Arc::new(config))
}
