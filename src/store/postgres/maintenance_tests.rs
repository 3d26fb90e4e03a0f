//! Maintenance on one replica at a time (tests only): two control planes, each over its own
//! [`PgStore`] on one database, as two `imx server` replicas. Only the one holding the
//! maintenance lease reaps; when it stalls (as under SIGSTOP) the other takes the lease over
//! and reaps an expired step lease within one maintenance lease; a stale leader whose lease has
//! moved on without its noticing is fenced off and changes nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::auth::Principal;
use crate::control::{ControlPlane, LocalControlPlane, LocalOptions, StartRun};
use crate::model::{AgentRegistration, StepKind, StepSpec, WorkflowSpec};
use crate::store::api::Backend;
use crate::store::postgres::PgStore;
use crate::store::postgres::store::tests::test_db;

/// Step leases granted by the planes: short, so they expire while the test waits.
const STEP_LEASE_MS: u64 = 200;

struct Replica {
    store: Arc<PgStore>,
    plane: LocalControlPlane,
}

fn replica(url: &str, lease: Duration) -> Replica {
    let store = Arc::new(
        PgStore::open(url, true)
            .unwrap()
            .with_maintenance_lease(lease),
    );
    let opts = LocalOptions {
        lease_ms: STEP_LEASE_MS,
        ..LocalOptions::default()
    };
    let plane = LocalControlPlane::with_backend(store.clone(), opts);
    Replica { store, plane }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Wait (up to 60 s) until `f` gives a value.
fn until<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Both replicas compete; once one leads: (leader, follower).
fn leader_and_follower(a: Replica, b: Replica) -> (Replica, Replica) {
    let first = until("a replica leads", || {
        match (a.plane.maintenance_leader(), b.plane.maintenance_leader()) {
            (Some(true), _) => Some(true),
            (_, Some(true)) => Some(false),
            _ => None,
        }
    });
    let (l, f) = if first { (a, b) } else { (b, a) };
    assert_eq!(f.plane.maintenance_leader(), Some(false), "one leader");
    (l, f)
}

/// A one-step run whose step an agent has claimed (through `via`) and will never heartbeat:
/// its lease expires within [`STEP_LEASE_MS`].
fn a_claimed_step(via: &LocalControlPlane) {
    let who = Principal::local_owner();
    rt().block_on(async {
        let spec = WorkflowSpec::new("w", vec![StepSpec::new("a", StepKind::Noop)]);
        via.apply_workflow(&who, spec, false).await.unwrap();
        via.start_run(
            &who,
            StartRun {
                workflow: "w".into(),
                ..StartRun::default()
            },
        )
        .await
        .unwrap();
        let agent = via
            .register_agent(&who, AgentRegistration::for_test("a1", 1))
            .await
            .unwrap();
        let tasks = via
            .claim(&who, &agent.id, 1, Duration::from_millis(0))
            .await
            .unwrap();
        assert_eq!(tasks.len(), 1);
    });
}

/// Whether an expired lease (or overdue run) waits to be reaped.
fn reap_due(store: &PgStore) -> bool {
    let store: &dyn Backend = store;
    store.read(|tx| tx.reap_due()).unwrap()
}

#[test]
fn only_the_replica_holding_the_maintenance_lease_reaps() {
    let Some(db) = test_db() else {
        return;
    };
    let lease = Duration::from_secs(2);
    let (leader, follower) =
        leader_and_follower(replica(&db.url(), lease), replica(&db.url(), lease));
    a_claimed_step(&follower.plane);
    until("the step's lease expires", || {
        reap_due(&follower.store).then_some(())
    });
    // The follower skips maintenance however often it is asked.
    for _ in 0..5 {
        assert_eq!(follower.plane.maintain_now().unwrap(), None);
    }
    assert!(reap_due(&follower.store), "the follower reaped nothing");
    assert_eq!(leader.plane.maintain_now().unwrap(), Some(1));
    assert!(
        !reap_due(&leader.store),
        "the leader reaped the expired lease"
    );
}

#[test]
fn a_stalled_leader_is_replaced_and_the_other_reaps_within_a_lease() {
    let Some(db) = test_db() else {
        return;
    };
    let lease = Duration::from_secs(2);
    let (leader, follower) =
        leader_and_follower(replica(&db.url(), lease), replica(&db.url(), lease));
    leader.store.stall_maintenance(true);
    let stalled = Instant::now();
    a_claimed_step(&leader.plane);
    let reaped = until("the follower reaps the expired step lease", || {
        follower.plane.maintain_now().unwrap().filter(|&n| n > 0)
    });
    let took = stalled.elapsed();
    eprintln!("reaped after the leader stalled: {took:?} (maintenance lease {lease:?})");
    assert_eq!(reaped, 1);
    // Within one lease, plus the follower's look interval and slack for a loaded machine.
    assert!(took < lease * 2, "took over and reaped in {took:?}");
    assert_eq!(follower.plane.maintenance_leader(), Some(true));
    assert_eq!(
        leader.plane.maintenance_leader(),
        Some(false),
        "the stalled leader's own deadline has passed"
    );
    assert_eq!(leader.plane.maintain_now().unwrap(), None);
}

#[test]
fn a_stale_leader_whose_lease_moved_on_is_fenced_off() {
    let Some(db) = test_db() else {
        return;
    };
    // A long lease: by its own clock the stale leader still leads throughout.
    let lease = Duration::from_secs(60);
    let (leader, follower) =
        leader_and_follower(replica(&db.url(), lease), replica(&db.url(), lease));
    leader.store.stall_maintenance(true);
    // The lease changes hands behind the stalled leader's back (as when the database's clock
    // ran ahead of its own, or it stalled between its check and its transaction).
    leader
        .store
        .write(|tx| {
            tx.execute(
                "UPDATE leader_lease SET holder = 'elsewhere', term = term + 1,
                 until = clock_timestamp() + interval '1 hour' WHERE name = 'maintenance'",
                &[],
            )
        })
        .unwrap();
    a_claimed_step(&follower.plane);
    until("the step's lease expires", || {
        reap_due(&leader.store).then_some(())
    });
    assert_eq!(
        leader.plane.maintenance_leader(),
        Some(true),
        "by its own clock it still leads"
    );
    assert_eq!(
        leader.plane.maintain_now().unwrap(),
        None,
        "the fence stops it"
    );
    assert!(reap_due(&leader.store), "nothing was reaped");
    assert_eq!(follower.plane.maintain_now().unwrap(), None);
}

/// A leader stopped in the middle of its maintenance transaction (it holds the lease row
/// locked) does not keep the others from taking the lease over: the database ends its idle
/// transaction after one lease.
#[test]
fn a_leader_stalled_inside_its_maintenance_transaction_is_replaced_within_a_lease() {
    let Some(db) = test_db() else {
        return;
    };
    let lease = Duration::from_millis(1000);
    let stall = Duration::from_secs(12);
    let (leader, follower) =
        leader_and_follower(replica(&db.url(), lease), replica(&db.url(), lease));
    let leader = Arc::new(leader);
    let inside = {
        let leader = leader.clone();
        std::thread::spawn(move || {
            let ran = leader.store.maintain(|_| {
                // As a SIGSTOP would: no renewal, and the transaction left open.
                leader.store.stall_maintenance(true);
                std::thread::sleep(stall);
                Ok(())
            });
            assert!(!matches!(ran, Ok(None)), "maintenance did not run");
        })
    };
    let stalled = Instant::now();
    until("the follower takes the lease over", || {
        (follower.plane.maintenance_leader() == Some(true)).then_some(())
    });
    let took = stalled.elapsed();
    eprintln!("took over from a leader stalled mid-transaction in {took:?}");
    assert!(took < stall / 2, "took over only after {took:?}");
    inside.join().unwrap();
}

/// Scheduled backups (`imx server --backup-every`) on replicas sharing a store: only the
/// replica leading maintenance takes them. Both run the schedule, each into a folder of its
/// own; while the leader takes backup after backup, the follower — looking every interval —
/// takes none.
#[test]
fn only_the_maintenance_leader_takes_scheduled_backups() {
    use crate::backup::schedule::{Schedule, run};
    use crate::backup::{BackupFormat, CreateOptions};
    let Some(db) = test_db() else {
        return;
    };
    let lease = Duration::from_secs(5);
    let (leader, follower) =
        leader_and_follower(replica(&db.url(), lease), replica(&db.url(), lease));
    let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let schedule = |dir: &std::path::Path| Schedule {
        every: Duration::from_millis(300),
        create: CreateOptions {
            out: Some(dir.join("backups")),
            format: Some(BackupFormat::Logical),
            ..CreateOptions::default()
        },
        retention: None,
    };
    let (lead_s, follow_s) = (schedule(dirs.0.path()), schedule(dirs.1.path()));
    let count = |dir: &std::path::Path| {
        std::fs::read_dir(dir.join("backups")).map_or(0, |d| {
            d.filter_map(|e| e.ok())
                .filter(|e| e.file_name().to_string_lossy().ends_with(".imxb"))
                .count()
        })
    };
    let who = Principal::local_owner();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let failed = std::sync::Mutex::new(Vec::new());
    let on_error = |e: &crate::Error| failed.lock().unwrap().push(e.to_string());
    rt().block_on(async {
        let watch = async {
            let deadline = Instant::now() + Duration::from_secs(60);
            // Four backups: the follower has looked (every 300 ms) several times meanwhile.
            while count(dirs.0.path()) < 4 {
                assert!(Instant::now() < deadline, "the leader took no backups");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            stop.send(true).unwrap();
        };
        tokio::join!(
            run(&leader.plane, &who, &lead_s, stopped.clone(), on_error),
            run(&follower.plane, &who, &follow_s, stopped.clone(), on_error),
            watch,
        );
    });
    assert!(failed.lock().unwrap().is_empty(), "{:?}", failed.lock());
    assert_eq!(leader.plane.maintenance_leader(), Some(true));
    assert_eq!(count(dirs.1.path()), 0, "the follower took a backup");
    let taken = rt()
        .block_on(leader.plane.audit_list(
            &who,
            crate::audit::AuditFilter {
                action: Some("backup.create".into()),
                ..Default::default()
            },
        ))
        .unwrap();
    assert_eq!(taken.len(), count(dirs.0.path()), "one record per backup");
}

/// `imx server --retain` on replicas sharing a store: only the maintenance leader prunes; the
/// follower's pass does nothing, however often it comes.
#[test]
fn only_the_maintenance_leader_prunes_finished_runs() {
    let Some(db) = test_db() else {
        return;
    };
    let lease = Duration::from_secs(5);
    let (leader, follower) =
        leader_and_follower(replica(&db.url(), lease), replica(&db.url(), lease));
    let who = Principal::local_owner();
    let run = rt().block_on(async {
        let spec = WorkflowSpec::new("w", vec![StepSpec::new("a", StepKind::Noop)]);
        follower
            .plane
            .apply_workflow(&who, spec, false)
            .await
            .unwrap();
        let run = follower
            .plane
            .start_run(
                &who,
                StartRun {
                    workflow: "w".into(),
                    ..StartRun::default()
                },
            )
            .await
            .unwrap();
        follower.plane.cancel_run(&who, &run.id).await.unwrap();
        run.id
    });
    let keep = Duration::from_millis(1);
    for _ in 0..5 {
        assert_eq!(follower.plane.retain_now(&who, keep).unwrap(), None);
    }
    assert!(rt().block_on(follower.plane.get_run(&who, &run)).is_ok());
    let pruned = until("the leader prunes the ended run", || {
        leader
            .plane
            .retain_now(&who, keep)
            .unwrap()
            .filter(|r| r.runs > 0)
    });
    assert_eq!(pruned.runs, 1);
    assert!(pruned.complete);
    assert!(rt().block_on(follower.plane.get_run(&who, &run)).is_err());
}
