//! The server under hostile clients, through the real binary: a flood of logins keeps memory
//! flat and tokens answering; half-sent requests, silent and idle connections are closed in
//! time; under a low open-file limit the connection cap refuses the excess and the server keeps
//! serving; `--insecure-listen` warns at start.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::env::{SLOW, TestEnv, wait_until};
use crate::server::serve;

/// A store with an admin; returns the admin's token.
fn with_admin(env: &TestEnv) -> String {
    let init = env.run(["init", "--admin", "alice"]);
    init.expect_code(0);
    init.stdout.trim().to_string()
}

/// A line of `/proc/PID/status` in KiB (`VmRSS`, `VmHWM`: the peak).
fn memory_kib(pid: i32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

/// The `q`-quantile of `samples` (sorted in place).
fn quantile(samples: &mut [Duration], q: f64) -> Duration {
    samples.sort();
    let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
    samples[i]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_flood_keeps_memory_flat_and_tokens_answering() {
    let env = TestEnv::new();
    let admin = with_admin(&env);
    // No login rate limits here: the bound on concurrent hashes alone must hold.
    let (server, url) = serve(
        &env,
        &[
            "--login-rate-limit",
            "0",
            "--login-global-rate-limit",
            "0",
            "--ip-rate-limit",
            "0",
        ],
    );
    let before = memory_kib(server.pid(), "VmRSS");

    // 200 bad logins at once, each on its own connection.
    let flood = reqwest::Client::new();
    let logins: Vec<_> = (0..200)
        .map(|i| {
            let req = flood
                .post(format!("{url}/api/v1/login"))
                .json(&serde_json::json!({ "user": format!("nobody{i}"), "password": "not the password" }));
            tokio::spawn(async move { req.send().await })
        })
        .collect();
    let flood_done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));

    // Meanwhile, a token holder reads runs every 25 ms.
    let probe = {
        let done = flood_done.clone();
        let url = url.clone();
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut latencies = Vec::new();
            let mut every = tokio::time::interval(Duration::from_millis(25));
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                every.tick().await;
                let started = Instant::now();
                let resp = http
                    .get(format!("{url}/api/v1/runs"))
                    .bearer_auth(&admin)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status(), 200);
                resp.bytes().await.unwrap();
                latencies.push(started.elapsed());
            }
            latencies
        })
    };
    let started = Instant::now();
    let (mut refused, mut checked) = (0, 0);
    for login in logins {
        let resp = login.await.unwrap().expect("every login gets an answer");
        match resp.status().as_u16() {
            401 => checked += 1,
            503 => {
                assert!(resp.headers().contains_key("retry-after"), "{resp:?}");
                refused += 1;
            }
            other => panic!("a bad login answered {other}"),
        }
    }
    let flood_time = started.elapsed();
    flood_done.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut latencies = probe.await.unwrap();
    let peak = memory_kib(server.pid(), "VmHWM");
    let (p50, p90, max) = (
        quantile(&mut latencies, 0.5),
        quantile(&mut latencies, 0.9),
        quantile(&mut latencies, 1.0),
    );
    eprintln!(
        "login flood: 200 bad logins in {flood_time:.1?} ({checked} checked, {refused} refused \
         503); server RSS {} MiB before, peak {} MiB; GET /api/v1/runs meanwhile: {} requests, \
         p50 {p50:.1?}, p90 {p90:.1?}, max {max:.1?}",
        before / 1024,
        peak / 1024,
        latencies.len(),
    );
    assert!(checked > 0, "no login was checked at all");
    assert!(
        peak < 300 * 1024,
        "the server's memory peaked at {} MiB",
        peak / 1024
    );
    assert!(!latencies.is_empty());
    assert!(
        p90 < Duration::from_millis(100),
        "9 in 10 token requests took up to {p90:?} during the flood"
    );
}

/// Read from `stream` until the server closes it; how long that took, and what it sent.
fn until_closed(stream: &mut TcpStream) -> (Duration, Vec<u8>) {
    stream.set_read_timeout(Some(SLOW)).unwrap();
    let started = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!(
                "the server kept the connection open for {:?} ({e})",
                started.elapsed()
            ),
        }
    }
    (started.elapsed(), got)
}

#[test]
fn half_sent_requests_and_silent_or_idle_connections_are_closed() {
    let env = TestEnv::new();
    with_admin(&env);
    let (_server, url) = serve(&env, &["--header-timeout", "1s", "--idle-timeout", "3s"]);
    let addr = url.trim_start_matches("http://").to_string();

    // Half a request line: closed after the header timeout.
    let mut half = TcpStream::connect(&addr).unwrap();
    half.write_all(b"GET /api/v1/ru").unwrap();
    let (took, _) = until_closed(&mut half);
    assert!(took >= Duration::from_millis(900), "closed after {took:?}");

    // A connection that never sends a byte: the same.
    let mut silent = TcpStream::connect(&addr).unwrap();
    let (took, sent) = until_closed(&mut silent);
    assert!(took >= Duration::from_millis(900), "closed after {took:?}");
    assert!(
        sent.is_empty() || sent.starts_with(b"HTTP/1.1 408"),
        "{sent:?}"
    );

    // A kept-alive connection after its answer: idle, so closed after the (longer) idle
    // timeout, not the header timeout.
    let mut idle = TcpStream::connect(&addr).unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: imx\r\n\r\n")
        .unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    idle.set_read_timeout(Some(SLOW)).unwrap();
    while !answer.ends_with(b"\r\n\r\nok") {
        let n = idle.read(&mut buf).unwrap();
        assert!(n > 0, "closed before answering: {answer:?}");
        answer.extend_from_slice(&buf[..n]);
    }
    let (took, _) = until_closed(&mut idle);
    assert!(took >= Duration::from_secs(2), "closed after {took:?}");
}

/// `GET /healthz` on a new connection: the status line's code (503 when the server refuses the
/// connection over its cap).
fn health_status(addr: &str) -> String {
    let mut probe = TcpStream::connect(addr).unwrap();
    probe
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: imx\r\nConnection: close\r\n\r\n")
        .unwrap();
    let (_, answer) = until_closed(&mut probe);
    String::from_utf8_lossy(&answer)
        .split(' ')
        .nth(1)
        .unwrap_or_default()
        .to_string()
}

#[test]
fn a_client_that_never_reads_its_response_does_not_hold_the_connection() {
    let env = TestEnv::new();
    let admin = with_admin(&env);
    // A workflow of about 24 MB, more than the kernel's socket buffers on both ends hold.
    let big = "x".repeat(24 << 20);
    let file = env.write(
        "big.yaml",
        &format!("name: big\nsteps:\n  - id: a\n    run: echo {big}\n"),
    );
    // Parsing and storing 24 MB takes seconds, and many times that on a loaded machine.
    let applied = env
        .cmd()
        .args(["workflow", "apply", "-f", file.to_str().unwrap()])
        .timeout(Duration::from_secs(300))
        .output()
        .unwrap();
    crate::env::Outcome::of(&applied).expect_code(0);
    // One connection at a time: while the reader holds it, everyone else is refused.
    let (_server, url) = serve(&env, &["--max-connections", "1", "--write-timeout", "2s"]);
    let addr = url.trim_start_matches("http://").to_string();
    wait_until("the server to answer", SLOW, || {
        health_status(&addr) == "200"
    });

    // The reader reads the status line (the last connection may not have given its slot back
    // yet: then it is refused, and tries again), then nothing more.
    let request = format!(
        "GET /api/v1/workflows/big HTTP/1.1\r\nHost: imx\r\nAuthorization: Bearer {admin}\r\n\r\n"
    );
    let mut reader = None;
    wait_until("the reader's request to be answered", SLOW, || {
        let mut conn = TcpStream::connect(&addr).unwrap();
        conn.write_all(request.as_bytes()).unwrap();
        conn.set_read_timeout(Some(SLOW)).unwrap();
        let mut status = [0u8; 12];
        let ok = conn.read_exact(&mut status).is_ok() && &status == b"HTTP/1.1 200";
        if ok {
            reader = Some(conn);
        }
        ok
    });
    let mut reader = reader.unwrap();
    wait_until("the reader to hold the only connection", SLOW, || {
        health_status(&addr) == "503"
    });
    let stalled = Instant::now();
    // Never read: the server gives up on the write and frees the connection.
    wait_until(
        "the server to close the connection of a client that stopped reading",
        Duration::from_secs(30),
        || health_status(&addr) == "200",
    );
    assert!(
        stalled.elapsed() >= Duration::from_secs(1),
        "freed after {:?}, before the write timeout",
        stalled.elapsed()
    );
    // What the reader gets is cut short: the connection ended mid-response.
    let (_, got) = until_closed(&mut reader);
    assert!(
        got.len() < (24 << 20),
        "the whole response arrived: {} bytes",
        got.len()
    );
}

#[test]
fn over_the_connection_cap_clients_are_refused_and_the_server_keeps_serving() {
    if std::process::Command::new("prlimit")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("prlimit (util-linux) is not installed: skipped");
        return;
    }
    let env = TestEnv::new();
    with_admin(&env);
    // 256 open files, as in the report: the default cap is 192.
    let server = env.spawn_with(
        env.std_cmd_via(&["prlimit", "--nofile=256:256", "--"]),
        [
            "server",
            "--listen",
            "127.0.0.1:0",
            "--header-timeout",
            "5s",
        ],
    );
    let mut url = String::new();
    wait_until("the server to print its URL", SLOW, || {
        url = server.stdout().trim().to_string();
        url.starts_with("http://")
    });
    let stderr = server.stderr();
    assert!(
        stderr.contains("at most 192 connections") && stderr.contains("open-file limit 256"),
        "{stderr}"
    );
    let addr = url.trim_start_matches("http://").to_string();

    // 300 silent connections: the cap's worth wait for their header timeout, the rest are
    // told 503 and closed at once.
    let mut conns: Vec<(TcpStream, Vec<u8>, bool)> = (0..300)
        .map(|_| {
            let s = TcpStream::connect(&addr).unwrap();
            s.set_nonblocking(true).unwrap();
            (s, Vec::new(), false)
        })
        .collect();
    let mut buf = [0u8; 4096];
    wait_until(
        "every connection to be closed",
        Duration::from_secs(60),
        || {
            for (s, got, closed) in conns.iter_mut().filter(|c| !c.2) {
                match s.read(&mut buf) {
                    Ok(0) => *closed = true,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(_) => *closed = true,
                }
            }
            conns.iter().all(|c| c.2)
        },
    );
    let refused: Vec<&Vec<u8>> = conns
        .iter()
        .map(|c| &c.1)
        .filter(|got| got.starts_with(b"HTTP/1.1 503"))
        .collect();
    assert!(
        refused.len() >= 50,
        "only {} of 300 connections were refused with 503",
        refused.len()
    );
    let first = String::from_utf8_lossy(refused[0]);
    assert!(
        first.contains("retry-after: 1") && first.contains("too many open connections"),
        "{first}"
    );

    // The server serves on.
    let mut fresh = TcpStream::connect(&addr).unwrap();
    fresh
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: imx\r\nConnection: close\r\n\r\n")
        .unwrap();
    let (_, answer) = until_closed(&mut fresh);
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
}

#[test]
fn insecure_listen_warns_at_start() {
    let env = TestEnv::new();
    with_admin(&env);
    let server = env.spawn(["server", "--listen", "0.0.0.0:0", "--insecure-listen"]);
    wait_until("the server to print its URL", SLOW, || {
        server.stdout().starts_with("http://")
    });
    let stderr = server.stderr();
    assert!(
        stderr.contains("warning:") && stderr.contains("plain HTTP on 0.0.0.0"),
        "{stderr}"
    );
    // Loopback needs no such warning.
    let (quiet, _) = serve(&env, &[]);
    assert!(!quiet.stderr().contains("warning"), "{}", quiet.stderr());
}

/// `/healthz`, `/readyz` and `/metrics` are limited per address (20 a second by default, a
/// burst of 40); `--ops-rate-limit 0` lifts it (probes from one load balancer address, the
/// server bench's reference load).
#[test]
fn probes_are_limited_per_address_unless_ops_rate_limit_is_zero() {
    for (args, limited) in [(&[][..], true), (&["--ops-rate-limit", "0"][..], false)] {
        let env = TestEnv::remote().with_server_args(args);
        env.run(["status"]).expect_code(0);
        let addr = env.url().trim_start_matches("http://").to_string();
        let codes: Vec<String> = (0..100).map(|_| health_status(&addr)).collect();
        let refused = codes.iter().filter(|c| *c == "429").count();
        assert_eq!(refused > 0, limited, "{args:?}: {codes:?}");
        assert!(codes.iter().all(|c| c == "200" || c == "429"), "{codes:?}");
    }
}
