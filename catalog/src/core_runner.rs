//! The default workload: the reference core's resumable [`Runner`] on a
//! built-in deterministic job (a running hash over `items` items),
//! checkpointing every K items into a job directory on the given [`Fs`].
//!
//! It is the generic [`JobWorkload`] on that job, as a user's crash test
//! would build it: the runner's observer reports to `Progress` (`attempt`
//! before each commit with the digest of the exact state bytes,
//! `acknowledge` once durable, `processed(i)` per item), and inspection asks
//! the store, read-only, which checkpoint recovery would load. Its job
//! keeps nothing outside its checkpoint, so it declares convergence after
//! every commit ([`JobWorkload::converging_after_commit`]) and the explorer
//! stops a resumed run once it has caught up with the clean run.
//!
//! [`Runner`]: crashproof_core::Runner

use std::path::PathBuf;
use std::time::Duration;

use crashproof_core::fs::Fs;
use crashproof_core::{CommitInterleaving, CommitMode, Job, JobError, RunnerConfig, stable_digest};
use serde::{Deserialize, Serialize};

use crashproof_sim::explore::{
    Checks, Completion, JobWorkload, Progress, Recovered, Workload, WorkloadError,
};

/// The core-runner workload's knobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreRunnerConfig {
    /// N: items in the job.
    pub items: u64,
    /// K: commit after at most this many items (also the redo bound, or
    /// fewer items when T commits first).
    pub checkpoint_every: u64,
    /// Valid generations the store retains.
    pub keep: usize,
    /// The job directory on the filesystem under test.
    pub dir: PathBuf,
    /// T: also commit when this much simulated time passed since the last
    /// commit (`None`: count only).
    pub checkpoint_interval: Option<Duration>,
    /// Simulated time each item takes: the runner's `ManualClock` advances
    /// by this much per item (the wall clock is never read).
    pub time_per_item: Duration,
    /// Synchronous commits (the default, workload `core-runner`) or
    /// background ones (workload `core-runner-background`, redo bound 2K).
    pub commit_mode: CommitMode,
    /// With background commits: the seeded interleaving of items and commit
    /// work every run uses.
    pub commit_interleaving: CommitInterleaving,
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
            commit_mode: CommitMode::Synchronous,
            commit_interleaving: CommitInterleaving::default(),
        }
    }
}

/// The reference core's runner as a [`Workload`] (named `core-runner`, or
/// `core-runner-background` with [`CommitMode::Background`]).
#[derive(Debug, Clone)]
pub struct CoreRunnerWorkload {
    config: CoreRunnerConfig,
    job: JobWorkload<HashJob>,
}

impl Default for CoreRunnerWorkload {
    fn default() -> Self {
        Self::new(CoreRunnerConfig::default())
    }
}

impl CoreRunnerWorkload {
    /// The workload with `config`.
    pub fn new(config: CoreRunnerConfig) -> Self {
        let items = config.items;
        let runner = RunnerConfig {
            keep: config.keep,
            checkpoint_interval: config.checkpoint_interval,
            commit_mode: config.commit_mode,
            ..RunnerConfig::every(config.checkpoint_every)
        };
        let name = match config.commit_mode {
            CommitMode::Synchronous => "core-runner",
            CommitMode::Background => "core-runner-background",
        };
        let job = JobWorkload::with_output(move || HashJob { items }, runner, String::clone)
            .named(name)
            .dir(config.dir.clone())
            .time_per_item(config.time_per_item)
            .commit_interleaving(config.commit_interleaving)
            .converging_after_commit();
        Self { config, job }
    }

    /// `core-runner-background`: the default job (N = 1000, K = 50) with
    /// background commits interleaved by seed 0 (redo bound 2K).
    pub fn background() -> Self {
        Self::new(CoreRunnerConfig {
            commit_mode: CommitMode::Background,
            ..CoreRunnerConfig::default()
        })
    }

    /// Its configuration.
    pub fn config(&self) -> &CoreRunnerConfig {
        &self.config
    }
}

/// A running hash over `items` fixed inputs: deterministic, cheap, and any
/// lost or repeated item changes the output.
#[derive(Debug, Clone)]
pub(crate) struct HashJob {
    pub(crate) items: u64,
}

/// What the hash job checkpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct HashState {
    acc: u64,
    count: u64,
}

const JOB_NAME: &str = "core-runner-hash";

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
        Ok(())
    }

    fn finalize(&mut self, state: &HashState) -> Result<String, JobError> {
        Ok(format!("items={} hash={:016x}", state.count, state.acc))
    }
}

/// Every call goes to the generic [`JobWorkload`]; only the name and the
/// configuration are this workload's.
impl Workload for CoreRunnerWorkload {
    fn name(&self) -> String {
        self.job.name()
    }

    fn run(&self, fs: &dyn Fs, progress: &mut Progress) -> Result<Completion, WorkloadError> {
        self.job.run(fs, progress)
    }

    fn inspect(&self, fs: &dyn Fs) -> Result<Recovered, WorkloadError> {
        self.job.inspect(fs)
    }

    fn redo_bound(&self) -> u64 {
        self.job.redo_bound()
    }

    fn leftovers(&self, fs: &dyn Fs) -> Result<Vec<String>, WorkloadError> {
        self.job.leftovers(fs)
    }

    fn checks(&self) -> Checks {
        self.job.checks()
    }
}
