//! `imx help TOPIC`: `imx help` lists the topics; `workflow` documents the file format with an
//! example that is valid, `environment` names every IMX_* variable the binary reads, and
//! `contexts` says where contexts and logins are kept.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::Path;

use crate::env::TestEnv;

const TOPICS: [&str; 7] = [
    "exit-codes",
    "templates",
    "output",
    "workflow",
    "environment",
    "contexts",
    "secrets",
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

/// The lines of the section under `heading` in a help text: a line `HEADING:` or
/// `HEADING (...):`, up to the next line that is not indented. `None` if there is no such
/// heading.
fn section<'a>(text: &'a str, heading: &str) -> Option<Vec<&'a str>> {
    let mut lines = text.lines();
    lines.find(|l| *l == format!("{heading}:") || l.starts_with(&format!("{heading} (")))?;
    Some(
        lines
            .take_while(|l| l.is_empty() || l.starts_with(' '))
            .collect(),
    )
}

/// The names a section's entry lines document: each line indented by exactly two spaces names
/// what stands before its first run of two spaces (`  start, end   RFC 3339 times` names
/// `start` and `end`; `  noop: true   a step ...` names `noop`; `  join(sep)  ...` `join`).
fn entries(lines: &[&str]) -> Vec<String> {
    lines
        .iter()
        .filter_map(|l| l.strip_prefix("  "))
        .filter(|l| !l.starts_with(' ') && !l.is_empty())
        .flat_map(|l| {
            let term = l.split("  ").next().unwrap_or_default();
            term.split(", ")
                .map(|t| {
                    t.trim()
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
                        .collect::<String>()
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The reference documents every key the parser accepts, under its section's heading (the
/// parser's key lists are `imx::spec::documented_keys()`; a unit test in src/spec/keys.rs
/// checks that list is complete). A key added to the parser fails here until the reference
/// names it.
#[test]
fn the_workflow_topic_documents_every_key_the_parser_accepts_under_its_section() {
    let env = TestEnv::bare();
    let out = env.run(["help", "workflow"]);
    out.expect_code(0);
    let mut problems = Vec::new();
    for s in imx::spec::documented_keys() {
        let Some(lines) = section(&out.stdout, s.heading) else {
            problems.push(format!(
                "no section {:?} in `imx help workflow`: add a heading line `{}:` (or `{} (...):`) \
                 to WORKFLOW in commands/help_topics.rs, then a line per key ({})",
                s.heading,
                s.heading,
                s.heading,
                s.keys.join(", ")
            ));
            continue;
        };
        let named = entries(&lines);
        for key in s.keys {
            if !named.iter().any(|n| n == key) {
                problems.push(format!(
                    "key `{key}` (from {}) is not documented under {:?} in `imx help workflow`: \
                     add a line `  {key:<14}what it does` to that section of WORKFLOW in \
                     commands/help_topics.rs (indented by two spaces; details on lines indented \
                     further)",
                    s.source, s.heading
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Every template variable, filter, test and function templates can use is documented.
#[test]
fn the_workflow_topic_documents_every_template_variable_filter_test_and_function() {
    let env = TestEnv::bare();
    let out = env.run(["help", "workflow"]);
    out.expect_code(0);
    let vars = entries(&section(&out.stdout, "Template variables").unwrap());
    for v in [
        "params.NAME",
        "steps.ID.outputs.KEY",
        "run.id",
        "workflow.name",
        "workflow.version",
        "secrets.NAME",
    ] {
        assert!(vars.iter().any(|n| n == v), "{v} not in {vars:?}");
    }
    for (heading, names) in [
        ("Filters", imx::spec::TEMPLATE_FILTERS),
        ("Tests", imx::spec::TEMPLATE_TESTS),
        ("Functions", imx::spec::TEMPLATE_FUNCTIONS),
    ] {
        let lines = section(&out.stdout, heading)
            .unwrap_or_else(|| panic!("no {heading} section:\n{}", out.stdout));
        let named = entries(&lines);
        for name in names {
            assert!(
                named.iter().any(|n| n == name),
                "{heading}: `{name}` is available in templates but not documented under \
                 {heading:?} in `imx help workflow` (commands/help_topics.rs WORKFLOW)"
            );
        }
    }
}

/// The reference's own example is valid.
#[test]
fn the_workflow_topic_example_is_valid() {
    let env = TestEnv::bare();
    let out = env.run(["help", "workflow"]);
    out.expect_code(0);
    for key in [
        "on_conflict",
        "always",
        "failure",
        "condition false",
        "is defined",
        "artifacts",
        "inputs",
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

#[test]
fn the_section_reader_reads_headings_and_entry_lines() {
    let text = "Intro\n\nStep keys (each step):\n  id            the id\n  noop: true    \
                nothing\n                more text\n  start, end    times\n    e.g. x: 1\n\
                Next:\n  other  x\n";
    let lines = section(text, "Step keys").unwrap();
    assert_eq!(entries(&lines), ["id", "noop", "start", "end"]);
    assert!(section(text, "Step").is_none());
    assert_eq!(entries(&section(text, "Next").unwrap()), ["other"]);
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

/// `imx help secrets` says how secrets are kept, used, scoped, permitted, masked and rekeyed.
#[test]
fn the_secrets_topic_says_how_secrets_are_kept_used_and_masked() {
    let env = TestEnv::bare();
    let out = env.run(["help", "secrets"]);
    out.expect_code(0);
    for part in [
        "imx secret set",
        "imx secret rotate",
        "imx secret list",
        "imx secret delete",
        "imx secret rekey",
        "--from-file",
        "--workflow",
        "{{ secrets.NAME }}",
        "AES-256-GCM",
        "store key",
        "keyring",
        "0600",
        "IMX_STORE_KEY",
        "--store-key-file",
        "admin",
        "viewer",
        "operator",
        "***",
        "base64",
        "URL-encoded",
        "16 KiB",
        "shorter than 4",
    ] {
        assert!(out.stdout.contains(part), "{part} missing:\n{}", out.stdout);
    }
    // `imx help secret set` is still the command's help.
    let cmd = env.run(["help", "secret", "set"]);
    cmd.expect_code(0);
    assert!(
        cmd.stdout.contains("Usage: imx secret set"),
        "{}",
        cmd.stdout
    );
}
