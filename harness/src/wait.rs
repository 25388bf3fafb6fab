//! Waiting for AWS's eventual consistency: polls with an interval, a backoff and a total timeout.
//!
//! A scenario describes a wait once, as a [`Waiter`] (how often to look, how the interval grows,
//! how long to look at most), and polls with the [`Polling`] it starts. The same code runs on
//! every backend; only what "letting time pass" means differs, and [`RunContext::wait`] decides
//! that: on the emulator its clock moves forward at once (AWS's minutes take microseconds), on
//! real AWS the run sleeps.
//!
//! The total timeout is counted in AWS time: on the emulator as the sum of the intervals waited
//! (the emulator's clock moves by exactly that), elsewhere as the wall time since the polling
//! started (multiplied by the backend's time scale when a sandbox is pointed at an emulator that
//! runs AWS's latencies faster).

use std::time::{Duration, Instant};

use crate::{scenario::RunContext, HarnessError};

/// How to wait for one thing: AWS settles within `timeout`; look every `interval`, the interval
/// growing by `backoff_percent` (100: fixed) up to `max_interval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waiter {
    /// What is awaited, for the timeout's message (`the stack to be created`).
    pub what: &'static str,
    pub interval: Duration,
    /// 100 keeps the interval; 150 makes each wait half again as long as the one before.
    pub backoff_percent: u32,
    pub max_interval: Duration,
    /// The most time the polling may let pass in all.
    pub timeout: Duration,
}

impl Waiter {
    /// Looks every `interval` for at most `timeout`, without backoff.
    pub const fn every(what: &'static str, interval: Duration, timeout: Duration) -> Waiter {
        Waiter { what, interval, backoff_percent: 100, max_interval: interval, timeout }
    }

    /// The same waiter whose interval grows by `percent` (e.g. 150) after each look, up to
    /// `max_interval`.
    pub const fn backoff(self, percent: u32, max_interval: Duration) -> Waiter {
        Waiter { backoff_percent: percent, max_interval, ..self }
    }

    /// Starts a polling: nothing has been waited yet.
    pub fn start(&self) -> Polling {
        Polling { waiter: *self, next: self.interval, waited: Duration::ZERO, started: Instant::now(), waits: 0 }
    }
}

/// One polling by a [`Waiter`]: how long it has waited, and the next interval.
#[derive(Debug, Clone)]
pub struct Polling {
    waiter: Waiter,
    next: Duration,
    /// The sum of the intervals waited (AWS time).
    waited: Duration,
    started: Instant,
    waits: u32,
}

impl Polling {
    /// Waits the next interval if the total timeout allows it and returns `true`; returns
    /// `false` without waiting when it does not (the caller looks one last time or gives up).
    pub async fn again(&mut self, ctx: &RunContext) -> bool {
        if self.exhausted(ctx) {
            return false;
        }
        self.wait(ctx).await;
        true
    }

    /// [`Polling::again`] for work that takes wall time even on the emulator (a script on an
    /// instance): waits with [`RunContext::pause`].
    pub async fn again_pausing(&mut self, ctx: &RunContext) -> bool {
        if self.exhausted(ctx) {
            return false;
        }
        let interval = self.step();
        ctx.pause(interval).await;
        true
    }

    /// Waits the next interval whatever the timeout says (for loops that wait before they look).
    pub async fn wait(&mut self, ctx: &RunContext) {
        let interval = self.step();
        ctx.wait(interval).await;
    }

    /// Whether waiting the next interval would go past the total timeout.
    pub fn exhausted(&self, ctx: &RunContext) -> bool {
        self.elapsed(ctx) + self.next > self.waiter.timeout
    }

    /// The AWS time this polling has let pass.
    pub fn elapsed(&self, ctx: &RunContext) -> Duration {
        if ctx.backend.emulator().is_some() {
            return self.waited;
        }
        let wall = self.started.elapsed().saturating_mul(ctx.backend.time_scale().max(1));
        wall.max(self.waited)
    }

    /// How many times this polling has waited.
    pub fn waits(&self) -> u32 {
        self.waits
    }

    /// The error of a wait that ran out of time.
    pub fn timed_out(&self) -> HarnessError {
        HarnessError::Scenario(format!(
            "gave up waiting for {} after {} s ({} looks)",
            self.waiter.what,
            self.waited.as_secs(),
            self.waits + 1
        ))
    }

    /// Accounts for the next interval and computes the one after it.
    fn step(&mut self) -> Duration {
        let interval = self.next;
        self.waited += interval;
        self.waits += 1;
        let grown = interval.saturating_mul(self.waiter.backoff_percent) / 100;
        self.next = grown.min(self.waiter.max_interval).max(self.waiter.interval.min(self.waiter.max_interval));
        interval
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Backend, BehaviourProfile};

    async fn context() -> RunContext {
        RunContext::new(Backend::start_emulator(BehaviourProfile::Current).await.unwrap(), "wana-wait-test")
    }

    #[tokio::test]
    async fn a_fixed_interval_waits_until_the_timeout_and_moves_the_emulator_clock() {
        let ctx = context().await;
        let clock = ctx.backend.emulator().unwrap().clock().clone();
        let before = clock.now();
        let mut polling = Waiter::every("x", Duration::from_secs(10), Duration::from_secs(60)).start();
        let mut looks = 1;
        while polling.again(&ctx).await {
            looks += 1;
        }
        assert_eq!(looks, 7, "a look at 0 s and after each of six 10 s waits");
        assert_eq!(polling.elapsed(&ctx), Duration::from_secs(60));
        let moved = clock.now() - before;
        assert!(moved >= chrono::Duration::seconds(60) && moved < chrono::Duration::seconds(61), "{moved}");
        assert!(polling.timed_out().to_string().contains("gave up waiting for x after 60 s (7 looks)"));
    }

    #[tokio::test]
    async fn backoff_grows_the_interval_up_to_its_maximum() {
        let ctx = context().await;
        let waiter = Waiter::every("y", Duration::from_secs(2), Duration::from_secs(100)).backoff(200, Duration::from_secs(16));
        let mut polling = waiter.start();
        let mut waited = Vec::new();
        let mut last = Duration::ZERO;
        while polling.again(&ctx).await {
            waited.push((polling.elapsed(&ctx) - last).as_secs());
            last = polling.elapsed(&ctx);
        }
        assert_eq!(waited, [2, 4, 8, 16, 16, 16, 16, 16], "stops before going past 100 s");
        assert_eq!(polling.waits(), 8);
    }
}
