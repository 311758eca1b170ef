//! Totals of the iterations criterion ran, for the benches' own summaries.

use std::time::Duration;

/// Time and iterations summed over every `iter_custom` call of one bench
/// (warm-up included: the summary wants a mean, not criterion's statistics).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Tally {
    /// Total measured time.
    pub elapsed: Duration,
    /// Total iterations.
    pub iters: u64,
}

impl Tally {
    /// Adds one `iter_custom` call.
    pub fn add(&mut self, elapsed: Duration, iters: u64) {
        self.elapsed += elapsed;
        self.iters += iters;
    }

    /// Mean time per iteration in seconds, or `None` if nothing ran (a
    /// bench filtered out on the command line): a summary must then say
    /// "not measured", never print a zero.
    pub fn mean_seconds(&self) -> Option<f64> {
        (self.iters > 0).then(|| self.elapsed.as_secs_f64() / self.iters as f64)
    }
}

/// Whether criterion was started with `--test` (each bench runs once): the
/// summaries then say their numbers are not measurements.
pub fn is_test_mode() -> bool {
    std::env::args().any(|a| a == "--test")
}

/// The line a summary starts with in `--test` mode.
pub const TEST_MODE_NOTE: &str =
    "(--test mode: every bench ran once; the numbers below are a smoke test, not measurements)";

/// `seconds` in the unit that keeps 3 significant digits readable.
pub fn format_seconds(seconds: f64) -> String {
    let abs = seconds.abs();
    if abs < 1e-6 {
        format!("{:.1} ns", seconds * 1e9)
    } else if abs < 1e-3 {
        format!("{:.1} µs", seconds * 1e6)
    } else if abs < 1.0 {
        format!("{:.2} ms", seconds * 1e3)
    } else {
        format!("{seconds:.2} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_tally_has_no_mean_and_a_filled_one_divides() {
        let mut t = Tally::default();
        assert_eq!(t.mean_seconds(), None);
        t.add(Duration::from_millis(30), 2);
        t.add(Duration::from_millis(10), 2);
        assert_eq!(t.mean_seconds(), Some(0.01));
    }

    #[test]
    fn seconds_are_printed_in_a_readable_unit() {
        for (seconds, text) in [
            (2.5e-8, "25.0 ns"),
            (2e-5, "20.0 µs"),
            (1.5e-3, "1.50 ms"),
            (3.25, "3.25 s"),
        ] {
            assert_eq!(format_seconds(seconds), text);
        }
    }
}
