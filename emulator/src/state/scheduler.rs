//! The queue of effects that AWS performs after answering: an instance reaching `running`, an
//! alarm returning to its evaluated state, a launch failing on a key it may not use. Each is
//! queued with the emulator time at which it happens and runs, in time order, before the next
//! request is handled, so every client sees the world as it is at the request's time.
//!
//! The queue knows no service: it holds any event type. What the events are, and which model
//! applies each, is `super::effects`.

use std::{
    cmp::Reverse,
    collections::{BinaryHeap, HashMap},
};

use chrono::{DateTime, Utc};

/// Where and when an effect happens.
#[derive(Debug, Clone, PartialEq)]
pub struct Due {
    pub at: DateTime<Utc>,
    pub account: String,
    pub region: String,
}

/// A time-ordered queue; ties run in the order they were scheduled, so runs are deterministic.
#[derive(Debug)]
pub struct Scheduler<E> {
    queue: BinaryHeap<Reverse<(DateTime<Utc>, u64)>>,
    pending: HashMap<u64, (Due, E)>,
    next_sequence: u64,
}

impl<E> Default for Scheduler<E> {
    fn default() -> Self {
        Scheduler { queue: BinaryHeap::new(), pending: HashMap::new(), next_sequence: 0 }
    }
}

impl<E> Scheduler<E> {
    pub fn push(&mut self, due: Due, event: E) {
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        self.queue.push(Reverse((due.at, sequence)));
        self.pending.insert(sequence, (due, event));
    }

    /// The earliest effect due by `now`, if any.
    pub fn pop_due(&mut self, now: DateTime<Utc>) -> Option<(Due, E)> {
        let Reverse((at, sequence)) = *self.queue.peek()?;
        if at > now {
            return None;
        }
        self.queue.pop();
        self.pending.remove(&sequence)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn effects_come_out_in_time_order_and_ties_in_scheduling_order() {
        let t = |s| Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, s).unwrap();
        let due = |s| Due { at: t(s), account: "1".into(), region: "r".into() };
        let mut queue = Scheduler::default();
        queue.push(due(5), "late");
        queue.push(due(1), "first");
        queue.push(due(1), "second");
        assert_eq!(queue.pop_due(t(0)), None);
        assert_eq!(queue.pop_due(t(9)).map(|(_, e)| e), Some("first"));
        assert_eq!(queue.pop_due(t(9)).map(|(_, e)| e), Some("second"));
        assert_eq!(queue.pop_due(t(4)), None);
        assert_eq!(queue.pop_due(t(5)).map(|(_, e)| e), Some("late"));
    }
}
