//! `imx help TOPIC`: `imx help` lists the topics; `workflow` documents the file format with an
//! example that is valid, `environment` names every IMX_* variable the binary reads, and
//! `contexts` says where contexts and logins are kept.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::Path;

use crate::env::TestEnv;

const TOPICS: [&str; 6] = [
    "exit-codes",
    "templates",
    "output",
    "workflow",
    "environment",
    "contexts",
];

#[test]
fn help_lists_every_topic_and_each_one_prints() {
    let env = TestEnv::bare();
    let out = env.run(["help"]);
    out.expect_code(0);
    let listed = out
        .stdout
        .split("Help topics (imx help TOPIC):\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no topics in `imx help`:\n{}", out.stdout));
    for topic in TOPICS {
        assert!(
            listed.lines().any(|l| l.trim_start().starts_with(topic)),
            "{topic} not listed:\n{listed}"
        );
        let page = env.run(["help", topic]);
        page.expect_code(0);
        assert!(
            page.stdout.len() > 100,
            "imx help {topic}:\n{}",
            page.stdout
        );
        let help_page = env.run(["help", "--help"]);
        assert!(
            help_page.stdout.contains(&format!("imx help {topic}")),
            "{topic}"
        );
    }
    // `imx help workflow apply` is still the command's help.
    let cmd = env.run(["help", "workflow", "apply"]);
    cmd.expect_code(0);
    assert!(
        cmd.stdout.contains("Usage: imx workflow apply"),
        "{}",
        cmd.stdout
    );
}

#[test]
fn the_workflow_topic_names_every_key_and_its_example_is_valid() {
    let env = TestEnv::bare();
    let out = env.run(["help", "workflow"]);
    out.expect_code(0);
    for key in [
        "name",
        "description",
        "params",
        "timeout",
        "fail_fast",
        "concurrency",
        "on_conflict",
        "defaults",
        "steps",
        "id",
        "needs",
        "run",
        "http",
        "noop",
        "retry",
        "agent",
        "env",
        "workdir",
        "if",
        "when",
        "always",
        "failure",
        "condition false",
        "is defined",
        "expect_status",
        "max_delay",
        "jitter",
        "labels",
        "matrix",
        "foreach",
        "max_parallel",
        "max_instances",
        "matrix.NAME",
        "{{ item }}",
    ] {
        assert!(out.stdout.contains(key), "{key} missing:\n{}", out.stdout);
    }
    let example: String = out
        .stdout
        .lines()
        .skip_while(|l| *l != "Example:")
        .skip(1)
        .take_while(|l| l.is_empty() || l.starts_with("  "))
        .map(|l| format!("{}\n", l.strip_prefix("  ").unwrap_or(l)))
        .collect();
    assert!(example.contains("steps:"), "{example}");
    env.write("example.yaml", &example);
    env.run(["workflow", "validate", "-f", "example.yaml"])
        .expect_code(0);
}

/// Every `IMX_*` name in the binary's sources (outside tests) that it reads is documented.
#[test]
fn the_environment_topic_names_every_variable_imx_reads() {
    let env = TestEnv::bare();
    let out = env.run(["help", "environment"]);
    out.expect_code(0);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut names = BTreeSet::new();
    for dir in ["src", "commands"] {
        scan(&root.join(dir), &mut names);
    }
    // Test hooks, and the names steps are given rather than imx reads, written as examples.
    let not_read = ["IMX_TEST_FAULT", "IMX_TEST_PG_URL", "IMX_PASSWORD"];
    let missing: Vec<&String> = names
        .iter()
        .filter(|n| !not_read.contains(&n.as_str()))
        .filter(|n| !n.starts_with("IMX_PARAM_") && !n.starts_with("IMX_OUT_"))
        .filter(|n| !out.stdout.contains(n.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "not in `imx help environment`: {missing:?}"
    );
    for n in [
        "IMX_STORE",
        "IMX_TOKEN",
        "IMX_KEYRING",
        "IMX_LEASE",
        "IMX_OUTPUT",
    ] {
        assert!(names.contains(n), "the scan found no {n}: {names:?}");
    }
}

/// `"IMX_..."` string literals in the non-test Rust files under `dir`.
fn scan(dir: &Path, names: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if file != "tests" {
                scan(&path, names);
            }
            continue;
        }
        if !file.ends_with(".rs") || file.starts_with("tests") || file == "testdb.rs" {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for part in code.split("\"IMX_").skip(1) {
            let name: String = part
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            if part[name.len()..].starts_with('"') && !name.is_empty() {
                names.insert(format!("IMX_{name}"));
            }
        }
    }
}

#[test]
fn the_contexts_topic_says_where_contexts_and_logins_are_kept() {
    let env = TestEnv::bare();
    let out = env.run(["help", "contexts"]);
    out.expect_code(0);
    for part in [
        "imx context add",
        "imx login",
        "imx auth switch",
        "config.toml",
        "logins.toml",
        "credentials.toml",
        "keyring",
        "IMX_TOKEN",
        "IMX_CONTEXT",
    ] {
        assert!(out.stdout.contains(part), "{part} missing:\n{}", out.stdout);
    }
}
