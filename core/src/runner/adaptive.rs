//! K chosen online ([`crate::RunnerConfig::adaptive`]): the runner times
//! its own commits and work through its [`crate::Clock`] and, after every
//! commit, sets the next batch's K.
//!
//! # The rule
//!
//! With `c` the cost of one commit (encode, write, fsyncs, GC, the yield
//! look: everything from the end of a batch's last item to the start of the
//! next batch's first), `i` the work per item and `f` the overhead budget,
//! the overhead of a batch of K items is `c / (K·i)`. The runner takes the
//! smallest K within the budget,
//!
//! ```text
//! K = clamp(ceil(c / (i·f)), 1, K_max)        K_max = RunnerConfig::checkpoint_every_max()
//! ```
//!
//! that is the interval `T = K·i = c / f`. This is the Young–Daly interval
//! `T = sqrt(2·c·M)` (which minimises commit overhead plus expected rework
//! for a mean time between failures `M`) for `M = c / (2·f²)`: the overhead
//! budget stands for the failure rate nobody knows, and the interval follows
//! `c` as the disk gets slower or faster, as Young–Daly's does. `K_max`
//! caps it so a crash redoes at most `max_redo` items (see
//! [`crate::AdaptiveK`]).
//!
//! `c` and `i` are exponentially weighted means over the commits so far
//! (weight [`WEIGHT_NEWEST`] for the newest), so one slow fsync moves K
//! but does not decide it, and a disk that stays slow moves it within a few
//! commits. The first batch is one item: it measures `c` and `i` before the
//! runner relies on them. Items too fast for the clock to see (`i` = 0) or
//! a clock that never moves give `K_max`; free commits (`c` = 0) give 1.
//!
//! With background commits `c` is what the runner's thread loses per batch
//! (the wait for the commit in flight, encoding and hand-off, the yield
//! look), so K settles where a batch's work covers the commit in flight.
//!
//! All arithmetic saturates: no duration, however long, overflows, and K is
//! never 0 nor above `K_max`.

use std::time::Duration;

/// The weight of the newest measurement in the running means of `c` and
/// `i` (the older mean keeps `1 - WEIGHT_NEWEST`).
pub const WEIGHT_NEWEST: f64 = 0.25;

/// How far below an integer a quotient may be and still round up to it,
/// relatively: the overhead then exceeds the budget by at most this
/// fraction of itself.
pub const ROUNDING_SLACK: f64 = 1e-9;

/// The smallest K whose overhead `commit / (K · per_item)` is at most
/// `max_overhead`, clamped to `1..=checkpoint_every_max` (the rule of the
/// [module documentation](self)). `per_item` of zero (or a non-finite
/// quotient) gives `checkpoint_every_max`; a `checkpoint_every_max` of 0 is
/// treated as 1.
pub fn checkpoint_every_for(
    commit: Duration,
    per_item: Duration,
    max_overhead: f64,
    checkpoint_every_max: u64,
) -> u64 {
    k_from_nanos(
        commit.as_secs_f64() * 1e9,
        per_item.as_secs_f64() * 1e9,
        max_overhead,
        checkpoint_every_max,
    )
}

fn k_from_nanos(commit_ns: f64, item_ns: f64, max_overhead: f64, cap: u64) -> u64 {
    let cap = cap.max(1);
    if item_ns <= 0.0 {
        return cap;
    }
    // Rounded up, but within a relative [`ROUNDING_SLACK`]: a running mean
    // converging onto an exact quotient (10.000000001) must not hold K one
    // above it.
    let k = (commit_ns / (item_ns * max_overhead) * (1.0 - ROUNDING_SLACK)).ceil();
    if !k.is_finite() || k >= cap as f64 {
        return cap;
    }
    // A finite, non-negative quotient below `cap` fits in a u64 exactly
    // enough; `as` saturates, and max(1) keeps K above 0.
    (k as u64).clamp(1, cap)
}

/// The running means and the K they give; one per runner.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Controller {
    max_overhead: f64,
    cap: u64,
    /// Mean commit cost in nanoseconds (`None` before the first commit).
    commit_ns: Option<f64>,
    /// Mean work per item in nanoseconds.
    item_ns: Option<f64>,
    checkpoint_every: u64,
}

impl Controller {
    /// A controller for budget `max_overhead` and K at most `cap`; the
    /// first batch is one item.
    pub(crate) fn new(max_overhead: f64, cap: u64) -> Self {
        Self {
            max_overhead,
            cap: cap.max(1),
            commit_ns: None,
            item_ns: None,
            checkpoint_every: 1,
        }
    }

    /// K for the next batch.
    pub(crate) fn checkpoint_every(&self) -> u64 {
        self.checkpoint_every
    }

    /// Records one batch of `items` items that took `work` and whose commit
    /// took `commit`, and sets the next K. A batch of no items is ignored.
    pub(crate) fn record(&mut self, items: u64, work: Duration, commit: Duration) {
        if items == 0 {
            return;
        }
        let per_item_ns = work.as_secs_f64() * 1e9 / items as f64;
        let commit_ns = commit.as_secs_f64() * 1e9;
        let item = mean(self.item_ns, per_item_ns);
        let commit = mean(self.commit_ns, commit_ns);
        self.item_ns = Some(item);
        self.commit_ns = Some(commit);
        self.checkpoint_every = k_from_nanos(commit, item, self.max_overhead, self.cap);
    }
}

fn mean(old: Option<f64>, newest: f64) -> f64 {
    match old {
        None => newest,
        Some(old) => old + WEIGHT_NEWEST * (newest - old),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);
    const US: Duration = Duration::from_micros(1);

    #[test]
    fn the_rule_is_the_smallest_k_within_the_budget() {
        // c / (i·f) by hand: 1 ms / (20 µs · 1 %) = 5000.
        assert_eq!(checkpoint_every_for(MS, 20 * US, 0.01, u64::MAX), 5000);
        // 0.3 ms / (20 µs · 1 %) = 1500; one nanosecond more needs 1501.
        assert_eq!(
            checkpoint_every_for(300 * US, 20 * US, 0.01, u64::MAX),
            1500
        );
        assert_eq!(
            checkpoint_every_for(300 * US + Duration::from_nanos(1), 20 * US, 0.01, u64::MAX),
            1501
        );
        // A commit cheaper than the budget of one item: K = 1.
        assert_eq!(checkpoint_every_for(US, MS, 0.5, 100), 1);
    }

    #[test]
    fn k_is_never_above_the_cap_nor_zero() {
        assert_eq!(checkpoint_every_for(MS, 20 * US, 0.01, 40), 40);
        assert_eq!(checkpoint_every_for(Duration::ZERO, MS, 0.01, 40), 1);
        assert_eq!(checkpoint_every_for(MS, Duration::ZERO, 0.01, 40), 40);
        assert_eq!(checkpoint_every_for(MS, MS, 0.01, 0), 1, "cap 0 acts as 1");
        assert_eq!(
            checkpoint_every_for(Duration::ZERO, Duration::ZERO, 0.01, 7),
            7
        );
    }

    #[test]
    fn extreme_durations_saturate() {
        let max = Duration::MAX;
        assert_eq!(
            checkpoint_every_for(max, Duration::from_nanos(1), 1e-9, u64::MAX),
            u64::MAX
        );
        assert_eq!(
            checkpoint_every_for(max, Duration::from_nanos(1), 1e-9, 1000),
            1000
        );
        assert_eq!(
            checkpoint_every_for(Duration::from_nanos(1), max, 0.999, 1000),
            1
        );
        assert_eq!(checkpoint_every_for(max, max, 0.5, 1000), 2);
        let mut controller = Controller::new(0.01, 50);
        controller.record(u64::MAX, max, max);
        assert_eq!(controller.checkpoint_every(), 50);
        controller.record(1, Duration::ZERO, max);
        assert_eq!(controller.checkpoint_every(), 50);
    }

    #[test]
    fn the_controller_starts_at_one_item_and_follows_the_measurements() {
        let mut controller = Controller::new(0.01, 100_000);
        assert_eq!(controller.checkpoint_every(), 1);
        // One item of 20 µs, a 1 ms commit: K = 5000 at once.
        controller.record(1, 20 * US, MS);
        assert_eq!(controller.checkpoint_every(), 5000);
        // A batch of no items changes nothing.
        controller.record(0, MS, 100 * MS);
        assert_eq!(controller.checkpoint_every(), 5000);
        // Commits get slower (4 ms): the mean moves a quarter of the way
        // (1.75 ms), K grows with it (8750: a slower commit needs a longer
        // interval for the same overhead) and keeps growing while they stay
        // slow, toward 20000.
        controller.record(5000, 5000 * 20 * US, 4 * MS);
        assert_eq!(controller.checkpoint_every(), 8750);
        let mut last = controller.checkpoint_every();
        for _ in 0..20 {
            controller.record(last, last as u32 * 20 * US, 4 * MS);
            assert!(controller.checkpoint_every() >= last);
            last = controller.checkpoint_every();
        }
        assert!(last > 19_900 && last <= 20_000, "{last}");
    }

    #[test]
    fn k_shrinks_when_items_get_slower_and_grows_when_commits_get_slower() {
        let mut controller = Controller::new(0.1, 1000);
        controller.record(1, MS, MS);
        assert_eq!(controller.checkpoint_every(), 10);
        // Items four times slower: a quarter as many fit the same budget.
        for _ in 0..40 {
            controller.record(10, 40 * MS, MS);
        }
        let slow_items = controller.checkpoint_every();
        assert!((3..=4).contains(&slow_items), "{slow_items}");
        // Commits ten times slower: ten times as many items.
        for _ in 0..40 {
            controller.record(slow_items, slow_items as u32 * 4 * MS, 10 * MS);
        }
        assert_eq!(controller.checkpoint_every(), 25);
    }
}

#[cfg(test)]
mod runner_tests;
