//! Round trips of workflow files: `workflow show -o yaml` prints the file a version was applied
//! from, `workflow diff` compares two versions' files, `workflow apply --dry-run` shows what
//! would change. Versions applied before imx kept files fall back to their parsed specs.

use std::process::Output;

use crate::env::TestEnv;

/// A file with a comment and odd spacing: only the file itself round-trips these.
const V1: &str = "# Build the thing.\nname: build\ndescription:   first   # kept as written\nsteps:\n  - id: compile\n    run: echo one\n";
const V2: &str = "# Build the thing.\nname: build\ndescription:   first   # kept as written\nsteps:\n  - id: compile\n    run: echo two\n";

fn apply_stdin(env: &TestEnv, text: &str, extra: &[&str]) -> Output {
    let mut args = vec!["workflow", "apply", "-f", "-"];
    args.extend_from_slice(extra);
    env.cmd()
        .args(args)
        .write_stdin(text.as_bytes().to_vec())
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap()
}

fn show_yaml_round_trips_without_a_new_version(env: TestEnv) {
    env.write("build.yaml", V1);
    env.run(["workflow", "apply", "-f", "build.yaml"])
        .expect_code(0);
    let shown = env.run(["workflow", "show", "build", "-o", "yaml"]);
    shown.expect_code(0);
    assert_eq!(shown.stdout, V1, "show -o yaml prints the file as applied");

    let again = apply_stdin(&env, &shown.stdout, &["-o", "json"]);
    assert!(again.status.success(), "{again:?}");
    let out: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(out[0]["action"], "unchanged", "{out:#}");
    assert_eq!(out[0]["version"], 1, "{out:#}");

    // -o json carries the file too, with the parsed spec.
    let json = env.json(["workflow", "show", "build"]);
    assert_eq!(json["spec"]["source"], V1);
    assert_eq!(json["spec"]["description"], "first");
}

fn diff_compares_the_files_of_two_versions(env: TestEnv) {
    env.write("build.yaml", V1);
    env.run(["workflow", "apply", "-f", "build.yaml"])
        .expect_code(0);
    // Only one version: nothing to compare with.
    env.run(["workflow", "diff", "build"]).expect_error(2);

    env.write("build.yaml", V2);
    env.run(["workflow", "apply", "-f", "build.yaml"])
        .expect_code(0);
    let diff = env.run(["workflow", "diff", "build"]);
    diff.expect_code(0);
    assert_eq!(
        diff.stdout,
        "--- build@1\n+++ build@2\n@@ -3,4 +3,4 @@\n description:   first   # kept as written\n \
         steps:\n   - id: compile\n-    run: echo one\n+    run: echo two\n",
    );
    assert!(!diff.stdout.contains('\u{1b}'), "no colour off a terminal");

    let same = env.run(["workflow", "diff", "build", "--from", "2", "--to", "2"]);
    same.expect_code(0);
    assert!(same.stdout.is_empty(), "{}", same.stdout);
    assert!(same.stderr.contains("are the same"), "{}", same.stderr);

    let back = env.run(["workflow", "diff", "build", "--from", "2", "--to", "1"]);
    back.expect_code(0);
    assert!(
        back.stdout
            .contains("-    run: echo two\n+    run: echo one\n"),
        "{}",
        back.stdout
    );

    env.run(["workflow", "diff", "build", "--from", "7"])
        .expect_error(3);
    env.run(["workflow", "diff", "nope"]).expect_error(3);
}

fn dry_run_says_unchanged_new_or_the_diff_and_writes_nothing(env: TestEnv) {
    env.write("build.yaml", V1);
    env.run(["workflow", "apply", "-f", "build.yaml"])
        .expect_code(0);

    let unchanged = env.run(["workflow", "apply", "--dry-run", "-f", "build.yaml"]);
    unchanged.expect_code(0);
    assert_eq!(unchanged.stdout, "build: unchanged (version 1)\n");

    env.write("build.yaml", V2);
    env.write(
        "other.yaml",
        "name: other\nsteps:\n  - id: x\n    noop: true\n",
    );
    let dry = env.run([
        "workflow",
        "apply",
        "--dry-run",
        "-f",
        "build.yaml",
        "-f",
        "other.yaml",
    ]);
    dry.expect_code(0);
    let expected = "build: updated (version 1 would become 2)\n--- build@1\n+++ build.yaml\n@@ -3,4 +3,4 @@\n \
         description:   first   # kept as written\n steps:\n   - id: compile\n-    run: echo one\n\
         +    run: echo two\nother: new (would be version 1)\n";
    assert_eq!(dry.stdout, expected);
    assert!(dry.stderr.contains("nothing was changed"), "{}", dry.stderr);

    // Nothing was written.
    assert_eq!(env.json(["workflow", "show", "build"])["version"], 1);
    env.run(["workflow", "show", "other"]).expect_error(3);
    // Machine formats keep the list of outcomes.
    let json = env.json(["workflow", "apply", "--dry-run", "-f", "build.yaml"]);
    assert_eq!(json[0]["action"], "updated");
    assert_eq!(json[0]["dry_run"], true);
}

/// `validate -o json` prints the parsed spec as before, not the file it was given.
#[test]
fn validate_does_not_echo_the_file() {
    let env = TestEnv::bare();
    env.write("build.yaml", V1);
    let out = env.json(["workflow", "validate", "-f", "build.yaml"]);
    assert!(out[0].get("source").is_none(), "{out:#}");
    assert_eq!(out[0]["name"], "build");
}

/// A version applied before imx kept files (source NULL, as migration 0012 leaves them) is
/// shown as its parsed spec, with a plain warning; re-applying the same workflow keeps its
/// version and gives it its file.
#[test]
fn a_version_without_a_source_falls_back_to_its_parsed_spec() {
    let env = TestEnv::new();
    env.write("build.yaml", V1);
    env.run(["workflow", "apply", "-f", "build.yaml"])
        .expect_code(0);
    let conn = rusqlite::Connection::open(env.store()).unwrap();
    conn.execute("UPDATE workflows SET source = NULL", [])
        .unwrap();
    drop(conn);

    let shown = env.run(["workflow", "show", "build", "-o", "yaml"]);
    shown.expect_code(0);
    assert!(
        shown
            .stderr
            .contains("was applied before imx kept workflow files"),
        "{}",
        shown.stderr
    );
    assert!(shown.stdout.contains("name: build"), "{}", shown.stdout);
    assert!(!shown.stdout.contains("# Build"), "{}", shown.stdout);

    env.write("build.yaml", V2);
    let dry = env.run(["workflow", "apply", "--dry-run", "-f", "build.yaml"]);
    dry.expect_code(0);
    // Compared as parsed specs, both sides.
    assert!(
        dry.stdout.contains("-      command: echo one"),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout.contains("+      command: echo two"),
        "{}",
        dry.stdout
    );
    assert!(!dry.stdout.contains("# Build"), "{}", dry.stdout);

    env.write("build.yaml", V1);
    let again = env.json(["workflow", "apply", "-f", "build.yaml"]);
    assert_eq!(again[0]["action"], "unchanged");
    let shown = env.run(["workflow", "show", "build", "-o", "yaml"]);
    assert_eq!(shown.stdout, V1, "re-applying gave the version its file");
    assert!(shown.stderr.is_empty(), "{}", shown.stderr);
}

crate::both_modes!(
    show_yaml_round_trips_without_a_new_version,
    diff_compares_the_files_of_two_versions,
    dry_run_says_unchanged_new_or_the_diff_and_writes_nothing,
);
