//! The loop itself, on a `TestBackend` the test can read while the loop runs: `:ctx` switches
//! the dashboard from one real store to another and back, and a context that does not exist
//! leaves it where it was.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use imx::auth::Principal;
use imx::control::{LocalControlPlane, LocalOptions, Plane};
use imx::model::{StepKind, StepSpec, WorkflowSpec, now_ms};
use ratatui::Terminal;
use ratatui::backend::{Backend, ClearType, TestBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};
use tokio::sync::mpsc;

use super::super::action::ViewId;
use super::super::app::App;
use super::super::switch::{Connected, Connecting, Switch, Switcher};
use super::super::theme::Theme;
use super::{Msg, run_with};

/// A `TestBackend` shared with the test.
#[derive(Clone)]
struct Shared(Arc<Mutex<TestBackend>>);

impl Shared {
    fn screen(&self) -> String {
        self.0.lock().unwrap().to_string()
    }
}

impl Backend for Shared {
    type Error = std::convert::Infallible;
    fn draw<'a, I>(&mut self, content: I) -> Result<(), Self::Error>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        self.0.lock().unwrap().draw(content)
    }
    fn hide_cursor(&mut self) -> Result<(), Self::Error> {
        self.0.lock().unwrap().hide_cursor()
    }
    fn show_cursor(&mut self) -> Result<(), Self::Error> {
        self.0.lock().unwrap().show_cursor()
    }
    fn get_cursor_position(&mut self) -> Result<Position, Self::Error> {
        self.0.lock().unwrap().get_cursor_position()
    }
    fn set_cursor_position<P: Into<Position>>(&mut self, p: P) -> Result<(), Self::Error> {
        self.0.lock().unwrap().set_cursor_position(p)
    }
    fn clear(&mut self) -> Result<(), Self::Error> {
        self.0.lock().unwrap().clear()
    }
    fn clear_region(&mut self, t: ClearType) -> Result<(), Self::Error> {
        self.0.lock().unwrap().clear_region(t)
    }
    fn size(&self) -> Result<Size, Self::Error> {
        self.0.lock().unwrap().size()
    }
    fn window_size(&mut self) -> Result<WindowSize, Self::Error> {
        self.0.lock().unwrap().window_size()
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        self.0.lock().unwrap().flush()
    }
}

/// Contexts over planes already open.
struct Planes(BTreeMap<String, Plane>);

impl Switcher for Planes {
    fn names(&self) -> Vec<String> {
        self.0.keys().cloned().collect()
    }
    fn connect(&self, name: &str) -> Connecting {
        let found = self.0.get(name).cloned();
        let name = name.to_string();
        Box::pin(async move {
            let plane = found.ok_or(format!("context {name:?} not found"))?;
            let who = plane
                .whoami(&Principal::local_owner())
                .await
                .map_err(|e| e.to_string())?;
            let location = plane.location();
            Ok(Connected {
                plane,
                who,
                location,
            })
        })
    }
}

async fn store(dir: &std::path::Path, wf: &str) -> Plane {
    let opts = LocalOptions {
        create: true,
        ..LocalOptions::default()
    };
    let plane: Plane = Arc::new(LocalControlPlane::open(&dir.join("imx.db"), opts).unwrap());
    let spec = WorkflowSpec::new(wf, vec![StepSpec::new("s", StepKind::Noop)]);
    plane
        .apply_workflow(&Principal::local_owner(), spec, false)
        .await
        .unwrap();
    plane
}

async fn wait_for(screen: &Shared, what: &str, cond: impl Fn(&str) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let s = screen.screen();
        if cond(&s) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}:\n{s}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn keys(tx: &mpsc::UnboundedSender<Msg>, text: &str) {
    for c in text.chars() {
        let code = match c {
            '\n' => KeyCode::Enter,
            '\t' => KeyCode::Tab,
            c => KeyCode::Char(c),
        };
        let key = KeyEvent::new(code, KeyModifiers::NONE);
        tx.send(Msg::Event(Event::Key(key))).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctx_moves_the_loop_to_another_store_and_back() {
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = store(da.path(), "first-wf").await;
    let b = store(db.path(), "second-wf").await;
    let switcher: Switch = Arc::new(Planes(BTreeMap::from([
        ("a".to_string(), a.clone()),
        ("b".to_string(), b),
    ])));
    let who = a.whoami(&Principal::local_owner()).await.unwrap();
    let mut app = App::new(who, a.location(), ViewId::Workflows, now_ms(), 0);
    app.context_name = Some("a".into());
    let screen = Shared(Arc::new(Mutex::new(TestBackend::new(100, 24))));
    let backend = screen.clone();
    let (tx, rx) = mpsc::unbounded_channel();
    let looped = tokio::spawn({
        let tx = tx.clone();
        async move {
            let mut term = Terminal::new(backend).unwrap();
            run_with(
                &mut term,
                app,
                a,
                Some(switcher),
                Theme { color: false },
                tx,
                rx,
            )
            .await
        }
    });

    wait_for(&screen, "the first store", |s| {
        s.contains("imx · a (local") && s.contains("first-wf")
    })
    .await;
    keys(&tx, ":ctx \t");
    wait_for(&screen, "the contexts completed", |s| s.contains(":ctx a")).await;
    keys(&tx, "\t\n");
    wait_for(&screen, "the second store", |s| {
        s.contains("imx · b (local") && s.contains("second-wf") && !s.contains("first-wf")
    })
    .await;
    keys(&tx, ":ctx c\n");
    wait_for(&screen, "the refusal", |s| {
        s.contains("Cannot switch to c: context \"c\" not found. Still on context b.")
    })
    .await;
    assert!(screen.screen().contains("second-wf"));
    keys(&tx, ":ctx a\n");
    wait_for(&screen, "the first store again", |s| {
        s.contains("imx · a (local") && s.contains("first-wf") && !s.contains("second-wf")
    })
    .await;
    keys(&tx, "q");
    let app = looped.await.unwrap().unwrap();
    assert_eq!(app.context_name.as_deref(), Some("a"));
}
