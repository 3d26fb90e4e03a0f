//! PostgreSQL for the CLI tests: the store's test databases (a fresh database on a shared
//! server, or a throwaway server of the test's own that it can kill and restart), shared with
//! the library's unit tests. Cluster-mode tests (`imx server --database`) start from here.

#![allow(clippy::expect_used)]

#[path = "../../src/store/postgres/testdb.rs"]
pub mod testdb;

use std::time::Duration;

/// The throwaway server starts, takes connections, comes back after a crash, and is gone
/// after its drop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throwaway_postgres_starts_restarts_and_goes() {
    let Some(pg) = tokio::task::spawn_blocking(testdb::TempPostgres::start)
        .await
        .expect("start")
    else {
        return;
    };
    let query = |url: String| async move {
        let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .expect("connect");
        tokio::spawn(conn);
        client
            .query_one("SELECT 40 + 2", &[])
            .await
            .expect("query")
            .get::<_, i32>(0)
    };
    assert_eq!(query(pg.url("postgres")).await, 42);
    let pid = pg.pid().expect("a postmaster pid");
    let pg = tokio::task::spawn_blocking(move || {
        pg.kill9();
        pg.start_again();
        pg
    })
    .await
    .expect("restart");
    assert_ne!(pg.pid(), Some(pid), "a new postmaster");
    assert_eq!(query(pg.url("postgres")).await, 42);
    let new_pid = pg.pid().expect("pid");
    tokio::task::spawn_blocking(move || drop(pg))
        .await
        .expect("drop");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::path::Path::new(&format!("/proc/{new_pid}")).exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the server outlived its drop"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
