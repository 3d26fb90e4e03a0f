//! Orchestration rules.
