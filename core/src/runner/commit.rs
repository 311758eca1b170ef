//! The runner's background commits: what is handed off, the work the
//! committer does, the choice of committer, and the runner's side of
//! [`super::background::drive`].

use std::time::Duration;

use crate::fs::Fs;
use crate::store::{CheckpointStore, StoreError};

use super::adaptive::Controller;
use super::background::{Acked, Batches, Committer, Ended, Handoff, ThreadCommitter};
use super::clock::Clock;
use super::config::RunnerConfig;
use super::error::RunError;
use super::job::Job;
use super::observer::{CheckpointInfo, RunObserver};
use super::watch::YieldWatch;
use super::{CommitInterleaving, batch_end};

/// A checkpoint handed to the committer: the encoded state is a snapshot,
/// so the runner may go on changing its state.
#[derive(Debug)]
pub(crate) struct CommitRequest {
    pub(crate) generation: u64,
    pub(crate) cursor: u64,
    pub(crate) state: Vec<u8>,
}

/// What the committer reports: the request back (for the observer), whether
/// it is durable, and GC's result.
#[derive(Debug)]
pub(crate) struct CommitDone {
    request: CommitRequest,
    written: Result<(), StoreError>,
    collected: Result<(), StoreError>,
}

/// The committer's work for one request: the store's steady-state commit
/// (write the generation durably, then GC, whose removals the next commit
/// makes durable).
pub(crate) fn commit_work<F: Fs + ?Sized>(
    store: &mut CheckpointStore<'_, F>,
    request: CommitRequest,
) -> CommitDone {
    // The runner numbered the request from the store's next generation and
    // one hand-off at a time, so the numbers agree.
    debug_assert_eq!(store.next_generation(), request.generation);
    let written = store
        .write_generation(request.cursor, &request.state)
        .map(|generation| debug_assert_eq!(generation, request.generation));
    let collected = match written {
        Ok(()) => store.collect_garbage().map(|_| ()),
        Err(_) => Ok(()),
    };
    CommitDone {
        request,
        written,
        collected,
    }
}

/// The body [`ThreadScope`] runs on the calling thread while the committer
/// thread serves.
pub(crate) type Body<'b> =
    dyn FnMut(&mut dyn Committer<CommitRequest, CommitDone>) -> Result<Ended, RunError> + 'b;

/// Runs a body with a committer thread serving `store` (a function pointer,
/// so it can be chosen where `F: Sync` is known and called where it is not).
pub(crate) type ThreadScope<'a, F> =
    for<'s, 'b> fn(&'s mut CheckpointStore<'a, F>, &'s mut Body<'b>) -> Result<Ended, RunError>;

/// How a runner commits in the background.
pub(crate) enum CommitterChoice<'a, F: Fs + ?Sized> {
    /// None chosen (right for [`crate::CommitMode::Synchronous`]).
    Unset,
    /// A committer thread.
    Thread(ThreadScope<'a, F>),
    /// The calling thread, at seeded points.
    Interleaved(CommitInterleaving),
}

impl<F: Fs + ?Sized> Clone for CommitterChoice<'_, F> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<F: Fs + ?Sized> Copy for CommitterChoice<'_, F> {}

/// [`ThreadScope`] for a `Sync` filesystem: a scoped thread named
/// `crashproof-committer` serves a [`Handoff`] while `body` runs here; the
/// hand-off is closed when `body` returns or unwinds (so a panicking job
/// never leaves the scope waiting for a committer that waits for work), and
/// the thread is joined (after finishing any commit it holds) before this
/// returns.
pub(crate) fn on_committer_thread<'a, F: Fs + Sync + ?Sized>(
    store: &mut CheckpointStore<'a, F>,
    body: &mut Body<'_>,
) -> Result<Ended, RunError> {
    let handoff = Handoff::new();
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("crashproof-committer".to_owned())
            .spawn_scoped(scope, || {
                handoff.serve(|request| commit_work(store, request));
            })
            .map_err(|source| RunError::CommitterThread { source })?;
        let _close = CloseOnDrop(&handoff);
        body(&mut ThreadCommitter::new(&handoff))
    })
}

/// Closes the hand-off when the runner's side ends, however it ends.
struct CloseOnDrop<'h, T, R>(&'h Handoff<T, R>);

impl<T, R> Drop for CloseOnDrop<'_, T, R> {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// The runner's side of [`super::background::drive`]: its job, state,
/// observer and yield watch, borrowed for the run.
pub(crate) struct Background<'r, J: Job, F: Fs + ?Sized, O: RunObserver> {
    pub(crate) fs: &'r F,
    pub(crate) job: &'r mut J,
    pub(crate) state: &'r mut J::State,
    pub(crate) observer: &'r mut O,
    pub(crate) config: &'r RunnerConfig,
    pub(crate) clock: &'r dyn Clock,
    pub(crate) watch: &'r mut YieldWatch,
    pub(crate) item_count: u64,
    /// The generation the next hand-off is written as.
    pub(crate) next_generation: u64,
    pub(crate) items_processed: &'r mut u64,
    /// When the last checkpoint was handed off (with a time-based policy).
    pub(crate) last_commit_at: Option<Duration>,
    /// With [`RunnerConfig::adaptive`]: K and the batch's clock readings.
    pub(crate) adaptive: Option<AdaptiveBatches<'r>>,
}

/// K chosen online in the background loop: the controller, and the clock
/// readings of the batch in progress. What a batch costs the runner's
/// thread is the time from the end of its last item to the start of the
/// next batch's first (the wait for the commit in flight, encoding, the
/// hand-off, the yield look): that is the `c` the controller sees.
pub(crate) struct AdaptiveBatches<'r> {
    controller: &'r mut Controller,
    /// When the batch in progress started (`None` before the first item).
    started_at: Option<Duration>,
    /// When the last batch's last item ended, and its items, until the
    /// next batch starts.
    ended: Option<(Duration, u64)>,
}

impl<'r> AdaptiveBatches<'r> {
    pub(crate) fn new(controller: &'r mut Controller) -> Self {
        Self {
            controller,
            started_at: None,
            ended: None,
        }
    }

    /// At the start of every item: a batch that ended is recorded when the
    /// next one starts.
    fn item_starting(&mut self, clock: &dyn Clock) {
        if self.started_at.is_some() && self.ended.is_none() {
            return;
        }
        let now = clock.now();
        if let (Some(started_at), Some((ended_at, items))) = (self.started_at, self.ended.take()) {
            self.controller.record(
                items,
                ended_at.saturating_sub(started_at),
                now.saturating_sub(ended_at),
            );
        }
        self.started_at = Some(now);
    }
}

impl<J: Job, F: Fs + ?Sized, O: RunObserver> Batches for Background<'_, J, F, O> {
    type Error = RunError;
    type Request = CommitRequest;
    type Done = CommitDone;

    fn item_count(&self) -> u64 {
        self.item_count
    }

    fn process(&mut self, index: u64) -> Result<(), RunError> {
        if let Some(adaptive) = self.adaptive.as_mut() {
            adaptive.item_starting(self.clock);
        }
        self.job
            .process(index, self.state)
            .map_err(|source| RunError::Job {
                index: Some(index),
                source,
            })?;
        self.observer.item_processed(index);
        *self.items_processed += 1;
        Ok(())
    }

    fn batch_ends(&mut self, start: u64, cursor: u64) -> bool {
        let checkpoint_every = match &self.adaptive {
            Some(adaptive) => adaptive.controller.checkpoint_every(),
            None => self.config.checkpoint_every,
        };
        debug_assert!(checkpoint_every >= 1, "K = 0 makes no progress");
        let ends = cursor >= batch_end(start, checkpoint_every, self.item_count)
            || match (self.config.checkpoint_interval, self.last_commit_at) {
                (Some(interval), Some(since)) => self.clock.now().saturating_sub(since) >= interval,
                _ => false,
            };
        if ends && let Some(adaptive) = self.adaptive.as_mut() {
            adaptive.ended = Some((self.clock.now(), cursor - start));
        }
        ends
    }

    fn request(&mut self, cursor: u64) -> Result<CommitRequest, RunError> {
        let state = self
            .config
            .codec
            .to_vec(&*self.state)
            .map_err(RunError::StateEncode)?;
        let request = CommitRequest {
            generation: self.next_generation,
            cursor,
            state,
        };
        self.next_generation = self.next_generation.saturating_add(1);
        self.observer.before_commit(&CheckpointInfo {
            generation: request.generation,
            cursor,
            state: &request.state,
        });
        if self.config.checkpoint_interval.is_some() {
            self.last_commit_at = Some(self.clock.now());
        }
        Ok(request)
    }

    fn acknowledge(&mut self, done: CommitDone) -> Result<Acked, RunError> {
        let CommitDone {
            request,
            written,
            collected,
        } = done;
        // Not durable: never acknowledged, and the run stops here.
        written?;
        self.observer.after_commit(&CheckpointInfo {
            generation: request.generation,
            cursor: request.cursor,
            state: &request.state,
        });
        collected?;
        Ok(Acked {
            generation: request.generation,
            cursor: request.cursor,
        })
    }

    fn yield_requested(&mut self) -> bool {
        self.watch.requested(self.fs, self.clock)
    }
}
