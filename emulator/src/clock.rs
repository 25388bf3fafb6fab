//! The emulator clock: wall time plus an offset that tests and trainers can move forward.
//!
//! Clients sign requests with their own wall clock, so the emulator cannot run on a frozen
//! clock without failing their SigV4 skew check; instead it follows wall time and lets callers
//! jump ahead (session expiry, scheduled state changes) with [`Clock::advance`].

use std::sync::{
    atomic::{AtomicI64, Ordering},
    Arc,
};

use chrono::{DateTime, Duration, Utc};

#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_millis: Arc<AtomicI64>,
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + Duration::milliseconds(self.offset_millis.load(Ordering::Relaxed))
    }

    /// Wall time, without the offset: what a client's clock reads. SigV4's allowed skew is
    /// measured against this, since advancing emulator time models time passing for AWS, not a
    /// client whose clock is wrong.
    pub fn wall_now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    /// Moves emulator time forward; everything that depends on time (session expiry, the
    /// allowed signing skew, scheduled effects) sees the new time at the next request.
    pub fn advance(&self, by: std::time::Duration) {
        let millis = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.offset_millis.fetch_add(millis, Ordering::Relaxed);
    }
}
