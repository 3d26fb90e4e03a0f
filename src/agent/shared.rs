//! State shared by the claim loop, the step tasks, the reporter and the heartbeat: the leases
//! held, how many slots are busy, the drain/remove flags and the counters of the summary.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::{Notify, watch};

use super::executor::StopReason;
use super::executor::launch::Launcher;
use super::{AgentConfig, AgentEvent, AgentSummary, DEFAULT_HEARTBEAT, heartbeat_for_lease};
use crate::auth::Principal;
use crate::control::Plane;
use crate::model::LeaseRef;

/// How many leases (running plus awaiting report) an agent may hold per slot: enough to keep
/// claiming while results are being reported, bounded if reporting stalls.
const HELD_PER_SLOT: u32 = 4;

/// The stop signal of a held lease; `None` for steps that finished at once (noop).
pub(crate) type StopSender = Option<watch::Sender<Option<StopReason>>>;

pub(crate) struct Shared {
    pub(crate) plane: Plane,
    pub(crate) who: Principal,
    pub(crate) agent_id: String,
    pub(crate) config: AgentConfig,
    pub(crate) http: reqwest::Client,
    /// How `run` steps are started and contained.
    pub(crate) launcher: Arc<Launcher>,
    /// Leases from claim until their report is answered (or they are dropped).
    held: Mutex<HashMap<LeaseRef, StopSender>>,
    /// Steps executing now.
    busy: AtomicU32,
    draining: AtomicBool,
    removed: AtomicBool,
    /// The heartbeat interval in ms (see [`Shared::heartbeat_every`]).
    heartbeat_ms: AtomicU64,
    /// Wakes the claim loop: a slot freed, a flag changed.
    pub(crate) wake: Notify,
    succeeded: AtomicU64,
    failed: AtomicU64,
    rejected: AtomicU64,
    cancelled: AtomicU64,
    unreported: AtomicU64,
}

/// Which counter of the summary to bump.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Tally {
    Succeeded,
    Failed,
    Rejected,
    Cancelled,
    Unreported,
}

impl Shared {
    pub(crate) fn new(
        plane: Plane,
        who: Principal,
        agent_id: String,
        config: AgentConfig,
        http: reqwest::Client,
        launcher: Arc<Launcher>,
    ) -> Self {
        let heartbeat_ms = u64::try_from(config.heartbeat.unwrap_or(DEFAULT_HEARTBEAT).as_millis())
            .unwrap_or(u64::MAX);
        Shared {
            plane,
            who,
            agent_id,
            config,
            http,
            launcher,
            held: Mutex::new(HashMap::new()),
            busy: AtomicU32::new(0),
            draining: AtomicBool::new(false),
            removed: AtomicBool::new(false),
            heartbeat_ms: AtomicU64::new(heartbeat_ms),
            wake: Notify::new(),
            succeeded: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            cancelled: AtomicU64::new(0),
            unreported: AtomicU64::new(0),
        }
    }

    /// How often to heartbeat: the configured interval, else a third of the control plane's
    /// lease (see [`Shared::set_lease`]).
    pub(crate) fn heartbeat_every(&self) -> Duration {
        Duration::from_millis(self.heartbeat_ms.load(Ordering::Relaxed))
    }

    /// The control plane grants leases of `lease_ms` (from registration or a heartbeat): unless
    /// the interval is configured, heartbeat at a third of it.
    pub(crate) fn set_lease(&self, lease_ms: Option<u64>) {
        if let (None, Some(lease)) = (self.config.heartbeat, lease_ms) {
            let every = u64::try_from(heartbeat_for_lease(lease).as_millis()).unwrap_or(u64::MAX);
            self.heartbeat_ms.store(every, Ordering::Relaxed);
        }
    }

    fn held(&self) -> MutexGuard<'_, HashMap<LeaseRef, StopSender>> {
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many more steps to claim now.
    pub(crate) fn free_slots(&self) -> u32 {
        let slots = self.config.slots;
        let by_slots = slots.saturating_sub(self.busy.load(Ordering::Acquire));
        let held = u32::try_from(self.held().len()).unwrap_or(u32::MAX);
        let by_held = slots.saturating_mul(HELD_PER_SLOT).saturating_sub(held);
        by_slots.min(by_held)
    }

    /// Start holding a lease; `executing` counts it against the slots until [`Self::step_done`].
    pub(crate) fn hold(&self, lease: LeaseRef, stop: StopSender, executing: bool) {
        if executing {
            self.busy.fetch_add(1, Ordering::AcqRel);
        }
        self.held().insert(lease, stop);
    }

    /// A step stopped executing (its result is handed on or dropped): free its slot.
    pub(crate) fn step_done(&self) {
        self.busy.fetch_sub(1, Ordering::AcqRel);
        self.wake.notify_one();
    }

    /// Forget leases (reported, or dropped).
    pub(crate) fn release<'a>(&self, leases: impl IntoIterator<Item = &'a LeaseRef>) {
        {
            let mut held = self.held();
            for lease in leases {
                held.remove(lease);
            }
        }
        self.wake.notify_one();
    }

    /// The leases to renew.
    pub(crate) fn held_leases(&self) -> Vec<LeaseRef> {
        self.held().keys().cloned().collect()
    }

    /// Ask the step holding `lease` to stop (no-op if it already finished).
    pub(crate) fn stop(&self, lease: &LeaseRef, reason: StopReason) {
        if let Some(Some(stop)) = self.held().get(lease) {
            stop.send_if_modified(|current| {
                if current.is_none() {
                    *current = Some(reason);
                    true
                } else {
                    false
                }
            });
        }
    }

    /// The agent was removed: stop every step and the claim loop.
    pub(crate) fn set_removed(&self) {
        let leases = self.held_leases();
        for lease in &leases {
            self.stop(lease, StopReason::Removed);
        }
        self.removed.store(true, Ordering::Release);
        self.wake.notify_one();
    }

    pub(crate) fn removed(&self) -> bool {
        self.removed.load(Ordering::Acquire)
    }

    /// Record the drain flag from a heartbeat; wakes the claim loop when it changes.
    pub(crate) fn set_draining(&self, draining: bool) {
        if self.draining.swap(draining, Ordering::AcqRel) != draining {
            self.emit(|| AgentEvent::Draining(draining));
            self.wake.notify_one();
        }
    }

    pub(crate) fn draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }

    pub(crate) fn tally(&self, what: Tally, n: u64) {
        let counter = match what {
            Tally::Succeeded => &self.succeeded,
            Tally::Failed => &self.failed,
            Tally::Rejected => &self.rejected,
            Tally::Cancelled => &self.cancelled,
            Tally::Unreported => &self.unreported,
        };
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn summary(&self) -> AgentSummary {
        AgentSummary {
            succeeded: self.succeeded.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
            cancelled: self.cancelled.load(Ordering::Relaxed),
            unreported: self.unreported.load(Ordering::Relaxed),
        }
    }

    /// Send an event to the host, if it listens; `make` runs only then.
    pub(crate) fn emit(&self, make: impl FnOnce() -> AgentEvent) {
        emit(&self.config, make);
    }
}

/// Send an event if the config has a listener.
pub(crate) fn emit(config: &AgentConfig, make: impl FnOnce() -> AgentEvent) {
    if let Some(tx) = &config.on_event {
        // A listener that went away is not the agent's problem.
        let _ = tx.send(make());
    }
}
