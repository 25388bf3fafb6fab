//! Ctrl-C (SIGINT) or SIGTERM (a cancelled CI job, `kill`) during a run: the scenario stops
//! where it is, teardown still runs, and the command line exits 130 afterwards ([`interrupted`]).
//!
//! A command line calls [`watch`] once, before any run starts, so that a Ctrl-C at any moment is
//! seen by every run, also one that has not reached its first await yet. Without a watcher a run
//! listens for Ctrl-C itself while it runs.

use std::{
    future::Future,
    sync::{
        atomic::{AtomicBool, Ordering},
        OnceLock,
    },
};

use tokio::sync::watch as channel;

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static WATCHER: OnceLock<channel::Receiver<bool>> = OnceLock::new();

/// Whether a run of this process was interrupted by Ctrl-C (SIGINT) or SIGTERM.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Starts listening for Ctrl-C for the whole process (call inside a tokio runtime, before any
/// run starts; later calls do nothing). The first Ctrl-C interrupts every run.
pub fn watch() {
    WATCHER.get_or_init(|| {
        let (tell, listen) = channel::channel(false);
        match Signals::register() {
            Ok(mut signals) => {
                tokio::spawn(async move {
                    if signals.next().await {
                        INTERRUPTED.store(true, Ordering::SeqCst);
                        let _ = tell.send(true);
                    }
                });
            }
            Err(err) => tracing::debug!(%err, "cannot listen for signals; runs go on without it"),
        }
        listen
    });
}

/// Runs `future` to its end, unless Ctrl-C comes first: then the future is dropped (the calls it
/// had in flight are abandoned) and `None` is returned. Where no signal can be listened for, the
/// future simply runs.
pub(crate) async fn unless_interrupted<F: Future>(future: F) -> Option<F::Output> {
    tokio::pin!(future);
    if let Some(listen) = WATCHER.get() {
        let mut listen = listen.clone();
        if interrupted() {
            return stopped();
        }
        return tokio::select! {
            output = &mut future => Some(output),
            _ = listen.wait_for(|interrupted| *interrupted) => stopped(),
        };
    }
    let mut signals = match Signals::register() {
        Ok(signals) => signals,
        Err(err) => {
            tracing::debug!(%err, "cannot listen for signals; the run goes on without it");
            return Some(future.await);
        }
    };
    tokio::select! {
        output = &mut future => Some(output),
        true = signals.next() => {
            INTERRUPTED.store(true, Ordering::SeqCst);
            stopped()
        }
    }
}

/// SIGINT and SIGTERM as one stream of interruptions (Ctrl-C only where there are no Unix
/// signals). Registering replaces the default "end the process" for both, so whoever registers
/// must stop on its own.
pub struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    /// Call inside a tokio runtime.
    #[cfg(unix)]
    pub fn register() -> std::io::Result<Signals> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    #[cfg(not(unix))]
    pub fn register() -> std::io::Result<Signals> {
        Ok(Signals {})
    }

    /// Waits for the next SIGINT or SIGTERM; `false` when no more can come.
    #[cfg(unix)]
    pub async fn next(&mut self) -> bool {
        tokio::select! {
            got = self.interrupt.recv() => got.is_some(),
            got = self.terminate.recv() => got.is_some(),
        }
    }

    #[cfg(not(unix))]
    pub async fn next(&mut self) -> bool {
        tokio::signal::ctrl_c().await.is_ok()
    }
}

fn stopped<T>() -> Option<T> {
    tracing::warn!("interrupted: tearing down what the run created (cargo xtask cleanup finds anything left if this is killed too)");
    None
}
