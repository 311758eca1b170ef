//! Driving a synchronous runner one batch at a time ([`Runner::step`]), so
//! a caller can do something between batches (an async executor awaits
//! there, a simulator lets virtual time pass) while the runner keeps the
//! job lock. [`Runner::run`] is a loop over the same batch.

use std::time::Duration;

use crate::fs::Fs;

use super::background::{Acked, Ended};
use super::commit::CommitterChoice;
use super::config::{CommitMode, ConfigError};
use super::error::RunError;
use super::job::Job;
use super::observer::RunObserver;
use super::outcome::Outcome;
use super::{Runner, batch_end};

/// What one [`Runner::step`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step<O> {
    /// A batch was processed and its checkpoint `{cursor, state}` is
    /// durable as generation `generation`; no yield was requested. The
    /// runner still holds the job lock: call [`Runner::step`] again.
    Committed {
        /// Items before this cursor are done and durable.
        cursor: u64,
        /// The checkpoint's generation.
        generation: u64,
    },
    /// A yield was requested at the last commit: the outcome is always
    /// [`Outcome::Yielded`]. The runner is finished and the lock released.
    Yielded(Outcome<O>),
    /// The job completed (final checkpoint durable, `finalize` called): the
    /// outcome is always [`Outcome::Completed`]. The runner is finished and
    /// the lock released.
    Finished(Outcome<O>),
}

/// What the synchronous loop keeps between batches (its cursor is
/// derived: every item processed so far was committed, since an error ends
/// the runner).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct SyncProgress {
    /// The last checkpoint this run committed.
    last: Option<Acked>,
    /// When the last commit returned (or the first batch started), once a
    /// batch started with a [`crate::RunnerConfig::checkpoint_interval`].
    last_commit_at: Option<Duration>,
}

/// The clock readings of one batch with [`crate::RunnerConfig::adaptive`]:
/// when its first item started and when its last item ended.
#[derive(Debug, Clone, Copy)]
struct BatchTimes {
    started_at: Duration,
    work_ended_at: Duration,
}

/// The end of one synchronous batch.
pub(super) enum Batch {
    /// Committed durably; go on.
    Committed(Acked),
    /// Nothing left, or a yield was requested.
    Ended(Ended),
}

impl<'a, J: Job, F: Fs + ?Sized, O: RunObserver> Runner<'a, J, F, O> {
    /// Processes one batch (K items, or fewer if the job ends or
    /// [`crate::RunnerConfig::checkpoint_interval`] passes first), commits
    /// it durably and looks for a yield, as one round of [`Runner::run`];
    /// the call after the last batch commits nothing more and finalizes.
    ///
    /// Returns [`Step::Committed`] once that batch's checkpoint is durable
    /// (the store's fsyncs returned: it survives a crash from here on,
    /// and a resume starts at or after its cursor); the runner keeps the
    /// job lock until it returns [`Step::Yielded`] or [`Step::Finished`]
    /// (exactly what [`Runner::run`] would have returned), returns an
    /// error, or is dropped. So a caller may await, sleep or poll between
    /// steps and no other runner can take the job meanwhile. The sequence
    /// of filesystem calls is the one [`Runner::run`] makes; steps and
    /// `run` may be mixed (`run` goes on from the last step).
    ///
    /// Any error ends the runner (lock released, as from `run`). A step
    /// after the end is [`RunError::Ended`]. Only
    /// [`CommitMode::Synchronous`]: with [`CommitMode::Background`] the
    /// committer's hand-off spans batches, so `step` returns
    /// [`ConfigError::StepNeedsSynchronous`] (use `run`).
    pub fn step(&mut self) -> Result<Step<J::Output>, RunError> {
        if self.ended {
            return Err(RunError::Ended);
        }
        let result = self.step_inner();
        if !matches!(result, Ok(Step::Committed { .. })) {
            self.end();
        }
        result
    }

    fn step_inner(&mut self) -> Result<Step<J::Output>, RunError> {
        match (self.config.commit_mode, self.committer) {
            (CommitMode::Synchronous, CommitterChoice::Unset) => {}
            (CommitMode::Synchronous, _) => {
                return Err(ConfigError::CommitterWithoutBackground.into());
            }
            (CommitMode::Background, _) => return Err(ConfigError::StepNeedsSynchronous.into()),
        }
        match self.sync_batch()? {
            Batch::Committed(acked) => Ok(Step::Committed {
                cursor: acked.cursor,
                generation: acked.generation,
            }),
            Batch::Ended(ended) => Ok(match self.finish(ended)? {
                yielded @ Outcome::Yielded { .. } => Step::Yielded(yielded),
                completed @ Outcome::Completed { .. } => Step::Finished(completed),
            }),
        }
    }

    /// Marks the runner finished and releases the job lock.
    pub(super) fn end(&mut self) {
        self.ended = true;
        self.lock.release();
    }

    /// One round of the synchronous loop: process a batch, commit it
    /// durably, look for a yield; or, at the end, report it.
    pub(super) fn sync_batch(&mut self) -> Result<Batch, RunError> {
        let mut cursor = self.start.cursor + self.items_processed;
        if cursor >= self.item_count {
            return Ok(Batch::Ended(Ended::Finished {
                cursor,
                last: self.progress.last,
            }));
        }
        let checkpoint_every = match &self.adaptive {
            Some(controller) => controller.checkpoint_every(),
            None => self.config.checkpoint_every,
        };
        // K = 0 would commit the same cursor forever (validation refuses
        // it; the adaptive rule never yields it).
        debug_assert!(checkpoint_every >= 1, "K = 0 makes no progress");
        let first = cursor;
        let end = batch_end(cursor, checkpoint_every, self.item_count);
        let started_at = self.adaptive.is_some().then(|| self.clock.now());
        let deadline = self.config.checkpoint_interval.map(|interval| {
            let since = *self
                .progress
                .last_commit_at
                .get_or_insert_with(|| self.clock.now());
            (interval, since)
        });
        while cursor < end {
            self.job
                .process(cursor, &mut self.start.state)
                .map_err(|source| RunError::Job {
                    index: Some(cursor),
                    source,
                })?;
            self.observer.item_processed(cursor);
            cursor += 1;
            self.items_processed += 1;
            if let Some((interval, since)) = deadline
                && self.clock.now().saturating_sub(since) >= interval
            {
                break;
            }
        }
        let times = started_at.map(|started_at| BatchTimes {
            started_at,
            work_ended_at: self.clock.now(),
        });
        let generation = self.commit(cursor)?;
        let acked = Acked { generation, cursor };
        self.progress.last = Some(acked);
        if deadline.is_some() {
            self.progress.last_commit_at = Some(self.clock.now());
        }
        let yield_requested = self.watch.requested(self.fs, &*self.clock);
        if let (Some(controller), Some(times)) = (self.adaptive.as_mut(), times) {
            // The commit's cost runs to here: GC and the yield look are
            // part of every commit.
            let now = self.clock.now();
            controller.record(
                cursor - first,
                times.work_ended_at.saturating_sub(times.started_at),
                now.saturating_sub(times.work_ended_at),
            );
        }
        if yield_requested {
            return Ok(Batch::Ended(Ended::Yielded { acked }));
        }
        Ok(Batch::Committed(acked))
    }
}

#[cfg(test)]
mod tests;
