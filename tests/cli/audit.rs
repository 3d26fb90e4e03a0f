//! `imx audit ...` end to end: filters, show, tail, export, reports in every format, checkpoints,
//! prune with an archive, and tampering of every kind caught by `verify` with the first bad seq.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use rusqlite::Connection;

use crate::env::TestEnv;

const WF: &str = "name: w\nsteps:\n  - id: a\n    noop: true\n";

/// A store with `runs` runs: 1 apply + `runs` run.start records.
fn seeded(runs: usize) -> TestEnv {
    let env = TestEnv::new();
    let wf = env.write("w.yaml", WF);
    env.run(["workflow", "apply", "-f", wf.to_str().unwrap()])
        .expect_code(0);
    for _ in 0..runs {
        env.run(["workflow", "run", "w"]).expect_code(0);
    }
    env
}

fn sql(env: &TestEnv, sql: &str) {
    let c = Connection::open(env.store()).unwrap();
    c.execute_batch(sql).unwrap();
}

fn verify_fails_at(env: &TestEnv, seq: i64, kind: &str) {
    let out = env.run(["audit", "verify"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains(&format!("broken at seq {seq}:")),
        "expected seq {seq}: {}",
        out.stderr
    );
    assert!(
        out.stderr.contains(kind),
        "expected {kind:?}: {}",
        out.stderr
    );
}

#[test]
fn list_filters_show_and_tail() {
    let env = seeded(3);
    let all = env.run(["audit", "list", "-o", "json"]);
    all.expect_code(0);
    let recs: Vec<serde_json::Value> = serde_json::from_str(&all.stdout).unwrap();
    assert_eq!(recs.len(), 4);
    assert_eq!(recs[0]["action"], "workflow.apply");

    let starts = env.run(["audit", "list", "--action", "run.start", "-o", "name"]);
    assert_eq!(starts.stdout.lines().collect::<Vec<_>>(), ["2", "3", "4"]);
    let prefix = env.run(["audit", "list", "--action", "run.*", "-o", "name"]);
    assert_eq!(prefix.stdout.lines().count(), 3);
    let none = env.run(["audit", "list", "--outcome", "denied", "-o", "json"]);
    assert_eq!(none.stdout.trim(), "[]");
    let actor = recs[0]["actor"].as_str().unwrap();
    let by_actor = env.run(["audit", "list", "--actor", actor, "-o", "name"]);
    assert_eq!(by_actor.stdout.lines().count(), 4);
    let future = env.run(["audit", "list", "--since", "2999-01-01", "-o", "name"]);
    assert_eq!(future.stdout, "");
    let past = env.run([
        "audit",
        "list",
        "--until",
        "2000-01-01T00:00:00Z",
        "-o",
        "name",
    ]);
    assert_eq!(past.stdout, "");
    env.run(["audit", "list", "--since", "yesterday"])
        .expect_code(2);
    let limited = env.run(["audit", "list", "--limit", "2", "-o", "name"]);
    assert_eq!(
        limited.stdout.lines().collect::<Vec<_>>(),
        ["3", "4"],
        "the newest"
    );

    let show = env.run(["audit", "show", "2"]);
    show.expect_code(0);
    assert!(show.stdout.contains("run.start") && show.stdout.contains("Prev hash:"));
    env.run(["audit", "show", "99"]).expect_code(3);

    let tail = env.run(["audit", "tail", "-n", "2", "-o", "name"]);
    assert_eq!(tail.stdout.lines().collect::<Vec<_>>(), ["3", "4"]);
}

#[test]
fn tail_follow_prints_new_records() {
    let env = seeded(1);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_imx"))
        .env_clear()
        .env("HOME", env.home())
        .env("IMX_STORE", env.store())
        .args(["audit", "tail", "-f", "-n", "1", "-o", "json"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let first = rx.recv_timeout(std::time::Duration::from_secs(20)).unwrap();
    assert!(first.contains("\"seq\":2"), "{first}");
    env.run(["workflow", "run", "w"]).expect_code(0);
    let next = rx.recv_timeout(std::time::Duration::from_secs(20)).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        next.contains("\"seq\":3") && next.contains("run.start"),
        "{next}"
    );
}

#[test]
fn verify_names_the_first_edited_deleted_reordered_or_inserted_record() {
    let env = seeded(5);
    env.run(["audit", "verify"]).expect_code(0);

    sql(
        &env,
        "UPDATE audit SET target = 'someone-else' WHERE seq = 3",
    );
    verify_fails_at(&env, 3, "edited");

    let env = seeded(5);
    sql(&env, "DELETE FROM audit WHERE seq = 4");
    verify_fails_at(&env, 4, "missing");

    // Reorder: swap the contents of records 3 and 4.
    let env = seeded(5);
    sql(
        &env,
        "UPDATE audit SET seq = -3 WHERE seq = 3; UPDATE audit SET seq = 3 WHERE seq = 4;
         UPDATE audit SET seq = 4 WHERE seq = -3;",
    );
    verify_fails_at(&env, 3, "edited");

    // Insert: shift records 4.. up and put a forged record (hash recomputed by a tool that knows
    // the format) at 4: the record after it no longer links.
    let env = seeded(5);
    sql(
        &env,
        "UPDATE audit SET seq = seq + 100 WHERE seq >= 4; UPDATE audit SET seq = seq - 99 WHERE seq >= 104;",
    );
    let c = Connection::open(env.store()).unwrap();
    let prev: String = c
        .query_row("SELECT hash FROM audit WHERE seq = 3", [], |r| r.get(0))
        .unwrap();
    let forged = imx::model::AuditRecord {
        seq: 4,
        time: 1,
        actor: "local:mallory".into(),
        source: "local".into(),
        action: "run.cancel".into(),
        target: "x".into(),
        outcome: "ok".into(),
        details: serde_json::Value::Null,
        prev_hash: prev,
        hash: String::new(),
    };
    let hash = imx::audit::record_hash(&forged);
    c.execute(
        "INSERT INTO audit VALUES (4, 1, 'local:mallory', 'local', 'run.cancel', 'x', 'ok', 'null', ?1, ?2)",
        [&forged.prev_hash, &hash],
    )
    .unwrap();
    verify_fails_at(&env, 5, "edited");
}

#[test]
fn checkpoints_catch_truncation_and_a_rewritten_tail() {
    let env = seeded(4);
    let cp = env.run(["audit", "checkpoint"]);
    cp.expect_code(0);
    assert!(cp.stderr.contains("Created the audit key"), "{}", cp.stderr);
    let key = env.home().join(".config/imx/audit-key");
    assert!(key.exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    env.run(["workflow", "run", "w"]).expect_code(0);
    let ok = env.run(["audit", "verify"]);
    ok.expect_code(0);
    assert!(
        ok.stderr.contains("1 signed checkpoint holds"),
        "{}",
        ok.stderr
    );

    // Records 5 (the checkpoint itself) and 6 are deleted from the end: still a valid chain.
    sql(&env, "DELETE FROM audit WHERE seq >= 5");
    verify_fails_at(&env, 5, "truncated");

    // A forged log entry (not signed by the key) is caught too.
    let env2 = seeded(1);
    env2.run(["audit", "checkpoint"]).expect_code(0);
    let log = env2.home().join(".config/imx/audit-checkpoints.jsonl");
    let text = std::fs::read_to_string(&log).unwrap();
    std::fs::write(&log, text.replace("\"seq\":3", "\"seq\":2")).unwrap();
    let out = env2.run(["audit", "verify"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("not signed by the audit key"),
        "{}",
        out.stderr
    );
}

#[test]
fn reports_in_every_format() {
    let env = seeded(3);
    env.run(["backup", "create"]).expect_code(0);
    let json = env.run(["audit", "report", "--format", "json"]);
    json.expect_code(0);
    let r: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(r["records"], 5);
    assert_eq!(r["verification"]["ok"], true);
    assert_eq!(r["verification"]["head_seq"], 5);
    assert_eq!(r["run_outcomes"]["queued"], 3);
    assert_eq!(r["backups"]["total"], 1);
    let actions: Vec<&str> = r["by_action"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["key"].as_str().unwrap())
        .collect();
    assert_eq!(actions[0], "run.start");

    let table = env.run(["audit", "report"]);
    assert!(
        table.stdout.contains("Verification: OK"),
        "{}",
        table.stdout
    );
    assert!(
        table
            .stdout
            .contains("Backup, restore and audit maintenance history: 1")
    );

    let md = env.run(["audit", "report", "--format", "markdown"]);
    assert!(md.stdout.starts_with("# Audit report"));
    assert!(md.stdout.contains("| run.start | 3 |"), "{}", md.stdout);

    let csv = env.run(["audit", "report", "--format", "csv"]);
    assert!(csv.stdout.starts_with("section,key,count,failed\n"));
    assert!(csv.stdout.contains("action,run.start,3,0"));

    let html_path = env.home().join("report.html");
    env.run([
        "audit",
        "report",
        "--since",
        "1h",
        "--format",
        "html",
        "--out",
        html_path.to_str().unwrap(),
    ])
    .expect_code(0);
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("<svg"));
    assert!(!html.contains("<script") && !html.contains("src=") && !html.contains("href="));
    assert!(html.contains("Verification: OK"));

    sql(&env, "UPDATE audit SET actor = 'x' WHERE seq = 2");
    let broken = env.run(["audit", "report", "--format", "json"]);
    let r: serde_json::Value = serde_json::from_str(&broken.stdout).unwrap();
    assert_eq!(r["verification"]["ok"], false);
    assert_eq!(r["verification"]["problem"]["seq"], 2);
    assert!(broken.stderr.contains("does not verify"));
}

#[test]
fn export_writes_every_record_as_a_json_line() {
    let env = seeded(2);
    let out = env.run(["audit", "export", "--format", "jsonl"]);
    out.expect_code(0);
    let lines: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[2]["seq"], 3);
    assert_eq!(lines[2]["prev_hash"], lines[1]["hash"]);
    let file = env.home().join("a.jsonl");
    env.run([
        "audit",
        "export",
        "--action",
        "run.start",
        "--out",
        file.to_str().unwrap(),
    ])
    .expect_code(0);
    assert_eq!(std::fs::read_to_string(&file).unwrap().lines().count(), 2);
}

fn archive_in(dir: &Path) -> std::path::PathBuf {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .unwrap()
}

#[test]
fn prune_archives_old_records_and_the_rest_still_verifies() {
    let env = seeded(3);
    env.run(["audit", "checkpoint"]).expect_code(0);
    std::thread::sleep(std::time::Duration::from_millis(5));
    let dir = env.home().join("archive");
    env.run([
        "audit",
        "prune",
        "--keep",
        "1ms",
        "--archive-dir",
        dir.to_str().unwrap(),
    ])
    .expect_code(2); // needs --yes outside a terminal
    let dry = env.run([
        "audit",
        "prune",
        "--keep",
        "1ms",
        "--dry-run",
        "--archive-dir",
        dir.to_str().unwrap(),
    ]);
    assert!(
        dry.stderr.contains("Would archive 5 records"),
        "{}",
        dry.stderr
    );
    env.run([
        "audit",
        "prune",
        "--keep",
        "1ms",
        "--yes",
        "--archive-dir",
        dir.to_str().unwrap(),
    ])
    .expect_code(0);
    let left = env.run(["audit", "list", "-o", "json"]);
    let recs: Vec<serde_json::Value> = serde_json::from_str(&left.stdout).unwrap();
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0]["action"], "audit.prune");
    assert_eq!(recs[0]["seq"], 6);
    let ok = env.run(["audit", "verify"]);
    ok.expect_code(0);
    assert!(
        ok.stderr.contains("starts after archived record 5"),
        "{}",
        ok.stderr
    );
    let archive = archive_in(&dir);
    env.run(["audit", "verify", "--archive", archive.to_str().unwrap()])
        .expect_code(0);
    // New records chain on from the boundary.
    env.run(["workflow", "run", "w"]).expect_code(0);
    env.run(["audit", "verify"]).expect_code(0);
    // A tampered archive is caught.
    let text = std::fs::read_to_string(&archive).unwrap();
    std::fs::write(&archive, text.replacen("run.start", "run.cancel", 1)).unwrap();
    env.run(["audit", "verify", "--archive", archive.to_str().unwrap()])
        .expect_code(1);
}

/// Whether process `pid` is stopped (SIGSTOP).
fn stopped(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(") ").map(|(_, rest)| rest.starts_with('T')))
        .unwrap_or(false)
}

/// Run `imx ARGS` in the background with `IMX_TEST_FAULT=point`, wait until it stops there, and
/// kill -9 it: a crash at exactly that point.
fn crash_at(env: &TestEnv, point: &str, args: &[&str]) {
    let mut cmd = env.std_cmd();
    cmd.env("IMX_TEST_FAULT", point);
    let mut bg = env.spawn_with(cmd, args);
    let pid = bg.pid();
    crate::env::wait_until(
        &format!("imx {args:?} to stop at {point}"),
        crate::env::SLOW,
        || {
            if let Some(status) = bg.try_exit() {
                panic!(
                    "imx {args:?} exited ({status}) before {point}:\n{}",
                    bg.stderr()
                );
            }
            stopped(pid)
        },
    );
    bg.signal(nix::sys::signal::Signal::SIGKILL);
    bg.wait_exit(crate::env::SLOW);
}

fn log_of(env: &TestEnv) -> std::path::PathBuf {
    env.home().join(".config/imx/audit-checkpoints.jsonl")
}

#[test]
fn a_checkpoint_killed_between_its_two_writes_leaves_the_trail_verifiable() {
    let env = seeded(2);
    env.run(["audit", "checkpoint"]).expect_code(0);
    env.run(["workflow", "run", "w"]).expect_code(0);
    // kill -9 between the store's commit and the checkpoint log's write.
    crash_at(&env, "audit.checkpoint.between", &["audit", "checkpoint"]);
    let v = env.run(["audit", "verify"]);
    v.expect_code(0);
    assert!(
        v.stderr.contains("1 signed checkpoint holds"),
        "{}",
        v.stderr
    );
    // Exactly what happened: the checkpoint record (seq 6) has no signature in the log.
    assert!(
        v.stderr.contains("record 6") && v.stderr.contains("never reached the checkpoint log"),
        "{}",
        v.stderr
    );
    // The next checkpoint works, and covers the interrupted one's record too.
    env.run(["audit", "checkpoint"]).expect_code(0);
    let v = env.run(["audit", "verify"]);
    v.expect_code(0);
    assert!(
        v.stderr.contains("2 signed checkpoints hold") && !v.stderr.contains("never reached"),
        "{}",
        v.stderr
    );
}

#[test]
fn checkpoint_repair_withdraws_what_an_interrupted_older_imx_left() {
    // An older imx signed the checkpoint into the log, then was killed before the store
    // committed its record: the log signs a record the store does not hold. Removing the
    // committed record from the store leaves exactly that state.
    for more_writes in [false, true] {
        let env = seeded(2);
        env.run(["audit", "checkpoint"]).expect_code(0); // seq 4
        sql(&env, "DELETE FROM audit WHERE seq = 4");
        if more_writes {
            // Written after the crash: record 4 is now another record.
            env.run(["workflow", "run", "w"]).expect_code(0);
        }
        let v = env.run(["audit", "verify"]);
        v.expect_code(1);
        assert!(
            v.stderr.contains("broken at seq 4")
                && v.stderr.contains("record 4 (a checkpoint taken at")
                && v.stderr.contains("never committed")
                && v.stderr.contains("imx audit checkpoint --repair"),
            "{}",
            v.stderr
        );
        let refused = env.run(["audit", "checkpoint"]);
        refused.expect_code(5);
        assert!(refused.stderr.contains("--repair"), "{}", refused.stderr);

        let repair = env.run(["audit", "checkpoint", "--repair"]);
        repair.expect_code(0);
        assert!(
            repair
                .stderr
                .contains("Withdrew the checkpoint-log entry for record 4")
                && repair.stderr.contains("Checkpoint: record"),
            "{}",
            repair.stderr
        );
        let v = env.run(["audit", "verify"]);
        v.expect_code(0);
        assert!(
            v.stderr.contains("1 signed checkpoint holds"),
            "{}",
            v.stderr
        );
        let log = std::fs::read_to_string(log_of(&env)).unwrap();
        assert_eq!(
            log.lines()
                .filter(|l| l.contains("\"kind\":\"void\""))
                .count(),
            1,
            "{log}"
        );
        // The repair is on the record, with what it withdrew.
        let recs = env.json(["audit", "list", "--action", "audit.checkpoint.repair"]);
        let recs = recs.as_array().unwrap();
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0]["details"]["withdrawn"][0]["seq"], 4);
        // Nothing left to repair.
        let again = env.run(["audit", "checkpoint", "--repair"]);
        again.expect_code(0);
        assert!(
            again.stderr.contains("Nothing to repair"),
            "{}",
            again.stderr
        );
    }
}

#[test]
fn checkpoint_repair_never_hides_a_truncated_or_rewritten_chain() {
    // Records below the checkpoint record deleted too: a real truncation.
    let env = seeded(3);
    env.run(["audit", "checkpoint"]).expect_code(0); // seq 5
    sql(&env, "DELETE FROM audit WHERE seq >= 4");
    let log = std::fs::read(log_of(&env)).unwrap();
    let repair = env.run(["audit", "checkpoint", "--repair"]);
    repair.expect_code(5);
    assert!(
        repair.stderr.contains("cannot explain it")
            && repair.stderr.contains("nothing was changed"),
        "{}",
        repair.stderr
    );
    assert_eq!(
        std::fs::read(log_of(&env)).unwrap(),
        log,
        "the log is untouched"
    );
    verify_fails_at(&env, 4, "truncated");

    // The checkpoint record deleted and the record before it rewritten (hash recomputed).
    let env = seeded(3);
    env.run(["audit", "checkpoint"]).expect_code(0); // seq 5
    sql(&env, "DELETE FROM audit WHERE seq = 5");
    let c = Connection::open(env.store()).unwrap();
    let mut r = c
        .query_row(
            "SELECT seq, time, actor, source, action, target, outcome, details, prev_hash, hash
             FROM audit WHERE seq = 4",
            [],
            |row| {
                Ok(imx::model::AuditRecord {
                    seq: row.get(0)?,
                    time: row.get(1)?,
                    actor: row.get(2)?,
                    source: row.get(3)?,
                    action: row.get(4)?,
                    target: row.get(5)?,
                    outcome: row.get(6)?,
                    details: serde_json::from_str(&row.get::<_, String>(7)?).unwrap(),
                    prev_hash: row.get(8)?,
                    hash: row.get(9)?,
                })
            },
        )
        .unwrap();
    r.target = "someone-else".into();
    r.hash = imx::audit::record_hash(&r);
    c.execute(
        "UPDATE audit SET target = ?1, hash = ?2 WHERE seq = 4",
        [&r.target, &r.hash],
    )
    .unwrap();
    env.run(["audit", "verify"]).expect_code(1);
    env.run(["audit", "checkpoint", "--repair"]).expect_code(5);
    verify_fails_at(&env, 5, "truncated");
}

fn checkpoint_repair_on_a_sound_log_just_checkpoints(env: TestEnv) {
    env.run(["status"]).expect_code(0);
    let out = env.run(["audit", "checkpoint", "--repair", "-o", "json"]);
    out.expect_code(0);
    assert!(out.stderr.contains("Nothing to repair"), "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["withdrawn"], serde_json::json!([]));
    assert!(v["checkpoint"]["checkpoint"]["seq"].as_i64().unwrap() > 0);
    env.run(["audit", "verify"]).expect_code(0);
}

crate::both_modes!(checkpoint_repair_on_a_sound_log_just_checkpoints);
