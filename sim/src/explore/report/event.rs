//! What an exploration tells its caller while it runs: a pass started, a
//! pass checked so many units, a pass ended with its report.

use super::summary::PassReport;
use crate::explore::vocabulary::plan::Pass;

/// What [`crate::explore::Explorer::explore_observed`] reports while it
/// runs, so a caller can time passes or show progress (the simulator reads
/// no clock).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Event<'a> {
    /// A pass is about to start.
    PassStarted(&'a Pass),
    /// A pass ended.
    PassFinished(&'a PassReport),
    /// A pass has checked `done` of the `total` units it checks (in this
    /// shard): crash points (exhaustive), first crash points (two
    /// crashes), failed syncs (sync-EIO). Sent once with `done: 0` when
    /// the total is known (after the clean run), then after each unit.
    Checking {
        /// The pass.
        pass: &'a Pass,
        /// Units checked so far.
        done: u64,
        /// Units this pass checks.
        total: u64,
        /// Post-crash states checked so far in the pass.
        states: u64,
    },
}
