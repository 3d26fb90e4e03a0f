//! One long-lived thread that starts every step shim. A shim asks for a signal when its parent
//! dies (`PR_SET_PDEATHSIG`), and Linux means the *thread* that forked it: tokio's worker and
//! blocking-pool threads come and go (`block_in_place` turns a worker into a pool thread that
//! exits when idle), which would kill steps of a live agent. This thread lives as long as the
//! process, so a shim's parent dies exactly when the agent does.

use std::io;
use std::sync::OnceLock;
use std::sync::mpsc::{Sender, channel};

use tokio::process::{Child, Command};
use tokio::runtime::Handle;
use tokio::sync::oneshot;

struct Job {
    command: Command,
    runtime: Handle,
    reply: oneshot::Sender<io::Result<Child>>,
}

static SPAWNER: OnceLock<Option<Sender<Job>>> = OnceLock::new();

/// Start `command` from the spawner thread, registered with the current tokio runtime.
pub(crate) async fn spawn(mut command: Command) -> io::Result<Child> {
    let Some(jobs) = SPAWNER.get_or_init(start).as_ref() else {
        return Err(io::Error::other(
            "the step spawner thread could not be started",
        ));
    };
    let (reply, answer) = oneshot::channel();
    let job = Job {
        command,
        runtime: Handle::current(),
        reply,
    };
    if let Err(e) = jobs.send(job) {
        // The thread is gone (it never exits on its own): start here instead.
        command = e.0.command;
        return command.spawn();
    }
    answer
        .await
        .unwrap_or_else(|_| Err(io::Error::other("the step spawner thread stopped")))
}

fn start() -> Option<Sender<Job>> {
    let (tx, rx) = channel::<Job>();
    std::thread::Builder::new()
        .name("imx-step-spawner".into())
        .spawn(move || {
            for mut job in rx {
                let _runtime = job.runtime.enter();
                let _ = job.reply.send(job.command.spawn());
            }
        })
        .ok()?;
    Some(tx)
}
