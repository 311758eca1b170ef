//! Measuring the commit cost on the target disk with the core's `Runner`
//! itself, in the regime of a real job, and the item cost from the user's
//! own command.
//!
//! A round is a no-commit segment and then one probe per spacing:
//!
//! 1. **no commits**: the probe's items alone, timed (what an item costs
//!    on this CPU right now);
//! 2. **commits, per spacing** (in an order that rotates from round to
//!    round): the core's `Runner` on `StdFs` with the default configuration
//!    (keep 2, yield sentinel) and K chosen so a batch is the spacing's work
//!    in items of the job's cost, in a fresh job directory. Each commit is
//!    timed from the end of a batch's last item to the start of the next
//!    batch's first: exactly what a steady-state runner commit costs the job
//!    (encoding, the durable write with its two fsyncs, the GC unlink, the
//!    yield sentinel look, the runner's own bookkeeping). The first `keep`
//!    commits of a probe have nothing to collect and are not timed.
//!
//! Rounds follow each other, so a disk that changes regime while tune-k
//! runs shows up as rounds that disagree (the spread), not as one average
//! that fits no regime. Work between commits matters: commits back to back
//! meet a journal still finishing the previous one, which a job never does,
//! and a commit after a long stretch of work costs more than one after a
//! short one (see [`super::curve`]).

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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeasurePlan {
    /// Rounds (each: a no-commit segment, then a fresh runner per spacing).
    pub rounds: u64,
    /// Steady-state commits timed per probe.
    pub commits_per_round: u64,
    /// Bytes of state the job checkpoints (before encoding).
    pub state_size_bytes: u64,
    /// What one item of the job costs.
    pub item_cost: Duration,
    /// The work between two commits to measure at, ascending, at least one.
    pub spacings: Vec<Duration>,
}

/// Work the no-commit segment spins per round.
const NO_COMMIT_WORK: Duration = Duration::from_millis(20);

/// The probe for one spacing: its items and its K.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    /// The work between two commits.
    pub spacing: Duration,
    /// The spin of one item: the item cost, but never more than the
    /// spacing (an hour-long item need not be spun for an hour to put
    /// `spacing` of work between commits).
    pub item: Duration,
    /// K: the items that make up the spacing, at least 1.
    pub checkpoint_every: u64,
}

impl Probe {
    /// The probe for `spacing` with items of `item_cost`.
    pub fn new(item_cost: Duration, spacing: Duration) -> Self {
        let item = item_cost.min(spacing);
        let k = spacing.as_nanos().div_ceil(item.as_nanos().max(1)).max(1);
        Self {
            spacing,
            item,
            checkpoint_every: u64::try_from(k).unwrap_or(u64::MAX),
        }
    }
}

impl MeasurePlan {
    /// One probe per spacing.
    pub fn probes(&self) -> Vec<Probe> {
        self.spacings
            .iter()
            .map(|&s| Probe::new(self.item_cost, s))
            .collect()
    }

    /// Batches per probe: the `keep` untimed ones, the timed ones, and the
    /// last, whose commit is the final one (no next batch ends its span).
    pub fn batches_per_round(&self) -> u64 {
        warm_up_commits() + self.commits_per_round + 1
    }

    /// Batch boundaries the whole plan crosses (the progress bar's length).
    pub fn boundaries(&self) -> u64 {
        let per_probe = self.batches_per_round().saturating_sub(1);
        self.rounds
            .saturating_mul(self.spacings.len() as u64)
            .saturating_mul(per_probe)
    }
}

fn warm_up_commits() -> u64 {
    RunnerConfig::default().keep as u64
}

/// What was measured at one spacing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpacingCost {
    /// The work between two commits, in seconds.
    pub spacing_seconds: f64,
    /// K of its probe.
    pub checkpoint_every: u64,
    /// Every timed commit, per round (in the order the rounds ran).
    pub rounds_seconds: Vec<Vec<f64>>,
}

impl SpacingCost {
    /// Each round's mean commit, in round order.
    pub fn round_means(&self) -> Vec<f64> {
        self.rounds_seconds.iter().map(|r| mean(r)).collect()
    }

    /// The `q` quantile of the rounds' mean commits.
    pub fn round_quantile_seconds(&self, q: f64) -> f64 {
        let mut means = self.round_means();
        means.sort_by(f64::total_cmp);
        quantile(&means, q)
    }

    /// How much the rounds disagree: p90 over p10 of their means.
    pub fn round_spread(&self) -> f64 {
        self.round_quantile_seconds(0.9) / self.round_quantile_seconds(0.1)
    }

    /// Every timed commit, sorted.
    pub fn samples_sorted(&self) -> Vec<f64> {
        let mut all: Vec<f64> = self.rounds_seconds.iter().flatten().copied().collect();
        all.sort_by(f64::total_cmp);
        all
    }
}

/// What the measurement found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CommitCost {
    /// Per spacing, ascending.
    pub spacings: Vec<SpacingCost>,
    /// The probe item's cost in each round's no-commit segment.
    pub item_seconds: Vec<f64>,
    /// The probe item's target at the smallest spacing.
    pub probe_item_seconds: f64,
    /// Bytes of encoded state each commit wrote (the checkpoint payload).
    pub state_bytes_encoded: u64,
}

impl CommitCost {
    /// The median of the probe item's cost over the no-commit segments.
    pub fn item_median_seconds(&self) -> f64 {
        let mut items = self.item_seconds.clone();
        items.sort_by(f64::total_cmp);
        quantile(&items, 0.5)
    }
}

/// The mean of `values` (NaN when empty).
pub fn mean(values: &[f64]) -> f64 {
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
        if index.is_multiple_of(self.checkpoint_every) {
            if let Some(ended) = self.batch_ended_at.take() {
                self.spans.push(ended.elapsed());
                self.progress.inc(1);
            }
            if self.cancel.load(Ordering::Relaxed) {
                return Err(JobError::new(INTERRUPTED));
            }
        }
        state.count = state.count.wrapping_add(self.spin.run(index) | 1);
        if (index + 1).is_multiple_of(self.checkpoint_every) {
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
/// removes) and returns every steady-state commit's time, per spacing and
/// round. Checks `cancel` between the probes' batches and between
/// segments: once it is set, returns [`TuneError::Interrupted`] (the caller
/// removes the scratch directory as on any error). Fails unless every
/// probe timed a commit.
pub fn commit_cost(
    scratch: &Path,
    plan: &MeasurePlan,
    progress: &ProgressBar,
    cancel: &AtomicBool,
) -> Result<CommitCost, TuneError> {
    let state_size_bytes = usize::try_from(plan.state_size_bytes)
        .map_err(|_| TuneError::StateTooLarge(plan.state_size_bytes))?;
    let probes = plan.probes();
    let Some(first) = probes.first().copied() else {
        return Err(TuneError::NothingMeasured(0));
    };
    let spins: Vec<Spin> = probes.iter().map(|p| Spin::calibrate(p.item)).collect();
    let mut spacings: Vec<SpacingCost> = probes
        .iter()
        .map(|p| SpacingCost {
            spacing_seconds: p.spacing.as_secs_f64(),
            checkpoint_every: p.checkpoint_every,
            rounds_seconds: Vec::new(),
        })
        .collect();
    let mut item_seconds = Vec::new();
    let mut state_bytes_encoded = 0;
    let no_commit_items =
        u64::try_from(NO_COMMIT_WORK.as_nanos() / first.item.as_nanos().max(1)).unwrap_or(1);
    for round in 0..plan.rounds {
        item_seconds.push(no_commit_segment(spins[0], no_commit_items.max(1), cancel)?);
        // Rotate the order, so no spacing always runs first after the
        // no-commit segment.
        for step in 0..probes.len() {
            let j = (step + round as usize) % probes.len();
            let dir = scratch.join(format!("round-{round}-spacing-{j}"));
            let probe = ProbeRun {
                probe: probes[j],
                spin: spins[j],
                batches: plan.batches_per_round(),
                state_size_bytes,
            };
            let (commits, bytes) = probe.run(&dir, progress, cancel)?;
            state_bytes_encoded = bytes;
            spacings[j].rounds_seconds.push(commits);
        }
    }
    Ok(CommitCost {
        spacings,
        item_seconds,
        probe_item_seconds: first.item.as_secs_f64(),
        state_bytes_encoded,
    })
}

/// One probe run: a fresh runner at the probe's K in `dir`.
struct ProbeRun {
    probe: Probe,
    spin: Spin,
    batches: u64,
    state_size_bytes: usize,
}

impl ProbeRun {
    /// Returns the timed commits (the first `keep` left out) and the
    /// encoded state size.
    fn run(
        &self,
        dir: &Path,
        progress: &ProgressBar,
        cancel: &AtomicBool,
    ) -> Result<(Vec<f64>, u64), TuneError> {
        let fs = StdFs::new();
        let k = self.probe.checkpoint_every;
        let items = k.saturating_mul(self.batches);
        let mut job = ProbeJob {
            items,
            checkpoint_every: k,
            spin: self.spin,
            state_size_bytes: self.state_size_bytes,
            batch_ended_at: None,
            spans: Vec::new(),
            cancel,
            progress,
        };
        let mut size = StateSize::default();
        let result = Runner::open(&fs, dir, &mut job, RunnerConfig::every(k))
            .and_then(|runner| runner.with_observer(&mut size).run());
        if cancel.load(Ordering::Relaxed) {
            return Err(TuneError::Interrupted);
        }
        let outcome = result.map_err(|source| TuneError::Run {
            dir: dir.to_path_buf(),
            source: Box::new(source),
        })?;
        check_completed(&outcome, items, dir)?;
        let commits: Vec<f64> = job
            .spans
            .iter()
            .skip(warm_up_commits() as usize)
            .map(Duration::as_secs_f64)
            .collect();
        if commits.is_empty() || commits.iter().any(|&s| s.is_nan() || s <= 0.0) {
            return Err(TuneError::NothingMeasured(commits.len()));
        }
        Ok((commits, size.0))
    }
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

    fn plan(item_cost: Duration, spacings: &[Duration]) -> MeasurePlan {
        MeasurePlan {
            rounds: 2,
            commits_per_round: 3,
            state_size_bytes: 1000,
            item_cost,
            spacings: spacings.to_vec(),
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
        assert!(mean(&[]).is_nan());
    }

    #[test]
    fn a_spacing_summarises_by_its_rounds_means() {
        let cost = SpacingCost {
            spacing_seconds: 1e-3,
            checkpoint_every: 50,
            rounds_seconds: vec![vec![1.0, 3.0], vec![10.0, 10.0, 40.0], vec![4.0]],
        };
        assert_eq!(cost.round_means(), vec![2.0, 20.0, 4.0]);
        assert_eq!(cost.round_quantile_seconds(0.5), 4.0);
        assert_eq!(cost.round_quantile_seconds(1.0), 20.0);
        // p90 = 4 + 0.8 · 16 = 16.8, p10 = 2 + 0.2 · 2 = 2.4.
        assert!((cost.round_spread() - 7.0).abs() < 1e-12);
        assert_eq!(cost.samples_sorted(), vec![1.0, 3.0, 4.0, 10.0, 10.0, 40.0]);
    }

    #[test]
    fn a_probe_puts_its_spacing_of_items_between_commits() {
        let p = Probe::new(20 * US, 20 * MS);
        assert_eq!((p.item, p.checkpoint_every), (20 * US, 1000));
        // Items longer than the spacing: one item per batch, spun for the
        // spacing only.
        let slow = Probe::new(Duration::from_secs(2), 20 * MS);
        assert_eq!((slow.item, slow.checkpoint_every), (20 * MS, 1));
        // Rounding up: 25 µs items in 1 ms of spacing is 40; in 1.01 ms, 41.
        assert_eq!(Probe::new(25 * US, MS).checkpoint_every, 40);
        assert_eq!(Probe::new(25 * US, 1010 * US).checkpoint_every, 41);
        let plan = plan(20 * US, &[MS, 4 * MS]);
        assert_eq!(plan.batches_per_round(), 2 + 3 + 1);
        assert_eq!(plan.boundaries(), 2 * 2 * 5);
        assert_eq!(
            plan.probes()
                .iter()
                .map(|p| p.checkpoint_every)
                .collect::<Vec<_>>(),
            [50, 200]
        );
    }

    #[test]
    fn a_measurement_on_a_real_directory_times_every_steady_commit() {
        let dir = tempfile::tempdir().unwrap();
        let plan = plan(10 * US, &[200 * US, 400 * US]);
        let progress = ProgressBar::hidden();
        let cancel = AtomicBool::new(false);
        let cost = commit_cost(dir.path(), &plan, &progress, &cancel).unwrap();
        assert_eq!(cost.spacings.len(), 2);
        assert_eq!(cost.item_seconds.len(), 2);
        for (spacing, k) in cost.spacings.iter().zip([20, 40]) {
            assert_eq!(spacing.checkpoint_every, k);
            assert_eq!(spacing.rounds_seconds.len(), 2);
            assert!(spacing.rounds_seconds.iter().all(|r| r.len() == 3));
        }
        assert!(cost.item_seconds.iter().all(|&s| s > 0.0));
        // The filler plus its JSON framing, no more.
        assert!((1000..1100).contains(&cost.state_bytes_encoded));
        assert_eq!(progress.position(), plan.boundaries());
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
            &plan(10 * US, &[200 * US]),
            &ProgressBar::hidden(),
            &cancel,
        );
        assert!(matches!(result, Err(TuneError::Interrupted)), "{result:?}");
    }
}
