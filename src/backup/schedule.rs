//! Periodic backups for a long-running process (`imx server --backup-every 15m`): one
//! [`Schedule`] says how often, where, and what to keep; [`tick`] takes a backup when one is due
//! (judged by the newest backup in the folder, so restarts do not reset the clock) and then
//! prunes; [`run`] loops until told to stop (on replicas sharing a store, only on the one
//! leading maintenance). Everything goes through the [`ControlPlane`], so
//! the backups are authorized and audited like manual ones.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{BackupInfo, CreateOptions, PruneReport, RetentionPolicy};
use crate::Result;
use crate::auth::Principal;
use crate::control::ControlPlane;

/// A backup schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub every: Duration,
    /// Where backups go and how they are made (`out` must be the folder).
    pub create: CreateOptions,
    /// Prune after each backup with this policy (none: keep everything).
    pub retention: Option<RetentionPolicy>,
}

/// What one tick did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TickOutcome {
    pub created: Option<BackupInfo>,
    pub pruned: Option<PruneReport>,
    /// When the next backup is due (ms).
    pub next_due: i64,
}

/// When the next backup is due, given the newest one's time.
pub fn next_due(newest: Option<i64>, every: Duration, now: i64) -> i64 {
    let every = i64::try_from(every.as_millis()).unwrap_or(i64::MAX);
    match newest {
        Some(t) if t <= now => t.saturating_add(every),
        _ => now,
    }
}

/// Take a backup if one is due at `now`, then prune.
pub async fn tick(
    plane: &dyn ControlPlane,
    who: &Principal,
    s: &Schedule,
    now: i64,
) -> Result<TickOutcome> {
    let dir = s.create.out.clone();
    if let Some(d) = &dir {
        // `out` names the folder; make sure it is taken as one.
        std::fs::create_dir_all(d).map_err(|e| super::fsutil::write_error(d, e))?;
    }
    let newest = plane
        .list_backups(who, dir.clone())
        .await?
        .backups
        .first()
        .map(|b| b.manifest.created_at);
    let due = next_due(newest, s.every, now);
    if due > now {
        return Ok(TickOutcome {
            next_due: due,
            ..TickOutcome::default()
        });
    }
    let created = plane
        .create_backup(who, s.create.clone(), &super::NoProgress)
        .await?;
    let pruned = match &s.retention {
        Some(policy) => Some(plane.prune_backups(who, dir, *policy, false).await?),
        None => None,
    };
    Ok(TickOutcome {
        next_due: next_due(
            Some(created.manifest.created_at),
            s.every,
            now.max(created.manifest.created_at),
        ),
        created: Some(created),
        pruned,
    })
}

/// Run `work` (a backup: it reads and writes the whole store, which can take minutes) without
/// holding up one of a multi-threaded runtime's async workers: the worker's other tasks move
/// to the other workers meanwhile. On a current-thread runtime (tests) it is just awaited.
async fn off_the_worker<T>(work: impl std::future::Future<Output = T>) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    let rt = Handle::current();
    if rt.runtime_flavor() == RuntimeFlavor::MultiThread {
        tokio::task::block_in_place(|| rt.block_on(work))
    } else {
        work.await
    }
}

/// Run the schedule until `stop` turns true. A failed tick is reported to `on_error` and retried
/// after a minute (or the interval, if shorter).
/// How often a replica that does not lead maintenance looks whether it leads now.
const FOLLOWER_LOOK: Duration = Duration::from_secs(1);

pub async fn run(
    plane: &dyn ControlPlane,
    who: &Principal,
    s: &Schedule,
    mut stop: tokio::sync::watch::Receiver<bool>,
    on_error: impl Fn(&crate::Error),
) {
    loop {
        if *stop.borrow() {
            return;
        }
        // Replicas sharing a store back it up once: only the maintenance leader does.
        if plane.maintenance_leader() == Some(false) {
            tokio::select! {
                _ = tokio::time::sleep(FOLLOWER_LOOK.min(s.every)) => {}
                _ = stop.changed() => {}
            }
            continue;
        }
        let now = crate::model::now_ms();
        let wait = match off_the_worker(tick(plane, who, s, now)).await {
            Ok(t) => Duration::from_millis(u64::try_from(t.next_due - now).unwrap_or(0).max(1)),
            Err(e) => {
                on_error(&e);
                s.every.min(Duration::from_secs(60))
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => {}
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::control::{LocalControlPlane, LocalOptions};

    #[test]
    fn next_due_follows_the_newest_backup() {
        let every = Duration::from_secs(900);
        assert_eq!(next_due(None, every, 1_000), 1_000, "no backup yet: now");
        assert_eq!(next_due(Some(100), every, 1_000), 900_100);
        assert_eq!(
            next_due(Some(5_000), every, 1_000),
            1_000,
            "a backup from the future"
        );
    }

    #[tokio::test]
    async fn a_tick_backs_up_when_due_and_prunes() {
        let dir = tempfile::tempdir().unwrap();
        let plane =
            LocalControlPlane::open(&dir.path().join("imx.db"), LocalOptions::default()).unwrap();
        let who = Principal::local_owner();
        let s = Schedule {
            every: Duration::from_secs(900),
            create: CreateOptions {
                out: Some(dir.path().join("b")),
                ..CreateOptions::default()
            },
            retention: Some(RetentionPolicy {
                keep_last: 2,
                ..RetentionPolicy::default()
            }),
        };
        let now = crate::model::now_ms();
        let first = tick(&plane, &who, &s, now).await.unwrap();
        let created = first.created.expect("due at once");
        assert!(first.next_due >= created.manifest.created_at + 900_000);
        let quiet = tick(&plane, &who, &s, now + 1_000).await.unwrap();
        assert!(quiet.created.is_none(), "not due yet");
        for i in 1..4 {
            let t = tick(&plane, &who, &s, now + i * 1_000_000).await.unwrap();
            assert!(t.created.is_some());
        }
        let left = plane
            .list_backups(&who, s.create.out.clone())
            .await
            .unwrap();
        assert_eq!(left.backups.len(), 2, "retention ran after each backup");
        let actions: Vec<String> = plane
            .audit_list(&who, crate::audit::AuditFilter::default())
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.action)
            .collect();
        assert_eq!(actions.iter().filter(|a| *a == "backup.create").count(), 4);
        assert!(actions.iter().any(|a| a == "backup.prune"));
    }
}
