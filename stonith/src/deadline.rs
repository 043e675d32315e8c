//! Deadlines: every blocking step of an invocation is bounded by one.

use std::time::{Duration, Instant};

/// The moment by which an operation must be finished. Every blocking call takes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Deadline(Instant);

impl Deadline {
    pub fn after(duration: Duration) -> Self {
        Deadline(Instant::now() + duration)
    }

    pub fn at(instant: Instant) -> Self {
        Deadline(instant)
    }

    pub fn instant(&self) -> Instant {
        self.0
    }

    /// Time left, zero once passed.
    pub fn remaining(&self) -> Duration {
        self.0.saturating_duration_since(Instant::now())
    }

    pub fn expired(&self) -> bool {
        Instant::now() >= self.0
    }

    /// The earlier of this deadline and `duration` from now: for one step of a longer operation.
    pub fn capped(&self, duration: Duration) -> Deadline {
        Deadline(self.0.min(Instant::now() + duration))
    }
}
