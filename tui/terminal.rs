//! The real terminal: raw mode and the alternate screen on the way in; restored on the way out —
//! on a normal exit and on an error (the guard's `Drop`) and on a panic (the hook) — so the shell
//! is never left broken. Input is read on its own thread and handed to the loop.

use std::io::{self, Stdout};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crossterm::event::{self, DisableMouseCapture, EnableMouseCapture};
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use crossterm::{cursor, execute};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use tokio::sync::mpsc;

use super::event_loop::Msg;

/// Restores the terminal when dropped.
pub struct Guard {
    stop: Arc<AtomicBool>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        restore();
    }
}

/// Put the terminal back as the shell expects it. Safe to call more than once.
pub fn restore() {
    let _ = disable_raw_mode();
    let _ = execute!(
        io::stdout(),
        DisableMouseCapture,
        LeaveAlternateScreen,
        cursor::Show
    );
}

/// Restore the terminal before the default panic message is printed.
pub fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
}

/// Enter raw mode and the alternate screen; start reading input into `tx`.
pub fn enter(
    tx: mpsc::UnboundedSender<Msg>,
    mouse: bool,
) -> io::Result<(Terminal<CrosstermBackend<Stdout>>, Guard)> {
    let stop = Arc::new(AtomicBool::new(false));
    enable_raw_mode()?;
    let guard = Guard { stop: stop.clone() };
    execute!(io::stdout(), EnterAlternateScreen, cursor::Hide)?;
    if mouse {
        execute!(io::stdout(), EnableMouseCapture)?;
    }
    let terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    std::thread::Builder::new()
        .name("imx-input".into())
        .spawn(move || read_input(&tx, &stop))?;
    Ok((terminal, guard))
}

/// Forward terminal events until told to stop or the loop is gone.
fn read_input(tx: &mpsc::UnboundedSender<Msg>, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        match event::poll(Duration::from_millis(250)) {
            Ok(true) => match event::read() {
                Ok(ev) => {
                    if tx.send(Msg::Event(ev)).is_err() {
                        return;
                    }
                }
                Err(e) => {
                    let _ = tx.send(Msg::InputFailed(e.to_string()));
                    return;
                }
            },
            Ok(false) => {}
            Err(e) => {
                let _ = tx.send(Msg::InputFailed(e.to_string()));
                return;
            }
        }
    }
}
