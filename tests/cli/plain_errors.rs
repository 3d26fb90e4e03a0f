//! Errors that explain themselves (issue 14): a source snippet with a caret under a workflow
//! error's file:line:col, did-you-mean for enum params and role names, and plain words for a
//! server URL without a scheme or https:// to a plain-HTTP server.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::env::TestEnv;

const TYPO: &str = "name: typo
steps:
  - id: build
    run: echo build
  - id: test
    needs: [buld]
    run: echo test
";

#[test]
fn workflow_errors_show_the_source_line_and_a_caret() {
    let env = TestEnv::new();
    let file = env.write("typo.yaml", TYPO);
    let out = env.run(["workflow", "validate", "-f", file.to_str().unwrap()]);
    out.expect_code(2);
    let lines: Vec<&str> = out.stderr.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("6 |     needs: [buld]"))
        .unwrap_or_else(|| panic!("no source line:\n{}", out.stderr));
    assert_eq!(lines[at - 1], "  |", "{}", out.stderr);
    let caret = lines[at + 1];
    let col = caret.find('^').expect("a caret") - "  | ".len() + 1;
    // The error's own column is where the caret is.
    assert!(
        lines[at - 2].contains(&format!("typo.yaml:6:{col}:")),
        "caret at column {col}:\n{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("did you mean \"build\""),
        "{}",
        out.stderr
    );
}

#[test]
fn enum_params_and_roles_get_a_did_you_mean() {
    let env = TestEnv::new();
    env.apply(
        "deploy.yaml",
        "name: deploy\nparams:\n  env: { type: string, enum: [staging, prod] }\nsteps:\n  - id: a\n    noop: true\n",
    );
    let out = env.run(["workflow", "run", "deploy", "-p", "env=prd"]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("did you mean \"prod\""),
        "{}",
        out.stderr
    );
    let out = env.run(["user", "create", "carol", "--role", "opertor"]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("did you mean \"operator\""),
        "{}",
        out.stderr
    );
}

#[test]
fn urls_without_a_scheme_and_https_to_plain_http_are_explained() {
    let env = TestEnv::new();
    let out = env.run_without_store(["--server", "imx.example.com:8443", "run", "list"]);
    out.expect_code(2);
    assert!(out.stderr.contains("has no scheme"), "{}", out.stderr);
    assert!(
        out.stderr.contains("https://imx.example.com:8443"),
        "{}",
        out.stderr
    );
    let out = env.run_without_store(["context", "add", "x", "--server", "imx.example.com"]);
    out.expect_code(2);
    assert!(out.stderr.contains("has no scheme"), "{}", out.stderr);

    env.run(["init", "--admin", "boss"]).expect_code(0);
    let (_server, url) = crate::server::serve(&env, &[]);
    let https = url.replace("http://", "https://");
    let out = env
        .cmd()
        .env_remove("IMX_STORE")
        .env("IMX_TOKEN", "imx_whatever")
        .args(["--server", &https, "run", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("answered in plain HTTP, not HTTPS"),
        "{stderr}"
    );
    assert!(stderr.contains(&url), "{stderr}");
}
