//! The API against its own OpenAPI document: schemathesis (property-based, `--checks all`: no
//! 5xx, statuses, content types, headers and bodies as documented, invalid input refused, valid
//! input accepted) against a real `imx server` on 127.0.0.1:0 with a seeded store, once with an
//! admin token and once with a viewer's. The command line and its one allowance
//! (tests/conformance/schemathesis.toml) are explained where they are written.
//!
//! `.ci/run` installs the pinned schemathesis (tests/conformance/requirements.txt) into
//! target/schemathesis-venv; `IMX_SCHEMATHESIS` names another. Without one the test says so and
//! passes: it is a tool the machine may lack, like promtool.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use crate::env::{SLOW, TestEnv, wait_until};

/// The longest one schemathesis run may take on a loaded machine (it takes about a minute
/// on an idle one).
const RUN_LIMIT: Duration = Duration::from_secs(8 * 60);

/// Test cases per operation and phase: enough to try every boundary the document states, few
/// enough for minutes (`IMX_SCHEMATHESIS_EXAMPLES` for more).
const EXAMPLES: &str = "25";

/// The seed, so every run sends the same requests (`IMX_SCHEMATHESIS_SEED` for others).
const SEED: &str = "20261129";

fn schemathesis() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("IMX_SCHEMATHESIS") {
        return Some(PathBuf::from(path));
    }
    let venv =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("target/schemathesis-venv/bin/schemathesis");
    venv.exists().then_some(venv)
}

/// The environment's `name`, else `default`.
fn setting(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

/// `imx ARGS` on the local store, expecting success; its stdout.
fn local(env: &TestEnv, args: &[&str]) -> String {
    let out = env.run(args);
    out.expect_code(0);
    out.stdout.trim().to_string()
}

/// Run schemathesis against `url` as `token`; panic with its report unless it passes.
fn check(tool: &Path, env: &TestEnv, url: &str, token: &str, who: &str) {
    let report = env.home().join(format!("schemathesis-{who}.txt"));
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/schemathesis.toml");
    let mut child = std::process::Command::new(tool)
        .arg("--config-file")
        .arg(&config)
        .args(["run", &format!("{url}/api/v1/openapi.json")])
        .args(["--checks", "all"])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        // The caller's own credential must outlive the run: logout revokes the token presented,
        // and a revoke by name could hit it. Both have their own tests (users, api_matrix).
        .args(["--exclude-path", "/api/v1/logout"])
        .args(["--exclude-path", "/api/v1/tokens/{id}"])
        // One worker: CPython 3.11's parser is not thread-safe, and hypothesis parses source
        // to describe strategies ("AST constructor recursion depth mismatch").
        .args(["--workers", "1"])
        .args(["--seed", &setting("IMX_SCHEMATHESIS_SEED", SEED)])
        .args([
            "--max-examples",
            &setting("IMX_SCHEMATHESIS_EXAMPLES", EXAMPLES),
        ])
        .args(["--request-timeout", "20", "--generation-database", "none"])
        .arg("--no-color")
        .current_dir(env.home())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&report).unwrap())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut status = None;
    let waited = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        wait_until("schemathesis to finish", RUN_LIMIT, || {
            status = child.try_wait().unwrap();
            status.is_some()
        });
    }));
    if waited.is_err() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let text = std::fs::read_to_string(&report).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let summary = lines[lines.len().saturating_sub(20)..].join("\n");
    eprintln!("schemathesis as {who}:\n{summary}");
    assert!(
        status.is_some_and(|s| s.success()),
        "schemathesis as {who} failed ({status:?}):\n{text}"
    );
}

#[test]
fn the_api_conforms_to_its_document_for_an_admin_and_a_viewer() {
    let Some(tool) = schemathesis() else {
        eprintln!(
            "schemathesis is not installed (bash .ci/run installs it into \
             target/schemathesis-venv): skipped"
        );
        return;
    };
    let env = TestEnv::new();
    // Something of everything: workflows, a run, a backup; tokens for both roles.
    local(&env, &["init", "--admin", "alice"]);
    let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/workflows");
    local(&env, &["workflow", "apply", "-f", examples]);
    local(&env, &["workflow", "run", "flaky", "-o", "name"]);
    local(&env, &["backup", "create", "-q"]);
    let token = |role: &str| {
        let name = format!("conformance-{role}-{}", std::process::id());
        local(
            &env,
            &["token", "create", "--role", role, "--name", &name, "-q"],
        )
    };
    let (admin, viewer) = (token("admin"), token("viewer"));

    // Limits that would only slow the tool down are off; streams and long polls end within a
    // second, so no request waits for minutes.
    let server = env.spawn([
        "server",
        "--listen",
        "127.0.0.1:0",
        "--rate-limit",
        "0",
        "--ip-rate-limit",
        "0",
        "--login-rate-limit",
        "0",
        "--login-global-rate-limit",
        "0",
        "--stream-lifetime",
        "300ms",
        "--long-poll",
        "1s",
    ]);
    let mut url = String::new();
    wait_until("the server to print its URL", SLOW, || {
        url = server.stdout().trim().to_string();
        url.starts_with("http://")
    });
    check(&tool, &env, &url, &admin, "admin");
    check(&tool, &env, &url, &viewer, "viewer");
}
