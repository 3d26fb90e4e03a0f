//! The integration tests: one binary that drives the real `imx` in a hermetic environment
//! (see [`env::TestEnv`]).

mod agent_binding;
mod agent_reconnect;
mod agent_remove;
mod agent_takeover;
mod api_audit;
mod api_bad_input;
mod api_matrix;
mod audit;
mod auth_hardening;
mod backup;
mod backup_remote;
mod bad_input;
mod basics;
mod commands;
mod containment;
mod contexts;
mod dashboard;
mod embedded;
mod env;
mod failures;
mod follow;
mod generated;
mod help_examples;
mod http;
mod install;
mod protocol;
mod run_limits;
mod server;
mod server_ops;
mod sse;
mod store_creation;
mod templates;
mod users;
mod wal;
mod workflow;
