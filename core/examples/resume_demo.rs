//! Runs a 10 000-item job with K = 500 on the real filesystem, yields it
//! halfway, damages the newest checkpoint (as a bad disk might), resumes it
//! (recovery falls back one generation and says which file it skipped and
//! why), and checks the result against a clean run.
//!
//! `cargo run -p crashproof-core --example resume_demo` (exits non-zero if
//! the resumed result differs from the clean one). Log lines are coloured
//! only when stdout is a terminal and `NO_COLOR` is unset.

use std::error::Error;
use std::ffi::OsStr;
use std::io::{IsTerminal, Write};
use std::path::Path;

use crashproof_core::fs::StdFs;
use crashproof_core::{
    Job, JobError, Outcome, ResumePoint, RunObserver, Runner, RunnerConfig, SkippedGeneration,
    YieldSignal, stable_digest,
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

/// What a completed run reports.
struct Completed {
    output: String,
    resumed_from: Option<ResumePoint>,
    items_processed: u64,
    redone_at_most: u64,
    skipped: Vec<SkippedGeneration>,
}

fn run_to_completion(dir: &Path) -> Result<Completed, Box<dyn Error>> {
    let fs = StdFs::new();
    let mut job = HashJob;
    match Runner::open(&fs, dir, &mut job, RunnerConfig::every(CHECKPOINT_EVERY))?.run()? {
        Outcome::Completed {
            output,
            resumed_from,
            items_processed,
            redone_at_most,
            skipped,
        } => Ok(Completed {
            output,
            resumed_from,
            items_processed,
            redone_at_most,
            skipped,
        }),
        Outcome::Yielded { cursor, .. } => Err(format!("unexpected yield at {cursor}").into()),
    }
}

/// Whether log lines may carry ANSI colour codes: only on a terminal, and
/// not when `NO_COLOR` is set (<https://no-color.org>).
fn colour_wanted(is_terminal: bool, no_color: Option<&OsStr>) -> bool {
    is_terminal && no_color.is_none_or(OsStr::is_empty)
}

/// The demo, printing to `out`; returns whether the results were equal.
fn demo(root: &Path, out: &mut dyn Write) -> Result<bool, Box<dyn Error>> {
    let fs = StdFs::new();

    // 1. Start the job and yield halfway.
    let resumable = root.join("resumable");
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
    writeln!(
        out,
        "first run yielded at cursor {cursor} (generation {generation}, durable)"
    )?;

    // 2. Damage the newest checkpoint: flip one bit in its payload.
    let newest = resumable.join(crashproof_core::store::generation_file_name(generation));
    let mut bytes = std::fs::read(&newest)?;
    let middle = bytes.len() / 2;
    if let Some(byte) = bytes.get_mut(middle) {
        *byte ^= 0x04;
    }
    std::fs::write(&newest, &bytes)?;
    writeln!(out, "damaged generation {generation} (one bit flipped)")?;

    // 3. Resume it to completion: recovery skips the damaged file.
    let resumed = run_to_completion(&resumable)?;
    for skipped in &resumed.skipped {
        writeln!(out, "recovery skipped {skipped}")?;
    }
    match resumed.resumed_from {
        Some(point) => writeln!(
            out,
            "resumed from generation {} at cursor {}, processed {} items (at most {} of them \
             processed before)",
            point.generation, point.cursor, resumed.items_processed, resumed.redone_at_most
        )?,
        None => return Err("the second run did not resume".into()),
    }

    // 4. A clean run in a fresh directory.
    let clean = run_to_completion(&root.join("clean"))?;

    writeln!(out, "resumed result: {}", resumed.output)?;
    writeln!(out, "clean result:   {}", clean.output)?;
    let equal = resumed.output == clean.output;
    writeln!(out, "equal: {}", if equal { "yes" } else { "no" })?;
    Ok(equal)
}

fn main() -> Result<(), Box<dyn Error>> {
    let ansi = colour_wanted(
        std::io::stdout().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    );
    tracing_subscriber::fmt()
        .with_target(false)
        .with_ansi(ansi)
        .init();
    let tmp = tempfile::tempdir()?;
    if demo(tmp.path(), &mut std::io::stdout())? {
        Ok(())
    } else {
        Err("the resumed result differs from the clean run".into())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::sync::{Arc, Mutex};

    use super::*;

    /// A `MakeWriter` collecting log lines in memory.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Runs the demo with log lines and output captured, colour as
    /// `colour_wanted` decides for a writer that is (not) a terminal.
    fn run_demo(is_terminal: bool) -> (bool, String, String) {
        let logs = Captured::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_target(false)
            .with_ansi(colour_wanted(is_terminal, None))
            .with_writer(move || writer.clone())
            .finish();
        let tmp = tempfile::tempdir().unwrap();
        let mut out = Vec::new();
        let equal =
            tracing::subscriber::with_default(subscriber, || demo(tmp.path(), &mut out).unwrap());
        let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
        (equal, String::from_utf8(out).unwrap(), logs)
    }

    #[test]
    fn no_colour_codes_when_output_is_not_a_terminal() {
        let (equal, out, logs) = run_demo(false);
        assert!(equal, "{out}");
        assert!(
            logs.contains("corrupt"),
            "the fallback was not logged: {logs}"
        );
        assert!(!logs.contains('\u{1b}'), "escape codes in {logs:?}");
        assert!(!out.contains('\u{1b}'), "escape codes in {out:?}");
        // Teeth: on a terminal the same subscriber does colour.
        let (_, _, coloured) = run_demo(true);
        assert!(coloured.contains('\u{1b}'), "{coloured:?}");
    }

    #[test]
    fn the_demo_prints_the_skipped_generation_and_falls_back_one_generation() {
        let (equal, out, _) = run_demo(false);
        assert!(equal, "{out}");
        assert!(
            out.contains("recovery skipped generation 10 ("),
            "no skipped generation in {out}"
        );
        assert!(
            out.contains("is damaged: checkpoint envelope checksum mismatch"),
            "{out}"
        );
        assert!(
            out.contains("resumed from generation 9 at cursor 4500"),
            "{out}"
        );
    }

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(colour_wanted(true, None));
        assert!(colour_wanted(true, Some(OsStr::new(""))));
        assert!(!colour_wanted(true, Some(OsStr::new("1"))));
        assert!(!colour_wanted(false, None));
    }
}
