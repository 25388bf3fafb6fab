//! A cancel handle for a running command.

use std::sync::Arc;

use tokio::sync::watch;

/// Cancels the commands it was given to ([`crate::RunRequest::cancel`]); clones share one
/// state. Cancelling before the command starts kills it as soon as it starts.
#[derive(Debug, Clone)]
pub struct Cancel {
    tx: Arc<watch::Sender<bool>>,
}

impl Default for Cancel {
    fn default() -> Self {
        Cancel::new()
    }
}

impl Cancel {
    pub fn new() -> Cancel {
        Cancel { tx: Arc::new(watch::channel(false).0) }
    }

    pub fn cancel(&self) {
        self.tx.send_replace(true);
    }

    pub fn is_cancelled(&self) -> bool {
        *self.tx.borrow()
    }

    /// Resolves once [`Cancel::cancel`] was called.
    pub async fn cancelled(&self) {
        let mut rx = self.tx.subscribe();
        let _ = rx.wait_for(|cancelled| *cancelled).await;
    }
}
