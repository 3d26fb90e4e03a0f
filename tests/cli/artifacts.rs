//! Issue 13's artifacts through the real binary: a step's `artifacts:` are uploaded once it
//! succeeds (not after a failure), `inputs:` puts them in a downstream step's working directory,
//! `imx run artifacts` lists them with the files' SHA-256, `imx artifact get` round trips the
//! bytes, the per-step limit fails the step naming the file and the limit, and retention
//! (`imx artifact prune`, and `imx run prune`) deletes the bytes and audits it. Locally (the
//! agent writes straight into the folder beside the store) and through a server (streamed
//! over HTTP); and on S3 (a moto server started by the test, from the venv `.ci/run` makes
//! under target/; without it the S3 test says it skipped).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::both_modes;
use crate::env::{SLOW, TestEnv, wait_until};

both_modes!(
    artifacts_go_downstream_and_to_people,
    a_failed_step_uploads_nothing,
    over_the_step_limit_the_step_fails_naming_file_and_limit,
    retention_deletes_artifacts_and_audits_it,
    downloads_are_audited,
);

/// A server on PostgreSQL keeps artifacts where it is told (there is no folder beside a
/// database): give it one.
fn with_storage(env: TestEnv) -> TestEnv {
    if env.database().is_none() {
        return env;
    }
    let dir = env
        .home()
        .join("store/imx.db.artifacts")
        .display()
        .to_string();
    env.with_server_args(&["--artifacts", &dir])
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Two steps in folders of their own (so only `inputs:` can bring one's files to the other):
/// `build` makes a binary-ish file and a report and keeps them; `ship` takes them as inputs and
/// says what it found.
fn pipeline(env: &TestEnv) -> (PathBuf, PathBuf) {
    let a = env.home().join("work-build");
    let b = env.home().join("work-ship");
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    env.apply(
        "pipe.yaml",
        &format!(
            r#"name: pipe
steps:
  - id: build
    workdir: {a}
    run: |
      mkdir -p dist/sub
      head -c 300000 /dev/urandom > dist/app.bin
      echo built > dist/sub/notes.txt
      echo "all good" > report.txt
    artifacts: [dist/*.bin, dist/sub, report.txt]
  - id: ship
    needs: [build]
    inputs: [build]
    workdir: {b}
    run: |
      echo "sha=$(sha256sum dist/app.bin | cut -c1-64)" >> "$IMX_OUTPUT"
      echo "report=$(cat report.txt)" >> "$IMX_OUTPUT"
      echo "notes=$(cat dist/sub/notes.txt)" >> "$IMX_OUTPUT"
"#,
            a = a.display(),
            b = b.display()
        ),
    );
    (a, b)
}

fn artifacts_go_downstream_and_to_people(env: TestEnv) {
    let env = with_storage(env);
    let (a, _b) = pipeline(&env);
    let _agent = env.agent("w1", 2);
    let id = env.start("pipe", &[]);
    let run = env.finish(&id);
    assert_eq!(run["status"], "succeeded", "{run:#}");
    let made = std::fs::read(a.join("dist/app.bin")).unwrap();
    let made_sha = sha256_hex(&made);

    // ship saw build's files in its own folder.
    let ship = TestEnv::step(&run, "ship");
    assert_eq!(ship["outputs"]["sha"], made_sha.as_str(), "{ship:#}");
    assert_eq!(ship["outputs"]["report"], "all good");
    assert_eq!(ship["outputs"]["notes"], "built");

    // The list: step, path, size, sha256, created.
    let listed = env.json(["run", "artifacts", &id]);
    let listed = listed.as_array().unwrap();
    let paths: Vec<&str> = listed.iter().map(|x| x["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["dist/app.bin", "dist/sub/notes.txt", "report.txt"]);
    let app = &listed[0];
    assert_eq!(app["step_id"], "build");
    assert_eq!(app["size"], 300_000);
    assert_eq!(app["sha256"], made_sha.as_str());
    assert!(app["created_at"].as_str().unwrap().ends_with('Z'), "{app}");
    let table = env.run(["run", "artifacts", &id[..12]]);
    table.expect_code(0);
    assert!(table.stdout.contains("dist/app.bin"), "{}", table.stdout);
    assert!(table.stdout.contains("293.0 KiB"), "{}", table.stdout);

    // Download by path and by id: the same bytes.
    env.run(["artifact", "get", &id, "dist/app.bin", "--out", "got.bin"])
        .expect_code(0);
    assert_eq!(std::fs::read(env.home().join("got.bin")).unwrap(), made);
    let by_id = app["id"].as_str().unwrap();
    let raw = env
        .cmd()
        .args(["artifact", "get", &id, by_id, "--out", "-"])
        .output()
        .unwrap();
    assert_eq!(sha256_hex(&raw.stdout), made_sha);
    // The file name by default; not over an existing file unless --force.
    env.run(["artifact", "get", &id, "report.txt"])
        .expect_code(0);
    assert_eq!(
        std::fs::read_to_string(env.home().join("report.txt")).unwrap(),
        "all good\n"
    );
    env.run(["artifact", "get", &id, "report.txt"])
        .expect_error(2)
        .expect_stderr(&["already exists", "--force"]);
    env.run(["artifact", "get", &id, "report.txt", "--force"])
        .expect_code(0);
    env.run(["artifact", "get", &id, "nope.txt"])
        .expect_error(3)
        .expect_stderr(&["has no artifact \"nope.txt\""]);
}

fn a_failed_step_uploads_nothing(env: TestEnv) {
    let env = with_storage(env);
    env.apply(
        "fails.yaml",
        r#"name: fails
steps:
  - id: build
    run: |
      mkdir -p out-fail && echo x > out-fail/kept.txt
      exit 3
    artifacts: [out-fail/kept.txt]
"#,
    );
    let _agent = env.agent("w1", 1);
    let id = env.start("fails", &[]);
    let run = env.finish(&id);
    assert_eq!(run["status"], "failed");
    assert_eq!(env.json(["run", "artifacts", &id]), serde_json::json!([]));
    let out = env.run(["run", "artifacts", &id]);
    out.expect_code(0);
    assert!(out.stderr.contains("has no artifacts"), "{}", out.stderr);
}

fn over_the_step_limit_the_step_fails_naming_file_and_limit(env: TestEnv) {
    let env = with_storage(env);
    let env = env.with_var("IMX_ARTIFACT_MAX_STEP", "1KiB");
    env.apply(
        "big.yaml",
        r#"name: big
steps:
  - id: build
    run: |
      mkdir -p out-big && head -c 600 /dev/zero > out-big/a.bin && head -c 600 /dev/zero > out-big/b.bin
    artifacts: [out-big/*.bin]
  - id: nothing
    run: "true"
    artifacts: [no-such-*.txt]
"#,
    );
    let _agent = env.agent("w1", 2);
    let id = env.start("big", &[]);
    let run = env.finish(&id);
    assert_eq!(run["status"], "failed");
    let build = TestEnv::step(&run, "build");
    let error = build["error"].as_str().unwrap();
    assert!(
        error.contains("\"out-big/b.bin\"") && error.contains("1.0 KiB (1024 bytes) per step"),
        "{error}"
    );
    assert!(error.contains("IMX_ARTIFACT_MAX_STEP"), "{error}");
    let nothing = TestEnv::step(&run, "nothing");
    let error = nothing["error"].as_str().unwrap();
    assert!(
        error.contains("\"no-such-*.txt\" matched no file"),
        "{error}"
    );
    assert_eq!(env.json(["run", "artifacts", &id]), serde_json::json!([]));
}

fn retention_deletes_artifacts_and_audits_it(env: TestEnv) {
    let env = with_storage(env);
    env.apply(
        "keep.yaml",
        r#"name: keep
steps:
  - id: build
    run: mkdir -p out-keep && echo hello > out-keep/a.txt
    artifacts: [out-keep/a.txt]
"#,
    );
    let _agent = env.agent("w1", 1);
    let id = env.start("keep", &[]);
    assert_eq!(env.finish(&id)["status"], "succeeded");
    assert_eq!(
        env.json(["run", "artifacts", &id])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let folder = env.store().with_file_name("imx.db.artifacts");
    assert_eq!(files_under(&folder), 1, "{folder:?}");

    // Nothing is that old yet.
    let plan = env.json(["artifact", "prune", "--keep", "1h", "--dry-run"]);
    assert_eq!(plan["artifacts"], 0);
    std::thread::sleep(std::time::Duration::from_millis(5));
    let plan = env.json(["artifact", "prune", "--keep", "1ms", "--dry-run"]);
    assert_eq!(
        (plan["artifacts"].as_u64(), plan["bytes"].as_u64()),
        (Some(1), Some(6))
    );
    let done = env.json(["artifact", "prune", "--keep", "1ms", "--yes"]);
    assert_eq!(
        (done["artifacts"].as_u64(), done["dry_run"].as_bool()),
        (Some(1), Some(false))
    );
    assert_eq!(env.json(["run", "artifacts", &id]), serde_json::json!([]));
    assert_eq!(files_under(&folder), 0);
    let audit = env.json(["audit", "list", "--action", "artifact.prune"]);
    let records = audit.as_array().unwrap();
    assert_eq!(records.len(), 1, "{audit:#}");
    assert_eq!(records[0]["details"]["artifacts"], 1);
    assert_eq!(records[0]["outcome"], "ok");

    // `run prune` takes a run's artifacts with it.
    let id = env.start("keep", &[]);
    assert_eq!(env.finish(&id)["status"], "succeeded");
    assert_eq!(files_under(&folder), 1);
    std::thread::sleep(std::time::Duration::from_millis(5));
    env.run(["run", "prune", "--older-than", "1ms", "--yes"])
        .expect_code(0);
    assert_eq!(files_under(&folder), 0);
    let audit = env.json(["audit", "list", "--action", "artifact.prune"]);
    assert_eq!(audit.as_array().unwrap().len(), 2, "{audit:#}");
}

/// Each `imx artifact get` leaves an `artifact.get` record naming who, the run, the step and
/// the path (a failed one, nothing); `imx run artifacts` (the list) is not a download.
fn downloads_are_audited(env: TestEnv) {
    let env = with_storage(env);
    env.apply(
        "dl.yaml",
        r#"name: dl
steps:
  - id: build
    run: mkdir -p out-dl && echo hello > out-dl/a.txt
    artifacts: [out-dl/a.txt]
"#,
    );
    let _agent = env.agent("w1", 1);
    let id = env.start("dl", &[]);
    assert_eq!(env.finish(&id)["status"], "succeeded");
    env.run(["run", "artifacts", &id]).expect_code(0);
    env.run(["artifact", "get", &id, "nope.txt"])
        .expect_error(3);
    let none = env.json(["audit", "list", "--action", "artifact.get"]);
    assert_eq!(none, serde_json::json!([]));

    env.run(["artifact", "get", &id[..12], "out-dl/a.txt", "--out", "-"])
        .expect_code(0);
    let audit = env.json(["audit", "list", "--action", "artifact.get"]);
    let records = audit.as_array().unwrap();
    assert_eq!(records.len(), 1, "{audit:#}");
    let r = &records[0];
    assert_eq!(r["outcome"], "ok", "{r:#}");
    assert_eq!(r["target"], format!("{id}/build"), "{r:#}");
    assert_eq!(r["details"]["run"], id.as_str(), "{r:#}");
    assert_eq!(r["details"]["step"], "build", "{r:#}");
    assert_eq!(r["details"]["path"], "out-dl/a.txt", "{r:#}");
    assert_eq!(r["details"]["size"], 6, "{r:#}");
    let me = env.json(["whoami"]);
    assert_eq!(r["actor"], me["name"], "{r:#} {me:#}");
    // The text table names it too.
    let table = env.run(["audit", "list", "--action", "artifact.get"]);
    table.expect_code(0);
    assert!(table.stdout.contains("artifact.get"), "{}", table.stdout);
}

/// Files (not folders) under `dir`, at any depth; 0 when it is missing.
fn files_under(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| {
            if e.file_type().unwrap().is_dir() {
                files_under(&e.path())
            } else {
                1
            }
        })
        .sum()
}

#[test]
fn inputs_must_name_upstream_steps_with_artifacts() {
    let env = TestEnv::bare();
    let file = env.write(
        "bad.yaml",
        r#"name: bad
steps:
  - id: a
    run: "true"
  - id: b
    run: "true"
    artifacts: [out/*.txt]
  - id: c
    needs: [a]
    inputs: [a, b, zz]
    run: "true"
  - id: d
    http: {url: "http://127.0.0.1:9/"}
    artifacts: ["../x"]
"#,
    );
    let out = env.run(["workflow", "validate", "-f", file.to_str().unwrap()]);
    out.expect_error(2);
    for part in [
        "bad.yaml:10:14: step \"c\" inputs \"a\", which has no `artifacts:`",
        "bad.yaml:10:17: step \"c\" inputs \"b\", which it does not come after",
        "bad.yaml:10:20: step \"c\" inputs unknown step \"zz\"",
        "bad.yaml:14:17: step \"d\" artifacts: the pattern \"../x\" has an empty, `.` or `..` component",
        "bad.yaml:14:16: step \"d\": an http step makes no files",
    ] {
        assert!(out.stderr.contains(part), "{part}\n---\n{}", out.stderr);
    }
}

/// moto's S3 server, killed when dropped.
struct Moto(Child);

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn moto_python() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/moto-venv/bin/python");
    p.exists().then_some(p)
}

/// `python -c script` in the moto venv against `endpoint`; its stdout.
fn boto(python: &Path, endpoint: &str, script: &str) -> String {
    let out = Command::new(python)
        .args(["-c", script])
        .env("ENDPOINT", endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn artifacts_live_in_s3_through_a_server() {
    let Some(python) = moto_python() else {
        eprintln!(
            "moto is not installed (bash .ci/run installs it into target/moto-venv): skipped"
        );
        return;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let moto = Moto(
        Command::new(python.with_file_name("moto_server"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let endpoint = format!("http://127.0.0.1:{port}");
    wait_until("moto to listen", SLOW, || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    boto(
        &python,
        &endpoint,
        "import boto3, os; boto3.client('s3', endpoint_url=os.environ['ENDPOINT']).create_bucket(Bucket='imx-art')",
    );
    let env = TestEnv::remote()
        .with_var("AWS_ENDPOINT_URL", &endpoint)
        .with_var("AWS_ACCESS_KEY_ID", "testing")
        .with_var("AWS_SECRET_ACCESS_KEY", "testing")
        .with_var("AWS_REGION", "us-east-1")
        .with_var("AWS_ALLOW_HTTP", "true")
        .with_server_args(&["--artifacts", "s3://imx-art/ci/artifacts"]);
    let (a, _b) = pipeline(&env);
    let _agent = env.agent("w1", 2);
    let id = env.start("pipe", &[]);
    let run = env.finish(&id);
    assert_eq!(run["status"], "succeeded", "{run:#}");
    let made = std::fs::read(a.join("dist/app.bin")).unwrap();
    let ship = TestEnv::step(&run, "ship");
    assert_eq!(ship["outputs"]["sha"], sha256_hex(&made).as_str());

    // The bytes are in the bucket, under the prefix; none beside the store.
    let keys = boto(
        &python,
        &endpoint,
        "import boto3, os\n\
         r = boto3.client('s3', endpoint_url=os.environ['ENDPOINT']).list_objects_v2(Bucket='imx-art')\n\
         print('\\n'.join(sorted(o['Key'] for o in r.get('Contents', []))))",
    );
    let keys: Vec<&str> = keys.lines().collect();
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert!(
        keys.iter()
            .all(|k| k.starts_with(&format!("ci/artifacts/{id}/"))),
        "{keys:?}"
    );
    assert_eq!(
        files_under(&env.store().with_file_name("imx.db.artifacts")),
        0
    );

    env.run(["artifact", "get", &id, "dist/app.bin", "--out", "got.bin"])
        .expect_code(0);
    assert_eq!(std::fs::read(env.home().join("got.bin")).unwrap(), made);
    let listed: Value = env.json(["run", "artifacts", &id]);
    assert_eq!(listed[0]["sha256"], sha256_hex(&made).as_str());

    std::thread::sleep(std::time::Duration::from_millis(5));
    env.json(["artifact", "prune", "--keep", "1ms", "--yes"]);
    let keys = boto(
        &python,
        &endpoint,
        "import boto3, os\n\
         r = boto3.client('s3', endpoint_url=os.environ['ENDPOINT']).list_objects_v2(Bucket='imx-art')\n\
         print(len(r.get('Contents', [])))",
    );
    assert_eq!(keys.trim(), "0");
    drop(moto);
}
