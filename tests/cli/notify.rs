//! `imx notify`: channels, rules and deliveries through the real binary, with receivers the
//! test starts — an HTTP server that checks each Standard Webhooks signature itself, and an
//! SMTP server (aiosmtpd in the venv `.ci/run` makes) — and a server killed between a run's end
//! and its notification that delivers once restarted.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use crate::both_modes;
use crate::env::{SLOW, TestEnv, wait_until};

/// The store key every command and server of these tests is given.
pub const STORE_KEY: &str = "5f0e3ad7c1b2a4d6e8f00112233445566778899aabbccddeeff0011223344556";
pub const SECRET: &str = "whsec_c2VjcmV0LXNpZ25pbmcta2V5LWZvci10ZXN0cw==";

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Hit {
    pub id: String,
    pub signed: bool,
    pub body: Value,
}

/// An HTTP receiver on 127.0.0.1 that checks the `webhook-signature` of each POST with its own
/// HMAC and answers 200 (401 when the signature is wrong).
pub struct Receiver {
    pub url: String,
    pub hits: Arc<Mutex<Vec<Hit>>>,
}

impl Receiver {
    pub fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let hits: Arc<Mutex<Vec<Hit>>> = Arc::default();
        let seen = hits.clone();
        let key = STANDARD.decode(&SECRET["whsec_".len()..]).unwrap();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut headers = Vec::new();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some((k, v)) = line.trim_end().split_once(':') {
                        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
                    }
                }
                let h = |n: &str| {
                    headers
                        .iter()
                        .find(|(k, _)| k == n)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default()
                };
                let len: usize = h("content-length").parse().unwrap_or(0);
                let mut body = vec![0u8; len];
                if reader.read_exact(&mut body).is_err() {
                    continue;
                }
                let (id, ts) = (h("webhook-id"), h("webhook-timestamp"));
                let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key).unwrap();
                mac.update(format!("{id}.{ts}.").as_bytes());
                mac.update(&body);
                let want = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
                let signed = h("webhook-signature") == want;
                seen.lock().unwrap().push(Hit {
                    id,
                    signed,
                    body: serde_json::from_slice(&body).unwrap_or(Value::Null),
                });
                let status = if signed { "200 OK" } else { "401 Unauthorized" };
                let _ = conn.write_all(
                    format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                        .as_bytes(),
                );
            }
        });
        Receiver { url, hits }
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }
}

const FAILS: &str = "name: build\nsteps:\n  - id: compile\n    run: |\n      echo compiling\n      echo 'error - widget broke' >&2\n      exit 3\n";

pub fn add_channel(env: &TestEnv, rx: &Receiver) {
    env.run_stdin(
        &[
            "notify",
            "channel",
            "add",
            "ops",
            "--webhook",
            &rx.url,
            "--secret-stdin",
        ],
        &format!("{SECRET}\n"),
    )
    .expect_code(0);
}

/// A failed run is delivered once to a webhook channel, signed; the secret is never shown.
fn a_failed_run_notifies_a_signed_webhook(env: TestEnv) {
    let env = env.with_var("IMX_STORE_KEY", STORE_KEY);
    let rx = Receiver::start();
    add_channel(&env, &rx);
    env.run([
        "notify",
        "rule",
        "add",
        "--on",
        "failed",
        "--channel",
        "ops",
    ])
    .expect_code(0);
    // A rule for a channel that does not exist is refused (exit 3).
    env.run([
        "notify",
        "rule",
        "add",
        "--on",
        "failed",
        "--channel",
        "nope",
    ])
    .expect_error(3);
    let channels = env.run(["notify", "channel", "list", "-o", "json"]);
    channels.expect_code(0);
    assert!(
        channels.stdout.contains("\"has_secret\": true"),
        "{}",
        channels.stdout
    );
    assert!(
        !channels.stdout.contains(&SECRET[6..20]),
        "{}",
        channels.stdout
    );
    env.apply("build.yaml", FAILS);
    let _agent = env.agent("w1", 1);
    let run = env.start("build", &[]);
    wait_until("the notification", SLOW, || !rx.hits().is_empty());
    let hits = rx.hits();
    assert!(hits[0].signed, "{hits:?}");
    assert_eq!(hits[0].body["type"], "run.failed");
    let ev = &hits[0].body["data"]["events"][0];
    assert_eq!(ev["run_id"], run.as_str());
    assert_eq!(ev["data"]["failed_step"], "compile");
    assert!(
        ev["data"]["log_tail"]
            .to_string()
            .contains("error - widget broke"),
        "{ev}"
    );
    let deliveries = env.json(["notify", "deliveries"]);
    wait_until("the attempt to be recorded", SLOW, || {
        env.json(["notify", "deliveries"])[0]["state"] == "delivered"
    });
    assert_eq!(deliveries.as_array().map(Vec::len), Some(1), "{deliveries}");
    let d = &env.json(["notify", "deliveries"])[0];
    assert_eq!(d["attempts"][0]["detail"], "HTTP 200", "{d}");
    assert_eq!(
        d["id"],
        hits[0].id.as_str(),
        "the webhook-id is the delivery's id"
    );
    // The audit trail has the channel, never its secret.
    let audit = env.run(["audit", "list", "-o", "json"]);
    assert!(
        audit.stdout.contains("notify.channel.add"),
        "{}",
        audit.stdout
    );
    assert!(!audit.stdout.contains(&SECRET[6..20]), "{}", audit.stdout);
    // Exactly once.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(rx.hits().len(), 1);
    // A test message, and removing a channel a rule still uses is refused.
    env.run(["notify", "channel", "test", "ops"]).expect_code(0);
    assert_eq!(rx.hits().len(), 2);
    env.run(["notify", "channel", "remove", "ops"])
        .expect_error(5);
}

both_modes!(a_failed_run_notifies_a_signed_webhook);

#[test]
fn secrets_come_from_stdin_only_and_bad_channels_are_refused() {
    let env = TestEnv::new().with_var("IMX_STORE_KEY", STORE_KEY);
    // Slack's URL is the secret: without --secret-stdin it is a usage error.
    env.run(["notify", "channel", "add", "chat", "--slack"])
        .expect_error(2);
    env.run_stdin(
        &[
            "notify",
            "channel",
            "add",
            "mail",
            "--email",
            "ops@example.com",
            "--smtp",
            "smtp://u:pw@mail.example.com",
        ],
        "",
    )
    .expect_error(2);
    env.run_stdin(
        &[
            "notify",
            "channel",
            "add",
            "chat",
            "--slack",
            "--secret-stdin",
        ],
        "https://hooks.slack.example/services/T000/B000/XXXX\n",
    )
    .expect_code(0);
    let list = env.run(["notify", "channel", "list", "-o", "json"]);
    assert!(!list.stdout.contains("XXXX"), "{}", list.stdout);
    // Another key cannot open what this one sealed: a clear error, exit 4.
    let other = "0".repeat(64);
    let mut cmd = env.cmd();
    cmd.env("IMX_STORE_KEY", &other)
        .args(["notify", "channel", "test", "chat"]);
    let out = cmd.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("wrong store key"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn stopped(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(") ").map(|(_, rest)| rest.starts_with('T')))
        .unwrap_or(false)
}

/// Start `imx server` on `store` (a file or a database URL), optionally stopping at a fault.
fn server(env: &TestEnv, store: &str, fault: Option<&str>) -> (crate::env::Background, String) {
    let mut cmd = env.local_cmd(&[]);
    cmd.env("IMX_STORE_KEY", STORE_KEY);
    if let Some(point) = fault {
        cmd.env("IMX_TEST_FAULT", point);
    }
    let bg = env.spawn_with(cmd, ["--store", store, "server", "--listen", "127.0.0.1:0"]);
    let mut url = String::new();
    wait_until("the server to print its URL", SLOW, || {
        url = bg.stdout().trim().to_string();
        url.starts_with("http://")
    });
    (bg, url)
}

/// kill -9 the server after a run ended and before its notification went out: the outbox is
/// durable, and the restarted server delivers it, once.
fn killed_between_failure_and_delivery(env: &TestEnv, store: &str) {
    let rx = Receiver::start();
    let imx = |args: &[&str]| {
        let mut all = vec!["--store", store];
        all.extend_from_slice(args);
        env.run(all)
    };
    let with_stdin = |args: &[&str], stdin: &str| {
        let mut all = vec!["--store", store];
        all.extend_from_slice(args);
        env.run_stdin(&all, stdin)
    };
    with_stdin(
        &[
            "notify",
            "channel",
            "add",
            "ops",
            "--webhook",
            &rx.url,
            "--secret-stdin",
        ],
        &format!("{SECRET}\n"),
    )
    .expect_code(0);
    imx(&[
        "notify",
        "rule",
        "add",
        "--on",
        "cancelled",
        "--channel",
        "ops",
    ])
    .expect_code(0);
    let file = env.write(
        "slow.yaml",
        "name: slow\nsteps:\n  - id: wait\n    run: sleep 60\n",
    );
    imx(&["workflow", "apply", "-f", file.to_str().unwrap()]).expect_code(0);
    let (mut first, _) = server(env, store, Some("notify.outbox.waiting"));
    // No agent: the run is cancelled from the CLI, which delivers nothing itself.
    let run = imx(&["workflow", "run", "slow", "-q"]);
    run.expect_code(0);
    let run = run.stdout.trim().to_string();
    imx(&["run", "cancel", &run]).expect_code(0);
    let pid = first.pid();
    wait_until("the server to stop before delivering", SLOW, || {
        if let Some(status) = first.try_exit() {
            panic!("the server exited ({status}):\n{}", first.stderr());
        }
        stopped(pid)
    });
    first.signal(nix::sys::signal::Signal::SIGKILL);
    first.wait_exit(SLOW);
    assert!(rx.hits().is_empty(), "nothing went out before the kill");
    let (_second, _) = server(env, store, None);
    wait_until("the restarted server to deliver", SLOW, || {
        !rx.hits().is_empty()
    });
    std::thread::sleep(Duration::from_millis(500));
    let hits = rx.hits();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert!(hits[0].signed);
    assert_eq!(hits[0].body["type"], "run.cancelled");
    assert_eq!(hits[0].body["data"]["events"][0]["run_id"], run.as_str());
}

#[test]
fn a_server_killed_before_delivering_delivers_once_restarted() {
    let env = TestEnv::new().with_var("IMX_STORE_KEY", STORE_KEY);
    env.run(["init", "--admin", "admin", "-q"]).expect_code(0);
    let store = env.store().display().to_string();
    killed_between_failure_and_delivery(&env, &store);
}

#[test]
fn a_server_killed_before_delivering_delivers_once_restarted_on_postgres() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let Some(db) = rt.block_on(crate::postgres::testdb::TestDb::get()) else {
        return;
    };
    let env = TestEnv::new().with_var("IMX_STORE_KEY", STORE_KEY);
    let url = db.url();
    env.run(["init", "--admin", "admin", "--database", &url, "-q"])
        .expect_code(0);
    killed_between_failure_and_delivery(&env, &url);
}
