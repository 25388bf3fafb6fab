//! Effects that AWS performs after answering: an instance reaching `running`, an alarm returning
//! to its evaluated state, a launch failing on a key it may not use. Each is queued with the
//! emulator time at which it happens and runs, in time order, before the next request is
//! handled, so every client sees the world as it is at the request's time.

use std::{cmp::Reverse, collections::BinaryHeap};

use chrono::{DateTime, Utc};

use super::{cloudformation, cloudwatch, ec2, kms, World};

/// A service's deferred effect.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Ec2(ec2::Event),
    CloudWatch(cloudwatch::Event),
    CloudFormation(cloudformation::Event),
    Kms(kms::Event),
}

/// Where and when an event happens.
#[derive(Debug, Clone, PartialEq)]
pub struct Scheduled {
    pub at: DateTime<Utc>,
    pub account: String,
    pub region: String,
    pub event: Event,
}

/// A time-ordered queue; ties run in the order they were scheduled, so runs are deterministic.
#[derive(Debug, Default)]
pub struct Scheduler {
    queue: BinaryHeap<Reverse<(DateTime<Utc>, u64)>>,
    pending: std::collections::HashMap<u64, Scheduled>,
    next_sequence: u64,
}

impl Scheduler {
    pub fn push(&mut self, scheduled: Scheduled) {
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        self.queue.push(Reverse((scheduled.at, sequence)));
        self.pending.insert(sequence, scheduled);
    }

    fn pop_due(&mut self, now: DateTime<Utc>) -> Option<Scheduled> {
        let Reverse((at, sequence)) = *self.queue.peek()?;
        if at > now {
            return None;
        }
        self.queue.pop();
        self.pending.remove(&sequence)
    }
}

impl World {
    /// Queues an effect of a service for `at`.
    pub fn schedule(&mut self, at: DateTime<Utc>, account: &str, region: &str, event: Event) {
        self.scheduler.push(Scheduled { at, account: account.to_string(), region: region.to_string(), event });
    }

    /// Runs every effect due by `now`, oldest first. An effect may schedule further effects;
    /// those run too if they are due.
    pub fn run_due(&mut self, now: DateTime<Utc>) {
        while let Some(due) = self.scheduler.pop_due(now) {
            match due.event.clone() {
                Event::Ec2(event) => ec2::on_event(self, &due, event),
                Event::CloudWatch(event) => cloudwatch::on_event(self, &due, event),
                Event::CloudFormation(event) => cloudformation::on_event(self, &due, event),
                Event::Kms(event) => kms::on_event(self, &due, event),
            }
        }
    }
}
