//! The CLI's transport safety: plain `http://` to a host that is not loopback is refused (exit 2)
//! before any connection, unless `--insecure` or the context's `insecure = true` allows it, and
//! then every command warns; loopback (127.0.0.0/8, ::1, localhost) needs nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{IpAddr, TcpListener, UdpSocket};

use crate::env::TestEnv;

/// TEST-NET-1: documentation only, never a real server.
const TEST_NET: &str = "http://192.0.2.1:7443";

/// This machine's address on its default route, if it has one that is not loopback (found
/// without sending a packet: connecting a UDP socket only picks the source address).
fn own_address() -> Option<IpAddr> {
    let socket = UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

#[test]
fn plain_http_beyond_loopback_is_refused_before_any_connection() {
    let env = TestEnv::new();
    let out = env.run_without_store(["--server", TEST_NET, "run", "list"]);
    out.expect_code(2);
    out.expect_stderr(&["plain HTTP", "192.0.2.1", "loopback", "--insecure"]);
    assert!(!out.stderr.contains("cannot reach"), "{}", out.stderr);
    // Logging in would send a password: refused the same way, and no token is written.
    let login = env
        .cmd()
        .env_remove("IMX_STORE")
        .args(["login", "--server", TEST_NET, "--user", "alice"])
        .arg("--password-stdin")
        .write_stdin("a password\n")
        .output()
        .unwrap();
    assert_eq!(login.status.code(), Some(2));
    // An agent would send its token.
    env.run_without_store(["--server", TEST_NET, "agent", "run", "--name", "a1"])
        .expect_code(2);

    // Nothing connects: a listener on this machine's own (non-loopback) address sees no one.
    if let Some(ip) = own_address() {
        let listener = TcpListener::bind((ip, 0)).unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let out = env.run_without_store(["--server", url.as_str(), "status"]);
        out.expect_code(2);
        match listener.accept() {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            other => panic!("the refused client connected: {other:?}"),
        }
    } else {
        eprintln!("no non-loopback address: skipped the listener check");
    }
}

#[test]
fn insecure_warns_each_time_and_then_connects() {
    let env = TestEnv::new();
    let out = env.run_without_store(["--server", TEST_NET, "--insecure", "run", "list"]);
    // Allowed, so it tries, and nothing answers there.
    out.expect_code(6);
    out.expect_stderr(&["warning:", "plain HTTP", "192.0.2.1"]);
    assert!(out.stderr.contains("cannot reach"), "{}", out.stderr);

    // A context remembers `insecure = true` (given with --insecure), and warns on every use.
    env.run_without_store(["context", "add", "lab", "--server", TEST_NET])
        .expect_code(2);
    env.run_without_store(["--insecure", "context", "add", "lab", "--server", TEST_NET])
        .expect_code(0);
    let config = std::fs::read_to_string(env.home().join(".config/imx/config.toml")).unwrap();
    assert!(config.contains("insecure = true"), "{config}");
    let shown = env.run_without_store(["context", "list"]);
    assert!(shown.stdout.contains("(insecure)"), "{}", shown.stdout);
    for _ in 0..2 {
        let out = env.run_without_store(["--context", "lab", "run", "list"]);
        out.expect_code(6);
        out.expect_stderr(&["warning:", "plain HTTP"]);
    }
    // A context without it is refused.
    env.run_without_store([
        "context",
        "add",
        "tls",
        "--server",
        "https://192.0.2.1:7443",
    ])
    .expect_code(0);
    let config = std::fs::read_to_string(env.home().join(".config/imx/config.toml")).unwrap();
    assert_eq!(config.matches("insecure").count(), 1, "{config}");
}

#[test]
fn loopback_needs_no_flag_and_gets_no_warning() {
    let env = TestEnv::new();
    // Port 1: nothing listens, so each fails to connect (exit 6) without a refusal or warning.
    for url in [
        "http://127.0.0.1:1",
        "http://127.1.2.3:1",
        "http://localhost:1",
        "http://[::1]:1",
    ] {
        let out = env.run_without_store(["--server", url, "status"]);
        out.expect_code(6);
        assert!(!out.stderr.contains("warning"), "{url}: {}", out.stderr);
        assert!(!out.stderr.contains("plain HTTP"), "{url}: {}", out.stderr);
    }
}
