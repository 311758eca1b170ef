//! Measuring the commit cost on the target disk with the core's `Runner`
//! itself, in the regime of a real job, and the item cost from the user's
//! own command.
//!
//! A round is two segments, one after the other:
//!
//! 1. **no commits**: the probe's items alone, timed (what an item costs
//!    on this CPU right now);
//! 2. **commits**: the core's `Runner` on `StdFs` with the default
//!    configuration (keep 2, yield sentinel) and K chosen so a batch is
//!    about `--spacing` of the same items, in a fresh job directory. Each
//!    commit is timed from the end of a batch's last item to the start of
//!    the next batch's first: exactly what a steady-state runner commit
//!    costs the job (encoding, the durable write with its two fsyncs, the
//!    GC unlink, the yield sentinel look, the runner's own bookkeeping).
//!    The first `keep` commits of a round have nothing to collect and are
//!    not timed.
//!
//! Rounds follow each other, so a disk that changes regime while tune-k
//! runs shows up as rounds that disagree (the spread), not as one average
//! that fits no regime. Work between commits matters: commits back to back
//! meet a journal still finishing the previous one, which a job never does.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crashproof_core::fs::StdFs;
use crashproof_core::{CheckpointInfo, Job, JobError, Outcome, RunObserver, Runner, RunnerConfig};
use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};

use super::TuneError;
use super::spin::Spin;

/// How the commit cost is sampled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MeasurePlan {
    /// Rounds (each: a no-commit segment, then a fresh runner).
    pub rounds: u64,
    /// Steady-state commits timed per round.
    pub commits_per_round: u64,
    /// Bytes of state the job checkpoints (before encoding).
    pub state_size_bytes: u64,
    /// What one item of the job costs (the probe spins this long per item,
    /// or `spacing` if that is shorter).
    pub item_cost: Duration,
    /// About how much work separates two commits.
    pub spacing: Duration,
}

/// Batches the no-commit segment spins, in probe batches.
const NO_COMMIT_BATCHES: u64 = 2;

impl MeasurePlan {
    /// The spin of one probe item: the item cost, but never more than the
    /// spacing (an hour-long item need not be spun for an hour to put
    /// `spacing` of work between commits).
    pub fn probe_item(&self) -> Duration {
        self.item_cost.min(self.spacing)
    }

    /// K of the probe runner: the items that make up `spacing`, at least 1.
    pub fn probe_checkpoint_every(&self) -> u64 {
        let item = self.probe_item().as_nanos().max(1);
        let k = self.spacing.as_nanos().div_ceil(item).max(1);
        u64::try_from(k).unwrap_or(u64::MAX)
    }

    /// Batches per round: the `keep` untimed ones, the timed ones, and the
    /// last, whose commit is the final one (no next batch ends its span).
    pub fn batches_per_round(&self) -> u64 {
        warm_up_commits() + self.commits_per_round + 1
    }
}

fn warm_up_commits() -> u64 {
    RunnerConfig::default().keep as u64
}

/// One round's measurements.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Round {
    /// Every timed commit of the round, in seconds, in order.
    pub commits_seconds: Vec<f64>,
    /// The probe item's cost in the round's no-commit segment.
    pub item_seconds: f64,
}

impl Round {
    /// The round's mean commit: what its commits cost the job in total,
    /// per commit.
    pub fn mean_commit_seconds(&self) -> f64 {
        mean(&self.commits_seconds)
    }
}

/// What the measurement found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CommitCost {
    /// Every round, in the order it ran.
    pub rounds: Vec<Round>,
    /// Bytes of encoded state each commit wrote (the checkpoint payload).
    pub state_bytes_encoded: u64,
    /// K of the probe runner.
    pub probe_checkpoint_every: u64,
    /// The spin of one probe item.
    pub probe_item_seconds: f64,
}

impl CommitCost {
    /// Every timed commit, sorted.
    pub fn samples_sorted(&self) -> Vec<f64> {
        let mut all: Vec<f64> = self
            .rounds
            .iter()
            .flat_map(|r| r.commits_seconds.iter().copied())
            .collect();
        all.sort_by(f64::total_cmp);
        all
    }

    /// The mean of every timed commit.
    pub fn mean_seconds(&self) -> f64 {
        mean(&self.samples_sorted())
    }

    /// The rounds' mean commits, sorted.
    pub fn round_means_sorted(&self) -> Vec<f64> {
        let mut means: Vec<f64> = self.rounds.iter().map(Round::mean_commit_seconds).collect();
        means.sort_by(f64::total_cmp);
        means
    }

    /// The `q` quantile of the rounds' mean commits.
    pub fn round_quantile_seconds(&self, q: f64) -> f64 {
        quantile(&self.round_means_sorted(), q)
    }

    /// The median of the probe item's cost over the rounds' no-commit
    /// segments.
    pub fn item_median_seconds(&self) -> f64 {
        let mut items: Vec<f64> = self.rounds.iter().map(|r| r.item_seconds).collect();
        items.sort_by(f64::total_cmp);
        quantile(&items, 0.5)
    }
}

fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.iter().sum::<f64>() / values.len() as f64
}

/// The `q` quantile of sorted, non-empty `sorted`, by linear interpolation
/// (NaN when empty).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    let Some(&last) = sorted.last() else {
        return f64::NAN;
    };
    let position = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let below = position.floor() as usize;
    let Some(&low) = sorted.get(below) else {
        return last;
    };
    let high = sorted.get(below + 1).copied().unwrap_or(last);
    low + (high - low) * (position - below as f64)
}

/// The state the probe checkpoints: `state_size_bytes` bytes of filler
/// (JSON adds a few bytes) and a counter, so every commit differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct FillerState {
    filler: String,
    count: u64,
}

/// Why the probe job stopped early.
const INTERRUPTED: &str = "tune-k was interrupted";

/// Items that spin; every `checkpoint_every`-th item boundary is a batch
/// boundary, whose two sides it stamps: the end of a batch's last item and
/// the start of the next batch's first. Checks the cancellation flag at
/// every batch start.
struct ProbeJob<'c> {
    items: u64,
    checkpoint_every: u64,
    spin: Spin,
    state_size_bytes: usize,
    /// When the last batch's last item ended.
    batch_ended_at: Option<Instant>,
    /// Commit spans, in order (the first `keep` included).
    spans: Vec<Duration>,
    cancel: &'c AtomicBool,
    progress: &'c ProgressBar,
}

impl Job for ProbeJob<'_> {
    type State = FillerState;
    type Output = u64;

    fn name(&self) -> &str {
        "tune-k"
    }

    fn fingerprint(&self) -> u64 {
        crashproof_core::stable_digest(b"crashproof tune-k probe job v2")
    }

    fn item_count(&self) -> u64 {
        self.items
    }

    fn initial_state(&self) -> FillerState {
        FillerState {
            filler: "x".repeat(self.state_size_bytes),
            count: 0,
        }
    }

    fn process(&mut self, index: u64, state: &mut FillerState) -> Result<(), JobError> {
        if index % self.checkpoint_every == 0 {
            if let Some(ended) = self.batch_ended_at.take() {
                self.spans.push(ended.elapsed());
                self.progress.inc(1);
            }
            if self.cancel.load(Ordering::Relaxed) {
                return Err(JobError::new(INTERRUPTED));
            }
        }
        state.count = state.count.wrapping_add(self.spin.run(index) | 1);
        if (index + 1) % self.checkpoint_every == 0 {
            self.batch_ended_at = Some(Instant::now());
        }
        Ok(())
    }

    fn finalize(&mut self, state: &FillerState) -> Result<u64, JobError> {
        Ok(state.count)
    }
}

/// Records the encoded state size.
#[derive(Default)]
struct StateSize(u64);

impl RunObserver for StateSize {
    fn before_commit(&mut self, checkpoint: &CheckpointInfo<'_>) {
        self.0 = checkpoint.state.len() as u64;
    }
}

/// Runs `plan.rounds` rounds under `scratch` (a fresh directory the caller
/// removes) and returns every steady-state commit's time, per round.
/// Checks `cancel` between items' batches and between segments: once it is
/// set, returns [`TuneError::Interrupted`] (the caller removes the scratch
/// directory as on any error). Fails unless every round timed a commit.
pub fn commit_cost(
    scratch: &Path,
    plan: MeasurePlan,
    progress: &ProgressBar,
    cancel: &AtomicBool,
) -> Result<CommitCost, TuneError> {
    let fs = StdFs::new();
    let state_size_bytes = usize::try_from(plan.state_size_bytes)
        .map_err(|_| TuneError::StateTooLarge(plan.state_size_bytes))?;
    let spin = Spin::calibrate(plan.probe_item());
    let k = plan.probe_checkpoint_every();
    let items = k.saturating_mul(plan.batches_per_round());
    let mut rounds = Vec::new();
    let mut state_bytes_encoded = 0;
    for round in 0..plan.rounds {
        let item_seconds = no_commit_segment(spin, k.saturating_mul(NO_COMMIT_BATCHES), cancel)?;
        let dir = scratch.join(format!("round-{round}"));
        let mut job = ProbeJob {
            items,
            checkpoint_every: k,
            spin,
            state_size_bytes,
            batch_ended_at: None,
            spans: Vec::new(),
            cancel,
            progress,
        };
        let mut size = StateSize::default();
        let result = Runner::open(&fs, &dir, &mut job, RunnerConfig::every(k))
            .and_then(|runner| runner.with_observer(&mut size).run());
        if cancel.load(Ordering::Relaxed) {
            return Err(TuneError::Interrupted);
        }
        let outcome = result.map_err(|source| TuneError::Run {
            dir: dir.clone(),
            source: Box::new(source),
        })?;
        check_completed(&outcome, items, &dir)?;
        let commits_seconds: Vec<f64> = job
            .spans
            .iter()
            .skip(warm_up_commits() as usize)
            .map(Duration::as_secs_f64)
            .collect();
        if commits_seconds.is_empty() || commits_seconds.iter().any(|&s| !(s > 0.0)) {
            return Err(TuneError::NothingMeasured(commits_seconds.len()));
        }
        state_bytes_encoded = size.0;
        rounds.push(Round {
            commits_seconds,
            item_seconds,
        });
    }
    if rounds.is_empty() {
        return Err(TuneError::NothingMeasured(0));
    }
    Ok(CommitCost {
        rounds,
        state_bytes_encoded,
        probe_checkpoint_every: k,
        probe_item_seconds: plan.probe_item().as_secs_f64(),
    })
}

/// Spins `items` probe items without a runner; returns the time per item.
fn no_commit_segment(spin: Spin, items: u64, cancel: &AtomicBool) -> Result<f64, TuneError> {
    if cancel.load(Ordering::Relaxed) {
        return Err(TuneError::Interrupted);
    }
    let start = Instant::now();
    let mut sink = 0u64;
    for i in 0..items {
        sink = sink.wrapping_add(spin.run(i));
    }
    std::hint::black_box(sink);
    Ok(start.elapsed().as_secs_f64() / items.max(1) as f64)
}

fn check_completed(outcome: &Outcome<u64>, items: u64, dir: &Path) -> Result<(), TuneError> {
    match outcome {
        Outcome::Completed {
            items_processed,
            resumed_from: None,
            ..
        } if *items_processed == items => Ok(()),
        other => Err(TuneError::UnexpectedOutcome {
            dir: dir.to_path_buf(),
            outcome: format!("{other:?}"),
        }),
    }
}

/// Runs `command` with `sh -c` once (stdin and stdout discarded, stderr
/// shown) and returns its wall time divided by `items`. A command that
/// fails or cannot start is an error.
pub fn item_cost_from_command(command: &str, items: u64) -> Result<Duration, TuneError> {
    let start = Instant::now();
    let status = Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .map_err(|source| TuneError::SampleStart {
            command: command.to_owned(),
            source,
        })?;
    let elapsed = start.elapsed();
    if !status.success() {
        return Err(TuneError::SampleFailed {
            command: command.to_owned(),
            status: status.to_string(),
        });
    }
    let per_item = elapsed.div_f64(items.max(1) as f64);
    if per_item.is_zero() {
        return Err(TuneError::SampleTooShort(command.to_owned()));
    }
    Ok(per_item)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);
    const US: Duration = Duration::from_micros(1);

    fn plan(item_cost: Duration, spacing: Duration) -> MeasurePlan {
        MeasurePlan {
            rounds: 2,
            commits_per_round: 3,
            state_size_bytes: 1000,
            item_cost,
            spacing,
        }
    }

    #[test]
    fn quantiles_interpolate_between_sorted_samples() {
        let sorted = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(quantile(&sorted, 0.5), 3.0);
        assert_eq!(quantile(&sorted, 0.0), 1.0);
        assert_eq!(quantile(&sorted, 1.0), 5.0);
        assert!((quantile(&sorted, 0.9) - 4.6).abs() < 1e-12);
        assert_eq!(quantile(&[7.0], 0.1), 7.0);
        assert!(quantile(&[], 0.5).is_nan());
    }

    #[test]
    fn rounds_summarise_by_their_means() {
        let cost = CommitCost {
            rounds: vec![
                Round {
                    commits_seconds: vec![1.0, 3.0],
                    item_seconds: 0.5,
                },
                Round {
                    commits_seconds: vec![10.0, 10.0, 40.0],
                    item_seconds: 0.7,
                },
                Round {
                    commits_seconds: vec![4.0],
                    item_seconds: 0.6,
                },
            ],
            state_bytes_encoded: 0,
            probe_checkpoint_every: 1,
            probe_item_seconds: 0.5,
        };
        assert_eq!(cost.round_means_sorted(), vec![2.0, 4.0, 20.0]);
        assert_eq!(cost.round_quantile_seconds(0.5), 4.0);
        assert_eq!(cost.round_quantile_seconds(1.0), 20.0);
        assert_eq!(cost.samples_sorted(), vec![1.0, 3.0, 4.0, 10.0, 10.0, 40.0]);
        assert_eq!(cost.mean_seconds(), 68.0 / 6.0);
        assert_eq!(cost.item_median_seconds(), 0.6);
    }

    #[test]
    fn the_probe_puts_a_spacing_of_items_between_commits() {
        let p = plan(20 * US, 20 * MS);
        assert_eq!(p.probe_item(), 20 * US);
        assert_eq!(p.probe_checkpoint_every(), 1000);
        assert_eq!(p.batches_per_round(), 2 + 3 + 1);
        // Items longer than the spacing: one item per batch, spun for the
        // spacing only.
        let slow = plan(Duration::from_secs(2), 20 * MS);
        assert_eq!(slow.probe_item(), 20 * MS);
        assert_eq!(slow.probe_checkpoint_every(), 1);
        // Rounding up: 25 µs items in 1 ms of spacing is 40; in 1.01 ms, 41.
        assert_eq!(plan(25 * US, MS).probe_checkpoint_every(), 40);
        assert_eq!(plan(25 * US, 1010 * US).probe_checkpoint_every(), 41);
    }

    #[test]
    fn a_measurement_on_a_real_directory_times_every_steady_commit() {
        let dir = tempfile::tempdir().unwrap();
        let plan = plan(10 * US, 200 * US);
        let progress = ProgressBar::hidden();
        let cancel = AtomicBool::new(false);
        let cost = commit_cost(dir.path(), plan, &progress, &cancel).unwrap();
        assert_eq!(cost.rounds.len(), 2);
        assert!(cost.rounds.iter().all(|r| r.commits_seconds.len() == 3));
        assert!(cost.rounds.iter().all(|r| r.item_seconds > 0.0));
        assert_eq!(cost.probe_checkpoint_every, 20);
        // The filler plus its JSON framing, no more.
        assert!((1000..1100).contains(&cost.state_bytes_encoded));
        // Every batch boundary after the first: (2 + 3 + 1) - 1 per round.
        assert_eq!(progress.position(), 2 * 5);
    }

    #[test]
    fn the_probe_job_stops_at_the_first_batch_start_after_the_flag_is_set() {
        let cancel = AtomicBool::new(false);
        let progress = ProgressBar::hidden();
        let mut job = ProbeJob {
            items: 100,
            checkpoint_every: 4,
            spin: Spin::calibrate(Duration::ZERO),
            state_size_bytes: 0,
            batch_ended_at: None,
            spans: Vec::new(),
            cancel: &cancel,
            progress: &progress,
        };
        let mut state = job.initial_state();
        for i in 0..6 {
            job.process(i, &mut state).unwrap();
        }
        cancel.store(true, Ordering::Relaxed);
        // Mid-batch: the batch finishes (its commit stays consistent).
        job.process(6, &mut state).unwrap();
        job.process(7, &mut state).unwrap();
        let stopped = job.process(8, &mut state).unwrap_err();
        assert_eq!(stopped.message(), INTERRUPTED);
        // The boundaries at items 4 and 8 were both timed.
        assert_eq!(job.spans.len(), 2);
    }

    #[test]
    fn a_set_cancellation_flag_stops_the_measurement() {
        let dir = tempfile::tempdir().unwrap();
        let cancel = AtomicBool::new(true);
        let result = commit_cost(
            dir.path(),
            plan(10 * US, 200 * US),
            &ProgressBar::hidden(),
            &cancel,
        );
        assert!(matches!(result, Err(TuneError::Interrupted)), "{result:?}");
    }
}
