//! Before exploring a program: two clean runs that must agree step for
//! step, on the mount, with something that could fail. A program that
//! ignores its data directory, varies between runs, or can fail no check
//! is refused with the reason, never explored into a vacuous "OK".

use std::time::{Duration, Instant};

use crashproof_sim::explore::{CleanRun, Explorer, HarnessError};

use crate::command::CommandWorkload;

/// The clean run the exploration is measured against, and how long the
/// faster of the two took (the base of the run timeout).
#[derive(Debug, Clone)]
pub struct Preflight {
    /// The first clean run.
    pub clean: CleanRun,
    /// The faster clean run's wall time.
    pub fastest: Duration,
}

/// Why a program cannot be explored.
#[derive(Debug, thiserror::Error)]
pub enum PreflightError {
    /// The clean run failed (exit status, check, timeout, ...).
    #[error(transparent)]
    Harness(#[from] HarnessError),
    /// Nothing was written on the mount (no step, or only reads).
    #[error(
        "the program wrote nothing on the mount: it keeps its data somewhere else, so no crash \
         can lose anything and nothing would be checked. Pass the data directory as \
         `{{dir}}` in its arguments or read CRASHPROOF_DIR, and keep every file whose \
         durability matters there"
    )]
    NoSteps,
    /// Two clean runs made different steps.
    #[error(
        "the program is not deterministic: two clean runs differ at step {step}\n  first run:  \
         {first}\n  second run: {second}\nCrash points are steps, and a case replays the run to \
         its step, so the filesystem calls must be the same every run (no timestamps, random or \
         PID-based names, thread races or wall-clock decisions in what it does on disk)"
    )]
    Nondeterministic {
        /// The first step that differs.
        step: usize,
        /// That step in the first run (or `(run ended)`).
        first: String,
        /// That step in the second run.
        second: String,
    },
    /// Two clean runs printed different results.
    #[error(
        "the program is not deterministic: two clean runs printed different stdout\n  first:  \
         {first:?}\n  second: {second:?}\nstdout is the result every resumed run is compared \
         with: print only the result there (diagnostics on stderr), or pass --ignore-stdout"
    )]
    OutputDiffers {
        /// The first run's stdout (clipped).
        first: String,
        /// The second run's stdout (clipped).
        second: String,
    },
    /// Nothing could tell a damaged run from a good one.
    #[error(
        "nothing could fail: the program prints nothing on stdout{ignored} and no --check \
         command was given, so no post-crash state could be told from a good one. Print the \
         result on stdout, or give --check '<command that exits 0 when {{dir}} is right>'"
    )]
    NothingCouldFail {
        /// `" (--ignore-stdout)"` when stdout is ignored.
        ignored: &'static str,
    },
}

/// Runs the program's clean run twice and checks that it made steps on the
/// mount, that both runs made the same steps and printed the same stdout,
/// and that some check could fail.
pub fn preflight(
    explorer: &Explorer<'_>,
    workload: &CommandWorkload,
) -> Result<Preflight, PreflightError> {
    let started = Instant::now();
    // The explorer refuses a clean run that wrote nothing through the
    // simulator; for a program that means nothing written on the mount.
    let first = explorer.clean_run().map_err(|e| match e {
        HarnessError::NoFilesystemStep { .. } => PreflightError::NoSteps,
        e => PreflightError::Harness(e),
    })?;
    let first_time = started.elapsed();
    if first.steps == 0 {
        return Err(PreflightError::NoSteps);
    }
    let started = Instant::now();
    let second = explorer.clean_run()?;
    let fastest = first_time.min(started.elapsed());
    let lines = |run: &CleanRun| -> Vec<String> {
        run.trace.entries.iter().map(ToString::to_string).collect()
    };
    let (a, b) = (lines(&first), lines(&second));
    if let Some(step) = (0..a.len().max(b.len())).find(|&i| a.get(i) != b.get(i)) {
        let at = |v: &[String]| {
            v.get(step)
                .map_or("(run ended)".to_string(), |s| s.trim().to_string())
        };
        return Err(PreflightError::Nondeterministic {
            step,
            first: at(&a),
            second: at(&b),
        });
    }
    if first.output != second.output {
        let clip = |s: &str| s.chars().take(200).collect::<String>();
        return Err(PreflightError::OutputDiffers {
            first: clip(&first.output),
            second: clip(&second.output),
        });
    }
    if first.output.is_empty() && workload.check_command().is_none() {
        return Err(PreflightError::NothingCouldFail {
            ignored: if workload.compares_stdout() {
                ""
            } else {
                " (--ignore-stdout)"
            },
        });
    }
    Ok(Preflight {
        clean: first,
        fastest,
    })
}
