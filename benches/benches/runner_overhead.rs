//! `runner_overhead`: what checkpointing costs a CPU-bound job, per K.
//!
//! Items are a calibrated CPU spin of about 1, 20 and 200 µs. For each item
//! cost: `none` processes items without a runner (the baseline, one item per
//! iteration); `K=k` runs the core's `Runner` on `StdFs` with
//! `checkpoint_every = k`, one iteration being one batch (k items and one
//! commit, GC and yield check included); `T=100ms` commits on time only, one
//! iteration being one interval's worth of items. Throughput is in items, so
//! criterion's elem/s compare directly with the baseline.
//!
//! After criterion's output it prints, per item cost and setting: time per
//! item, overhead against the baseline (the whole commit: write, GC, yield
//! check) and the share of the run spent in the durable write alone
//! (`before_commit` to `after_commit`, from a `RunObserver`).

// A bench has no caller to hand errors to: a failing run means the bench is
// broken, and stopping loudly is the contract.
#![allow(clippy::expect_used, clippy::panic)]
#![allow(missing_docs)]

use std::path::Path;
use std::time::{Duration, Instant};

use crashproof_benches::scratch::scratch_dir;
use crashproof_benches::spin::Spin;
use crashproof_benches::spin_job::{CommitTimer, SpinJob};
use crashproof_benches::tally::{TEST_MODE_NOTE, Tally, format_seconds, is_test_mode};
use crashproof_core::fs::StdFs;
use crashproof_core::{Outcome, Runner, RunnerConfig};
use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};

const ITEM_COSTS: [Duration; 3] = [
    Duration::from_micros(1),
    Duration::from_micros(20),
    Duration::from_micros(200),
];
const CHECKPOINT_EVERY: [u64; 6] = [1, 10, 50, 200, 1000, 5000];
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(100);

/// How a run checkpoints.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Setting {
    /// No runner at all.
    None,
    /// Every K items.
    Every(u64),
    /// Every T (K unbounded).
    Interval(Duration),
}

impl Setting {
    fn label(self) -> String {
        match self {
            Setting::None => "none".into(),
            Setting::Every(k) => format!("K={k}"),
            Setting::Interval(t) => format!("T={}ms", t.as_millis()),
        }
    }

    /// The runner's configuration; `None` for the baseline (no runner).
    fn config(self) -> Option<RunnerConfig> {
        match self {
            Setting::None => None,
            Setting::Every(k) => Some(RunnerConfig::every(k)),
            Setting::Interval(t) => Some(RunnerConfig {
                checkpoint_every: u64::MAX,
                checkpoint_interval: Some(t),
                ..RunnerConfig::default()
            }),
        }
    }
}

/// One bench's totals.
#[derive(Debug, Default)]
struct Row {
    /// Items per criterion iteration.
    items_per_iter: u64,
    tally: Tally,
    /// Time in durable writes, and the runs' wall time, over every call.
    committing: Duration,
    running: Duration,
    commits: u64,
}

struct Bench<'a> {
    fs: StdFs,
    scratch: &'a Path,
    runs: u64,
}

impl Bench<'_> {
    /// Runs `items` spin items under `setting`; returns the run's wall time
    /// (opening the runner excluded) and adds the commit timing to `row`.
    fn run(&mut self, spin: Spin, setting: Setting, items: u64, row: &mut Row) -> Duration {
        let mut job = SpinJob::new(items, Some(spin));
        let Some(config) = setting.config() else {
            let start = Instant::now();
            let state = job.run_without_runner().expect("baseline run");
            let elapsed = start.elapsed();
            assert_eq!(state.count, items);
            return elapsed;
        };
        self.runs += 1;
        let dir = self.scratch.join(format!("job-{}", self.runs));
        let mut timer = CommitTimer::default();
        let runner = Runner::open(&self.fs, &dir, &mut job, config)
            .expect("open runner")
            .with_observer(&mut timer);
        let start = Instant::now();
        let outcome = runner.run().expect("run");
        let elapsed = start.elapsed();
        let Outcome::Completed {
            items_processed,
            resumed_from: None,
            ..
        } = outcome
        else {
            panic!("a fresh run must complete: {outcome:?}");
        };
        assert_eq!(items_processed, items);
        assert!(timer.commits >= 1, "a completed run commits at least once");
        row.committing += timer.committing;
        row.running += elapsed;
        row.commits += timer.commits;
        elapsed
    }
}

type Results = Vec<(Duration, Duration, Vec<(Setting, Row)>)>;

fn bench(c: &mut Criterion) -> Results {
    let scratch =
        scratch_dir(Path::new(env!("CARGO_TARGET_TMPDIR")), "runner-bench-").expect("scratch");
    println!("runner_overhead bench writes under {:?}", scratch.path());
    let mut bench = Bench {
        fs: StdFs::new(),
        scratch: scratch.path(),
        runs: 0,
    };
    let mut results = Results::new();
    for target in ITEM_COSTS {
        let spin = Spin::calibrate(target);
        // About 20 ms of spinning per measuring round, whatever the item cost.
        let measured = spin.measure((20_000 / target.as_micros().max(1)) as u64);
        let mut group = c.benchmark_group(format!("runner_overhead/item {}us", target.as_micros()));
        group.sample_size(10);
        group.sampling_mode(SamplingMode::Flat);
        let mut settings = vec![Setting::None];
        settings.extend(CHECKPOINT_EVERY.map(Setting::Every));
        settings.push(Setting::Interval(CHECKPOINT_INTERVAL));
        let mut rows = Vec::new();
        for setting in settings {
            let items_per_iter = match setting {
                Setting::None => 1,
                Setting::Every(k) => k,
                Setting::Interval(t) => {
                    ((t.as_secs_f64() / measured.as_secs_f64().max(1e-9)).ceil() as u64).max(1)
                }
            };
            let mut row = Row {
                items_per_iter,
                ..Row::default()
            };
            group.throughput(Throughput::Elements(items_per_iter));
            group.bench_function(BenchmarkId::from_parameter(setting.label()), |b| {
                b.iter_custom(|iters| {
                    let elapsed = bench.run(spin, setting, iters * items_per_iter, &mut row);
                    row.tally.add(elapsed, iters);
                    elapsed
                })
            });
            rows.push((setting, row));
        }
        group.finish();
        results.push((target, measured, rows));
    }
    results
}

fn print_summary(results: &Results) {
    println!();
    println!(
        "runner_overhead: time per item with the core's Runner on StdFs vs without checkpointing"
    );
    if is_test_mode() {
        println!("{TEST_MODE_NOTE}");
    }
    for (target, measured, rows) in results {
        println!(
            "item cost {} (spin measured at {}):",
            format_seconds(target.as_secs_f64()),
            format_seconds(measured.as_secs_f64())
        );
        println!(
            "  {:>9} {:>12} {:>12} {:>10} {:>14} {:>13}",
            "setting", "items/commit", "time/item", "overhead", "write share", "mean write"
        );
        let per_item = |row: &Row| {
            row.tally
                .mean_seconds()
                .map(|s| s / row.items_per_iter as f64)
        };
        let baseline = rows
            .iter()
            .find(|(s, _)| *s == Setting::None)
            .and_then(|(_, row)| per_item(row));
        for (setting, row) in rows {
            let Some(time) = per_item(row) else {
                println!("  {:>9} not measured", setting.label());
                continue;
            };
            let overhead = match (baseline, setting) {
                (_, Setting::None) | (None, _) => "-".to_string(),
                (Some(b), _) => format!("{:.1}%", (time / b - 1.0) * 100.0),
            };
            let (share, write) = if row.commits == 0 {
                ("-".to_string(), "-".to_string())
            } else {
                (
                    format!(
                        "{:.1}%",
                        100.0 * row.committing.as_secs_f64() / row.running.as_secs_f64()
                    ),
                    format_seconds(row.committing.as_secs_f64() / row.commits as f64),
                )
            };
            let per_commit = match setting {
                Setting::None => "-".to_string(),
                _ => row.items_per_iter.to_string(),
            };
            println!(
                "  {:>9} {:>12} {:>12} {:>10} {:>14} {:>13}",
                setting.label(),
                per_commit,
                format_seconds(time),
                overhead,
                share,
                write
            );
        }
    }
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    let results = bench(&mut criterion);
    criterion.final_summary();
    print_summary(&results);
}
