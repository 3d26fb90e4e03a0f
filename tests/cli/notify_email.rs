//! The email channel against a real SMTP server started by the test: aiosmtpd (from the venv
//! `.ci/run` makes under target/) with STARTTLS and AUTH required, trusting the test's own
//! certificate through `--smtp-ca`. Without the venv the test says it skipped.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::env::{SLOW, TestEnv, wait_until};

const STORE_KEY: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9";

fn python() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/smtp-venv/bin/python");
    p.exists().then_some(p)
}

/// The SMTP server, killed when dropped.
struct Smtp(Child);

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn mails(dir: &Path) -> Vec<String> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect()
}

#[test]
fn email_goes_out_over_starttls_with_the_password_from_stdin() {
    let Some(python) = python() else {
        eprintln!(
            "aiosmtpd is not installed (bash .ci/run installs it into target/smtp-venv): skipped"
        );
        return;
    };
    let env = TestEnv::new().with_var("IMX_STORE_KEY", STORE_KEY);
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let cert_pem = env.write("smtp/cert.pem", &cert.cert.pem());
    let key_pem = env.write("smtp/key.pem", &cert.signing_key.serialize_pem());
    let out = env.home().join("smtp/mail");
    std::fs::create_dir_all(&out).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/notify/smtp_server.py");
    let mut child = Command::new(python)
        .arg(script)
        .arg(port.to_string())
        .args([&cert_pem, &key_pem])
        .args(["imx", "s3cret-pw"])
        .arg(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut ready = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut ready,
    )
    .unwrap();
    let _smtp = Smtp(child);
    assert_eq!(ready.trim(), "ready");

    let smtp = format!("smtp://imx@localhost:{port}");
    env.run_stdin(
        &[
            "notify",
            "channel",
            "add",
            "oncall",
            "--email",
            "oncall@example.com",
            "--smtp",
            &smtp,
            "--from",
            "imx@example.com",
            "--smtp-ca",
            cert_pem.to_str().unwrap(),
            "--secret-stdin",
        ],
        "s3cret-pw\n",
    )
    .expect_code(0);
    let list = env.run(["notify", "channel", "list", "-o", "json"]);
    assert!(!list.stdout.contains("s3cret-pw"), "{}", list.stdout);
    let test = env.run(["notify", "channel", "test", "oncall"]);
    test.expect_code(0);
    assert!(test.stderr.contains("SMTP 250"), "{}", test.stderr);
    let got = mails(&out);
    assert_eq!(got.len(), 1);
    assert!(
        got[0].contains("Subject: [imx] imx test message from imx"),
        "{}",
        got[0]
    );
    assert!(got[0].contains("To: oncall@example.com"), "{}", got[0]);

    // A failed run, by rule, through the agent's delivery loop.
    env.run([
        "notify",
        "rule",
        "add",
        "--on",
        "failed",
        "--channel",
        "oncall",
    ])
    .expect_code(0);
    env.apply(
        "fail.yaml",
        "name: nightly\nsteps:\n  - id: load\n    run: |\n      echo 'disk quota exceeded' >&2\n      exit 1\n",
    );
    let _agent = env.agent("w1", 1);
    let run = env.start("nightly", &[]);
    wait_until("the failure's email", SLOW, || mails(&out).len() == 2);
    let mail = &mails(&out)[1];
    assert!(
        mail.contains(&format!("nightly run {} failed", &run[..12])),
        "{mail}"
    );
    assert!(mail.contains("failing step: load"), "{mail}");
    assert!(mail.contains("disk quota exceeded"), "{mail}");
}
