//! Firing schedules (issue 12), written once for every backend over [`StoreTx`]: one pass
//! ([`fire_due`]) takes the schedules whose next tick is due, decides each one's due ticks
//! with [`crate::schedule::plan`], and records them — a run is made only for a tick this
//! transaction recorded itself (`insert_tick`: unique per schedule and nominal time), so two
//! processes firing the same tick make one run. It then starts buffered ticks whose schedule
//! has no run going, and pauses schedules with `pause_on_failure` whose run failed.
//!
//! The scheduler runs a pass as several transactions ([`fire_due_batched`]), each deciding at
//! most [`PASS_BATCH`] schedules: 10,000 ticks due at one minute become visible runs batch by
//! batch instead of all at the end of one long transaction. Exactly once still holds per
//! tick: its record and its run are written in the same transaction.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use crate::Result;
use crate::engine::SpecCache;
use crate::model::{Run, ScheduleInfo, TickCounts, TickOutcome, WorkflowSpec};
use crate::schedule::{MissReason, Outcome, Schedule, ScheduleSpec, State, plan};
use crate::store::Tx;
use crate::store::api::schedules::{Advance, DueSchedule};
use crate::store::api::{Backend, NewTick, RunRequest};

/// Schedules taken per query of a pass.
const DUE_BATCH: u32 = 1000;

/// Schedules decided per transaction of a batched pass ([`fire_due_batched`]): small enough
/// that a batch's runs are visible within tens of milliseconds (a SQLite batch holds the
/// write lock that long), large enough that a commit's cost is shared by several hundred
/// runs. 500, not 250: `cargo bench --bench schedules` start lag p99 SQLite 309-477 → 213 ms,
/// PostgreSQL 836 → 585-798 ms, tick work SQLite 79-127 → 74-76 ms. 1000, not 500 (SQLite,
/// five runs each, min-median-max): the pass's CPU 178-193-197 → 164-170-175 ms, tick work
/// 32-44-52 → 14-20-42 ms, start lag p99 226-250-287 → 215-220-284 ms; PostgreSQL (two runs):
/// the pass's CPU 61 → 46-50 ms, start lag p99 780-1428 → 391-626 ms. Fewer commits rewrite less
/// often the pages every batch touches (the tables' and indexes' last pages).
pub const PASS_BATCH: u32 = 1000;

/// A schedule compiled by a pass is kept while it comes due at least this often (an hour);
/// one due more seldom is read again when next due.
const FORGET_COMPILED_MS: i64 = 3_600_000;

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PassReport {
    /// By schedule name.
    pub ticks: BTreeMap<String, TickCounts>,
    /// Schedules paused because a run failed.
    pub paused: Vec<String>,
    /// When the next tick fires (any schedule).
    pub next_fire: Option<i64>,
    /// The CPU the pass took on its thread.
    pub cpu: PassCpu,
}

/// The CPU (user + system) a pass took on the thread that ran it — every transaction of it:
/// due reads, plans, tick records, runs, schedule updates, commits — and the part of that
/// spent making the runs of the ticks it fired (inside `start_runs`: the runs' rows, events
/// and indexes). Zero where a thread's CPU time cannot be read. Work the pass caused on other
/// threads (PostgreSQL's connection tasks, the database server) is not in it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PassCpu {
    /// The whole pass.
    pub total: Duration,
    /// Inside `start_runs` (a buffered tick's run: inside its making).
    pub runs: Duration,
}

/// The calling thread's CPU time so far; zero where it cannot be read. From
/// `CLOCK_THREAD_CPUTIME_ID`, which counts up to now: `getrusage(RUSAGE_THREAD)` counts a
/// running thread's time only up to its last scheduler tick or switch (4 ms apart), so a
/// stretch of work could read as none, and the rest of a pass as all of it.
pub fn thread_cpu() -> Duration {
    #[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"))]
    if let Ok(t) = nix::time::clock_gettime(nix::time::ClockId::CLOCK_THREAD_CPUTIME_ID) {
        return Duration::new(
            u64::try_from(t.tv_sec()).unwrap_or(0),
            u32::try_from(t.tv_nsec()).unwrap_or(0),
        );
    }
    Duration::ZERO
}

/// `f`, its thread CPU added to `into`.
fn timed<T>(into: &mut Duration, f: impl FnOnce() -> T) -> T {
    let t = thread_cpu();
    let out = f();
    *into += thread_cpu().saturating_sub(t);
    out
}

/// Make the run of a tick this transaction recorded, and tag both with each other. `None`
/// (with the tick recorded as missed) when the workflow or the params no longer allow a run.
pub fn make_run(
    tx: &Tx<'_>,
    cache: &SpecCache,
    s: &ScheduleInfo,
    nominal: i64,
    default_timeout_ms: Option<u64>,
) -> Result<Option<Run>> {
    make_run_with(
        tx,
        cache,
        Of::info(s),
        nominal,
        default_timeout_ms,
        &mut Workflows::new(),
    )
}

/// Workflows read by one transaction of a pass, by name: ten thousand schedules of one
/// workflow read it once.
type Workflows = HashMap<String, Arc<WorkflowSpec>>;

/// What making a schedule's runs needs of it.
#[derive(Clone, Copy)]
struct Of<'a> {
    name: &'a str,
    workflow: &'a str,
    spec: &'a ScheduleSpec,
}

impl<'a> Of<'a> {
    fn info(s: &'a ScheduleInfo) -> Of<'a> {
        Of {
            name: &s.name,
            workflow: &s.workflow,
            spec: &s.spec,
        }
    }

    fn due(s: &'a DueSchedule) -> Of<'a> {
        Of {
            name: &s.name,
            workflow: &s.workflow,
            spec: s.compiled.spec(),
        }
    }
}

/// The typed params of schedule `s`'s runs, its workflow read once per transaction through
/// `workflows`.
fn typed_params(
    tx: &Tx<'_>,
    s: Of<'_>,
    workflows: &mut Workflows,
) -> Result<BTreeMap<String, serde_json::Value>> {
    let spec = match workflows.get(s.workflow) {
        Some(spec) => spec.clone(),
        None => {
            let spec = Arc::new(tx.get_workflow(s.workflow, None)?.spec);
            workflows.insert(s.workflow.to_string(), spec.clone());
            spec
        }
    };
    crate::spec::resolve_params(&spec, &s.spec.params)
}

/// [`typed_params`], or `None` with the tick at `nominal` recorded as missed when the
/// workflow or the params no longer allow a run.
fn params_or_missed(
    tx: &Tx<'_>,
    s: Of<'_>,
    nominal: i64,
    workflows: &mut Workflows,
) -> Result<Option<BTreeMap<String, serde_json::Value>>> {
    match typed_params(tx, s, workflows) {
        Ok(t) => Ok(Some(t)),
        Err(e) => {
            tracing::warn!(schedule = %s.name, error = %e, "a scheduled run could not be made");
            mark_missed(tx, s, nominal, MissReason::WorkflowError)?;
            Ok(None)
        }
    }
}

/// The request that starts the run of schedule `s`'s tick at `nominal`.
fn run_request<'a>(
    s: Of<'a>,
    nominal: i64,
    params: &'a BTreeMap<String, serde_json::Value>,
    who: &'a str,
    default_timeout_ms: Option<u64>,
) -> RunRequest<'a> {
    RunRequest {
        workflow: s.workflow,
        version: None,
        params,
        timeout_ms: None,
        default_timeout_ms,
        created_by: who,
        labels: &s.spec.labels,
        rerun_of: None,
        schedule: Some((s.name, nominal)),
        id: None,
    }
}

/// [`make_run`], reading each workflow once per transaction through `workflows`.
fn make_run_with(
    tx: &Tx<'_>,
    cache: &SpecCache,
    s: Of<'_>,
    nominal: i64,
    default_timeout_ms: Option<u64>,
    workflows: &mut Workflows,
) -> Result<Option<Run>> {
    let Some(typed) = params_or_missed(tx, s, nominal, workflows)? else {
        return Ok(None);
    };
    let who = format!("schedule:{}", s.name);
    let req = run_request(s, nominal, &typed, &who, default_timeout_ms);
    let run = tx.create_run_with(cache, &req)?;
    tx.link_tick_runs(&[(s.name, nominal, &run.id)])?;
    Ok(Some(run))
}

/// Record a tick as missed, whatever it was recorded as.
fn mark_missed(tx: &Tx<'_>, s: Of<'_>, nominal: i64, reason: MissReason) -> Result<()> {
    tx.delete_tick(s.name, nominal)?;
    tx.insert_tick(&NewTick {
        schedule: s.name,
        nominal_time: nominal,
        outcome: TickOutcome::Missed,
        reason: Some(reason),
        recorded_at: crate::model::now_ms(),
        run_id: None,
    })?;
    notify_missed(tx, s, nominal, reason)
}

/// Put a missed tick in the notification outbox (rules `on: missed_schedule`), in the
/// transaction that records it. Ticks missed because the schedule is paused are not news: an
/// operator paused it.
fn notify_missed(tx: &Tx<'_>, s: Of<'_>, nominal: i64, reason: MissReason) -> Result<()> {
    if reason != MissReason::Paused {
        let ev = crate::notify::OutboxInsert::missed_schedule(
            s.workflow,
            s.name,
            nominal,
            reason.as_str(),
        );
        tx.notify_enqueue(&ev)?;
    }
    Ok(())
}

impl PassReport {
    /// The parts of one pass (its batches, in order) as one report. Each batch decides other
    /// schedules: their counts are sorted together once (a map grown batch by batch, 10,000
    /// names a minute, cost more than the rest of the report).
    fn merge(parts: Vec<PassReport>) -> PassReport {
        let mut report = PassReport::default();
        let mut ticks: Vec<(String, TickCounts)> = Vec::new();
        for part in parts {
            ticks.extend(part.ticks);
            report.paused.extend(part.paused);
            report.next_fire = part.next_fire;
            report.cpu.runs += part.cpu.runs;
        }
        // Stable: a schedule in two parts keeps their order (their counts are added).
        ticks.sort_by(|a, b| a.0.cmp(&b.0));
        let mut merged: Vec<(String, TickCounts)> = Vec::with_capacity(ticks.len());
        for (name, c) in ticks {
            match merged.last_mut() {
                Some((last, t)) if *last == name => t.add(&c),
                _ => merged.push((name, c)),
            }
        }
        report.ticks = merged.into_iter().collect();
        report
    }
}

/// One pass of the scheduler at `now` in one transaction (see the module doc).
pub fn fire_due(
    tx: &Tx<'_>,
    cache: &SpecCache,
    now: i64,
    default_timeout_ms: Option<u64>,
) -> Result<PassReport> {
    let cpu = thread_cpu();
    let mut report = PassReport::default();
    while fire_some(tx, cache, now, default_timeout_ms, DUE_BATCH, &mut report)? {}
    finish_pass(tx, cache, now, default_timeout_ms, &mut report)?;
    report.cpu.total = thread_cpu().saturating_sub(cpu);
    Ok(report)
}

/// One pass of the scheduler at `now` as maintenance transactions of at most `batch`
/// schedules each (see the module doc). Each transaction first asks `hold` whether this
/// process still fires (the SQLite scheduler lease); `None` when it did not from the start
/// (or another process leads maintenance). A firer that loses its lease mid-pass stops, and
/// what it left is the next holder's.
pub fn fire_due_batched(
    store: &dyn Backend,
    now: i64,
    default_timeout_ms: Option<u64>,
    batch: u32,
    mut hold: impl FnMut(&Tx<'_>) -> Result<bool>,
) -> Result<Option<PassReport>> {
    let cpu = thread_cpu();
    let cache = store.specs();
    let mut parts: Vec<PassReport> = Vec::new();
    let done = |mut report: PassReport| -> Result<Option<PassReport>> {
        report.cpu.total = thread_cpu().saturating_sub(cpu);
        Ok(Some(report))
    };
    loop {
        let part = store.maintain(|tx| {
            if !hold(tx)? {
                return Ok(None);
            }
            let mut part = PassReport::default();
            let more = fire_some(tx, cache, now, default_timeout_ms, batch, &mut part)?;
            if !more {
                finish_pass(tx, cache, now, default_timeout_ms, &mut part)?;
            }
            Ok(Some((part, more)))
        })?;
        let Some((part, more)) = part.flatten() else {
            if parts.is_empty() {
                return Ok(None);
            }
            // Lost mid-pass: when the rest is due is for the next look to know.
            let mut report = PassReport::merge(parts);
            report.next_fire = store.read_quick(|tx| tx.next_schedule_fire())?;
            return done(report);
        };
        parts.push(part);
        if !more {
            return done(PassReport::merge(parts));
        }
    }
}

/// Decide up to `limit` due schedules: whether there may be more. The batch's ticks are
/// recorded in one call, its runs started in one, and its schedules advanced in one, so on
/// PostgreSQL a batch costs a handful of round trips, not several per schedule.
fn fire_some(
    tx: &Tx<'_>,
    cache: &SpecCache,
    now: i64,
    default_timeout_ms: Option<u64>,
    limit: u32,
    report: &mut PassReport,
) -> Result<bool> {
    // What each schedule's plan needs, read for the whole batch at once.
    let due = tx.due_schedules(now, limit, cache.schedules())?;
    let n = due.len();
    let mut planned = Vec::with_capacity(n);
    let mut advances: Vec<(String, Option<i64>, i64)> = Vec::new();
    for s in due {
        match decide(tx, s, now, report)? {
            Ok(p) => planned.push(p),
            Err(s) => advances.push((s.name, s.row, s.last_nominal)),
        }
    }
    // A tick fired with the batch is recorded with the id its run will take (no update to
    // link them after), one whose run cancels others' with its run's own.
    let run_ids: Vec<Vec<Option<String>>> = planned
        .iter()
        .map(|p| {
            p.plan
                .decisions
                .iter()
                .map(|d| (d.outcome == Outcome::Fire).then(crate::model::new_id))
                .collect()
        })
        .collect();
    let ticks: Vec<NewTick<'_>> = planned
        .iter()
        .zip(&run_ids)
        .flat_map(|(p, ids)| {
            p.plan.decisions.iter().zip(ids).map(|(d, id)| {
                let (outcome, reason) = tick_outcome(d.outcome);
                NewTick {
                    schedule: &p.s.name,
                    nominal_time: d.nominal,
                    outcome,
                    reason,
                    recorded_at: now,
                    run_id: id.as_deref(),
                }
            })
        })
        .collect();
    let mut recorded = tx.insert_ticks(&ticks)?.into_iter();
    let mut workflows = Workflows::new();
    // The runs to start with the batch: (schedule, its decision); whose runs they are.
    let mut fires: Vec<(usize, usize)> = Vec::new();
    let mut params: Vec<Option<BTreeMap<String, serde_json::Value>>> = vec![None; planned.len()];
    let mut counts = vec![TickCounts::default(); planned.len()];
    for (i, p) in planned.iter_mut().enumerate() {
        let cancels = p
            .plan
            .decisions
            .iter()
            .any(|d| d.outcome == Outcome::CancelOthersAndFire);
        for (k, d) in p.plan.decisions.iter().enumerate() {
            // A tick another process recorded is its: its decision stands.
            if !recorded.next().unwrap_or(false) {
                continue;
            }
            let c = &mut counts[i];
            match d.outcome {
                Outcome::Fire | Outcome::CancelOthersAndFire => {
                    if params[i].is_none() {
                        params[i] = params_or_missed(tx, Of::due(&p.s), d.nominal, &mut workflows)?;
                        if params[i].is_none() {
                            c.missed += 1;
                            continue;
                        }
                    }
                    c.fired += 1;
                    if !cancels {
                        fires.push((i, k));
                        continue;
                    }
                    // Each tick cancels the runs before it, those of this pass too: start
                    // its run now, not with the batch.
                    if d.outcome == Outcome::CancelOthersAndFire {
                        for id in p.s.going.drain(..) {
                            // A run that ended meanwhile cannot be cancelled: nothing to do.
                            let _ = tx.cancel_run(cache, &id);
                        }
                    }
                    let who = format!("schedule:{}", p.s.name);
                    let typed = params[i].as_ref().unwrap_or(&NO_PARAMS);
                    let req =
                        run_request(Of::due(&p.s), d.nominal, typed, &who, default_timeout_ms);
                    let ids = timed(&mut report.cpu.runs, || tx.start_runs(cache, &[req]))?;
                    for id in &ids {
                        tx.link_tick_runs(&[(&p.s.name, d.nominal, id)])?;
                    }
                    p.s.going.extend(ids);
                }
                Outcome::Skipped => c.skipped += 1,
                Outcome::Buffered => c.buffered += 1,
                Outcome::Dropped => c.dropped += 1,
                Outcome::Missed(r) => {
                    c.missed += 1;
                    notify_missed(tx, Of::due(&p.s), d.nominal, r)?;
                }
            }
        }
    }
    let whos: Vec<String> = fires
        .iter()
        .map(|(i, _)| format!("schedule:{}", planned[*i].s.name))
        .collect();
    let reqs: Vec<RunRequest<'_>> = fires
        .iter()
        .zip(&whos)
        .map(|(&(i, k), who)| {
            let typed = params[i].as_ref().unwrap_or(&NO_PARAMS);
            let nominal = planned[i].plan.decisions[k].nominal;
            RunRequest {
                id: run_ids[i][k].as_deref(),
                ..run_request(
                    Of::due(&planned[i].s),
                    nominal,
                    typed,
                    who,
                    default_timeout_ms,
                )
            }
        })
        .collect();
    let ids = timed(&mut report.cpu.runs, || tx.start_runs(cache, &reqs))?;
    // Only a run that could not take its id (a workflow with a concurrency key) is linked.
    let links: Vec<(&str, i64, &str)> = reqs
        .iter()
        .zip(&ids)
        .filter(|(req, id)| req.id != Some(id.as_str()))
        .filter_map(|(req, id)| {
            req.schedule
                .map(|(name, nominal)| (name, nominal, id.as_str()))
        })
        .collect();
    if !links.is_empty() {
        tx.link_tick_runs(&links)?;
    }
    let mut all: Vec<Advance<'_>> = advances
        .iter()
        .map(|(name, row, last_nominal)| Advance {
            name,
            row: *row,
            last_nominal: *last_nominal,
            next_fire: None,
            counts: TickCounts::default(),
        })
        .collect();
    for (p, c) in planned.iter().zip(counts) {
        all.push(Advance {
            name: &p.s.name,
            row: p.s.row,
            last_nominal: p.plan.last_nominal,
            next_fire: p.plan.next_fire,
            counts: c,
        });
        if c.any() {
            report.ticks.insert(p.s.name.clone(), c);
        }
    }
    tx.advance_schedules(&all)?;
    Ok(n >= usize::try_from(limit).unwrap_or(usize::MAX))
}

static NO_PARAMS: BTreeMap<String, serde_json::Value> = BTreeMap::new();

/// The end of a pass: buffered ticks whose run may start, and the next fire time.
fn finish_pass(
    tx: &Tx<'_>,
    cache: &SpecCache,
    now: i64,
    default_timeout_ms: Option<u64>,
    report: &mut PassReport,
) -> Result<()> {
    release_buffered(tx, cache, now, default_timeout_ms, report)?;
    report.next_fire = tx.next_schedule_fire()?;
    cache
        .schedules()
        .forget_unused(now.saturating_sub(FORGET_COMPILED_MS));
    Ok(())
}

/// A due schedule and what to do with its due ticks.
struct Planned {
    s: DueSchedule,
    plan: crate::schedule::Plan,
}

/// How a decision is recorded.
fn tick_outcome(o: Outcome) -> (TickOutcome, Option<MissReason>) {
    match o {
        Outcome::Fire | Outcome::CancelOthersAndFire => (TickOutcome::Fired, None),
        Outcome::Skipped => (TickOutcome::Skipped, None),
        Outcome::Buffered => (TickOutcome::Buffered, None),
        Outcome::Dropped => (TickOutcome::Dropped, None),
        Outcome::Missed(r) => (TickOutcome::Missed, Some(r)),
    }
}

/// Plan schedule `s`'s due ticks. A schedule with `pause_on_failure` whose run failed is
/// paused first. `Err(s)`: its spec does not compile (only one written by another version
/// could), so it stops firing.
fn decide(
    tx: &Tx<'_>,
    mut s: DueSchedule,
    now: i64,
    report: &mut PassReport,
) -> Result<std::result::Result<Planned, DueSchedule>> {
    let compiled = s.compiled.clone();
    let compiled = match &compiled.schedule {
        Ok(c) => c,
        Err((_, e)) => {
            tracing::error!(schedule = %s.name, error = %e, "schedule cannot be compiled");
            return Ok(Err(s));
        }
    };
    if compiled.spec().pause_on_failure
        && !s.paused
        && let Some(run) = tx.failed_run_after(&s.name, s.checked_at)?
    {
        let note = format!("paused on failure: run {run} failed");
        tx.set_schedule_paused(&s.name, true, Some(&note), now)?;
        s.paused = true;
        report.paused.push(s.name.clone());
    }
    let state = State {
        last_nominal: s.last_nominal,
        fired: s.fired,
        active: u32::try_from(s.going.len()).unwrap_or(u32::MAX),
        buffered: s.buffered,
        paused: s.paused,
    };
    let plan = plan(compiled, &state, now);
    Ok(Ok(Planned { s, plan }))
}

/// Start the oldest buffered tick of each schedule that has no run going (and is not paused).
fn release_buffered(
    tx: &Tx<'_>,
    cache: &SpecCache,
    now: i64,
    default_timeout_ms: Option<u64>,
    report: &mut PassReport,
) -> Result<()> {
    for name in tx.schedules_with_buffered()? {
        if !tx.schedule_active_runs(&name)?.is_empty() {
            continue;
        }
        let Some(s) = tx.get_schedule(&name)? else {
            continue;
        };
        if s.paused {
            continue;
        }
        let Some(nominal) = tx.oldest_buffered_tick(&name)? else {
            continue;
        };
        if tx.take_buffered_tick(&name, nominal, now)?
            && timed(&mut report.cpu.runs, || {
                make_run(tx, cache, &s, nominal, default_timeout_ms)
            })?
            .is_some()
        {
            report.ticks.entry(name).or_default().fired += 1;
        }
    }
    Ok(())
}

/// A new schedule from `spec`, created at `now`: ticks before `now` are none of its business;
/// its first fires at its first nominal time after `now`. Refused if the spec does not compile.
pub fn new_info(spec: ScheduleSpec, origin: &str, now: i64) -> Result<ScheduleInfo> {
    let compiled = Schedule::compile(spec.clone())?;
    Ok(ScheduleInfo {
        name: spec.name.clone(),
        workflow: spec.workflow.clone(),
        origin: origin.to_string(),
        paused: false,
        note: None,
        created_at: now,
        updated_at: now,
        last_nominal: now,
        next_fire: next_fire(&compiled, now, 0),
        fired: 0,
        checked_at: now,
        missed: 0,
        skipped: 0,
        dropped: 0,
        spec,
    })
}

/// `old` with a new spec (and origin) at `now`: its state is kept, the next fire time follows
/// the new timing from the latest decided tick.
pub fn updated_info(
    old: &ScheduleInfo,
    spec: ScheduleSpec,
    origin: &str,
    now: i64,
) -> Result<ScheduleInfo> {
    let compiled = Schedule::compile(spec.clone())?;
    Ok(ScheduleInfo {
        workflow: spec.workflow.clone(),
        origin: origin.to_string(),
        updated_at: now,
        next_fire: next_fire(&compiled, old.last_nominal, old.fired),
        spec,
        ..old.clone()
    })
}

/// When the first tick after `after` fires, unless the schedule's limit is reached.
fn next_fire(s: &Schedule, after: i64, fired: u64) -> Option<i64> {
    if s.spec().limit.is_some_and(|l| fired >= l) {
        return None;
    }
    s.next_after(after).map(|n| s.fire_at(n))
}

/// What [`sync_file_schedules`] changed, by schedule name.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Synced {
    pub created: Vec<String>,
    pub updated: Vec<String>,
    pub removed: Vec<String>,
}

impl Synced {
    pub fn any(&self) -> bool {
        !(self.created.is_empty() && self.updated.is_empty() && self.removed.is_empty())
    }
}

/// Make workflow `workflow`'s schedules from files (`origin = file`) what its file declares
/// (`workflow apply`): create the new ones, change the changed ones (keeping their state),
/// remove the ones no longer there. A schedule of the same name made by command, or of
/// another workflow, is a conflict.
pub fn sync_file_schedules(
    tx: &Tx<'_>,
    workflow: &str,
    declared: &[ScheduleSpec],
    now: i64,
) -> Result<Synced> {
    let mut out = Synced::default();
    for spec in declared {
        match tx.get_schedule(&spec.name)? {
            None => {
                tx.insert_schedule(&new_info(spec.clone(), "file", now)?)?;
                out.created.push(spec.name.clone());
            }
            Some(old) if old.origin != "file" || old.workflow != workflow => {
                return Err(crate::Error::Conflict(format!(
                    "schedule {:?} exists ({} of workflow {:?}); rename the file's schedule or delete that one",
                    spec.name,
                    if old.origin == "file" {
                        "from the file"
                    } else {
                        "made by command"
                    },
                    old.workflow
                )));
            }
            Some(old) if old.spec != *spec => {
                tx.update_schedule(&updated_info(&old, spec.clone(), "file", now)?)?;
                out.updated.push(spec.name.clone());
            }
            Some(_) => {}
        }
    }
    for s in tx.list_schedules()? {
        if s.origin == "file"
            && s.workflow == workflow
            && !declared.iter().any(|d| d.name == s.name)
        {
            tx.delete_schedule(&s.name)?;
            out.removed.push(s.name);
        }
    }
    Ok(out)
}
