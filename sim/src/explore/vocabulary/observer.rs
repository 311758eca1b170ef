//! The one bridge from the core's runner to the oracles: a [`RunObserver`]
//! that reports to [`Progress`]. [`crate::explore::JobWorkload`] uses it; a
//! hand-written workload that runs the core's `Runner` itself passes it to
//! `Runner::with_observer`.

use std::time::Duration;

use crashproof_core::{CheckpointInfo, ManualClock, RunObserver};

use super::workload::{CheckpointId, Progress};

/// Reports each processed item, each checkpoint attempted (before the
/// write) and acknowledged (once durable) to a [`Progress`], identifying a
/// checkpoint by its cursor and the digest of its exact state bytes (what
/// `CheckpointStore::peek_latest` reports when it reads it back).
pub struct ProgressObserver<'p> {
    progress: &'p mut Progress,
    clock: Option<(ManualClock, Duration)>,
    converging: bool,
}

impl<'p> ProgressObserver<'p> {
    /// An observer reporting to `progress`.
    pub fn new(progress: &'p mut Progress) -> Self {
        Self {
            progress,
            clock: None,
            converging: false,
        }
    }

    /// Also reports a converged point right after every acknowledged
    /// commit ([`Progress::converged`]): only for a job that keeps nothing
    /// outside its checkpoint (see
    /// [`crate::explore::JobWorkload::converging_after_commit`]).
    pub fn converging_after_commit(mut self) -> Self {
        self.converging = true;
        self
    }

    /// Also advances `clock` (the runner's) by `time_per_item` after every
    /// item, as a job that slow would: the runner reads its clock right
    /// after this observer sees the item.
    pub fn advancing(mut self, clock: ManualClock, time_per_item: Duration) -> Self {
        self.clock = Some((clock, time_per_item));
        self
    }
}

/// The identity the oracles compare for `checkpoint`.
fn checkpoint_id(checkpoint: &CheckpointInfo<'_>) -> CheckpointId {
    CheckpointId {
        cursor: checkpoint.cursor,
        state_digest: checkpoint.state_digest(),
    }
}

impl RunObserver for ProgressObserver<'_> {
    fn item_processed(&mut self, index: u64) {
        self.progress.processed(index);
        if let Some((clock, time_per_item)) = &self.clock {
            clock.advance(*time_per_item);
        }
    }

    fn before_commit(&mut self, checkpoint: &CheckpointInfo<'_>) {
        self.progress.attempt(checkpoint_id(checkpoint));
    }

    fn after_commit(&mut self, checkpoint: &CheckpointInfo<'_>) {
        let id = checkpoint_id(checkpoint);
        self.progress.acknowledge(id);
        if self.converging {
            // Right after a commit the runner's memory that the rest of the
            // run depends on is the checkpoint it just wrote (cursor, state,
            // the store's next generation); what differs from a fresh run
            // (items processed, where it resumed, the clock's reading) never
            // reaches the disk or the output. Time-based commits compare the
            // clock with the last commit's reading, taken after this point.
            self.progress.converged(format_args!(
                "after commit of generation {} at cursor {} (state {:#018x})",
                checkpoint.generation, id.cursor, id.state_digest
            ));
        }
    }
}
