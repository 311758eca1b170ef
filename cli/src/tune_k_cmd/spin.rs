//! The probe job's work: a calibrated CPU spin, so that between two timed
//! commits the disk and the CPU see what they see in a CPU-bound job (a
//! sleep would give the core away, and commits back to back meet a disk
//! still busy with the previous one).

use std::hint::black_box;
use std::time::{Duration, Instant};

/// Rounds timed per calibration sample.
const CALIBRATION_ROUNDS: u64 = 1 << 16;
/// Calibration samples; the fastest wins (the least disturbed).
const CALIBRATION_SAMPLES: usize = 9;

/// `rounds` rounds of a 64-bit LCG with a xorshift: a dependency chain the
/// compiler cannot shorten, with no memory traffic.
fn spin_rounds(rounds: u64, seed: u64) -> u64 {
    let mut x = seed;
    for _ in 0..black_box(rounds) {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        x ^= x >> 33;
    }
    black_box(x)
}

/// A spin calibrated to cost about a given time per call on this machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spin {
    rounds: u64,
}

impl Spin {
    /// Measures the spin's rate and picks the rounds that take `target`
    /// (at least one round).
    pub fn calibrate(target: Duration) -> Self {
        let mut fastest = f64::INFINITY;
        for sample in 0..CALIBRATION_SAMPLES {
            let start = Instant::now();
            spin_rounds(CALIBRATION_ROUNDS, sample as u64);
            fastest = fastest.min(start.elapsed().as_secs_f64());
        }
        let per_round = (fastest / CALIBRATION_ROUNDS as f64).max(1e-12);
        let rounds = (target.as_secs_f64() / per_round).round();
        Self {
            rounds: (rounds as u64).max(1),
        }
    }

    /// Spends the calibrated time; `seed` varies the work.
    pub fn run(&self, seed: u64) -> u64 {
        spin_rounds(self.rounds, seed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_longer_target_spins_more_rounds_and_seeds_matter() {
        assert_ne!(spin_rounds(10, 1), spin_rounds(10, 2));
        let short = Spin::calibrate(Duration::from_micros(1));
        let long = Spin::calibrate(Duration::from_micros(200));
        assert!(short.rounds >= 1);
        // A ratio of rounds, not a speed: holds on any machine.
        assert!(long.rounds > 20 * short.rounds);
        assert_eq!(Spin::calibrate(Duration::ZERO).rounds, 1);
    }
}
