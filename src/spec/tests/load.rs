//! Loading from disk: files, directories, and directories without workflows.

use crate::spec::{load_file, load_path};

#[test]
fn a_directory_loads_every_workflow_sorted_by_name() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("b.yml"),
        "name: b\nsteps: [{id: s, noop: true}]\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("a.json"),
        r#"{"name": "a", "steps": [{"id": "s", "noop": true}]}"#,
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a workflow").unwrap();
    let specs = load_path(dir.path()).unwrap();
    let names: Vec<_> = specs.iter().map(|(_, s)| s.name.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
}

#[test]
fn a_directory_without_workflows_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = load_path(dir.path()).unwrap_err().to_string();
    assert!(err.contains("no workflow files"), "{err}");
}

#[test]
fn problems_in_several_files_are_reported_together() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.yaml"), "name: a\nsteps: []\n").unwrap();
    std::fs::write(dir.path().join("b.yaml"), "name: b\n").unwrap();
    let err = load_path(dir.path()).unwrap_err().to_string();
    assert!(
        err.contains("a.yaml:2:8: steps: the list is empty"),
        "{err}"
    );
    assert!(
        err.contains("b.yaml:1:1: workflow: missing required key `steps`"),
        "{err}"
    );
}

#[test]
fn the_same_name_in_two_files_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["a.yaml", "b.yaml"] {
        std::fs::write(
            dir.path().join(f),
            "name: same\nsteps: [{id: s, noop: true}]\n",
        )
        .unwrap();
    }
    let err = load_path(dir.path()).unwrap_err().to_string();
    assert!(
        err.contains("b.yaml:1:1: workflow \"same\" is also defined in"),
        "{err}"
    );
}

#[test]
fn a_missing_file_is_an_io_error() {
    let err = load_file(std::path::Path::new("/nonexistent/wf.yaml")).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("cannot read /nonexistent/wf.yaml")
    );
}
