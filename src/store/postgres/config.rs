//! Where the PostgreSQL store is and how to reach it: a [`PgConfig`] parsed from a
//! `postgres://` URL, the connection pool, TLS (rustls) and dedicated connections (the wake-up
//! listener, the leader's session).
//!
//! URL parameters imx reads itself (the rest go to tokio-postgres):
//! - `sslmode`: `disable`, `prefer` (the default: TLS when the server offers it), `require`,
//!   `verify-ca` or `verify-full`. Unlike libpq's `require`, every mode that uses TLS verifies
//!   the server's certificate and name: an unverified channel would carry the password to
//!   whoever answers.
//! - `sslrootcert`: a PEM file of the certificate authorities to trust, instead of the Mozilla
//!   roots (webpki-roots).
//! - `pool_max_size`: connections in the pool (a `--pool-size` flag overrides it).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::{Client, NoTls};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::errors::{PgError, PgResult};
use crate::{Error, Result};

/// The pool size when neither the URL nor a flag sets one.
pub const DEFAULT_POOL_SIZE: usize = 16;

/// How to reach the database.
#[derive(Clone)]
pub struct PgConfig {
    pub(super) pg: tokio_postgres::Config,
    /// Connections in the pool.
    pub pool_size: usize,
    tls: Tls,
    /// The URL without its password, for messages.
    display: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tls {
    Off,
    /// TLS when the server offers it (`prefer`) or always (`require` and above), verified
    /// against the Mozilla roots or the PEM file given.
    On {
        required: bool,
        roots: Option<PathBuf>,
    },
}

impl std::fmt::Debug for PgConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgConfig")
            .field("url", &self.display)
            .field("pool_size", &self.pool_size)
            .field("tls", &self.tls)
            .finish()
    }
}

/// Whether `s` names a PostgreSQL database (rather than an SQLite file).
pub fn is_postgres_url(s: &str) -> bool {
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

impl PgConfig {
    /// Parse a `postgres://user:password@host:port/dbname?param=value` URL.
    pub fn parse(url: &str) -> Result<PgConfig> {
        let bad = |reason: String| Error::invalid(format!("database URL: {reason}"));
        if !is_postgres_url(url) {
            return Err(bad("it must start with postgres:// or postgresql://".into()));
        }
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let mut rest = Vec::new();
        let mut mode = "prefer".to_string();
        let mut roots = None;
        let mut pool_size = DEFAULT_POOL_SIZE;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match k {
                "sslmode" => mode = percent_decode(v),
                "sslrootcert" => roots = Some(PathBuf::from(percent_decode(v))),
                "pool_max_size" => {
                    pool_size = v.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                        bad(format!("pool_max_size={v} is not a positive number"))
                    })?;
                }
                _ => rest.push(pair),
            }
        }
        let tls = match mode.as_str() {
            "disable" => Tls::Off,
            "prefer" | "allow" => Tls::On {
                required: false,
                roots,
            },
            "require" | "verify-ca" | "verify-full" => Tls::On {
                required: true,
                roots,
            },
            other => {
                return Err(bad(format!(
                    "sslmode={other} is not one of disable, prefer, require, verify-ca, verify-full"
                )));
            }
        };
        let url = if rest.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", rest.join("&"))
        };
        let mut pg: tokio_postgres::Config = url.parse().map_err(|e| bad(format!("{e}")))?;
        pg.ssl_mode(match &tls {
            Tls::Off => SslMode::Disable,
            Tls::On {
                required: false, ..
            } => SslMode::Prefer,
            Tls::On { required: true, .. } => SslMode::Require,
        });
        if pg.get_user().is_none() {
            // As libpq: the operating-system user.
            if let Some(name) = std::env::var("PGUSER").ok().or_else(os_user) {
                pg.user(&name);
            }
        }
        if pg.get_connect_timeout().is_none() {
            pg.connect_timeout(Duration::from_secs(10));
        }
        if pg.get_application_name().is_none() {
            pg.application_name("imx");
        }
        // A replica on a dead network path notices within a minute, not hours.
        pg.keepalives_idle(Duration::from_secs(30));
        let display = display(&pg);
        Ok(PgConfig {
            pg,
            pool_size,
            tls,
            display,
        })
    }

    /// The same database with a pool of `n` connections.
    pub fn with_pool_size(mut self, n: usize) -> PgConfig {
        self.pool_size = n.max(1);
        self
    }

    /// The URL without its password: for messages and logs.
    pub fn display(&self) -> &str {
        &self.display
    }

    /// The tokio-postgres settings (tests change the database name).
    pub fn pg(&self) -> &tokio_postgres::Config {
        &self.pg
    }

    /// The same server, another database.
    pub fn with_dbname(mut self, name: &str) -> PgConfig {
        self.pg.dbname(name);
        self.display = display(&self.pg);
        self
    }

    pub(super) fn connector(&self) -> Result<Option<MakeRustlsConnect>> {
        match &self.tls {
            Tls::Off => Ok(None),
            Tls::On { roots, .. } => Ok(Some(MakeRustlsConnect::new(client_config(
                roots.as_deref(),
            )?))),
        }
    }

    /// A pool of connections of [`pool_size`](Self::pool_size). Connections are made on first
    /// use; a broken one is replaced.
    pub fn pool(&self) -> Result<Pool> {
        let mc = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        let mgr = match self.connector()? {
            Some(tls) => Manager::from_config(self.pg.clone(), tls, mc),
            None => Manager::from_config(self.pg.clone(), NoTls, mc),
        };
        Pool::builder(mgr)
            .max_size(self.pool_size)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(Duration::from_secs(30)))
            .create_timeout(Some(Duration::from_secs(15)))
            .build()
            .map_err(|e| Error::Internal(format!("database pool: {e}")))
    }

    /// A connection of its own, outside the pool (a session that listens or holds a lock).
    /// Its messages (notifications) go to `messages`; the connection ends when the returned
    /// client is dropped or the server goes away.
    pub async fn connect(
        &self,
        messages: Option<tokio::sync::mpsc::UnboundedSender<tokio_postgres::AsyncMessage>>,
    ) -> PgResult<Client> {
        match self.connector().map_err(PgError::Imx)? {
            Some(tls) => {
                let (client, conn) = self.pg.connect(tls).await?;
                tokio::spawn(drive(conn, messages));
                Ok(client)
            }
            None => {
                let (client, conn) = self.pg.connect(NoTls).await?;
                tokio::spawn(drive(conn, messages));
                Ok(client)
            }
        }
    }
}

/// Poll a connection until it ends, handing its asynchronous messages to `to`.
pub(super) async fn drive<S, T>(
    mut conn: tokio_postgres::Connection<S, T>,
    to: Option<tokio::sync::mpsc::UnboundedSender<tokio_postgres::AsyncMessage>>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    loop {
        match std::future::poll_fn(|cx| conn.poll_message(cx)).await {
            Some(Ok(msg)) => {
                if let Some(to) = &to {
                    // The receiver may be gone; the connection still serves its client.
                    let _ = to.send(msg);
                }
            }
            Some(Err(e)) => {
                tracing::debug!("database connection ended: {e}");
                return;
            }
            None => return,
        }
    }
}

/// The rustls settings: TLS 1.2 and 1.3 with ring, trusting `roots` (PEM) or the Mozilla roots.
fn client_config(roots: Option<&std::path::Path>) -> Result<rustls::ClientConfig> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let mut store = rustls::RootCertStore::empty();
    match roots {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|it| it.collect::<std::result::Result<Vec<_>, _>>())
                .map_err(|e| Error::invalid(format!("sslrootcert {}: {e}", path.display())))?;
            let (added, _) = store.add_parsable_certificates(certs);
            if added == 0 {
                return Err(Error::invalid(format!(
                    "sslrootcert {}: no certificate in it",
                    path.display()
                )));
            }
        }
        None => store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Internal(format!("TLS settings: {e}")))?
        .with_root_certificates(store)
        .with_no_client_auth())
}

/// `postgres://user@host:port/dbname`, never the password.
fn display(pg: &tokio_postgres::Config) -> String {
    let host = match pg.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        Some(Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = pg.get_ports().first().copied().unwrap_or(5432);
    let user = pg.get_user().unwrap_or("");
    let db = pg.get_dbname().unwrap_or(user);
    format!("postgres://{user}@{host}:{port}/{db}")
}

fn os_user() -> Option<String> {
    nix::unistd::User::from_uid(nix::unistd::Uid::effective())
        .ok()
        .flatten()
        .map(|u| u.name)
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn a_url_parses_with_imx_parameters_taken_out() {
        let c = PgConfig::parse(
            "postgres://imx:s3cret@db.example:6432/imx?sslmode=verify-full&pool_max_size=7&connect_timeout=3",
        )
        .unwrap();
        assert_eq!(c.pool_size, 7);
        assert_eq!(c.display(), "postgres://imx@db.example:6432/imx");
        assert!(!format!("{c:?}").contains("s3cret"));
        assert_eq!(c.pg().get_ssl_mode(), SslMode::Require);
        assert_eq!(c.pg().get_connect_timeout(), Some(&Duration::from_secs(3)));
        assert_eq!(
            c.tls,
            Tls::On {
                required: true,
                roots: None
            }
        );
        let off = PgConfig::parse("postgresql://u@h/d?sslmode=disable").unwrap();
        assert_eq!(off.tls, Tls::Off);
        assert_eq!(off.pool_size, DEFAULT_POOL_SIZE);
        assert_eq!(off.with_pool_size(3).pool_size, 3);
    }

    #[test]
    fn bad_urls_are_usage_errors() {
        for url in [
            "/var/lib/imx.db",
            "postgres://u@h/d?sslmode=sometimes",
            "postgres://u@h/d?pool_max_size=0",
            "postgres://u@h:notaport/d",
        ] {
            let e = PgConfig::parse(url).unwrap_err();
            assert!(matches!(e, Error::Invalid { .. }), "{url}: {e:?}");
        }
    }

    #[test]
    fn a_missing_root_file_is_refused_when_connecting() {
        let c = PgConfig::parse("postgres://u@h/d?sslrootcert=%2Fno%2Fsuch.pem").unwrap();
        let e = c.pool().unwrap_err();
        assert!(e.to_string().contains("/no/such.pem"), "{e}");
    }
}
