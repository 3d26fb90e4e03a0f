//! A workflow file's `notify:` through the real binary, in every mode: applying the file makes
//! its rules (shown as from the workflow), a failing run of it is delivered to a real
//! receiver, applying it again without the key removes them, rules made by command stay, and a
//! channel that does not exist refuses the apply at the rule's position.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;

use crate::both_modes;
use crate::env::{SLOW, TestEnv, wait_until};
use crate::notify::{Receiver, STORE_KEY, add_channel};

const STEPS: &str =
    "steps:\n  - id: compile\n    run: |\n      echo 'error - widget broke' >&2\n      exit 3\n";

fn with_notify() -> String {
    format!(
        "name: build\nnotify:\n  - {{ on: failed, channel: ops, cooldown: 1h }}\n  - on: duration_over\n    for: 30m\n    channel: ops\n{STEPS}"
    )
}

fn rules(env: &TestEnv) -> Vec<Value> {
    env.json(["notify", "rule", "list"])
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The rules from files, by event (rules made in one transaction share a creation time).
fn from_file(rules: &[Value]) -> Vec<&Value> {
    let mut out: Vec<&Value> = rules.iter().filter(|r| r["source"] == "workflow").collect();
    out.sort_by_key(|r| r["on"].as_str().unwrap_or_default().to_string());
    out
}

fn a_files_rules_come_and_go_with_it(env: TestEnv) {
    let env = env.with_var("IMX_STORE_KEY", STORE_KEY);
    let rx = Receiver::start();
    add_channel(&env, &rx);
    // A rule made by command, for another workflow: the file never touches it.
    env.run([
        "notify",
        "rule",
        "add",
        "--on",
        "succeeded",
        "--channel",
        "ops",
        "--workflow",
        "other",
    ])
    .expect_code(0);

    env.apply("build.yaml", &with_notify());
    let all = rules(&env);
    let file = from_file(&all);
    assert_eq!(file.len(), 2, "{all:?}");
    assert_eq!(file[0]["on"], "duration_over");
    assert_eq!(file[0]["threshold_ms"], 1_800_000);
    assert_eq!(file[1]["on"], "failed");
    assert_eq!(file[1]["workflow"], "build");
    assert_eq!(file[1]["cooldown_ms"], 3_600_000);
    // The wide table says where each rule came from.
    let wide = env.run(["notify", "rule", "list", "-o", "wide"]);
    wide.expect_code(0);
    assert!(wide.stdout.contains("SOURCE"), "{}", wide.stdout);
    assert!(wide.stdout.contains("workflow"), "{}", wide.stdout);
    assert!(wide.stdout.contains("command"), "{}", wide.stdout);

    // Applying the same file again keeps the rules as they are (same ids).
    let ids: Vec<Value> = file.iter().map(|r| r["id"].clone()).collect();
    env.apply("build.yaml", &with_notify());
    let again: Vec<Value> = from_file(&rules(&env))
        .iter()
        .map(|r| r["id"].clone())
        .collect();
    assert_eq!(ids, again);

    // A failing run of the workflow is delivered to the receiver.
    let _agent = env.agent("w1", 1);
    let run = env.start("build", &[]);
    wait_until("the notification", SLOW, || !rx.hits().is_empty());
    let hits = rx.hits();
    assert!(hits[0].signed, "{hits:?}");
    assert_eq!(hits[0].body["type"], "run.failed");
    assert_eq!(hits[0].body["data"]["events"][0]["run_id"], run.as_str());
    let d = &env.json(["notify", "deliveries"])[0];
    assert_eq!(d["rule_id"], ids[1], "{d}");

    // Without the key, the file's rules go; the command's stays.
    env.apply("build.yaml", &format!("name: build\n{STEPS}"));
    let all = rules(&env);
    assert!(from_file(&all).is_empty(), "{all:?}");
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0]["source"], "command");
    assert_eq!(all[0]["workflow"], "other");
    let audit = env.run(["audit", "list", "-o", "json"]);
    assert!(audit.stdout.contains("\"removed\": 2"), "{}", audit.stdout);
}

fn an_unknown_channel_refuses_the_apply_at_its_position(env: TestEnv) {
    let env = env.with_var("IMX_STORE_KEY", STORE_KEY);
    let rx = Receiver::start();
    add_channel(&env, &rx);
    let file = env.write(
        "build.yaml",
        &format!(
            "name: build\nnotify:\n  - {{ on: failed, channel: ops }}\n  - on: stuck\n    for: 10m\n    channel: opz\n{STEPS}"
        ),
    );
    let path = file.to_str().unwrap();
    for dry in [true, false] {
        let mut args = vec!["workflow", "apply", "-f", path];
        if dry {
            args.push("--dry-run");
        }
        env.run(&args)
            .expect_error(2)
            .expect_stderr(&[&format!("{path}:6:14: notify[2]: no channel named \"opz\"")]);
    }
    // Nothing was applied: no workflow, no rule.
    env.run(["workflow", "show", "build"]).expect_error(3);
    assert!(rules(&env).is_empty());
}

both_modes!(
    a_files_rules_come_and_go_with_it,
    an_unknown_channel_refuses_the_apply_at_its_position
);
