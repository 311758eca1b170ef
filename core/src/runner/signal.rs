//! The in-process request to yield.

use crate::seam::{self, Arc, Mutex};

/// An in-process "please yield" flag, per runner (no globals): clones share
/// one flag. The runner checks it after every commit and, if set, returns
/// [`crate::Outcome::Yielded`] with everything so far durable. The runner
/// never clears it; a caller reusing a signal for the next run clears it.
///
/// Built on [`crate::seam`], so the loom test checks the runner's use of
/// it. A lock rather than an atomic: a lock's acquisitions are totally
/// ordered, so a request made before the runner's next check is seen by
/// that check, which is what bounds a short operation's wait to one batch
/// (an atomic's load may legally read an older value for a while, and
/// loom, which models `SeqCst` as acquire/release, finds that wait). It is
/// taken once per commit, uncontended: nothing next to a commit's fsyncs.
#[derive(Debug, Clone, Default)]
pub struct YieldSignal {
    requested: Arc<Mutex<bool>>,
}

impl YieldSignal {
    /// A signal not yet requested.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the runner to yield at its next commit.
    pub fn request(&self) {
        *seam::lock(&self.requested) = true;
    }

    /// Withdraws the request.
    pub fn clear(&self) {
        *seam::lock(&self.requested) = false;
    }

    /// Whether a yield is requested.
    pub fn is_requested(&self) -> bool {
        *seam::lock(&self.requested)
    }
}

#[cfg(test)]
mod tests {
    use super::YieldSignal;

    #[test]
    fn clones_share_one_flag_that_clear_withdraws() {
        let signal = YieldSignal::new();
        let held_by_runner = signal.clone();
        assert!(!held_by_runner.is_requested());
        signal.request();
        assert!(held_by_runner.is_requested());
        held_by_runner.clear();
        assert!(
            !signal.is_requested(),
            "clear withdraws the request for every clone"
        );
    }
}
