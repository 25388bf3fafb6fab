//! Ctrl-C during a run: the scenario stops where it is, teardown still runs, and the command
//! line exits 130 afterwards ([`interrupted`]).

use std::{
    future::Future,
    sync::atomic::{AtomicBool, Ordering},
};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Whether a run of this process was interrupted by Ctrl-C (SIGINT).
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Runs `future` to its end, unless Ctrl-C comes first: then the future is dropped (the calls it
/// had in flight are abandoned) and `None` is returned. Where no signal can be listened for, the
/// future simply runs.
pub(crate) async fn unless_interrupted<F: Future>(future: F) -> Option<F::Output> {
    tokio::pin!(future);
    tokio::select! {
        output = &mut future => Some(output),
        signal = tokio::signal::ctrl_c() => match signal {
            Ok(()) => {
                INTERRUPTED.store(true, Ordering::SeqCst);
                tracing::warn!("interrupted: tearing down what the run created (cargo xtask cleanup finds anything left if this is killed too)");
                None
            }
            Err(err) => {
                tracing::debug!(%err, "cannot listen for Ctrl-C; the run goes on without it");
                Some(future.await)
            }
        },
    }
}
