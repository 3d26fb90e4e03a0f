//! `imx run logs -f` and `imx run watch` follow a run live — locally, and through a server,
//! where they ride its event stream (new log lines arrive as `logs` marks): a line a step prints
//! shows up while the step is still running, and a state change as it happens.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use crate::both_modes;
use crate::env::{SLOW, TestEnv, wait_until};

/// A workflow whose first step prints a line, waits for `gate` to exist, prints another, and
/// whose second step runs after it.
fn gated(env: &TestEnv) -> std::path::PathBuf {
    let gate = env.home().join("gate");
    env.apply(
        "gated.yaml",
        &format!(
            "name: gated\nsteps:\n  - id: talk\n    run: |\n      echo first-line\n      \
             while [ ! -e '{}' ]; do sleep 0.02; done\n      echo second-line\n  \
             - id: after\n    needs: [talk]\n    noop: true\n",
            gate.display()
        ),
    );
    gate
}

fn step_status(env: &TestEnv, id: &str, step: &str) -> String {
    let run = env.show_run(id);
    TestEnv::step(&run, step)["status"]
        .as_str()
        .unwrap()
        .to_string()
}

fn logs_follow_shows_a_line_while_the_step_still_runs(env: TestEnv) {
    let gate = gated(&env);
    let _agent = env.agent("worker", 1);
    let id = env.start("gated", &[]);
    let mut follower = env.spawn(["run", "logs", &id, "-f"]);
    wait_until("the first line", SLOW, || {
        follower.stdout().contains("first-line")
    });
    // Shown while the step is still running: it is waiting for the gate.
    assert_eq!(step_status(&env, &id, "talk"), "running");
    assert!(follower.try_exit().is_none(), "logs -f left early");
    assert!(!follower.stdout().contains("second-line"));

    // The next line arrives promptly (the target through a server is ~200 ms; the bound here
    // only guards against falling back to slow polling on a loaded machine).
    std::fs::write(&gate, "").unwrap();
    let opened = Instant::now();
    wait_until("the second line", SLOW, || {
        follower.stdout().contains("second-line")
    });
    let took = opened.elapsed();
    eprintln!(
        "{:?}: second line shown {took:?} after the gate opened",
        env.mode()
    );
    assert!(took < Duration::from_secs(5), "{took:?}");

    let status = follower.wait_exit(SLOW);
    assert!(status.success(), "{}", follower.stderr());
    let out = follower.stdout();
    let lines: Vec<&str> = out.lines().filter(|l| l.contains("-line")).collect();
    assert_eq!(lines.len(), 2, "each line once, in order: {out}");
    assert!(lines[0].ends_with("first-line") && lines[1].ends_with("second-line"));
}

fn watch_follows_state_changes_as_they_happen(env: TestEnv) {
    let gate = gated(&env);
    let _agent = env.agent("worker", 1);
    let id = env.start("gated", &[]);
    let mut watcher = env.spawn(["run", "watch", &id]);
    wait_until("watch to show the step running", SLOW, || {
        watcher
            .stderr()
            .lines()
            .any(|l| l.contains("talk") && l.contains("running"))
    });
    assert!(watcher.try_exit().is_none(), "watch left early");
    std::fs::write(&gate, "").unwrap();
    let status = watcher.wait_exit(SLOW);
    assert!(status.success(), "{}", watcher.stderr());
    let err = watcher.stderr();
    assert!(
        err.lines()
            .any(|l| l.contains("after") && l.contains("succeeded")),
        "{err}"
    );
    assert!(err.contains("succeeded"), "{err}");
}

both_modes!(
    logs_follow_shows_a_line_while_the_step_still_runs,
    watch_follows_state_changes_as_they_happen,
);
