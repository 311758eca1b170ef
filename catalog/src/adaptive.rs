//! K chosen online under the explorer: `core-runner-adaptive` (and
//! `core-runner-adaptive-background`) run the core's `Runner` with
//! [`RunnerConfig::adaptive`] on the core-runner's hash job, on a simulated
//! disk whose commits get slower and faster as the run goes, so the K the
//! runner picks changes during every run. The promise the explorer checks
//! is the adaptive redo bound: a crash anywhere, under any crash model,
//! makes the next run redo at most `max_redo` items.
//!
//! Time is simulated (a [`ManualClock`], never the wall clock): each item
//! advances it by [`ITEM_COST`], and each commit, between its durable write
//! and its GC (inside the span the runner times), by
//! [`commit_cost`]`(generation)`. The cost is a function of the generation
//! being written, which recovery derives from the disk, so a resumed run is
//! a function of its disk, as the explorer's dedup requires. The runner's
//! running means live in memory only, so these workloads do not declare
//! convergence: every resumed run goes to the end.
//!
//! `adaptive-ignores-max-redo` is the planted variant: the same runner and
//! disk with its K uncapped (configured as if `max_redo` were unbounded, as
//! a runner that ignores it behaves), while the workload still promises
//! `max_redo`. When the slow commits push K past the bound, a crash late in
//! such a batch redoes more than `max_redo` items and the result oracle's
//! redo bound catches it, under every crash model.

use std::time::Duration;

use crashproof_core::fs::Fs;
use crashproof_core::{
    AdaptiveK, CheckpointInfo, CommitInterleaving, CommitMode, ManualClock, Outcome, RunObserver,
    Runner, RunnerConfig,
};

use crashproof_sim::explore::{
    Checks, Completion, JobWorkload, Progress, ProgressObserver, Recovered, Workload, WorkloadError,
};

use crate::core_runner::HashJob;

/// N: items in the job.
pub const ITEMS: u64 = 160;
/// N with background commits: its K stays smaller (at most `MAX_REDO / 2`,
/// and the simulated commits that run between items count as work), so it
/// commits more often; fewer items keep its exploration as quick.
pub const ITEMS_BACKGROUND: u64 = 80;
/// The redo bound the runner is given and the explorer checks.
pub const MAX_REDO: u64 = 16;
/// The overhead budget: commit time at most a quarter of the work time.
pub const MAX_OVERHEAD: f64 = 0.25;
/// Simulated time per item.
pub const ITEM_COST: Duration = Duration::from_millis(1);

/// The simulated cost of writing generation `generation`: 1 ms for the
/// first four (K = 1 ms / (1 ms · 25 %) = 4), 20 ms for the next three (K
/// climbs to the cap: 20 ms / (1 ms · 25 %) = 80 > `MAX_REDO`), then
/// 0.5 ms (K falls back toward 2 as the mean forgets the slow commits).
pub fn commit_cost(generation: u64) -> Duration {
    match generation {
        0..=4 => Duration::from_millis(1),
        5..=7 => Duration::from_millis(20),
        _ => Duration::from_micros(500),
    }
}

/// The core's runner with K chosen online on a disk of changing speed; see
/// the module documentation.
#[derive(Debug, Clone)]
pub struct AdaptiveRunner {
    name: &'static str,
    items: u64,
    /// What the runner is configured with (uncapped in the planted variant).
    runner_config: RunnerConfig,
    /// The same job under the promised configuration: recovery, leftovers
    /// and the checks come from it.
    reference: JobWorkload<HashJob>,
    interleaving: CommitInterleaving,
}

impl AdaptiveRunner {
    /// `core-runner-adaptive`: synchronous commits, redo bound `MAX_REDO`.
    pub fn synchronous() -> Self {
        Self::new("core-runner-adaptive", CommitMode::Synchronous, false)
    }

    /// `core-runner-adaptive-background`: background commits interleaved by
    /// seed 0; K stays at most `MAX_REDO / 2`, so the redo bound is still
    /// `MAX_REDO`.
    pub fn background() -> Self {
        Self::new(
            "core-runner-adaptive-background",
            CommitMode::Background,
            false,
        )
    }

    /// `adaptive-ignores-max-redo`: the planted variant (synchronous).
    pub fn ignoring_max_redo() -> Self {
        Self::new("adaptive-ignores-max-redo", CommitMode::Synchronous, true)
    }

    fn new(name: &'static str, commit_mode: CommitMode, uncapped: bool) -> Self {
        let promised = RunnerConfig {
            commit_mode,
            ..RunnerConfig::adaptive(AdaptiveK {
                max_overhead: MAX_OVERHEAD,
                max_redo: MAX_REDO,
            })
        };
        let runner_config = if uncapped {
            RunnerConfig {
                commit_mode,
                ..RunnerConfig::adaptive(AdaptiveK {
                    max_overhead: MAX_OVERHEAD,
                    max_redo: u64::MAX,
                })
            }
        } else {
            promised.clone()
        };
        let items = match commit_mode {
            CommitMode::Synchronous => ITEMS,
            CommitMode::Background => ITEMS_BACKGROUND,
        };
        let reference =
            JobWorkload::with_output(move || HashJob { items }, promised, String::clone);
        Self {
            name,
            items,
            runner_config,
            reference,
            interleaving: CommitInterleaving::default(),
        }
    }

    /// The configuration the runner runs with.
    pub fn runner_config(&self) -> &RunnerConfig {
        &self.runner_config
    }

    /// Runs the job once from what `fs` holds, reporting to `progress`, and
    /// returns the completion with the cursors of the commits this run
    /// acknowledged (the batch sizes follow from them).
    pub fn run_recording(
        &self,
        fs: &dyn Fs,
        progress: &mut Progress,
    ) -> Result<(Completion, Vec<u64>), WorkloadError> {
        let mut job = HashJob { items: self.items };
        let clock = ManualClock::new();
        let mut runner = Runner::open(
            fs,
            self.reference.job_dir().to_path_buf(),
            &mut job,
            self.runner_config.clone(),
        )
        .map_err(WorkloadError::core)?
        .with_clock(clock.clone());
        if self.runner_config.commit_mode == CommitMode::Background {
            runner = runner.with_commit_interleaving(self.interleaving);
        }
        progress.resumed(runner.resume_point().map(|r| r.cursor));
        let mut observer = SimulatedDisk {
            progress: ProgressObserver::new(progress).advancing(clock.clone(), ITEM_COST),
            clock,
            cursors: Vec::new(),
        };
        let outcome = runner
            .with_observer(&mut observer)
            .run()
            .map_err(WorkloadError::core)?;
        let cursors = std::mem::take(&mut observer.cursors);
        match outcome {
            Outcome::Completed {
                output,
                resumed_from,
                ..
            } => Ok((
                Completion {
                    output,
                    resumed_from: resumed_from.map(|r| r.cursor),
                },
                cursors,
            )),
            Outcome::Yielded { cursor, .. } => Err(WorkloadError::Invariant(format!(
                "yielded at cursor {cursor} although nobody asked it to"
            ))),
        }
    }
}

/// Reports to the explorer and plays the disk: each commit advances the
/// runner's clock by [`commit_cost`] of its generation once durable.
struct SimulatedDisk<'p> {
    progress: ProgressObserver<'p>,
    clock: ManualClock,
    cursors: Vec<u64>,
}

impl RunObserver for SimulatedDisk<'_> {
    fn item_processed(&mut self, index: u64) {
        self.progress.item_processed(index);
    }

    fn before_commit(&mut self, checkpoint: &CheckpointInfo<'_>) {
        self.progress.before_commit(checkpoint);
    }

    fn after_commit(&mut self, checkpoint: &CheckpointInfo<'_>) {
        self.progress.after_commit(checkpoint);
        self.clock.advance(commit_cost(checkpoint.generation));
        self.cursors.push(checkpoint.cursor);
    }
}

impl Workload for AdaptiveRunner {
    fn name(&self) -> String {
        self.name.to_owned()
    }

    fn run(&self, fs: &dyn Fs, progress: &mut Progress) -> Result<Completion, WorkloadError> {
        self.run_recording(fs, progress)
            .map(|(completion, _)| completion)
    }

    fn inspect(&self, fs: &dyn Fs) -> Result<Recovered, WorkloadError> {
        self.reference.inspect(fs)
    }

    /// `MAX_REDO`: the bound the adaptive configuration promises (in both
    /// commit modes; also for the planted variant, which breaks it).
    fn redo_bound(&self) -> u64 {
        MAX_REDO
    }

    fn leftovers(&self, fs: &dyn Fs) -> Result<Vec<String>, WorkloadError> {
        self.reference.leftovers(fs)
    }

    fn checks(&self) -> Checks {
        self.reference.checks()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use crashproof_sim::SimFs;

    use super::*;

    /// Batch sizes of one clean run.
    fn batches(workload: &AdaptiveRunner) -> Vec<u64> {
        let fs = SimFs::default();
        let mut progress = Progress::new();
        let (completion, cursors) = workload.run_recording(&fs, &mut progress).unwrap();
        assert_eq!(completion.resumed_from, None);
        std::iter::once(0)
            .chain(cursors)
            .collect::<Vec<_>>()
            .windows(2)
            .map(|w| w[1] - w[0])
            .collect()
    }

    /// K changes during a clean run: it starts at 1, reaches the cap while
    /// commits are slow and comes down after; never above the cap.
    #[test]
    fn k_changes_during_the_run_and_stays_under_the_cap() {
        let sync = batches(&AdaptiveRunner::synchronous());
        assert_eq!(sync[0], 1);
        assert_eq!(sync[1], 4, "1 ms / (1 ms · 25 %): {sync:?}");
        assert!(sync.contains(&MAX_REDO), "{sync:?}");
        assert!(
            sync.iter().all(|&k| (1..=MAX_REDO).contains(&k)),
            "{sync:?}"
        );
        let after_slow = sync.iter().rposition(|&k| k == MAX_REDO).unwrap();
        assert!(
            sync[after_slow + 1..sync.len() - 1]
                .iter()
                .any(|&k| k < MAX_REDO),
            "{sync:?}"
        );

        let background = batches(&AdaptiveRunner::background());
        let half = MAX_REDO / 2;
        assert!(background.contains(&half), "{background:?}");
        assert!(
            background.iter().all(|&k| (1..=half).contains(&k)),
            "{background:?}"
        );

        let planted = batches(&AdaptiveRunner::ignoring_max_redo());
        assert!(planted.iter().any(|&k| k > MAX_REDO), "{planted:?}");
    }
}
