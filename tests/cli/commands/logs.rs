//! `run logs` filters (`--since`, `--tail`, `--grep`, `--timestamps`, `--failed`) and the
//! failed step's last lines that `run show` and `--wait` print (issue 14).

use super::short_leases;
use crate::env::TestEnv;

const NOISY: &str = r#"name: noisy
steps:
  - id: ok
    run: for i in $(seq 1 30); do echo ok-$i; done
  - id: boom
    needs: [ok]
    run: "for i in $(seq 1 30); do echo line-$i; done; echo 'fatal - it broke'; exit 3"
"#;

fn logs_filter_and_failures_show_the_last_lines(env: TestEnv) {
    let env = short_leases(env);
    env.apply("noisy.yaml", NOISY);
    let _agent = env.agent("worker", 1);

    // --wait on a failed run: the failing step's last 20 lines on stderr, then the error.
    let out = env.run(["workflow", "run", "noisy", "--wait"]);
    out.expect_code(10);
    assert!(
        out.stderr.contains("Last 20 lines of step boom:"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("  fatal - it broke"), "{}", out.stderr);
    assert!(out.stderr.contains("  line-30"), "{}", out.stderr);
    assert!(out.stderr.contains("  line-12"), "{}", out.stderr);
    assert!(!out.stderr.contains("  line-11\n"), "{}", out.stderr);
    assert!(
        !out.stderr.contains("ok-"),
        "only the failed step: {}",
        out.stderr
    );
    let runs = env.json(["run", "list"]);
    let id = runs[0]["id"].as_str().unwrap().to_string();

    // run show: the same lines after the steps table (people only).
    let show = env.run(["run", "show", &id]);
    show.expect_code(0);
    assert!(
        show.stdout.contains("Last 20 lines of step boom:"),
        "{}",
        show.stdout
    );
    let json = env.json(["run", "show", &id]);
    assert_eq!(json["status"], "failed");

    // --failed: only the failed steps' last lines, prefixed with the step.
    let failed = env.run(["run", "logs", &id, "--failed", "--tail", "2"]);
    failed.expect_code(0);
    let lines: Vec<&str> = failed.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", failed.stdout);
    assert!(lines.iter().all(|l| l.starts_with("boom | ")), "{lines:?}");
    assert!(
        failed.stdout.contains("fatal - it broke"),
        "{}",
        failed.stdout
    );

    // --tail: the last N lines of everything; --grep filters first.
    let tail = env.run(["run", "logs", &id, "--step", "ok", "--tail", "3"]);
    tail.expect_code(0);
    assert_eq!(
        tail.stdout.lines().collect::<Vec<_>>(),
        ["ok-28", "ok-29", "ok-30"]
    );
    let grep = env.run([
        "run",
        "logs",
        &id,
        "--grep",
        "^line-(1|2)$",
        "--step",
        "boom",
    ]);
    grep.expect_code(0);
    assert_eq!(grep.stdout, "line-1\nline-2\n");
    env.run(["run", "logs", &id, "--grep", "("]).expect_code(2);
    env.run(["run", "logs", &id, "--tail", "0"]).expect_code(2);

    // --timestamps: an RFC 3339 time first; --no-timestamps after it wins.
    let ts = env.run([
        "run",
        "logs",
        &id,
        "--step",
        "ok",
        "--tail",
        "1",
        "--timestamps",
    ]);
    let (time, rest) = ts.stdout.trim_end().split_once(' ').unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(time).is_ok(), "{time}");
    assert_eq!(rest, "ok-30");
    let plain = env.run([
        "run",
        "logs",
        &id,
        "--step",
        "ok",
        "--tail",
        "1",
        "--timestamps",
        "--no-timestamps",
    ]);
    assert_eq!(plain.stdout, "ok-30\n");

    // --since: a time after the run ended leaves nothing; an hour ago leaves everything.
    let none = env.run(["run", "logs", &id, "--since", "2999-01-01T00:00:00Z"]);
    none.expect_code(0);
    assert_eq!(none.stdout, "");
    let all = env.run(["run", "logs", &id, "--since", "1h", "--step", "ok"]);
    assert_eq!(all.stdout.lines().count(), 30, "{}", all.stdout);

    // --step nope lists the steps.
    let nope = env.run(["run", "logs", &id, "--step", "bom"]);
    nope.expect_code(3);
    assert!(
        nope.stderr.contains("did you mean \"boom\""),
        "{}",
        nope.stderr
    );
    assert!(nope.stderr.contains("ok, boom"), "{}", nope.stderr);
}

crate::both_modes!(logs_filter_and_failures_show_the_last_lines);
