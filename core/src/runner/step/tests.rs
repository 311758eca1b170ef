//! [`Runner::step`] on the real filesystem: each `Committed` is on disk when
//! it returns and the lock stays held between steps; the end is what `run`
//! returns; a yield, a drop, a time-based batch and background mode.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::fs::StdFs;
use crate::runner::{
    CommitInterleaving, CommitMode, ConfigError, Job, JobError, ManualClock, Outcome, ResumePoint,
    RunError, Runner, RunnerConfig, Step,
};
use crate::store::{CheckpointStore, JobIdentity};

const NAME: &str = "step-hash";

/// A running hash (any lost or repeated item changes the output); each item
/// advances `clock` by one second.
struct Hash {
    items: u64,
    clock: ManualClock,
}

impl Hash {
    fn new(items: u64) -> Self {
        Self {
            items,
            clock: ManualClock::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct HashState {
    acc: u64,
}

impl Job for Hash {
    type State = HashState;
    type Output = u64;
    fn name(&self) -> &str {
        NAME
    }
    fn fingerprint(&self) -> u64 {
        self.items
    }
    fn item_count(&self) -> u64 {
        self.items
    }
    fn initial_state(&self) -> HashState {
        HashState { acc: 17 }
    }
    fn process(&mut self, index: u64, state: &mut HashState) -> Result<(), JobError> {
        self.clock.advance(Duration::from_secs(1));
        state.acc = state.acc.rotate_left(7) ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        Ok(())
    }
    fn finalize(&mut self, state: &HashState) -> Result<u64, JobError> {
        Ok(state.acc)
    }
}

fn clean_output(items: u64) -> u64 {
    let tmp = tempfile::tempdir().unwrap();
    let mut job = Hash::new(items);
    let fs = StdFs::new();
    let runner = Runner::open(&fs, tmp.path(), &mut job, RunnerConfig::every(3)).unwrap();
    match runner.run().unwrap() {
        Outcome::Completed { output, .. } => output,
        other => panic!("{other:?}"),
    }
}

fn assert_locked(dir: &Path, items: u64) {
    let mut other = Hash::new(items);
    match Runner::open(&StdFs::new(), dir, &mut other, RunnerConfig::every(3)) {
        Err(RunError::Locked { .. }) => {}
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("the job lock is free between steps"),
    }
}

fn assert_unlocked(dir: &Path, items: u64) {
    let mut other = Hash::new(items);
    Runner::open(&StdFs::new(), dir, &mut other, RunnerConfig::every(3)).unwrap();
}

#[test]
fn each_committed_step_is_on_disk_under_the_lock_and_the_end_is_runs_outcome() {
    let tmp = tempfile::tempdir().unwrap();
    let fs = StdFs::new();
    let mut job = Hash::new(10);
    let mut runner = Runner::open(&fs, tmp.path(), &mut job, RunnerConfig::every(3)).unwrap();
    let identity = JobIdentity {
        name: NAME.to_owned(),
        fingerprint: 10,
    };
    let mut committed = Vec::new();
    let outcome = loop {
        match runner.step().unwrap() {
            Step::Committed { cursor, generation } => {
                let latest = CheckpointStore::peek_latest(&fs, tmp.path(), &identity)
                    .unwrap()
                    .expect("a checkpoint is on disk when step returns Committed");
                assert_eq!((latest.generation, latest.cursor), (generation, cursor));
                assert_locked(tmp.path(), 10);
                committed.push(cursor);
            }
            Step::Finished(outcome) => break outcome,
            Step::Yielded(outcome) => panic!("{outcome:?}"),
        }
    };
    assert_eq!(committed, [3, 6, 9, 10]);
    let Outcome::Completed {
        output,
        items_processed,
        ..
    } = outcome
    else {
        panic!("{outcome:?}")
    };
    assert_eq!(output, clean_output(10));
    assert_eq!(items_processed, 10);
    assert!(matches!(runner.step(), Err(RunError::Ended)));
    drop(runner);
    assert_unlocked(tmp.path(), 10);
}

#[test]
fn a_dropped_stepper_resumes_from_its_last_committed_step() {
    let tmp = tempfile::tempdir().unwrap();
    let fs = StdFs::new();
    let mut job = Hash::new(10);
    let mut runner = Runner::open(&fs, tmp.path(), &mut job, RunnerConfig::every(3)).unwrap();
    runner.step().unwrap();
    let Step::Committed { cursor, generation } = runner.step().unwrap() else {
        panic!("a second batch")
    };
    drop(runner);
    let mut job = Hash::new(10);
    let runner = Runner::open(&fs, tmp.path(), &mut job, RunnerConfig::every(3)).unwrap();
    assert_eq!(
        runner.resume_point(),
        Some(ResumePoint { generation, cursor })
    );
    assert_eq!(cursor, 6);
    let Outcome::Completed {
        output,
        items_processed,
        ..
    } = runner.run().unwrap()
    else {
        panic!("completes")
    };
    assert_eq!((output, items_processed), (clean_output(10), 4));
}

#[test]
fn a_sentinel_made_between_steps_yields_at_the_next_commit() {
    let tmp = tempfile::tempdir().unwrap();
    let fs = StdFs::new();
    let mut job = Hash::new(10);
    let mut runner = Runner::open(&fs, tmp.path(), &mut job, RunnerConfig::every(3)).unwrap();
    assert!(matches!(
        runner.step().unwrap(),
        Step::Committed { cursor: 3, .. }
    ));
    std::fs::write(tmp.path().join(format!("{NAME}.yield")), b"").unwrap();
    match runner.step().unwrap() {
        Step::Yielded(Outcome::Yielded { cursor, .. }) => assert_eq!(cursor, 6),
        other => panic!("{other:?}"),
    }
    assert!(matches!(runner.step(), Err(RunError::Ended)));
    // The lock is released at the yield, not at the drop.
    assert_unlocked(tmp.path(), 10);
}

#[test]
fn a_checkpoint_interval_ends_a_step_early() {
    let tmp = tempfile::tempdir().unwrap();
    let mut job = Hash::new(12);
    let clock = job.clock.clone();
    let config = RunnerConfig {
        checkpoint_interval: Some(Duration::from_secs(5)),
        ..RunnerConfig::every(100)
    };
    let fs = StdFs::new();
    let mut runner = Runner::open(&fs, tmp.path(), &mut job, config)
        .unwrap()
        .with_clock(clock);
    let mut committed = Vec::new();
    while let Step::Committed { cursor, .. } = runner.step().unwrap() {
        committed.push(cursor);
    }
    assert_eq!(committed, [5, 10, 12], "one second per item, T = 5 s");
}

#[test]
fn step_refuses_background_commits_and_releases_the_lock() {
    let tmp = tempfile::tempdir().unwrap();
    let mut job = Hash::new(10);
    let config = RunnerConfig {
        commit_mode: CommitMode::Background,
        ..RunnerConfig::every(3)
    };
    let fs = StdFs::new();
    let mut runner = Runner::open(&fs, tmp.path(), &mut job, config)
        .unwrap()
        .with_commit_interleaving(CommitInterleaving::seeded(1));
    assert!(matches!(
        runner.step(),
        Err(RunError::Config(ConfigError::StepNeedsSynchronous))
    ));
    assert_unlocked(tmp.path(), 10);
}
