//! `background_commit`: what background commits save a CPU-bound job on the
//! real disk, and what a kill costs with them.
//!
//! Timing: items are a calibrated CPU spin of about 20 µs; `none` processes
//! items without a runner (one item per iteration), `sync K=50` and
//! `background K=50` run the core's `Runner` on `StdFs` with
//! `checkpoint_every = 50` and synchronous or background commits (committer
//! thread), one iteration being one batch. Throughput is in items. The
//! summary gives each setting's time per item and its overhead against
//! `none`.
//!
//! Loss: seeded trials of a 20·K-item job with background commits, each
//! stopped once, then resumed to the end in the same directory: half the
//! trials stop at a random item (the job fails there, as if the process
//! died between items), half fail a random commit just before its rename
//! (the checkpoint in flight is lost, as if the process died during it;
//! the runner notices at its next item or hand-off). The redone items are
//! those both runs processed; the resumed run must give the clean output,
//! and the summary gives the mean and largest number redone against 2K.

// A bench has no caller to hand errors to: a failing run means the bench is
// broken, and stopping loudly is the contract.
#![allow(clippy::expect_used, clippy::panic)]
#![allow(missing_docs)]

use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crashproof_benches::scratch::scratch_dir;
use crashproof_benches::spin::Spin;
use crashproof_benches::spin_job::SpinJob;
use crashproof_benches::tally::{TEST_MODE_NOTE, Tally, format_seconds, is_test_mode};
use crashproof_core::failpoint::REPLACE_AFTER_SYNC_BEFORE_RENAME;
use crashproof_core::fs::{DirEntry, FileHandle, Fs, Metadata, OpenMode, StdFs};
use crashproof_core::{CommitMode, Outcome, Runner, RunnerConfig};
use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

const ITEM_COST: Duration = Duration::from_micros(20);
const CHECKPOINT_EVERY: u64 = 50;
/// Items per loss trial, in batches.
const BATCHES_PER_JOB: u64 = 20;
/// Loss trials (each kind gets half).
const TRIALS: u64 = 40;
const SEED: u64 = 12;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Setting {
    None,
    Sync,
    Background,
}

impl Setting {
    fn label(self) -> &'static str {
        match self {
            Setting::None => "none",
            Setting::Sync => "sync K=50",
            Setting::Background => "background K=50",
        }
    }
}

fn config(mode: CommitMode) -> RunnerConfig {
    RunnerConfig {
        commit_mode: mode,
        ..RunnerConfig::every(CHECKPOINT_EVERY)
    }
}

/// Runs `items` spin items under `setting` in a fresh directory; returns
/// the run's wall time (opening the runner excluded).
fn timed_run(fs: &StdFs, dir: &Path, spin: Spin, setting: Setting, items: u64) -> Duration {
    let mut job = SpinJob::new(items, Some(spin));
    let mode = match setting {
        Setting::None => {
            let start = Instant::now();
            let state = job.run_without_runner().expect("baseline run");
            let elapsed = start.elapsed();
            assert_eq!(state.count, items);
            return elapsed;
        }
        Setting::Sync => CommitMode::Synchronous,
        Setting::Background => CommitMode::Background,
    };
    let mut runner = Runner::open(fs, dir, &mut job, config(mode)).expect("open runner");
    if mode == CommitMode::Background {
        runner = runner.with_committer_thread();
    }
    let start = Instant::now();
    let outcome = runner.run().expect("run");
    let elapsed = start.elapsed();
    let Outcome::Completed {
        items_processed, ..
    } = outcome
    else {
        panic!("a fresh run must complete: {outcome:?}");
    };
    assert_eq!(items_processed, items);
    elapsed
}

/// `StdFs` whose `REPLACE_AFTER_SYNC_BEFORE_RENAME` failpoint fails at its
/// `fail_at`-th hit (0-based): that commit's checkpoint never gets its
/// name, as if the process had died there.
struct FailingCommit {
    fs: StdFs,
    hits: AtomicU64,
    fail_at: u64,
}

impl Fs for FailingCommit {
    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        self.fs.create_dir_all(path)
    }
    fn open(&self, path: &Path, mode: OpenMode) -> io::Result<FileHandle> {
        self.fs.open(path, mode)
    }
    fn write_all_at(&self, file: &FileHandle, offset: u64, bytes: &[u8]) -> io::Result<()> {
        self.fs.write_all_at(file, offset, bytes)
    }
    fn append(&self, file: &FileHandle, bytes: &[u8]) -> io::Result<()> {
        self.fs.append(file, bytes)
    }
    fn sync(&self, file: &FileHandle) -> io::Result<()> {
        self.fs.sync(file)
    }
    fn close(&self, file: FileHandle) -> io::Result<()> {
        self.fs.close(file)
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        self.fs.sync_dir(dir)
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.fs.rename(from, to)
    }
    fn remove_file(&self, path: &Path) -> io::Result<()> {
        self.fs.remove_file(path)
    }
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.fs.read(path)
    }
    fn read_dir(&self, dir: &Path) -> io::Result<Vec<DirEntry>> {
        self.fs.read_dir(dir)
    }
    fn metadata(&self, path: &Path) -> io::Result<Metadata> {
        self.fs.metadata(path)
    }
    fn exists(&self, path: &Path) -> io::Result<bool> {
        self.fs.exists(path)
    }
    fn try_lock(&self, path: &Path) -> io::Result<FileHandle> {
        self.fs.try_lock(path)
    }
    fn create_dir(&self, path: &Path) -> io::Result<()> {
        self.fs.create_dir(path)
    }
    fn remove_dir(&self, path: &Path) -> io::Result<()> {
        self.fs.remove_dir(path)
    }
    fn hard_link(&self, original: &Path, link: &Path) -> io::Result<()> {
        self.fs.hard_link(original, link)
    }
    fn set_len(&self, file: &FileHandle, len_bytes: u64) -> io::Result<()> {
        self.fs.set_len(file, len_bytes)
    }
    fn read_at(&self, file: &FileHandle, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        self.fs.read_at(file, offset, buf)
    }
    fn file_metadata(&self, file: &FileHandle) -> io::Result<Metadata> {
        self.fs.file_metadata(file)
    }
    fn sync_data(&self, file: &FileHandle) -> io::Result<()> {
        self.fs.sync_data(file)
    }
    fn failpoint(&self, name: &'static str) -> io::Result<()> {
        if name == REPLACE_AFTER_SYNC_BEFORE_RENAME
            && self.hits.fetch_add(1, Ordering::SeqCst) == self.fail_at
        {
            return Err(io::Error::other("simulated kill during a commit"));
        }
        self.fs.failpoint(name)
    }
}

#[derive(Debug, Default)]
struct LossRow {
    trials: u64,
    redone_total: u64,
    redone_max: u64,
}

/// One stopped run and its resume; adds the items redone to `row`.
fn loss_trial(scratch: &Path, trial: u64, rng: &mut ChaCha8Rng, row: &mut LossRow) {
    let k = CHECKPOINT_EVERY;
    let items = k * BATCHES_PER_JOB;
    let dir = scratch.join(format!("loss-{trial}"));
    let in_commit = trial % 2 == 1;
    let (mut killed, fs) = if in_commit {
        // Never the final commit: the run must stop before the end.
        let fail_at = rng.random_range(0..BATCHES_PER_JOB - 1);
        let fs = FailingCommit {
            fs: StdFs::new(),
            hits: AtomicU64::new(0),
            fail_at,
        };
        (SpinJob::new(items, None), fs)
    } else {
        let kill_at = rng.random_range(0..items);
        let fs = FailingCommit {
            fs: StdFs::new(),
            hits: AtomicU64::new(0),
            fail_at: u64::MAX,
        };
        (SpinJob::new(items, None).killed_at(kill_at), fs)
    };
    Runner::open(&fs, &dir, &mut killed, config(CommitMode::Background))
        .expect("open")
        .with_committer_thread()
        .run()
        .expect_err("the stopped run must fail");
    let clean = SpinJob::new(items, None)
        .run_without_runner()
        .expect("clean run");
    let mut resumed = SpinJob::new(items, None);
    let outcome = Runner::open(&fs.fs, &dir, &mut resumed, config(CommitMode::Background))
        .expect("reopen")
        .with_committer_thread()
        .run()
        .expect("resume");
    let Outcome::Completed {
        output,
        redone_at_most,
        ..
    } = outcome
    else {
        panic!("the resumed run must complete: {outcome:?}");
    };
    assert_eq!(output, clean, "a resumed run must give the clean output");
    let before = killed.processed_range();
    let after = resumed.processed_range();
    let redone = before
        .end
        .min(after.end)
        .saturating_sub(before.start.max(after.start));
    assert!(redone <= 2 * k, "redid {redone} items with K = {k}");
    assert!(redone <= redone_at_most, "the runner's bound must hold");
    row.trials += 1;
    row.redone_total += redone;
    row.redone_max = row.redone_max.max(redone);
}

fn bench(c: &mut Criterion) -> (Vec<(Setting, Tally)>, [LossRow; 2]) {
    let scratch =
        scratch_dir(Path::new(env!("CARGO_TARGET_TMPDIR")), "background-bench-").expect("scratch");
    println!("background_commit bench writes under {:?}", scratch.path());
    let fs = StdFs::new();
    let spin = Spin::calibrate(ITEM_COST);
    let mut group = c.benchmark_group(format!(
        "background_commit/item {}us",
        ITEM_COST.as_micros()
    ));
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    let mut rows = Vec::new();
    let mut runs = 0u64;
    for setting in [Setting::None, Setting::Sync, Setting::Background] {
        let items_per_iter = if setting == Setting::None {
            1
        } else {
            CHECKPOINT_EVERY
        };
        let mut tally = Tally::default();
        group.throughput(Throughput::Elements(items_per_iter));
        group.bench_function(BenchmarkId::from_parameter(setting.label()), |b| {
            b.iter_custom(|iters| {
                runs += 1;
                let dir = scratch.path().join(format!("run-{runs}"));
                let elapsed = timed_run(&fs, &dir, spin, setting, iters * items_per_iter);
                tally.add(elapsed, iters * items_per_iter);
                elapsed
            })
        });
        rows.push((setting, tally));
    }
    group.finish();
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let mut loss = [LossRow::default(), LossRow::default()];
    let trials = if is_test_mode() { 2 } else { TRIALS };
    for trial in 0..trials {
        loss_trial(
            scratch.path(),
            trial,
            &mut rng,
            &mut loss[(trial % 2) as usize],
        );
    }
    (rows, loss)
}

fn print_summary(rows: &[(Setting, Tally)], loss: &[LossRow; 2]) {
    println!();
    println!(
        "background_commit: the core's Runner on StdFs, items of ~{} us, K = {CHECKPOINT_EVERY}",
        ITEM_COST.as_micros()
    );
    if is_test_mode() {
        println!("{TEST_MODE_NOTE}");
    }
    let base = rows
        .iter()
        .find(|(s, _)| *s == Setting::None)
        .and_then(|(_, t)| t.mean_seconds());
    println!(
        "  {:>16} {:>14} {:>10}",
        "setting", "time per item", "overhead"
    );
    for (setting, tally) in rows {
        let Some(per_item) = tally.mean_seconds() else {
            println!("  {:>16} not measured", setting.label());
            continue;
        };
        let overhead = base.map_or_else(
            || "-".to_owned(),
            |b| format!("{:+.1}%", (per_item / b - 1.0) * 100.0),
        );
        println!(
            "  {:>16} {:>14} {:>10}",
            setting.label(),
            format_seconds(per_item),
            overhead
        );
    }
    println!(
        "  items redone after a stop, background commits (jobs of {} items, bound 2K = {}):",
        CHECKPOINT_EVERY * BATCHES_PER_JOB,
        2 * CHECKPOINT_EVERY
    );
    for (name, row) in ["stopped between items", "stopped in a commit"]
        .iter()
        .zip(loss)
    {
        if row.trials == 0 {
            continue;
        }
        println!(
            "  {:>24}: {} trials, mean {:.1}, max {} ({})",
            name,
            row.trials,
            row.redone_total as f64 / row.trials as f64,
            row.redone_max,
            if row.redone_max <= 2 * CHECKPOINT_EVERY {
                "<= 2K"
            } else {
                "ABOVE 2K"
            }
        );
    }
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    let (rows, loss) = bench(&mut criterion);
    criterion.final_summary();
    print_summary(&rows, &loss);
}
