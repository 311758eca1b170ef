//! Any core [`Job`] as a [`Workload`], as is: the core's [`Runner`] runs it
//! in a job directory on the explorer's filesystem, an observer reports to
//! [`Progress`], and inspection asks the core's store which checkpoint
//! recovery would load. A user's crash test builds one from a job factory
//! and a [`RunnerConfig`]; nothing of the store (file names, identity) is
//! re-derived.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crashproof_core::fs::Fs;
use crashproof_core::{
    CheckpointStore, CommitInterleaving, CommitMode, Job, JobIdentity, ManualClock, Outcome,
    ResumeMode, Runner, RunnerConfig,
};

use super::observer::ProgressObserver;
use super::workload::{CheckpointId, Completion, Progress, Recovered, Workload, WorkloadError};

/// The job directory a [`JobWorkload`] uses unless told otherwise.
pub const JOB_DIR_DEFAULT: &str = "/job";

/// Builds a fresh job for every run (a run consumes its job's in-memory
/// state; a resumed run must start from what is on disk only).
type Factory<J> = Arc<dyn Fn() -> J + Send + Sync>;

/// Turns a job's output into the text the result oracle compares.
type Format<O> = Arc<dyn Fn(&O) -> String + Send + Sync>;

/// A core [`Job`] under the explorer: every run builds a fresh job with the
/// factory and runs it with the core's [`Runner`] under `config` in the job
/// directory (default [`JOB_DIR_DEFAULT`]), with a simulated
/// [`ManualClock`] (never the wall clock).
///
/// - Progress: [`crate::explore::ProgressObserver`] reports each processed
///   item, each checkpoint attempted (before the write) and acknowledged
///   (after it is durable), with the digest of the exact state bytes.
/// - Inspection: [`CheckpointStore::peek_latest`] with the job's own name
///   and fingerprint, read-only.
/// - Leftovers: `crashproof_core::store::leftovers` of the job directory
///   (store temp files, generations beyond `keep`, unexpected names; the
///   lock and names given to [`JobWorkload::allow_leftover`] are fine).
/// - Output: the job's output through `Debug` ([`JobWorkload::new`]) or a
///   formatter of your own ([`JobWorkload::with_output`]); resumed runs
///   must reproduce the clean run's byte for byte.
/// - Redo bound: see [`Workload::redo_bound`] below.
/// - Background commits ([`CommitMode::Background`]): every run commits on
///   the calling thread at the points a seeded [`CommitInterleaving`]
///   picks ([`JobWorkload::commit_interleaving`], seed 0 by default), so the
///   exploration is deterministic and a seed names the interleaving.
///
/// Only [`ResumeMode::Resume`] is explored (the other modes start over by
/// design, which the state oracle would rightly call lost progress): any
/// other mode fails the clean run with a message saying so. With
/// [`RunnerConfig::remove_checkpoints_on_success`], a crash after the
/// checkpoints are removed restarts the job from item 0, and the state
/// oracle says so: the runner alone cannot tell that the job was done.
pub struct JobWorkload<J: Job> {
    factory: Factory<J>,
    format: Format<J::Output>,
    config: RunnerConfig,
    name: String,
    dir: PathBuf,
    identity: JobIdentity,
    time_per_item: Duration,
    allowed: Vec<String>,
    converging: bool,
    interleaving: CommitInterleaving,
}

impl<J: Job + 'static> JobWorkload<J>
where
    J::Output: fmt::Debug,
{
    /// The job `factory` builds, run under `config`; its output compared
    /// through `Debug`. Builds one job now to learn its name and
    /// fingerprint (the workload's name is the job's name).
    pub fn new(factory: impl Fn() -> J + Send + Sync + 'static, config: RunnerConfig) -> Self {
        Self::with_output(factory, config, |output: &J::Output| format!("{output:?}"))
    }
}

impl<J: Job + 'static> JobWorkload<J> {
    /// [`JobWorkload::new`] with the output turned into the compared text
    /// by `format` (for an output without `Debug`, or whose `Debug` is not
    /// canonical, such as one holding a `HashMap`).
    pub fn with_output(
        factory: impl Fn() -> J + Send + Sync + 'static,
        config: RunnerConfig,
        format: impl Fn(&J::Output) -> String + Send + Sync + 'static,
    ) -> Self {
        let job = factory();
        let identity = JobIdentity {
            name: job.name().to_string(),
            fingerprint: job.fingerprint(),
        };
        Self {
            factory: Arc::new(factory),
            format: Arc::new(format),
            config,
            name: identity.name.clone(),
            dir: PathBuf::from(JOB_DIR_DEFAULT),
            identity,
            time_per_item: Duration::ZERO,
            allowed: Vec::new(),
            converging: false,
            interleaving: CommitInterleaving::default(),
        }
    }

    /// Names the workload in reports (default: the job's name).
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Runs the job in `dir` on the simulated filesystem.
    pub fn dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = dir.into();
        self
    }

    /// Simulated time each item takes: the runner's clock advances by this
    /// much after every item, so a [`RunnerConfig::checkpoint_interval`]
    /// commits as it would on a job this slow. Default: zero (only K
    /// commits).
    pub fn time_per_item(mut self, time_per_item: Duration) -> Self {
        self.time_per_item = time_per_item;
        self
    }

    /// Declares that the job keeps nothing outside its checkpoint: what
    /// `process` and `finalize` do depends only on `Job::State`, the item
    /// index and the job's construction, never on fields the job mutates.
    /// Then right after a commit the runner's future depends only on the
    /// disk, and the explorer may stop a resumed run as soon as it reaches a
    /// commit with the same disk as the clean run had there (see
    /// `docs/explorer.md`, convergence), which makes long runs cheap. Off by
    /// default: a job that keeps a counter in `self` would otherwise have
    /// its lost counter hidden by the early stop. A wrong declaration is
    /// caught by exploring once with `ExploreOptions::converge` off and
    /// comparing the reports.
    pub fn converging_after_commit(mut self) -> Self {
        self.converging = true;
        self
    }

    /// With [`CommitMode::Background`]: the seeded interleaving of item
    /// processing and commit work every run uses (default seed 0). Ignored
    /// with synchronous commits.
    pub fn commit_interleaving(mut self, interleaving: CommitInterleaving) -> Self {
        self.interleaving = interleaving;
        self
    }

    /// A file name the job directory may hold after a completed run (an
    /// output file the job writes there, a sentinel it expects).
    pub fn allow_leftover(mut self, name: impl Into<String>) -> Self {
        self.allowed.push(name.into());
        self
    }

    /// The runner configuration every run uses.
    pub fn config(&self) -> &RunnerConfig {
        &self.config
    }

    /// The job directory.
    pub fn job_dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// The identity (name, fingerprint) recovery looks for.
    pub fn identity(&self) -> &JobIdentity {
        &self.identity
    }
}

impl<J: Job> Clone for JobWorkload<J> {
    fn clone(&self) -> Self {
        Self {
            factory: Arc::clone(&self.factory),
            format: Arc::clone(&self.format),
            config: self.config.clone(),
            name: self.name.clone(),
            dir: self.dir.clone(),
            identity: self.identity.clone(),
            time_per_item: self.time_per_item,
            allowed: self.allowed.clone(),
            converging: self.converging,
            interleaving: self.interleaving,
        }
    }
}

impl<J: Job> fmt::Debug for JobWorkload<J> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobWorkload")
            .field("name", &self.name)
            .field("dir", &self.dir)
            .field("identity", &self.identity)
            .field("config", &self.config)
            .field("time_per_item", &self.time_per_item)
            .field("allowed", &self.allowed)
            .field("interleaving", &self.interleaving)
            .finish_non_exhaustive()
    }
}

/// Items between two commits when the time-based policy T commits first:
/// the runner commits after the item that brings the time since the last
/// commit to T, so after `ceil(T / time_per_item)` items, at least one.
fn items_per_interval(interval: Duration, time_per_item: Duration) -> u64 {
    let (t, d) = (interval.as_nanos(), time_per_item.as_nanos());
    debug_assert!(d > 0, "only a job that takes time reaches T");
    let items = t.div_ceil(d).max(1);
    u64::try_from(items).unwrap_or(u64::MAX)
}

impl<J: Job> Workload for JobWorkload<J> {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn run(&self, fs: &dyn Fs, progress: &mut Progress) -> Result<Completion, WorkloadError> {
        if self.config.resume != ResumeMode::Resume {
            return Err(WorkloadError::Invariant(format!(
                "the runner is configured with {:?}, which starts over by design; a JobWorkload \
                 explores ResumeMode::Resume only",
                self.config.resume
            )));
        }
        let mut job = (self.factory)();
        let built = JobIdentity {
            name: job.name().to_string(),
            fingerprint: job.fingerprint(),
        };
        if built != self.identity {
            return Err(WorkloadError::Invariant(format!(
                "the job factory built {built:?} after {:?}: it must build the same job every time",
                self.identity
            )));
        }
        // Simulated time only: the observer advances it per item.
        let clock = ManualClock::new();
        let mut runner = Runner::open(fs, self.dir.clone(), &mut job, self.config.clone())
            .map_err(WorkloadError::core)?;
        if self.config.commit_mode == CommitMode::Background {
            runner = runner.with_commit_interleaving(self.interleaving);
        }
        progress.resumed(runner.resume_point().map(|r| r.cursor));
        let mut observer =
            ProgressObserver::new(progress).advancing(clock.clone(), self.time_per_item);
        if self.converging {
            observer = observer.converging_after_commit();
        }
        let outcome = runner
            .with_clock(clock)
            .with_observer(observer)
            .run()
            .map_err(WorkloadError::core)?;
        match outcome {
            Outcome::Completed {
                output,
                resumed_from,
                ..
            } => Ok(Completion {
                output: (self.format)(&output),
                resumed_from: resumed_from.map(|r| r.cursor),
            }),
            Outcome::Yielded { cursor, .. } => Err(WorkloadError::Invariant(format!(
                "yielded at cursor {cursor} although nobody asked it to"
            ))),
        }
    }

    fn inspect(&self, fs: &dyn Fs) -> Result<Recovered, WorkloadError> {
        let latest = CheckpointStore::peek_latest(fs, &self.dir, &self.identity)
            .map_err(WorkloadError::core)?;
        Ok(Recovered {
            checkpoint: latest.map(|c| CheckpointId {
                cursor: c.cursor,
                state_digest: c.state_digest,
            }),
        })
    }

    /// K, the most items between two commits; with a time-based policy T
    /// and a [`JobWorkload::time_per_item`], the smaller of K and the items
    /// that take T (`ceil(T / time_per_item)`), since T then commits first.
    /// A crash forgets at most the items since the last durable commit, and
    /// a resumed run starts at it, so it redoes at most that many. (The
    /// core's `redone_at_most` adds K per damaged generation skipped; a
    /// crash never damages an acknowledged generation, so none is.) With
    /// [`CommitMode::Background`] twice that: the checkpoint in flight may
    /// be lost along with the batch processed after it.
    fn redo_bound(&self) -> u64 {
        let k = self.config.checkpoint_every;
        let batch = match self.config.checkpoint_interval {
            Some(interval) if !self.time_per_item.is_zero() => {
                k.min(items_per_interval(interval, self.time_per_item))
            }
            _ => k,
        };
        match self.config.commit_mode {
            CommitMode::Synchronous => batch,
            CommitMode::Background => batch.saturating_mul(2),
        }
    }

    /// What the core says a finished job must not leave: store temp files,
    /// names it does not own (other than those allowed), and generations
    /// beyond `keep` (orphans of an interrupted GC). The lock file stays by
    /// design.
    fn leftovers(&self, fs: &dyn Fs) -> Result<Vec<String>, WorkloadError> {
        let allowed: Vec<&str> = self.allowed.iter().map(String::as_str).collect();
        Ok(
            crashproof_core::store::leftovers(fs, &self.dir, self.config.keep, &allowed)?
                .iter()
                .map(ToString::to_string)
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_commits_after_the_item_that_reaches_it() {
        let ms = Duration::from_millis;
        for (interval, per_item, items) in [
            (ms(70), ms(10), 7),
            (ms(75), ms(10), 8),
            (ms(0), ms(10), 1),
            (ms(5), ms(10), 1),
        ] {
            assert_eq!(
                items_per_interval(interval, per_item),
                items,
                "T={interval:?}, {per_item:?} per item"
            );
        }
    }
}
