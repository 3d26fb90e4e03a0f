//! `-v` prints each request to a server (method, path, status, time); `-vv` adds the headers,
//! never the token (issue 14).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::env::TestEnv;

#[test]
fn verbose_traces_requests_and_hides_the_token() {
    let env = TestEnv::remote();
    let token = env.admin_token().to_string();
    let v = env.run(["-v", "run", "list"]);
    v.expect_code(0);
    let line = v
        .stderr
        .lines()
        .find(|l| l.starts_with("* GET /api/v1/runs"))
        .unwrap_or_else(|| panic!("no trace line:\n{}", v.stderr));
    assert!(line.contains("→ 200 OK in "), "{line}");
    assert!(line.ends_with("ms"), "{line}");
    assert!(!v.stderr.contains("> "), "no headers at -v: {}", v.stderr);

    let vv = env.run(["-vv", "run", "list"]);
    vv.expect_code(0);
    assert!(
        vv.stderr.contains("> authorization: Bearer [redacted]"),
        "{}",
        vv.stderr
    );
    assert!(
        vv.stderr.contains("< content-type: application/json"),
        "{}",
        vv.stderr
    );
    assert!(
        !vv.stderr.contains(&token),
        "the token leaked: {}",
        vv.stderr
    );

    // -q silences the trace; without -v there is none.
    assert!(
        !env.run(["-v", "-q", "run", "list"])
            .stderr
            .contains("* GET")
    );
    assert!(!env.run(["run", "list"]).stderr.contains("* GET"));
}
