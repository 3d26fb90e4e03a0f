//! What replicas over one PostgreSQL database share instead of one host's disk, through the
//! real binary: the maintenance lease (one replica leads, `imx_maintenance_leader` on /metrics
//! says which, another takes over when it dies), the audit checkpoint log (kept in the
//! database; the key supplied to each host as IMX_AUDIT_KEY, another key refused) and the
//! backup location (`imx backup location`, a setting every host uses). Two hosts are two temp
//! HOMEs. Skipped without PostgreSQL. SQLite keeps its behaviour until a location is set.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::time::Duration;

use crate::env::{Outcome, SLOW, TestEnv, wait_until};
use crate::postgres::testdb::TestDb;

/// A fresh database, or `None` (the test then says it skipped).
fn database() -> Option<(TestDb, tokio::runtime::Runtime)> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let db = rt.block_on(TestDb::get())?;
    Some((db, rt))
}

/// `imx server --database URL` on a free port, once it prints its URL.
fn replica(env: &TestEnv, db: &str) -> (crate::env::Background, String) {
    let server = env.spawn(["server", "--listen", "127.0.0.1:0", "--database", db]);
    let mut url = String::new();
    wait_until("the replica to print its URL", SLOW, || {
        url = server.stdout().trim().to_string();
        url.starts_with("http://")
    });
    (server, url)
}

/// The value of the gauge `name` on `url`/metrics, if the server answers.
fn gauge(url: &str, name: &str) -> Option<i64> {
    let addr = url.strip_prefix("http://")?;
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        s,
        "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nAccept: text/plain\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut body = String::new();
    s.read_to_string(&mut body).ok()?;
    body.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

/// `imx --store DB ARGS` on this host, with these extra variables.
fn on(env: &TestEnv, db: &str, vars: &[(&str, &str)], args: &[&str]) -> Outcome {
    let mut cmd = env.cmd();
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = cmd
        .args(["--store", db])
        .args(args)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    Outcome::of(&out)
}

#[test]
fn one_replica_leads_maintenance_and_another_takes_over_when_it_dies() {
    let Some((db, _rt)) = database() else { return };
    let pg = db.url();
    // A short lease (IMX_MAINTENANCE_LEASE) so the takeover is quick.
    let env = TestEnv::new()
        .with_var("IMX_KEYRING", "off")
        .with_var("IMX_MAINTENANCE_LEASE", "1s");
    env.run(["init", "--database", &pg, "--admin", "root"])
        .expect_code(0);
    let (a, url_a) = replica(&env, &pg);
    let (b, url_b) = replica(&env, &pg);
    let mut leaders = (None, None);
    wait_until("one replica to lead maintenance", SLOW, || {
        leaders = (
            gauge(&url_a, "imx_maintenance_leader"),
            gauge(&url_b, "imx_maintenance_leader"),
        );
        matches!(leaders, (Some(1), Some(0)) | (Some(0), Some(1)))
    });
    let (leader, follower_url) = if leaders.0 == Some(1) {
        (a, url_b)
    } else {
        (b, url_a)
    };
    leader.signal(nix::sys::signal::Signal::SIGKILL);
    wait_until("the other replica to take over", SLOW, || {
        gauge(&follower_url, "imx_maintenance_leader") == Some(1)
    });
}

#[test]
fn audit_checkpoints_and_the_backup_location_are_the_clusters_not_a_hosts() {
    let Some((db, _rt)) = database() else { return };
    let pg = db.url();
    let host_a = TestEnv::new().with_var("IMX_KEYRING", "off");
    let host_b = TestEnv::new().with_var("IMX_KEYRING", "off");
    host_a
        .run(["init", "--database", &pg, "--admin", "root"])
        .expect_code(0);
    let key = "5e".repeat(32);
    let with_key = [("IMX_AUDIT_KEY", key.as_str())];

    // A checkpoint taken on one host is checked on another given the same key.
    on(&host_a, &pg, &with_key, &["audit", "checkpoint"]).expect_code(0);
    let verified = on(&host_b, &pg, &with_key, &["audit", "verify", "-o", "json"]);
    verified.expect_code(0);
    let report: serde_json::Value = serde_json::from_str(&verified.stdout).unwrap();
    assert_eq!(report["checkpoints"], 1, "{report:#}");
    on(&host_b, &pg, &with_key, &["audit", "checkpoint"]).expect_code(0);
    assert!(
        !host_a
            .home()
            .join(".config/imx/audit-checkpoints.jsonl")
            .exists(),
        "no host keeps the log"
    );
    // Another key, or none, is refused with what to do.
    let other = "77".repeat(32);
    let refused = on(
        &host_b,
        &pg,
        &[("IMX_AUDIT_KEY", other.as_str())],
        &["audit", "checkpoint"],
    );
    refused.expect_error(5);
    refused.expect_stderr(&["is not the key that signs", "IMX_AUDIT_KEY"]);
    let keyless = on(&host_b, &pg, &[], &["audit", "checkpoint"]);
    assert_ne!(keyless.code, 0);
    assert!(
        keyless.stderr.contains("has no audit key"),
        "{}",
        keyless.stderr
    );

    // No folder beside a database: until a location is set, a backup needs --dir.
    let listed = on(&host_b, &pg, &[], &["backup", "list"]);
    assert_ne!(listed.code, 0, "{}", listed.stdout);
    assert!(
        listed.stderr.contains("imx backup location"),
        "{}",
        listed.stderr
    );
    let shared = host_a.home().join("shared-backups");
    std::fs::create_dir_all(&shared).unwrap();
    on(
        &host_a,
        &pg,
        &[],
        &["backup", "location", shared.to_str().unwrap()],
    )
    .expect_code(0);
    let shown = on(&host_b, &pg, &[], &["backup", "location", "-o", "json"]);
    shown.expect_code(0);
    let shown: serde_json::Value = serde_json::from_str(&shown.stdout).unwrap();
    assert_eq!(shown["setting"], shared.to_str().unwrap(), "{shown:#}");
    assert_eq!(shown["effective"], shared.to_str().unwrap(), "{shown:#}");
    assert_eq!(shown["source"], "setting");
    on(&host_b, &pg, &[], &["backup", "list"]).expect_code(0);
}

#[test]
fn sqlite_backups_go_beside_the_store_until_a_location_is_set() {
    let env = TestEnv::new();
    env.run(["init"]).expect_code(0);
    let shown = env.json(["backup", "location"]);
    assert_eq!(shown["setting"], serde_json::Value::Null, "{shown:#}");
    assert_eq!(shown["source"], "store");
    let beside = env.store().parent().unwrap().join("backups");
    assert_eq!(shown["effective"], beside.to_str().unwrap());

    let elsewhere = env.home().join("elsewhere");
    env.run(["backup", "location", elsewhere.to_str().unwrap()])
        .expect_code(0);
    env.run(["backup", "create"]).expect_code(0);
    let made = std::fs::read_dir(&elsewhere).unwrap().count();
    assert!(made > 0, "the backup went to the location set");
    assert!(!beside.exists(), "and not beside the store");
    env.run(["backup", "location", "--unset"]).expect_code(0);
    let shown = env.json(["backup", "location"]);
    assert_eq!(shown["source"], "store");
    let audited = env.run(["audit", "list", "-o", "json"]);
    assert!(
        audited.stdout.contains("backup_location"),
        "setting it is audited"
    );
}
