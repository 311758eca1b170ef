//! The two oracles (and the redo bound) as plain functions over values.

use std::panic::{AssertUnwindSafe, catch_unwind};

use super::case::{LastCrash, panic_message};
use super::explorer::CleanRun;
use super::violation::Oracle;
use super::workload::{CheckpointId, Completion, Progress, Recovered, Workload};
use crate::SimFs;

/// An oracle's "no": which one and why. Becomes a `Violation` with the
/// schedule, seed and trace attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The check that failed.
    pub oracle: Oracle,
    /// What it saw, one line.
    pub message: String,
}

impl Finding {
    /// A finding of `oracle` saying `message`.
    pub fn new(oracle: Oracle, message: impl Into<String>) -> Self {
        Self {
            oracle,
            message: message.into(),
        }
    }
}

/// What [`Workload::inspect`] said about a post-crash disk, panics caught:
/// the expensive half of the state oracle, a function of the disk alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Inspected {
    /// It named the checkpoint recovery would load (or none).
    Loaded(Recovered),
    /// It returned an error (its text).
    Failed(String),
    /// It panicked (the payload's text).
    Panicked(String),
}

/// Runs [`Workload::inspect`] on `image`, catching a panic.
pub(crate) fn inspect_state(workload: &dyn Workload, image: &SimFs) -> Inspected {
    match catch_unwind(AssertUnwindSafe(|| workload.inspect(image))) {
        Err(p) => Inspected::Panicked(panic_message(p.as_ref())),
        Ok(Err(e)) => Inspected::Failed(e.to_string()),
        Ok(Ok(recovered)) => Inspected::Loaded(recovered),
    }
}

/// The state oracle on one post-crash disk: recovery must not panic; the
/// checkpoint it would load must be one the program attempted (else it is
/// garbage or a torn file that happens to parse) and must not be older than
/// the last acknowledged one; without a loadable checkpoint nothing may have
/// been acknowledged. Returns the cursor recovery would resume at.
pub fn check_state(
    workload: &dyn Workload,
    image: &SimFs,
    progress: &Progress,
) -> Result<Option<u64>, Finding> {
    judge_state(
        &inspect_state(workload, image),
        &|id| progress.attempted().contains(id),
        progress.acknowledged(),
    )
}

/// The cheap half of the state oracle: what inspection said, against the
/// progress record at the crash (`attempted`, `acked`).
pub(crate) fn judge_state(
    inspected: &Inspected,
    attempted: &dyn Fn(&CheckpointId) -> bool,
    acked: Option<CheckpointId>,
) -> Result<Option<u64>, Finding> {
    match inspected {
        Inspected::Panicked(message) => Err(Finding::new(
            Oracle::Panic,
            format!("recovery (inspect) panicked: {message}"),
        )),
        Inspected::Loaded(Recovered {
            checkpoint: Some(id),
        }) => {
            if !attempted(id) {
                return Err(Finding::new(
                    Oracle::State,
                    format!(
                        "recovery would load checkpoint cursor {} digest {:#018x}, which the program never wrote \
                         (garbage or a torn file that parses)",
                        id.cursor, id.state_digest
                    ),
                ));
            }
            if let Some(ack) = acked.filter(|a| id.cursor < a.cursor) {
                return Err(Finding::new(
                    Oracle::State,
                    format!(
                        "acknowledged progress lost: recovery would resume at cursor {} but cursor {} was acknowledged durable",
                        id.cursor, ack.cursor
                    ),
                ));
            }
            Ok(Some(id.cursor))
        }
        Inspected::Loaded(Recovered { checkpoint: None }) => match acked {
            Some(ack) => Err(Finding::new(
                Oracle::State,
                format!(
                    "acknowledged progress lost: recovery would start over but cursor {} was acknowledged durable",
                    ack.cursor
                ),
            )),
            None => Ok(None),
        },
        Inspected::Failed(e) => match acked {
            Some(ack) => Err(Finding::new(
                Oracle::State,
                format!(
                    "recovery fails ({e}) although cursor {} was acknowledged durable",
                    ack.cursor
                ),
            )),
            None => Ok(None),
        },
    }
}

/// The redo bound: after a crash that forgot items up to `processed`, a
/// resume at `resumed` redoes `processed + 1 - resumed` items, at most
/// `workload.redo_bound()`.
pub fn check_redo(
    workload: &dyn Workload,
    processed: Option<u64>,
    resumed: u64,
    how: &str,
) -> Result<(), Finding> {
    let Some(processed) = processed else {
        return Ok(());
    };
    let redo = processed.saturating_add(1).saturating_sub(resumed);
    let bound = workload.redo_bound();
    if redo > bound {
        return Err(Finding::new(
            Oracle::Result,
            format!(
                "too much work redone: items up to {processed} were processed before the crash, {how} at {resumed}: \
                 {redo} items redone > redo bound {bound}"
            ),
        ));
    }
    Ok(())
}

/// The result oracle on a run that completed on `fs`: same output as the
/// clean run, no leftovers, and, if it resumed from a crash (`last_crash`),
/// the cursor `inspect` promised and the redo bound.
pub(crate) fn check_result(
    workload: &dyn Workload,
    clean: &CleanRun,
    fs: &SimFs,
    last_crash: Option<LastCrash>,
    completion: &Completion,
) -> Result<(), Finding> {
    check_completion(workload, clean, fs, completion)?;
    match last_crash {
        Some(last_crash) => check_resume(workload, last_crash, completion.resumed_from),
        None => Ok(()),
    }
}

/// The half of the result oracle that depends on the run alone: the clean
/// run's output, no leftovers on `fs`.
pub(crate) fn check_completion(
    workload: &dyn Workload,
    clean: &CleanRun,
    fs: &SimFs,
    completion: &Completion,
) -> Result<(), Finding> {
    if completion.output != clean.output {
        return Err(Finding::new(
            Oracle::Result,
            format!(
                "output differs from the clean run: expected {:?}, got {:?}",
                clip(&clean.output),
                clip(&completion.output)
            ),
        ));
    }
    match catch_unwind(AssertUnwindSafe(|| workload.leftovers(fs))) {
        Err(p) => Err(Finding::new(
            Oracle::Panic,
            format!("leftovers panicked: {}", panic_message(p.as_ref())),
        )),
        Ok(Err(e)) => Err(Finding::new(
            Oracle::Result,
            format!("could not list leftovers: {e}"),
        )),
        Ok(Ok(left)) if !left.is_empty() => Err(Finding::new(
            Oracle::Result,
            format!("completed but left files behind: {}", left.join(", ")),
        )),
        Ok(Ok(_)) => Ok(()),
    }
}

/// The half of the result oracle that depends on the crash: the resumed
/// run started (`resumed_from`) where `inspect` said recovery would, within
/// the redo bound of what the crash forgot.
pub(crate) fn check_resume(
    workload: &dyn Workload,
    last_crash: LastCrash,
    resumed_from: Option<u64>,
) -> Result<(), Finding> {
    // `inspect` must tell the truth about recovery, or the state oracle
    // checked a different checkpoint than the one actually resumed.
    let (said, did) = (last_crash.recovered.unwrap_or(0), resumed_from.unwrap_or(0));
    if said != did {
        return Err(Finding::new(
            Oracle::State,
            format!(
                "inspect said recovery resumes at cursor {said}, but the resumed run started at cursor {did}"
            ),
        ));
    }
    check_redo(
        workload,
        last_crash.processed,
        resumed_from.unwrap_or(0),
        "the resumed run started",
    )
}

fn clip(s: &str) -> String {
    const MAX: usize = 120;
    if s.len() <= MAX {
        return s.to_string();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}
