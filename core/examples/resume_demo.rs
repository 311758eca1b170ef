//! Runs a 10 000-item job with K = 500 on the real filesystem, yields it
//! halfway, resumes it, and checks the result against a clean run.
//!
//! `cargo run -p crashproof-core --example resume_demo` (exits non-zero if
//! the resumed result differs from the clean one).

use std::error::Error;
use std::path::Path;

use crashproof_core::fs::StdFs;
use crashproof_core::{
    Job, JobError, Outcome, ResumePoint, RunObserver, Runner, RunnerConfig, YieldSignal,
    stable_digest,
};
use serde::{Deserialize, Serialize};

const ITEMS: u64 = 10_000;
const CHECKPOINT_EVERY: u64 = 500;

/// Folds a hash of every item index into an order-sensitive digest.
struct HashJob;

#[derive(Serialize, Deserialize)]
struct HashState {
    sum: u64,
    chain: u64,
}

impl Job for HashJob {
    type State = HashState;
    type Output = String;

    fn name(&self) -> &str {
        "hash-demo"
    }

    fn fingerprint(&self) -> u64 {
        stable_digest(format!("hash-demo/v1/{ITEMS}").as_bytes())
    }

    fn item_count(&self) -> u64 {
        ITEMS
    }

    fn initial_state(&self) -> HashState {
        HashState { sum: 0, chain: 0 }
    }

    fn process(&mut self, index: u64, state: &mut HashState) -> Result<(), JobError> {
        let value = stable_digest(&index.to_le_bytes());
        state.sum = state.sum.wrapping_add(value);
        state.chain = state.chain.rotate_left(9) ^ value;
        Ok(())
    }

    fn finalize(&mut self, state: &HashState) -> Result<String, JobError> {
        Ok(format!("sum={:016x} chain={:016x}", state.sum, state.chain))
    }
}

/// Asks the runner to yield once item `at` is processed (it yields at the
/// next commit, with everything so far durable).
struct YieldAt {
    at: u64,
    signal: YieldSignal,
}

impl RunObserver for YieldAt {
    fn item_processed(&mut self, index: u64) {
        if index == self.at {
            self.signal.request();
        }
    }
}

fn run_to_completion(dir: &Path) -> Result<(String, Option<ResumePoint>, u64), Box<dyn Error>> {
    let fs = StdFs::new();
    let mut job = HashJob;
    match Runner::open(&fs, dir, &mut job, RunnerConfig::every(CHECKPOINT_EVERY))?.run()? {
        Outcome::Completed {
            output,
            resumed_from,
            items_processed,
            ..
        } => Ok((output, resumed_from, items_processed)),
        Outcome::Yielded { cursor, .. } => Err(format!("unexpected yield at {cursor}").into()),
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    tracing_subscriber::fmt().with_target(false).init();
    let tmp = tempfile::tempdir()?;
    let fs = StdFs::new();

    // 1. Start the job and yield halfway.
    let resumable = tmp.path().join("resumable");
    let signal = YieldSignal::new();
    let observer = YieldAt {
        at: ITEMS / 2 - 1,
        signal: signal.clone(),
    };
    let mut job = HashJob;
    let first = Runner::open(
        &fs,
        &resumable,
        &mut job,
        RunnerConfig::every(CHECKPOINT_EVERY),
    )?
    .with_yield_signal(signal)
    .with_observer(observer)
    .run()?;
    let Outcome::Yielded {
        cursor, generation, ..
    } = first
    else {
        return Err("the first run was expected to yield halfway".into());
    };
    println!("first run yielded at cursor {cursor} (generation {generation}, durable)");

    // 2. Resume it to completion.
    let (resumed_output, resumed_from, items_processed) = run_to_completion(&resumable)?;
    match resumed_from {
        Some(point) => println!(
            "resumed from generation {} at cursor {}, processed {items_processed} items",
            point.generation, point.cursor
        ),
        None => return Err("the second run did not resume".into()),
    }

    // 3. A clean run in a fresh directory.
    let (clean_output, _, _) = run_to_completion(&tmp.path().join("clean"))?;

    println!("resumed result: {resumed_output}");
    println!("clean result:   {clean_output}");
    if resumed_output == clean_output {
        println!("equal: yes");
        Ok(())
    } else {
        Err("the resumed result differs from the clean run".into())
    }
}
