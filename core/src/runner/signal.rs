//! The in-process request to yield.

use std::sync::atomic::Ordering;

use crate::seam::{Arc, AtomicBool};

/// An in-process "please yield" flag, per runner (no globals): clones share
/// one flag. The runner checks it after every commit and, if set, returns
/// [`crate::Outcome::Yielded`] with everything so far durable. The runner
/// never clears it; a caller reusing a signal for the next run clears it.
///
/// Built on [`crate::seam`], so the loom test checks the runner's use of it.
#[derive(Debug, Clone, Default)]
pub struct YieldSignal {
    requested: Arc<AtomicBool>,
}

impl YieldSignal {
    /// A signal not yet requested.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the runner to yield at its next commit.
    pub fn request(&self) {
        self.requested.store(true, Ordering::SeqCst);
    }

    /// Withdraws the request.
    pub fn clear(&self) {
        self.requested.store(false, Ordering::SeqCst);
    }

    /// Whether a yield is requested.
    pub fn is_requested(&self) -> bool {
        self.requested.load(Ordering::SeqCst)
    }
}
