//! The store's `-wal` file after a burst of writes: back under a small bound once writing stops,
//! while a long-running process (an agent) keeps the store open.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use rusqlite::Connection;

use crate::env::{SLOW, TestEnv, wait_until};

const BURST: &str = r#"name: burst
steps:
  - id: talk
    run: "yes 'a line of step output, long enough that sixty thousand of them make a burst' | head -n 60000"
"#;

#[test]
fn the_wal_shrinks_after_a_burst_while_an_agent_keeps_the_store_open() {
    let env = TestEnv::new();
    env.apply("burst.yaml", BURST);
    let wal = env.store().with_extension("db-wal");
    let size = || std::fs::metadata(&wal).map_or(0, |m| m.len());
    // A reader holding an old snapshot (a dashboard, `run logs -f`, a long report) keeps
    // checkpoints from copying the burst into the store meanwhile: the WAL grows.
    let reader = Connection::open(env.store()).unwrap();
    reader.execute_batch("BEGIN").unwrap();
    reader
        .query_row("SELECT count(*) FROM runs", [], |r| r.get::<_, i64>(0))
        .unwrap();
    let mut agent = env.agent("w1", 1);
    let run = env.start("burst", &[]);
    let done = env.finish(&run);
    assert_eq!(done["status"], "succeeded", "{done:#}");
    let grown = size();
    assert!(
        grown > 4 << 20,
        "the burst grew the WAL to only {grown} bytes"
    );
    reader.execute_batch("COMMIT").unwrap();
    drop(reader);

    wait_until("the WAL to shrink after the burst", SLOW, || {
        size() <= 1 << 20
    });
    assert!(
        agent.try_exit().is_none(),
        "the agent still has the store open"
    );
    // Everything is still there, and consistent.
    let ok: String = Connection::open(env.store())
        .unwrap()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    assert_eq!(env.show_run(&run)["status"], "succeeded");
    env.run(["audit", "verify"]).expect_code(0);
}
