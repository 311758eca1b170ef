//! The common frame: a checkpoint protocol (how a checkpoint is committed
//! and loaded) and the one loop that runs the counting job on top of it.
//!
//! A zoo program that differs from the correct one only in how it commits,
//! loads or cleans up is a [`CheckpointProtocol`]; [`ProtocolWorkload`]
//! turns any protocol into a [`Workload`]. Programs whose bug is in the loop
//! itself (yield, retry) implement [`Workload`] directly.

use std::path::{Path, PathBuf};

use crashproof_core::fs::Fs;

use super::files::Generations;
use super::job::{Checkpoint, CountingJob, JobState};
use crashproof_sim::explore::{Completion, Progress, Recovered, Workload, WorkloadError};

/// Generations the correct protocol keeps: the newest, plus one to fall
/// back to. Here, beside the defaults that are the correct protocol's
/// load and leftovers, so the frame imports none of its programs
/// (`control.rs` re-exports it as `zoo::control::KEEP`).
pub const KEEP: usize = 2;

/// How a program makes a checkpoint durable and finds it again.
pub trait CheckpointProtocol: Send + Sync {
    /// Short stable name (kebab case), used in the workload's name.
    fn name(&self) -> &'static str;

    /// For programs that model a restart: commits, with the correct durable
    /// protocol, what an earlier process of the program committed before
    /// this one starts, and returns the checkpoint that process was told is
    /// durable (the workload acknowledges it). See
    /// [`Workload::initial_disk`]. Default: nothing (a first start).
    fn initial_disk(
        &self,
        fs: &dyn Fs,
        dir: &Path,
        job: &CountingJob,
    ) -> Result<Option<Checkpoint>, WorkloadError> {
        let _ = (fs, dir, job);
        Ok(None)
    }

    /// Runs once at the start of every run, before [`Self::load`]: cleanup
    /// of what a crash left behind. May change the filesystem.
    fn startup(&self, fs: &dyn Fs, dir: &Path) -> Result<(), WorkloadError> {
        let _ = (fs, dir);
        Ok(())
    }

    /// Commits `ckpt` (commit number `generation`, 1 for the first). When it
    /// returns `Ok` the program acknowledges `ckpt` as durable: whether it
    /// really is, is what the explorer checks.
    fn commit(
        &self,
        fs: &dyn Fs,
        dir: &Path,
        generation: u64,
        ckpt: &Checkpoint,
    ) -> Result<(), WorkloadError>;

    /// Runs at the end of every run that reached the end of the job, after
    /// the final checkpoint is committed: cleanup on success.
    fn finish(&self, fs: &dyn Fs, dir: &Path) -> Result<(), WorkloadError> {
        let _ = (fs, dir);
        Ok(())
    }

    /// The checkpoint recovery resumes from, or `None` to start over. Must
    /// not change the filesystem (the explorer calls it to inspect states).
    /// Default: the correct protocol's load (newest generation whose
    /// checksum verifies, falling back past torn ones), so a mutant file
    /// shows only what it breaks.
    fn load(&self, fs: &dyn Fs, dir: &Path) -> Result<Option<Checkpoint>, WorkloadError> {
        Generations::CKPT.load_newest_valid(fs, dir)
    }

    /// Files a finished run should not have left in `dir`. Default: the
    /// correct protocol's (temp files, generations beyond [`KEEP`]).
    fn leftovers(&self, fs: &dyn Fs, dir: &Path) -> Result<Vec<String>, WorkloadError> {
        Generations::CKPT.leftovers(fs, dir, KEEP)
    }
}

/// The counting job run on a [`CheckpointProtocol`] in directory `dir`.
///
/// `dir` must already exist durably (the zoo runs in the filesystem root, or
/// in a test's temp dir): creating it is not what any zoo program tests, and
/// leaving it out keeps counterexamples short.
#[derive(Debug, Clone)]
pub struct ProtocolWorkload<P> {
    job: CountingJob,
    dir: PathBuf,
    protocol: P,
}

impl<P: CheckpointProtocol> ProtocolWorkload<P> {
    /// The job `job` checkpointing with `protocol` into `dir`.
    pub fn new(job: CountingJob, dir: impl Into<PathBuf>, protocol: P) -> Self {
        Self {
            job,
            dir: dir.into(),
            protocol,
        }
    }

    /// The protocol this workload runs.
    pub fn protocol(&self) -> &P {
        &self.protocol
    }
}

/// The job's first checkpoint (cursor `job.every`, commit number 1): what
/// an earlier process had committed when a restart-modelling program's
/// [`CheckpointProtocol::initial_disk`] hands over to the run.
pub fn first_checkpoint(job: &CountingJob) -> Checkpoint {
    let cursor = job.every.clamp(1, job.items.max(1));
    Checkpoint {
        cursor,
        state: CountingJob::state_at(cursor),
    }
}

/// Where a run starts: the loaded checkpoint, or the beginning. Rejects a
/// checkpoint past the end of the job rather than running from nonsense.
pub fn starting_point(
    job: &CountingJob,
    loaded: Option<Checkpoint>,
) -> Result<(u64, JobState, Option<u64>), WorkloadError> {
    match loaded {
        Some(c) if c.cursor > job.items => Err(WorkloadError::Invariant(format!(
            "checkpoint cursor {} is past the job's {} items",
            c.cursor, job.items
        ))),
        Some(c) => Ok((c.cursor, c.state, Some(c.cursor))),
        None => Ok((0, JobState::initial(), None)),
    }
}

impl<P: CheckpointProtocol> Workload for ProtocolWorkload<P> {
    fn name(&self) -> String {
        self.protocol.name().to_string()
    }

    fn initial_disk(&self, fs: &dyn Fs, progress: &mut Progress) -> Result<(), WorkloadError> {
        if let Some(ckpt) = self.protocol.initial_disk(fs, &self.dir, &self.job)? {
            progress.acknowledge(ckpt.id());
        }
        Ok(())
    }

    fn run(&self, fs: &dyn Fs, progress: &mut Progress) -> Result<Completion, WorkloadError> {
        self.protocol.startup(fs, &self.dir)?;
        let loaded = self.protocol.load(fs, &self.dir)?;
        let (start, mut state, resumed_from) = starting_point(&self.job, loaded)?;
        for index in start..self.job.items {
            CountingJob::step(&mut state, index);
            progress.processed(index);
            let cursor = index + 1;
            if self.job.is_commit_point(cursor) {
                let ckpt = Checkpoint {
                    cursor,
                    state: state.clone(),
                };
                progress.attempt(ckpt.id());
                self.protocol
                    .commit(fs, &self.dir, self.job.generation(cursor), &ckpt)?;
                progress.acknowledge(ckpt.id());
            }
        }
        self.protocol.finish(fs, &self.dir)?;
        Ok(Completion {
            output: self.job.output(&state),
            resumed_from,
        })
    }

    fn inspect(&self, fs: &dyn Fs) -> Result<Recovered, WorkloadError> {
        let loaded = self.protocol.load(fs, &self.dir)?;
        Ok(Recovered {
            checkpoint: loaded.map(|c| c.id()),
        })
    }

    fn redo_bound(&self) -> u64 {
        self.job.every
    }

    fn leftovers(&self, fs: &dyn Fs) -> Result<Vec<String>, WorkloadError> {
        self.protocol.leftovers(fs, &self.dir)
    }
}
