//! The local control plane over the PostgreSQL store (tests only): what the plane does for a
//! run, an agent and the audit chain works end to end through the traits on PostgreSQL, from
//! the plane's async methods on a current-thread and on a multi-thread runtime.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::Principal;
use crate::control::{ControlPlane, LocalControlPlane, LocalOptions, StartRun};
use crate::model::{AgentRegistration, RunStatus, StepKind, StepResult, StepSpec, WorkflowSpec};
use crate::store::postgres::store::tests::test_store;

async fn a_workflow_runs_to_the_end(plane: &LocalControlPlane, dir: &std::path::Path) {
    let who = Principal::local_owner();
    let spec = WorkflowSpec::new(
        "w",
        vec![
            StepSpec::new("a", StepKind::Noop),
            StepSpec::new("b", StepKind::Noop).needing(&["a"]),
        ],
    );
    plane.apply_workflow(&who, spec, false).await.unwrap();
    let run = plane
        .start_run(
            &who,
            StartRun {
                workflow: "w".into(),
                ..StartRun::default()
            },
        )
        .await
        .unwrap();
    let agent = plane
        .register_agent(&who, AgentRegistration::for_test("a1", 2))
        .await
        .unwrap();
    for step in ["a", "b"] {
        let tasks = plane
            .claim(&who, &agent.id, 4, Duration::from_millis(0))
            .await
            .unwrap();
        assert_eq!(tasks.len(), 1);
        assert_eq!(tasks[0].lease.step_id, step);
        let done = plane
            .complete_steps(
                &who,
                &[(tasks[0].lease.clone(), StepResult::ok(BTreeMap::new()))],
            )
            .await
            .unwrap();
        assert_eq!(done, [true]);
    }
    let detail = plane.get_run(&who, &run.id).await.unwrap();
    assert_eq!(detail.run.status, RunStatus::Succeeded);
    let status = plane.status(&who).await.unwrap();
    assert!(
        status.location.starts_with("postgres://"),
        "{}",
        status.location
    );
    assert!(plane.path().is_none());
    let verified = plane.audit_verify(&who).await.unwrap();
    assert!(verified.ok, "{verified:?}");
    assert!(dir.exists());
}

fn plane_over(store: crate::store::postgres::PgStore, dir: &std::path::Path) -> LocalControlPlane {
    let paths = crate::audit::AuditPaths {
        key: dir.join("audit-key"),
        checkpoints: dir.join("audit-checkpoints.jsonl"),
    };
    LocalControlPlane::with_backend(Arc::new(store), LocalOptions::default())
        .with_audit_paths(paths)
}

#[test]
fn the_plane_runs_a_workflow_on_postgres_from_either_runtime() {
    let Some((_db, store)) = test_store() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let plane = plane_over(store, dir.path());
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(a_workflow_runs_to_the_end(&plane, dir.path()));

    let Some((_db2, store)) = test_store() else {
        return;
    };
    let plane = plane_over(store, dir.path());
    let multi = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    multi.block_on(a_workflow_runs_to_the_end(&plane, dir.path()));
}
