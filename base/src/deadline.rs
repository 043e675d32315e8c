//! Deadlines: every blocking step of an operation is bounded by one.

use std::time::{Duration, Instant};

/// How far ahead a deadline given an absurdly long duration is put: far enough to limit nothing.
const FAR_FUTURE: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// The moment by which an operation must be finished. Every blocking call takes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Deadline(Instant);

impl Deadline {
    pub fn after(duration: Duration) -> Self {
        let now = Instant::now();
        Deadline(now.checked_add(duration).unwrap_or(now + FAR_FUTURE))
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
        // A huge step (a parameter like probe_timeout=2^64-1) must not overflow: it caps nothing.
        match Instant::now().checked_add(duration) {
            Some(step_end) => Deadline(self.0.min(step_end)),
            None => *self,
        }
    }
}

/// How much of a timeout the caller (Pacemaker) gives to stay unused: an agent finishes this
/// much before the caller's own timer fires, so that it still gets to say why it failed.
pub fn safety_margin(timeout: Duration) -> Duration {
    (timeout / 10).min(Duration::from_secs(2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capped_takes_the_earlier_and_survives_huge_steps() {
        let d = Deadline::after(Duration::from_secs(60));
        assert!(d.capped(Duration::from_secs(1)).remaining() <= Duration::from_secs(1));
        assert_eq!(d.capped(Duration::from_secs(120)), d);
        assert_eq!(d.capped(Duration::from_secs(u64::MAX)), d);
        assert_eq!(d.capped(Duration::MAX), d);
        assert!(Deadline::after(Duration::MAX).remaining() > Duration::from_secs(3600 * 24 * 365));
    }
}
