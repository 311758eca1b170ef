//! A core [`Job`] whose items spin, for the runner benches.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use crashproof_core::{CheckpointInfo, Job, JobError, RunObserver};
use serde::{Deserialize, Serialize};

use crate::spin::Spin;

/// What [`SpinJob`] checkpoints: a running hash of the spins and the items
/// folded into it (a few dozen bytes of JSON).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpinState {
    /// Running hash of every item's spin result.
    pub acc: u64,
    /// Items folded into `acc`.
    pub count: u64,
}

/// The message of the error [`SpinJob`] returns at its kill item.
pub const KILLED_MESSAGE: &str = "simulated kill";

/// Items `0..items`, each a [`Spin`]; optionally "killed" at one item: its
/// `process` fails there, so the run stops without committing, exactly as
/// if the process had died while working on that item. It records the
/// items it processed, so a bench measures what was redone instead of
/// assuming it.
#[derive(Debug, Clone)]
pub struct SpinJob {
    items: u64,
    spin: Option<Spin>,
    kill_at: Option<u64>,
    /// The first item this job processed (`None`: none yet).
    first_processed: Option<u64>,
    /// Items this job processed, in order from `first_processed` (the
    /// runner processes items in order, one at a time).
    processed: u64,
    clock: Option<CommitClock>,
}

impl SpinJob {
    /// `items` items spinning `spin` each (`None`: free items).
    pub fn new(items: u64, spin: Option<Spin>) -> Self {
        Self {
            items,
            spin,
            kill_at: None,
            first_processed: None,
            processed: 0,
            clock: None,
        }
    }

    /// The same job, ending the commit `clock` measures when the next item
    /// starts (see [`CommitClock`]).
    pub fn with_commit_clock(mut self, clock: CommitClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// The same job, dying when it reaches item `index` (before processing it).
    pub fn killed_at(mut self, index: u64) -> Self {
        self.kill_at = Some(index);
        self
    }

    /// The items this job processed, as a half-open range (empty if none).
    pub fn processed_range(&self) -> std::ops::Range<u64> {
        match self.first_processed {
            Some(first) => first..first + self.processed,
            None => 0..0,
        }
    }

    /// Processes `0..items` without a runner: the no-checkpoint baseline.
    pub fn run_without_runner(&mut self) -> Result<SpinState, JobError> {
        let mut state = self.initial_state();
        for i in 0..self.items {
            self.process(i, &mut state)?;
        }
        Ok(state)
    }
}

impl Job for SpinJob {
    type State = SpinState;
    type Output = SpinState;

    fn name(&self) -> &str {
        "spin"
    }

    fn fingerprint(&self) -> u64 {
        // The state schema is fixed; item counts differ per bench directory.
        0x5350_494e
    }

    fn item_count(&self) -> u64 {
        self.items
    }

    fn initial_state(&self) -> SpinState {
        SpinState::default()
    }

    fn process(&mut self, index: u64, state: &mut SpinState) -> Result<(), JobError> {
        if let Some(clock) = &self.clock {
            clock.item_starting();
        }
        if self.kill_at == Some(index) {
            return Err(JobError::new(KILLED_MESSAGE));
        }
        let spun = self.spin.map_or(index, |s| s.run(index));
        state.acc = state.acc.rotate_left(5) ^ spun;
        state.count += 1;
        self.first_processed.get_or_insert(index);
        self.processed += 1;
        Ok(())
    }

    fn finalize(&mut self, state: &SpinState) -> Result<SpinState, JobError> {
        Ok(*state)
    }
}

/// What a [`CommitClock`] measured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommitTimes {
    /// Total time in durable writes: [`RunObserver::before_commit`] to
    /// [`RunObserver::after_commit`] (temp file, fsync, rename, directory
    /// fsync).
    pub writing: Duration,
    /// Total time in whole commits: `before_commit` to the start of the
    /// next item (or [`CommitClock::finish`]), so the GC after the write
    /// and the yield check are in; state encoding (before `before_commit`)
    /// is not.
    pub committing: Duration,
    /// Commits seen.
    pub commits: u64,
}

#[derive(Debug, Default)]
struct ClockState {
    times: CommitTimes,
    write_started: Option<Instant>,
    commit_started: Option<Instant>,
}

/// Times commits from inside the run: it is the run's observer, and a clone
/// held by the [`SpinJob`] marks the start of each item, which ends the
/// commit before it. Measured within one run, the commit share does not
/// depend on a baseline measured at another moment (on a shared machine the
/// CPU an item gets varies from minute to minute).
#[derive(Debug, Clone, Default)]
pub struct CommitClock {
    state: Rc<RefCell<ClockState>>,
}

impl CommitClock {
    /// A clock that has seen nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Called by the job at the start of every item.
    fn item_starting(&self) {
        let mut s = self.state.borrow_mut();
        if let Some(started) = s.commit_started.take() {
            s.times.committing += started.elapsed();
        }
    }

    /// Ends the last commit (call right after `Runner::run` returns) and
    /// returns the totals.
    pub fn finish(&self) -> CommitTimes {
        self.item_starting();
        self.state.borrow().times
    }
}

impl RunObserver for CommitClock {
    fn before_commit(&mut self, _: &CheckpointInfo<'_>) {
        let now = Instant::now();
        let mut s = self.state.borrow_mut();
        s.write_started = Some(now);
        s.commit_started = Some(now);
    }

    fn after_commit(&mut self, _: &CheckpointInfo<'_>) {
        let mut s = self.state.borrow_mut();
        if let Some(started) = s.write_started.take() {
            s.times.writing += started.elapsed();
            s.times.commits += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_killed_job_stops_at_its_item_and_records_what_it_processed() {
        let mut job = SpinJob::new(10, None).killed_at(4);
        let mut state = job.initial_state();
        let mut stopped_at = None;
        for i in 0..10 {
            if let Err(e) = job.process(i, &mut state) {
                assert_eq!(e.message(), KILLED_MESSAGE);
                stopped_at = Some(i);
                break;
            }
        }
        assert_eq!(stopped_at, Some(4));
        assert_eq!(job.processed_range(), 0..4);
        assert_eq!(state.count, 4);
        assert_eq!(SpinJob::new(3, None).processed_range(), 0..0);
        let mut clean = SpinJob::new(3, None);
        assert_eq!(clean.run_without_runner().map(|s| s.count).ok(), Some(3));
        assert_eq!(clean.processed_range(), 0..3);
    }

    #[test]
    fn the_commit_clock_spans_write_then_whole_commit() {
        let mut clock = CommitClock::new();
        let mut job = SpinJob::new(2, None).with_commit_clock(clock.clone());
        let mut state = job.initial_state();
        let info = CheckpointInfo {
            generation: 1,
            cursor: 1,
            state: b"{}",
        };
        job.process(0, &mut state).unwrap();
        assert_eq!(clock.state.borrow().times, CommitTimes::default());
        clock.before_commit(&info);
        clock.after_commit(&info);
        let written = clock.state.borrow().times;
        assert_eq!(written.commits, 1);
        assert_eq!(
            written.committing,
            Duration::ZERO,
            "open until the next item"
        );
        job.process(1, &mut state).unwrap();
        let times = clock.finish();
        assert!(times.committing >= times.writing);
        assert_eq!(clock.finish(), times, "finishing twice adds nothing");
    }
}
