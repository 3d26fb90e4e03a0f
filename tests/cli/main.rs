//! The integration tests: one binary that drives the real `imx` in a hermetic environment
//! (see [`env::TestEnv`]).

mod audit;
mod backup;
mod basics;
mod env;
mod failures;
mod generated;
mod install;
mod workflow;
