//! Help, version, usage errors and the exit-code topic.

use crate::env::TestEnv;

#[test]
fn no_arguments_prints_help_and_exits_2() {
    let env = TestEnv::new();
    let out = env.run::<[&str; 0], &str>([]);
    out.expect_code(2);
    assert!(out.stderr.contains("Usage: imx"), "{}", out.stderr);
    assert!(out.stderr.contains("workflow"), "{}", out.stderr);
}

#[test]
fn unknown_command_exits_2() {
    let env = TestEnv::new();
    let out = env.run(["frobnicate"]);
    out.expect_code(2);
    assert!(out.stderr.contains("frobnicate"), "{}", out.stderr);
    assert!(out.stdout.is_empty());
}

#[test]
fn bad_flag_value_exits_2() {
    let env = TestEnv::new();
    let out = env.run(["run", "list", "--since", "yesterday"]);
    out.expect_code(2);
    assert!(out.stderr.contains("RFC 3339"), "{}", out.stderr);
    let out = env.run(["workflow", "run", "x", "-p", "novalue"]);
    out.expect_code(2);
    assert!(out.stderr.contains("KEY=VALUE"), "{}", out.stderr);
    let out = env.run(["run", "wait", "x", "--wait-timeout", "soon"]);
    out.expect_code(2);
    assert!(out.stderr.contains("invalid duration"), "{}", out.stderr);
}

#[test]
fn help_flag_exits_0_with_examples() {
    let env = TestEnv::new();
    let out = env.run(["--help"]);
    out.expect_code(0);
    assert!(out.stdout.contains("Examples:"), "{}", out.stdout);
    assert!(out.stdout.contains("Exit codes:"), "{}", out.stdout);
}

#[test]
fn version_prints_the_package_version() {
    let env = TestEnv::new();
    let out = env.run(["--version"]);
    out.expect_code(0);
    assert_eq!(
        out.stdout.trim(),
        format!("imx {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn help_exit_codes_documents_every_code() {
    let env = TestEnv::new();
    let out = env.run(["help", "exit-codes"]);
    out.expect_code(0);
    for code in ["0", "1", "2", "3", "4", "5", "6", "10", "11", "12", "13"] {
        assert!(
            out.stdout
                .lines()
                .any(|l| l.trim_start().starts_with(&format!("{code} "))),
            "code {code} missing:\n{}",
            out.stdout
        );
    }
    assert!(out.stdout.contains("cannot reach"), "{}", out.stdout);
    let line = |code: &str| {
        out.stdout
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{code} ")))
            .unwrap_or_default()
            .to_string()
    };
    // 12 is the run's own timeout, 13 the wait giving up: two codes, two meanings.
    assert!(line("12").contains("timed out"), "{}", out.stdout);
    assert!(!line("12").contains("wait itself"), "{}", out.stdout);
    assert!(line("13").contains("goes on"), "{}", out.stdout);
}

#[test]
fn help_for_a_command_path() {
    let env = TestEnv::new();
    let out = env.run(["help", "run", "list"]);
    out.expect_code(0);
    assert!(out.stdout.contains("--since"), "{}", out.stdout);
    let out = env.run(["help", "nonsense"]);
    out.expect_code(2);
    assert!(out.stderr.contains("exit-codes"), "{}", out.stderr);
}

#[test]
fn destructive_commands_refuse_without_a_terminal_or_yes() {
    // Needs the store to find the workflow first; until the local plane lands, the command
    // fails before confirming. Either way it must not succeed and must not hang.
    let env = TestEnv::new();
    let out = env.run(["workflow", "delete", "nope"]);
    assert_ne!(out.code, 0, "{out:?}");
}

#[test]
fn help_output_documents_the_json_conventions() {
    let env = TestEnv::new();
    let out = env.run(["help", "output"]);
    out.expect_code(0);
    for part in ["RFC 3339", "*_ms", "present when zero", "NDJSON"] {
        assert!(out.stdout.contains(part), "{part} missing:\n{}", out.stdout);
    }
    // The top help (and so the man page) says the same.
    let top = env.run(["--help"]);
    assert!(top.stdout.contains("NDJSON"), "{}", top.stdout);
}
