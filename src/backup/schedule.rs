//! Periodic backups for a long-running process (`imx server --backup-every 15m`): one
//! [`Schedule`] says how often, where, and what to keep; [`tick`] takes a backup when one is due
//! (judged by the newest backup in the folder, so restarts do not reset the clock) and then
//! prunes; [`run`] loops until told to stop. Everything goes through the [`ControlPlane`], so
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
        next_due: next_due(Some(created.manifest.created_at), s.every, now),
        created: Some(created),
        pruned,
    })
}

/// Run the schedule until `stop` turns true. A failed tick is reported to `on_error` and retried
/// after a minute (or the interval, if shorter).
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
        let now = crate::model::now_ms();
        let wait = match tick(plane, who, s, now).await {
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
