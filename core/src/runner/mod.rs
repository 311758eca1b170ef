//! The resumable job runner.
//!
//! [`Runner::open`] takes the job lock, checks that it can write the job
//! directory, opens the checkpoint store (startup GC) and picks the resume
//! point; [`Runner::run`] processes items from the cursor, commits
//! `{cursor, state}` every K items and/or every T, checks for a yield
//! request after every commit, and at the end commits the final checkpoint
//! (cursor == item_count) *before* calling `finalize` once.
//! [`Runner::step`] runs the same loop one batch at a time, keeping the job
//! lock between batches, so a caller can await (or let simulated time
//! pass) between them.
//!
//! # System calls per commit
//!
//! A steady-state commit is the store's two-fsync commit (see
//! [`crate::store`]): create + write + fsync + close of the temp file,
//! rename, open + fsync + close of the directory, one unlink of the
//! generation that fell out of retention; plus one `statx` of the yield
//! sentinel unless [`RunnerConfig::sentinel_check_interval`] spaces the
//! looks out or the sentinel is disabled. Before `run` returns `Ok` the
//! directory is fsynced once more if GC removed files since the last commit,
//! so a finished (or yielded) job's directory is durably in its final shape.

pub mod adaptive;
pub mod background;
mod clock;
mod commit;
mod config;
mod error;
mod job;
mod lock;
mod observer;
mod outcome;
mod signal;
mod step;
mod watch;

use std::path::{Path, PathBuf};

use crate::failpoint;
use crate::fs::{Fs, FsOp};
use crate::store::{
    CheckpointStore, JobIdentity, SkippedGeneration, StoreError, WRITE_PROBE_FILE_NAME,
    ensure_dir_durable,
};

pub use background::CommitInterleaving;
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{
    AdaptiveK, CommitMode, ConfigError, DEFAULT_CHECKPOINT_EVERY, ResumeMode, RunnerConfig,
    YieldSentinel,
};
pub use error::RunError;
pub use job::{Job, JobError};
pub use lock::LOCK_FILE_NAME;
pub use observer::{CheckpointInfo, NoObserver, RunObserver};
pub use outcome::{Outcome, ResumePoint};
pub use signal::YieldSignal;
pub use step::Step;

use background::Ended;
use commit::{Background, CommitterChoice};
use lock::JobLock;
use step::{Batch, SyncProgress};
use watch::YieldWatch;

/// The end of the batch starting at `cursor`: `min(cursor + k, item_count)`
/// without overflow (tzel's review: `cursor + K` near `u64::MAX`).
pub fn batch_end(cursor: u64, k: u64, item_count: u64) -> u64 {
    cursor.saturating_add(k).min(item_count)
}

/// Where a run starts: the resumed checkpoint's state, or the initial one.
struct Start<S> {
    state: S,
    cursor: u64,
    resumed_from: Option<ResumePoint>,
    skipped: Vec<SkippedGeneration>,
}

impl<S> Start<S> {
    fn skipped_damaged(&self) -> u64 {
        self.skipped
            .iter()
            .filter(|s| matches!(s.reason, crate::store::SkipReason::Damaged { .. }))
            .count() as u64
    }
}

/// Runs one [`Job`] resumably in one job directory, holding the job lock
/// from [`Runner::open`] until [`Runner::run`] returns, [`Runner::step`]
/// reports the end (or an error), or the runner is dropped. Generic over the filesystem `F` and the observer `O` (zero cost
/// with [`NoObserver`]).
///
/// The job directory holds `LOCK`, the checkpoint generation files (see
/// [`crate::store`]) and, when someone wants the runner to yield, the
/// sentinel file (`<job name>.yield` by default).
///
/// With [`CommitMode::Background`] in the configuration, choose the
/// committer with [`Runner::with_committer_thread`] or
/// [`Runner::with_commit_interleaving`] (see [`background`]).
///
/// # Example
///
/// A run that yields (another process wants the machine) and a second run
/// that resumes where the first one's last durable checkpoint is:
///
/// ```
/// use crashproof_core::{Job, JobError, Outcome, Runner, RunnerConfig, StdFs, YieldSignal};
///
/// struct Sum;
/// impl Job for Sum {
///     type State = u64;
///     type Output = u64;
///     fn name(&self) -> &str { "sum" }
///     fn fingerprint(&self) -> u64 { 1 }
///     fn item_count(&self) -> u64 { 100 }
///     fn initial_state(&self) -> u64 { 0 }
///     fn process(&mut self, i: u64, sum: &mut u64) -> Result<(), JobError> {
///         *sum += i;
///         Ok(())
///     }
///     fn finalize(&mut self, sum: &u64) -> Result<u64, JobError> { Ok(*sum) }
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let fs = StdFs::new();
/// let mut job = Sum;
///
/// // Asked to yield before it starts: it stops after its first commit.
/// let signal = YieldSignal::new();
/// signal.request();
/// let first = Runner::open(&fs, dir.path(), &mut job, RunnerConfig::every(10))?
///     .with_yield_signal(signal)
///     .run()?;
/// assert!(matches!(first, Outcome::Yielded { cursor: 10, .. }));
///
/// // The next run resumes at item 10 and finishes.
/// let second = Runner::open(&fs, dir.path(), &mut job, RunnerConfig::every(10))?.run()?;
/// let Outcome::Completed { output, resumed_from, items_processed, .. } = second else {
///     return Err("yielded again".into());
/// };
/// assert_eq!(output, 4950);
/// assert_eq!(resumed_from.map(|r| r.cursor), Some(10));
/// assert_eq!(items_processed, 90);
/// # Ok(())
/// # }
/// ```
pub struct Runner<'a, J: Job, F: Fs + ?Sized, O: RunObserver = NoObserver> {
    fs: &'a F,
    job: &'a mut J,
    config: RunnerConfig,
    dir: PathBuf,
    item_count: u64,
    store: CheckpointStore<'a, F>,
    // Declared after `store` only for readability; the lock is released
    // explicitly at the end of `run`, or on drop.
    lock: JobLock<'a, F>,
    start: Start<J::State>,
    clock: Box<dyn Clock + 'a>,
    watch: YieldWatch,
    observer: O,
    committer: CommitterChoice<'a, F>,
    /// With [`RunnerConfig::adaptive`]: the measurements and the K they
    /// give.
    adaptive: Option<adaptive::Controller>,
    /// Items processed by this run so far.
    items_processed: u64,
    /// What the synchronous loop keeps between batches.
    progress: SyncProgress,
    /// The run returned its outcome or an error; the lock is released.
    ended: bool,
}

impl<'a, J: Job, F: Fs + ?Sized> Runner<'a, J, F, NoObserver> {
    /// Validates `config`, creates `job_dir` durably if missing (a file in
    /// its place is [`StoreError::NotADirectory`]), takes the job lock (a
    /// held lock is [`RunError::Locked`] at once), checks that the directory
    /// is writable by creating and removing a probe file
    /// ([`crate::store::WRITE_PROBE_FILE_NAME`]; a read-only or forbidden
    /// directory is [`RunError::JobDirNotWritable`]), opens the checkpoint
    /// store (startup GC), and chooses where to start according to
    /// [`RunnerConfig::resume`]. Nothing is processed or committed yet.
    ///
    /// With [`ResumeMode::ForceRestart`], every existing checkpoint is
    /// durably removed here. On any error the lock is released.
    pub fn open(
        fs: &'a F,
        job_dir: impl Into<PathBuf>,
        job: &'a mut J,
        config: RunnerConfig,
    ) -> Result<Self, RunError> {
        let name = job.name().to_owned();
        config.validate(&name)?;
        let dir = job_dir.into();
        ensure_dir_durable(fs, &dir)?;
        let sentinel = config.sentinel_file_name(&name).map(|s| dir.join(s));
        let lock = JobLock::acquire(fs, &dir, sentinel.clone())?;
        probe_writable(fs, &dir)?;
        let identity = JobIdentity {
            name: name.clone(),
            fingerprint: job.fingerprint(),
        };
        let mut store =
            CheckpointStore::open_in_durable_dir(fs, dir.clone(), identity, config.keep)?
                .with_codec(config.codec);
        let item_count = job.item_count();
        let start = choose_start(&mut store, &*job, config.resume, item_count)?;
        let watch = YieldWatch::new(sentinel, config.sentinel_check_interval);
        let adaptive = config
            .adaptive
            .map(|a| adaptive::Controller::new(a.max_overhead, config.checkpoint_every_max()));
        Ok(Self {
            fs,
            job,
            config,
            dir,
            item_count,
            store,
            lock,
            start,
            clock: Box::new(SystemClock::new()),
            watch,
            observer: NoObserver,
            committer: CommitterChoice::Unset,
            adaptive,
            items_processed: 0,
            progress: SyncProgress::default(),
            ended: false,
        })
    }
}

impl<'a, J: Job, F: Fs + Sync + ?Sized, O: RunObserver> Runner<'a, J, F, O> {
    /// Background commits ([`CommitMode::Background`]) run on a committer
    /// thread (`crashproof-committer`, scoped to [`Runner::run`]) while
    /// this thread goes on processing items; observer calls stay on this
    /// thread. Needs a filesystem both threads may use (`Sync`, as `StdFs`
    /// is). [`Runner::run`] refuses it with [`CommitMode::Synchronous`].
    pub fn with_committer_thread(mut self) -> Self {
        self.committer = CommitterChoice::Thread(commit::on_committer_thread::<F>);
        self
    }
}

impl<'a, J: Job, F: Fs + ?Sized, O: RunObserver> Runner<'a, J, F, O> {
    /// Replaces the observer.
    pub fn with_observer<O2: RunObserver>(self, observer: O2) -> Runner<'a, J, F, O2> {
        Runner {
            fs: self.fs,
            job: self.job,
            config: self.config,
            dir: self.dir,
            item_count: self.item_count,
            store: self.store,
            lock: self.lock,
            start: self.start,
            clock: self.clock,
            watch: self.watch,
            observer,
            committer: self.committer,
            adaptive: self.adaptive,
            items_processed: self.items_processed,
            progress: self.progress,
            ended: self.ended,
        }
    }

    /// Background commits ([`CommitMode::Background`]) run on this thread,
    /// between items, at the points `schedule` picks (see
    /// [`CommitInterleaving`]): the same contract as
    /// [`Runner::with_committer_thread`] without a second thread, so a
    /// simulator explores it deterministically. Nothing overlaps, so it
    /// saves no time. [`Runner::run`] refuses it with
    /// [`CommitMode::Synchronous`].
    pub fn with_commit_interleaving(mut self, schedule: CommitInterleaving) -> Self {
        self.committer = CommitterChoice::Interleaved(schedule);
        self
    }

    /// Replaces the clock (default [`SystemClock`]). It is read only when a
    /// [`RunnerConfig::checkpoint_interval`] or a positive
    /// [`RunnerConfig::sentinel_check_interval`] is set.
    pub fn with_clock(mut self, clock: impl Clock + 'a) -> Self {
        self.clock = Box::new(clock);
        self
    }

    /// Replaces the yield signal (default: a fresh one per runner).
    pub fn with_yield_signal(mut self, signal: YieldSignal) -> Self {
        self.watch.signal = signal;
        self
    }

    /// A handle on this runner's yield signal: request it from anywhere
    /// (another thread, the job, an observer) to yield at the next commit.
    pub fn yield_signal(&self) -> YieldSignal {
        self.watch.signal.clone()
    }

    /// The checkpoint this runner will resume from (`None`: fresh start).
    pub fn resume_point(&self) -> Option<ResumePoint> {
        self.start.resumed_from
    }

    /// The generation files recovery passed over to reach the resume point
    /// (also reported in the [`Outcome`]).
    pub fn skipped(&self) -> &[SkippedGeneration] {
        &self.start.skipped
    }

    /// The job directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Processes the remaining items, committing every K items and/or T,
    /// and finalizes. Returns [`Outcome::Yielded`] if a yield was requested
    /// at a commit, with everything up to its cursor durable (a yield during
    /// the last batch yields at cursor == item_count; the next run goes
    /// straight to `finalize`); otherwise commits the final checkpoint, calls
    /// `finalize` once and returns [`Outcome::Completed`]. The lock is
    /// released on every exit path.
    ///
    /// With [`CommitMode::Background`], commits overlap the work as
    /// [`background`] describes (a yield is checked after each hand-off and
    /// waits for that commit; a commit error is returned when the runner
    /// sees it); the committer must have been chosen
    /// ([`ConfigError::NoCommitter`] otherwise, before anything is
    /// processed).
    ///
    /// A job error stops the run without committing (the last checkpoint
    /// stays the resume point; in background mode a commit already handed
    /// off still finishes, unacknowledged). With
    /// [`RunnerConfig::remove_checkpoints_on_success`], the checkpoints are
    /// removed after `finalize`, oldest first; if that fails the error is
    /// returned and a rerun finalizes again from the final checkpoint.
    ///
    /// After [`Runner::step`] calls, `run` goes on from the last step; after
    /// a step reported the end, it is [`RunError::Ended`].
    pub fn run(mut self) -> Result<Outcome<J::Output>, RunError> {
        if self.ended {
            return Err(RunError::Ended);
        }
        let result = self.run_inner();
        self.end();
        result
    }

    fn run_inner(&mut self) -> Result<Outcome<J::Output>, RunError> {
        let ended = match (self.config.commit_mode, self.committer) {
            (CommitMode::Synchronous, CommitterChoice::Unset) => self.run_synchronous()?,
            (CommitMode::Synchronous, _) => {
                return Err(ConfigError::CommitterWithoutBackground.into());
            }
            (CommitMode::Background, CommitterChoice::Unset) => {
                return Err(ConfigError::NoCommitter.into());
            }
            (CommitMode::Background, CommitterChoice::Thread(scope)) => {
                self.run_background(|store, body| scope(store, body))?
            }
            (CommitMode::Background, CommitterChoice::Interleaved(schedule)) => {
                let span_items = self.config.checkpoint_every_max();
                self.run_background(|store, body| {
                    body(&mut background::Interleaved::new(
                        schedule,
                        span_items,
                        |request| commit::commit_work(store, request),
                    ))
                })?
            }
        };
        self.finish(ended)
    }

    /// After the last batch: on a yield, makes GC durable and reports it;
    /// otherwise commits the final checkpoint of an empty fresh job, makes
    /// GC durable, finalizes and (if configured) removes the checkpoints.
    fn finish(&mut self, ended: Ended) -> Result<Outcome<J::Output>, RunError> {
        if let Ended::Yielded { acked } = ended {
            self.store.sync_removals()?;
            tracing::info!(
                job = self.job.name(),
                generation = acked.generation,
                cursor = acked.cursor,
                "yielding at a durable checkpoint"
            );
            return Ok(Outcome::Yielded {
                cursor: acked.cursor,
                generation: acked.generation,
                resumed_from: self.start.resumed_from,
                items_processed: self.items_processed,
                skipped: self.start.skipped.clone(),
            });
        }
        if self.start.cursor == self.item_count && self.start.resumed_from.is_none() {
            // A fresh run with no items still leaves its final checkpoint, so
            // every completed run does.
            self.commit(self.item_count)?;
        }
        // No commit follows the final one to make its GC durable.
        self.store.sync_removals()?;
        self.fs
            .failpoint(failpoint::RUNNER_AFTER_FINAL_COMMIT_BEFORE_FINALIZE)
            .map_err(|source| RunError::Io {
                op: FsOp::Failpoint,
                path: PathBuf::from(failpoint::RUNNER_AFTER_FINAL_COMMIT_BEFORE_FINALIZE),
                source,
            })?;
        let output = self
            .job
            .finalize(&self.start.state)
            .map_err(|source| RunError::Job {
                index: None,
                source,
            })?;
        if self.config.remove_checkpoints_on_success {
            self.store.discard_all()?;
        }
        let redone_at_most = self
            .config
            .checkpoint_every_max()
            .saturating_mul(self.start.skipped_damaged())
            .saturating_add(self.config.redo_items_max())
            .min(self.items_processed);
        Ok(Outcome::Completed {
            output,
            resumed_from: self.start.resumed_from,
            items_processed: self.items_processed,
            redone_at_most,
            skipped: std::mem::take(&mut self.start.skipped),
        })
    }

    /// The synchronous loop: batches ([`Runner::sync_batch`], the body of
    /// [`Runner::step`]) until the end or a yield.
    fn run_synchronous(&mut self) -> Result<Ended, RunError> {
        loop {
            if let Batch::Ended(ended) = self.sync_batch()? {
                return Ok(ended);
            }
        }
    }

    /// The background loop ([`background::drive`]) with the committer
    /// `with_committer` sets up around it (which gets the store).
    fn run_background(
        &mut self,
        with_committer: impl FnOnce(
            &mut CheckpointStore<'a, F>,
            &mut commit::Body<'_>,
        ) -> Result<Ended, RunError>,
    ) -> Result<Ended, RunError> {
        let cursor = self.start.cursor;
        // T counts from the start of the run.
        let last_commit_at = self.config.checkpoint_interval.map(|_| self.clock.now());
        let mut batches = Background {
            fs: self.fs,
            job: &mut *self.job,
            state: &mut self.start.state,
            observer: &mut self.observer,
            config: &self.config,
            clock: &*self.clock,
            watch: &mut self.watch,
            item_count: self.item_count,
            next_generation: self.store.next_generation(),
            items_processed: &mut self.items_processed,
            last_commit_at,
            adaptive: self.adaptive.as_mut().map(commit::AdaptiveBatches::new),
        };
        let mut body = |committer: &mut dyn background::Committer<_, _>| {
            background::drive(&mut batches, committer, cursor)
        };
        with_committer(&mut self.store, &mut body)
    }

    /// Durably commits `{cursor, state}`, telling the observer before and
    /// after, then runs GC (whose removals the next commit makes durable).
    fn commit(&mut self, cursor: u64) -> Result<u64, RunError> {
        let state = self
            .config
            .codec
            .to_vec(&self.start.state)
            .map_err(RunError::StateEncode)?;
        let info = CheckpointInfo {
            generation: self.store.next_generation(),
            cursor,
            state: &state,
        };
        self.observer.before_commit(&info);
        let generation = self.store.write_generation(cursor, &state)?;
        self.observer.after_commit(&info);
        self.store.collect_garbage()?;
        Ok(generation)
    }
}

/// Chooses where to start, per `mode` (see [`ResumeMode`]).
fn choose_start<J: Job, F: Fs + ?Sized>(
    store: &mut CheckpointStore<'_, F>,
    job: &J,
    mode: ResumeMode,
    item_count: u64,
) -> Result<Start<J::State>, RunError> {
    let fresh = || Start {
        state: job.initial_state(),
        cursor: 0,
        resumed_from: None,
        skipped: Vec::new(),
    };
    match mode {
        ResumeMode::ForceRestart => {
            let removed = store.discard_all()?;
            tracing::info!(
                job = job.name(),
                removed,
                "force restart: discarded existing checkpoints"
            );
            Ok(fresh())
        }
        ResumeMode::NoResume => {
            match store.latest() {
                Ok(_) | Err(StoreError::AllCorrupt { .. }) => {}
                Err(e) => return Err(e.into()),
            }
            tracing::info!(
                job = job.name(),
                "no-resume: starting fresh, existing checkpoints left to retention"
            );
            Ok(fresh())
        }
        ResumeMode::Resume => {
            let Some(checkpoint) = store.latest()? else {
                tracing::info!(job = job.name(), "no checkpoint found; starting fresh");
                return Ok(fresh());
            };
            if checkpoint.cursor > item_count {
                return Err(RunError::CursorBeyondEnd {
                    path: checkpoint.path,
                    cursor: checkpoint.cursor,
                    item_count,
                });
            }
            let state = checkpoint
                .codec
                .from_slice(&checkpoint.state)
                .map_err(|source| RunError::StateDecode {
                    path: checkpoint.path.clone(),
                    generation: checkpoint.generation,
                    codec: checkpoint.codec,
                    source,
                })?;
            tracing::info!(
                job = job.name(),
                generation = checkpoint.generation,
                cursor = checkpoint.cursor,
                "resumed from generation {} at cursor {}",
                checkpoint.generation,
                checkpoint.cursor
            );
            Ok(Start {
                state,
                cursor: checkpoint.cursor,
                resumed_from: Some(ResumePoint {
                    generation: checkpoint.generation,
                    cursor: checkpoint.cursor,
                }),
                skipped: checkpoint.skipped,
            })
        }
    }
}

/// Creates and removes [`WRITE_PROBE_FILE_NAME`] in `dir`, so a directory
/// the process cannot write is found before any work rather than at the
/// first commit. Not synced: a probe a crash leaves behind is removed by
/// startup GC like a temp file.
fn probe_writable<F: Fs + ?Sized>(fs: &F, dir: &Path) -> Result<(), RunError> {
    let probe = dir.join(WRITE_PROBE_FILE_NAME);
    fs.open_truncate(&probe)
        .and_then(|file| fs.close(file))
        .and_then(|()| fs.remove_file(&probe))
        .map_err(|source| RunError::JobDirNotWritable {
            dir: dir.to_path_buf(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::batch_end;

    #[test]
    fn batch_end_saturates_and_caps() {
        assert_eq!(batch_end(0, 50, 1000), 50);
        assert_eq!(batch_end(990, 50, 1000), 1000);
        assert_eq!(batch_end(u64::MAX - 3, u64::MAX, u64::MAX), u64::MAX);
        assert_eq!(batch_end(u64::MAX - 3, 2, u64::MAX), u64::MAX - 1);
        assert_eq!(batch_end(5, u64::MAX, 7), 7);
    }
}
