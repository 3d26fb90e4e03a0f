//! Bad input gets one clear error and changes nothing: every case checks the message (with
//! `file:line:col` where there is a file), the documented exit code, and that the store is exactly
//! as it was before (a full dump of every table, see [`snapshot`]).
//!
//! Exit codes (`imx help exit-codes`): 1 error · 2 usage or invalid input · 3 not found ·
//! 5 conflict · 6 cannot open the control plane.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rusqlite::Connection;

use crate::env::{Outcome, TestEnv, snapshot};

/// A workflow every test can start runs of: a required string, a typed int and an enum.
const DEPLOY: &str = "\
name: deploy
params:
  version: {type: string, required: true}
  replicas: {type: int, default: 1}
  env: {type: string, default: staging, enum: [staging, prod]}
steps:
  - id: build
    noop: true
  - id: test
    needs: [build]
    noop: true
";

/// A store holding the `deploy` workflow.
fn seeded() -> TestEnv {
    let env = TestEnv::new();
    env.write("deploy.yaml", DEPLOY);
    env.run(["workflow", "apply", "-f", "deploy.yaml"])
        .expect_code(0);
    env
}

/// Start a run of `deploy` and return its id.
fn start(env: &TestEnv) -> String {
    let out = env.run(["workflow", "run", "deploy", "-p", "version=1", "-o", "name"]);
    out.expect_code(0);
    out.stdout.trim().to_string()
}

/// Run `imx ARGS`, expect one clean error with `code` mentioning every one of `parts`, and the
/// store unchanged by it.
#[track_caller]
fn rejects(env: &TestEnv, args: &[&str], code: i32, parts: &[&str]) -> Outcome {
    let before = snapshot(&env.store());
    let out = env.run(args);
    out.expect_error(code).expect_stderr(parts);
    assert_eq!(
        before,
        snapshot(&env.store()),
        "imx {args:?} changed the store"
    );
    out
}

/// Write `contents` to `name`; both `workflow validate` and `workflow apply` must reject it with
/// exit 2 naming every one of `parts` (include `FILE:LINE:COL`), leaving the store unchanged.
/// Returns what `apply` printed.
#[track_caller]
fn rejects_file(name: &str, contents: &str, parts: &[&str]) -> Outcome {
    let env = seeded();
    env.write(name, contents);
    rejects(&env, &["workflow", "validate", "-f", name], 2, parts);
    rejects(&env, &["workflow", "apply", "-f", name], 2, parts)
}

// ---------------------------------------------------------------------------------------------
// Workflow files

#[test]
fn malformed_yaml_names_the_place_and_creates_no_store() {
    let body = "name: w\nsteps:\n  - id: a\n    run: [unclosed\n  - id: b\n";
    rejects_file("broken.yaml", body, &["broken.yaml:5:", "invalid YAML"]);

    // A bad file never creates a store.
    let env = TestEnv::bare();
    env.write("broken.yaml", body);
    env.run(["workflow", "apply", "-f", "broken.yaml"])
        .expect_error(2);
    assert!(!env.store().exists(), "a rejected apply created a store");
}

#[test]
fn unknown_keys_suggest_the_nearest_known_key() {
    // A lone problem: its hint is on its own line.
    let out = rejects_file(
        "typo.yaml",
        "name: w\nsteps:\n  - id: a\n    run: echo\n  - id: b\n    nedds: [a]\n    run: echo\n",
        &["typo.yaml:6:5: step #2: unknown key `nedds`"],
    );
    out.expect_stderr(&["\nhint: did you mean \"needs\"?"]);

    // Several problems: every one, each with its hint.
    rejects_file(
        "typos.yaml",
        "name: w\nstpes: []\nsteps:\n  - id: a\n    tiemout: 5s\n    run: echo\n",
        &[
            "typos.yaml:2:1: workflow: unknown key `stpes` (did you mean \"steps\"?)",
            "typos.yaml:5:5: step #1: unknown key `tiemout` (did you mean \"timeout\"?)",
        ],
    );
}

#[test]
fn duplicate_step_ids_are_rejected() {
    rejects_file(
        "dup.yaml",
        "name: w\nsteps:\n  - id: a\n    run: echo\n  - id: a\n    run: echo\n",
        &["dup.yaml:5:9: duplicate step id \"a\" (first defined on line 3)"],
    );
}

#[test]
fn a_cycle_is_named_step_by_step() {
    rejects_file(
        "cycle.yaml",
        "name: w\nsteps:\n  - id: a\n    needs: [c]\n    run: echo\n  - id: b\n    needs: [a]\n    \
         run: echo\n  - id: c\n    needs: [b]\n    run: echo\n",
        &["cycle.yaml:4:13: cycle: a → b → c → a"],
    );
}

#[test]
fn unknown_needs_suggest_the_nearest_step_id() {
    let out = rejects_file(
        "needs.yaml",
        "name: w\nsteps:\n  - id: build\n    run: make\n  - id: test\n    needs: [buld]\n    run: make test\n",
        &["needs.yaml:6:13: step \"test\" needs unknown step \"buld\""],
    );
    out.expect_stderr(&["\nhint: did you mean \"build\"?"]);
}

#[test]
fn bad_durations_are_rejected_where_they_are() {
    rejects_file(
        "durations.yaml",
        "name: w\ntimeout: 10 minutes please\nsteps:\n  - id: a\n    timeout: -5s\n    \
         retry: {max: 2, initial: soon}\n    run: echo\n",
        &[
            "durations.yaml:2:10: timeout: bad duration \"10 minutes please\"",
            "durations.yaml:5:14: step \"a\" timeout: bad duration \"-5s\"",
            "durations.yaml:6:30:",
            "\"soon\"",
        ],
    );
}

#[test]
fn templates_naming_unknown_params_or_steps_are_rejected() {
    rejects_file(
        "templates.yaml",
        "name: w\nparams:\n  version: {type: string, default: \"1\"}\nsteps:\n  - id: a\n    \
         run: echo {{ params.verison }}\n  - id: b\n    run: echo {{ steps.c.outputs.x }}\n  \
         - id: c\n    needs: [a]\n    run: echo {{ steps.nope.outputs.y }}\n",
        &[
            "templates.yaml:6:10: step \"a\" run: template uses undeclared param \"verison\" \
             (did you mean \"version\"?)",
            "templates.yaml:8:10: step \"b\" run: template uses outputs of step \"c\", which is \
             not upstream of it",
            "templates.yaml:11:10: step \"c\" run: template uses unknown step \"nope\"",
        ],
    );
}

#[test]
fn one_bad_file_applies_nothing() {
    // Operators apply a folder as a unit: if any file is bad, none is applied, so a fixed
    // re-apply never meets a half-updated set of workflows.
    let env = seeded();
    env.write(
        "set/a-good.yaml",
        "name: good\nsteps:\n  - id: a\n    noop: true\n",
    );
    env.write(
        "set/b-bad.yaml",
        "name: bad\nsteps:\n  - id: a\n    needs: [zzz]\n    noop: true\n",
    );
    rejects(
        &env,
        &["workflow", "apply", "-f", "set"],
        2,
        &["b-bad.yaml:4:13: step \"a\" needs unknown step \"zzz\""],
    );
    // The same with the files given one by one.
    rejects(
        &env,
        &[
            "workflow",
            "apply",
            "-f",
            "set/a-good.yaml",
            "-f",
            "set/b-bad.yaml",
        ],
        2,
        &["set/b-bad.yaml:4:13:"],
    );
    // And two files defining one workflow.
    env.write(
        "twice/one.yaml",
        "name: same\nsteps:\n  - id: a\n    noop: true\n",
    );
    env.write(
        "twice/two.yaml",
        "name: same\nsteps:\n  - id: b\n    noop: true\n",
    );
    rejects(
        &env,
        &["workflow", "apply", "-f", "twice"],
        2,
        &[
            "two.yaml:1:1: workflow \"same\" is also defined in",
            "one.yaml",
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// Parameters at `workflow run`

#[test]
fn a_missing_required_param_is_named_with_how_to_pass_it() {
    let env = seeded();
    rejects(
        &env,
        &["workflow", "run", "deploy"],
        2,
        &[
            "error: missing required param \"version\"",
            "hint: pass it with -p version=VALUE",
        ],
    );
}

#[test]
fn a_mistyped_param_says_what_type_it_wants() {
    let env = seeded();
    rejects(
        &env,
        &[
            "workflow",
            "run",
            "deploy",
            "-p",
            "version=1",
            "-p",
            "replicas=three",
        ],
        2,
        &["error: param replicas: expected an int, got \"three\""],
    );
}

#[test]
fn a_param_outside_its_enum_lists_the_allowed_values() {
    let env = seeded();
    rejects(
        &env,
        &[
            "workflow",
            "run",
            "deploy",
            "-p",
            "version=1",
            "-p",
            "env=dev",
        ],
        2,
        &["error: param env: \"dev\" is not one of staging, prod"],
    );
}

#[test]
fn an_unknown_param_suggests_the_nearest() {
    let env = seeded();
    rejects(
        &env,
        &[
            "workflow",
            "run",
            "deploy",
            "-p",
            "version=1",
            "-p",
            "replica=2",
        ],
        2,
        &[
            "error: unknown param \"replica\"",
            "hint: did you mean \"replicas\"?",
        ],
    );
}

#[test]
fn every_param_problem_is_reported_at_once() {
    let env = seeded();
    let out = rejects(
        &env,
        &[
            "workflow",
            "run",
            "deploy",
            "-p",
            "replicas=x",
            "-p",
            "env=dev",
        ],
        2,
        &["replicas", "\"dev\"", "\"version\""],
    );
    assert!(out.stderr.lines().count() >= 3, "{}", out.stderr);
}

#[test]
fn malformed_param_flags_are_usage_errors() {
    let env = seeded();
    rejects(
        &env,
        &["workflow", "run", "deploy", "-p", "novalue"],
        2,
        &["expected KEY=VALUE, got \"novalue\""],
    );
    rejects(
        &env,
        &["workflow", "run", "deploy", "-p", "=x"],
        2,
        &["non-empty key"],
    );
    rejects(
        &env,
        &[
            "workflow",
            "run",
            "deploy",
            "-p",
            "version=1",
            "-p",
            "version=2",
        ],
        2,
        &["parameter \"version\" is given twice"],
    );
}

// ---------------------------------------------------------------------------------------------
// Names and ids

#[test]
fn unknown_run_ids_exit_3() {
    let env = seeded();
    start(&env);
    for verb in ["show", "logs", "cancel", "retry", "wait", "watch"] {
        rejects(
            &env,
            &["run", verb, "01ZZZZZZZZ"],
            3,
            &["error: run \"01ZZZZZZZZ\" not found"],
        );
    }
    // Not an id at all is invalid input rather than a missing run.
    rejects(
        &env,
        &["run", "show", "no/such-id"],
        2,
        &["\"no/such-id\" is not a run id"],
    );
}

#[test]
fn an_ambiguous_id_prefix_exits_2_and_lists_the_candidates() {
    let env = seeded();
    // ULIDs made in the same era share their first characters: `0` matches them all.
    let ids: Vec<String> = (0..3).map(|_| start(&env)).collect();
    let out = rejects(
        &env,
        &["run", "show", "0"],
        2,
        &[
            "error: run prefix \"0\" is ambiguous: it matches",
            "hint: give more characters of the id",
        ],
    );
    // Each candidate by the prefix that tells them apart (at least 8 characters).
    for id in &ids {
        assert!(shown_apart(&out.stderr, id, &ids), "{id}: {}", out.stderr);
    }
    rejects(&env, &["run", "cancel", "0"], 2, &["is ambiguous"]);

    // With more candidates than are listed, it says there are others.
    let more: Vec<String> = (0..4).map(|_| start(&env)).collect();
    let out = rejects(
        &env,
        &["run", "show", "0"],
        2,
        &["more than 5 runs; the first 5"],
    );
    let all: Vec<String> = ids.iter().chain(&more).cloned().collect();
    let listed = all
        .iter()
        .filter(|id| shown_apart(&out.stderr, id, &all))
        .count();
    assert_eq!(listed, 5, "{}", out.stderr);

    // A unique prefix still works.
    env.run(["run", "show", &ids[0][..20]]).expect_code(0);
}

/// Whether `text` shows `id` by a prefix of at least 8 characters that no other of `ids` has.
fn shown_apart(text: &str, id: &str, ids: &[String]) -> bool {
    text.split_whitespace().any(|word| {
        word.len() >= 8
            && id.starts_with(word)
            && ids
                .iter()
                .all(|other| other == id || !other.starts_with(word))
    })
}

#[test]
fn unknown_workflow_names_exit_3_with_did_you_mean() {
    let env = seeded();
    for args in [
        &["workflow", "run", "deplyo", "-p", "version=1"][..],
        &["workflow", "show", "deplyo"],
        &["workflow", "delete", "deplyo", "--yes"],
    ] {
        rejects(
            &env,
            args,
            3,
            &[
                "error: workflow \"deplyo\" not found",
                "\nhint: did you mean \"deploy\"?",
            ],
        );
    }
    // Nothing near: no suggestion.
    let out = rejects(
        &env,
        &["workflow", "run", "zzz"],
        3,
        &["workflow \"zzz\" not found"],
    );
    assert!(!out.stderr.contains("did you mean"), "{}", out.stderr);
}

/// An `imx agent run` child process, stopped (SIGTERM, then killed) on drop.
struct Agent(Child);

impl Agent {
    fn start(env: &TestEnv, name: &str) -> Agent {
        let child = env
            .std_cmd_via(&[])
            .args(["agent", "run", "--name", name, "--slots", "2"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let agent = Agent(child);
        wait_until(&format!("agent {name} to register"), || {
            env.run(["agent", "list", "-o", "name"])
                .stdout
                .lines()
                .any(|l| l == name)
        });
        agent
    }

    /// Drain and stop it, and wait until it has exited.
    fn stop(mut self) {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.0.id()).unwrap());
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
        let status = self.0.wait().unwrap();
        assert!(status.success(), "agent exited with {status}");
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn unknown_agent_names_exit_3_with_did_you_mean() {
    let env = seeded();
    Agent::start(&env, "build-01").stop();
    for verb in ["show", "drain", "resume", "remove"] {
        rejects(
            &env,
            &["agent", verb, "buidl-01", "--yes"],
            3,
            &[
                "error: agent \"buidl-01\" not found",
                "\nhint: did you mean \"build-01\"?",
            ],
        );
    }
}

#[test]
fn finished_runs_cannot_be_cancelled_or_retried_from_an_unknown_step() {
    let env = seeded();
    let agent = Agent::start(&env, "worker");
    let out = env.run([
        "workflow",
        "run",
        "deploy",
        "-p",
        "version=1",
        "--wait",
        "-o",
        "name",
    ]);
    out.expect_code(0);
    let succeeded = out.stdout.trim().to_string();
    agent.stop();
    let cancelled = start(&env);
    env.run(["run", "cancel", &cancelled]).expect_code(0);

    // Cancelling a finished run does not fit its state: a conflict (exit 5).
    rejects(
        &env,
        &["run", "cancel", &succeeded],
        5,
        &["already succeeded", "nothing to cancel"],
    );
    rejects(
        &env,
        &["run", "cancel", &cancelled],
        5,
        &["already cancelled", "nothing to cancel"],
    );

    // `--from` names a step of the run; one that does not exist is not found (exit 3), like any
    // other named object, rather than a malformed flag (exit 2).
    for id in [&succeeded, &cancelled] {
        rejects(
            &env,
            &["run", "retry", id, "--from", "tset"],
            3,
            &["has no step \"tset\"", "\nhint: did you mean \"test\"?"],
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Stores

/// The store commands: a read and a write, each of which must refuse a bad store.
const READ: &[&str] = &["workflow", "list"];
const WRITE: &[&str] = &["workflow", "apply", "-f", "deploy.yaml"];

// Decision: a file that is not an imx store (or is one from a newer imx) is a control plane that
// cannot be opened, like a missing store: exit 6, not the catch-all 1.

#[test]
fn a_file_of_random_bytes_is_not_a_store() {
    let env = TestEnv::bare();
    env.write("deploy.yaml", DEPLOY);
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let bytes: Vec<u8> = (0..8192)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect();
    std::fs::create_dir_all(env.store().parent().unwrap()).unwrap();
    std::fs::write(env.store(), &bytes).unwrap();
    for args in [READ, WRITE, &["init"]] {
        let out = env.run(args);
        out.expect_error(6).expect_stderr(&[
            &format!("error: {}: not an imx store", env.store().display()),
            "not an SQLite database",
        ]);
    }
    assert_eq!(
        std::fs::read(env.store()).unwrap(),
        bytes,
        "the file changed"
    );
    assert_only_file(&env.store());
}

#[test]
fn someone_elses_sqlite_database_is_not_a_store() {
    let env = TestEnv::bare();
    env.write("deploy.yaml", DEPLOY);
    std::fs::create_dir_all(env.store().parent().unwrap()).unwrap();
    {
        let c = Connection::open(env.store()).unwrap();
        c.execute_batch(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);
             INSERT INTO customers (name) VALUES ('Ada'), ('Grace');",
        )
        .unwrap();
    }
    let bytes = std::fs::read(env.store()).unwrap();
    for args in [READ, WRITE, &["init"]] {
        env.run(args).expect_error(6).expect_stderr(&[
            "not an imx store",
            "it is an SQLite database, but not one imx created",
        ]);
    }
    // Not one byte changed: not even its journal mode.
    assert_eq!(
        std::fs::read(env.store()).unwrap(),
        bytes,
        "the file changed"
    );
    assert_only_file(&env.store());
}

#[test]
fn a_store_from_a_newer_imx_names_both_versions_and_says_to_upgrade() {
    let env = seeded();
    Connection::open(env.store())
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    let supported = format!("up to {}", imx::store::SCHEMA_VERSION);
    for args in [READ, WRITE] {
        rejects(
            &env,
            args,
            6,
            &[
                "schema version 99",
                &supported,
                env!("CARGO_PKG_VERSION"),
                "upgrade imx",
            ],
        );
    }
}

/// Only `path` is in its folder (no `-wal`, `-shm` or journal left behind).
#[track_caller]
fn assert_only_file(path: &Path) {
    let names: Vec<String> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [path.file_name().unwrap().to_string_lossy().into_owned()],
        "files next to the store"
    );
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

fn skip(why: &str) {
    eprintln!("skipped: {why}");
}

#[test]
fn a_read_only_store_refuses_writes_and_still_reads() {
    // Root writes through permissions, so run imx as `nobody`.
    if !is_root() {
        return skip("needs root to run imx as another user (setpriv)");
    }
    if Command::new("setpriv").arg("--version").output().is_err() {
        return skip("setpriv is not installed");
    }
    let env = seeded();
    start(&env);
    env.write(
        "changed.yaml",
        &DEPLOY.replace("[staging, prod]", "[staging, prod, dev]"),
    );
    // Readable (not writable) by others: HOME, the store's folder and the store itself.
    use std::os::unix::fs::PermissionsExt;
    let store = env.store();
    for (path, mode) in [
        (env.home(), 0o755),
        (store.parent().unwrap(), 0o755),
        (store.as_path(), 0o644),
        (env.home().join("changed.yaml").as_path(), 0o644),
    ] {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let nobody = [
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
    ];
    let before = snapshot(&store);
    // The snapshot's read-only connection leaves `-wal`/`-shm` files; an ordinary imx command
    // (the last connection to close) removes them, so `nobody` meets the store as it is at rest.
    env.run(["workflow", "list"]).expect_code(0);
    assert_only_file(&store);
    for args in [
        &["workflow", "apply", "-f", "changed.yaml"][..],
        &["workflow", "run", "deploy", "-p", "version=2"],
        &["run", "cancel", "0"],
    ] {
        let out = env.run_via(&nobody, args);
        out.expect_error(1).expect_stderr(&[
            &format!("error: {}: the store is read-only", store.display()),
            "hint: check the file's permissions",
        ]);
    }
    // Reads work.
    let out = env.run_via(&nobody, ["workflow", "list", "-o", "name"]);
    out.expect_code(0);
    assert_eq!(out.stdout.trim(), "deploy");
    env.run_via(&nobody, ["run", "list"]).expect_code(0);
    assert_eq!(before, snapshot(&store), "the store changed");
}

/// A small tmpfs, unmounted (and its mount point removed) on drop.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: PathBuf, size: &str) -> Result<Tmpfs, String> {
        std::fs::create_dir_all(&dir).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "mount refused: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(Tmpfs(dir))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Fill the filesystem holding `dir` with `dir/filler`, leaving about `leave` bytes free.
fn fill(dir: &Path, leave: u64) {
    let path = dir.join("filler");
    let mut f = std::fs::File::create(&path).unwrap();
    let chunk = vec![0u8; 4096];
    let mut written = 0u64;
    // Write until not one more byte fits; then give back `leave` bytes.
    while let Ok(n @ 1..) = f.write(&chunk) {
        written += n as u64;
    }
    if leave > 0 {
        f.set_len(written.saturating_sub(leave)).unwrap();
    }
}

fn big_workflow(steps: usize) -> String {
    let mut s = String::from("name: big\nsteps:\n");
    for i in 0..steps {
        s.push_str(&format!("  - id: s{i}\n    noop: true\n"));
    }
    s
}

#[test]
fn a_full_disk_fails_cleanly_and_leaves_the_store_intact() {
    if !is_root() {
        return skip("needs root to mount a small tmpfs");
    }
    let env = TestEnv::new();
    let disk = match Tmpfs::mount(env.home().join("disk"), "2m") {
        Ok(d) => d,
        Err(why) => return skip(&why),
    };
    let store = disk.0.join("imx.db");
    let store_arg = store.to_str().unwrap();
    env.write("big.yaml", &big_workflow(5000));
    env.write("deploy.yaml", DEPLOY);
    env.run(["--store", store_arg, "init"]).expect_code(0);
    env.run(["--store", store_arg, "workflow", "apply", "-f", "big.yaml"])
        .expect_code(0);
    let before = snapshot(&store);

    let run_big = &["--store", store_arg, "workflow", "run", "big"][..];
    let apply_small = &[
        "--store",
        store_arg,
        "workflow",
        "apply",
        "-f",
        "deploy.yaml",
    ][..];
    // Completely full, where SQLite fails growing its -shm file, so any write fails; and a
    // little space left, enough for a small write but not for a 5,000-step run's rows.
    for (leave, writes) in [(0, vec![run_big, apply_small]), (256 * 1024, vec![run_big])] {
        // As at rest: no `-wal`/`-shm` left by the snapshot's connection (see the read-only test).
        env.run(["--store", store_arg, "workflow", "list"])
            .expect_code(0);
        assert_only_file(&store);
        fill(&disk.0, leave);
        for args in writes {
            let out = env.run(args);
            // Decision: the store opened fine; the write failed (exit 1, not 6).
            out.expect_error(1).expect_stderr(&[
                "error: the disk holding the store is full; nothing was changed",
                "hint: free some space",
            ]);
        }
        std::fs::remove_file(disk.0.join("filler")).unwrap();
        assert_eq!(
            before,
            snapshot(&store),
            "the store changed (leave={leave})"
        );
        let c = Connection::open(&store).unwrap();
        let check: String = c
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
    }
    // With space again, the same run starts.
    env.run(["--store", store_arg, "workflow", "run", "big"])
        .expect_code(0);
}
