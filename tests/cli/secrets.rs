//! Issue 13's secrets through the real binary: `imx secret set|rotate|list|delete|rekey`, the
//! roles (admin manages, operator uses, viewer sees names), and the canary: one secret used in
//! an `env:` value, an `http` header and body and a `run:` command, echoed by the step in the
//! clear, in base64 and split across two writes — the step gets the value, and it appears in no
//! table, log line, output, audit record, backup, copy of the store, server or agent log, or CLI
//! output. Locally, through a server, and through a server on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::env::{Mode, Outcome, TestEnv};

/// The store key every environment here is given (a database needs one named).
const STORE_KEY: &str = "5b1d3c5e7a9b0d2f4a6c8e0b1d3f5a7c9e1b3d5f7a9c0e2b4d6f8a0c2e4b6d8a";
const NEW_KEY: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9";

fn keyed(env: TestEnv) -> TestEnv {
    env.with_var("IMX_STORE_KEY", STORE_KEY)
}

/// What an HTTP step sent: its `Authorization` header and body.
#[derive(Debug, Clone, Default)]
struct Seen {
    auth: String,
    body: String,
}

/// An HTTP server on 127.0.0.1 that records each request and answers 200 with the
/// `Authorization` header it got echoed in the body (so the step's output holds the value).
fn receiver() -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/deploy", listener.local_addr().unwrap());
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let hits = seen.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let (mut auth, mut len) = (String::new(), 0usize);
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((k, v)) = line.trim_end().split_once(':') {
                    match k.trim().to_ascii_lowercase().as_str() {
                        "authorization" => auth = v.trim().to_string(),
                        "content-length" => len = v.trim().parse().unwrap_or(0),
                        _ => {}
                    }
                }
            }
            let mut body = vec![0u8; len];
            if reader.read_exact(&mut body).is_err() {
                continue;
            }
            let reply = serde_json::json!({ "echo": auth }).to_string();
            hits.lock().unwrap().push(Seen {
                auth,
                body: String::from_utf8_lossy(&body).into_owned(),
            });
            let _ = conn.write_all(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
                    reply.len()
                )
                .as_bytes(),
            );
        }
    });
    (url, seen)
}

/// The step's workflow: the canary in an env value, a header, a body and a command.
fn workflow(url: &str) -> String {
    format!(
        r#"name: leaky
steps:
  - id: call
    http:
      method: POST
      url: {url}
      headers:
        Authorization: "Bearer {{{{ secrets.CANARY }}}}"
      body: "token={{{{ secrets.CANARY }}}}"
  - id: echo
    needs: [call]
    env:
      TOKEN: "{{{{ secrets.CANARY }}}}"
    run: |
      echo "env: $TOKEN"
      echo arg: {{{{ secrets.CANARY }}}}
      echo "quoted: {{{{ secrets.CANARY }}}}"
      printf '%s' "$TOKEN" | base64 | tr -d '\n'; echo
      echo "$TOKEN" | base64
      half=$(( $(printf '%s' "$TOKEN" | wc -c) / 2 ))
      printf 'split: %s' "$(printf '%s' "$TOKEN" | cut -c1-$half)"; sleep 0.3
      printf '%s\n' "$(printf '%s' "$TOKEN" | cut -c$(( half + 1 ))-)"
      test "$TOKEN" = {{{{ secrets.CANARY }}}} && echo same-in-run
      echo "leak=$TOKEN" >> "$IMX_OUTPUT"
      echo "to stderr: $TOKEN" >&2
"#
    )
}

/// Every file under `dir`, with its bytes.
fn files(dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else if let Ok(bytes) = std::fs::read(&p) {
            out.push((p.display().to_string(), bytes));
        }
    }
}

/// What the canary may look like in a leak: the clear value, its distinctive core, base64.
fn forms(canary: &str, core: &str) -> Vec<String> {
    vec![
        canary.to_string(),
        core.to_string(),
        STANDARD.encode(canary),
        STANDARD.encode(format!("{canary}\n")),
    ]
}

fn assert_clean(what: &str, text: &[u8], forms: &[String]) {
    for f in forms {
        assert!(
            !text.windows(f.len()).any(|w| w == f.as_bytes()),
            "the canary ({f}) leaked into {what}"
        );
    }
}

/// The canary: used everywhere, leaked nowhere.
fn the_canary_never_leaks(env: TestEnv) {
    let env = keyed(env);
    let core = format!("{:016x}{:016x}", rand_u64(), rand_u64());
    // Quotes, a dollar and a space: shell quoting must keep it one word, unexpanded.
    let canary = format!("cnry-{core} it's $HOME");
    let forms = forms(&canary, &core);
    let mut outputs: Vec<(String, Outcome)> = Vec::new();

    let set = env.run_stdin(&["secret", "set", "CANARY"], &canary);
    set.expect_code(0);
    outputs.push(("secret set".into(), set));
    let (url, seen) = receiver();
    env.apply("leaky.yaml", &workflow(&url));
    let _agent = env.agent("a1", 2);
    let id = env.start("leaky", &[]);
    let run = env.finish(&id);
    assert_eq!(run["status"], "succeeded", "{run:#}");

    // The step got the value: in the header, the body and the command.
    let hits = seen.lock().unwrap().clone();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].auth, format!("Bearer {canary}"));
    assert_eq!(hits[0].body, format!("token={canary}"));
    let logs = env.run(["run", "logs", &id]);
    logs.expect_code(0);
    for want in [
        "env: ***",
        "arg: ***",
        "quoted: ***",
        "split: ***",
        "same-in-run",
        "to stderr: ***",
    ] {
        assert!(
            logs.stdout.contains(want),
            "{want:?} not in:\n{}",
            logs.stdout
        );
    }
    let echo = TestEnv::step(&run, "echo");
    assert_eq!(echo["outputs"]["leak"], "***", "{echo:#}");
    let call = TestEnv::step(&run, "call");
    assert!(
        call["outputs"]["body"]
            .as_str()
            .unwrap()
            .contains("Bearer ***"),
        "{call:#}"
    );
    outputs.push(("run logs".into(), logs));

    // Rotation: the next run gets the new value.
    let rotated = format!("cnry2-{core}-rotated");
    let rot = env.run_stdin(&["secret", "rotate", "CANARY"], &rotated);
    rot.expect_code(0);
    outputs.push(("secret rotate".into(), rot));
    let id2 = env.start("leaky", &[]);
    assert_eq!(env.finish(&id2)["status"], "succeeded");
    assert_eq!(
        seen.lock().unwrap().last().unwrap().auth,
        format!("Bearer {rotated}")
    );

    // Everything people and programs can read.
    for args in [
        vec!["run", "show", id.as_str(), "-o", "json"],
        vec!["run", "show", id2.as_str(), "-o", "json"],
        vec!["run", "logs", id2.as_str()],
        vec!["run", "list", "-o", "json"],
        vec!["secret", "list", "-o", "json"],
        vec!["secret", "list", "-o", "wide"],
        vec!["workflow", "show", "leaky", "-o", "json"],
        vec!["audit", "list", "-o", "json"],
        vec!["backup", "create"],
    ] {
        let out = env.run(&args);
        out.expect_code(0);
        outputs.push((args.join(" "), out));
    }
    // A copy of the store (on PostgreSQL: its tables, dumped into a SQLite file).
    let copy = env.home().join("copy.db");
    let from = match env.database() {
        Some(url) => url,
        None => env.store().display().to_string(),
    };
    let out = env.run([
        "store",
        "copy",
        "--from",
        &from,
        "--to",
        copy.to_str().unwrap(),
    ]);
    out.expect_code(0);
    outputs.push(("store copy".into(), out));
    let mut all_forms = forms.clone();
    all_forms.extend(self::forms(&rotated, &format!("{core}-rotated")));
    for (what, out) in &outputs {
        assert_clean(what, out.stdout.as_bytes(), &all_forms);
        assert_clean(what, out.stderr.as_bytes(), &all_forms);
    }
    // Every file: the store and its WAL, the copy, backups, server and agent logs.
    let mut found = Vec::new();
    files(env.home(), &mut found);
    assert!(found.iter().any(|(p, _)| p.ends_with("copy.db")));
    for (path, bytes) in &found {
        assert_clean(path, bytes, &all_forms);
    }
    // The audit trail names the secret, never its value.
    let audit = env.json(["audit", "list"]);
    let text = audit.to_string();
    assert!(
        text.contains("secret.set") && text.contains("secret.rotate"),
        "{text}"
    );
}

fn rand_u64() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    (t as u64) ^ (u64::from(std::process::id()) << 32) ^ 0x9e37_79b9_7f4a_7c15
}

/// set / list / rotate / delete, scopes, and what each says when something is wrong.
fn secret_commands(env: TestEnv) {
    let env = keyed(env);
    // Never from an argument.
    env.run(["secret", "set", "TOKEN", "value"]).expect_code(2);
    env.run_stdin(&["secret", "set", "TOKEN"], "")
        .expect_code(2)
        .expect_stderr(&["empty"]);
    env.run_stdin(&["secret", "set", "bad-name"], "v1-value")
        .expect_error(2)
        .expect_stderr(&["cannot name a secret"]);
    env.run_stdin(&["secret", "rotate", "TOKEN"], "v1-value")
        .expect_error(3)
        .expect_stderr(&["no secret \"TOKEN\" to rotate"]);
    env.run_stdin(&["secret", "set", "TOKEN"], "global-value\n")
        .expect_code(0);
    let file = env.write("db.txt", "workflow-value\n");
    env.run([
        "secret",
        "set",
        "TOKEN",
        "--workflow",
        "deploy",
        "--from-file",
        file.to_str().unwrap(),
    ])
    .expect_code(0);
    let list = env.json(["secret", "list"]);
    let rows: Vec<(String, String, i64)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_string(),
                s["workflow"].as_str().unwrap_or("-").to_string(),
                s["version"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("TOKEN".into(), "-".into(), 1),
            ("TOKEN".into(), "deploy".into(), 1)
        ]
    );
    assert!(!list.to_string().contains("value"), "{list}");
    env.run_stdin(&["secret", "rotate", "TOKEN", "-w", "deploy"], "v2-value")
        .expect_code(0);
    let own = env.json(["secret", "list", "--workflow", "deploy"]);
    assert_eq!(own[0]["version"], 2, "{own}");
    assert_eq!(own.as_array().unwrap().len(), 1);
    let human = env.run(["secret", "list"]);
    human.expect_code(0);
    assert!(human.stdout.contains("workflow deploy") && human.stdout.contains("global"));
    env.run(["secret", "delete", "TOKEN", "--workflow", "deploy"])
        .expect_code(0);
    env.run(["secret", "delete", "TOKEN", "--workflow", "deploy"])
        .expect_error(3);
    assert_eq!(env.json(["secret", "list"]).as_array().unwrap().len(), 1);
}

/// A step whose secret is not set fails, naming it; a workflow's `secrets.X` is checked for its
/// form at apply, not for being set.
fn a_missing_secret_fails_the_step(env: TestEnv) {
    let env = keyed(env);
    env.apply(
        "uses.yaml",
        "name: uses\nsteps:\n  - id: go\n    run: echo {{ secrets.NOT_SET }}\n",
    );
    let bad = env.write(
        "bad.yaml",
        "name: bad\nsteps:\n  - id: go\n    run: echo {{ secrets.A.b }}\n",
    );
    env.run(["workflow", "apply", "-f", bad.to_str().unwrap()])
        .expect_error(2)
        .expect_stderr(&["bad.yaml:4:", "a secret is a string"]);
    let _agent = env.agent("a1", 1);
    let id = env.start("uses", &[]);
    let run = env.finish(&id);
    assert_eq!(run["status"], "failed", "{run:#}");
    let step = TestEnv::step(&run, "go");
    let err = step["error"].as_str().unwrap_or_default();
    assert!(err.contains("secret \"NOT_SET\" is not set"), "{step:#}");
}

/// A rekey seals the secrets under the new key: steps still get them with the new key, and a
/// process given the old key is refused.
fn rekey_keeps_secrets_usable(env: TestEnv) {
    let env = keyed(env);
    env.run_stdin(&["secret", "set", "CANARY"], "rekey-canary-value")
        .expect_code(0);
    let key = env.write("new.key", &format!("{NEW_KEY}\n"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let done = env.json(["secret", "rekey", "--new-key-file", key.to_str().unwrap()]);
    assert_eq!(done["secrets"], 1, "{done}");
    let new_env = env.with_var("IMX_STORE_KEY", NEW_KEY);
    new_env
        .run_stdin(&["secret", "rotate", "CANARY"], "after-rekey")
        .expect_code(0);
    if new_env.mode() == Mode::Local {
        let old = new_env.with_var("IMX_STORE_KEY", STORE_KEY);
        old.run_stdin(&["secret", "rotate", "CANARY"], "old-key")
            .expect_error(4)
            .expect_stderr(&["wrong store key"]);
    }
}

crate::both_modes!(
    the_canary_never_leaks,
    secret_commands,
    a_missing_secret_fails_the_step,
    rekey_keeps_secrets_usable,
);
