//! `imx init`, `imx status`, and `imx workflow apply|list|show|validate|delete`.
//! Creating the store (init) and `validate` without a store are local-only: they are about the
//! store file itself (see also `store_creation.rs`).

use serde_json::Value;

use super::{NOOP, short_leases};
use crate::env::{Mode, TestEnv};

#[test]
fn init_creates_the_store_and_says_where_then_says_it_exists() {
    let env = TestEnv::bare();
    let out = env.run(["init"]);
    out.expect_code(0);
    let store = env.store().display().to_string();
    assert!(
        out.stderr
            .contains(&format!("Created a new store at {store}")),
        "{}",
        out.stderr
    );
    assert!(env.store().exists());
    assert!(out.stdout.is_empty(), "{}", out.stdout);

    let again = env.run(["init"]);
    again.expect_code(0);
    assert!(
        again
            .stderr
            .contains(&format!("A store already exists at {store}")),
        "{}",
        again.stderr
    );
    assert!(!again.stderr.contains("Created"), "{}", again.stderr);
}

fn status_reports_documented_fields_and_counts_move_after_runs(env: TestEnv) {
    let env = short_leases(env);
    let before = env.json(["status"]);
    for key in [
        "mode",
        "location",
        "schema_version",
        "agents",
        "runs",
        "steps_ready",
        "steps_running",
        "workflows",
    ] {
        assert!(before.get(key).is_some(), "{key} missing from {before:#}");
    }
    let mode = match env.mode() {
        Mode::Local => "local",
        Mode::Remote => "remote",
    };
    assert_eq!(before["mode"], mode);
    assert_eq!(before["location"], env.location());
    assert!(before["schema_version"].as_i64().unwrap() >= 1);
    assert_eq!(before["workflows"], 0);
    let count = |v: &Value, group: &str, key: &str| v[group][key].as_u64().unwrap_or(0);
    assert_eq!(count(&before, "runs", "succeeded"), 0);

    env.apply("noop.yaml", NOOP);
    let queued = env.start("noop", &[]);
    let mid = env.json(["status"]);
    assert_eq!(mid["workflows"], 1);
    assert_eq!(count(&mid, "runs", "queued"), 1, "{mid:#}");
    assert_eq!(mid["steps_ready"], 1, "{mid:#}");

    let _agent = env.agent("worker", 2);
    let done = env.finish(&queued);
    assert_eq!(done["status"], "succeeded");
    let id = env.start("noop", &[]);
    env.finish(&id);
    let after = env.json(["status"]);
    assert_eq!(count(&after, "runs", "succeeded"), 2, "{after:#}");
    assert_eq!(count(&after, "runs", "queued"), 0, "{after:#}");
    assert_eq!(count(&after, "agents", "online"), 1, "{after:#}");
    assert_eq!(after["steps_ready"], 0);

    // The table says the same for people.
    let table = env.run(["status"]);
    table.expect_code(0);
    assert!(table.stdout.contains("2 succeeded"), "{}", table.stdout);
    assert!(table.stdout.contains("1 online"), "{}", table.stdout);
}

const V1: &str = "name: build\ndescription: first\nsteps:\n  - id: compile\n    run: echo one\n";
const V2: &str = "name: build\ndescription: second\nsteps:\n  - id: compile\n    run: echo two\n  - id: test\n    needs: [compile]\n    run: echo test\n";
const V3: &str = "name: build\ndescription: third\nsteps:\n  - id: compile\n    run: echo three\n";

fn apply_json(env: &TestEnv, file: &str, extra: &[&str]) -> Value {
    let mut args = vec!["workflow", "apply", "-f", file];
    args.extend_from_slice(extra);
    env.json(args)
}

fn apply_creates_then_keeps_then_updates_with_a_new_version(env: TestEnv) {
    env.write("build.yaml", V1);
    let created = apply_json(&env, "build.yaml", &[]);
    assert_eq!(created[0]["name"], "build");
    assert_eq!(created[0]["action"], "created");
    assert_eq!(created[0]["version"], 1);

    let out = env.run(["workflow", "apply", "-f", "build.yaml"]);
    out.expect_code(0);
    assert!(out.stdout.contains("unchanged"), "{}", out.stdout);
    assert!(
        out.stderr.contains("Applied 1 workflow (0 changed)."),
        "{}",
        out.stderr
    );

    env.write("build.yaml", V2);
    let updated = apply_json(&env, "build.yaml", &[]);
    assert_eq!(updated[0]["action"], "updated");
    assert_eq!(updated[0]["version"], 2);

    // A dry run says what would happen and changes nothing.
    env.write("build.yaml", V3);
    let out = env.run(["workflow", "apply", "-f", "build.yaml", "--dry-run"]);
    out.expect_code(0);
    assert!(out.stdout.contains("updated"), "{}", out.stdout);
    assert!(out.stderr.contains("nothing was changed"), "{}", out.stderr);
    let show = env.json(["workflow", "show", "build"]);
    assert_eq!(show["version"], 2, "a dry run must not add a version");
    assert_eq!(show["spec"]["description"], "second");

    // A folder applies every file in it.
    env.write(
        "flows/a.yaml",
        "name: a\nsteps:\n  - id: x\n    noop: true\n",
    );
    env.write(
        "flows/b.yml",
        "name: b\nsteps:\n  - id: y\n    noop: true\n",
    );
    env.write("flows/notes.txt", "not a workflow");
    let dir = apply_json(&env, "flows", &[]);
    let mut names: Vec<&str> = dir
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["a", "b"]);
    assert!(
        dir.as_array()
            .unwrap()
            .iter()
            .all(|o| o["action"] == "created")
    );
}

fn list_and_show_with_versions(env: TestEnv) {
    env.write("build.yaml", V1);
    env.run(["workflow", "apply", "-f", "build.yaml"])
        .expect_code(0);
    env.write("build.yaml", V2);
    env.run(["workflow", "apply", "-f", "build.yaml"])
        .expect_code(0);
    env.apply("noop.yaml", super::NOOP);

    let list = env.json(["workflow", "list"]);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2, "{list:#?}");
    let build = list.iter().find(|w| w["name"] == "build").unwrap();
    assert_eq!(build["version"], 2);
    assert_eq!(build["steps"], 2);

    let table = env.run(["workflow", "list"]);
    table.expect_code(0);
    assert!(table.stdout.starts_with("NAME"), "{}", table.stdout);
    assert!(table.stdout.contains("build"), "{}", table.stdout);

    let latest = env.run(["workflow", "show", "build"]);
    latest.expect_code(0);
    assert!(latest.stdout.contains("Version:"), "{}", latest.stdout);
    assert!(latest.stdout.contains("second"), "{}", latest.stdout);
    assert!(latest.stdout.contains("test"), "{}", latest.stdout);

    let v1 = env.json(["workflow", "show", "build", "--version", "1"]);
    assert_eq!(v1["version"], 1);
    assert_eq!(v1["spec"]["description"], "first");
    assert_eq!(v1["spec"]["steps"].as_array().unwrap().len(), 1);
    let v1_table = env.run(["workflow", "show", "build", "--version", "1"]);
    assert!(v1_table.stdout.contains("first"), "{}", v1_table.stdout);

    env.run(["workflow", "show", "build", "--version", "9"])
        .expect_code(3);
    env.run(["workflow", "show", "nope"]).expect_code(3);
}

#[test]
fn validate_a_valid_file_exits_0_without_a_store() {
    let env = TestEnv::bare();
    env.write("build.yaml", V2);
    let out = env.run(["workflow", "validate", "-f", "build.yaml"]);
    out.expect_code(0);
    assert!(out.stdout.contains("build"), "{}", out.stdout);
    assert!(out.stderr.contains("valid"), "{}", out.stderr);
    assert!(!env.store().exists(), "validate must not create a store");
}

fn delete_asks_for_yes_and_past_runs_keep_their_history(env: TestEnv) {
    let env = short_leases(env);
    env.apply("noop.yaml", NOOP);
    let _agent = env.agent("worker", 1);
    let id = env.start("noop", &[]);
    assert_eq!(env.finish(&id)["status"], "succeeded");

    // Not a terminal and no --yes: refused, nothing deleted.
    let out = env.run(["workflow", "delete", "noop"]);
    out.expect_code(2);
    assert!(out.stderr.contains("--yes"), "{}", out.stderr);
    env.run(["workflow", "show", "noop"]).expect_code(0);

    let out = env.run(["workflow", "delete", "noop", "--yes"]);
    out.expect_code(0);
    assert!(
        out.stderr.contains("Deleted workflow noop."),
        "{}",
        out.stderr
    );
    env.run(["workflow", "show", "noop"]).expect_code(3);
    assert_eq!(env.json(["workflow", "list"]), serde_json::json!([]));
    env.run(["workflow", "run", "noop"]).expect_code(3);

    // The run is still there, with its steps.
    let run = env.show_run(&id);
    assert_eq!(run["workflow"], "noop");
    assert_eq!(run["status"], "succeeded");
    assert_eq!(TestEnv::step(&run, "only")["status"], "succeeded");
    let listed = env.json(["run", "list", "--workflow", "noop"]);
    assert_eq!(listed.as_array().unwrap().len(), 1);
}

crate::both_modes!(
    status_reports_documented_fields_and_counts_move_after_runs,
    apply_creates_then_keeps_then_updates_with_a_new_version,
    list_and_show_with_versions,
    delete_asks_for_yes_and_past_runs_keep_their_history,
);
