//! Every file under examples/workflows/ parses and validates.

use std::path::Path;

#[test]
fn every_example_workflow_is_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/workflows");
    let specs = crate::spec::load_path(&dir).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        specs.len() >= 3,
        "expected the example workflows, got {specs:?}"
    );
}
