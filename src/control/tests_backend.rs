//! The local control plane over a store that is not SQLite (issue 11): everything goes through
//! the backend-neutral traits, and what only a SQLite file can do fails with a typed error
//! instead of a panic. The backend here is the SQLite store seen only through [`Backend`]
//! (`as_sqlite` says `None`), which is what the PostgreSQL store looks like to the plane.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::Error;
use crate::auth::Principal;
use crate::backup::{BackupFormat, CreateOptions, NoProgress};
use crate::engine::SpecCache;
use crate::model::{AgentRegistration, RunStatus, StepKind, StepResult, StepSpec, WorkflowSpec};
use crate::store::Store;
use crate::store::api::{Backend, Body, Site};
use crate::store::feed::ChangeFeed;

/// A store that does not let on that it is SQLite. `stall`, when set, makes the next quick
/// read take that long (a process stopped mid-request, as by SIGSTOP).
struct Opaque(Store, std::sync::Mutex<Option<Duration>>);

impl Backend for Opaque {
    fn write_tx(&self, body: Body<'_>) -> crate::Result<()> {
        self.0.write_tx(body)
    }
    fn write_durable_tx(&self, body: Body<'_>) -> crate::Result<()> {
        self.0.write_durable_tx(body)
    }
    fn read_tx(&self, body: Body<'_>) -> crate::Result<()> {
        self.0.read_tx(body)
    }
    fn read_quick_tx(&self, site: Site, body: Body<'_>) -> crate::Result<()> {
        if let Some(stall) = self.1.lock().unwrap().take() {
            std::thread::sleep(stall);
        }
        self.0.read_quick_tx(site, body)
    }
    fn feed(&self) -> &ChangeFeed {
        Backend::feed(&self.0)
    }
    fn specs(&self) -> &SpecCache {
        Backend::specs(&self.0)
    }
    fn location(&self) -> String {
        "opaque://test".into()
    }
    fn created(&self) -> bool {
        Backend::created(&self.0)
    }
    fn schema_version(&self) -> crate::Result<i64> {
        Backend::schema_version(&self.0)
    }
}

struct Env {
    dir: tempfile::TempDir,
    plane: LocalControlPlane,
    who: Principal,
    backend: Arc<Opaque>,
}

fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("imx.db"), true).unwrap();
    let paths = crate::audit::AuditPaths {
        key: dir.path().join("audit-key"),
        checkpoints: dir.path().join("audit-checkpoints.jsonl"),
    };
    let backend = Arc::new(Opaque(store, std::sync::Mutex::new(None)));
    let plane = LocalControlPlane::with_backend(backend.clone(), LocalOptions::default())
        .with_audit_paths(paths);
    Env {
        dir,
        plane,
        who: Principal::local_owner(),
        backend,
    }
}

async fn register(e: &Env, name: &str) -> crate::model::Agent {
    e.plane
        .register_agent(&e.who, AgentRegistration::for_test(name, 2))
        .await
        .unwrap()
}

#[tokio::test]
async fn a_plane_over_another_backend_runs_a_workflow_to_the_end() {
    let e = env();
    let spec = WorkflowSpec::new(
        "w",
        vec![
            StepSpec::new("a", StepKind::Noop),
            StepSpec::new("b", StepKind::Noop).needing(&["a"]),
        ],
    );
    e.plane.apply_workflow(&e.who, spec, false).await.unwrap();
    let run = e
        .plane
        .start_run(
            &e.who,
            StartRun {
                workflow: "w".into(),
                ..StartRun::default()
            },
        )
        .await
        .unwrap();
    let agent = register(&e, "a1").await;
    for step in ["a", "b"] {
        let tasks = e
            .plane
            .claim(&e.who, &agent.id, 4, Duration::from_millis(0))
            .await
            .unwrap();
        assert_eq!(tasks.len(), 1);
        assert_eq!(tasks[0].lease.step_id, step);
        let done = e
            .plane
            .complete_steps(
                &e.who,
                &[(tasks[0].lease.clone(), StepResult::ok(BTreeMap::new()))],
            )
            .await
            .unwrap();
        assert_eq!(done, [true]);
    }
    let detail = e.plane.get_run(&e.who, &run.id).await.unwrap();
    assert_eq!(detail.run.status, RunStatus::Succeeded);
    let status = e.plane.status(&e.who).await.unwrap();
    assert_eq!(status.location, "opaque://test");
    assert_eq!(e.plane.location(), "opaque://test");
    assert!(e.plane.path().is_none());
    assert!(e.plane.audit_verify(&e.who).await.unwrap().ok);
}

#[tokio::test]
async fn what_needs_a_sqlite_file_fails_with_a_typed_error_elsewhere() {
    let e = env();
    let out = e.dir.path().join("backups");
    std::fs::create_dir_all(&out).unwrap();
    // A physical backup needs the file.
    let physical = CreateOptions {
        out: Some(out.clone()),
        format: Some(BackupFormat::Sqlite),
        ..CreateOptions::default()
    };
    let err = e
        .plane
        .create_backup(&e.who, physical, &NoProgress)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NeedsSqlite { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("needs a SQLite store; on PostgreSQL use the logical format"),
        "{err}"
    );
    // A logical one reads through the traits.
    let logical = CreateOptions {
        out: Some(out.clone()),
        format: Some(BackupFormat::Logical),
        ..CreateOptions::default()
    };
    let info = e
        .plane
        .create_backup(&e.who, logical, &NoProgress)
        .await
        .unwrap();
    assert_eq!(info.manifest.source, "opaque://test");
    // No folder beside a store file to default to.
    let err = e.plane.list_backups(&e.who, None).await.unwrap_err();
    assert!(matches!(err, Error::NeedsSqlite { .. }), "{err:?}");
    assert_eq!(
        e.plane
            .list_backups(&e.who, Some(out.clone()))
            .await
            .unwrap()
            .backups
            .len(),
        1
    );
    // Restoring over the store copies the backup's rows into it: refused while it holds data,
    // done with --force, audited in the restored chain.
    let over = |force| RestoreRequest {
        backup: info.manifest.id.clone(),
        dir: Some(out.clone()),
        to: None,
        force,
        key: None,
        integrity: Default::default(),
    };
    let err = e
        .plane
        .restore_backup(&e.who, over(false), &NoProgress)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    let report = e
        .plane
        .restore_backup(&e.who, over(true), &NoProgress)
        .await
        .unwrap();
    assert_eq!(report.target.display().to_string(), "opaque://test");
    assert!(report.copy.is_none(), "the store keeps its identity");
    let chain = e.plane.audit_verify(&e.who).await.unwrap();
    assert!(chain.ok);
    assert_eq!(
        chain.head_seq,
        report.verify.audit.head_seq + 1,
        "the restore is the record after the backup's head"
    );
}

/// A claim that waited, was woken by new work and only then stalled past its deadline (the
/// replica was SIGSTOPped while the agent gave up or died) leases nothing: the steps stay ready
/// for a live agent instead of being stranded until their lease ends. (The run is started by
/// another process, whose start cannot hand its step to the waiting claim: this process sees
/// it only when woken. Grants to waiting claims stop at their deadline: `local::eager`.)
#[tokio::test]
async fn a_claim_woken_after_its_deadline_leases_nothing() {
    let e = Arc::new(env());
    let spec = WorkflowSpec::new("w", vec![StepSpec::new("a", StepKind::Noop)]);
    e.plane.apply_workflow(&e.who, spec, false).await.unwrap();
    let agent = register(&e, "a1").await;
    let claim = {
        let e = e.clone();
        let id = agent.id.clone();
        tokio::spawn(async move {
            e.plane
                .claim(&e.who, &id, 4, Duration::from_millis(300))
                .await
                .unwrap()
        })
    };
    // On this single-threaded runtime the claim runs until it waits for news, finding no work.
    tokio::task::yield_now().await;
    *e.backend.1.lock().unwrap() = Some(Duration::from_millis(900));
    let other = &e.backend.0 as &dyn Backend;
    let specs = other.specs();
    other
        .write(|tx| tx.create_run(specs, "w", &BTreeMap::new(), None, None, "tester"))
        .unwrap();
    let tasks = claim.await.unwrap();
    assert!(tasks.is_empty(), "leased after the deadline: {tasks:?}");
    // The step is still there for the next claim.
    let tasks = e
        .plane
        .claim(&e.who, &agent.id, 4, Duration::from_millis(0))
        .await
        .unwrap();
    assert_eq!(tasks.len(), 1);
}
