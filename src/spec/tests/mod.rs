//! Tests for workflow files: one module per area, each case its own test.

mod concurrency;
mod conditions;
mod examples;
mod graph;
mod keys;
mod load;
mod matrix;
mod model;
mod notify;
mod on;
mod params;
mod render;
mod resolve;
mod shell;
mod syntax;
mod templates;
mod values;

use crate::Error;

/// Parse `source` as `wf.yaml` and return the error's message and hint (panics if it parses).
pub(super) fn problems(source: &str) -> (String, Option<String>) {
    match super::parse_str(source, "wf.yaml") {
        Ok(spec) => panic!("expected problems, got {spec:#?}"),
        Err(Error::Invalid { message, hint }) => (message, hint),
        Err(other) => panic!("expected Error::Invalid, got {other:?}"),
    }
}
