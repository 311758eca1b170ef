//! Looking for a yield request: the in-process signal, then the sentinel
//! file at most once per interval.

use std::path::PathBuf;
use std::time::Duration;

use crate::fs::Fs;

use super::clock::Clock;
use super::signal::YieldSignal;

/// Where a runner looks for a yield request, and when it last looked at
/// the sentinel file.
#[derive(Debug)]
pub(crate) struct YieldWatch {
    pub(crate) signal: YieldSignal,
    pub(crate) sentinel: Option<PathBuf>,
    interval: Duration,
    /// When the sentinel file was last looked at (by the runner's clock).
    checked_at: Option<Duration>,
}

impl YieldWatch {
    pub(crate) fn new(sentinel: Option<PathBuf>, interval: Duration) -> Self {
        Self {
            signal: YieldSignal::new(),
            sentinel,
            interval,
            checked_at: None,
        }
    }

    /// The in-process signal, then the sentinel file (at most once per
    /// [`crate::RunnerConfig::sentinel_check_interval`]). An error checking
    /// the file counts as absent (tzel: a flaky filesystem must not cause
    /// spurious exits). The runner never removes the caller's sentinel.
    pub(crate) fn requested<F: Fs + ?Sized>(&mut self, fs: &F, clock: &dyn Clock) -> bool {
        if self.signal.is_requested() {
            return true;
        }
        let Some(sentinel) = &self.sentinel else {
            return false;
        };
        if !self.interval.is_zero() {
            let now = clock.now();
            if let Some(last) = self.checked_at
                && now.saturating_sub(last) < self.interval
            {
                return false;
            }
            self.checked_at = Some(now);
        }
        match fs.exists(sentinel) {
            Ok(present) => present,
            Err(e) => {
                tracing::debug!(path = ?sentinel, error = %e, "checking the yield sentinel file {sentinel:?} failed; treating it as absent");
                false
            }
        }
    }
}
