//! TLS: the remote client talks to a TLS 1.3 server whose certificate it trusts through
//! `--ca`, and gets a clear certificate error from one it does not trust.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use super::tests::OneToken;
use super::{AppState, ServeOptions, tls};
use crate::Error;
use crate::control::remote::RemoteControlPlane;
use crate::control::{ControlPlane, LocalControlPlane, LocalOptions};

struct Served {
    _dir: tempfile::TempDir,
    url: String,
    ca: String,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// A self-signed certificate for localhost and 127.0.0.1, as PEM (certificate, key).
pub(super) fn self_signed() -> (String, String) {
    let cert =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    (cert.cert.pem(), cert.signing_key.serialize_pem())
}

async fn serve_tls() -> Served {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed();
    std::fs::write(dir.path().join("cert.pem"), &cert).unwrap();
    std::fs::write(dir.path().join("key.pem"), &key).unwrap();
    let config =
        tls::load_config(&dir.path().join("cert.pem"), &dir.path().join("key.pem")).unwrap();
    let local =
        LocalControlPlane::open(&dir.path().join("imx.db"), LocalOptions::default()).unwrap();
    let state = AppState {
        plane: Arc::new(local),
        auth: Arc::new(OneToken),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "https://localhost:{}",
        listener.local_addr().unwrap().port()
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let options = ServeOptions {
        tls: Some(config),
        ..ServeOptions::default()
    };
    tokio::spawn(super::serve_with(listener, state, options, async move {
        let _ = stopped.await;
    }));
    Served {
        _dir: dir,
        url,
        ca: cert,
        _stop: stop,
    }
}

#[tokio::test]
async fn a_client_trusting_the_ca_talks_tls() {
    let s = serve_tls().await;
    let remote =
        RemoteControlPlane::new(&s.url, Some("imx_test".into()), Some(s.ca.as_bytes())).unwrap();
    let who = crate::auth::Principal::local_owner();
    let status = remote.status(&who).await.unwrap();
    assert_eq!(status.workflows, 0);
}

#[tokio::test]
async fn https_responses_carry_hsts_and_no_store() {
    let s = serve_tls().await;
    let http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(s.ca.as_bytes()).unwrap())
        .build()
        .unwrap();
    for (path, token) in [
        ("/api/v1/status", Some("imx_test")),
        ("/api/v1/status", None),
        ("/healthz", None),
    ] {
        let mut req = http.get(format!("{}{path}", s.url));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_string())
        };
        assert_eq!(
            header("strict-transport-security").as_deref(),
            Some(super::headers::HSTS),
            "{path}"
        );
        assert_eq!(
            header("cache-control").as_deref(),
            Some("no-store"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_client_without_the_ca_gets_a_certificate_error() {
    let s = serve_tls().await;
    let remote = RemoteControlPlane::new(&s.url, Some("imx_test".into()), None).unwrap();
    let who = crate::auth::Principal::local_owner();
    let err = remote.status(&who).await.unwrap_err();
    match &err {
        Error::Unreachable { url, reason } => {
            assert!(url.contains("localhost"), "{url}");
            assert!(reason.to_lowercase().contains("certificate"), "{reason}");
        }
        other => panic!("expected Unreachable, got {other:?}"),
    }
}

#[test]
fn bad_pem_files_are_refused_with_the_file_named() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, _) = self_signed();
    let (_, other_key) = self_signed();
    let c = dir.path().join("cert.pem");
    let k = dir.path().join("key.pem");
    std::fs::write(&c, "not a certificate").unwrap();
    std::fs::write(&k, &other_key).unwrap();
    let err = tls::load_config(&c, &k).unwrap_err().to_string();
    assert!(err.contains("cert.pem"), "{err}");
    std::fs::write(&c, &cert).unwrap();
    let err = tls::load_config(&c, &k).unwrap_err().to_string();
    assert!(err.contains("cannot use"), "{err}");
    let err = tls::load_config(&c, &dir.path().join("missing.pem"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing.pem"), "{err}");
    let _ = dir;
}
