//! The background loader: keeps what the visible view shows fresh without ever blocking input.
//! It follows the control plane's change feed — it sleeps in `wait_for_change`, then reads the
//! events since the last one it saw (a primary-key range) to learn *what* changed, and re-reads
//! only that: the visible page of runs or agents, the open run, new log lines, the audit tail.
//! Agents' heartbeat ages and offline states move with time alone, so those and the overview
//! are also re-read every couple of seconds. Schedules' pauses and ticks are not events, so the
//! Schedules view re-reads them on every wake-up (as Audit does), and their last runs when runs
//! changed.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::{Duration, Instant};

use imx::auth::Principal;
use imx::control::{Plane, RunQuery};
use imx::model::{LogLine, now_ms};
use tokio::sync::{mpsc, watch};

use super::action::{Action, Data, LogWindow, ViewId, Watch};
use super::event_loop::Msg;
use super::views::agent_steps::LIMIT as AGENT_STEPS;
use super::views::logpane::{CHUNK, LOG_KEEP};
use super::views::schedules::LAST_RUNS;
use super::views::{audit::AuditState, workflows::RECENT};

/// Events read per refresh; a longer backlog counts as "everything changed".
const EVENT_BATCH: u32 = 1_000;
/// Log lines read per request (a server's largest page).
const LOG_BATCH: u32 = 1_000;
/// Time-driven re-reads (heartbeat ages, offline agents, the overview's windows).
pub const PERIODIC: Duration = Duration::from_secs(2);
/// At most this many refreshes a second under a storm of changes.
const MIN_GAP: Duration = Duration::from_millis(100);

/// What the events since the last refresh touched.
#[derive(Debug, Default)]
struct Touched {
    all: bool,
    runs: bool,
    agents: bool,
    workflows: bool,
    run_ids: BTreeSet<String>,
}

impl Touched {
    fn any(&self) -> bool {
        self.all || self.runs || self.agents || self.workflows
    }
    fn run(&self, id: &str) -> bool {
        self.all || self.run_ids.contains(id)
    }
}

/// The loader's memory between refreshes.
pub struct Loader {
    plane: Plane,
    who: Principal,
    last_event: Option<i64>,
    /// The log stream being followed: (run, step) and the last line id read (`None` while a
    /// window is shown, so leaving it reads the tail again).
    logs: Option<((String, Option<String>), i64)>,
    last_periodic: Option<Instant>,
    last: Option<Watch>,
}

impl Loader {
    pub fn new(plane: Plane, who: Principal) -> Self {
        Loader {
            plane,
            who,
            last_event: None,
            logs: None,
            last_periodic: None,
            last: None,
        }
    }

    /// One refresh for `w`: read what changed since the last one and what `w` newly asks for.
    pub async fn refresh(&mut self, w: &Watch) -> Vec<Data> {
        match self.load(w).await {
            Ok(mut out) => {
                if !out.is_empty() {
                    out.push(Data::Refreshed(now_ms()));
                }
                out
            }
            Err(e) => vec![Data::Failed(e.to_string())],
        }
    }

    async fn touched(&mut self) -> imx::Result<Touched> {
        let mut t = Touched::default();
        let Some(after) = self.last_event else {
            t.all = true;
            return Ok(t);
        };
        let events = self.plane.events(&self.who, after, EVENT_BATCH).await?;
        t.all = events.len() >= EVENT_BATCH as usize;
        for e in events {
            self.last_event = Some(e.id);
            let family = e.kind.split('.').next().unwrap_or("");
            match family {
                "run" => t.runs = true,
                "step" => {
                    t.runs = true;
                    t.agents = true;
                }
                "agent" => t.agents = true,
                "workflow" => t.workflows = true,
                _ => t.all = true,
            }
            if let Some(id) = e.run_id {
                t.run_ids.insert(id);
            }
        }
        Ok(t)
    }

    async fn load(&mut self, w: &Watch) -> imx::Result<Vec<Data>> {
        let changed = self.last.as_ref() != Some(w);
        let first = self.last_event.is_none();
        let t = self.touched().await?;
        let periodic = self.last_periodic.is_none_or(|at| at.elapsed() >= PERIODIC);
        if periodic {
            self.last_periodic = Some(Instant::now());
        }
        let p = &self.plane;
        let who = &self.who;
        let mut out = Vec::new();
        if first || (w.view == ViewId::Overview && (changed || t.any() || periodic)) {
            let o = p.overview(who).await?;
            if first {
                self.last_event = Some(o.event_id);
            }
            out.push(Data::Overview(o));
        }
        match w.view {
            ViewId::Overview => {}
            ViewId::Runs => {
                if changed || t.runs || t.all || periodic {
                    let page = p.dashboard_runs(who, w.runs.clone()).await?;
                    out.push(Data::Runs(w.runs.clone(), page));
                }
            }
            ViewId::Agents => {
                if changed || t.agents || t.all || periodic {
                    let page = p.dashboard_agents(who, w.agents.clone()).await?;
                    out.push(Data::Agents(w.agents.clone(), page));
                }
            }
            ViewId::AgentSteps => {
                if let Some(name) = &w.agent
                    && (changed || t.runs || t.agents || t.all || periodic)
                {
                    let steps = p.agent_steps(who, name, AGENT_STEPS).await?;
                    out.push(Data::AgentSteps(name.clone(), steps));
                }
            }
            ViewId::RunDetail => {
                if let Some((run, step)) = &w.detail {
                    if changed || t.run(run) || periodic {
                        out.push(Data::Detail(Box::new(p.get_run(who, run).await?)));
                    }
                    match w.log_window {
                        _ if !w.log => {}
                        Some(window) => {
                            self.logs = None;
                            if changed {
                                out.extend(self.window(run, step.as_deref(), window).await?);
                            }
                        }
                        None => out.extend(self.follow_logs(run, step.as_deref()).await?),
                    }
                }
            }
            ViewId::Workflows => {
                if changed || t.any() || periodic {
                    out.push(Data::Workflows(p.dashboard_workflows(who, RECENT).await?));
                }
            }
            ViewId::Audit => {
                // Audit records are not events: any wake-up may have added some.
                let limit = AuditState::limit(&w.audit);
                let records = p.audit_tail(who, w.audit.clone(), None, limit).await?;
                out.push(Data::Audit(w.audit.clone(), records));
            }
            ViewId::Schedules => {
                let all = p.list_schedules(who).await?;
                let names: Option<Vec<String>> = (changed || t.runs || t.all)
                    .then(|| all.iter().take(LAST_RUNS).map(|s| s.name.clone()).collect());
                out.push(Data::Schedules(all));
                if let Some(names) = names {
                    out.push(Data::ScheduleRuns(self.last_runs(names).await));
                }
            }
        }
        self.last = Some(w.clone());
        Ok(out)
    }

    /// The newest run of each of these schedules that has one (one indexed read each). A
    /// control plane that cannot filter runs by schedule (an older server) gives none: the
    /// view shows the schedules without them.
    async fn last_runs(&self, names: Vec<String>) -> BTreeMap<String, imx::model::Run> {
        let mut out = BTreeMap::new();
        for name in names {
            let q = RunQuery {
                schedule: Some(name.clone()),
                limit: 1,
                ..RunQuery::default()
            };
            match self.plane.dashboard_runs(&self.who, q).await {
                Ok(page) => {
                    if let Some(r) = page.items.into_iter().next() {
                        out.insert(name, r);
                    }
                }
                Err(_) => break,
            }
        }
        out
    }

    /// The followed log: its last lines for a new stream (read backwards from the end, so a
    /// million-line log costs one window), then the lines after the last one read. More new
    /// lines than the pane holds start the stream again from its end.
    async fn follow_logs(&mut self, run: &str, step: Option<&str>) -> imx::Result<Vec<Data>> {
        let key = (run.to_string(), step.map(String::from));
        let after = match &self.logs {
            Some((k, after)) if *k == key => *after,
            _ => return self.tail(key).await,
        };
        let (lines, more) = self.read_forward(run, step, after, LOG_KEEP).await?;
        if more {
            return self.tail(key).await;
        }
        let Some(last) = lines.last().map(|l| l.id) else {
            return Ok(Vec::new());
        };
        self.logs = Some((key, last));
        Ok(vec![Data::Logs {
            run: run.to_string(),
            step: step.map(String::from),
            lines,
            reset: false,
            older: false,
        }])
    }

    /// A log's last [`LOG_KEEP`] lines, as a new stream.
    async fn tail(&mut self, key: (String, Option<String>)) -> imx::Result<Vec<Data>> {
        let (run, step) = key.clone();
        let (lines, older) = self
            .read_back(&run, step.as_deref(), None, LOG_KEEP)
            .await?;
        self.logs = Some((key, lines.last().map_or(0, |l| l.id)));
        Ok(vec![Data::Logs {
            run,
            step,
            lines,
            reset: true,
            older,
        }])
    }

    /// A window of the log instead of its tail.
    async fn window(
        &mut self,
        run: &str,
        step: Option<&str>,
        window: LogWindow,
    ) -> imx::Result<Vec<Data>> {
        let (lines, more) = match window {
            LogWindow::Head => self.read_forward(run, step, 0, LOG_KEEP).await?,
            LogWindow::After(id) => self.read_forward(run, step, id, CHUNK).await?,
            LogWindow::Before(id) => self.read_back(run, step, Some(id), CHUNK).await?,
        };
        Ok(vec![Data::LogWindow {
            run: run.to_string(),
            step: step.map(String::from),
            window,
            lines,
            more,
        }])
    }

    /// Up to `n` lines after line `after`, and whether there are more.
    async fn read_forward(
        &self,
        run: &str,
        step: Option<&str>,
        mut after: i64,
        n: usize,
    ) -> imx::Result<(Vec<LogLine>, bool)> {
        let mut out: Vec<LogLine> = Vec::new();
        loop {
            let want = batch(n + 1 - out.len());
            let page = self
                .plane
                .run_logs(&self.who, run, step, after, want)
                .await?;
            let got = page.len();
            if let Some(l) = page.last() {
                after = l.id;
            }
            out.extend(page);
            if got < want as usize || out.len() > n {
                break;
            }
        }
        let more = out.len() > n;
        out.truncate(n);
        Ok((out, more))
    }

    /// Up to `n` lines before line `before` (`None`: the end), oldest first, and whether there
    /// are more before them: read backwards a page at a time.
    async fn read_back(
        &self,
        run: &str,
        step: Option<&str>,
        mut before: Option<i64>,
        n: usize,
    ) -> imx::Result<(Vec<LogLine>, bool)> {
        let mut pages: Vec<Vec<LogLine>> = Vec::new();
        let mut total = 0;
        loop {
            let want = batch(n + 1 - total);
            let page = self
                .plane
                .run_logs_before(&self.who, run, step, before, want)
                .await?;
            let got = page.len();
            if let Some(l) = page.first() {
                before = Some(l.id);
            }
            total += got;
            pages.push(page);
            if got < want as usize || total > n {
                break;
            }
        }
        let mut out: VecDeque<LogLine> = pages.into_iter().rev().flatten().collect();
        let more = out.len() > n;
        let over = out.len().saturating_sub(n);
        out.drain(..over);
        Ok((out.into(), more))
    }
}

/// One request's worth of `want` lines.
fn batch(want: usize) -> u32 {
    u32::try_from(want).unwrap_or(u32::MAX).clamp(1, LOG_BATCH)
}

/// Refresh whenever the watch changes or the store may have changed, until the UI goes away.
/// Everything it sends is marked with `connection`, so what it read from a context the
/// dashboard has since left is dropped.
pub async fn run(
    mut loader: Loader,
    mut rx: watch::Receiver<Watch>,
    tx: mpsc::UnboundedSender<Msg>,
    connection: u64,
) {
    loop {
        let w = rx.borrow_and_update().clone();
        let started = Instant::now();
        for d in loader.refresh(&w).await {
            if tx
                .send(Msg::Read(connection, Action::Data(Box::new(d))))
                .is_err()
            {
                return;
            }
        }
        let plane = loader.plane.clone();
        tokio::select! {
            r = rx.changed() => {
                if r.is_err() {
                    return;
                }
            }
            () = plane.wait_for_change(PERIODIC) => {
                tokio::time::sleep_until((started + MIN_GAP).into()).await;
            }
        }
    }
}

#[cfg(test)]
#[path = "loader_tests.rs"]
mod tests;
