//! Running the PostgreSQL driver's async calls to completion from the store's synchronous
//! transaction bodies (the control plane's store calls are synchronous closures, run off the
//! async workers: see `store::off_runtime`).
//!
//! A [`Bridge`] owns a small runtime of its own (one worker thread) that drives every
//! connection of the store's pool: the connections are made, and their I/O tasks spawned, in
//! its context. A query future is then polled to completion on the calling thread, which only
//! parks between polls while the bridge's worker does the I/O. So it works the same wherever
//! the caller is: inside `block_in_place` on a worker of a multi-thread runtime, on a blocking
//! thread, on a current-thread runtime (whose thread it blocks, as an SQLite call does there),
//! or with no runtime at all; it never starts a runtime inside a runtime (which panics).

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use tokio::runtime::{Builder, Handle, Runtime};

use crate::{Error, Result};

/// The runtime that drives a store's connections.
pub struct Bridge {
    /// Always `Some` until dropped (taken to shut it down without blocking).
    rt: Option<Runtime>,
}

impl Bridge {
    pub fn new() -> Result<Bridge> {
        let rt = Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("imx-postgres")
            .enable_all()
            .build()
            .map_err(|e| Error::io("starting the database runtime", e))?;
        Ok(Bridge { rt: Some(rt) })
    }

    /// The runtime's handle (to spawn on it).
    pub fn handle(&self) -> Option<&Handle> {
        self.rt.as_ref().map(Runtime::handle)
    }

    /// Run `fut` to completion on this thread, in the bridge's runtime context (so what it
    /// spawns and its timers are the bridge's). Not budgeted by a runtime the caller may be in:
    /// it runs until done.
    pub fn block_on<F: Future>(&self, fut: F) -> F::Output {
        let _ctx = self.handle().map(Handle::enter);
        park_on(tokio::task::unconstrained(fut))
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        // A store may be dropped on an async worker, where dropping a runtime panics.
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// Wakes a parked thread.
struct Unpark(std::thread::Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Poll `fut` on this thread, parking between polls until it is woken.
fn park_on<F: Future>(fut: F) -> F::Output {
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    loop {
        match fut.as_mut().poll(&mut cx) {
            Poll::Ready(v) => return v,
            Poll::Pending => std::thread::park(),
        }
    }
}
