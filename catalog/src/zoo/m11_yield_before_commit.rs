//! Mutant 11: a cooperative yield returns before the batch is committed.
//!
//! Real-world pattern: tzel's wallet sync (PR #24) persists its cursor every
//! K commitments and, at each batch boundary, checks for a `<wallet>.yield`
//! sentinel that a daemon touches to ask for the lock; when it is present
//! the sync exits and reports how far it got. The safe order is commit,
//! then check. This program checks first and, on a yield, reports the
//! batch as synced without persisting it: the daemon believes progress
//! that a crash takes away.
//!
//! Both orders are here, as two small boundary functions over one loop:
//! [`YieldAfterCommit`] is the control, [`YieldBeforeCommit`] the mutant.

use std::path::{Path, PathBuf};

use crashproof_core::fs::Fs;

use super::control::CorrectProtocol;
use super::files;
use super::job::{Checkpoint, CountingJob};
use super::protocol::{CheckpointProtocol, starting_point};
use crashproof_sim::explore::{Completion, Progress, Recovered, Workload, WorkloadError};

/// The sentinel file the daemon touches to ask the sync to yield.
pub const SENTINEL: &str = "sync.yield";

/// The item index at which the simulated daemon touches the sentinel, once
/// per run (mid-batch, so the yield happens at the next boundary).
pub const TOUCH_AT: u64 = 3;

/// What a batch boundary decided.
enum Boundary {
    Continue,
    Yield,
}

type BoundaryFn =
    fn(&dyn Fs, &Path, &mut Progress, u64, &Checkpoint) -> Result<Boundary, WorkloadError>;

/// The wallet-sync loop: the counting job with a yield check at every
/// checkpoint boundary, run by a simulated daemon that touches the
/// sentinel once and restarts the sync after each yield.
#[derive(Debug, Clone)]
struct YieldingSync {
    name: &'static str,
    job: CountingJob,
    dir: PathBuf,
    boundary: BoundaryFn,
}

/// The control: commit the batch, then check the sentinel.
#[derive(Debug, Clone)]
pub struct YieldAfterCommit(YieldingSync);

/// The mutant: check the sentinel first and yield without committing.
#[derive(Debug, Clone)]
pub struct YieldBeforeCommit(YieldingSync);

impl YieldAfterCommit {
    /// The control sync over `job`, checkpointing into `dir`.
    pub fn new(job: CountingJob, dir: impl Into<PathBuf>) -> Self {
        Self(YieldingSync {
            name: "yield-after-commit",
            job,
            dir: dir.into(),
            boundary: commit_then_check,
        })
    }
}

impl YieldBeforeCommit {
    /// The mutant sync over `job`, checkpointing into `dir`.
    pub fn new(job: CountingJob, dir: impl Into<PathBuf>) -> Self {
        Self(YieldingSync {
            name: "yield-before-commit",
            job,
            dir: dir.into(),
            boundary: check_then_commit,
        })
    }
}

fn sentinel_present(fs: &dyn Fs, dir: &Path) -> Result<bool, WorkloadError> {
    Ok(fs.exists(&dir.join(SENTINEL))?)
}

fn commit_then_check(
    fs: &dyn Fs,
    dir: &Path,
    progress: &mut Progress,
    generation: u64,
    ckpt: &Checkpoint,
) -> Result<Boundary, WorkloadError> {
    progress.attempt(ckpt.id());
    CorrectProtocol.commit(fs, dir, generation, ckpt)?;
    progress.acknowledge(ckpt.id());
    if sentinel_present(fs, dir)? {
        return Ok(Boundary::Yield);
    }
    Ok(Boundary::Continue)
}

fn check_then_commit(
    fs: &dyn Fs,
    dir: &Path,
    progress: &mut Progress,
    generation: u64,
    ckpt: &Checkpoint,
) -> Result<Boundary, WorkloadError> {
    if sentinel_present(fs, dir)? {
        // BUG: reports the batch as synced ("scanned up to cursor") and
        // exits before persisting it.
        progress.acknowledge(ckpt.id());
        return Ok(Boundary::Yield);
    }
    progress.attempt(ckpt.id());
    CorrectProtocol.commit(fs, dir, generation, ckpt)?;
    progress.acknowledge(ckpt.id());
    Ok(Boundary::Continue)
}

enum Session {
    Done(Completion),
    Yielded(Option<u64>),
}

impl YieldingSync {
    /// One `sync` invocation: resume from disk, scan, stop at the end or at
    /// a yield.
    fn session(
        &self,
        fs: &dyn Fs,
        progress: &mut Progress,
        touched: &mut bool,
    ) -> Result<Session, WorkloadError> {
        CorrectProtocol.startup(fs, &self.dir)?;
        let loaded = CorrectProtocol.load(fs, &self.dir)?;
        let (start, mut state, resumed_from) = starting_point(&self.job, loaded)?;
        for index in start..self.job.items {
            if !*touched && index >= TOUCH_AT {
                // The daemon admits a slow operation and asks for the lock.
                files::write_unsynced(fs, &self.dir.join(SENTINEL), b"")?;
                *touched = true;
            }
            CountingJob::step(&mut state, index);
            progress.processed(index);
            let cursor = index + 1;
            if self.job.is_commit_point(cursor) {
                let ckpt = Checkpoint {
                    cursor,
                    state: state.clone(),
                };
                let generation = self.job.generation(cursor);
                if let Boundary::Yield =
                    (self.boundary)(fs, &self.dir, progress, generation, &ckpt)?
                {
                    return Ok(Session::Yielded(resumed_from));
                }
            }
        }
        Ok(Session::Done(Completion {
            output: self.job.output(&state),
            resumed_from,
        }))
    }

    fn run(&self, fs: &dyn Fs, progress: &mut Progress) -> Result<Completion, WorkloadError> {
        let sentinel = self.dir.join(SENTINEL);
        // The daemon restarted: no slow operation is waiting, so a sentinel
        // that survived a crash is stale.
        if files::remove_if_exists(fs, &sentinel)? {
            fs.sync_dir(&self.dir)?;
        }
        let mut touched = false;
        let mut first_resume = None;
        let mut first = true;
        loop {
            let session = self.session(fs, progress, &mut touched)?;
            let resumed_from = match &session {
                Session::Done(c) => c.resumed_from,
                Session::Yielded(r) => *r,
            };
            if first {
                first_resume = resumed_from;
                first = false;
            }
            match session {
                Session::Done(c) => {
                    return Ok(Completion {
                        output: c.output,
                        resumed_from: first_resume,
                    });
                }
                // The daemon runs its slow operation, then removes the
                // sentinel and starts the sync again.
                Session::Yielded(_) => {
                    files::remove_if_exists(fs, &sentinel)?;
                }
            }
        }
    }

    fn inspect(&self, fs: &dyn Fs) -> Result<Recovered, WorkloadError> {
        Ok(Recovered {
            checkpoint: CorrectProtocol.load(fs, &self.dir)?.map(|c| c.id()),
        })
    }

    fn leftovers(&self, fs: &dyn Fs) -> Result<Vec<String>, WorkloadError> {
        CorrectProtocol.leftovers(fs, &self.dir)
    }
}

macro_rules! yielding_workload {
    ($t:ty) => {
        impl Workload for $t {
            fn name(&self) -> String {
                self.0.name.to_string()
            }
            fn run(
                &self,
                fs: &dyn Fs,
                progress: &mut Progress,
            ) -> Result<Completion, WorkloadError> {
                self.0.run(fs, progress)
            }
            fn inspect(&self, fs: &dyn Fs) -> Result<Recovered, WorkloadError> {
                self.0.inspect(fs)
            }
            fn redo_bound(&self) -> u64 {
                self.0.job.every
            }
            fn leftovers(&self, fs: &dyn Fs) -> Result<Vec<String>, WorkloadError> {
                self.0.leftovers(fs)
            }
        }
    };
}

yielding_workload!(YieldAfterCommit);
yielding_workload!(YieldBeforeCommit);
