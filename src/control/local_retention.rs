//! The local control plane's retention of finished runs: `imx run prune` (now, audited as one
//! `run.prune` record with the counts) and `imx server --retain` ([`retain`]: periodically, on
//! the replica leading maintenance only). The deleting itself is `store::retention`. Both
//! delete the artifacts stored before the cutoff first (see `local_artifacts`).

use std::sync::Arc;
use std::time::Duration;

use super::local::LocalControlPlane;
use super::{RunPrune, RunPruneReport};
use crate::auth::{Permission, Principal};
use crate::model::now_ms;
use crate::store::retention::{self, Mode, Pruned};
use crate::{Result, audit};

/// The cutoff for "ended longer ago than `older_than_ms`": never before the epoch (no run
/// ended then, and a time before it has no RFC 3339 form for the report).
pub(super) fn cutoff(older_than_ms: u64) -> i64 {
    now_ms()
        .saturating_sub(i64::try_from(older_than_ms).unwrap_or(i64::MAX))
        .max(0)
}

impl LocalControlPlane {
    pub(super) fn do_prune_runs(
        &self,
        who: &Principal,
        req: RunPrune,
        progress: &(dyn for<'r> Fn(&'r RunPruneReport) + Send + Sync),
    ) -> Result<RunPruneReport> {
        self.authorize(who, Permission::Administer, "run.prune", "")?;
        let cutoff = cutoff(req.older_than_ms);
        if req.dry_run {
            let counted = retention::count(self.store(), cutoff)?;
            return Ok(RunPruneReport::new(cutoff, true, counted));
        }
        self.prune_and_audit(who, req.older_than_ms, cutoff, Mode::Now, progress)
    }

    /// Prune as `mode` says and audit it: one `run.prune` record with the counts (`ok`), or
    /// with the error and what went before it (`error`). Maintenance that found nothing to
    /// delete is not recorded.
    fn prune_and_audit(
        &self,
        who: &Principal,
        older_than_ms: u64,
        cutoff: i64,
        mode: Mode,
        progress: &(dyn for<'r> Fn(&'r RunPruneReport) + Send + Sync),
    ) -> Result<RunPruneReport> {
        let mut so_far = Pruned::default();
        let outcome = retention::prune(self.store(), cutoff, mode, &mut |p| {
            so_far = *p;
            progress(&RunPruneReport::new(cutoff, false, *p));
        });
        let details = |p: &Pruned| {
            serde_json::json!({
                "older_than_ms": older_than_ms,
                "cutoff": crate::model::time::json(cutoff),
                "runs": p.runs,
                "steps": p.steps,
                "log_lines": p.log_lines,
                "events": p.events,
                "ticks": p.ticks,
                "notifications": p.notifications,
                "complete": p.complete,
            })
        };
        match outcome {
            Ok(done) => {
                if mode == Mode::Now || done.any() {
                    self.store().write(|tx| {
                        audit::append(tx, who, "run.prune", "", "ok", details(&done))
                    })?;
                }
                Ok(RunPruneReport::new(cutoff, false, done))
            }
            Err(e) => {
                let mut details = details(&so_far);
                details["error"] = e.to_string().into();
                // Best effort: the error is what the caller needs to hear.
                let _ = self
                    .store()
                    .write(|tx| audit::append(tx, who, "run.prune", "", "error", details.clone()));
                Err(e)
            }
        }
    }

    /// One pass of `imx server --retain`: prune the finished runs that ended longer ago than
    /// `keep` if this process leads maintenance (`None` when another replica does). Audited
    /// as `run.prune` by `who` when it deleted anything.
    pub fn retain_now(&self, who: &Principal, keep: Duration) -> Result<Option<RunPruneReport>> {
        if self.store().maintenance_leader() == Some(false) {
            return Ok(None);
        }
        self.authorize(who, Permission::Administer, "run.prune", "")?;
        let ms = u64::try_from(keep.as_millis()).unwrap_or(u64::MAX);
        self.prune_and_audit(
            who,
            ms,
            cutoff(ms),
            Mode::Maintenance,
            &|_: &RunPruneReport| {},
        )
        .map(Some)
    }
}

/// How often `imx server --retain KEEP` prunes: a quarter of KEEP, between a second and ten
/// minutes.
pub fn retain_every(keep: Duration) -> Duration {
    (keep / 4).clamp(Duration::from_secs(1), Duration::from_secs(600))
}

/// `imx server --retain KEEP`: prune the finished runs older than `keep` every
/// [`retain_every`]`(keep)` until `stop` turns true — on replicas sharing a store, only on the
/// one leading maintenance (the others look again at the next interval). Each pass runs off the
/// async workers; its outcome goes to `on_pass` (`None`: another replica leads).
pub async fn retain(
    plane: Arc<LocalControlPlane>,
    who: Principal,
    keep: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
    on_pass: impl Fn(Result<Option<RunPruneReport>>),
) {
    loop {
        if *stop.borrow() {
            return;
        }
        // The artifacts of the runs about to go (stored before the cutoff) go first.
        if plane.store().maintenance_leader() != Some(false) {
            let ms = u64::try_from(keep.as_millis()).unwrap_or(u64::MAX);
            if let Err(e) = plane
                .prune_artifacts_before(&who, ms, cutoff(ms), false)
                .await
            {
                on_pass(Err(e));
            }
        }
        let (p, w) = (plane.clone(), who.clone());
        match tokio::task::spawn_blocking(move || p.retain_now(&w, keep)).await {
            Ok(outcome) => on_pass(outcome),
            Err(e) => on_pass(Err(crate::Error::Internal(format!(
                "the retention task failed: {e}"
            )))),
        }
        tokio::select! {
            () = tokio::time::sleep(retain_every(keep)) => {}
            _ = stop.changed() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// Found by schemathesis: `older_than_ms` near `u64::MAX` put the cutoff hundreds of
    /// millions of years before the epoch, which the report then gave as a number, not the
    /// RFC 3339 string its schema promises.
    #[test]
    fn an_enormous_period_cuts_off_at_the_epoch_and_reports_a_time() {
        assert_eq!(cutoff(u64::MAX), 0);
        assert_eq!(cutoff(u64::MAX - 1), 0);
        let report = RunPruneReport {
            cutoff: cutoff(9_223_372_036_854_775_806),
            ..RunPruneReport::default()
        };
        let json = serde_json::to_value(report).unwrap();
        assert_eq!(json["cutoff"], "1970-01-01T00:00:00.000Z", "{json}");
        let recent = cutoff(1_000);
        assert!(recent > 0 && recent <= now_ms());
    }
}
