//! `imx workflow ...` behaviour that needs no store.

use crate::env::TestEnv;

#[test]
fn validate_a_bad_file_exits_2_naming_file_line_and_column() {
    let env = TestEnv::bare();
    let path = env.write(
        "bad.yaml",
        "name: deploy\nsteps:\n  - id: build\n    run: make\n  - id: test\n    needs: [buld]\n    run: make test\n",
    );
    let out = env.run(["workflow", "validate", "-f", "bad.yaml"]);
    out.expect_code(2);
    assert!(out.stderr.starts_with("error: "), "{}", out.stderr);
    assert!(
        out.stderr.contains("bad.yaml:6:"),
        "expected file:line:col in:\n{}",
        out.stderr
    );
    assert!(out.stderr.contains("buld"), "{}", out.stderr);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    assert!(!env.store().exists(), "validate must not create a store");
    drop(path);
}

#[test]
fn validate_a_missing_file_exits_2() {
    let env = TestEnv::bare();
    let out = env.run(["workflow", "validate", "-f", "nope.yaml"]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("nope.yaml: no such file"),
        "{}",
        out.stderr
    );
}
