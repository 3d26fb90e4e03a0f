//! The agent ↔ control-plane protocol, end to end: the lease length is the control plane's
//! (agents learn it when they register; readers need no setting to see agent states), step
//! outputs have a limit and no result is lost for its size, a step's log is shipped with
//! back-pressure (nothing dropped) under a cap that says how much it cut, `run show` stays fast
//! with large outputs, and an agent on a read-only store stops with the store's error.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use serde_json::Value;

use crate::both_modes;
use crate::env::{Mode, SLOW, TestEnv, wait_until};

/// The one step of a finished run.
fn only_step(run: &Value) -> &Value {
    let steps = run["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 1, "{run:#}");
    &steps[0]
}

// --- the lease is the control plane's ---

/// A server with a 3 s lease and an agent without `IMX_LEASE` (its own default would be 30 s,
/// a heartbeat every 10 s): the agent heartbeats at the server's pace, so a 7 s step is never
/// taken for lost and succeeds on its first attempt.
#[test]
fn remote_agents_heartbeat_at_the_servers_lease() {
    let env = TestEnv::remote().with_var("IMX_LEASE", "3s");
    let mut cmd = env.agent_cmd();
    cmd.env_remove("IMX_LEASE");
    let _agent = env.start_agent(cmd, "w1", 1, &[]);

    env.apply(
        "slow.yaml",
        "name: slow\nsteps:\n  - id: nap\n    run: sleep 7\n",
    );
    let id = env.start("slow", &[]);
    let run = env.finish(&id);
    let step = only_step(&run);
    assert_eq!(run["status"], "succeeded", "{run:#}");
    assert_eq!(step["attempt"], 1, "the step was taken for lost: {run:#}");
    let shown = env.json(["agent", "show", "w1"]);
    assert_eq!(shown["lease_ms"], 3000, "{shown:#}");
}

/// An agent registered with a 1 s lease reads online while it heartbeats and offline once it
/// stops, to a command that has no `IMX_LEASE` of its own (whose default lease is 30 s).
#[test]
fn agent_states_read_the_same_without_imx_lease() {
    let env = TestEnv::new();
    let mut cmd = env.agent_cmd();
    cmd.env("IMX_LEASE", "1s");
    let agent = env.start_agent(cmd, "quick", 1, &[]);
    let show = || env.json(["agent", "show", "quick"]);

    // Heartbeats keep it online well past its lease.
    let first = show();
    let registered = crate::env::millis(&first["registered_at"]).unwrap();
    wait_until("heartbeats two leases after registering", SLOW, || {
        let a = show();
        assert_eq!(a["state"], "online", "{a:#}");
        crate::env::millis(&a["last_heartbeat"]).unwrap() > registered + 2_000
    });

    // Stopped, it misses its heartbeats: offline after its own lease, not the reader's 30 s.
    agent.signal(Signal::SIGSTOP);
    let stopped = Instant::now();
    wait_until("the stopped agent to read offline", SLOW, || {
        show()["state"] == "offline"
    });
    assert!(
        stopped.elapsed() < Duration::from_secs(20),
        "offline only after {:?}: the reader's lease was used",
        stopped.elapsed()
    );
    agent.signal(Signal::SIGCONT);
    wait_until("the resumed agent to read online again", SLOW, || {
        show()["state"] == "online"
    });
    assert_eq!(show()["lease_ms"], 1000);
}

// --- step outputs: a limit, and no result lost for its size ---

/// A step that writes `bytes` bytes of output (one key `k`) after `pause` seconds.
fn writes_outputs(id: &str, bytes: usize, pause: &str) -> String {
    format!(
        "  - id: {id}\n    run: sleep {pause}; head -c {bytes} /dev/zero | tr '\\0' a | \
         sed 's/^/k=/' > \"$IMX_OUTPUT\"\n"
    )
}

/// Twelve parallel steps finish together with ~900 KB of outputs each: more than a server
/// takes in one request, so the agent's reports must be split, and every step succeeds on its
/// first attempt.
fn twelve_parallel_steps_with_900_kb_outputs_succeed(env: TestEnv) {
    let env = env.with_var("IMX_LEASE", "10s");
    let mut yaml = String::from("name: wide\nsteps:\n");
    for i in 0..12 {
        yaml.push_str(&writes_outputs(&format!("s{i}"), 900 * 1024, "1"));
    }
    env.apply("wide.yaml", &yaml);
    let _agent = env.agent("wide", 12);
    let id = env.start("wide", &[]);
    let run = env.finish(&id);
    assert_eq!(run["status"], "succeeded", "{}", summary(&run));
    for step in run["steps"].as_array().unwrap() {
        assert_eq!(step["attempt"], 1, "{}", summary(&run));
        assert_eq!(step["outputs"]["k"].as_str().unwrap().len(), 900 * 1024);
    }
}

/// A run's steps without their (large) outputs, for failure messages.
fn summary(run: &Value) -> String {
    let mut run = run.clone();
    for step in run["steps"].as_array_mut().into_iter().flatten() {
        step["outputs"] = Value::Null;
    }
    format!("{run:#}")
}

/// 5 MB of outputs is over the default 1 MiB limit: the step fails on its first attempt with
/// the same message naming the size and the limit, locally and through a server.
fn a_step_with_5_mb_of_outputs_fails_naming_size_and_limit(env: TestEnv) {
    let yaml = format!(
        "name: huge\nsteps:\n{}",
        writes_outputs("big", 5 * 1024 * 1024, "0")
    );
    env.apply("huge.yaml", &yaml);
    let _agent = env.agent("w", 1);
    let id = env.start("huge", &[]);
    let run = env.finish(&id);
    let step = only_step(&run);
    assert_eq!(run["status"], "failed", "{}", summary(&run));
    assert_eq!(step["attempt"], 1, "{}", summary(&run));
    assert_eq!(
        step["error"],
        "the step's outputs are 5.0 MiB (5242881 bytes), over the limit of 1.0 MiB \
         (1048576 bytes; IMX_MAX_OUTPUT on the control plane sets it)",
        "{}",
        summary(&run)
    );
    assert_eq!(step["outputs"], serde_json::json!({}));
}

/// `IMX_MAX_OUTPUT` on the control plane raises (or lowers) the limit.
fn the_output_limit_is_configurable(env: TestEnv) {
    let env = env.with_var("IMX_MAX_OUTPUT", "2MiB");
    let yaml = format!(
        "name: mid\nsteps:\n{}{}",
        writes_outputs("fits", 1536 * 1024, "0"),
        writes_outputs("over", 3 * 1024 * 1024, "0")
    );
    env.apply("mid.yaml", &yaml);
    let _agent = env.agent("w", 2);
    let id = env.start("mid", &[]);
    let run = env.finish(&id);
    let fits = TestEnv::step(&run, "fits");
    assert_eq!(fits["status"], "succeeded", "{}", summary(&run));
    let over = TestEnv::step(&run, "over");
    assert_eq!(over["status"], "failed", "{}", summary(&run));
    let error = over["error"].as_str().unwrap();
    assert!(
        error.ends_with(
            "over the limit of 2.0 MiB (2097152 bytes; IMX_MAX_OUTPUT on the control plane sets it)"
        ),
        "{error}"
    );
}

// --- the log: back-pressure, a cap, and a fast `run show` ---

/// The output lines of a run, as `run logs` prints them (imx's own lines left out).
fn output_lines(env: &TestEnv, id: &str) -> Vec<String> {
    let out = env.run(["run", "logs", id]);
    out.expect_code(0);
    out.stdout
        .lines()
        .filter(|l| !l.starts_with("imx:"))
        .map(str::to_string)
        .collect()
}

/// A step printing 100,000 lines as fast as it can (much faster than they can be stored) keeps
/// every one of them, in order: the agent reads its output more slowly instead of dropping.
fn a_fast_printing_step_keeps_every_line(env: TestEnv) {
    const N: usize = 100_000;
    env.apply(
        "chatty.yaml",
        &format!(
            "name: chatty\nsteps:\n  - id: talk\n    run: seq -f 'line %06g of a step that prints a lot' 1 {N}\n"
        ),
    );
    let _agent = env.agent("w", 1);
    let id = env.start("chatty", &[]);
    let run = env.finish(&id);
    assert_eq!(run["status"], "succeeded", "{run:#}");
    let lines = output_lines(&env, &id);
    assert_eq!(lines.len(), N, "lines lost; last: {:?}", lines.last());
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(
            line,
            &format!("line {:06} of a step that prints a lot", i + 1)
        );
    }
    let all = env.run(["run", "logs", &id]).stdout;
    let dropped: Vec<&str> = all.lines().filter(|l| l.contains("dropped")).collect();
    assert!(dropped.is_empty(), "{dropped:?}");
}

/// A small `IMX_MAX_LOG` keeps the first lines within it, then one line saying how much was cut.
fn a_small_log_cap_truncates_with_one_marker(env: TestEnv) {
    let env = env.with_var("IMX_MAX_LOG", "10KiB");
    // 5,000 lines of 10 bytes ("line 00001"): 50,000 bytes, of which 10,240 fit.
    env.apply(
        "capped.yaml",
        "name: capped\nsteps:\n  - id: talk\n    run: seq -f 'line %05g' 1 5000\n",
    );
    let _agent = env.agent("w", 1);
    let id = env.start("capped", &[]);
    let run = env.finish(&id);
    assert_eq!(run["status"], "succeeded", "{run:#}");
    let out = env.run(["run", "logs", &id]);
    out.expect_code(0);
    let kept: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("line "))
        .collect();
    assert_eq!(kept.len(), 1024, "10 KiB of 10-byte lines");
    assert_eq!(kept.last().copied(), Some("line 01024"));
    let markers: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.contains("output truncated"))
        .collect();
    assert_eq!(
        markers,
        [
            "imx: output truncated: 38.8 KiB (39760 bytes, 3976 lines) past the log limit of \
          10.0 KiB were not kept (IMX_MAX_LOG on the control plane sets it)"
        ],
        "{}",
        out.stdout
    );
}

/// `run show` of a run with nearly 1 MiB of outputs answers at once: the table shows a
/// shortened value (wrapping a huge cell was quadratic), JSON the whole value.
fn run_show_with_large_outputs_is_fast(env: TestEnv) {
    let yaml = format!(
        "name: wide\nsteps:\n{}",
        writes_outputs("big", 1000 * 1024, "0")
    );
    env.apply("wide.yaml", &yaml);
    let _agent = env.agent("w", 1);
    let id = env.start("wide", &[]);
    let run = env.finish(&id);
    assert_eq!(run["status"], "succeeded", "{}", summary(&run));
    for wide in [false, true] {
        let started = Instant::now();
        let mut args = vec!["run", "show", id.as_str()];
        if wide {
            args.extend(["-o", "wide"]);
        }
        let out = env.run(&args);
        let took = started.elapsed();
        out.expect_code(0);
        assert!(
            took < Duration::from_secs(10),
            "run show took {took:?} for 1 MB of outputs"
        );
        let row = out.stdout.lines().find(|l| l.contains("big")).unwrap();
        assert!(row.contains("k=aaa"), "{row}");
        assert!(
            out.stdout.len() < 4_000,
            "the table shows a short value:\n{}",
            out.stdout
        );
    }
    let started = Instant::now();
    let json = env.show_run(&id);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(
        TestEnv::step(&json, "big")["outputs"]["k"]
            .as_str()
            .unwrap()
            .len(),
        1000 * 1024
    );
}

both_modes!(
    twelve_parallel_steps_with_900_kb_outputs_succeed,
    a_step_with_5_mb_of_outputs_fails_naming_size_and_limit,
    the_output_limit_is_configurable,
    a_fast_printing_step_keeps_every_line,
    a_small_log_cap_truncates_with_one_marker,
    run_show_with_large_outputs_is_fast,
);

// --- a read-only store ---

/// An agent on a store it may only read stops at once (exit 1) with the store's error, instead
/// of retrying its registration forever. Root writes through file permissions, so as root the
/// agent runs as `nobody` (the store readable, not writable by it); otherwise the store and its
/// folder are made read-only.
#[test]
fn an_agent_on_a_read_only_store_exits_with_the_stores_error() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    assert_eq!(env.mode(), Mode::Local);
    env.run(["init"]).expect_code(0);
    // At rest: no -wal/-shm for `nobody` to need (the last connection removed them).
    env.run(["workflow", "list"]).expect_code(0);
    let store = env.store();
    let root = nix::unistd::geteuid().is_root();
    let wrapper: &[&str] = if root {
        if std::process::Command::new("setpriv")
            .arg("--version")
            .output()
            .is_err()
        {
            eprintln!("skipped: setpriv is not installed (needed to run imx as nobody)");
            return;
        }
        &[
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
        ]
    } else {
        &[]
    };
    let (home_mode, dir_mode, file_mode) = if root {
        (0o755, 0o755, 0o644)
    } else {
        (0o755, 0o555, 0o444)
    };
    for (path, mode) in [
        (env.home(), home_mode),
        (store.parent().unwrap(), dir_mode),
        (store.as_path(), file_mode),
    ] {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    // The store really is read-only for the agent's user: a write is refused.
    env.run_via(wrapper, ["run", "cancel", "0"])
        .expect_error(1)
        .expect_stderr(&["the store is read-only"]);
    let mut agent = env.spawn_with(env.std_cmd_via(wrapper), ["agent", "run", "--name", "ro"]);
    let status = agent.wait_exit(SLOW);
    let stderr = agent.stderr();
    // Put the folder back so the temp dir can be removed.
    std::fs::set_permissions(
        store.parent().unwrap(),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "error: {}: the store is read-only",
            store.display()
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("will retry"), "{stderr}");
}
