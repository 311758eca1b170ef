//! Hooks that see every processed item and every commit (for the crash
//! explorer, progress bars, metrics).

use crate::digest::stable_digest;

/// A checkpoint about to be written or just made durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckpointInfo<'a> {
    /// The generation number it is written as.
    pub generation: u64,
    /// Items fully processed: a resume starts at this index.
    pub cursor: u64,
    /// The serialized state (JSON), exactly the bytes stored.
    pub state: &'a [u8],
}

impl CheckpointInfo<'_> {
    /// [`stable_digest`] of the state bytes, the same value
    /// [`crate::StoredCheckpoint::state_digest`] reports when it is read back.
    /// Computed on demand, so observers that do not ask pay nothing.
    pub fn state_digest(&self) -> u64 {
        stable_digest(self.state)
    }
}

/// Observes a run. Every method defaults to doing nothing; the runner is
/// generic over its observer, so with [`NoObserver`] the calls compile away.
///
/// Order within one commit: [`RunObserver::before_commit`] (this content may
/// now appear on disk), the durable write, [`RunObserver::after_commit`]
/// (it is durable: recovery will never go back past it), then GC and the
/// yield check.
pub trait RunObserver {
    /// Item `index` was processed into the in-memory state (not durable).
    fn item_processed(&mut self, index: u64) {
        let _ = index;
    }

    /// `checkpoint` is about to be written.
    fn before_commit(&mut self, checkpoint: &CheckpointInfo<'_>) {
        let _ = checkpoint;
    }

    /// `checkpoint` is durable.
    fn after_commit(&mut self, checkpoint: &CheckpointInfo<'_>) {
        let _ = checkpoint;
    }
}

/// The observer that observes nothing (the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoObserver;

impl RunObserver for NoObserver {}

impl<O: RunObserver + ?Sized> RunObserver for &mut O {
    fn item_processed(&mut self, index: u64) {
        (**self).item_processed(index);
    }
    fn before_commit(&mut self, checkpoint: &CheckpointInfo<'_>) {
        (**self).before_commit(checkpoint);
    }
    fn after_commit(&mut self, checkpoint: &CheckpointInfo<'_>) {
        (**self).after_commit(checkpoint);
    }
}
