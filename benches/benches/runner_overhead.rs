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
//! A second group puts K chosen online (`RunnerConfig::adaptive`, 1 %
//! budget) next to fixed K = 50 and K = 1000 for 20 µs items, on a quiet
//! disk and on a loaded one: a thread of the bench rewrites a 256 KiB file
//! and fsyncs it in a loop in the same scratch directory for as long as the
//! loaded benches run, so every runner commit waits behind its journal
//! commits and writeback. (Loaded, a fixed K's overhead grows with the
//! commit cost; the adaptive runner's K grows instead, and its overhead
//! stays near the budget.)
//!
//! After criterion's output it prints, per item cost and setting: time per
//! item and its ratio to the baseline; the share of run time spent in whole
//! commits (write, GC, yield check: from `before_commit` to the start of the
//! next item, timed inside the same runs by a `CommitClock`) and the
//! overhead it means (commit time / work time, what `crashproof tune-k`
//! predicts); the mean whole commit and the mean durable write
//! (`before_commit` to `after_commit`). The in-run numbers hold on a busy
//! machine, where the ratio to a baseline taken at another moment does not.

// A bench has no caller to hand errors to: a failing run means the bench is
// broken, and stopping loudly is the contract.
#![allow(clippy::expect_used, clippy::panic)]
#![allow(missing_docs)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crashproof_benches::scratch::scratch_dir;
use crashproof_benches::spin::Spin;
use crashproof_benches::spin_job::{CommitClock, SpinJob};
use crashproof_benches::tally::{TEST_MODE_NOTE, Tally, format_seconds, is_test_mode};
use crashproof_core::fs::StdFs;
use crashproof_core::{AdaptiveK, Outcome, Runner, RunnerConfig};
use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};

const ITEM_COSTS: [Duration; 3] = [
    Duration::from_micros(1),
    Duration::from_micros(20),
    Duration::from_micros(200),
];
const CHECKPOINT_EVERY: [u64; 6] = [1, 10, 50, 200, 1000, 5000];
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(100);
/// The adaptive group's item cost and budget.
const ADAPTIVE_ITEM_COST: Duration = Duration::from_micros(20);
const ADAPTIVE_MAX_OVERHEAD: f64 = 0.01;
/// Items per criterion iteration for the adaptive runner (its K varies).
const ADAPTIVE_ITEMS_PER_ITER: u64 = 1000;

/// How a run checkpoints.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Setting {
    /// No runner at all.
    None,
    /// Every K items.
    Every(u64),
    /// Every T (K unbounded).
    Interval(Duration),
    /// K chosen online within this overhead budget.
    Adaptive(f64),
}

impl Setting {
    fn label(self) -> String {
        match self {
            Setting::None => "none".into(),
            Setting::Every(k) => format!("K={k}"),
            Setting::Interval(t) => format!("T={}ms", t.as_millis()),
            Setting::Adaptive(f) => format!("adaptive {}%", f * 100.0),
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
            Setting::Adaptive(max_overhead) => Some(RunnerConfig::adaptive(AdaptiveK {
                max_overhead,
                max_redo: u64::MAX,
            })),
        }
    }
}

/// One bench's totals.
#[derive(Debug, Default)]
struct Row {
    /// Items per criterion iteration.
    items_per_iter: u64,
    tally: Tally,
    /// Time in durable writes, in whole commits, and the runs' wall time,
    /// over every call.
    writing: Duration,
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
        let clock = CommitClock::new();
        let mut job = SpinJob::new(items, Some(spin)).with_commit_clock(clock.clone());
        let Some(config) = setting.config() else {
            let start = Instant::now();
            let state = job.run_without_runner().expect("baseline run");
            let elapsed = start.elapsed();
            assert_eq!(state.count, items);
            return elapsed;
        };
        self.runs += 1;
        let dir = self.scratch.join(format!("job-{}", self.runs));
        let runner = Runner::open(&self.fs, &dir, &mut job, config)
            .expect("open runner")
            .with_observer(clock.clone());
        let start = Instant::now();
        let outcome = runner.run().expect("run");
        let times = clock.finish();
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
        assert!(times.commits >= 1, "a completed run commits at least once");
        assert!(times.committing >= times.writing && times.committing <= elapsed);
        row.writing += times.writing;
        row.committing += times.committing;
        row.running += elapsed;
        row.commits += times.commits;
        elapsed
    }
}

type Results = Vec<(Duration, Duration, Vec<(Setting, Row)>)>;

/// The adaptive group's rows: (setting, loaded disk?, totals).
type AdaptiveResults = Vec<(Setting, bool, Row)>;

/// A thread that keeps the disk busy: rewrites a 256 KiB file in `dir` and
/// fsyncs it, in a loop, until dropped.
struct DiskLoad {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<u64>>,
    path: PathBuf,
}

impl DiskLoad {
    fn start(dir: &Path) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let path = dir.join("disk-load.bin");
        let thread = {
            let (stop, path) = (Arc::clone(&stop), path.clone());
            std::thread::spawn(move || {
                let block = vec![0x5a_u8; 256 << 10];
                let mut fsyncs = 0;
                while !stop.load(Ordering::Relaxed) {
                    let mut file = std::fs::File::create(&path).expect("disk load file");
                    file.write_all(&block).expect("disk load write");
                    file.sync_all().expect("disk load fsync");
                    fsyncs += 1;
                }
                fsyncs
            })
        };
        Self {
            stop,
            thread: Some(thread),
            path,
        }
    }
}

impl Drop for DiskLoad {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let fsyncs = thread.join().expect("disk load thread");
            println!("disk load: {fsyncs} fsyncs of 256 KiB while the loaded benches ran");
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

/// K = 50, K = 1000 and the adaptive runner on 20 µs items, quiet and
/// loaded.
fn bench_adaptive(c: &mut Criterion, bench: &mut Bench<'_>) -> AdaptiveResults {
    let spin = Spin::calibrate(ADAPTIVE_ITEM_COST);
    let mut results = AdaptiveResults::new();
    for loaded in [false, true] {
        let _load = loaded.then(|| DiskLoad::start(bench.scratch));
        let disk = if loaded { "loaded" } else { "quiet" };
        let mut group = c.benchmark_group(format!("runner_overhead/adaptive item 20us {disk}"));
        group.sample_size(10);
        group.sampling_mode(SamplingMode::Flat);
        for setting in [
            Setting::Every(50),
            Setting::Every(1000),
            Setting::Adaptive(ADAPTIVE_MAX_OVERHEAD),
        ] {
            let items_per_iter = match setting {
                Setting::Every(k) => k,
                _ => ADAPTIVE_ITEMS_PER_ITER,
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
            results.push((setting, loaded, row));
        }
        group.finish();
    }
    results
}

fn print_adaptive_summary(results: &AdaptiveResults) {
    println!();
    println!(
        "runner_overhead, K chosen online: 20 µs items, budget {} %, against fixed K, on a quiet \
         disk and under a background writer fsyncing 256 KiB in a loop (same disk)",
        ADAPTIVE_MAX_OVERHEAD * 100.0
    );
    if is_test_mode() {
        println!("{TEST_MODE_NOTE}");
    }
    println!(
        "  {:>12} {:>7} {:>10} {:>12} {:>10} {:>11} {:>9}",
        "setting", "disk", "time/item", "commit share", "overhead", "mean commit", "mean K"
    );
    for (setting, loaded, row) in results {
        let Some(time) = row
            .tally
            .mean_seconds()
            .map(|s| s / row.items_per_iter as f64)
        else {
            println!("  {:>12} not measured", setting.label());
            continue;
        };
        let committing = row.committing.as_secs_f64();
        let running = row.running.as_secs_f64();
        let commits = row.commits.max(1) as f64;
        let items = (row.tally.iters * row.items_per_iter) as f64;
        println!(
            "  {:>12} {:>7} {:>10} {:>11.1}% {:>9.2}% {:>11} {:>9.0}",
            setting.label(),
            if *loaded { "loaded" } else { "quiet" },
            format_seconds(time),
            100.0 * committing / running,
            100.0 * committing / (running - committing).max(1e-12),
            format_seconds(committing / commits),
            items / commits,
        );
    }
}

fn bench_fixed(c: &mut Criterion, bench: &mut Bench<'_>) -> Results {
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
                Setting::Adaptive(_) => ADAPTIVE_ITEMS_PER_ITER,
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
    println!("runner_overhead: the core's Runner on StdFs, per item cost and checkpoint setting");
    println!("  vs none:  time per item against the no-checkpoint bench (run at another moment)");
    println!("  commit share, overhead: whole commits (write, GC, yield check) timed inside the");
    println!("            same runs: share of run time, and commit time / work time");
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
            "  {:>9} {:>12} {:>10} {:>9} {:>12} {:>10} {:>11} {:>10}",
            "setting",
            "items/commit",
            "time/item",
            "vs none",
            "commit share",
            "overhead",
            "mean commit",
            "mean write"
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
            let dash = || "-".to_string();
            let vs_none = match (baseline, setting) {
                (Some(b), Setting::Every(_) | Setting::Interval(_)) => format!("{:.2}x", time / b),
                _ => dash(),
            };
            let (per_commit, share, overhead, commit, write) = if row.commits == 0 {
                (dash(), dash(), dash(), dash(), dash())
            } else {
                let committing = row.committing.as_secs_f64();
                let working = (row.running.as_secs_f64() - committing).max(1e-12);
                let commits = row.commits as f64;
                (
                    row.items_per_iter.to_string(),
                    format!("{:.1}%", 100.0 * committing / row.running.as_secs_f64()),
                    format!("{:.1}%", 100.0 * committing / working),
                    format_seconds(committing / commits),
                    format_seconds(row.writing.as_secs_f64() / commits),
                )
            };
            println!(
                "  {:>9} {:>12} {:>10} {:>9} {:>12} {:>10} {:>11} {:>10}",
                setting.label(),
                per_commit,
                format_seconds(time),
                vs_none,
                share,
                overhead,
                commit,
                write
            );
        }
    }
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    let scratch =
        scratch_dir(Path::new(env!("CARGO_TARGET_TMPDIR")), "runner-bench-").expect("scratch");
    println!("runner_overhead bench writes under {:?}", scratch.path());
    let mut bench = Bench {
        fs: StdFs::new(),
        scratch: scratch.path(),
        runs: 0,
    };
    let results = bench_fixed(&mut criterion, &mut bench);
    let adaptive = bench_adaptive(&mut criterion, &mut bench);
    criterion.final_summary();
    print_summary(&results);
    print_adaptive_summary(&adaptive);
}
