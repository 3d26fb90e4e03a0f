//! The files under `deploy/` (systemd units, Kubernetes manifests) only use `imx` subcommands,
//! flags and IMX_* variables this binary has: every `ExecStart=`, every `command:`/`args:` list
//! and every `imx …` line in their comments is parsed and checked against the binary's help.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use crate::env::TestEnv;

/// Every file under `deploy/`.
fn deploy_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The `imx` invocations in `text`: their arguments, without the program.
fn invocations(text: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        let comment = line.trim_start_matches('#').trim();
        if let Some(cmd) = line.strip_prefix("ExecStart=") {
            let words: Vec<String> = cmd.split_whitespace().map(String::from).collect();
            if words.first().is_some_and(|w| w.ends_with("/imx")) {
                found.push(words[1..].to_vec());
            }
        } else if let Some(list) = line.strip_prefix("args:") {
            // Kept on one line in JSON flow form, so it can be read here.
            let args: Vec<String> = serde_json::from_str(list.trim())
                .unwrap_or_else(|e| panic!("args: must be a one-line JSON list ({e}): {line}"));
            found.push(args);
        } else if line.starts_with("#  ") && comment.starts_with("imx ") {
            // A command shown in a comment is indented: `#   imx init …`.
            let words = comment
                .split_whitespace()
                .skip(1)
                .take_while(|w| !w.starts_with('#'))
                .map(|w| w.trim_matches('"').to_string())
                .collect();
            found.push(words);
        }
    }
    found
}

/// Whether `help` documents `flag` (as `--flag` followed by a non-name character).
fn documents(help: &str, flag: &str) -> bool {
    help.match_indices(flag).any(|(i, _)| {
        help[i + flag.len()..]
            .chars()
            .next()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '-'))
    })
}

#[test]
fn deploy_files_use_only_flags_and_variables_imx_has() {
    let env = TestEnv::new();
    let help = |path: &[String]| {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let out = env.run(&args);
        (out.code == 0).then_some(out.stdout)
    };
    let environment = env.run(["help", "environment"]);
    environment.expect_code(0);
    let mut checked = 0;
    for file in deploy_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        let name = file.display();
        for args in invocations(&text) {
            let mut path: Vec<String> = Vec::new();
            for word in &args {
                if word.starts_with('-') {
                    break;
                }
                let mut next = path.clone();
                next.push(word.clone());
                if help(&next).is_none() {
                    break;
                }
                path = next;
            }
            assert!(!path.is_empty(), "{name}: no imx subcommand in {args:?}");
            let text = help(&path).unwrap();
            for word in args.iter().filter(|w| w.starts_with("--")) {
                let flag = word.split('=').next().unwrap();
                assert!(
                    documents(&text, flag),
                    "{name}: `imx {}` has no flag {flag}",
                    path.join(" ")
                );
                checked += 1;
            }
        }
        for var in imx_variables(&text) {
            assert!(
                documents(&environment.stdout, &var),
                "{name}: {var} is not a variable imx reads (`imx help environment`)"
            );
        }
    }
    assert!(
        checked >= 10,
        "only {checked} flags found: is the parser blind?"
    );
}

/// The IMX_* names in `text`.
fn imx_variables(text: &str) -> Vec<String> {
    let mut vars: Vec<String> = text
        .match_indices("IMX_")
        .map(|(i, _)| {
            text[i..]
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                .collect()
        })
        .collect();
    vars.sort();
    vars.dedup();
    vars
}
