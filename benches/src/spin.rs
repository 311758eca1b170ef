//! A calibrated CPU spin: an item that costs a known amount of CPU time.
//!
//! A sleep would not do: it gives the core away (to the kernel's writeback,
//! to the other bench threads), so the commit would look cheaper than it is
//! for a CPU-bound job.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// Rounds timed per calibration sample.
const CALIBRATION_ROUNDS: u64 = 1 << 16;
/// Calibration samples; the fastest one wins (the least disturbed).
const CALIBRATION_SAMPLES: usize = 15;

/// `rounds` rounds of a 64-bit LCG with a xorshift, seeded with `seed`:
/// a dependency chain the compiler cannot shorten, with no memory traffic.
pub fn spin_rounds(rounds: u64, seed: u64) -> u64 {
    let mut x = seed;
    for _ in 0..black_box(rounds) {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        x ^= x >> 33;
    }
    black_box(x)
}

/// A spin calibrated to cost about `target` of CPU per call on this machine.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spin {
    /// The cost asked for.
    pub target: Duration,
    /// Rounds of [`spin_rounds`] per item.
    pub rounds_per_item: u64,
}

impl Spin {
    /// Measures the rate of [`spin_rounds`] (fastest of several samples)
    /// and picks the rounds that take `target`. At least one round.
    pub fn calibrate(target: Duration) -> Self {
        let mut fastest_seconds = f64::INFINITY;
        for sample in 0..CALIBRATION_SAMPLES {
            let start = Instant::now();
            spin_rounds(CALIBRATION_ROUNDS, sample as u64);
            fastest_seconds = fastest_seconds.min(start.elapsed().as_secs_f64());
        }
        let seconds_per_round = fastest_seconds / CALIBRATION_ROUNDS as f64;
        let rounds = (target.as_secs_f64() / seconds_per_round.max(1e-12)).round();
        Self {
            target,
            rounds_per_item: (rounds as u64).max(1),
        }
    }

    /// Spends about [`Spin::target`] of CPU; `seed` varies the work.
    pub fn run(&self, seed: u64) -> u64 {
        spin_rounds(self.rounds_per_item, seed)
    }

    /// The measured cost of one item: the mean over `items` items, in the
    /// fastest of 5 such rounds (the least disturbed by other processes).
    pub fn measure(&self, items: u64) -> Duration {
        let items = items.max(1);
        let mut fastest_seconds = f64::INFINITY;
        for _ in 0..5 {
            let start = Instant::now();
            for i in 0..items {
                self.run(i);
            }
            fastest_seconds = fastest_seconds.min(start.elapsed().as_secs_f64());
        }
        Duration::from_secs_f64(fastest_seconds / items as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn more_rounds_cost_more_and_the_result_depends_on_the_seed() {
        assert_ne!(spin_rounds(10, 1), spin_rounds(10, 2));
        assert_ne!(spin_rounds(10, 1), spin_rounds(11, 1));
        let short = Spin::calibrate(Duration::from_micros(1));
        let long = Spin::calibrate(Duration::from_micros(200));
        assert!(short.rounds_per_item >= 1);
        // Not a speed assertion: the ratio of rounds, whatever the machine.
        assert!(long.rounds_per_item > 20 * short.rounds_per_item);
    }
}
