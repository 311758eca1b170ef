//! Measuring the commit cost on the target disk with the real core, and the
//! item cost from the user's own command.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crashproof_core::fs::StdFs;
use crashproof_core::{CheckpointInfo, Job, JobError, Outcome, RunObserver, Runner, RunnerConfig};
use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};

use super::TuneError;
use crate::interrupt::Interrupt;

/// How the commit cost is sampled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MeasurePlan {
    /// Runs, each in a fresh job directory with a fresh runner.
    pub runs: u64,
    /// Steady-state commits timed per run.
    pub commits_per_run: u64,
    /// Bytes of state the job checkpoints (before encoding).
    pub state_size_bytes: u64,
}

impl MeasurePlan {
    /// Items per run: each item is followed by one commit (K = 1). The
    /// first `keep` commits find nothing to garbage-collect, so they are
    /// warm-up: timing starts with commit `keep + 1`, the first that also
    /// deletes an old generation, as every later commit of a real job does.
    pub fn items_per_run(&self) -> u64 {
        self.commits_per_run + warm_up_commits() + 1
    }
}

fn warm_up_commits() -> u64 {
    RunnerConfig::default().keep as u64
}

/// What the measurement found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CommitCost {
    /// Every timed commit, in seconds, sorted.
    pub samples_seconds: Vec<f64>,
    /// Bytes of encoded state each commit wrote (the checkpoint payload).
    pub state_bytes_encoded: u64,
}

impl CommitCost {
    /// The `q` quantile (0..=1) of the samples, by linear interpolation.
    pub fn quantile_seconds(&self, q: f64) -> f64 {
        quantile(&self.samples_seconds, q)
    }

    /// The median commit.
    pub fn median_seconds(&self) -> f64 {
        self.quantile_seconds(0.5)
    }

    /// p90 / p10: how much slower a slow commit is than a fast one.
    pub fn spread(&self) -> f64 {
        self.quantile_seconds(0.9) / self.quantile_seconds(0.1)
    }
}

/// The `q` quantile of sorted, non-empty `sorted`.
fn quantile(sorted: &[f64], q: f64) -> f64 {
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

/// The state the measuring job checkpoints: `state_size_bytes` bytes of
/// filler (JSON adds a few bytes) and a counter, so every commit differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct FillerState {
    filler: String,
    count: u64,
}

/// A job whose items cost nothing: the time between two items is one
/// commit (write, fsync, rename, directory fsync, GC, yield check).
struct CommitOnlyJob {
    items: u64,
    state_size_bytes: usize,
}

impl Job for CommitOnlyJob {
    type State = FillerState;
    type Output = u64;

    fn name(&self) -> &str {
        "tune-k"
    }

    fn fingerprint(&self) -> u64 {
        crashproof_core::stable_digest(b"crashproof tune-k commit-only job v1")
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

    fn process(&mut self, _: u64, state: &mut FillerState) -> Result<(), JobError> {
        state.count += 1;
        Ok(())
    }

    fn finalize(&mut self, state: &FillerState) -> Result<u64, JobError> {
        Ok(state.count)
    }
}

/// Stamps every item and records the encoded state size.
struct Stamps<'a> {
    at: Vec<Instant>,
    state_bytes_encoded: u64,
    progress: &'a ProgressBar,
}

impl RunObserver for Stamps<'_> {
    fn item_processed(&mut self, _: u64) {
        self.at.push(Instant::now());
        self.progress.inc(1);
    }

    fn before_commit(&mut self, checkpoint: &CheckpointInfo<'_>) {
        self.state_bytes_encoded = checkpoint.state.len() as u64;
    }
}

/// Runs `plan.runs` runs of the commit-only job under `scratch` (a fresh
/// directory the caller removes) with the core's `Runner` on `StdFs` and the
/// default configuration but K = 1, and returns every steady-state commit's
/// time. Fails unless at least one commit was timed.
pub fn commit_cost(
    scratch: &Path,
    plan: MeasurePlan,
    progress: &ProgressBar,
    interrupt: &Interrupt,
) -> Result<CommitCost, TuneError> {
    let fs = StdFs::new();
    let state_size_bytes = usize::try_from(plan.state_size_bytes)
        .map_err(|_| TuneError::StateTooLarge(plan.state_size_bytes))?;
    let mut samples = Vec::new();
    let mut state_bytes_encoded = 0;
    for run in 0..plan.runs {
        if interrupt.is_set() {
            return Err(TuneError::Interrupted {
                runs_done: run,
                runs: plan.runs,
            });
        }
        let dir = scratch.join(format!("run-{run}"));
        let mut job = CommitOnlyJob {
            items: plan.items_per_run(),
            state_size_bytes,
        };
        let mut stamps = Stamps {
            at: Vec::new(),
            state_bytes_encoded: 0,
            progress,
        };
        let outcome = Runner::open(&fs, &dir, &mut job, RunnerConfig::every(1))
            .and_then(|runner| runner.with_observer(&mut stamps).run())
            .map_err(|source| TuneError::Run {
                dir: dir.clone(),
                source: Box::new(source),
            })?;
        check_completed(&outcome, plan.items_per_run(), &dir)?;
        // Item n's stamp minus item n-1's is commit n (plus a free item).
        let steady = stamps
            .at
            .windows(2)
            .skip(warm_up_commits() as usize)
            .map(|w| w[1].duration_since(w[0]).as_secs_f64());
        samples.extend(steady);
        state_bytes_encoded = stamps.state_bytes_encoded;
    }
    samples.sort_by(f64::total_cmp);
    if samples.is_empty() || samples.iter().any(|&s| s.is_nan() || s <= 0.0) {
        return Err(TuneError::NothingMeasured(samples.len()));
    }
    Ok(CommitCost {
        samples_seconds: samples,
        state_bytes_encoded,
    })
}

fn check_completed(outcome: &Outcome<u64>, items: u64, dir: &Path) -> Result<(), TuneError> {
    match outcome {
        Outcome::Completed {
            output,
            items_processed,
            resumed_from: None,
            ..
        } if *output == items && *items_processed == items => Ok(()),
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

    #[test]
    fn quantiles_interpolate_between_sorted_samples() {
        let sorted = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(quantile(&sorted, 0.5), 3.0);
        assert_eq!(quantile(&sorted, 0.0), 1.0);
        assert_eq!(quantile(&sorted, 1.0), 5.0);
        assert!((quantile(&sorted, 0.9) - 4.6).abs() < 1e-12);
        assert_eq!(quantile(&[7.0], 0.1), 7.0);
        assert!(quantile(&[], 0.5).is_nan());
        let cost = CommitCost {
            samples_seconds: vec![1.0, 1.0, 2.0, 3.0, 4.0, 4.0],
            state_bytes_encoded: 0,
        };
        assert_eq!(cost.median_seconds(), 2.5);
        assert!(cost.spread() > 3.0);
    }

    #[test]
    fn the_plan_counts_warm_up_commits_out() {
        let plan = MeasurePlan {
            runs: 1,
            commits_per_run: 10,
            state_size_bytes: 0,
        };
        assert_eq!(plan.items_per_run(), 10 + 2 + 1);
    }

    #[test]
    fn a_measurement_on_a_real_directory_times_every_steady_commit() {
        let dir = tempfile::tempdir().unwrap();
        let plan = MeasurePlan {
            runs: 2,
            commits_per_run: 3,
            state_size_bytes: 1000,
        };
        let progress = ProgressBar::hidden();
        let cost = commit_cost(dir.path(), plan, &progress, &Interrupt::detached()).unwrap();
        assert_eq!(cost.samples_seconds.len(), 6);
        assert!(cost.samples_seconds.windows(2).all(|w| w[0] <= w[1]));
        // The filler plus its JSON framing, no more.
        assert!((1000..1100).contains(&cost.state_bytes_encoded));
        assert_eq!(progress.position(), 2 * plan.items_per_run());
    }
}
