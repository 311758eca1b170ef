//! The world's job: a running hash over its items (a lost, repeated or
//! reordered item changes the output), each item ticking the world clock.

use crashproof_core::{Job, JobError, Outcome, Runner, RunnerConfig};
use crashproof_sim::SimFs;
use serde::{Deserialize, Serialize};

use crate::clock::WorldClock;

/// The job's name (and so its sentinel, `hash.yield`).
pub const JOB_NAME: &str = "hash";

/// A running hash over `items` items.
#[derive(Debug)]
pub struct HashJob {
    items: u64,
    clock: Option<WorldClock>,
}

/// The hash so far.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct HashState {
    acc: u64,
}

impl HashJob {
    /// The job over `items` items; each processed item ticks `clock`.
    pub fn new(items: u64, clock: Option<WorldClock>) -> Self {
        Self { items, clock }
    }
}

impl Job for HashJob {
    type State = HashState;
    type Output = u64;

    fn name(&self) -> &str {
        JOB_NAME
    }

    fn fingerprint(&self) -> u64 {
        self.items
    }

    fn item_count(&self) -> u64 {
        self.items
    }

    fn initial_state(&self) -> HashState {
        HashState { acc: 0x5EED }
    }

    fn process(&mut self, index: u64, state: &mut HashState) -> Result<(), JobError> {
        if let Some(clock) = &self.clock {
            clock.item_done();
        }
        state.acc = xxhash_rust::xxh3::xxh3_64_with_seed(&index.to_le_bytes(), state.acc);
        Ok(())
    }

    fn finalize(&mut self, state: &HashState) -> Result<u64, JobError> {
        Ok(state.acc)
    }
}

/// The output of one uninterrupted run of the job over `items` items, on a
/// fresh `SimFs` with `checkpoint_every` K (what every world must end with).
pub fn clean_output(items: u64, checkpoint_every: u64) -> Result<u64, String> {
    let fs = SimFs::default();
    let mut job = HashJob::new(items, None);
    let runner = Runner::open(
        &fs,
        "/clean",
        &mut job,
        RunnerConfig::every(checkpoint_every),
    )
    .map_err(|e| e.to_string())?;
    match runner.run().map_err(|e| e.to_string())? {
        Outcome::Completed { output, .. } => Ok(output),
        other => Err(format!("the clean run did not complete: {other:?}")),
    }
}
