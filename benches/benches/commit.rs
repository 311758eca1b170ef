//! `commit`: one durable atomic file replacement, four ways, at 4 KiB,
//! 64 KiB and 1 MiB, on a real directory (`$CRASHPROOF_BENCH_DIR`, else the
//! target directory):
//!
//! - `core`: `crashproof_core::replace` on `StdFs`;
//! - `minimal`: the hand-written sequence (exclusive create, write, fsync,
//!   close, rename, fsync of the directory), the floor to compare against;
//! - `atomicwrites`: the `atomicwrites` crate (temp file in a fresh temp
//!   subdirectory, fsync, rename, fsync of both directories);
//! - `tempfile`: `tempfile::NamedTempFile` + fsync + `persist` + a
//!   directory fsync.
//!
//! After criterion's output it prints each protocol's mean and its ratio to
//! `minimal`, then a report step: `ROUNDS` rounds in which the four
//! protocols take turns (each going first equally often), with each
//! protocol's median and its ratio to
//! `minimal`. Taking turns makes the ratio hold on a busy disk, where
//! criterion's means, each taken in its own time slot, drift with the load.

// A bench has no caller to hand errors to: a failing filesystem call means
// the bench is broken, and stopping loudly is the contract.
#![allow(clippy::expect_used)]
#![allow(missing_docs)]

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use atomicwrites::{AtomicFile, OverwriteBehavior};
use crashproof_benches::scratch::scratch_dir;
use crashproof_benches::tally::{TEST_MODE_NOTE, Tally, format_seconds, is_test_mode};
use crashproof_core::fs::StdFs;
use criterion::{BenchmarkId, Criterion, Throughput};

const SIZES_BYTES: [usize; 3] = [4 << 10, 64 << 10, 1 << 20];
/// Rounds of the report step (one in `--test` mode).
const ROUNDS: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    Core,
    Minimal,
    AtomicWrites,
    Tempfile,
}

impl Protocol {
    const ALL: [Protocol; 4] = [
        Protocol::Minimal,
        Protocol::Core,
        Protocol::AtomicWrites,
        Protocol::Tempfile,
    ];

    fn name(self) -> &'static str {
        match self {
            Protocol::Core => "core",
            Protocol::Minimal => "minimal",
            Protocol::AtomicWrites => "atomicwrites",
            Protocol::Tempfile => "tempfile",
        }
    }
}

/// Durably replaces `target` (in directory `dir`) with `bytes`.
fn commit_once(
    protocol: Protocol,
    fs: &StdFs,
    dir: &Path,
    target: &Path,
    bytes: &[u8],
) -> io::Result<()> {
    match protocol {
        Protocol::Core => crashproof_core::replace(fs, target, bytes),
        Protocol::Minimal => {
            let temp = dir.join(".target.tmp");
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&temp)?;
            file.write_all(bytes)?;
            file.sync_all()?;
            drop(file);
            fs::rename(&temp, target)?;
            File::open(dir)?.sync_all()
        }
        Protocol::AtomicWrites => AtomicFile::new(target, OverwriteBehavior::AllowOverwrite)
            .write(|f| f.write_all(bytes))
            .map_err(io::Error::other),
        Protocol::Tempfile => {
            let mut temp = tempfile::NamedTempFile::new_in(dir)?;
            temp.write_all(bytes)?;
            temp.as_file().sync_all()?;
            temp.persist(target).map_err(|e| e.error)?;
            File::open(dir)?.sync_all()
        }
    }
}

/// Mean time per commit, per size and protocol.
type Results = Vec<(usize, Protocol, Tally)>;

fn bench(c: &mut Criterion, scratch: &Path) -> Results {
    let fs = StdFs::new();
    let mut results = Results::new();
    let mut group = c.benchmark_group("commit");
    for size in SIZES_BYTES {
        let bytes = vec![0xA5u8; size];
        group.throughput(Throughput::Bytes(size as u64));
        for protocol in Protocol::ALL {
            let dir: PathBuf = scratch.join(format!("{}-{size}", protocol.name()));
            fs::create_dir(&dir).expect("protocol directory");
            let target = dir.join("checkpoint");
            let mut tally = Tally::default();
            group.bench_function(BenchmarkId::new(protocol.name(), size), |b| {
                b.iter_custom(|iters| {
                    let start = Instant::now();
                    for _ in 0..iters {
                        commit_once(protocol, &fs, &dir, &target, &bytes).expect("commit");
                    }
                    let elapsed = start.elapsed();
                    tally.add(elapsed, iters);
                    elapsed
                })
            });
            // Checked after the timing: the last commit left the whole file.
            if tally.iters > 0 {
                assert_eq!(fs::read(&target).expect("read back").len(), size);
            }
            results.push((size, protocol, tally));
        }
    }
    group.finish();
    results
}

/// Median seconds per size and protocol, from `rounds` rounds in which the
/// protocols take turns.
fn take_turns(scratch: &Path, rounds: usize) -> Vec<(usize, Protocol, f64)> {
    let fs = StdFs::new();
    let mut medians = Vec::new();
    for size in SIZES_BYTES {
        let bytes = vec![0x5Au8; size];
        let mut samples: Vec<(Protocol, Vec<f64>)> =
            Protocol::ALL.iter().map(|&p| (p, Vec::new())).collect();
        for round in 0..rounds {
            // Each protocol goes first equally often: a commit right after
            // another one's fsync does not cost what one after a pause does.
            samples.rotate_left(usize::from(round > 0));
            for (protocol, times) in &mut samples {
                let dir = scratch.join(format!("turns-{}-{size}", protocol.name()));
                fs::create_dir_all(&dir).expect("protocol directory");
                let target = dir.join("checkpoint");
                let start = Instant::now();
                commit_once(*protocol, &fs, &dir, &target, &bytes).expect("commit");
                times.push(start.elapsed().as_secs_f64());
            }
        }
        for (protocol, mut times) in samples {
            times.sort_by(f64::total_cmp);
            medians.push((size, protocol, times[times.len() / 2]));
        }
    }
    medians
}

fn print_turns(medians: &[(usize, Protocol, f64)], rounds: usize) {
    println!();
    println!(
        "commit: median of {rounds} rounds in which the protocols take turns, and ratio to minimal"
    );
    print!("{:>9}", "size");
    for protocol in Protocol::ALL {
        print!("  {:>21}", protocol.name());
    }
    println!();
    for size in SIZES_BYTES {
        let median = |p: Protocol| {
            medians
                .iter()
                .find(|(s, q, _)| *s == size && *q == p)
                .map(|(_, _, m)| *m)
        };
        print!("{:>7}KiB", size >> 10);
        for protocol in Protocol::ALL {
            match (median(protocol), median(Protocol::Minimal)) {
                (Some(m), Some(floor)) => {
                    print!("  {:>12} {:>6.2}x", format_seconds(m), m / floor)
                }
                _ => print!("  {:>21}", "not measured"),
            }
        }
        println!();
    }
}

fn print_summary(results: &Results) {
    println!();
    println!(
        "commit: criterion's mean time per durable replace, and ratio to the minimal sequence"
    );
    if is_test_mode() {
        println!("{TEST_MODE_NOTE}");
    }
    print!("{:>9}", "size");
    for protocol in Protocol::ALL {
        print!("  {:>21}", protocol.name());
    }
    println!();
    for size in SIZES_BYTES {
        let mean = |p: Protocol| {
            results
                .iter()
                .find(|(s, q, _)| *s == size && *q == p)
                .and_then(|(_, _, t)| t.mean_seconds())
        };
        let minimal = mean(Protocol::Minimal);
        print!("{:>7}KiB", size >> 10);
        for protocol in Protocol::ALL {
            match (mean(protocol), minimal) {
                (Some(m), Some(floor)) => {
                    print!("  {:>12} {:>6.2}x", format_seconds(m), m / floor)
                }
                (Some(m), None) => print!("  {:>12} {:>7}", format_seconds(m), "-"),
                (None, _) => print!("  {:>21}", "not measured"),
            }
        }
        println!();
    }
}

fn main() {
    let scratch = scratch_dir(Path::new(env!("CARGO_TARGET_TMPDIR")), "commit-bench-")
        .expect("scratch directory");
    println!("commit bench writes under {:?}", scratch.path());
    let mut criterion = Criterion::default().configure_from_args();
    let results = bench(&mut criterion, scratch.path());
    criterion.final_summary();
    print_summary(&results);
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let rounds = if is_test_mode() { 1 } else { ROUNDS };
    print_turns(&take_turns(scratch.path(), rounds), rounds);
}
