//! How a runner checkpoints, retains, resumes and yields.

use std::time::Duration;

use crate::envelope::Codec;
use crate::store::DEFAULT_KEEP;

/// The default checkpoint period K in items (tzel's measured sweet spot for
/// I/O-bound items; tune it with the criterion bench).
pub const DEFAULT_CHECKPOINT_EVERY: u64 = 50;

/// What to do with checkpoints found when the runner opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResumeMode {
    /// Resume from the newest valid checkpoint (falling back past damaged
    /// ones); start fresh if there is none. Another job's checkpoint is an
    /// error.
    #[default]
    Resume,
    /// Rooch's `--force-restart`: durably remove every existing checkpoint
    /// (any job's) at open, then start fresh.
    ForceRestart,
    /// Rooch's `--no-resume`: start fresh and leave existing checkpoints
    /// alone. New generations are numbered after them, so the old ones are
    /// superseded and deleted by normal retention once `keep` new ones exist.
    /// Still refuses a directory whose newest intact checkpoint is another
    /// job's (retention would otherwise delete that job's checkpoints).
    NoResume,
}

/// Where the runner looks for the cooperative-yield sentinel file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum YieldSentinel {
    /// `<job_dir>/<job name>.yield` (tzel's `<wallet>.yield`).
    #[default]
    JobName,
    /// `<job_dir>/<this file name>` (one path component).
    Named(String),
    /// No sentinel file; only the in-process [`crate::YieldSignal`].
    Disabled,
}

/// When a checkpoint's write happens relative to the job's work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CommitMode {
    /// The runner stops processing while it commits: when the commit
    /// returns, the checkpoint is durable. A crash redoes at most K items.
    #[default]
    Synchronous,
    /// The runner hands the encoded checkpoint to a committer and keeps
    /// processing while it is written (see [`crate::runner::background`]):
    /// at most one commit in flight, acknowledged (and
    /// [`crate::RunObserver::after_commit`] called) only once durable, a
    /// yield waits for it, a commit error stops the job. A crash redoes at
    /// most **2K** items (2T with a time-based policy): the checkpoint in
    /// flight may be lost along with the batch after it. Choose the
    /// committer on the runner: [`crate::Runner::with_committer_thread`]
    /// (a thread; needs a `Sync` filesystem such as `StdFs`) or
    /// [`crate::Runner::with_commit_interleaving`] (the calling thread, at
    /// seeded points: for simulators and tests).
    Background,
}

/// K chosen online: the runner times its own commits and work through its
/// [`crate::Clock`] and sets K after every commit (see
/// [`crate::runner::adaptive`] for the rule). Built with
/// [`RunnerConfig::adaptive`].
///
/// **The redo bound:** a crash makes the next run redo at most `max_redo`
/// items, whatever K the runner chose: K never exceeds `max_redo` with
/// [`CommitMode::Synchronous`], nor `max_redo / 2` with
/// [`CommitMode::Background`] (whose bound is 2K), nor
/// [`RunnerConfig::checkpoint_every`]. A time bound as well: set
/// [`RunnerConfig::checkpoint_interval`] (T), which commits first when items
/// get slow, so a crash also redoes at most T of work (2T in background).
#[derive(Debug, Clone, Copy)]
pub struct AdaptiveK {
    /// The overhead budget: the runner aims for commit time / work time at
    /// most this fraction (`0.01` for 1 %). Finite, more than 0, less than 1.
    pub max_overhead: f64,
    /// The most items a crash may make the next run redo; at least 1 (2
    /// with background commits).
    pub max_redo: u64,
}

/// Equal budgets bit for bit (validation refuses NaN), so a configuration
/// stays comparable with `==`.
impl PartialEq for AdaptiveK {
    fn eq(&self, other: &Self) -> bool {
        self.max_overhead.to_bits() == other.max_overhead.to_bits()
            && self.max_redo == other.max_redo
    }
}

impl Eq for AdaptiveK {}

/// A runner's configuration. Validated by [`crate::Runner::open`].
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use crashproof_core::{ResumeMode, RunnerConfig};
///
/// // Commit every 50 items (the default K).
/// let by_count = RunnerConfig::every(50);
/// assert_eq!(by_count, RunnerConfig::default());
///
/// // Commit every 1000 items or every 30 seconds, whichever comes first,
/// // keep 3 generations, and start over instead of resuming.
/// let config = RunnerConfig {
///     checkpoint_interval: Some(Duration::from_secs(30)),
///     keep: 3,
///     resume: ResumeMode::ForceRestart,
///     ..RunnerConfig::every(1000)
/// };
/// assert_eq!(config.checkpoint_every, 1000);
/// assert!(config.validate("my-job").is_ok());
///
/// // K = 0 would never make progress: refused before anything runs.
/// assert!(RunnerConfig::every(0).validate("my-job").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunnerConfig {
    /// K: commit after at most this many items. Must be at least 1 (0 would
    /// never make progress). Also the bound on items redone after a crash
    /// (2K with [`CommitMode::Background`]). With [`RunnerConfig::adaptive`]
    /// set, the largest K the runner may choose (see
    /// [`RunnerConfig::checkpoint_every_max`]).
    pub checkpoint_every: u64,
    /// T: also commit when this much time (by the runner's [`crate::Clock`])
    /// has passed since the last commit, whichever of K and T comes first.
    /// `None`: count only. `Some(Duration::ZERO)` commits after every item.
    pub checkpoint_interval: Option<Duration>,
    /// Valid generations retained; at least 1 (default 2).
    pub keep: usize,
    /// What to do with existing checkpoints.
    pub resume: ResumeMode,
    /// The sentinel file that asks the runner to yield.
    pub yield_sentinel: YieldSentinel,
    /// How often the sentinel file is looked at. `Duration::ZERO` (the
    /// default): after every commit, which costs one `statx` per commit
    /// (about a microsecond, against the tens of microseconds to
    /// milliseconds of the commit's two fsyncs). A positive interval: after
    /// a commit only when at least this much time (by the runner's
    /// [`crate::Clock`]) has passed since the last look (the first commit
    /// always looks), so a yield request waits up to this long plus one
    /// batch, and a commit costs a clock read instead (no system call with
    /// [`crate::SystemClock`] on Linux, which reads the vDSO). Ignored with
    /// [`YieldSentinel::Disabled`]; the in-process [`crate::YieldSignal`] is
    /// checked after every commit regardless.
    pub sentinel_check_interval: Duration,
    /// The codec new checkpoints are written in (state and metadata);
    /// default [`Codec::Json`]. Checkpoints are read with the codec their
    /// envelope header names, so changing it keeps existing ones resumable.
    /// [`Codec::Postcard`] makes a checkpoint about the size of its data
    /// (a `Vec<u8>` of 15,770 bytes: 15,861 bytes instead of ~64 KB) but
    /// needs a `State` that does not rely on `deserialize_any` (see
    /// [`Codec`]).
    pub codec: Codec,
    /// Whether commits stop the job ([`CommitMode::Synchronous`], the
    /// default) or overlap it ([`CommitMode::Background`], redo bound 2K).
    pub commit_mode: CommitMode,
    /// Remove every checkpoint after a successful `finalize` (as Rooch
    /// does). Default `false`: the final checkpoint (cursor == item_count)
    /// stays, so running the same job again skips straight to `finalize`.
    pub remove_checkpoints_on_success: bool,
    /// K chosen online within an overhead budget and a redo bound (`None`,
    /// the default: K is `checkpoint_every`). See [`AdaptiveK`].
    pub adaptive: Option<AdaptiveK>,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        Self {
            checkpoint_every: DEFAULT_CHECKPOINT_EVERY,
            checkpoint_interval: None,
            keep: DEFAULT_KEEP,
            resume: ResumeMode::Resume,
            yield_sentinel: YieldSentinel::JobName,
            sentinel_check_interval: Duration::ZERO,
            codec: Codec::Json,
            commit_mode: CommitMode::Synchronous,
            remove_checkpoints_on_success: false,
            adaptive: None,
        }
    }
}

impl RunnerConfig {
    /// The default configuration with checkpoint period `checkpoint_every`.
    pub fn every(checkpoint_every: u64) -> Self {
        Self {
            checkpoint_every,
            ..Self::default()
        }
    }

    /// The default configuration with K chosen online (synchronous
    /// commits): the runner keeps commit time within `max_overhead` of work
    /// time as its commits get slower or faster, and a crash redoes at most
    /// `max_redo` items (see [`AdaptiveK`]). `checkpoint_every` is set to
    /// `max_redo`. With [`CommitMode::Background`] set afterwards, K stays
    /// at most `max_redo / 2`, so the redo bound still holds.
    pub fn adaptive(adaptive: AdaptiveK) -> Self {
        Self {
            checkpoint_every: adaptive.max_redo,
            adaptive: Some(adaptive),
            ..Self::default()
        }
    }

    /// The most items between two commits: `checkpoint_every`, and with
    /// [`RunnerConfig::adaptive`] also at most `max_redo` (synchronous) or
    /// `max_redo / 2` (background), so that [`RunnerConfig::redo_items_max`]
    /// never exceeds `max_redo`. At least 1 once validated.
    pub fn checkpoint_every_max(&self) -> u64 {
        match self.adaptive {
            None => self.checkpoint_every,
            Some(adaptive) => {
                let per_checkpoint = adaptive.max_redo / self.redo_checkpoints();
                self.checkpoint_every.min(per_checkpoint)
            }
        }
    }

    /// How many batches a crash can make the next run redo: 1, or 2 with
    /// background commits (the checkpoint in flight and the batch after it).
    fn redo_checkpoints(&self) -> u64 {
        match self.commit_mode {
            CommitMode::Synchronous => 1,
            CommitMode::Background => 2,
        }
    }

    /// Checks the configuration for the job named `job_name`.
    pub fn validate(&self, job_name: &str) -> Result<(), ConfigError> {
        if let Some(adaptive) = self.adaptive {
            let f = adaptive.max_overhead;
            if !(f.is_finite() && f > 0.0 && f < 1.0) {
                return Err(ConfigError::AdaptiveMaxOverhead);
            }
            if self.checkpoint_every_max() == 0 {
                return Err(ConfigError::AdaptiveMaxRedo {
                    max_redo: adaptive.max_redo,
                    least: self.redo_checkpoints(),
                });
            }
        }
        if self.checkpoint_every == 0 {
            return Err(ConfigError::ZeroCheckpointEvery);
        }
        if self.keep == 0 {
            return Err(ConfigError::ZeroKeep);
        }
        if !is_one_component(job_name) {
            return Err(ConfigError::InvalidJobName(job_name.to_owned()));
        }
        if let YieldSentinel::Named(name) = &self.yield_sentinel
            && !is_one_component(name)
        {
            return Err(ConfigError::InvalidSentinelName(name.clone()));
        }
        Ok(())
    }

    /// The most items a crash can make the next run redo, per checkpoint
    /// it falls back over: K, or 2K with [`CommitMode::Background`] (the
    /// checkpoint in flight is lost with the batch after it); K being
    /// [`RunnerConfig::checkpoint_every_max`], so with
    /// [`RunnerConfig::adaptive`] it is at most `max_redo`.
    pub fn redo_items_max(&self) -> u64 {
        self.checkpoint_every_max()
            .saturating_mul(self.redo_checkpoints())
    }

    /// The sentinel file name for `job_name`, if any.
    pub fn sentinel_file_name(&self, job_name: &str) -> Option<String> {
        match &self.yield_sentinel {
            YieldSentinel::JobName => Some(format!("{job_name}.yield")),
            YieldSentinel::Named(name) => Some(name.clone()),
            YieldSentinel::Disabled => None,
        }
    }
}

/// Whether `name` is usable as one file name inside the job directory.
fn is_one_component(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\0'])
}

/// Why a [`RunnerConfig`] was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// K = 0 would loop forever without progress (tzel's review).
    #[error(
        "checkpoint_every must be at least 1 (0 would never make progress); 50 is a good start"
    )]
    ZeroCheckpointEvery,
    /// Retention must keep something to resume from.
    #[error("keep must be at least 1 (2 is recommended: one to resume, one to fall back to)")]
    ZeroKeep,
    /// The job name is not a single file-name component.
    #[error("job name {0:?} must be one file-name component: not empty, no '/', not '.' or '..'")]
    InvalidJobName(String),
    /// The sentinel file name is not a single file-name component.
    #[error(
        "yield sentinel name {0:?} must be one file-name component: not empty, no '/', not '.' or '..'"
    )]
    InvalidSentinelName(String),
    /// Background commits were configured but the runner was given no
    /// committer.
    #[error(
        "commit_mode is Background but the runner has no committer: call \
         Runner::with_committer_thread() (needs a Sync filesystem such as StdFs) or \
         Runner::with_commit_interleaving() (deterministic, on the calling thread) before run()"
    )]
    NoCommitter,
    /// A committer was given to a runner configured for synchronous commits,
    /// which would ignore it.
    #[error(
        "the runner was given a background committer but commit_mode is Synchronous; set \
         RunnerConfig::commit_mode to CommitMode::Background, or drop the committer"
    )]
    CommitterWithoutBackground,
    /// [`AdaptiveK::max_overhead`] is not a fraction in (0, 1).
    #[error(
        "adaptive max_overhead must be a finite fraction more than 0 and less than 1 \
         (0.01 for 1 %)"
    )]
    AdaptiveMaxOverhead,
    /// [`AdaptiveK::max_redo`] leaves no room for one item per batch.
    #[error(
        "adaptive max_redo {max_redo} allows no batch: it must be at least {least} (a crash \
         redoes up to {least} batches in this commit mode)"
    )]
    AdaptiveMaxRedo {
        /// The bound given.
        max_redo: u64,
        /// The smallest bound that allows batches of one item.
        least: u64,
    },
    /// [`crate::Runner::step`] was called with background commits, whose
    /// hand-off spans batches so no batch boundary is a durable checkpoint.
    #[error(
        "Runner::step drives synchronous commits only, but commit_mode is Background; call \
         Runner::run(), or set RunnerConfig::commit_mode to CommitMode::Synchronous"
    )]
    StepNeedsSynchronous,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_rejects_each_bad_field() {
        assert_eq!(RunnerConfig::default().validate("job"), Ok(()));
        assert_eq!(
            RunnerConfig::every(0).validate("job"),
            Err(ConfigError::ZeroCheckpointEvery)
        );
        let zero_keep = RunnerConfig {
            keep: 0,
            ..RunnerConfig::default()
        };
        assert_eq!(zero_keep.validate("job"), Err(ConfigError::ZeroKeep));
        for bad in ["", ".", "..", "a/b"] {
            assert_eq!(
                RunnerConfig::default().validate(bad),
                Err(ConfigError::InvalidJobName(bad.into()))
            );
        }
        let bad_sentinel = RunnerConfig {
            yield_sentinel: YieldSentinel::Named("../x".into()),
            ..RunnerConfig::default()
        };
        assert!(matches!(
            bad_sentinel.validate("job"),
            Err(ConfigError::InvalidSentinelName(_))
        ));
        assert_eq!(
            RunnerConfig::default()
                .sentinel_file_name("sync")
                .as_deref(),
            Some("sync.yield")
        );
    }
}
