//! The background loader: keeps what the visible view shows fresh without ever blocking input.
//! It follows the control plane's change feed — it sleeps in `wait_for_change`, then reads the
//! events since the last one it saw (a primary-key range) to learn *what* changed, and re-reads
//! only that: the visible page of runs or agents, the open run, new log lines, the audit tail.
//! Agents' heartbeat ages and offline states move with time alone, so those and the overview
//! are also re-read every couple of seconds.

use std::collections::{BTreeSet, VecDeque};
use std::time::{Duration, Instant};

use imx::auth::Principal;
use imx::control::Plane;
use imx::model::{LogLine, now_ms};
use tokio::sync::{mpsc, watch};

use super::action::{Action, Data, ViewId, Watch};
use super::event_loop::Msg;
use super::views::agent_steps::LIMIT as AGENT_STEPS;
use super::views::logpane::{CHUNK, LOG_KEEP};
use super::views::{audit::AuditState, workflows::RECENT};

/// Events read per refresh; a longer backlog counts as "everything changed".
const EVENT_BATCH: u32 = 1_000;
/// Log lines read per request, and the time a refresh may spend catching up with a long log
/// (it goes on at the next refresh, without waiting for a change).
const LOG_BATCH: u32 = 1_000;
const LOG_CATCH_UP: Duration = Duration::from_millis(250);
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
    /// The log stream being followed: (run, step) and the last line id read.
    logs: Option<((String, Option<String>), i64)>,
    last_periodic: Option<Instant>,
    last: Option<Watch>,
    /// The followed log has more lines than the last refresh read.
    behind: bool,
    /// Lines of the followed stream read so far, and the cursor (`after`) at which each
    /// [`CHUNK`] of them starts: how an older window is read again (a few KB for a million lines).
    read: usize,
    marks: Vec<i64>,
    /// Leaving an older window: resume the stream from this (line number, cursor).
    restart: Option<(usize, i64)>,
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
            behind: false,
            read: 0,
            marks: Vec::new(),
            restart: None,
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
                        out.push(Data::Detail(p.get_run(who, run).await?));
                    }
                    let was_window = self.last.as_ref().and_then(|l| l.log_window);
                    match w.log_window {
                        Some(chunk) => {
                            if changed {
                                out.extend(self.window(run, step.as_deref(), chunk).await?);
                            }
                        }
                        None => {
                            if was_window.is_some() {
                                // Back to the tail: from the mark a window before the end.
                                let i = self.read.saturating_sub(LOG_KEEP) / CHUNK;
                                self.restart = self.marks.get(i).map(|&cursor| (i * CHUNK, cursor));
                            }
                            out.extend(self.follow_logs(run, step.as_deref()).await?);
                        }
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
        }
        self.last = Some(w.clone());
        Ok(out)
    }

    /// New lines of the followed step since the last read (from the start for a new stream).
    /// A long backlog is read through for at most [`LOG_CATCH_UP`] per refresh, keeping only
    /// the newest [`LOG_KEEP`] lines (the pane holds no more), so opening a million-line log
    /// costs a bounded window of memory and lands on its tail.
    async fn follow_logs(&mut self, run: &str, step: Option<&str>) -> imx::Result<Vec<Data>> {
        let key = (run.to_string(), step.map(String::from));
        let restart = self.restart.take();
        let (reset, mut after) = match (&self.logs, restart) {
            (Some((k, _)), Some((line, cursor))) if *k == key => {
                self.read = line;
                self.marks.truncate(line / CHUNK);
                (true, cursor)
            }
            (Some((k, after)), _) if *k == key => (false, *after),
            _ => {
                self.read = 0;
                self.marks.clear();
                (true, 0)
            }
        };
        let started = Instant::now();
        let mut tail = Tail::new(LOG_KEEP);
        tail.skipped = if reset { self.read } else { 0 };
        self.behind = false;
        loop {
            let batch = self
                .plane
                .run_logs(&self.who, run, step, after, LOG_BATCH)
                .await?;
            let full = batch.len() >= LOG_BATCH as usize;
            for l in &batch {
                if self.read.is_multiple_of(CHUNK) {
                    self.marks.push(after);
                }
                after = l.id;
                self.read += 1;
            }
            tail.extend(batch);
            if !full {
                break;
            }
            if started.elapsed() >= LOG_CATCH_UP {
                self.behind = true;
                break;
            }
        }
        self.logs = Some((key, after));
        if tail.lines.is_empty() && !reset {
            return Ok(Vec::new());
        }
        Ok(vec![Data::Logs {
            run: run.to_string(),
            step: step.map(String::from),
            lines: tail.lines.into(),
            reset,
            skipped: tail.skipped,
        }])
    }
}

impl Loader {
    /// An older window of the followed log, read again from its chunk's mark.
    async fn window(
        &mut self,
        run: &str,
        step: Option<&str>,
        chunk: usize,
    ) -> imx::Result<Vec<Data>> {
        let chunk = chunk.min(self.marks.len().saturating_sub(1));
        let Some(&after) = self.marks.get(chunk) else {
            return Ok(Vec::new());
        };
        let limit = u32::try_from(LOG_KEEP).unwrap_or(u32::MAX);
        let lines = self
            .plane
            .run_logs(&self.who, run, step, after, limit)
            .await?;
        Ok(vec![Data::LogWindow {
            run: run.to_string(),
            step: step.map(String::from),
            start: chunk * CHUNK,
            lines,
        }])
    }
}

/// The newest `keep` lines of what is pushed through, and how many older ones went by.
#[derive(Debug)]
struct Tail {
    keep: usize,
    lines: VecDeque<LogLine>,
    skipped: usize,
}

impl Tail {
    fn new(keep: usize) -> Self {
        Tail {
            keep,
            lines: VecDeque::new(),
            skipped: 0,
        }
    }

    fn extend(&mut self, batch: Vec<LogLine>) {
        self.lines.extend(batch);
        let over = self.lines.len().saturating_sub(self.keep);
        self.lines.drain(..over);
        self.skipped += over;
    }
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
        if loader.behind {
            // A long log is still being read through: go on, unless the watch changed.
            tokio::time::sleep_until((started + MIN_GAP).into()).await;
            if rx.has_changed().is_err() {
                return;
            }
            continue;
        }
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
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::tui::fixtures;

    #[test]
    fn a_long_catch_up_keeps_only_the_newest_lines_and_counts_the_rest() {
        let mut tail = Tail::new(3);
        let line = |i: i64| {
            let mut l = fixtures::logs("s")[0].clone();
            l.id = i;
            l
        };
        for chunk in 0..1_000 {
            tail.extend((0..1_000).map(|i| line(chunk * 1_000 + i + 1)).collect());
            assert!(tail.lines.len() <= 3, "never more than kept");
        }
        let ids: Vec<i64> = tail.lines.iter().map(|l| l.id).collect();
        assert_eq!(ids, [999_998, 999_999, 1_000_000]);
        assert_eq!(tail.skipped, 999_997);
    }
}
