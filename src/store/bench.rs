//! Bulk seeding for benchmarks and the dashboard's long-log tests: a SQLite store filled by
//! direct inserts in one transaction (a million runs in seconds, where a million control-plane
//! calls would take an hour), and the query plans of the reads the dashboard makes against it.
//! Not part of imx's interface: the rows it writes are shaped like the control plane's but skip
//! its rules (no events per transition, no leases), which is all a read benchmark needs.

#![doc(hidden)]

use std::path::Path;

use rusqlite::{Connection, params};

use crate::Result;
use crate::auth::Principal;

/// What [`seed_dashboard`] puts in a store.
#[derive(Debug, Clone)]
pub struct Seed {
    /// Runs of the two-step workflow `deploy` (`build`, then `test`), spread over the last 30
    /// days; the newest 200 are active (the newest one running).
    pub runs: usize,
    /// Agents, one in ten offline; steps are spread over them.
    pub agents: usize,
    /// Lines of the newest run's `build` step (its `test` step, running, has 3).
    pub log_lines: usize,
    /// Audit records (`run.start`).
    pub audit: usize,
    /// Written to `meta` as `bench_seed` (see [`seed_mark`]), followed by a space and the id
    /// of the run with the long log: what was seeded, so a bench can reuse a store seeded
    /// earlier.
    pub mark: String,
}

/// The `bench_seed` mark of the store at `path`, if it has one.
pub fn seed_mark(path: &Path) -> Option<String> {
    let db = Connection::open(path).ok()?;
    db.query_row("SELECT value FROM meta WHERE key = 'bench_seed'", [], |r| {
        r.get(0)
    })
    .ok()
}

/// The id of the `i`th seeded run, created at `created` (ms).
fn run_id(created: i64, i: usize) -> String {
    ulid::Ulid::from_parts(created as u64, (i as u128) << 16).to_string()
}

/// Fill the store at `path` — made by the real open, with the workflow `deploy` applied —
/// with `seed`'s rows, in one transaction. Returns the id of the newest run (the one with the
/// long log).
pub fn seed_dashboard(path: &Path, seed: &Seed) -> Result<String> {
    let mut db = Connection::open(path)?;
    db.pragma_update(None, "synchronous", "OFF")?;
    let tx = db.transaction()?;
    let now = crate::model::now_ms();
    let span = 30 * 86_400_000_i64;
    let agent_ids: Vec<String> = (0..seed.agents.max(1))
        .map(|i| ulid::Ulid::from_parts((now - span) as u64, i as u128).to_string())
        .collect();
    let mut newest = String::new();
    {
        let mut ins = tx.prepare(
            "INSERT INTO agents (id, name, labels, slots, draining, registered_at, last_heartbeat,
                                 stopped_at, hostname, pid, version)
             VALUES (?1, ?2, ?3, 4, ?4, ?5, ?6, NULL, ?7, ?8, '0.1.0')",
        )?;
        for (i, id) in agent_ids.iter().enumerate().take(seed.agents) {
            let offline = i % 10 == 9;
            ins.execute(params![
                id,
                format!("agent-{i:05}"),
                format!("{{\"os\":\"linux\",\"zone\":\"z{}\"}}", i % 8),
                i % 50 == 7,
                now - span,
                if offline {
                    now - 3_600_000
                } else {
                    now + 600_000
                },
                format!("node-{}", i / 16),
                1000 + i
            ])?;
        }
        let mut run = tx.prepare(
            "INSERT INTO runs (id, workflow, workflow_version, status, params, created_at, started_at,
                               finished_at, created_by, steps_total, steps_done, steps_succeeded, error)
             VALUES (?1, 'deploy', 1, ?2, '{\"version\":\"1.0\"}', ?3, ?4, ?5, 'local:bench', 2, ?6, ?7, ?8)",
        )?;
        let mut step = tx.prepare(
            "INSERT INTO steps (run_id, step_id, idx, kind, status, pending_needs, attempt, tries,
                                agent_id, agent_name, lease_until, not_before, started_at, finished_at)
             VALUES (?1, ?2, ?3, 'run', ?4, 0, ?5, ?5, ?6, ?7, ?8, 0, ?9, ?10)",
        )?;
        let mut event = tx.prepare(
            "INSERT INTO events (time, kind, run_id, step_id, data) VALUES (?1, ?2, ?3, NULL, '{}')",
        )?;
        let runs = seed.runs;
        for i in 0..runs {
            let created = now - span + (i as i64 * span / runs as i64);
            let id = run_id(created, i);
            let active = runs - i <= 200;
            let (status, error) = if active {
                let running = (runs - 1 - i).is_multiple_of(2);
                (if running { "running" } else { "queued" }, None)
            } else {
                match i % 100 {
                    0..=3 => ("failed", Some("step \"test\" failed: exit code 1")),
                    4 => ("cancelled", Some("cancelled by an operator")),
                    _ => ("succeeded", None),
                }
            };
            let started = (status != "queued").then_some(created + 1_000);
            let finished = (!active).then_some(created + 60_000);
            let ok = if status == "succeeded" { 2 } else { 1 };
            run.execute(params![
                id,
                status,
                created,
                started,
                finished,
                if active { 0 } else { 2 },
                ok,
                error
            ])?;
            let agent = &agent_ids[i % agent_ids.len()];
            let agent_name = format!("agent-{:05}", i % agent_ids.len());
            let (s1, s2) = match status {
                "running" => ("succeeded", "running"),
                "queued" => ("ready", "pending"),
                "succeeded" => ("succeeded", "succeeded"),
                "failed" => ("succeeded", "failed"),
                _ => ("succeeded", "cancelled"),
            };
            let held = s2 == "running";
            step.execute(params![
                id,
                "build",
                0,
                s1,
                i32::from(s1 != "ready"),
                (s1 != "ready").then_some(agent),
                (s1 != "ready").then_some(&agent_name),
                Option::<i64>::None,
                started,
                started.map(|s| s + 20_000)
            ])?;
            step.execute(params![
                id,
                "test",
                1,
                s2,
                i32::from(s2 != "pending"),
                (s2 != "pending").then_some(agent),
                (s2 != "pending").then_some(&agent_name),
                held.then_some(now + 30_000),
                started.map(|s| s + 20_000),
                finished
            ])?;
            if i % 10 == 0 {
                event.execute(params![created, "run.created", id])?;
            }
            if i + 1 == runs {
                newest = id;
            }
        }
        long_log(&tx, &newest, "build", 0..seed.log_lines, now - 60_000)?;
        long_log(&tx, &newest, "test", 0..3, now)?;
    }
    let owner = Principal::local_owner();
    for i in 0..seed.audit {
        crate::audit::append(
            &tx,
            &owner,
            "run.start",
            &format!("deploy #{i}"),
            "ok",
            serde_json::Value::Null,
        )?;
    }
    tx.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('bench_seed', ?1)",
        [format!("{} {newest}", seed.mark)],
    )?;
    tx.commit()?;
    db.execute_batch("ANALYZE")?;
    Ok(newest)
}

/// Lines `lines` of build output for one step of a run, a millisecond apart from `from`:
/// mostly plain, every 10th coloured, every 1000th a warning on stderr. Line `i` starts
/// `line i: `.
fn long_log(
    tx: &rusqlite::Transaction<'_>,
    run_id: &str,
    step_id: &str,
    lines: std::ops::Range<usize>,
    from: i64,
) -> Result<()> {
    let mut ins = tx.prepare(
        "INSERT INTO logs (run_id, step_id, attempt, time, stream, line)
         VALUES (?1, ?2, 1, ?3, ?4, ?5)",
    )?;
    for i in lines {
        let (stream, line) = if i % 1000 == 999 {
            (
                "stderr",
                format!("line {i}: warning: unused variable `x{i}`"),
            )
        } else if i % 10 == 0 {
            let (c, v) = (i % 977, i % 7);
            let line = format!("line {i}: \x1b[32m   Compiling\x1b[0m crate-{c} v0.{v}.0");
            ("stdout", line)
        } else {
            let m = i % 977;
            let line = format!("line {i}: cc -O2 -c src/module_{m}.c -o build/module_{m}.o");
            ("stdout", line)
        };
        ins.execute(params![run_id, step_id, from + i as i64, stream, line])?;
    }
    Ok(())
}

/// Write lines `lines` (numbered as in a seeded log) to a step's log of the store at `path`
/// directly: tests of long logs.
pub fn append_long_log(
    path: &Path,
    run_id: &str,
    step_id: &str,
    lines: std::ops::Range<usize>,
) -> Result<()> {
    let mut db = Connection::open(path)?;
    let tx = db.transaction()?;
    long_log(&tx, run_id, step_id, lines, crate::model::now_ms())?;
    tx.commit()?;
    Ok(())
}

/// The reads the dashboard makes on a big store (the overview's counts and minutes, the
/// failures, a run page, a log's tail and the page before a line), each with SQLite's plan for
/// it: every one should search an index, none scan a table.
pub fn plans(path: &Path, log_run: &str) -> Result<Vec<(String, String)>> {
    let db = Connection::open(path)?;
    let since = crate::model::now_ms() - 86_400_000;
    let reads: [(&str, Vec<rusqlite::types::Value>); 9] = [
        ("SELECT count(*) FROM runs WHERE status = 'running'", vec![]),
        (
            "SELECT finished_at / 60000, status, count(*) FROM runs WHERE finished_at >= ?1 GROUP BY 1, 2",
            vec![since.into()],
        ),
        (
            "SELECT finished_at / 60000, count(*) FROM steps WHERE finished_at >= ?1 GROUP BY 1",
            vec![since.into()],
        ),
        (
            "SELECT finished_at - started_at FROM steps WHERE finished_at >= ?1 AND started_at IS NOT NULL ORDER BY finished_at DESC LIMIT 1000",
            vec![since.into()],
        ),
        (
            "SELECT agent_id, count(*) FROM steps WHERE status IN ('leased', 'running') AND agent_id IS NOT NULL GROUP BY agent_id",
            vec![],
        ),
        (
            "SELECT id FROM runs WHERE status = 'failed' ORDER BY id DESC LIMIT 5",
            vec![],
        ),
        ("SELECT id FROM runs ORDER BY id DESC LIMIT 100", vec![]),
        (
            "SELECT id, line FROM logs INDEXED BY logs_by_run WHERE run_id = ?1 AND id < ?2 AND (?3 IS NULL OR step_id = ?3) ORDER BY id DESC LIMIT 1000",
            vec![
                log_run.to_string().into(),
                i64::MAX.into(),
                "build".to_string().into(),
            ],
        ),
        (
            "SELECT id, line FROM logs INDEXED BY logs_by_run WHERE run_id = ?1 AND id > ?2 AND (?3 IS NULL OR step_id = ?3) ORDER BY id LIMIT 1000",
            vec![
                log_run.to_string().into(),
                0.into(),
                "build".to_string().into(),
            ],
        ),
    ];
    let mut out = Vec::new();
    for (sql, args) in reads {
        let mut stmt = db.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
        let plan = stmt
            .query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(3))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        out.push((sql.to_string(), plan.join("; ")));
    }
    Ok(out)
}
