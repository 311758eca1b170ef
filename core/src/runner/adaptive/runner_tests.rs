//! The runner with K chosen online, on the real filesystem and a
//! [`ManualClock`]: items and commits advance the clock by set amounts, so
//! every K the runner picks is derived by hand.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::fs::StdFs;
use crate::runner::{
    AdaptiveK, CheckpointInfo, CommitInterleaving, CommitMode, ConfigError, Job, JobError,
    ManualClock, Outcome, RunError, RunObserver, Runner, RunnerConfig,
};

const MS: Duration = Duration::from_millis(1);

/// Items that each advance the clock by `item_cost`.
struct Timed {
    items: u64,
    clock: ManualClock,
    item_cost: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Count {
    n: u64,
}

impl Job for Timed {
    type State = Count;
    type Output = u64;
    fn name(&self) -> &str {
        "adaptive"
    }
    fn fingerprint(&self) -> u64 {
        self.items
    }
    fn item_count(&self) -> u64 {
        self.items
    }
    fn initial_state(&self) -> Count {
        Count { n: 0 }
    }
    fn process(&mut self, _: u64, state: &mut Count) -> Result<(), JobError> {
        self.clock.advance(self.item_cost);
        state.n += 1;
        Ok(())
    }
    fn finalize(&mut self, state: &Count) -> Result<u64, JobError> {
        Ok(state.n)
    }
}

/// Advances the clock by `commit_cost(generation)` inside every commit
/// (its write is done, its GC and yield look not yet: all inside the span
/// the runner times) and records each commit's cursor.
struct SlowDisk<F: Fn(u64) -> Duration> {
    clock: ManualClock,
    commit_cost: F,
    cursors: Rc<RefCell<Vec<u64>>>,
}

impl<F: Fn(u64) -> Duration> RunObserver for SlowDisk<F> {
    fn after_commit(&mut self, checkpoint: &CheckpointInfo<'_>) {
        self.clock
            .advance((self.commit_cost)(checkpoint.generation));
        self.cursors.borrow_mut().push(checkpoint.cursor);
    }
}

/// Runs `items` items of 1 ms under `config` with commits costing
/// `commit_cost(generation)`; returns the batch sizes and the outcome.
fn run(
    items: u64,
    config: RunnerConfig,
    commit_cost: impl Fn(u64) -> Duration,
) -> (Vec<u64>, Outcome<u64>) {
    run_timed(items, MS, config, commit_cost)
}

/// [`run`] with items of `item_cost`.
fn run_timed(
    items: u64,
    item_cost: Duration,
    config: RunnerConfig,
    commit_cost: impl Fn(u64) -> Duration,
) -> (Vec<u64>, Outcome<u64>) {
    let tmp = tempfile::tempdir().unwrap();
    let clock = ManualClock::new();
    let mut job = Timed {
        items,
        clock: clock.clone(),
        item_cost,
    };
    let cursors = Rc::new(RefCell::new(Vec::new()));
    let observer = SlowDisk {
        clock: clock.clone(),
        commit_cost,
        cursors: Rc::clone(&cursors),
    };
    let background = config.commit_mode == CommitMode::Background;
    let fs = StdFs::new();
    let mut runner = Runner::open(&fs, tmp.path(), &mut job, config)
        .unwrap()
        .with_clock(clock);
    if background {
        runner = runner.with_commit_interleaving(CommitInterleaving::seeded(3));
    }
    let outcome = runner.with_observer(observer).run().unwrap();
    let cursors = cursors.borrow();
    let batches = std::iter::once(0)
        .chain(cursors.iter().copied())
        .collect::<Vec<_>>()
        .windows(2)
        .map(|w| w[1] - w[0])
        .collect();
    (batches, outcome)
}

fn adaptive(max_overhead: f64, max_redo: u64) -> RunnerConfig {
    RunnerConfig::adaptive(AdaptiveK {
        max_overhead,
        max_redo,
    })
}

#[test]
fn the_first_batch_is_one_item_and_k_follows_the_rule() {
    // 1 ms items, 2 ms commits, 10 % budget: K = 2 / (1 · 0.1) = 20 from
    // the second batch on (equal measurements: the means are exact).
    let (batches, outcome) = run(200, adaptive(0.1, 1000), |_| 2 * MS);
    assert_eq!(batches[0], 1);
    assert!(
        batches[1..batches.len() - 1].iter().all(|&k| k == 20),
        "{batches:?}"
    );
    let Outcome::Completed {
        output,
        redone_at_most,
        ..
    } = outcome
    else {
        panic!("{outcome:?}")
    };
    assert_eq!(output, 200);
    // The bound the runner vouches for is max_redo (at most the items run).
    assert_eq!(redone_at_most, 200);
}

#[test]
fn k_grows_when_commits_get_slower_and_shrinks_when_they_get_faster() {
    // Generations 1..=10 cost 1 ms, 11..=30 cost 8 ms, then 1 ms again.
    let cost = |g: u64| if (11..=30).contains(&g) { 8 * MS } else { MS };
    let (batches, _) = run(3000, adaptive(0.1, 1000), cost);
    let fast = batches[5];
    let slow = batches[29];
    let fast_again = batches[batches.len() - 2];
    assert_eq!(fast, 10, "1 ms / (1 ms · 10 %): {batches:?}");
    assert_eq!(
        slow, 80,
        "8 ms / (1 ms · 10 %) once the mean settled: {batches:?}"
    );
    assert_eq!(fast_again, 10, "{batches:?}");
    // Between the phases K moves step by step, never jumping past them.
    assert!(
        batches.iter().all(|&k| (1..=80).contains(&k)),
        "{batches:?}"
    );
}

#[test]
fn k_never_exceeds_max_redo_however_slow_the_commits() {
    let (batches, outcome) = run(2000, adaptive(0.01, 37), |g| g as u32 * 10 * MS);
    assert!(
        batches.iter().all(|&k| (1..=37).contains(&k)),
        "{batches:?}"
    );
    assert!(
        batches[1..batches.len() - 1]
            .iter()
            .filter(|&&k| k == 37)
            .count()
            > 40
    );
    let Outcome::Completed { redone_at_most, .. } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(redone_at_most, 37);
}

#[test]
fn background_commits_keep_k_within_half_of_max_redo() {
    let config = RunnerConfig {
        commit_mode: CommitMode::Background,
        ..adaptive(0.01, 37)
    };
    assert_eq!(config.checkpoint_every_max(), 18);
    assert_eq!(config.redo_items_max(), 36);
    let (batches, outcome) = run(2000, config, |g| g as u32 * 10 * MS);
    assert!(
        batches.iter().all(|&k| (1..=18).contains(&k)),
        "{batches:?}"
    );
    assert!(
        batches.iter().filter(|&&k| k == 18).count() > 40,
        "{batches:?}"
    );
    let Outcome::Completed {
        output,
        redone_at_most,
        ..
    } = outcome
    else {
        panic!("{outcome:?}")
    };
    assert_eq!((output, redone_at_most), (2000, 36));
}

#[test]
fn a_clock_that_never_moves_commits_at_the_cap_and_free_commits_every_item() {
    // The first batch measures no work (no time passed): K = cap.
    let (batches, _) = run_timed(100, Duration::ZERO, adaptive(0.01, 30), |_| MS);
    assert_eq!(batches, [1, 30, 30, 30, 9]);
    let (batches, _) = run_timed(100, Duration::ZERO, adaptive(0.01, 30), |_| Duration::ZERO);
    assert_eq!(batches, [1, 30, 30, 30, 9]);
    // Work but free commits: any K meets the budget, the smallest is 1.
    let (batches, _) = run(5, adaptive(0.01, 30), |_| Duration::ZERO);
    assert_eq!(batches, [1, 1, 1, 1, 1]);
}

#[test]
fn adaptive_budgets_and_bounds_out_of_range_are_refused() {
    for bad in [0.0, 1.0, -0.5, f64::NAN, f64::INFINITY] {
        assert_eq!(
            adaptive(bad, 10).validate("job"),
            Err(ConfigError::AdaptiveMaxOverhead),
            "{bad}"
        );
    }
    assert_eq!(
        adaptive(0.01, 0).validate("job"),
        Err(ConfigError::AdaptiveMaxRedo {
            max_redo: 0,
            least: 1
        })
    );
    let background = RunnerConfig {
        commit_mode: CommitMode::Background,
        ..adaptive(0.01, 1)
    };
    assert_eq!(
        background.validate("job"),
        Err(ConfigError::AdaptiveMaxRedo {
            max_redo: 1,
            least: 2
        })
    );
    assert_eq!(adaptive(0.01, 1).validate("job"), Ok(()));
    // checkpoint_every caps K too.
    let capped = RunnerConfig {
        checkpoint_every: 5,
        ..adaptive(0.01, 100)
    };
    assert_eq!(capped.checkpoint_every_max(), 5);
    let tmp = tempfile::tempdir().unwrap();
    let mut job = Timed {
        items: 3,
        clock: ManualClock::new(),
        item_cost: MS,
    };
    assert!(matches!(
        Runner::open(&StdFs::new(), tmp.path(), &mut job, adaptive(2.0, 10)),
        Err(RunError::Config(ConfigError::AdaptiveMaxOverhead))
    ));
}
