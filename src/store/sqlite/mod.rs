//! The store's queries and transitions, grouped by what they touch. Each public method is one
//! transaction.

mod agents;
mod apply;
pub mod audit;
mod backend;
pub mod claims;
pub mod dashboard;
mod events;
pub mod logs;
pub mod placement;
pub mod reap;
pub mod reports;
pub(crate) mod rows;
pub mod runs;
pub mod settings;
mod tables;
mod transitions;
mod tx;
pub mod users;
pub mod workflows;

pub use events::insert_event;
pub use reports::{CompletionReport, StatusCounts};
