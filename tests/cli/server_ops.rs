//! The server's operational side, through the real binary: HTTPS with `--tls-cert`/`--tls-key`
//! (trusted through a context's `--ca`, refused with a certificate error without it) and the
//! listen-address rules.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use nix::sys::signal::Signal;

use crate::env::TestEnv;
use crate::server::{remote, serve};

/// A store with an admin; returns the admin's token.
fn with_admin(env: &TestEnv) -> String {
    let init = env.run(["init", "--admin", "alice"]);
    init.expect_code(0);
    init.stdout.trim().to_string()
}

/// A self-signed certificate for 127.0.0.1 and localhost, written as cert.pem and key.pem.
fn certificate(env: &TestEnv) -> (String, String) {
    let cert =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    let c = env.write("cert.pem", &cert.cert.pem());
    let k = env.write("key.pem", &cert.signing_key.serialize_pem());
    (
        c.to_str().unwrap().to_string(),
        k.to_str().unwrap().to_string(),
    )
}

#[test]
fn https_is_served_and_trusted_only_through_the_ca() {
    let env = TestEnv::new().with_var("IMX_KEYRING", "off");
    let admin = with_admin(&env);
    let (cert, key) = certificate(&env);
    let (mut server, url) = serve(&env, &["--tls-cert", &cert, "--tls-key", &key]);
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");

    let out = remote(&env, &url, &admin, &["status"]);
    out.expect_code(6);
    assert!(out.stderr.contains(&url), "{}", out.stderr);
    assert!(
        out.stderr.to_lowercase().contains("certificate"),
        "{}",
        out.stderr
    );

    env.run_without_store(["context", "add", "tls", "--server", &url, "--ca", &cert])
        .expect_code(0);
    let out = env
        .cmd()
        .env_remove("IMX_STORE")
        .env("IMX_TOKEN", &admin)
        .args(["--context", "tls", "status"])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    server.signal(Signal::SIGTERM);
    assert!(server.wait_exit(Duration::from_secs(20)).success());
}

#[test]
fn listen_rules_and_bad_tls_files_are_usage_errors() {
    let env = TestEnv::new();
    with_admin(&env);
    let (cert, key) = certificate(&env);
    env.run(["server", "--listen", "127.0.0.1:0", "--tls-cert", &cert])
        .expect_code(2);
    let out = env.run(["server", "--listen", "0.0.0.0:0"]);
    out.expect_code(2);
    assert!(out.stderr.contains("--insecure-listen"), "{}", out.stderr);
    let out = env.run([
        "server",
        "--listen",
        "127.0.0.1:0",
        "--tls-cert",
        &key,
        "--tls-key",
        &key,
    ]);
    out.expect_code(2);
    assert!(out.stderr.contains("key.pem"), "{}", out.stderr);
    let _ = cert;
}

#[test]
fn requests_are_logged_as_json_to_daily_files_without_tokens() {
    let env = TestEnv::new().with_var("IMX_KEYRING", "off");
    let admin = with_admin(&env);
    let logs = env.home().join("logs");
    let logs_arg = logs.to_str().unwrap().to_string();
    let (mut server, url) = serve(&env, &["--log-format", "json", "--log-dir", &logs_arg]);
    remote(&env, &url, &admin, &["status"]).expect_code(0);
    remote(&env, &url, "imx_not_a_token", &["status"]).expect_code(4);
    // A dashboard poll: logged at DEBUG only, so not at the default level.
    {
        use std::io::{Read, Write};
        let mut conn = std::net::TcpStream::connect(url.trim_start_matches("http://")).unwrap();
        write!(
            conn,
            "GET /api/v1/dashboard/overview HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {admin}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        let _ = conn.read_to_string(&mut answer);
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
    server.signal(Signal::SIGTERM);
    assert!(server.wait_exit(Duration::from_secs(20)).success());

    let files: Vec<_> = std::fs::read_dir(&logs).unwrap().collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let path = files[0].as_ref().unwrap().path();
    assert!(
        path.file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("imx-server.log."),
        "{path:?}"
    );
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        !text.contains(&admin) && !text.contains("imx_not_a_token"),
        "{text}"
    );
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let status: Vec<_> = lines
        .iter()
        .filter(|l| l["fields"]["route"] == "/api/v1/status")
        .collect();
    assert_eq!(status.len(), 2, "{text}");
    assert_eq!(status[0]["fields"]["status"], 200);
    assert_eq!(status[0]["fields"]["principal"], "user:alice");
    assert_eq!(status[0]["fields"]["method"], "GET");
    assert!(status[0]["fields"]["latency_us"].is_u64(), "{text}");
    assert!(
        !text.contains("/api/v1/dashboard/overview"),
        "dashboard polls are DEBUG: {text}"
    );
    assert_eq!(status[1]["fields"]["status"], 401);
    assert_eq!(status[1]["fields"]["principal"], "-");
}
