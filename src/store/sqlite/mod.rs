//! The SQLite store's queries, grouped by what they touch, and its implementations of
//! `store::flow`'s row traits (the transitions' orchestration is there, shared with
//! PostgreSQL). Each public method is one transaction.

mod agents;
mod apply;
mod artifacts;
pub mod audit;
mod backend;
pub mod claims;
mod concurrency;
pub mod dashboard;
mod events;
pub mod logs;
pub mod notify;
pub mod placement;
pub mod reap;
pub mod reports;
mod retention;
pub(crate) mod rows;
pub mod runs;
mod schedules;
mod secrets;
pub mod settings;
mod tables;
mod transitions;
mod triggers;
mod tx;
pub mod users;
pub mod workflows;

pub use events::insert_event;
pub use reports::{CompletionReport, StatusCounts};
