//! Time, as the runner sees it: a monotonic reading behind a trait, so tests
//! and the simulator can drive it deterministically.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A monotonic clock. The runner reads it only when
/// [`crate::RunnerConfig::checkpoint_interval`] is set.
pub trait Clock {
    /// Time elapsed since an arbitrary fixed origin; never decreases.
    fn now(&self) -> Duration;
}

/// The real monotonic clock (`std::time::Instant`): the one real-time source
/// crashproof-core uses.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    origin: Instant,
}

impl SystemClock {
    /// A clock whose origin is now.
    pub fn new() -> Self {
        Self {
            origin: Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }
}

/// A deterministic clock that moves only when told. Clones share one
/// reading, so a test (or a job) can advance the clock a runner holds.
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    nanos: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock reading zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves the clock forward by `by` (saturating at `u64::MAX` ns, about
    /// 584 years).
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        // fetch_update with a closure that always returns Some cannot fail.
        let _ = self
            .nanos
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                Some(n.saturating_add(by))
            });
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::SeqCst))
    }
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> Duration {
        (**self).now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_advanced_and_clones_share() {
        let clock = ManualClock::new();
        let shared = clock.clone();
        assert_eq!(clock.now(), Duration::ZERO);
        shared.advance(Duration::from_secs(3));
        assert_eq!(clock.now(), Duration::from_secs(3));
        clock.advance(Duration::MAX);
        assert_eq!(shared.now(), Duration::from_nanos(u64::MAX));
    }

    #[test]
    fn system_clock_is_monotonic_and_moves() {
        let clock = SystemClock::new();
        let a = clock.now();
        let b = clock.now();
        assert!(b >= a);
        // `Instant` has nanosecond resolution here: a clock stuck at its
        // origin would never let a time-based checkpoint fall due. Read
        // until it moves (a few reads), without sleeping.
        let moved = (0..10_000_000).map(|_| clock.now()).find(|t| *t > a);
        assert!(moved.is_some(), "the system clock did not move from {a:?}");
    }

    #[test]
    fn a_reference_reads_the_clock_it_points_to() {
        let clock = ManualClock::new();
        clock.advance(Duration::from_millis(7));
        let by_ref: &dyn Clock = &clock;
        assert_eq!((&by_ref).now(), Duration::from_millis(7));
        assert_eq!(Clock::now(&&clock), Duration::from_millis(7));
    }
}
