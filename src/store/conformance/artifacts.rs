//! Artifacts' rows on every backend: recorded, listed by step then path, a later attempt's file
//! of the same path replacing the row (and handing back the old bytes' key), the oldest found
//! before a cutoff, deleted.

use std::sync::Arc;

use super::{postgres, sqlite};
use crate::model::Artifact;
use crate::store::api::Backend;

on_both!(artifacts_are_recorded_replaced_listed_and_deleted);

fn artifact(id: &str, run: &str, step: &str, path: &str, attempt: u32, at: i64) -> Artifact {
    Artifact {
        id: id.into(),
        run_id: run.into(),
        step_id: step.into(),
        attempt,
        path: path.into(),
        size: 5_000_000_000,
        sha256: "ab".repeat(32),
        storage_key: format!("{run}/{id}"),
        created_at: at,
    }
}

fn artifacts_are_recorded_replaced_listed_and_deleted(store: &Arc<dyn Backend>) {
    let first = artifact("a1", "r1", "build", "dist/app.tar", 1, 10);
    assert_eq!(store.write(|tx| tx.put_artifact(&first)).unwrap(), None);
    store
        .write(|tx| tx.put_artifact(&artifact("a2", "r1", "build", "README", 1, 11)))
        .unwrap();
    store
        .write(|tx| tx.put_artifact(&artifact("a3", "r1", "app", "z", 1, 12)))
        .unwrap();
    store
        .write(|tx| tx.put_artifact(&artifact("a4", "r2", "build", "dist/app.tar", 1, 13)))
        .unwrap();

    let listed = store.read(|tx| tx.list_artifacts("r1")).unwrap();
    let order: Vec<(&str, &str)> = listed
        .iter()
        .map(|a| (a.step_id.as_str(), a.path.as_str()))
        .collect();
    assert_eq!(
        order,
        [("app", "z"), ("build", "README"), ("build", "dist/app.tar")]
    );
    assert_eq!(
        listed[2], first,
        "every field round trips (sizes over 4 GiB too)"
    );

    // A later attempt's file of the same path replaces the row.
    let again = artifact("a5", "r1", "build", "dist/app.tar", 2, 20);
    assert_eq!(
        store.write(|tx| tx.put_artifact(&again)).unwrap(),
        Some("r1/a1".to_string())
    );
    let listed = store.read(|tx| tx.list_artifacts("r1")).unwrap();
    assert_eq!(listed.len(), 3);
    assert_eq!(listed[2].id, "a5");
    assert_eq!(listed[2].attempt, 2);

    let old = store.read(|tx| tx.artifacts_before(13, 10)).unwrap();
    let ids: Vec<&str> = old.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["a2", "a3"]);
    let first_only = store.read(|tx| tx.artifacts_before(100, 1)).unwrap();
    assert_eq!(first_only[0].id, "a2");

    assert!(store.write(|tx| tx.delete_artifact("a2")).unwrap());
    assert!(!store.write(|tx| tx.delete_artifact("a2")).unwrap());
    assert_eq!(store.read(|tx| tx.list_artifacts("r1")).unwrap().len(), 2);
    assert!(
        store
            .read(|tx| tx.list_artifacts("nope"))
            .unwrap()
            .is_empty()
    );
}
