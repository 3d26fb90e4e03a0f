//! Retention of finished runs: `imx run prune --older-than` (locally, through a server, and on a
//! server over PostgreSQL) deletes the finished runs that ended before the cutoff with their
//! events and logs, after a confirmation, audited as one `run.prune` record; runs still going
//! stay, and followers carry on after it. `imx server --retain` does it on its own.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::both_modes;
use crate::env::{SLOW, TestEnv, wait_until};

/// The runs `run prune --older-than 1s --dry-run` would delete now.
fn would_prune(env: &TestEnv) -> u64 {
    env.json(["run", "prune", "--older-than", "1s", "--dry-run"])["runs"]
        .as_u64()
        .unwrap()
}

fn prune_deletes_finished_runs_and_keeps_the_rest(env: TestEnv) {
    let gate = env.home().join("gate");
    env.apply(
        "talk.yaml",
        "name: talk\nsteps:\n  - id: say\n    run: echo said-it\n",
    );
    env.apply(
        "gated.yaml",
        &format!(
            "name: gated\nsteps:\n  - id: wait\n    run: |\n      echo gated-start\n      \
             while [ ! -e '{}' ]; do sleep 0.02; done\n      echo gated-done\n",
            gate.display()
        ),
    );
    let _agent = env.agent("worker", 2);
    let done = env.start("talk", &[]);
    assert_eq!(env.finish(&done)["status"], "succeeded");
    let cancelled = env.start("gated", &[]);
    env.run(["run", "cancel", &cancelled]).expect_code(0);
    let going = env.start("gated", &[]);
    // Its line is the newest: the ended runs' lines are not the table's last (which stays).
    wait_until("the gated run to print", SLOW, || {
        env.run(["run", "logs", &going])
            .stdout
            .contains("gated-start")
    });

    env.run(["run", "prune", "--older-than", "0s"])
        .expect_code(2)
        .expect_stderr(&["--older-than must be longer than 0s"]);
    // The runs that ended over a second ago, and only those.
    wait_until("both ended runs to be over a second old", SLOW, || {
        would_prune(&env) == 2
    });
    let dry = env.run(["run", "prune", "--older-than", "1s", "--dry-run"]);
    dry.expect_code(0)
        .expect_stderr(&["Would delete 2 finished runs"]);
    env.show_run(&done);
    // Destructive: confirmed, or refused.
    env.run(["run", "prune", "--older-than", "1s"])
        .expect_code(2)
        .expect_stderr(&["refusing to delete 2 finished runs", "--yes"]);
    let out = env.run(["run", "prune", "--older-than", "1s", "--yes", "-o", "json"]);
    out.expect_code(0).expect_stderr(&["Deleted 2 runs"]);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(report["runs"], 2, "{report}");
    assert_eq!(report["complete"], true, "{report}");
    assert!(report["log_lines"].as_u64().unwrap() >= 1, "{report}");
    assert!(report["events"].as_u64().unwrap() >= 2, "{report}");

    env.run(["run", "show", &done]).expect_code(3);
    env.run(["run", "show", &cancelled]).expect_code(3);
    assert_eq!(env.show_run(&going)["status"], "running");
    let records = env.json(["audit", "list", "--action", "run.prune"]);
    let records = records.as_array().unwrap();
    assert_eq!(
        records.len(),
        1,
        "one record for the whole prune: {records:?}"
    );
    assert_eq!(records[0]["outcome"], "ok");
    assert_eq!(records[0]["details"]["runs"], 2);
    assert_eq!(records[0]["details"]["older_than_ms"], 1000);

    // What goes on after it is followed as before: the running run ends, a new one runs, and
    // their output and ends are seen.
    std::fs::write(&gate, "").unwrap();
    assert_eq!(env.finish(&going)["status"], "succeeded");
    let next = env.start("talk", &[]);
    assert_eq!(env.finish(&next)["status"], "succeeded");
    let logs = env.run(["run", "logs", &next]);
    logs.expect_code(0);
    assert!(logs.stdout.contains("said-it"), "{}", logs.stdout);
    let nothing = env.run(["run", "prune", "--older-than", "1h"]);
    nothing.expect_code(0).expect_stderr(&["nothing to prune"]);
}

both_modes!(prune_deletes_finished_runs_and_keeps_the_rest);

/// `imx server --retain 1s`: the server prunes ended runs on its own (on PostgreSQL, the
/// maintenance leader does), audited as `server:retention`; a run still going stays.
fn a_server_retains_on_its_own(env: TestEnv) {
    let env = env.with_server_args(&["--retain", "1s"]);
    env.apply(
        "hello.yaml",
        "name: hello\nsteps:\n  - id: a\n    noop: true\n",
    );
    let ended = env.start("hello", &[]);
    env.run(["run", "cancel", &ended]).expect_code(0);
    let waiting = env.start("hello", &[]);
    wait_until("the server to prune the ended run", SLOW, || {
        env.run(["run", "show", &ended]).code == 3
    });
    assert_eq!(env.show_run(&waiting)["status"], "queued");
    // A pass may have found only the workflow's `applied` event old enough before the run
    // ended (a loaded machine takes over a second from apply to cancel): look for the run's.
    // Its record is written once the pass's batches are done, after the run is gone: wait
    // for it (reading it as soon as the run was gone failed now and then under load).
    let records = || {
        env.json(["audit", "list", "--action", "run.prune"])
            .as_array()
            .unwrap()
            .clone()
    };
    wait_until("the prune to be audited", SLOW, || {
        records().iter().any(|r| r["details"]["runs"] == 1)
    });
    let records = records();
    assert!(
        records.iter().all(|r| r["actor"] == "server:retention"),
        "{records:?}"
    );
}

#[test]
fn a_server_retains_on_its_own_on_sqlite() {
    a_server_retains_on_its_own(TestEnv::remote());
}

#[test]
fn a_server_retains_on_its_own_on_postgres() {
    if let Some(env) = TestEnv::on_postgres() {
        a_server_retains_on_its_own(env);
    }
}

#[test]
fn retain_must_be_a_period() {
    let env = TestEnv::new();
    env.run(["server", "--listen", "127.0.0.1:0", "--retain", "0s"])
        .expect_code(2)
        .expect_stderr(&["--retain must be longer than 0s"]);
}
