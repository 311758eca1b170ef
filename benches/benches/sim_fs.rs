//! SimFs cost: per simulated step, and per crash image (the explorer takes
//! one at every step of a 300–600 step run).

// A bench harness has no caller to return errors to: a failing filesystem
// call means the bench itself is broken, and stopping loudly is the contract.
#![allow(clippy::expect_used)]
#![allow(missing_docs)]

use std::hint::black_box;
use std::io;
use std::path::Path;

use crashproof_core::fs::Fs;
use crashproof_sim::SimView;
use crashproof_sim::{CrashModel, SimConfig, SimFs, StepAction};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

const ROUNDS: u64 = 50;
/// Steps per round of `checkpoint_rounds`.
const STEPS_PER_ROUND: u64 = 7;

/// The durable-replace pattern the core uses, `rounds` times, into a
/// directory that keeps the last 10 generations: 2 + 7 * rounds steps.
fn checkpoint_rounds(fs: &dyn Fs, rounds: u64) -> io::Result<()> {
    fs.create_dir_all(Path::new("/data"))?;
    fs.sync_dir(Path::new("/"))?;
    let payload = vec![0x5Au8; 4096];
    for r in 0..rounds {
        let tmp = Path::new("/data/ckpt.tmp");
        let h = fs.create_new(tmp)?;
        fs.write_all_at(&h, 0, &payload)?;
        fs.sync(&h)?;
        fs.close(h)?;
        fs.failpoint("replace.after_sync_before_rename")?;
        let name = format!("/data/ckpt-{}", r % 10);
        fs.rename(tmp, Path::new(&name))?;
        fs.sync_dir(Path::new("/data"))?;
    }
    Ok(())
}

/// A mid-run state: 10 durable checkpoints, then a new one written and
/// renamed but neither fsynced nor dir-synced (3 unsynced ops, 8 sectors of
/// data).
fn mid_run() -> SimFs {
    let fs = SimFs::new(SimConfig::with_seed(1));
    checkpoint_rounds(&fs, 20).expect("clean checkpoint rounds");
    let h = fs.create_new(Path::new("/data/ckpt.tmp")).expect("create");
    fs.write_all_at(&h, 0, &[1u8; 4096]).expect("write");
    fs.rename(Path::new("/data/ckpt.tmp"), Path::new("/data/ckpt-0"))
        .expect("rename");
    fs
}

fn bench(c: &mut Criterion) {
    let steps = 2 + STEPS_PER_ROUND * ROUNDS;
    let mut group = c.benchmark_group("sim_fs");

    group.throughput(Throughput::Elements(steps));
    group.bench_function("step (checkpoint workload, per step)", |b| {
        b.iter(|| {
            let fs = SimFs::new(SimConfig::with_seed(7));
            checkpoint_rounds(&fs, ROUNDS).expect("run");
            black_box(fs.steps())
        })
    });

    // The explorer's pattern: a DropUnsynced image at every step of the run.
    group.bench_function("run + DropUnsynced image at every step (per step)", |b| {
        b.iter(|| {
            let fs = SimFs::new(SimConfig::with_seed(7));
            fs.set_step_hook(Box::new(|info, source| {
                black_box(source.crash_image(CrashModel::DropUnsynced, info.index).fs);
                StepAction::Continue
            }));
            checkpoint_rounds(&fs, ROUNDS).expect("run");
            black_box(fs.steps())
        })
    });

    group.throughput(Throughput::Elements(1));
    let fs = mid_run();
    for model in [CrashModel::DropUnsynced, CrashModel::Subset] {
        let mut seed = 0u64;
        group.bench_function(format!("crash_image {model} (random pick)"), |b| {
            b.iter(|| {
                seed += 1;
                black_box(fs.crash_image(model, seed).fs)
            })
        });
    }
    group.bench_function("crash_images prefix (all 4, per call)", |b| {
        b.iter(|| black_box(fs.crash_images(CrashModel::Prefix, 100).expect("4 states")))
    });
    group.bench_function("recover on a DropUnsynced image (read 10 files)", |b| {
        b.iter_batched(
            || fs.crash_image(CrashModel::DropUnsynced, 3).fs,
            |image| {
                for entry in image.read_dir(Path::new("/data")).expect("list") {
                    let path = format!("/data/{}", entry.name);
                    black_box(image.read(Path::new(&path)).expect("read"));
                }
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
