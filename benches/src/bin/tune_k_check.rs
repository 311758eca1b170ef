//! `tune_k_check`: does `crashproof tune-k` predict what the runner costs?
//!
//! Reads tune-k's JSON (`crashproof tune-k --json`), then runs the core's
//! `Runner` on `StdFs` in a fresh directory under the same `--dir`, with
//! the same state size and items that spin the same item cost, at tune-k's
//! recommended K and at the `--k` values given, and measures the overhead
//! the way a user sees it: the time of runner batches (K items and their
//! commit) against the time of the same K items without a runner, batch by
//! batch in alternating order, so a machine that speeds up or slows down
//! shows as spread between rounds, not as overhead.
//! Prints tune-k's prediction (its median round) and the measurement side
//! by side. `benches/tune_k_check.sh` runs tune-k and then this.

use std::cell::Cell;
use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::{Duration, Instant};

use clap::Parser;
use crashproof_benches::spin::Spin;
use crashproof_core::fs::StdFs;
use crashproof_core::{Job, JobError, Runner, RunnerConfig, Step};
use serde::{Deserialize, Serialize};

/// Arguments.
#[derive(Debug, Parser)]
struct Args {
    /// tune-k's JSON output.
    #[arg(long)]
    tune_k: PathBuf,
    /// More K values to measure besides the recommended one.
    #[arg(long = "k")]
    ks: Vec<u64>,
    /// Rounds per K (each a fresh runner; its batches alternate with the
    /// same items without a runner).
    #[arg(long, default_value_t = 6)]
    rounds: u32,
    /// Timed batches per runner segment (after two untimed ones).
    #[arg(long, default_value_t = 8)]
    batches: u64,
}

/// What this reads of tune-k's JSON.
#[derive(Debug, Deserialize)]
struct TuneK {
    dir: PathBuf,
    state_size_bytes: u64,
    item_cost_seconds: f64,
    max_overhead_fraction: f64,
    commit: Commit,
    recommended: Row,
    rows: Vec<Row>,
}

#[derive(Debug, Deserialize)]
struct Commit {
    round_spread_max: f64,
}

/// A row of tune-k's table: its prediction for one K.
#[derive(Debug, Clone, Copy, Deserialize)]
struct Row {
    checkpoint_every: u64,
    commit_seconds: f64,
    commit_p90_seconds: f64,
    overhead_fraction: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct FillerState {
    filler: String,
    count: u64,
}

/// Items that spin, checkpointing a filler state of tune-k's size; it
/// stamps the end of each batch's last item, so the harness can time the
/// commit that follows it.
struct SpinFiller {
    items: u64,
    checkpoint_every: u64,
    spin: Spin,
    state_size_bytes: usize,
    batch_ended_at: Rc<Cell<Option<Instant>>>,
}

impl Job for SpinFiller {
    type State = FillerState;
    type Output = u64;
    fn name(&self) -> &str {
        "tune-k-check"
    }
    fn fingerprint(&self) -> u64 {
        self.items
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
        state.count = state.count.wrapping_add(self.spin.run(index) | 1);
        if (index + 1).is_multiple_of(self.checkpoint_every) {
            self.batch_ended_at.set(Some(Instant::now()));
        }
        Ok(())
    }
    fn finalize(&mut self, state: &FillerState) -> Result<u64, JobError> {
        Ok(state.count)
    }
}

/// One K's totals.
#[derive(Debug, Default)]
struct Measured {
    runner: Duration,
    bare: Duration,
    /// Each round's overhead.
    rounds: Vec<f64>,
    commits: u64,
    /// Commits timed from the end of their batch's last item to the
    /// return of `Runner::step` (what tune-k times, less the start of the
    /// next item).
    in_run: Duration,
    in_run_commits: u64,
}

impl Measured {
    fn overhead(&self) -> f64 {
        self.runner.as_secs_f64() / self.bare.as_secs_f64() - 1.0
    }

    /// What each commit cost the run: the extra time over the bare items.
    fn effective_commit_seconds(&self) -> f64 {
        (self.runner.as_secs_f64() - self.bare.as_secs_f64()) / self.commits.max(1) as f64
    }

    /// The mean commit timed inside the runs, as tune-k times it.
    fn in_run_commit_seconds(&self) -> f64 {
        self.in_run.as_secs_f64() / self.in_run_commits.max(1) as f64
    }
}

type Error = Box<dyn std::error::Error>;

/// One round: a fresh runner at K in `dir`; after two untimed batches
/// (the first commits have nothing to collect), `batches` pairs of a runner
/// batch (K items and their commit, through `Runner::step`) and the same K
/// items without a runner, in alternating order, each timed on its own.
fn round(
    dir: &std::path::Path,
    spin: Spin,
    state_size_bytes: usize,
    k: u64,
    batches: u64,
    measured: &mut Measured,
) -> Result<(), Error> {
    let fs = StdFs::new();
    let batch_ended_at = Rc::new(Cell::new(None));
    let mut job = SpinFiller {
        items: k.saturating_mul(batches + 3),
        checkpoint_every: k,
        spin,
        state_size_bytes,
        batch_ended_at: Rc::clone(&batch_ended_at),
    };
    let mut runner = Runner::open(&fs, dir, &mut job, RunnerConfig::every(k))?;
    for _ in 0..2 {
        runner.step()?;
    }
    let (mut with_runner, mut bare) = (Duration::ZERO, Duration::ZERO);
    for pair in 0..batches {
        if pair % 2 == 1 {
            bare += bare_batch(spin, k);
        }
        let start = Instant::now();
        match runner.step()? {
            Step::Committed { .. } => {}
            other => return Err(format!("the runner ended early: {other:?}").into()),
        }
        let end = Instant::now();
        with_runner += end - start;
        if let Some(ended) = batch_ended_at.take() {
            measured.in_run += end.saturating_duration_since(ended);
            measured.in_run_commits += 1;
        }
        if pair % 2 == 0 {
            bare += bare_batch(spin, k);
        }
    }
    measured.runner += with_runner;
    measured.bare += bare;
    measured.commits += batches;
    measured
        .rounds
        .push(with_runner.as_secs_f64() / bare.as_secs_f64() - 1.0);
    Ok(())
}

/// K items without a runner.
fn bare_batch(spin: Spin, items: u64) -> Duration {
    let start = Instant::now();
    let mut sink = 0u64;
    for i in 0..items {
        sink = sink.wrapping_add(spin.run(i) | 1);
    }
    std::hint::black_box(sink);
    start.elapsed()
}

fn measure(tune: &TuneK, args: &Args, spin: Spin, k: u64) -> Result<Measured, Error> {
    let scratch = tempfile::Builder::new()
        .prefix(".tune-k-check-")
        .tempdir_in(&tune.dir)?;
    let state_size_bytes = usize::try_from(tune.state_size_bytes)?;
    let mut measured = Measured::default();
    for r in 0..args.rounds {
        let dir = scratch.path().join(format!("k{k}-round{r}"));
        round(&dir, spin, state_size_bytes, k, args.batches, &mut measured)?;
    }
    scratch.close()?;
    Ok(measured)
}

fn percent(fraction: f64) -> String {
    format!("{:.2} %", fraction * 100.0)
}

fn millis(seconds: f64) -> String {
    format!("{:.3} ms", seconds * 1e3)
}

fn main() -> ExitCode {
    match check() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tune_k_check: {e}");
            ExitCode::from(2)
        }
    }
}

fn check() -> Result<(), Error> {
    let args = Args::parse();
    let tune: TuneK = serde_json::from_slice(&std::fs::read(&args.tune_k)?)?;
    let item = tune.item_cost_seconds;
    let spin = Spin::calibrate(Duration::from_secs_f64(item));
    let recommended = tune.recommended;
    let mut rows = vec![recommended];
    for &k in &args.ks {
        if k == recommended.checkpoint_every {
            continue;
        }
        let row = tune
            .rows
            .iter()
            .find(|r| r.checkpoint_every == k)
            .ok_or_else(|| {
                format!("tune-k's table has no row for K = {k}; pick one of its rows")
            })?;
        rows.push(*row);
    }
    println!(
        "tune-k on {:?}: item {}, state {} bytes; recommended K = {} for {} (its mean commit {} \
         at the p50 round, {} at the p90 round; rounds spread up to {:.2}x)",
        tune.dir,
        millis(item),
        tune.state_size_bytes,
        recommended.checkpoint_every,
        percent(tune.max_overhead_fraction),
        millis(recommended.commit_seconds),
        millis(recommended.commit_p90_seconds),
        tune.commit.round_spread_max,
    );
    println!(
        "the runner at each K: {} rounds of {} batches against the same items without a runner, alternating",
        args.rounds, args.batches
    );
    println!(
        "  c: mean commit; tune-k's (its curve at K·i, median round), timed inside these runs as \
         tune-k times it, and effective ((runner - bare) / commits)"
    );
    println!(
        "{:>8} {:>10} {:>10} {:>9} {:>10} {:>11} {:>11}  measured per round",
        "K", "predicted", "measured", "meas/pred", "tune-k c", "in-run c", "effective c"
    );
    let mut worst: f64 = 0.0;
    for row in rows {
        let k = row.checkpoint_every;
        let predicted = row.overhead_fraction;
        let measured = measure(&tune, &args, spin, k)?;
        let ratio = measured.overhead() / predicted;
        worst = worst.max((predicted - measured.overhead()).abs() / measured.overhead());
        let rounds: Vec<String> = measured.rounds.iter().map(|o| percent(*o)).collect();
        println!(
            "{:>8} {:>10} {:>10} {:>9.2} {:>10} {:>11} {:>11}  {}",
            k,
            percent(predicted),
            percent(measured.overhead()),
            ratio,
            millis(row.commit_seconds),
            millis(measured.in_run_commit_seconds()),
            millis(measured.effective_commit_seconds()),
            rounds.join(" ")
        );
    }
    println!(
        "largest disagreement: the prediction is off by {:.0} % of the measured overhead (the goal on a quiet disk: within 15 %)",
        worst * 100.0
    );
    Ok(())
}
