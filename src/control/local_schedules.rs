//! The local control plane's schedules (issue 12): the operations (create, list, show, pause,
//! resume, delete, trigger, backfill, missed; each mutation audited as `schedule.*`), and the
//! firing loop ([`run_scheduler`]) that `imx server` and `imx agent run` start.
//!
//! One process fires at a time. On PostgreSQL that is the replica holding the maintenance
//! lease, and a pass runs in its fenced maintenance transaction. On SQLite, every process
//! sharing the file may run the loop; the holder of the scheduler lease (a row in `meta`,
//! taken or renewed inside each pass's write transaction, [`SCHEDULER_LEASE`] long) fires, the
//! others look again every half lease and take over once it lapses. Either way a tick is
//! recorded under its (schedule, nominal time) key in the transaction that makes its run, so
//! even two firers at once make one run.
//!
//! The loop sleeps until the next tick fires (not a fixed poll), and wakes early when the store
//! changes: at once when this process created, changed, paused or resumed a schedule, or on any
//! commit while a buffered tick waits for a run to end; other commits (which may be another
//! process's schedule changes) make it look at most every [`LOOK_OTHER`], so that a busy store
//! costs a look now and then rather than one per commit.

use std::sync::Arc;
use std::time::Duration;

use super::local::LocalControlPlane;
use super::schedules::{
    Backfill, BackfillReport, BackfillTick, MAX_TICKS, MissedTick, ScheduleDetail,
};
use crate::auth::{Permission, Principal};
use crate::model::{Run, ScheduleInfo, TickOutcome, now_ms};
use crate::schedule::{Clock, Schedule, ScheduleSpec};
use crate::store::api::NewTick;
use crate::store::schedules::{PASS_BATCH, PassReport, fire_due_batched, make_run, new_info};
use crate::{Error, Result};

/// How long the SQLite scheduler lease lasts unless renewed.
pub const SCHEDULER_LEASE: Duration = Duration::from_secs(10);

/// The most a store change can delay another look at it (a burst of changes is one wake).
const DEBOUNCE: Duration = Duration::from_millis(100);

/// At most how often a commit that is not a schedule change of this process makes the
/// scheduler look at the store (a schedule changed by another process is fired within this).
const LOOK_OTHER: Duration = Duration::from_secs(5);

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn not_found(name: &str) -> Error {
    Error::not_found("schedule", name)
}

impl LocalControlPlane {
    pub(super) fn do_create_schedule(
        &self,
        who: &Principal,
        spec: ScheduleSpec,
    ) -> Result<ScheduleInfo> {
        self.authorize(
            who,
            Permission::ManageWorkflows,
            "schedule.create",
            &spec.name,
        )?;
        if !crate::spec::is_identifier(&spec.name) {
            return Err(Error::invalid_with_hint(
                format!("bad schedule name {:?}", spec.name),
                "use lowercase letters, digits, `-` and `_`, starting with a letter or digit",
            ));
        }
        let info = new_info(spec, "command", now_ms())?;
        self.mutate(
            who,
            "schedule.create",
            |s: &ScheduleInfo| s.name.clone(),
            |s| serde_json::json!({ "workflow": s.workflow, "spec": s.spec }),
            |tx| {
                tx.get_workflow(&info.workflow, None)?;
                if !tx.insert_schedule(&info)? {
                    return Err(Error::Conflict(format!(
                        "a schedule named {:?} exists; delete it first or choose another name",
                        info.name
                    )));
                }
                Ok(info.clone())
            },
        )
        .inspect(|_| self.store().feed().notify_schedules())
    }

    pub(super) fn do_list_schedules(&self, who: &Principal) -> Result<Vec<ScheduleInfo>> {
        self.authorize(who, Permission::Read, "schedule.list", "")?;
        self.store().read(|tx| tx.list_schedules())
    }

    pub(super) fn do_get_schedule(&self, who: &Principal, name: &str) -> Result<ScheduleDetail> {
        self.authorize(who, Permission::Read, "schedule.get", name)?;
        let info = self
            .store()
            .read_quick(|tx| tx.get_schedule(name))?
            .ok_or_else(|| not_found(name))?;
        ScheduleDetail::new(info, now_ms())
    }

    pub(super) fn do_pause_schedule(
        &self,
        who: &Principal,
        name: &str,
        paused: bool,
        note: Option<String>,
    ) -> Result<ScheduleInfo> {
        let action = if paused {
            "schedule.pause"
        } else {
            "schedule.resume"
        };
        self.authorize(who, Permission::ManageWorkflows, action, name)?;
        self.mutate(
            who,
            action,
            |s: &ScheduleInfo| s.name.clone(),
            |s| serde_json::json!({ "note": s.note }),
            |tx| {
                if !tx.set_schedule_paused(name, paused, note.as_deref(), now_ms())? {
                    return Err(not_found(name));
                }
                tx.get_schedule(name)?.ok_or_else(|| not_found(name))
            },
        )
        .inspect(|_| self.store().feed().notify_schedules())
    }

    pub(super) fn do_delete_schedule(&self, who: &Principal, name: &str) -> Result<ScheduleInfo> {
        self.authorize(who, Permission::ManageWorkflows, "schedule.delete", name)?;
        self.mutate(
            who,
            "schedule.delete",
            |s: &ScheduleInfo| s.name.clone(),
            |s| serde_json::json!({ "workflow": s.workflow }),
            |tx| {
                let s = tx.get_schedule(name)?.ok_or_else(|| not_found(name))?;
                tx.delete_schedule(name)?;
                Ok(s)
            },
        )
    }

    /// A run of the schedule now, outside its timing: recorded as a `triggered` tick at the
    /// current time (its nominal time), so it, too, is made once.
    pub(super) fn do_trigger_schedule(&self, who: &Principal, name: &str) -> Result<Run> {
        self.authorize(who, Permission::ManageWorkflows, "schedule.trigger", name)?;
        let specs = self.store().specs();
        let timeout = self.default_run_timeout_ms;
        self.mutate(
            who,
            "schedule.trigger",
            |r: &Run| r.id.clone(),
            |r| serde_json::json!({ "schedule": name, "nominal_time": r.nominal_time.map(crate::model::time::json) }),
            |tx| {
                let s = tx.get_schedule(name)?.ok_or_else(|| not_found(name))?;
                let now = now_ms();
                let tick = NewTick {
                    schedule: name,
                    nominal_time: now,
                    outcome: TickOutcome::Triggered,
                    reason: None,
                    recorded_at: now,
                    run_id: None,
                };
                if !tx.insert_tick(&tick)? {
                    return Err(Error::Conflict(
                        "a tick of this schedule was recorded at this very millisecond; try again"
                            .into(),
                    ));
                }
                // Checked before the run is made, so the error is the caller's to see.
                let wf = tx.get_workflow(&s.workflow, None)?;
                crate::spec::resolve_params(&wf.spec, &s.spec.params)?;
                make_run(tx, specs, &s, now, timeout)?
                    .ok_or_else(|| Error::Internal("the triggered run was not made".into()))
            },
        )
    }

    pub(super) fn do_backfill_schedule(
        &self,
        who: &Principal,
        name: &str,
        req: Backfill,
    ) -> Result<BackfillReport> {
        self.authorize(who, Permission::ManageWorkflows, "schedule.backfill", name)?;
        if req.from > req.to {
            return Err(Error::invalid("--from is after --to"));
        }
        let info = self
            .store()
            .read(|tx| tx.get_schedule(name))?
            .ok_or_else(|| not_found(name))?;
        let compiled = Schedule::compile(info.spec.clone())?;
        let nominal = compiled.upcoming(req.from - 1, MAX_TICKS + 1);
        let nominal: Vec<i64> = nominal.into_iter().filter(|&n| n <= req.to).collect();
        if nominal.len() > MAX_TICKS {
            return Err(Error::invalid_with_hint(
                format!("the range holds more than {MAX_TICKS} ticks"),
                "backfill a shorter range at a time",
            ));
        }
        let specs = self.store().specs();
        let timeout = self.default_run_timeout_ms;
        let run = |tx: &crate::store::Tx<'_>| -> Result<BackfillReport> {
            let recorded = tx.ticks(
                name,
                req.from,
                req.to,
                u32::try_from(MAX_TICKS + 1).unwrap_or(u32::MAX),
            )?;
            let mut ticks = Vec::with_capacity(nominal.len());
            for &n in &nominal {
                let has = recorded
                    .iter()
                    .find(|t| t.nominal_time == n)
                    .is_some_and(|t| t.run_id.is_some() || t.outcome == TickOutcome::Buffered);
                let (action, run_id) = if has {
                    (
                        "exists",
                        recorded
                            .iter()
                            .find(|t| t.nominal_time == n)
                            .and_then(|t| t.run_id.clone()),
                    )
                } else if req.dry_run {
                    ("would_create", None)
                } else {
                    let tick = NewTick {
                        schedule: name,
                        nominal_time: n,
                        outcome: TickOutcome::Fired,
                        reason: None,
                        recorded_at: now_ms(),
                        run_id: None,
                    };
                    if tx.claim_tick(&tick)? {
                        match make_run(tx, specs, &info, n, timeout)? {
                            Some(r) => ("created", Some(r.id)),
                            None => ("workflow_error", None),
                        }
                    } else {
                        ("exists", None)
                    }
                };
                ticks.push(BackfillTick {
                    nominal_time: n,
                    action: action.into(),
                    run_id,
                });
            }
            Ok(BackfillReport {
                schedule: name.to_string(),
                dry_run: req.dry_run,
                ticks,
            })
        };
        if req.dry_run {
            return self.store().read(|tx| run(tx));
        }
        self.mutate(
            who,
            "schedule.backfill",
            |_: &BackfillReport| name.to_string(),
            |r| {
                serde_json::json!({
                    "from": crate::model::time::json(req.from),
                    "to": crate::model::time::json(req.to),
                    "created": r.ticks.iter().filter(|t| t.action == "created").count(),
                })
            },
            |tx| run(tx),
        )
    }

    /// The ticks of `name` expected since `since` that have no run, and why.
    pub(super) fn do_missed_ticks(
        &self,
        who: &Principal,
        name: &str,
        since: i64,
    ) -> Result<Vec<MissedTick>> {
        self.authorize(who, Permission::Read, "schedule.missed", name)?;
        let now = now_ms();
        let (info, recorded) = self.store().read(|tx| {
            let info = tx.get_schedule(name)?.ok_or_else(|| not_found(name))?;
            let ticks = tx.ticks(
                name,
                since,
                now,
                u32::try_from(MAX_TICKS * 4).unwrap_or(u32::MAX),
            )?;
            Ok((info, ticks))
        })?;
        let window = i64::try_from(info.spec.catchup_window_ms).unwrap_or(i64::MAX);
        let mut out: Vec<MissedTick> = recorded
            .iter()
            .filter_map(|t| {
                let reason = match t.outcome {
                    TickOutcome::Missed => match t.reason {
                        Some(crate::schedule::MissReason::Downtime) => format!(
                            "no scheduler ran within the catch-up window ({})",
                            crate::model::duration_text(info.spec.catchup_window_ms)
                        ),
                        Some(crate::schedule::MissReason::CatchupLimit) => format!(
                            "more ticks were due at once than max_catchup ({}) lets fire",
                            info.spec.max_catchup.unwrap_or(0)
                        ),
                        Some(crate::schedule::MissReason::Paused) => {
                            "the schedule was paused".into()
                        }
                        Some(crate::schedule::MissReason::WorkflowError) => {
                            "the run could not be made (workflow gone or params invalid)".into()
                        }
                        None => "missed".into(),
                    },
                    TickOutcome::Skipped => "a run was still going (overlap: skip)".into(),
                    TickOutcome::Dropped => {
                        "a run was going and one tick was already buffered (overlap: buffer_one)"
                            .into()
                    }
                    _ => return None,
                };
                Some(MissedTick {
                    schedule: name.to_string(),
                    nominal_time: t.nominal_time,
                    outcome: t.outcome.as_str().to_string(),
                    reason,
                })
            })
            .collect();
        // Due but not decided yet: no scheduler has run since (or it is about to).
        if let Ok(compiled) = Schedule::compile(info.spec.clone()) {
            for n in compiled.upcoming(info.last_nominal.max(since - 1), MAX_TICKS) {
                if compiled.fire_at(n) > now {
                    break;
                }
                let reason = if now - n > window {
                    "due, not fired yet: no scheduler has run since, and it is past the catch-up window"
                } else {
                    "due, not fired yet: no scheduler has run since"
                };
                out.push(MissedTick {
                    schedule: name.to_string(),
                    nominal_time: n,
                    outcome: "pending".into(),
                    reason: reason.into(),
                });
            }
        }
        out.sort_by_key(|m| m.nominal_time);
        out.truncate(MAX_TICKS);
        Ok(out)
    }

    /// One pass of the scheduler at `now`, if this process is the one to fire: `None` when
    /// another is (PostgreSQL: another replica leads maintenance; SQLite: another process holds
    /// the scheduler lease). `holder` names this process. A pass commits every
    /// [`PASS_BATCH`] schedules, each batch in its own maintenance transaction that takes or
    /// renews the lease first.
    pub fn schedule_pass(&self, holder: &str, now: i64) -> Result<Option<PassReport>> {
        if self.store().maintenance_leader() == Some(false) {
            return Ok(None);
        }
        let until = now.saturating_add(ms(SCHEDULER_LEASE));
        fire_due_batched(
            self.store(),
            now,
            self.default_run_timeout_ms,
            PASS_BATCH,
            |tx| tx.hold_scheduler_lease(holder, now, until),
        )
    }

    /// Whether a pass could have anything to do: a schedule with a next fire time, or a
    /// buffered tick. A cheap read, so a store without schedules costs nothing.
    fn scheduler_work(&self) -> Result<(Option<i64>, bool)> {
        self.store().read_quick(|tx| {
            Ok((
                tx.next_schedule_fire()?,
                !tx.schedules_with_buffered()?.is_empty(),
            ))
        })
    }
}

/// The name a process holds the scheduler lease by.
pub fn scheduler_holder() -> String {
    format!(
        "{}:{}:{:08x}",
        crate::config::hostname(),
        std::process::id(),
        rand::random::<u32>()
    )
}

/// Fire schedules until `stop` turns true (see the module doc). Each pass's outcome goes to
/// `on_pass` (`None`: another process fires).
pub async fn run_scheduler(
    plane: Arc<LocalControlPlane>,
    clock: Arc<dyn Clock>,
    mut stop: tokio::sync::watch::Receiver<bool>,
    on_pass: impl Fn(&Result<Option<PassReport>>) + Send,
) {
    let holder = scheduler_holder();
    let half_lease = SCHEDULER_LEASE / 2;
    loop {
        if *stop.borrow() {
            return;
        }
        let feed = plane.store().feed();
        let (seen, seen_schedules) = (feed.version(), feed.schedules_version());
        let (p, h) = (plane.clone(), holder.clone());
        let c = clock.clone();
        let looked = tokio::time::Instant::now();
        let work = tokio::task::spawn_blocking(move || -> Result<Look> {
            let (next, buffered) = p.scheduler_work()?;
            let now = c.now_ms();
            if !buffered && next.is_none_or(|n| n > now) {
                return Ok(Look {
                    pass: None,
                    leading: true,
                    next,
                    buffered,
                });
            }
            let pass = p.schedule_pass(&h, now);
            log_pass(&pass);
            let pass = pass?;
            Ok(Look {
                leading: pass.is_some(),
                next: pass.as_ref().map_or(next, |r| r.next_fire),
                pass,
                buffered,
            })
        })
        .await;
        let look = match work {
            Ok(Ok(v)) => v,
            Ok(Err(e)) => {
                on_pass(&Err(e));
                Look::failed()
            }
            Err(e) => {
                on_pass(&Err(Error::Internal(format!(
                    "the scheduler task failed: {e}"
                ))));
                Look::failed()
            }
        };
        if look.pass.is_some() {
            on_pass(&Ok(look.pass));
        }
        // Sleep until the next tick fires; a follower looks again every half lease (to take
        // over a lapsed one).
        let now = clock.now_ms();
        let mut sleep = match look.next {
            Some(n) => Duration::from_millis(u64::try_from(n.saturating_sub(now)).unwrap_or(0)),
            None => Duration::from_secs(3600),
        };
        if !look.leading {
            sleep = sleep.min(half_lease);
        }
        let mut until = tokio::time::Instant::now() + sleep;
        // Wake early: at once (after a short debounce) when this process changed a schedule,
        // or on any commit while a buffered tick waits for a run to end; any other commit (a
        // schedule changed by another process, say) is looked at, but at most every
        // LOOK_OTHER, so a busy store costs a look now and then, not one per commit.
        let mut other_due = false;
        loop {
            tokio::select! {
                () = tokio::time::sleep_until(until) => break,
                () = feed.wait_schedules_since(seen_schedules) => {
                    tokio::time::sleep(DEBOUNCE).await;
                    break;
                }
                () = feed.wait_since(seen, sleep), if !other_due => {
                    if feed.version() == seen {
                        continue;
                    }
                    if look.buffered {
                        tokio::time::sleep(DEBOUNCE).await;
                        break;
                    }
                    other_due = true;
                    until = until.min((looked + LOOK_OTHER).max(tokio::time::Instant::now() + DEBOUNCE));
                }
                _ = stop.changed() => break,
            }
        }
    }
}

/// What one look at the store found.
struct Look {
    pass: Option<PassReport>,
    /// Whether this process fires (a follower looks again within half a lease).
    leading: bool,
    /// When the next tick fires.
    next: Option<i64>,
    /// Whether a buffered tick waits for a run to end.
    buffered: bool,
}

impl Look {
    /// After a failed look: try again within half a lease.
    fn failed() -> Look {
        Look {
            pass: None,
            leading: false,
            next: None,
            buffered: false,
        }
    }
}

fn log_pass(pass: &Result<Option<PassReport>>) {
    let Ok(Some(r)) = pass else {
        return;
    };
    if r.ticks.is_empty() && r.paused.is_empty() {
        return;
    }
    // One line a pass: 10,000 schedules a minute are not 10,000 lines a minute. A schedule's
    // own line is there at debug level, and at info when one of its ticks was lost.
    let mut total = crate::model::TickCounts::default();
    for (name, c) in &r.ticks {
        total.add(c);
        if c.missed > 0 || c.dropped > 0 {
            tracing::info!(schedule = %name, fired = c.fired, missed = c.missed,
                skipped = c.skipped, buffered = c.buffered, dropped = c.dropped, "schedule ticks");
        } else {
            tracing::debug!(schedule = %name, fired = c.fired, skipped = c.skipped,
                buffered = c.buffered, "schedule ticks");
        }
    }
    tracing::info!(
        schedules = r.ticks.len(),
        fired = total.fired,
        missed = total.missed,
        skipped = total.skipped,
        buffered = total.buffered,
        dropped = total.dropped,
        paused = r.paused.len(),
        cpu_ms = r.cpu.total.as_secs_f64() * 1e3,
        runs_cpu_ms = r.cpu.runs.as_secs_f64() * 1e3,
        "scheduler pass"
    );
}
