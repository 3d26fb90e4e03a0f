//! Triggers: what starts a run besides a person (issue 12). A `webhook` trigger starts its
//! workflow when a signed call arrives at `POST /api/v1/hooks/NAME` (the signature is
//! [`crate::auth::webhook`]'s); an `after` trigger starts it when a run of another workflow ends
//! in one of the given states, with that run's outputs as params.
//!
//! - [`params`]: the started run's params, from a JSON body or the upstream run.
//! - [`names`]: trigger names, and the names of those a workflow file declares (`on:`).
//!
//! Firing is exactly once per call or upstream run: the run is started in the transaction
//! that records the (trigger, webhook-id or upstream run id) key, and a second firing of the
//! same key finds it taken (the store's `trigger_fires`).

pub mod names;
pub mod params;
