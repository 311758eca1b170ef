//! The default workload: the reference core's resumable [`Runner`] on a
//! built-in deterministic job (a running hash over `items` items),
//! checkpointing every K items into a job directory on the given [`Fs`].
//!
//! It reports to [`Progress`] through the runner's commit observer:
//! `attempt` before each commit (cursor and the digest of the exact state
//! bytes written), `acknowledge` once the commit is durable, `processed(i)`
//! per item; where it resumed (`resumed`) once the runner is open, and a
//! converged point right after each acknowledged commit (`converged`), so
//! the explorer can stop a resumed run that has caught up with the clean
//! run. [`Workload::inspect`] asks the store, read-only
//! ([`CheckpointStore::peek_latest`]), which checkpoint recovery would load.

use std::path::PathBuf;
use std::time::Duration;

use crashproof_core::fs::Fs;
use crashproof_core::{
    CheckpointInfo, CheckpointStore, Job, JobError, JobIdentity, ManualClock, Outcome, RunObserver,
    Runner, RunnerConfig, stable_digest,
};
use serde::{Deserialize, Serialize};

use crashproof_sim::explore::{
    CheckpointId, Completion, Progress, Recovered, Workload, WorkloadError,
};

/// The core-runner workload's knobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreRunnerConfig {
    /// N: items in the job.
    pub items: u64,
    /// K: commit after at most this many items (also the redo bound).
    pub checkpoint_every: u64,
    /// Valid generations the store retains.
    pub keep: usize,
    /// The job directory on the filesystem under test.
    pub dir: PathBuf,
    /// T: also commit when this much simulated time passed since the last
    /// commit (`None`: count only).
    pub checkpoint_interval: Option<Duration>,
    /// Simulated time each item takes: the job advances the runner's
    /// `ManualClock` by this much per item (the wall clock is never read).
    pub time_per_item: Duration,
}

impl Default for CoreRunnerConfig {
    /// N = 1000 items, K = 50, keep 2, in `/job`, no time-based commits.
    fn default() -> Self {
        Self {
            items: 1000,
            checkpoint_every: 50,
            keep: 2,
            dir: PathBuf::from("/job"),
            checkpoint_interval: None,
            time_per_item: Duration::ZERO,
        }
    }
}

/// The reference core's runner as a [`Workload`] (named `core-runner`).
#[derive(Debug, Clone, Default)]
pub struct CoreRunnerWorkload {
    config: CoreRunnerConfig,
}

impl CoreRunnerWorkload {
    /// The workload with `config`.
    pub fn new(config: CoreRunnerConfig) -> Self {
        Self { config }
    }

    /// Its configuration.
    pub fn config(&self) -> &CoreRunnerConfig {
        &self.config
    }

    fn job(&self) -> HashJob {
        HashJob {
            items: self.config.items,
            clock: ManualClock::new(),
            time_per_item: self.config.time_per_item,
        }
    }
}

/// A running hash over `items` fixed inputs: deterministic, cheap, and any
/// lost or repeated item changes the output.
#[derive(Debug, Clone)]
struct HashJob {
    items: u64,
    /// The runner's clock (clones share one reading); advanced per item.
    clock: ManualClock,
    time_per_item: Duration,
}

/// What the hash job checkpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct HashState {
    acc: u64,
    count: u64,
}

const JOB_NAME: &str = "core-runner-hash";

impl HashJob {
    fn identity(&self) -> JobIdentity {
        JobIdentity {
            name: JOB_NAME.to_string(),
            fingerprint: self.fingerprint(),
        }
    }
}

/// SplitMix64's finaliser.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

impl Job for HashJob {
    type State = HashState;
    type Output = String;

    fn name(&self) -> &str {
        JOB_NAME
    }

    fn fingerprint(&self) -> u64 {
        stable_digest(format!("{JOB_NAME}/v1/items={}", self.items).as_bytes())
    }

    fn item_count(&self) -> u64 {
        self.items
    }

    fn initial_state(&self) -> HashState {
        HashState { acc: 0, count: 0 }
    }

    fn process(&mut self, index: u64, state: &mut HashState) -> Result<(), JobError> {
        state.acc = mix(state.acc ^ mix(index));
        state.count += 1;
        self.clock.advance(self.time_per_item);
        Ok(())
    }

    fn finalize(&mut self, state: &HashState) -> Result<String, JobError> {
        Ok(format!("items={} hash={:016x}", state.count, state.acc))
    }
}

/// Forwards the runner's observations to the explorer's [`Progress`].
struct ProgressObserver<'p> {
    progress: &'p mut Progress,
}

fn id_of(checkpoint: &CheckpointInfo<'_>) -> CheckpointId {
    CheckpointId {
        cursor: checkpoint.cursor,
        state_digest: checkpoint.state_digest(),
    }
}

impl RunObserver for ProgressObserver<'_> {
    fn item_processed(&mut self, index: u64) {
        self.progress.processed(index);
    }

    fn before_commit(&mut self, checkpoint: &CheckpointInfo<'_>) {
        self.progress.attempt(id_of(checkpoint));
    }

    fn after_commit(&mut self, checkpoint: &CheckpointInfo<'_>) {
        let id = id_of(checkpoint);
        self.progress.acknowledge(id);
        // Right after a commit the runner's memory that the rest of the run
        // depends on is the checkpoint it just wrote (cursor, state, the
        // store's next generation); what differs from a fresh run (items
        // processed, where it resumed, the clock's reading) never reaches
        // the disk or the output. Time-based commits compare the clock with
        // the last commit's reading, which is taken after this point.
        self.progress.converged(format_args!(
            "after commit of generation {} at cursor {} (state {:#018x})",
            checkpoint.generation, id.cursor, id.state_digest
        ));
    }
}

impl Workload for CoreRunnerWorkload {
    fn name(&self) -> String {
        "core-runner".to_string()
    }

    fn run(&self, fs: &dyn Fs, progress: &mut Progress) -> Result<Completion, WorkloadError> {
        let mut job = self.job();
        let config = RunnerConfig {
            keep: self.config.keep,
            checkpoint_interval: self.config.checkpoint_interval,
            ..RunnerConfig::every(self.config.checkpoint_every)
        };
        let clock = job.clock.clone();
        let runner = Runner::open(fs, self.config.dir.clone(), &mut job, config)
            .map_err(WorkloadError::core)?;
        progress.resumed(runner.resume_point().map(|r| r.cursor));
        // Simulated time only: the job advances this clock per item, and
        // the simulation never reads the wall clock.
        let outcome = runner
            .with_clock(clock)
            .with_observer(ProgressObserver { progress })
            .run()
            .map_err(WorkloadError::core)?;
        match outcome {
            Outcome::Completed {
                output,
                resumed_from,
                ..
            } => Ok(Completion {
                output,
                resumed_from: resumed_from.map(|r| r.cursor),
            }),
            Outcome::Yielded { cursor, .. } => Err(WorkloadError::Invariant(format!(
                "yielded at cursor {cursor} although nobody asked it to"
            ))),
        }
    }

    fn inspect(&self, fs: &dyn Fs) -> Result<Recovered, WorkloadError> {
        let latest = CheckpointStore::peek_latest(fs, &self.config.dir, &self.job().identity())
            .map_err(WorkloadError::core)?;
        Ok(Recovered {
            checkpoint: latest.map(|c| CheckpointId {
                cursor: c.cursor,
                state_digest: c.state_digest,
            }),
        })
    }

    fn redo_bound(&self) -> u64 {
        self.config.checkpoint_every
    }

    /// What the core says a finished job must not leave: store temp files,
    /// names it does not own, and generations beyond `keep` (orphans of an
    /// interrupted GC). The lock file stays by design.
    fn leftovers(&self, fs: &dyn Fs) -> Result<Vec<String>, WorkloadError> {
        Ok(
            crashproof_core::store::leftovers(fs, &self.config.dir, self.config.keep, &[])?
                .iter()
                .map(ToString::to_string)
                .collect(),
        )
    }
}
