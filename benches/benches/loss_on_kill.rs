//! `loss_on_kill`: items redone after a kill at a random point, per K,
//! measured rather than assumed.
//!
//! Each trial runs a job of 20·K items under the core's `Runner` on `StdFs`
//! with `checkpoint_every = K`, "kills" it at a seeded random item n (the
//! job's `process` fails there, so the run stops without committing, as if
//! the process had died working on item n), then resumes it with a new
//! runner in the same directory and lets it finish. The job records which
//! items each run processed: the redone items are those both runs
//! processed. The resumed run must finish with the clean run's output and
//! redo at most K items. Criterion times the resumed run (open, startup GC,
//! resume, the rest of the job); the summary printed after it gives, per K,
//! the trials, the mean and the largest number of items redone.
//!
//! A kill here falls between items; a kill during a commit's write loses
//! the batch being committed, so the worst case stays K items, not K - 1.

// A bench has no caller to hand errors to: a failing run means the bench is
// broken, and stopping loudly is the contract.
#![allow(clippy::expect_used, clippy::panic)]
#![allow(missing_docs)]

use std::path::Path;
use std::time::{Duration, Instant};

use crashproof_benches::scratch::scratch_dir;
use crashproof_benches::spin_job::{KILLED_MESSAGE, SpinJob, SpinState};
use crashproof_benches::tally::{TEST_MODE_NOTE, Tally, format_seconds, is_test_mode};
use crashproof_core::fs::StdFs;
use crashproof_core::{Outcome, RunError, Runner, RunnerConfig};
use criterion::{BenchmarkId, Criterion, SamplingMode};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

const CHECKPOINT_EVERY: [u64; 6] = [1, 10, 50, 200, 1000, 5000];
/// Items per job, in batches: enough that kills land in many batches.
const BATCHES_PER_JOB: u64 = 20;
/// The seed of every kill point (one stream per K).
const SEED: u64 = 13;

/// One K's trials.
#[derive(Debug, Default)]
struct LossRow {
    trials: u64,
    redone_total: u64,
    redone_max: u64,
    /// The runner's own bound (`Outcome::Completed::redone_at_most`), summed.
    bound_total: u64,
    resume: Tally,
}

struct Trials<'a> {
    fs: StdFs,
    scratch: &'a Path,
    dirs: u64,
}

impl Trials<'_> {
    /// One kill at a random item and one resume; returns the resumed run's
    /// time (open included).
    fn trial(
        &mut self,
        k: u64,
        rng: &mut ChaCha8Rng,
        clean: SpinState,
        row: &mut LossRow,
    ) -> Duration {
        let items = k * BATCHES_PER_JOB;
        let kill_at = rng.random_range(0..items);
        self.dirs += 1;
        let dir = self.scratch.join(format!("job-{}", self.dirs));
        let config = RunnerConfig::every(k);

        let mut killed = SpinJob::new(items, None).killed_at(kill_at);
        let error = Runner::open(&self.fs, &dir, &mut killed, config.clone())
            .expect("open")
            .run()
            .expect_err("the killed run must stop at its kill item");
        match error {
            RunError::Job {
                index: Some(index),
                source,
            } if index == kill_at && source.message() == KILLED_MESSAGE => {}
            other => panic!("the killed run failed for another reason: {other}"),
        }

        let mut resumed = SpinJob::new(items, None);
        let start = Instant::now();
        let outcome = Runner::open(&self.fs, &dir, &mut resumed, config)
            .expect("reopen")
            .run()
            .expect("resume");
        let elapsed = start.elapsed();
        let Outcome::Completed {
            output,
            items_processed,
            redone_at_most,
            ..
        } = outcome
        else {
            panic!("the resumed run must complete: {outcome:?}");
        };
        assert_eq!(output, clean, "a resumed run must give the clean output");
        let before = killed.processed_range();
        let after = resumed.processed_range();
        assert_eq!(after.end, items);
        assert_eq!(items_processed, after.end - after.start);
        let redone = before
            .end
            .min(after.end)
            .saturating_sub(before.start.max(after.start));
        assert!(redone <= k, "redid {redone} items with K = {k}");
        assert!(redone <= redone_at_most, "the runner's bound must hold");
        row.trials += 1;
        row.redone_total += redone;
        row.redone_max = row.redone_max.max(redone);
        row.bound_total += redone_at_most;
        elapsed
    }
}

fn bench(c: &mut Criterion) -> Vec<(u64, LossRow)> {
    let scratch =
        scratch_dir(Path::new(env!("CARGO_TARGET_TMPDIR")), "loss-bench-").expect("scratch");
    println!("loss_on_kill bench writes under {:?}", scratch.path());
    let mut trials = Trials {
        fs: StdFs::new(),
        scratch: scratch.path(),
        dirs: 0,
    };
    let mut group = c.benchmark_group("loss_on_kill");
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    let mut rows = Vec::new();
    for k in CHECKPOINT_EVERY {
        let clean = SpinJob::new(k * BATCHES_PER_JOB, None)
            .run_without_runner()
            .expect("clean run");
        let mut rng = ChaCha8Rng::seed_from_u64(SEED ^ k);
        let mut row = LossRow::default();
        group.bench_function(BenchmarkId::new("resume after kill, K", k), |b| {
            b.iter_custom(|iters| {
                let mut elapsed = Duration::ZERO;
                for _ in 0..iters {
                    elapsed += trials.trial(k, &mut rng, clean, &mut row);
                }
                row.resume.add(elapsed, iters);
                elapsed
            })
        });
        rows.push((k, row));
    }
    group.finish();
    rows
}

fn print_summary(rows: &[(u64, LossRow)]) {
    println!();
    println!(
        "loss_on_kill: items redone after a kill at a seeded random item (jobs of 20·K items)"
    );
    if is_test_mode() {
        println!("{TEST_MODE_NOTE}");
    }
    println!(
        "  {:>6} {:>7} {:>12} {:>11} {:>9} {:>17} {:>14}",
        "K", "trials", "mean redone", "max redone", "max <= K", "runner bound mean", "resume time"
    );
    for (k, row) in rows {
        if row.trials == 0 {
            println!("  {k:>6} not measured");
            continue;
        }
        let trials = row.trials as f64;
        println!(
            "  {:>6} {:>7} {:>12.1} {:>11} {:>9} {:>17.1} {:>14}",
            k,
            row.trials,
            row.redone_total as f64 / trials,
            row.redone_max,
            if row.redone_max <= *k { "yes" } else { "NO" },
            row.bound_total as f64 / trials,
            row.resume
                .mean_seconds()
                .map_or_else(|| "-".into(), format_seconds),
        );
    }
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    let rows = bench(&mut criterion);
    criterion.final_summary();
    print_summary(&rows);
}
